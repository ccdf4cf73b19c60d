// The master: exactly-once consume-transform-produce from sluice.ingest to sluice.changelog.
//
// Every node runs one processor, a member of the consumer group `sluice.masters`; Kafka's group
// assignment makes it the master of some ingest partitions. For each partition it masters it uses
// a transactional producer with transactional.id `sluice-master-<p>`, and each chunk of records
// is one transaction: the changelog entries (same partition of sluice.changelog), the compressor
// state that changed (same partition of sluice.state, compacted), poison records (sluice.deadletter)
// and the consumed offsets (sendOffsets). Readers use read_committed.
//
// Taking a partition over, before processing anything:
//   1. fence: the new producer's InitProducerId bumps the epoch of `sluice-master-<p>`, aborting
//      the previous owner's open transaction and refusing its later writes;
//   2. read the committed offset again: it is stable only now (the previous owner may have
//      committed after this consumer fetched its starting offset), and records below it were
//      already processed, so they are skipped;
//   3. restore the compressor state of the partition from sluice.state.
// Any failure drops the partition's master (its in-memory compressor state may be ahead of what
// was committed); kafkajs then fetches the chunk again and the next attempt takes over afresh.

import { requireAbortedFilter } from '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { restartWhenKafkajsGivesUp } from '../../lib/kafka/consumer-restart.ts'
import { randomUUID } from 'node:crypto'
import kafkajs, { type Admin, type Consumer, type Kafka, type KafkaMessage, type Message, type Producer } from 'kafkajs'
import { registerKafkaCodecs } from '../source/codecs.ts'
import type { RecordHeaders } from '../source/record-format.ts'
import { CHANGELOG_HEADERS, processIngestRecord, type ChangelogSettings, type OutputRecord } from './changelog.ts'
import { CHANGELOG_GATHER_BYTES, changelogSections, recordHeaders } from './changelog-sections.ts'
import { noCompression, type SeriesCompression } from './compression.ts'
import { endSpan, headersOfSpan, metrics, startProcessSpan } from '../../lib/telemetry/index.ts'
import { splitTopicMessages } from '../../lib/kafka/split-batches.ts'
import { installPreEncodedProduce, sectionMessages } from '../../lib/kafka/encoded-produce.ts'
import { installResponseReassembly } from '../../lib/kafka/response-reassembly.ts'
import { fetchWaitMs } from '../../lib/kafka/long-poll.ts'
import { PIPELINE_FETCH_BYTES, PIPELINE_FETCH_PARTITION_BYTES } from '../../lib/kafka/fetch-size.ts'
import { ConsecutiveOffsets, type CommittedFeed } from '../../lib/kafka/committed-feed.ts'

const { CompressionTypes } = kafkajs

export const ProcessorTopic = {
  INGEST: 'sluice.ingest',
  CHANGELOG: 'sluice.changelog',
  STATE: 'sluice.state',
  DEAD_LETTER: 'sluice.deadletter',
} as const

export const MASTERS_GROUP_ID = 'sluice.masters'
export const MASTER_TRANSACTIONAL_ID_PREFIX = 'sluice-master-'

/** Headers of a poison record copied to the dead-letter topic. */
export const PoisonHeader = {
  REASON: 'sluice-deadletter-reason',
  TOPIC: 'sluice-source-topic',
  PARTITION: 'sluice-source-partition',
  OFFSET: 'sluice-source-offset',
} as const

export interface ProcessorOptions {
  kafka: Kafka
  /** Registry id of sluice.changelog-value. */
  changelogSchemaId: number
  /** A fresh compressor per partition mastered; default: compression off. */
  compressionFor?: (partition: number) => SeriesCompression
  /** Ingest records per transaction (the batch size). Default 1,000. */
  maxRecordsPerTransaction?: number
  /**
   * How long a fetch waits at the broker for lingerBytes. Default: the long poll of
   * lib/kafka/long-poll.ts (the heartbeat interval, at most 500 ms), which with lingerBytes 1 adds no
   * latency: the broker answers as soon as a record is there.
   */
  lingerMs?: number
  /**
   * A fetch returns once this many bytes of sluice.ingest are there, else after lingerMs. Default
   * 1: at once. A master with a core of its own (master-thread.ts) keeps up so closely that it
   * would commit a transaction (five round trips, a commit marker the replicas read too) for every
   * few records; it waits for more.
   */
  lingerBytes?: number
  /** Consumer group session timeout: how long a crashed master holds its partitions. Default 10 s. */
  sessionTimeoutMs?: number
  /** Transaction timeout: how long a crashed master's open transaction holds readers. Default 30 s. */
  transactionTimeoutMs?: number
  log?: (event: Record<string, unknown>) => void
  /** Each committed transaction's wall time and records; default: this thread's metrics (sluice_kafka_transaction_*, role master). */
  observeTransaction?: (seconds: number, records: number) => void
  /**
   * Where each committed transaction's changelog records are published with their offsets, for this
   * node's replica (lib/kafka/committed-feed.ts); what it cannot carry is announced as an interruption.
   */
  changelogFeed?: CommittedFeed
}

export interface ProcessorStats {
  recordsIn: number
  recordsSkipped: number
  recordsPoison: number
  pointsIn: number
  pointsKept: number
  commands: number
  transactionsCommitted: number
  transactionsAborted: number
  takeovers: number
}

export interface Processor {
  readonly stats: Readonly<ProcessorStats>
  /** Partitions this node masters right now. */
  partitions(): number[]
  /** Wall time of the most recent transactions (begin to commit), in ms, oldest first, at most 4,096. */
  recentTransactionMs(): number[]
  /** The compressors of the partitions this node masters now (to report on them). */
  compressors(): Promise<SeriesCompression[]>
  /** Per partition this node masters: sluice.ingest offsets not yet in a committed transaction (end offset − committed offset). */
  lag(): Promise<Map<number, bigint>>
  stop(): Promise<void>
}

export async function startProcessor(options: ProcessorOptions): Promise<Processor> {
  registerKafkaCodecs() // the write path compresses sluice.ingest with LZ4; outside tools may use any codec
  installResponseReassembly() // this thread's kafkajs hands on fetched responses without copying each (response-reassembly.ts)
  const processor = new MasterLoop(options)
  await processor.start()
  return processor
}

/** What this node holds for one partition it masters. */
interface PartitionMaster {
  producer: Producer
  compression: SeriesCompression
  /** Records below this offset were processed by a previous master. */
  committedOffset: bigint
  /** The offset of the last changelog record this master committed, when known (the changelog feed's chain). */
  changelogEnd?: bigint
}

const stderrLog = (event: Record<string, unknown>): void => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'processor', ...event })}\n`)
}

function observeInMetrics(seconds: number, records: number): void {
  metrics().transactionDuration.labels('master').observe(seconds)
  metrics().transactionRecords.labels('master').observe(records)
}

class MasterLoop implements Processor {
  readonly stats: ProcessorStats = {
    recordsIn: 0, recordsSkipped: 0, recordsPoison: 0, pointsIn: 0, pointsKept: 0, commands: 0,
    transactionsCommitted: 0, transactionsAborted: 0, takeovers: 0,
  }

  private readonly consumer: Consumer
  private readonly admin: Admin
  private readonly masters = new Map<number, Promise<PartitionMaster>>()
  private readonly log: (event: Record<string, unknown>) => void
  private readonly maxRecords: number
  private readonly settings: Omit<ChangelogSettings, 'compression'>
  private owned = new Set<number>()
  private stopping = false
  private cancelRestart: () => Promise<void> = async () => {}
  private readonly transactionMs: number[] = []
  private readonly observeTransaction: (seconds: number, records: number) => void
  /** Whether this thread's kafkajs sends encoded record sections (encoded-produce.ts): the changelog goes out as sections then. */
  private readonly sendsSections = installPreEncodedProduce()

  constructor(private readonly options: ProcessorOptions) {
    this.log = options.log ?? stderrLog
    this.observeTransaction = options.observeTransaction ?? observeInMetrics
    this.maxRecords = options.maxRecordsPerTransaction ?? 1_000
    this.settings = { changelogSchemaId: options.changelogSchemaId }
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000
    const heartbeatInterval = Math.max(100, Math.floor(sessionTimeout / 10))
    this.admin = options.kafka.admin()
    requireAbortedFilter() // read_committed must drop every aborted record (aborted-filter.ts)
    this.consumer = options.kafka.consumer({
      groupId: MASTERS_GROUP_ID,
      readUncommitted: false,
      sessionTimeout,
      heartbeatInterval,
      maxWaitTimeInMs: options.lingerMs ?? fetchWaitMs(heartbeatInterval),
      minBytes: options.lingerBytes ?? 1,
      maxBytesPerPartition: PIPELINE_FETCH_PARTITION_BYTES,
      maxBytes: PIPELINE_FETCH_BYTES,
      retry: { retries: 10, restartOnFailure: async () => !this.stopping },
    })
  }

  partitions(): number[] {
    return [...this.owned].sort((a, b) => a - b)
  }

  recentTransactionMs(): number[] {
    return [...this.transactionMs]
  }

  async lag(): Promise<Map<number, bigint>> {
    const ends = new Map((await this.admin.fetchTopicOffsets(ProcessorTopic.INGEST)).map(entry => [entry.partition, BigInt(entry.high)]))
    const lag = new Map<number, bigint>()
    for (const [partition, pending] of this.masters) {
      const master = await Promise.race([pending, Promise.resolve(undefined)]).catch(() => undefined)
      const end = ends.get(partition)
      if (master === undefined || end === undefined) continue
      // A commit marker follows the last record: one offset short of the end is caught up.
      lag.set(partition, end > master.committedOffset + 1n ? end - master.committedOffset : 0n)
    }
    return lag
  }

  async compressors(): Promise<SeriesCompression[]> {
    const masters = await Promise.allSettled([...this.masters.values()])
    return masters.flatMap(result => (result.status === 'fulfilled' ? [result.value.compression] : []))
  }

  async start(): Promise<void> {
    const { consumer } = this
    await this.admin.connect()
    await this.ensureTopics()
    consumer.on(consumer.events.GROUP_JOIN, event => this.onAssignment(event.payload.memberAssignment[ProcessorTopic.INGEST] ?? []))
    consumer.on(consumer.events.CRASH, event => this.log({ level: 'error', event: 'consumer crash', error: String(event.payload.error), restart: event.payload.restart }))
    this.cancelRestart = restartWhenKafkajsGivesUp(consumer, () => this.runConsumer(), {
      stopped: () => this.stopping,
      log: fields => this.log({ level: 'warn', ...fields }),
    })
    await this.runConsumer()
    this.log({ level: 'info', event: 'processor started', group: MASTERS_GROUP_ID })
  }

  /** Joins sluice.masters and consumes sluice.ingest (again after a crash kafkajs does not restart). */
  private async runConsumer(): Promise<void> {
    const { consumer } = this
    await consumer.connect()
    await consumer.subscribe({ topics: [ProcessorTopic.INGEST], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const master = await this.masterFor(batch.partition)
        const messages = batch.messages.filter(message => BigInt(message.offset) >= master.committedOffset)
        for (let start = 0; start < messages.length && isRunning() && !isStale(); start += this.maxRecords) {
          const chunk = messages.slice(start, start + this.maxRecords)
          await this.processChunk(batch.partition, master, chunk)
          resolveOffset(chunk[chunk.length - 1]!.offset)
          await heartbeat()
        }
      },
    })
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.cancelRestart()
    await this.consumer.disconnect()
    await Promise.allSettled([...this.masters.keys()].map(partition => this.drop(partition)))
    await this.admin.disconnect()
    this.log({ level: 'info', event: 'processor stopped', ...this.stats })
  }

  /** changelog and state get the ingest topic's partition count (state compacted). */
  private async ensureTopics(): Promise<void> {
    const existing = new Set(await this.admin.listTopics())
    // Asking for the metadata of a missing topic would create it, with the broker's default partition count.
    if (!existing.has(ProcessorTopic.INGEST)) throw new Error(`${ProcessorTopic.INGEST} does not exist: create it first (sluice node does, with --partitions)`)
    const metadata = await this.admin.fetchTopicMetadata({ topics: [ProcessorTopic.INGEST] })
    const partitions = metadata.topics[0]!.partitions.length
    const wanted = [
      { topic: ProcessorTopic.CHANGELOG, numPartitions: partitions },
      { topic: ProcessorTopic.STATE, numPartitions: partitions, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: ProcessorTopic.DEAD_LETTER, numPartitions: 1 },
    ].filter(topic => !existing.has(topic.topic))
    if (wanted.length > 0) await this.admin.createTopics({ topics: wanted, waitForLeaders: true })
  }

  /**
   * A partition kept from one assignment to the next was never anyone else's in between, so its
   * master stays; partitions lost are dropped; new ones are taken over on their first batch.
   */
  private onAssignment(partitions: number[]): void {
    const owned = new Set(partitions)
    for (const partition of this.masters.keys()) if (!owned.has(partition)) void this.drop(partition)
    this.owned = owned
    this.log({ level: 'info', event: 'assignment', partitions: this.partitions() })
  }

  private masterFor(partition: number): Promise<PartitionMaster> {
    let pending = this.masters.get(partition)
    if (!pending) {
      pending = this.takeOver(partition)
      pending.catch(error => {
        this.masters.delete(partition)
        this.log({ level: 'warn', event: 'takeover failed', partition, error: String(error) })
      })
      this.masters.set(partition, pending)
    }
    return pending
  }

  private async takeOver(partition: number): Promise<PartitionMaster> {
    const started = Date.now()
    const producer = this.options.kafka.producer({
      transactionalId: `${MASTER_TRANSACTIONAL_ID_PREFIX}${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.options.transactionTimeoutMs ?? 30_000,
    })
    try {
      await producer.connect()
      // kafkajs sends the transactional InitProducerId with the first transaction; an empty one
      // fences the previous master and ends locally, with no request of its own.
      await (await producer.transaction()).abort()
      const [committed] = (await this.admin.fetchOffsets({ groupId: MASTERS_GROUP_ID, topics: [ProcessorTopic.INGEST] }))[0]!.partitions
        .filter(entry => entry.partition === partition)
      const compression = (this.options.compressionFor ?? (() => noCompression))(partition)
      // Restored even when nothing is configured: codec overrides (SET_CODEC) live in sluice.state too.
      const restored = compression !== noCompression ? await this.restoreState(partition, compression) : 0
      const committedOffset = committed && Number(committed.offset) >= 0 ? BigInt(committed.offset) : 0n
      this.stats.takeovers++
      this.log({ level: 'info', event: 'took over partition', partition, committedOffset: committedOffset.toString(), stateRecords: restored, ms: Date.now() - started })
      return { producer, compression, committedOffset }
    } catch (error) {
      await producer.disconnect().catch(() => {})
      throw error
    }
  }

  /**
   * Reads partition `partition` of sluice.state from its start to its end into `compression`.
   * After the fence nothing is open on that partition (only `sluice-master-<p>` writes it), so
   * its last stable offset is its end.
   */
  private async restoreState(partition: number, compression: SeriesCompression): Promise<number> {
    const offsets = await this.admin.fetchTopicOffsets(ProcessorTopic.STATE)
    const end = BigInt(offsets.find(entry => entry.partition === partition)?.high ?? '0')
    if (end === 0n) return 0
    requireAbortedFilter()
    const reader = this.options.kafka.consumer({ groupId: `sluice.state-restore-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 50 })
    let applied = 0
    try {
      await reader.connect()
      await reader.subscribe({ topics: [ProcessorTopic.STATE], fromBeginning: true })
      await new Promise<void>((resolve, reject) => {
        reader.on(reader.events.END_BATCH_PROCESS, ({ payload }) => {
          if (payload.partition === partition && BigInt(payload.lastOffset) + 1n >= end) resolve()
        })
        reader.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return
            for (const message of batch.messages) {
              if (BigInt(message.offset) >= end) break
              compression.restore(message.key ?? Buffer.alloc(0), message.value)
              applied++
            }
          },
        }).catch(reject)
      })
    } finally {
      await reader.disconnect().catch(() => {})
    }
    return applied
  }

  private async drop(partition: number): Promise<void> {
    const pending = this.masters.get(partition)
    this.masters.delete(partition)
    this.options.changelogFeed?.interrupt(partition) // the next master's changelog is not this one's to vouch for
    if (pending) await pending.then(master => master.producer.disconnect(), () => undefined).catch(() => undefined)
  }

  /** One transaction: the chunk's changelog entries, changed state, poison records and offsets. */
  private async processChunk(partition: number, master: PartitionMaster, chunk: KafkaMessage[]): Promise<void> {
    const changelog: OutputRecord[] = []
    const deadLetters: Message[] = []
    const settings: ChangelogSettings = { ...this.settings, compression: master.compression }
    // The transaction's span links to each ingest record's context; its own context rides on the changelog records.
    const span = startProcessSpan({ tracerName: 'sluice-master', topic: ProcessorTopic.INGEST, partition, consumerGroup: MASTERS_GROUP_ID, records: chunk })
    const traceHeaders = headersOfSpan(span)
    let pointsIn = 0
    let pointsKept = 0
    let commands = 0
    let skipped = 0
    for (const message of chunk) {
      const outcome = processIngestRecord({ partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers as RecordHeaders }, settings)
      switch (outcome.kind) {
        case 'skipped':
          skipped++
          break
        case 'changelog':
          for (const record of outcome.before ?? []) changelog.push(record)
          changelog.push(outcome.record)
          pointsIn += outcome.pointsIn
          pointsKept += outcome.pointsKept
          if (outcome.command) commands++
          break
        case 'poison':
          deadLetters.push({
            key: message.key,
            value: message.value,
            headers: {
              ...(message.headers as Record<string, Buffer>),
              [PoisonHeader.REASON]: outcome.reason,
              [PoisonHeader.TOPIC]: ProcessorTopic.INGEST,
              [PoisonHeader.PARTITION]: String(partition),
              [PoisonHeader.OFFSET]: message.offset,
            },
          })
          this.log({ level: 'warn', event: 'poison record', partition, offset: message.offset, reason: outcome.reason })
          break
      }
    }
    const state = master.compression.takeChanges().map(record => ({ partition, key: record.key, value: record.value }))
    const nextOffset = (BigInt(chunk[chunk.length - 1]!.offset) + 1n).toString()
    const began = performance.now()
    const transaction = await master.producer.transaction()
    // Where the changelog records land and their values, for the feed: only the sections' answers give it.
    let offsets: ConsecutiveOffsets | undefined
    let values: Array<Buffer | null> | undefined
    try {
      // Every changelog record carries the same headers: as sections (changelog-sections.ts), each its own request.
      const asSections = this.sendsSections && changelog.every(record => record.headers === CHANGELOG_HEADERS)
      if (asSections) {
        const headers = recordHeaders(traceHeaders === undefined ? CHANGELOG_HEADERS : { ...CHANGELOG_HEADERS, ...traceHeaders })
        if (this.options.changelogFeed !== undefined) {
          offsets = new ConsecutiveOffsets()
          values = []
        }
        for (const section of changelogSections(changelog, headers, undefined, undefined, values, CHANGELOG_GATHER_BYTES)) {
          const answers = await transaction.sendBatch({ topicMessages: [{ topic: ProcessorTopic.CHANGELOG, messages: sectionMessages(partition, section) }], acks: -1, compression: CompressionTypes.None })
          offsets?.add(answers.find(answer => answer.topicName === ProcessorTopic.CHANGELOG && answer.partition === partition)?.baseOffset, section.recordCount)
        }
      }
      const topicMessages = [
        { topic: ProcessorTopic.CHANGELOG, messages: asSections ? [] : changelog.map(record => toMessage(partition, record, traceHeaders)) },
        { topic: ProcessorTopic.STATE, messages: state },
        { topic: ProcessorTopic.DEAD_LETTER, messages: deadLetters },
      ].filter(entry => entry.messages.length > 0)
      // Split under max.message.bytes by their size before compression; LZ4 as the sections above.
      for (const request of splitTopicMessages(topicMessages)) await transaction.sendBatch({ topicMessages: request, acks: -1, compression: CompressionTypes.LZ4 })
      await transaction.sendOffsets({ consumerGroupId: MASTERS_GROUP_ID, topics: [{ topic: ProcessorTopic.INGEST, partitions: [{ partition, offset: nextOffset }] }] })
      await transaction.commit()
    } catch (error) {
      this.stats.transactionsAborted++
      endSpan(span, error)
      this.log({ level: 'warn', event: 'transaction aborted', partition, error: String(error) })
      await transaction.abort().catch(() => undefined)
      await this.drop(partition)
      throw error
    }
    master.committedOffset = BigInt(nextOffset)
    if (changelog.length > 0) this.publishChangelog(partition, master, values ?? [], changelog.length, offsets?.first)
    span.setAttributes({ 'sluice.points_in': pointsIn, 'sluice.points_kept': pointsKept })
    endSpan(span)
    const transactionMs = performance.now() - began
    this.observeTransaction(transactionMs / 1_000, changelog.length + state.length + deadLetters.length)
    this.transactionMs.push(transactionMs)
    if (this.transactionMs.length > 4_096) this.transactionMs.shift()
    this.stats.transactionsCommitted++
    this.stats.recordsIn += chunk.length
    this.stats.recordsSkipped += skipped
    this.stats.recordsPoison += deadLetters.length
    this.stats.pointsIn += pointsIn
    this.stats.pointsKept += pointsKept
    this.stats.commands += commands
  }

  /**
   * Hands a committed transaction's changelog records to the feed with their offsets. Its records
   * are consecutive, and the offset after the last is its commit marker (only `sluice-master-<p>`
   * writes the partition, and Kafka adds it to the next transaction only once the marker is
   * written): the run vouches for that marker, and for the previous run's when it follows that run
   * after one offset. Otherwise the feed is interrupted.
   */
  private publishChangelog(partition: number, master: PartitionMaster, values: ReadonlyArray<Buffer | null>, records: number, first: bigint | undefined): void {
    const feed = this.options.changelogFeed
    if (feed === undefined) return
    if (first === undefined || values.length !== records || values.includes(null)) {
      master.changelogEnd = undefined
      feed.interrupt(partition)
      return
    }
    const from = master.changelogEnd !== undefined && first === master.changelogEnd + 2n ? master.changelogEnd + 1n : first
    master.changelogEnd = first + BigInt(values.length) - 1n
    feed.publish({ partition, first, from, through: master.changelogEnd + 2n, values: values as readonly Buffer[] })
  }
}

/** `traceHeaders`: the traceparent of the master's transaction span, when tracing is on. */
function toMessage(partition: number, record: OutputRecord, traceHeaders: Record<string, string> | undefined): Message {
  return { partition, key: record.key, value: record.value, headers: traceHeaders === undefined ? record.headers : { ...record.headers, ...traceHeaders } }
}
