// Lands the records of HTTP writes in sluice.ingest, all or nothing per request.
//
// A write is split across partitions, so an idempotent producer alone could leave part of a request
// written when Kafka fails midway. Instead every request's records go into a Kafka transaction
// (transactional.id `<prefix>-<worker>`, idempotent, acks=all), and readers of sluice.ingest read
// committed only: an aborted or abandoned transaction is never seen. Transactions cost two extra
// round trips and a marker per partition, so concurrent requests share them (group commit): while a
// transaction is in flight the queue fills, and the next transaction takes every waiting request up
// to maxTransactionRecords/Bytes. A request is answered only when its transaction committed (204) or
// is known not to have committed (503).
//
// Failure handling: any error inside a transaction aborts it when the broker still answers; otherwise
// the producer is dropped and a new one is made for the next group: its InitProducerId with the same
// transactional.id fences the old one and aborts its open transaction. The one ambiguous case is an
// EndTxn(commit) whose answer never arrived: the records may be committed although the client hears
// 503; its retry writes the same points again, which the processor's upsert semantics absorb.

import '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs'
import type { IngestRecordOut } from '../ingest/index.ts'
import { sluiceRecordHeaders } from '../source/index.ts'
import { registerLz4Codec } from '../../lib/kafka/lz4-codec.ts'
import { installPreEncodedProduce, sectionMessages } from '../../lib/kafka/encoded-produce.ts'
import { RecordBatchCodec, type EncodedRecords } from '../../lib/kafka/record-batch.ts'
import { DEFAULT_MAX_PARTITION_BATCH_BYTES } from '../../lib/kafka/split-batches.ts'
import { HttpApiError, HttpErrorCode } from './errors.ts'
import { metrics } from '../../lib/telemetry/index.ts'

/** Where a write's records go. Resolves once all are durably in Kafka; rejects when none are. */
export interface RecordSink {
  /** `headers` are added to each of the write's records (e.g. traceparent). */
  write(records: readonly IngestRecordOut[], deadlineMs: number, headers?: Readonly<Record<string, string>>): Promise<void>
  /**
   * Set when the sink also takes writes as finished record sections (writeSections), encoded in this
   * format; parse workers then encode and compress them, so the sink's thread does not.
   */
  readonly sectionFormat?: RecordSectionFormat
  /** Like write, for records already encoded as sections (sectionFormat): in order per partition. */
  writeSections?(sections: readonly PartitionSection[], deadlineMs: number): Promise<void>
  close(): Promise<void>
}

/** How a sink wants record sections: codec, the most key and value bytes per section, the headers of every record. */
export interface RecordSectionFormat {
  codec: RecordBatchCodec
  /** Key and value bytes of one section at most (a section is one partition's batch in one produce request). */
  maxSectionRecordBytes: number
  /** The sink's own headers; a write's headers (recordHeaders) come first, the sink's win on a clash. */
  headers: Readonly<Record<string, string>>
}

/** One partition's records of a write, encoded (lib/kafka/record-batch.ts). */
export interface PartitionSection {
  partition: number
  section: EncodedRecords
  /** Key and value bytes of its records before encoding: what the queue and transaction limits count. */
  recordBytes: number
}

/** The headers of every record of a write: the write's own, then the sink's, which win on a clash. */
export function recordHeaders(own: Readonly<Record<string, string>> | undefined, sink: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  return own ? { ...own, ...sink } : sink
}

export interface Logger {
  info(fields: object, message: string): void
  warn(fields: object, message: string): void
  error(fields: object, message: string): void
}

export interface TransactionalWriterOptions {
  kafka: Kafka
  topic: string
  /** transactional.id prefix, unique per node: `sluice-http-<node id>`. */
  transactionalIdPrefix: string
  /** Producers (concurrent transactions). Default 1. */
  producers?: number
  /** The producer's transaction.timeout.ms. Default 30,000. */
  transactionTimeoutMs?: number
  maxQueuedRecordBytes: number
  maxTransactionRecords: number
  maxTransactionBytes: number
  /** Key and value bytes of one partition in one produce request (HttpLimits.maxPartitionBatchBytes). Default 900,000. */
  maxPartitionBatchBytes?: number
  logger: Logger
  /**
   * Record batch compression. Default "lz4": a TSBS-like write body shrinks about tenfold and a
   * request's transaction takes a third of the time; readers need the LZ4 codec registered
   * (lib/kafka/lz4-codec.ts for kafkajs; librdkafka and Java have it built in).
   */
  compression?: WriteCompression
}

export const WriteCompression = { NONE: 'none', GZIP: 'gzip', LZ4: 'lz4' } as const
export type WriteCompression = (typeof WriteCompression)[keyof typeof WriteCompression]

const kafkajsCompression: Readonly<Record<WriteCompression, number>> = Object.freeze({
  none: kafkajs.CompressionTypes.None,
  gzip: kafkajs.CompressionTypes.GZIP,
  lz4: kafkajs.CompressionTypes.LZ4,
})

/** Transactional ids fenced at start, at least: those of an earlier run with up to this many producers. */
const FENCED_AT_START = 4

interface PendingWrite {
  /** Either records, which kafkajs encodes, or sections, encoded already. */
  records: readonly IngestRecordOut[]
  sections: readonly PartitionSection[]
  headers: Readonly<Record<string, string>>
  bytes: number
  recordCount: number
  resolve: () => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout | undefined
  state: 'queued' | 'sending' | 'done'
  /** performance.now() when it joined the queue. */
  queuedAt: number
}

/** A produce request being planned: its messages and the record bytes per partition so far. */
interface PlannedRequest {
  sections: boolean
  messages: Message[]
  partitionBytes: Map<number, number>
}

const recordBytes = (records: readonly IngestRecordOut[]): number => {
  let bytes = 0
  for (const record of records) bytes += record.key.length + record.value.length
  return bytes
}

function unavailable(message: string, cause?: unknown): HttpApiError {
  return new HttpApiError(HttpErrorCode.KAFKA_UNAVAILABLE, message, { cause })
}

export class TransactionalKafkaWriter implements RecordSink {
  private readonly queue: PendingWrite[] = []
  private queuedBytes = 0
  private readonly workers: Array<Promise<void>> = []
  private readonly producers: Array<Producer | undefined>
  private readonly wakeups: Array<() => void> = []
  private closing = false
  private readonly headers: Record<string, string>
  private readonly compression: number
  private readonly transactionSeconds = metrics().transactionDuration.labels('http')
  private readonly queueSeconds = metrics().httpWriteStage.labels('kafka_queue')
  private readonly transactionRecords = metrics().transactionRecords.labels('http')
  readonly sectionFormat: RecordSectionFormat | undefined

  constructor(private readonly options: TransactionalWriterOptions) {
    const count = options.producers ?? 1
    if (!Number.isInteger(count) || count < 1) throw new TypeError(`producers must be a positive integer, got ${count}`)
    this.producers = new Array(count).fill(undefined)
    // `sluice-format: ingest-record`: the Kafka source (pipeline/source) skips records so marked, the processor takes them.
    this.headers = { ...sluiceRecordHeaders }
    const compression = options.compression ?? WriteCompression.LZ4
    if (!(compression in kafkajsCompression)) throw new TypeError(`compression must be none, gzip or lz4, got ${String(compression)}`)
    if (compression === WriteCompression.LZ4) registerLz4Codec()
    this.compression = kafkajsCompression[compression]
    // Sections only where this thread's kafkajs sends them (encoded-produce.ts) and in a codec they may use.
    const codec = compression === WriteCompression.LZ4 ? RecordBatchCodec.LZ4 : compression === WriteCompression.NONE ? RecordBatchCodec.NONE : undefined
    this.sectionFormat = codec !== undefined && installPreEncodedProduce()
      ? { codec, maxSectionRecordBytes: options.maxPartitionBatchBytes ?? DEFAULT_MAX_PARTITION_BATCH_BYTES, headers: this.headers }
      : undefined
    for (let worker = 0; worker < count; worker++) this.workers.push(this.run(worker))
  }

  /**
   * Fences each worker's transactional id before the first write: when an earlier run of this node
   * was killed inside a transaction, that transaction stays open, and read_committed readers of its
   * partitions (the masters among them) wait on it until the broker's transaction timeout. The
   * InitProducerId of a new producer with the same id aborts it now. kafkajs sends that request
   * with the first transaction; an empty one ends locally. The ids an earlier run with more
   * producers used (up to FENCED_AT_START; the default was 2 before it was 1) are fenced the same
   * way by producers made for it and let go.
   */
  async start(): Promise<void> {
    const fenced = Array.from({ length: Math.max(FENCED_AT_START, this.producers.length) }, (_, id) => id)
    await Promise.all(fenced.map(async id => {
      if (id < this.producers.length) {
        const producer = await this.producer(id)
        await (await producer.transaction()).abort()
        return
      }
      const producer = await this.connected(this.makeProducer(id))
      try {
        await (await producer.transaction()).abort()
      } finally {
        await producer.disconnect().catch(() => {})
      }
    }))
  }

  write(records: readonly IngestRecordOut[], deadlineMs: number, headers?: Readonly<Record<string, string>>): Promise<void> {
    if (records.length === 0) return Promise.resolve()
    return this.enqueue(records, [], recordHeaders(headers, this.headers), recordBytes(records), records.length, deadlineMs)
  }

  writeSections(sections: readonly PartitionSection[], deadlineMs: number): Promise<void> {
    if (this.sectionFormat === undefined) return Promise.reject(new Error('writeSections: this writer takes no sections (see sectionFormat)'))
    let bytes = 0
    let count = 0
    for (const { section, recordBytes } of sections) {
      if (section.codec !== this.sectionFormat.codec) return Promise.reject(new Error(`writeSections: a section in codec ${section.codec}, the writer's is ${this.sectionFormat.codec}`))
      bytes += recordBytes
      count += section.recordCount
    }
    if (count === 0) return Promise.resolve()
    return this.enqueue([], sections, this.headers, bytes, count, deadlineMs)
  }

  private enqueue(records: readonly IngestRecordOut[], sections: readonly PartitionSection[], headers: Readonly<Record<string, string>>, bytes: number, recordCount: number, deadlineMs: number): Promise<void> {
    if (this.closing) return Promise.reject(unavailable('the node is shutting down'))
    if (this.queuedBytes + bytes > this.options.maxQueuedRecordBytes && this.queue.length > 0) {
      return Promise.reject(new HttpApiError(HttpErrorCode.OVERLOADED, `write queue full: ${this.queuedBytes} bytes waiting for Kafka, limit maxQueuedRecordBytes = ${this.options.maxQueuedRecordBytes}`))
    }
    return new Promise<void>((resolve, reject) => {
      const pending: PendingWrite = { records, sections, headers, bytes, recordCount, resolve, reject, timer: undefined, state: 'queued', queuedAt: performance.now() }
      const waitMs = Math.max(0, deadlineMs - Date.now())
      pending.timer = setTimeout(() => this.expire(pending), waitMs)
      this.queue.push(pending)
      this.queuedBytes += bytes
      this.wake()
    })
  }

  /** A request still queued at its deadline leaves the queue unwritten; one in a transaction waits for it. */
  private expire(pending: PendingWrite): void {
    pending.timer = undefined
    if (pending.state !== 'queued') return
    const index = this.queue.indexOf(pending)
    if (index >= 0) this.queue.splice(index, 1)
    this.queuedBytes -= pending.bytes
    pending.state = 'done'
    pending.reject(unavailable('Kafka did not take the write before writeTimeoutMs; nothing was written'))
  }

  private wake(): void {
    const wakeup = this.wakeups.shift()
    if (wakeup) wakeup()
  }

  private async run(worker: number): Promise<void> {
    while (!this.closing || this.queue.length > 0) {
      if (this.queue.length === 0) {
        await new Promise<void>(resolve => this.wakeups.push(resolve))
        continue
      }
      const group = this.takeGroup()
      try {
        await this.commitGroup(worker, group)
        for (const pending of group) this.settle(pending, undefined)
      } catch (error) {
        this.options.logger.warn({ event: 'ingest_transaction_failed', worker, requests: group.length, error: (error as Error).message }, 'Kafka transaction failed; its requests answered 503')
        await this.dropProducer(worker)
        const failure = error instanceof HttpApiError ? error : unavailable(`Kafka did not commit the write: ${(error as Error).message}; nothing was written`, error)
        for (const pending of group) this.settle(pending, failure)
      }
    }
  }

  private takeGroup(): PendingWrite[] {
    const group: PendingWrite[] = []
    let records = 0
    let bytes = 0
    while (this.queue.length > 0) {
      const next = this.queue[0]!
      const fits = records + next.recordCount <= this.options.maxTransactionRecords && bytes + next.bytes <= this.options.maxTransactionBytes
      if (group.length > 0 && !fits) break
      this.queue.shift()
      this.queuedBytes -= next.bytes
      this.queueSeconds.observeSince(next.queuedAt)
      next.state = 'sending'
      group.push(next)
      records += next.recordCount
      bytes += next.bytes
    }
    return group
  }

  private settle(pending: PendingWrite, error: Error | undefined): void {
    if (pending.timer) clearTimeout(pending.timer)
    pending.state = 'done'
    if (error) pending.reject(error)
    else pending.resolve()
  }

  private async producer(worker: number): Promise<Producer> {
    const existing = this.producers[worker]
    if (existing) return existing
    const producer = await this.connected(this.makeProducer(worker))
    this.producers[worker] = producer
    return producer
  }

  /** `producer`, connected; a 503 error when Kafka cannot be reached. */
  private async connected(producer: Producer): Promise<Producer> {
    try {
      await producer.connect()
    } catch (error) {
      await producer.disconnect().catch(() => {})
      throw unavailable(`cannot reach Kafka: ${(error as Error).message}; nothing was written`, error)
    }
    return producer
  }

  /** The transactional producer of id `<prefix>-<id>`, not connected. */
  private makeProducer(id: number): Producer {
    return this.options.kafka.producer({
      transactionalId: `${this.options.transactionalIdPrefix}-${id}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: this.options.transactionTimeoutMs ?? 30_000,
      allowAutoTopicCreation: false,
      // Every record names its partition (toIngestRecords computes it); this only silences kafkajs's notice.
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    })
  }

  private async dropProducer(worker: number): Promise<void> {
    const producer = this.producers[worker]
    this.producers[worker] = undefined
    if (producer) await producer.disconnect().catch(() => {})
  }

  private async commitGroup(worker: number, group: readonly PendingWrite[]): Promise<void> {
    const producer = await this.producer(worker)
    const began = performance.now()
    const transaction = await producer.transaction()
    let records = 0
    try {
      for (const messages of this.produceRequests(group)) {
        await transaction.send({ topic: this.options.topic, acks: -1, compression: this.compression, messages })
        records += messages.length
      }
    } catch (error) {
      await transaction.abort().catch(() => {}) // if the broker is gone, the next InitProducerId aborts it
      throw error
    }
    await transaction.commit()
    this.transactionSeconds.observeSince(began)
    this.transactionRecords.observe(records)
  }

  /**
   * The group's records as produce requests in which no partition holds more than
   * maxPartitionBatchBytes of records or more than one section (Kafka takes one batch per partition
   * per request). A request holds either messages or sections. Each record or section goes to the
   * first request that has room for it at or after its partition's last one, and requests are sent
   * one after another, so each partition keeps the group's order.
   */
  private produceRequests(group: readonly PendingWrite[]): Message[][] {
    const limit = this.options.maxPartitionBatchBytes ?? DEFAULT_MAX_PARTITION_BATCH_BYTES
    const requests: PlannedRequest[] = []
    const lastRequest = new Map<number, number>()
    const place = (partition: number, fits: (request: PlannedRequest) => boolean, make: () => PlannedRequest): PlannedRequest => {
      let index = lastRequest.get(partition) ?? 0
      while (index < requests.length && !fits(requests[index]!)) index++
      if (index === requests.length) requests.push(make())
      lastRequest.set(partition, index)
      return requests[index]!
    }
    const messagesRequest = (): PlannedRequest => ({ sections: false, messages: [], partitionBytes: new Map() })
    const sectionsRequest = (): PlannedRequest => ({ sections: true, messages: [], partitionBytes: new Map() })
    for (const pending of group) {
      for (const record of pending.records) {
        const bytes = record.key.length + record.value.length
        const request = place(record.partition, planned => {
          const used = planned.partitionBytes.get(record.partition) ?? 0
          return !planned.sections && (used === 0 || used + bytes <= limit)
        }, messagesRequest)
        request.messages.push({ partition: record.partition, key: record.key, value: record.value, headers: pending.headers })
        request.partitionBytes.set(record.partition, (request.partitionBytes.get(record.partition) ?? 0) + bytes)
      }
      for (const { partition, section, recordBytes: bytes } of pending.sections) {
        const request = place(partition, planned => planned.sections && !planned.partitionBytes.has(partition), sectionsRequest)
        for (const message of sectionMessages(partition, section)) request.messages.push(message)
        request.partitionBytes.set(partition, bytes)
      }
    }
    return requests.map(request => request.messages)
  }

  /** Stops taking writes, lets queued ones finish, disconnects. */
  async close(): Promise<void> {
    this.closing = true
    for (const wakeup of this.wakeups.splice(0)) wakeup()
    await Promise.all(this.workers)
    await Promise.all(this.producers.map((_, worker) => this.dropProducer(worker)))
  }
}
