// The change feed as a Kafka topic: exactly-once consume-transform-produce from sluice.changelog
// (read_committed) to sluice.cdc, the same partition number, keyed by the changelog record's key
// (the series key of an upsert). Each node started with --cdc is a member of the consumer group
// `sluice.cdc`; for each changelog partition it owns it uses a transactional producer
// `sluice-cdc-<p>`, and each chunk of records is one transaction holding its events and the
// consumed offsets (sendOffsets). Taking a partition over, as pipeline/processor/processor.ts does:
//   1. fence: the producer's InitProducerId (sent with a first, empty transaction) bumps the epoch
//      of `sluice-cdc-<p>`, aborting the previous owner's open transaction and refusing its writes;
//   2. read the committed offset again: stable only now, and records below it are already in
//      sluice.cdc, so they are skipped.
// Any failure drops the partition's producer; kafkajs fetches the chunk again and the next attempt
// takes over afresh. Events are Avro (CdcEvent, Confluent framing, id of sluice.cdc-value).

import { requireAbortedFilter } from '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import kafkajs, { type Admin, type Consumer, type Kafka, type KafkaMessage, type Message, type Producer } from 'kafkajs'
import { cdcEventType, changelogEntryType, decode, encodeFramed, unframe, type ChangelogEntry } from '../../schemas/index.ts'
import { CdcError, CdcErrorCode } from './errors.ts'
import { eventsOf } from './events.ts'
import { cdcLimits } from './limits.ts'
import { metrics } from '../../lib/telemetry/index.ts'
import { splitTopicMessages } from '../../lib/kafka/split-batches.ts'
import { fetchWaitMs } from '../../lib/kafka/long-poll.ts'
import { restartWhenKafkajsGivesUp } from '../../lib/kafka/consumer-restart.ts'

const { CompressionTypes } = kafkajs

export const CdcTopic = {
  CHANGELOG: 'sluice.changelog',
  CDC: 'sluice.cdc',
} as const

export const CDC_GROUP_ID = 'sluice.cdc'
export const CDC_TRANSACTIONAL_ID_PREFIX = 'sluice-cdc-'

export interface CdcLoopOptions {
  kafka: Kafka
  /** Registry id of sluice.cdc-value. */
  cdcSchemaId: number
  /** Sluice version, for source.version. */
  version: string
  /** Consumer group session timeout: how long a crashed owner holds its partitions. Default 10 s. */
  sessionTimeoutMs?: number
  /** Transaction timeout: how long a crashed owner's open transaction holds readers. Default 30 s. */
  transactionTimeoutMs?: number
  /** How long a fetch waits at the broker for a record (lib/kafka/long-poll.ts). Default the heartbeat interval, at most 500 ms. */
  lingerMs?: number
  log?: (event: Record<string, unknown>) => void
}

export interface CdcLoopStats {
  recordsIn: number
  eventsOut: number
  transactionsCommitted: number
  transactionsAborted: number
  takeovers: number
}

export interface CdcLoop {
  readonly stats: Readonly<CdcLoopStats>
  /** Changelog partitions this node turns into events now. */
  partitions(): number[]
  stop(): Promise<void>
}

/** Starts the loop; sluice.changelog must exist (the processor creates it), sluice.cdc is created with its partition count. */
export async function startCdcLoop(options: CdcLoopOptions): Promise<CdcLoop> {
  const loop = new ChangeFeedLoop(options)
  await loop.start()
  return loop
}

interface PartitionOwner {
  producer: Producer
  /** Records below this offset are already in sluice.cdc. */
  committedOffset: bigint
}

const stderrLog = (event: Record<string, unknown>): void => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'cdc', ...event })}\n`)
}

class ChangeFeedLoop implements CdcLoop {
  readonly stats: CdcLoopStats = { recordsIn: 0, eventsOut: 0, transactionsCommitted: 0, transactionsAborted: 0, takeovers: 0 }
  private readonly consumer: Consumer
  private readonly admin: Admin
  private readonly owners = new Map<number, Promise<PartitionOwner>>()
  private readonly log: (event: Record<string, unknown>) => void
  private owned = new Set<number>()
  private stopping = false
  private cancelRestart: () => Promise<void> = async () => {}

  constructor(private readonly options: CdcLoopOptions) {
    this.log = options.log ?? stderrLog
    const sessionTimeout = options.sessionTimeoutMs ?? 10_000
    const heartbeatInterval = Math.max(100, Math.floor(sessionTimeout / 10))
    this.admin = options.kafka.admin()
    requireAbortedFilter() // read_committed must drop every aborted record (aborted-filter.ts)
    this.consumer = options.kafka.consumer({
      groupId: CDC_GROUP_ID,
      readUncommitted: false,
      sessionTimeout,
      heartbeatInterval,
      maxWaitTimeInMs: options.lingerMs ?? fetchWaitMs(heartbeatInterval),
      retry: { retries: 10, restartOnFailure: async () => !this.stopping },
    })
  }

  partitions(): number[] {
    return [...this.owned].sort((a, b) => a - b)
  }

  async start(): Promise<void> {
    const { consumer } = this
    await this.admin.connect()
    await this.ensureTopic()
    consumer.on(consumer.events.GROUP_JOIN, event => this.onAssignment(event.payload.memberAssignment[CdcTopic.CHANGELOG] ?? []))
    consumer.on(consumer.events.CRASH, event => this.log({ level: 'error', event: 'cdc consumer crash', error: String(event.payload.error), restart: event.payload.restart }))
    this.cancelRestart = restartWhenKafkajsGivesUp(consumer, () => this.runConsumer(), {
      stopped: () => this.stopping,
      log: fields => this.log({ level: 'warn', ...fields }),
    })
    await this.runConsumer()
    this.log({ level: 'info', event: 'cdc started', group: CDC_GROUP_ID })
  }

  /** Joins sluice.cdc's group and consumes sluice.changelog (again after a crash kafkajs does not restart). */
  private async runConsumer(): Promise<void> {
    const { consumer } = this
    await consumer.connect()
    await consumer.subscribe({ topics: [CdcTopic.CHANGELOG], fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const owner = await this.ownerFor(batch.partition)
        const messages = batch.messages.filter(message => BigInt(message.offset) >= owner.committedOffset)
        let start = 0
        while (start < messages.length && isRunning() && !isStale()) {
          const end = await this.processChunk(batch.partition, owner, messages, start)
          resolveOffset(messages[end - 1]!.offset)
          await heartbeat()
          start = end
        }
      },
    })
  }

  async stop(): Promise<void> {
    this.stopping = true
    await this.cancelRestart()
    await this.consumer.disconnect()
    await Promise.allSettled([...this.owners.keys()].map(partition => this.drop(partition)))
    await this.admin.disconnect()
    this.log({ level: 'info', event: 'cdc stopped', ...this.stats })
  }

  /**
   * sluice.cdc gets sluice.changelog's partition count, so an event keeps its changelog partition.
   * A node with --cdc may start before any processor created the changelog: it waits, up to
   * cdcLimits.changelogWaitMs.
   */
  private async ensureTopic(): Promise<void> {
    const deadline = Date.now() + cdcLimits.changelogWaitMs
    let existing = new Set(await this.admin.listTopics())
    // A metadata request for a missing topic could create it with the broker's default partition count.
    while (!existing.has(CdcTopic.CHANGELOG)) {
      if (Date.now() >= deadline) throw new CdcError(CdcErrorCode.UNAVAILABLE, `${CdcTopic.CHANGELOG} does not exist after ${cdcLimits.changelogWaitMs} ms: start a node with the processor first`)
      this.log({ level: 'info', event: 'cdc waiting for changelog', topic: CdcTopic.CHANGELOG })
      await new Promise(resolve => setTimeout(resolve, 500))
      existing = new Set(await this.admin.listTopics())
    }
    const metadata = await this.admin.fetchTopicMetadata({ topics: [CdcTopic.CHANGELOG] })
    const partitions = metadata.topics[0]!.partitions.length
    if (!existing.has(CdcTopic.CDC)) {
      await this.admin.createTopics({ topics: [{ topic: CdcTopic.CDC, numPartitions: partitions }], waitForLeaders: true })
      return
    }
    const cdc = (await this.admin.fetchTopicMetadata({ topics: [CdcTopic.CDC] })).topics[0]!.partitions.length
    if (cdc !== partitions) throw new CdcError(CdcErrorCode.UNAVAILABLE, `${CdcTopic.CDC} has ${cdc} partitions; it needs ${partitions}, as ${CdcTopic.CHANGELOG}`)
  }

  /** A partition kept from one assignment to the next keeps its producer; lost ones are dropped. */
  private onAssignment(partitions: number[]): void {
    const owned = new Set(partitions)
    for (const partition of this.owners.keys()) if (!owned.has(partition)) void this.drop(partition)
    this.owned = owned
    this.log({ level: 'info', event: 'cdc assignment', partitions: this.partitions() })
  }

  private ownerFor(partition: number): Promise<PartitionOwner> {
    let pending = this.owners.get(partition)
    if (!pending) {
      pending = this.takeOver(partition)
      pending.catch(error => {
        this.owners.delete(partition)
        this.log({ level: 'warn', event: 'cdc takeover failed', partition, error: String(error) })
      })
      this.owners.set(partition, pending)
    }
    return pending
  }

  private async takeOver(partition: number): Promise<PartitionOwner> {
    const producer = this.options.kafka.producer({
      transactionalId: `${CDC_TRANSACTIONAL_ID_PREFIX}${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.options.transactionTimeoutMs ?? 30_000,
    })
    try {
      await producer.connect()
      // kafkajs sends InitProducerId with the first transaction; an empty one fences the previous owner.
      await (await producer.transaction()).abort()
      const [committed] = (await this.admin.fetchOffsets({ groupId: CDC_GROUP_ID, topics: [CdcTopic.CHANGELOG] }))[0]!.partitions
        .filter(entry => entry.partition === partition)
      const committedOffset = committed && Number(committed.offset) >= 0 ? BigInt(committed.offset) : 0n
      this.stats.takeovers++
      this.log({ level: 'info', event: 'cdc took over partition', partition, committedOffset: committedOffset.toString() })
      return { producer, committedOffset }
    } catch (error) {
      await producer.disconnect().catch(() => {})
      throw error
    }
  }

  private async drop(partition: number): Promise<void> {
    const pending = this.owners.get(partition)
    this.owners.delete(partition)
    if (pending) await pending.then(owner => owner.producer.disconnect(), () => undefined).catch(() => undefined)
  }

  /**
   * One transaction over messages[start..end): their events and the offset after them. Ends at
   * maxRecordsPerTransaction records or once maxEventsPerTransaction events are reached (an entry
   * is never split). Returns end.
   */
  private async processChunk(partition: number, owner: PartitionOwner, messages: KafkaMessage[], start: number): Promise<number> {
    const out: Message[] = []
    const nowMs = BigInt(Date.now())
    let end = start
    while (end < messages.length && end - start < cdcLimits.maxRecordsPerTransaction && out.length < cdcLimits.maxEventsPerTransaction) {
      const message = messages[end++]!
      const offset = BigInt(message.offset)
      const entry = decodeEntry(message, partition, offset)
      const key = message.key ?? Buffer.alloc(0)
      const at = { partition, offset, timestampMs: BigInt(message.timestamp) }
      for (const event of eventsOf(entry, key.toString('utf8'), at, { version: this.options.version, nowMs })) {
        out.push({ partition, key, value: encodeFramed(cdcEventType, this.options.cdcSchemaId, event) })
      }
    }
    const nextOffset = (BigInt(messages[end - 1]!.offset) + 1n).toString()
    const began = performance.now()
    const transaction = await owner.producer.transaction()
    try {
      for (const request of splitTopicMessages([{ topic: CdcTopic.CDC, messages: out }])) await transaction.sendBatch({ topicMessages: request, acks: -1, compression: CompressionTypes.None })
      await transaction.sendOffsets({ consumerGroupId: CDC_GROUP_ID, topics: [{ topic: CdcTopic.CHANGELOG, partitions: [{ partition, offset: nextOffset }] }] })
      await transaction.commit()
    } catch (error) {
      this.stats.transactionsAborted++
      this.log({ level: 'warn', event: 'cdc transaction aborted', partition, error: String(error) })
      await transaction.abort().catch(() => undefined)
      await this.drop(partition)
      throw error
    }
    owner.committedOffset = BigInt(nextOffset)
    metrics().transactionDuration.labels('cdc').observeSince(began)
    metrics().transactionRecords.labels('cdc').observe(out.length)
    this.stats.transactionsCommitted++
    this.stats.recordsIn += end - start
    this.stats.eventsOut += out.length
    return end
  }
}

/** A changelog record that does not decode stops the partition: skipping it would lose a change. */
export function decodeEntry(message: KafkaMessage, partition: number, offset: bigint): ChangelogEntry {
  try {
    if (message.value === null) throw new Error('no value')
    return decode(changelogEntryType, unframe(message.value).payload)
  } catch (error) {
    throw new CdcError(CdcErrorCode.BAD_RECORD, `sluice.changelog ${partition}:${offset} is not a ChangelogEntry: ${(error as Error).message}`, { partition, offset }, false, { cause: error })
  }
}
