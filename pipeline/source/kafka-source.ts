// The Kafka source: re-keys what outside producers write to sluice.ingest (line protocol, Telegraf
// JSON, Confluent-framed Avro; keyed or not) into Sluice's own Avro IngestRecords, keyed by series
// key on the partition of that key, exactly once. A transactional consume-transform-produce loop:
// for each chunk of a source partition, one transaction holds the re-keyed records, the
// dead-lettered ones and the consumed offsets (group `sluice.source`), with a transactional id per
// source partition (`sluice-source-<p>`), so a restarted or rebalanced owner fences the old one
// and aborts its open transaction. Sluice's own records (header sluice-format) are skipped.
// Design and operations: docs/kafka-source.md.

import { requireAbortedFilter } from '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import kafkajs, { type Kafka, type Producer, type Consumer, type Admin, type KafkaMessage, type Message, type IHeaders } from 'kafkajs'
import {
  lineProtocolLimits, DEFAULT_INGEST_SCHEMA_ID, JsonNumbers, parseJsonTimestampUnits, parsePrecision,
  type LineProtocolLimits, type PrecisionUnit, type JsonNumbersValue,
} from '../ingest/index.ts'
import { transformRecord, type SchemaLookup, type SourceCatalog, type SourceRecord, type TransformResult, type TransformSettings } from './transform.ts'
import { sluiceRecordHeaders, type RecordHeaders } from './record-format.ts'
import { registerKafkaCodecs } from './codecs.ts'
import { SourceError, SourceErrorCode } from './errors.ts'
import { metrics } from '../../lib/telemetry/index.ts'
import { splitTopicMessages } from '../../lib/kafka/split-batches.ts'
import { fetchWaitMs } from '../../lib/kafka/long-poll.ts'
import { restartWhenKafkajsGivesUp } from '../../lib/kafka/consumer-restart.ts'

const { Kafka: KafkaClient, logLevel } = kafkajs

export const INGEST_TOPIC = 'sluice.ingest'
export const DEAD_LETTER_TOPIC = 'sluice.deadletter'
export const SOURCE_GROUP_ID = 'sluice.source'
export const SOURCE_TRANSACTIONAL_ID_PREFIX = 'sluice-source-'

/** Headers of a dead-lettered record (its key and value are the original's, its other headers copied). */
export const DeadLetterHeader = {
  REASON: 'sluice-deadletter-reason',
  CODE: 'sluice-deadletter-code',
  /** "true" when the record's good points were written and only some lines or metrics were refused. */
  PARTIAL: 'sluice-deadletter-partial',
  FORMAT: 'sluice-source-format',
  TOPIC: 'sluice-source-topic',
  PARTITION: 'sluice-source-partition',
  OFFSET: 'sluice-source-offset',
  TIMESTAMP: 'sluice-source-timestamp',
} as const

/** Headers on every re-keyed record, besides sluice-format: where its raw record was. */
export const OriginHeader = {
  PARTITION: 'sluice-source-partition',
  OFFSET: 'sluice-source-offset',
} as const

export interface KafkaSourceOptions {
  /** Bootstrap brokers; or pass `kafka`. */
  brokers?: string[]
  /** A kafkajs client to use instead of `brokers`. */
  kafka?: Kafka
  clientId?: string
  topic?: string
  deadLetterTopic?: string
  groupId?: string
  transactionalIdPrefix?: string
  /** Partitions of the ingest topic; read from the cluster's metadata when absent. */
  partitions?: number
  /** Registry id of sluice.ingest-value for the records written; default DEFAULT_INGEST_SCHEMA_ID (1). */
  ingestSchemaId?: number
  /** The node's schema registry, for Avro records' schema ids. */
  schemas?: SchemaLookup
  /** Database admission and field type checks shared with the HTTP API (its WriteCatalog); none = not checked. */
  catalog?: SourceCatalog
  /** Tenant of text records without a sluice-tenant header. Default "default". */
  defaultTenant?: string
  /** Database of text records without a sluice-database header; without either they are dead-lettered. */
  defaultDatabase?: string
  /** Line protocol precision without a sluice-precision header. Default "ns". */
  precision?: string
  /** Telegraf json_timestamp_units without a sluice-json-timestamp-units header. Default "1s" (Telegraf's). */
  jsonTimestampUnits?: string
  /** How JSON numbers become fields. Default "float" (Telegraf's json parser). */
  jsonNumbers?: JsonNumbersValue
  limits?: Partial<LineProtocolLimits>
  /**
   * Raw records per transaction. Default 1,000: enough to amortise the commit (two round trips),
   * small enough that an aborted transaction re-reads little.
   */
  maxRecordsPerTransaction?: number
  /** Raw bytes per transaction. Default 4 MiB: keeps each produce request far below broker limits. */
  maxBytesPerTransaction?: number
  /** Rejected lines listed in a dead-letter reason. Default 20. */
  maxReasonsPerRecord?: number
  /** Consumer group session timeout. Default 10,000 ms: how long a crashed owner holds its partitions. */
  sessionTimeoutMs?: number
  /** Transaction timeout. Default 30,000 ms: how long a crashed owner's open transaction can hold read_committed readers. */
  transactionTimeoutMs?: number
  /** Structured log sink, one event per call. Default: JSON lines on stderr. */
  log?: (event: Record<string, unknown>) => void
}

export interface KafkaSourceStats {
  recordsRead: number
  recordsSkipped: number
  recordsConverted: number
  recordsDeadLettered: number
  pointsWritten: number
  transactionsCommitted: number
  transactionsAborted: number
}

export interface KafkaSource {
  readonly stats: Readonly<KafkaSourceStats>
  /** Leaves the group and closes every producer; a transaction in progress finishes or aborts first. */
  stop(): Promise<void>
}

const knownOptions = new Set<string>([
  'brokers', 'kafka', 'clientId', 'topic', 'deadLetterTopic', 'groupId', 'transactionalIdPrefix', 'partitions', 'ingestSchemaId',
  'schemas', 'catalog', 'defaultTenant', 'defaultDatabase', 'precision', 'jsonTimestampUnits', 'jsonNumbers', 'limits', 'maxRecordsPerTransaction',
  'maxBytesPerTransaction', 'maxReasonsPerRecord', 'sessionTimeoutMs', 'transactionTimeoutMs', 'log',
])

function invalid(message: string): SourceError {
  return new SourceError(SourceErrorCode.INVALID_OPTION, `Kafka source: ${message}`)
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback
  if (!Number.isSafeInteger(result) || result < 1) throw invalid(`${name} must be a positive integer, got ${String(value)}`)
  return result
}

interface ResolvedOptions {
  kafka: Kafka
  topic: string
  deadLetterTopic: string
  groupId: string
  transactionalIdPrefix: string
  partitions: number | undefined
  settings: Omit<TransformSettings, 'partitions'>
  maxRecordsPerTransaction: number
  maxBytesPerTransaction: number
  sessionTimeoutMs: number
  transactionTimeoutMs: number
  log: (event: Record<string, unknown>) => void
}

const stderrLog = (event: Record<string, unknown>): void => {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), component: 'kafka-source', ...event }, (_key, value: unknown) => typeof value === 'bigint' ? value.toString() : value) + '\n')
}

/** Validates the options once, with messages that name the setting. */
export function resolveKafkaSourceOptions(options: KafkaSourceOptions): ResolvedOptions {
  for (const key of Object.keys(options)) if (!knownOptions.has(key)) throw invalid(`unknown option "${key}"`)
  const log = options.log ?? stderrLog
  if (!options.kafka && (!options.brokers || options.brokers.length === 0)) throw invalid('give brokers or kafka')
  const kafka = options.kafka ?? new KafkaClient({
    clientId: options.clientId ?? 'sluice-source',
    brokers: options.brokers!,
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log: entry }) => log({ level: level === logLevel.ERROR ? 'error' : 'warn', event: 'kafkajs', message: entry.message, namespace: entry.namespace }),
  })
  let precision: PrecisionUnit
  try {
    precision = parsePrecision(options.precision ?? 'ns')
    parseJsonTimestampUnits(options.jsonTimestampUnits ?? '1s')
  } catch (error) {
    throw invalid((error as Error).message)
  }
  const jsonNumbers = options.jsonNumbers ?? JsonNumbers.Float
  if (jsonNumbers !== JsonNumbers.Float && jsonNumbers !== JsonNumbers.Infer) throw invalid(`jsonNumbers must be "float" or "infer", got ${String(jsonNumbers)}`)
  let limits: LineProtocolLimits
  try {
    limits = lineProtocolLimits(options.limits ?? {})
  } catch (error) {
    throw invalid((error as Error).message)
  }
  return {
    kafka,
    topic: options.topic ?? INGEST_TOPIC,
    deadLetterTopic: options.deadLetterTopic ?? DEAD_LETTER_TOPIC,
    groupId: options.groupId ?? SOURCE_GROUP_ID,
    transactionalIdPrefix: options.transactionalIdPrefix ?? SOURCE_TRANSACTIONAL_ID_PREFIX,
    partitions: options.partitions === undefined ? undefined : positiveInteger('partitions', options.partitions, 1),
    settings: {
      ingestSchemaId: positiveInteger('ingestSchemaId', options.ingestSchemaId, DEFAULT_INGEST_SCHEMA_ID),
      defaultTenant: options.defaultTenant ?? 'default',
      defaultDatabase: options.defaultDatabase,
      precision,
      jsonTimestampUnits: options.jsonTimestampUnits ?? '1s',
      jsonNumbers,
      limits,
      schemas: options.schemas,
      catalog: options.catalog,
      maxReasonsPerRecord: positiveInteger('maxReasonsPerRecord', options.maxReasonsPerRecord, 20),
    },
    maxRecordsPerTransaction: positiveInteger('maxRecordsPerTransaction', options.maxRecordsPerTransaction, 1_000),
    maxBytesPerTransaction: positiveInteger('maxBytesPerTransaction', options.maxBytesPerTransaction, 4 * 1024 * 1024),
    sessionTimeoutMs: positiveInteger('sessionTimeoutMs', options.sessionTimeoutMs, 10_000),
    transactionTimeoutMs: positiveInteger('transactionTimeoutMs', options.transactionTimeoutMs, 30_000),
    log,
  }
}

/** Starts the source: joins the group, and re-keys every raw record of the partitions it is given. */
export async function startKafkaSource(options: KafkaSourceOptions): Promise<KafkaSource> {
  registerKafkaCodecs()
  const resolved = resolveKafkaSourceOptions(options)
  const partitions = resolved.partitions ?? await partitionCount(resolved.kafka, resolved.topic)
  await ensureDeadLetterTopic(resolved)
  const source = new KafkaSourceLoop(resolved, { ...resolved.settings, partitions })
  await source.start()
  return source
}

/** Creates the dead-letter topic (one partition, the broker's default replication) if it is missing. */
async function ensureDeadLetterTopic(options: ResolvedOptions): Promise<void> {
  const admin = options.kafka.admin()
  await admin.connect()
  try {
    if ((await admin.listTopics()).includes(options.deadLetterTopic)) return
    await admin.createTopics({ topics: [{ topic: options.deadLetterTopic, numPartitions: 1 }], waitForLeaders: true })
    options.log({ level: 'info', event: 'topic-created', topic: options.deadLetterTopic })
  } finally {
    await admin.disconnect()
  }
}

async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    const count = metadata.topics[0]?.partitions.length ?? 0
    if (count < 1) throw new SourceError(SourceErrorCode.INVALID_OPTION, `Kafka source: topic ${topic} has no partitions`)
    return count
  } finally {
    await admin.disconnect()
  }
}

class KafkaSourceLoop implements KafkaSource {
  readonly stats: KafkaSourceStats = {
    recordsRead: 0, recordsSkipped: 0, recordsConverted: 0, recordsDeadLettered: 0, pointsWritten: 0, transactionsCommitted: 0, transactionsAborted: 0,
  }

  private readonly consumer: Consumer
  /** One transactional producer per source partition this member owns (transactional id = prefix + partition). */
  private readonly producers = new Map<number, Promise<Producer>>()
  /** Partitions whose committed offset was read after their producer fenced the previous owner, this generation. */
  private readonly fencedAndChecked = new Set<number>()
  private readonly admin: Admin
  private stopping = false
  private cancelRestart: () => Promise<void> = async () => {}

  constructor(private readonly options: ResolvedOptions, private readonly settings: TransformSettings) {
    const heartbeatInterval = Math.max(100, Math.floor(options.sessionTimeoutMs / 10))
    requireAbortedFilter() // read_committed must drop every aborted record (aborted-filter.ts)
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      readUncommitted: false,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval,
      maxWaitTimeInMs: fetchWaitMs(heartbeatInterval),
      retry: { retries: 8, restartOnFailure: async () => !this.stopping },
    })
    this.admin = options.kafka.admin()
  }

  async start(): Promise<void> {
    const { consumer, options } = this
    consumer.on(consumer.events.GROUP_JOIN, event => this.onAssignment(event.payload.memberAssignment[options.topic] ?? []))
    consumer.on(consumer.events.CRASH, event => options.log({ level: 'error', event: 'consumer-crash', error: String(event.payload.error), restart: event.payload.restart }))
    this.cancelRestart = restartWhenKafkajsGivesUp(consumer, () => this.runConsumer(), {
      stopped: () => this.stopping,
      log: fields => options.log({ level: 'warn', ...fields }),
    })
    await this.admin.connect()
    await this.runConsumer()
    options.log({ level: 'info', event: 'source-started', topic: options.topic, groupId: options.groupId, partitions: this.settings.partitions })
  }

  /** Joins the group and consumes the topic (again after a crash kafkajs does not restart). */
  private async runConsumer(): Promise<void> {
    const { consumer, options } = this
    await consumer.connect()
    await consumer.subscribe({ topic: options.topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const messages = await this.afterFencing(batch.topic, batch.partition, batch.messages)
        if (messages.length < batch.messages.length && batch.messages.length > 0) resolveOffset(batch.messages[batch.messages.length - messages.length - 1]!.offset)
        let start = 0
        while (start < messages.length && isRunning() && !isStale()) {
          const end = this.chunkEnd(messages, start)
          await this.processChunk(batch.topic, batch.partition, messages.slice(start, end))
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
    const producers = [...this.producers.values()]
    this.producers.clear()
    await Promise.allSettled(producers.map(async pending => (await pending).disconnect()))
    await this.admin.disconnect().catch(() => undefined)
    this.options.log({ level: 'info', event: 'source-stopped', ...this.stats })
  }

  /**
   * On every assignment, start the producers of the partitions owned (their transactional
   * InitProducerId fences a previous owner and aborts its open transaction, which would otherwise
   * hold read_committed fetches of its output partitions at their last stable offset) and close
   * the others.
   */
  private onAssignment(partitions: number[]): void {
    this.fencedAndChecked.clear()
    const owned = new Set(partitions)
    for (const partition of owned) void this.producerFor(partition).catch(error => this.options.log({ level: 'warn', event: 'producer-init-failed', partition, error: String(error) }))
    for (const partition of [...this.producers.keys()]) if (!owned.has(partition)) void this.dropProducer(partition)
    this.options.log({ level: 'info', event: 'assignment', partitions })
  }

  /**
   * The first batch of a partition after an assignment: kafkajs fetched the committed offset when
   * the group assigned the partition, possibly before this member's producer fenced a zombie owner
   * that then committed one more transaction. So once the producer is up (InitProducerId has
   * fenced the old owner and completed or aborted its transaction), read the committed offset
   * again and drop what it already covers.
   */
  private async afterFencing(topic: string, partition: number, messages: KafkaMessage[]): Promise<KafkaMessage[]> {
    if (this.fencedAndChecked.has(partition)) return messages
    await this.producerFor(partition)
    const [committed] = await this.admin.fetchOffsets({ groupId: this.options.groupId, topics: [topic] })
    const offset = committed?.partitions.find(p => p.partition === partition)?.offset ?? '-1'
    this.fencedAndChecked.add(partition)
    if (!/^\d+$/.test(offset)) return messages
    const first = messages.findIndex(message => BigInt(message.offset) >= BigInt(offset))
    if (first !== 0) this.options.log({ level: 'warn', event: 'skipped-committed-by-previous-owner', partition, committedOffset: offset, skipped: first === -1 ? messages.length : first })
    return first === -1 ? [] : messages.slice(first)
  }

  private producerFor(partition: number): Promise<Producer> {
    let pending = this.producers.get(partition)
    if (!pending) {
      const producer = this.options.kafka.producer({
        transactionalId: `${this.options.transactionalIdPrefix}${partition}`,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: this.options.transactionTimeoutMs,
      })
      // kafkajs sends the transactional InitProducerId (the one that fences the previous owner and
      // ends its open transaction) only with the first transaction, not on connect: begin one and
      // abort it, which completes locally without a request of its own.
      pending = producer.connect().then(async () => {
        await (await producer.transaction()).abort()
        return producer
      })
      pending.catch(() => this.producers.delete(partition))
      this.producers.set(partition, pending)
    }
    return pending
  }

  private async dropProducer(partition: number): Promise<void> {
    const pending = this.producers.get(partition)
    this.producers.delete(partition)
    if (pending) await pending.then(producer => producer.disconnect(), () => undefined).catch(() => undefined)
  }

  private chunkEnd(messages: KafkaMessage[], start: number): number {
    let bytes = 0
    let end = start
    while (end < messages.length && end - start < this.options.maxRecordsPerTransaction) {
      bytes += messages[end]!.value?.length ?? 0
      end++
      if (bytes >= this.options.maxBytesPerTransaction) break
    }
    return end
  }

  /** Transforms a chunk of one source partition and writes it in one transaction with its offsets. */
  private async processChunk(topic: string, partition: number, chunk: KafkaMessage[]): Promise<void> {
    const ingest: Message[] = []
    const deadLetters: Message[] = []
    const receivedAtNs = BigInt(Date.now()) * 1_000_000n
    let converted = 0
    let points = 0
    for (const message of chunk) {
      const record = toSourceRecord(topic, partition, message)
      const result = await transformRecord(record, this.settings, receivedAtNs)
      if (result.format === 'sluice') continue
      converted++
      points += result.points
      for (const out of result.records) {
        ingest.push({ partition: out.partition, key: out.key, value: out.value, headers: { ...sluiceRecordHeaders, [OriginHeader.PARTITION]: String(partition), [OriginHeader.OFFSET]: message.offset, ...traceHeaders(message) } })
      }
      if (result.rejection) deadLetters.push(deadLetter(record, result))
    }
    this.stats.recordsRead += chunk.length
    this.stats.recordsSkipped += chunk.length - converted
    // Only Sluice's own records: nothing to write. Their offsets are committed with the next transaction.
    if (converted === 0) return
    const nextOffset = (BigInt(chunk[chunk.length - 1]!.offset) + 1n).toString()
    await this.commitTransaction(partition, ingest, deadLetters, { topic, partition, offset: nextOffset })
    this.stats.recordsConverted += converted
    this.stats.recordsDeadLettered += deadLetters.length
    this.stats.pointsWritten += points
  }

  private async commitTransaction(partition: number, ingest: Message[], deadLetters: Message[], consumed: { topic: string; partition: number; offset: string }): Promise<void> {
    const producer = await this.producerFor(partition)
    const began = performance.now()
    const transaction = await producer.transaction()
    try {
      const topicMessages = []
      if (ingest.length > 0) topicMessages.push({ topic: this.options.topic, messages: ingest })
      if (deadLetters.length > 0) topicMessages.push({ topic: this.options.deadLetterTopic, messages: deadLetters })
      for (const request of splitTopicMessages(topicMessages)) await transaction.sendBatch({ topicMessages: request, acks: -1 })
      await transaction.sendOffsets({ consumerGroupId: this.options.groupId, topics: [{ topic: consumed.topic, partitions: [{ partition: consumed.partition, offset: consumed.offset }] }] })
      await transaction.commit()
      this.stats.transactionsCommitted++
      metrics().transactionDuration.labels('source').observeSince(began)
      metrics().transactionRecords.labels('source').observe(ingest.length + deadLetters.length)
    } catch (error) {
      this.stats.transactionsAborted++
      this.options.log({ level: 'warn', event: 'transaction-aborted', partition, error: String(error) })
      await transaction.abort().catch(() => undefined)
      // A fenced or broken producer is not reused: the next chunk starts a fresh one (and fences any zombie).
      await this.dropProducer(partition)
      throw error
    }
  }
}

/** The producer's trace context (traceparent, tracestate), carried from a raw record to the ingest records made of it. */
function traceHeaders(message: KafkaMessage): IHeaders | undefined {
  const traceparent = message.headers?.traceparent
  if (traceparent === undefined) return undefined
  const tracestate = message.headers?.tracestate
  return tracestate === undefined ? { traceparent } : { traceparent, tracestate }
}

function toSourceRecord(topic: string, partition: number, message: KafkaMessage): SourceRecord {
  return { topic, partition, offset: message.offset, timestampMs: message.timestamp, key: message.key, value: message.value, headers: message.headers as RecordHeaders }
}

/** Longest reason written to a dead-letter header. */
const MAX_REASON_CHARS = 4_000

function deadLetter(record: SourceRecord, result: TransformResult): Message {
  const rejection = result.rejection!
  const reason = rejection.reason.length > MAX_REASON_CHARS ? `${rejection.reason.slice(0, MAX_REASON_CHARS)}…` : rejection.reason
  const headers: IHeaders = { ...(record.headers as IHeaders | undefined) }
  Object.assign(headers, {
    [DeadLetterHeader.REASON]: reason,
    [DeadLetterHeader.CODE]: rejection.code,
    [DeadLetterHeader.PARTIAL]: String(rejection.partial),
    [DeadLetterHeader.FORMAT]: result.format,
    [DeadLetterHeader.TOPIC]: record.topic,
    [DeadLetterHeader.PARTITION]: String(record.partition),
    [DeadLetterHeader.OFFSET]: record.offset,
    [DeadLetterHeader.TIMESTAMP]: record.timestampMs,
  })
  return { key: record.key, value: record.value, headers }
}
