// Every partition of every topic: the topic catalog (a fsynced meta-log), topic creation,
// deletion, growth and configs, startup recovery, the group-commit flusher, the maintenance timer
// (retention, producer-id expiry, checkpoints), and the transaction markers the transaction
// coordinator asks for.
//
// Layout under <dataDir>: meta/catalog.log (MetaLog of CatalogRecord JSON), topics/<topic>-<p>/
// (one directory per partition: segments, indexes, snapshots, partition.checkpoint), and
// topics/.clean-shutdown (an empty file written last by close() and removed by open(): when it is
// present the previous run ended cleanly and no segment needs rescanning).

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { BrokerConfig } from '../config.ts'
import type { Logger } from '../logger.ts'
import { MetaLog, syncDirectory } from '../meta/meta-log.ts'
import { ErrorCode, KafkaError } from '../protocol/errors.ts'
import { Flusher } from './flusher.ts'
import { MAX_PARTITIONS_PER_TOPIC, MAX_TOPIC_NAME_CHARS } from './limits.ts'
import { PartitionLog } from './partition-log.ts'
import { describeTopicConfigs, topicSettings, validateTopicConfigs } from './topic-configs.ts'

type CatalogRecord =
  | { type: 'create'; topic: string; partitions: number; configs: Record<string, string> }
  | { type: 'delete'; topic: string }
  | { type: 'partitions'; topic: string; partitions: number }
  | { type: 'configs'; topic: string; configs: Record<string, string> }

export interface TopicInfo {
  name: string
  partitionCount: number
  /** Configs set on the topic; the others take the broker defaults. */
  configs: Record<string, string>
  /** Every supported config with its effective value and whether it is the default. */
  effectiveConfigs: Array<{ name: string; value: string; isDefault: boolean }>
}

export interface LogManagerOptions {
  config: BrokerConfig
  logger: Logger
  now?: () => number
  /** A failed fdatasync. Default: log and exit, since nothing written since can be acknowledged honestly. */
  onFatal?: (error: Error) => void
}

const TOPIC_NAME = new RegExp(`^[a-zA-Z0-9._-]{1,${MAX_TOPIC_NAME_CHARS}}$`)
const CLEAN_SHUTDOWN_FILE = '.clean-shutdown'

export class LogManager {
  private readonly topicsByName = new Map<string, { configs: Record<string, string>; partitions: PartitionLog[] }>()
  private readonly flusher: Flusher
  private readonly topicsDir: string
  private maintenanceTimer: NodeJS.Timeout | undefined
  private cleanStart = false

  private constructor(private readonly config: BrokerConfig, private readonly logger: Logger, private readonly now: () => number, private readonly catalog: MetaLog<CatalogRecord>, onFatal: (error: Error) => void) {
    this.flusher = new Flusher(config.flushPolicy, config.flushIntervalMs, onFatal)
    this.topicsDir = join(config.dataDir, 'topics')
  }

  static async open(options: LogManagerOptions): Promise<LogManager> {
    const { config, logger } = options
    const startedMs = Date.now()
    const topicsDir = join(config.dataDir, 'topics')
    mkdirSync(topicsDir, { recursive: true })
    const { log: catalog, records, truncatedBytes } = MetaLog.open<CatalogRecord>(join(config.dataDir, 'meta', 'catalog.log'))
    if (truncatedBytes > 0) logger.warn('truncated torn topic catalog tail', { bytes: truncatedBytes })
    const onFatal = options.onFatal ?? ((error: Error) => {
      logger.error('fsync failed; stopping so that nothing not on disk is acknowledged', { error: error.message })
      process.exit(70)
    })
    const manager = new LogManager(config, logger, options.now ?? Date.now, catalog, onFatal)
    manager.cleanStart = existsSync(join(topicsDir, CLEAN_SHUTDOWN_FILE))
    logger.info('logs opening', { dataDir: config.dataDir, cleanShutdown: manager.cleanStart, flushPolicy: config.flushPolicy })
    const { live, deleted } = replayCatalog(records)
    for (const [topic, { configs, partitions }] of live) {
      manager.topicsByName.set(topic, { configs, partitions: Array.from({ length: partitions }, (_, p) => manager.openPartition(topic, p, configs)) })
    }
    manager.sweepDirectories(deleted)
    if (manager.cleanStart) {
      unlinkSync(join(topicsDir, CLEAN_SHUTDOWN_FILE))
      syncDirectory(topicsDir)
    }
    manager.maintenanceTimer = setInterval(() => manager.runMaintenance(), config.retentionCheckIntervalMs)
    manager.maintenanceTimer.unref()
    const partitionCount = [...live.values()].reduce((sum, topic) => sum + topic.partitions, 0)
    logger.info('logs recovered', { topics: live.size, partitions: partitionCount, ms: Date.now() - startedMs })
    return manager
  }

  private partitionDir(topic: string, partition: number): string {
    return join(this.topicsDir, `${topic}-${partition}`)
  }

  private openPartition(topic: string, partition: number, configs: Record<string, string>): PartitionLog {
    return PartitionLog.open({
      topic, partition,
      directory: this.partitionDir(topic, partition),
      settings: topicSettings(configs, this.config),
      flushPolicy: this.config.flushPolicy,
      flusher: this.flusher,
      producerIdExpirationMs: this.config.producerIdExpirationMs,
      clean: this.cleanStart,
      logger: this.logger,
      now: this.now,
    })
  }

  /**
   * Directories that belong to no live partition: those of topics the catalog says were deleted
   * (a crash interrupted their removal) are removed; unknown ones are set aside, never deleted,
   * so a damaged catalog cannot destroy data.
   */
  private sweepDirectories(deletedTopics: ReadonlySet<string>): void {
    for (const name of readdirSync(this.topicsDir)) {
      if (name.startsWith('.')) continue
      const dash = name.lastIndexOf('-')
      const topic = name.slice(0, dash)
      const partition = Number(name.slice(dash + 1))
      if ((this.topicsByName.get(topic)?.partitions.length ?? 0) > partition) continue
      if (/\.deleted-\d+$/.test(name)) { rmSync(join(this.topicsDir, name), { recursive: true, force: true }); continue }
      if (/\.orphaned-\d+$/.test(name)) continue
      if (deletedTopics.has(topic) && !this.topicsByName.has(topic)) {
        rmSync(join(this.topicsDir, name), { recursive: true, force: true })
        this.logger.info('removed directory of a deleted topic', { directory: name })
      } else {
        renameSync(join(this.topicsDir, name), join(this.topicsDir, `${name}.orphaned-${Date.now()}`))
        this.logger.warn('set aside a partition directory the topic catalog does not know', { directory: name })
      }
    }
  }

  private validate(name: string, partitions: number, configs: Record<string, string>): void {
    if (!TOPIC_NAME.test(name) || name === '.' || name === '..') throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `illegal topic name "${name}"`)
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS_PER_TOPIC) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `partitions must be 1..${MAX_PARTITIONS_PER_TOPIC}, not ${partitions}`)
    }
    validateTopicConfigs(configs)
  }

  /** Checks a creation without doing it (CreateTopics validateOnly). */
  validateCreate(name: string, partitions: number, configs: Record<string, string>): void {
    if (this.topicsByName.has(name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `topic "${name}" already exists`)
    this.validate(name, partitions, configs)
  }

  createTopic(name: string, partitions: number, configs: Record<string, string>): void {
    this.validateCreate(name, partitions, configs)
    const own = { ...configs }
    this.catalog.append({ type: 'create', topic: name, partitions, configs: own })
    this.topicsByName.set(name, { configs: own, partitions: Array.from({ length: partitions }, (_, p) => this.openPartition(name, p, own)) })
    syncDirectory(this.topicsDir)
    this.logger.info('topic created', { topic: name, partitions, configs: own })
  }

  deleteTopic(name: string): void {
    const topic = this.topicsByName.get(name)
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic "${name}"`)
    this.catalog.append({ type: 'delete', topic: name })
    this.topicsByName.delete(name)
    topic.partitions.forEach((log, p) => {
      log.destroy()
      const directory = this.partitionDir(name, p)
      const doomed = `${directory}.deleted-${Date.now()}`
      if (existsSync(directory)) renameSync(directory, doomed)
      rmSync(doomed, { recursive: true, force: true })
    })
    syncDirectory(this.topicsDir)
    this.logger.info('topic deleted', { topic: name })
  }

  /** Grows a topic to `totalCount` partitions (INVALID_PARTITIONS unless it increases). */
  createPartitions(name: string, totalCount: number, validateOnly = false): void {
    const topic = this.topicsByName.get(name)
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic "${name}"`)
    if (totalCount <= topic.partitions.length) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `topic "${name}" has ${topic.partitions.length} partitions; the new count must be larger, not ${totalCount}`)
    }
    this.validate(name, totalCount, topic.configs)
    if (validateOnly) return
    this.catalog.append({ type: 'partitions', topic: name, partitions: totalCount })
    for (let p = topic.partitions.length; p < totalCount; p++) topic.partitions.push(this.openPartition(name, p, topic.configs))
    syncDirectory(this.topicsDir)
    this.logger.info('partitions added', { topic: name, partitions: totalCount })
  }

  /** Replaces the topic's configs (AlterConfigs semantics: what is not given returns to the default). */
  alterConfigs(name: string, configs: Record<string, string>, validateOnly = false): void {
    const topic = this.topicsByName.get(name)
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic "${name}"`)
    validateTopicConfigs(configs)
    if (validateOnly) return
    const own = { ...configs }
    this.catalog.append({ type: 'configs', topic: name, configs: own })
    topic.configs = own
    const settings = topicSettings(own, this.config)
    for (const log of topic.partitions) log.settings = settings
    this.logger.info('topic configs altered', { topic: name, configs: own })
  }

  topic(name: string): TopicInfo | undefined {
    const topic = this.topicsByName.get(name)
    if (!topic) return undefined
    return { name, partitionCount: topic.partitions.length, configs: { ...topic.configs }, effectiveConfigs: describeTopicConfigs(topic.configs, this.config) }
  }

  topics(): TopicInfo[] {
    return this.topicNames().map(name => this.topic(name)!)
  }

  topicNames(): string[] {
    return [...this.topicsByName.keys()].sort()
  }

  /** The topic, auto-created (default partitions) when the broker allows it; else undefined. Throws for an illegal name. */
  ensureTopic(name: string, allowAutoCreate = true): TopicInfo | undefined {
    const existing = this.topic(name)
    if (existing || !allowAutoCreate || !this.config.autoCreateTopics) return existing
    this.createTopic(name, this.config.defaultPartitions, {})
    return this.topic(name)
  }

  partition(topic: string, index: number): PartitionLog | undefined {
    return this.topicsByName.get(topic)?.partitions[index]
  }

  /**
   * Appends a COMMIT or ABORT marker to each listed partition that still exists, and resolves once
   * every one is durable. The markers close the producer's open transaction there (LSO moves) and
   * aborts enter the aborted-transaction index.
   */
  async writeMarkers(partitions: ReadonlyArray<{ topic: string; partition: number }>, producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number): Promise<void> {
    const durable: Array<Promise<void>> = []
    for (const { topic, partition } of partitions) {
      const log = this.partition(topic, partition)
      if (!log) continue
      const offset = log.appendMarker(producerId, producerEpoch, commit, coordinatorEpoch)
      durable.push(log.waitDurable(offset + 1n).catch((error: unknown) => {
        // A partition deleted meanwhile no longer needs its marker.
        if (!(error instanceof KafkaError && error.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)) throw error
      }))
    }
    await Promise.all(durable)
  }

  /** Retention, producer-id expiry and checkpoints for every partition (the maintenance timer's work). */
  runMaintenance(): void {
    const nowMs = this.now()
    for (const [name, topic] of this.topicsByName) {
      for (const log of topic.partitions) {
        try {
          log.applyRetention(nowMs)
          log.expireProducers(nowMs)
          log.checkpoint()
        } catch (error) {
          this.logger.error('log maintenance failed', { topic: name, partition: log.partition, error: (error as Error).message })
        }
      }
    }
  }

  /** Flushes everything, seals active segments, writes snapshots and checkpoints, then the clean-shutdown marker. */
  async close(): Promise<void> {
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer)
    this.maintenanceTimer = undefined
    await this.flusher.drain()
    for (const topic of this.topicsByName.values()) for (const log of topic.partitions) log.close()
    const marker = openSync(join(this.topicsDir, CLEAN_SHUTDOWN_FILE), 'w')
    fsyncSync(marker)
    closeSync(marker)
    syncDirectory(this.topicsDir)
    this.catalog.close()
    this.logger.info('logs closed', { topics: this.topicsByName.size })
  }
}

function replayCatalog(records: CatalogRecord[]): { live: Map<string, { configs: Record<string, string>; partitions: number }>; deleted: Set<string> } {
  const live = new Map<string, { configs: Record<string, string>; partitions: number }>()
  const deleted = new Set<string>()
  for (const record of records) {
    if (record.type === 'create') live.set(record.topic, { configs: record.configs, partitions: record.partitions })
    else if (record.type === 'delete') { live.delete(record.topic); deleted.add(record.topic) }
    else {
      const topic = live.get(record.topic)
      if (!topic) throw new Error(`topic catalog names unknown topic "${record.topic}" in a ${record.type} record`)
      if (record.type === 'partitions') topic.partitions = record.partitions
      else topic.configs = record.configs
    }
  }
  return { live, deleted }
}
