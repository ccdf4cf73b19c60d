// Turns a parsed write body into sluice.ingest records: one record per series (an IngestRecord holding
// that series' IngestBatch), keyed by the series key and assigned the partition Kafka's default
// partitioner gives that key. Works from the columnar arrays: points are grouped by a counting sort
// over pointSeries, and values go straight from the typed arrays into the streaming Avro encoder
// (64-bit times and integers as their 32-bit words, so no bigint is made per point or field).
//
// Record value layout (what schemas/ intends for sluice.ingest, see schemas/evolution.md):
//   byte 0      magic byte 0                      (Confluent framing)
//   bytes 1-4   schema id, int32 big-endian       (the registry id of subject "sluice.ingest-value")
//   bytes 5-    Avro binary of sluice.IngestRecord { batch: IngestBatch, command: null }

import { FieldBranch, IngestBatchEncoder, type FieldHead, type Tag } from '../../schemas/index.ts'
import { FieldType, type ParsedBatch } from './parsed-batch.ts'
import { partitionForKey } from './partitioner.ts'

/**
 * Schema id used when the caller passes none: the id a fresh registry gives the first schema it
 * registers, which is `sluice.ingest-value` on a node (bin/node.ts registers it first and passes the
 * id it actually got). Callers that know the registered id must pass it.
 */
export const DEFAULT_INGEST_SCHEMA_ID = 1

/**
 * Largest record value written, in bytes. Default 1,000,000: under the broker's default
 * message.max.bytes (1,048,588) with room for the record batch header, key and headers. A series
 * whose points encode to more is split into several records (same key, so same partition, in order).
 */
export const DEFAULT_MAX_RECORD_BYTES = 1_000_000

export interface IngestRecordOptions {
  tenant: string
  database: string
  /** Partitions of sluice.ingest. */
  partitions: number
  /** Where the write entered: "http", "mqtt", "kafka". */
  source: string
  /** When Sluice received the write, ns since the epoch. */
  receivedAtNs: bigint
  idempotencyKey?: string | null
  /** Registry id of sluice.ingest-value for the Confluent header; default DEFAULT_INGEST_SCHEMA_ID. */
  schemaId?: number
  /** Per point, 1 to write it and 0 to leave it out (checkFieldTypes' `accepted`); default every point. */
  accepted?: Uint8Array
  /** Default DEFAULT_MAX_RECORD_BYTES. */
  maxRecordBytes?: number
}

export interface IngestRecordOut {
  partition: number
  /** UTF-8 of the canonical series key. */
  key: Buffer
  /** Confluent-framed Avro sluice.IngestRecord. */
  value: Buffer
}

/** Points grouped by series: series s owns order[seriesStart[s], seriesStart[s + 1]), in body order. */
interface SeriesGroups {
  order: Uint32Array
  seriesStart: Uint32Array
}

function groupBySeries(batch: ParsedBatch, accepted: Uint8Array | undefined): SeriesGroups {
  const seriesCount = batch.seriesCount
  const seriesStart = new Uint32Array(seriesCount + 1)
  const pointSeries = batch.pointSeries
  for (let p = 0; p < batch.pointCount; p++) {
    if (accepted === undefined || accepted[p] === 1) seriesStart[pointSeries[p]! + 1]!++
  }
  for (let s = 0; s < seriesCount; s++) seriesStart[s + 1]! += seriesStart[s]!
  const order = new Uint32Array(seriesStart[seriesCount]!)
  const next = seriesStart.slice(0, seriesCount)
  for (let p = 0; p < batch.pointCount; p++) {
    if (accepted === undefined || accepted[p] === 1) order[next[pointSeries[p]!]!++] = p
  }
  return { order, seriesStart }
}

function validate(batch: ParsedBatch, options: IngestRecordOptions): void {
  if (batch.released) throw new Error('toIngestRecords: the ParsedBatch was already released')
  if (!Number.isInteger(options.partitions) || options.partitions < 1) {
    throw new RangeError(`toIngestRecords: partitions must be a positive integer, got ${options.partitions}`)
  }
  if (options.accepted !== undefined && options.accepted.length < batch.pointCount) {
    throw new RangeError(`toIngestRecords: accepted has ${options.accepted.length} entries for ${batch.pointCount} points`)
  }
}

/** Every point of `batch` (or the accepted ones) as sluice.ingest records, one or more per series. */
export function toIngestRecords(batch: ParsedBatch, options: IngestRecordOptions): IngestRecordOut[] {
  validate(batch, options)
  const writer = new SeriesRecordWriter(batch, options)
  const { order, seriesStart } = groupBySeries(batch, options.accepted)
  const records: IngestRecordOut[] = []
  for (let series = 0; series < batch.seriesCount; series++) {
    const from = seriesStart[series]!
    const to = seriesStart[series + 1]!
    if (from === to) continue
    writer.write(series, order, from, to, records)
  }
  return records
}

/** Room per field key in SeriesRecordWriter's heads: one for each FieldType (1-5). */
const HEADS_PER_KEY = 8

/** Encodes the points of one series, splitting the run when a record would exceed the byte limit. */
class SeriesRecordWriter {
  private readonly encoder = new IngestBatchEncoder()
  private readonly schemaId: number
  private readonly maxRecordBytes: number
  private readonly trailer: { source: string; receivedAtNs: bigint; idempotencyKey: string | null }
  /** The encoder's fieldHead of each (field key id, FieldType), at HEADS_PER_KEY * id + type, looked up on first use. */
  private readonly heads: Array<FieldHead | undefined>

  constructor(private readonly batch: ParsedBatch, private readonly options: IngestRecordOptions) {
    this.heads = new Array<FieldHead | undefined>(HEADS_PER_KEY * batch.fieldKeys.length).fill(undefined)
    this.schemaId = options.schemaId ?? DEFAULT_INGEST_SCHEMA_ID
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES
    this.trailer = { source: options.source, receivedAtNs: options.receivedAtNs, idempotencyKey: options.idempotencyKey ?? null }
  }

  write(series: number, order: Uint32Array, from: number, to: number, out: IngestRecordOut[]): void {
    const batch = this.batch
    const seriesKey = batch.seriesKeys[series]!
    const key = Buffer.from(seriesKey, 'utf8')
    const partition = partitionForKey(key, this.options.partitions)
    const tags: Tag[] = []
    for (let t = batch.seriesTagStart[series]!; t < batch.seriesTagStart[series + 1]!; t++) tags.push({ key: batch.tagKeys[t]!, value: batch.tagValues[t]! })
    const header = {
      tenant: this.options.tenant,
      database: this.options.database,
      measurement: batch.measurements[batch.seriesMeasurement[series]!]!,
      seriesKey,
      tags,
    }
    this.writeRun(header, order, from, to, key, partition, out)
  }

  private writeRun(header: Parameters<IngestBatchEncoder['begin']>[0], order: Uint32Array, from: number, to: number, key: Buffer, partition: number, out: IngestRecordOut[]): void {
    const value = this.encodeRun(header, order, from, to)
    if (value.length > this.maxRecordBytes && to - from > 1) {
      // Halves keep body order: the first half's record precedes the second's in the partition.
      const middle = from + ((to - from) >>> 1)
      this.writeRun(header, order, from, middle, key, partition, out)
      this.writeRun(header, order, middle, to, key, partition, out)
      return
    }
    // A single point over the limit is left to Kafka to refuse (the parser's maxLineBytes keeps it rare).
    out.push({ partition, key, value })
  }

  private encodeRun(header: Parameters<IngestBatchEncoder['begin']>[0], order: Uint32Array, from: number, to: number): Buffer {
    const batch = this.batch
    const encoder = this.encoder
    const fieldStart = batch.pointFieldStart
    const timeWords = batch.timestampWords
    encoder.begin(header, to - from, { schemaId: this.schemaId, asIngestRecord: true })
    for (let i = from; i < to; i++) {
      const point = order[i]!
      const first = fieldStart[point]!
      const end = fieldStart[point + 1]!
      encoder.pointWords(timeWords[2 * point]!, timeWords[2 * point + 1]!, end - first)
      for (let slot = first; slot < end; slot++) this.writeField(slot)
    }
    return encoder.end(this.trailer)
  }

  private writeField(slot: number): void {
    const batch = this.batch
    const type = batch.fieldType[slot]!
    switch (type) {
      case FieldType.Float: return this.encoder.doubleWithHead(this.headOf(slot, type), batch.floatValues[slot]!)
      case FieldType.Integer: return this.encoder.integerWordsWithHead(this.headOf(slot, type), batch.valueWords[2 * slot]!, batch.valueWords[2 * slot + 1]!)
    }
    const name = batch.fieldKeys[batch.fieldKey[slot]!]!
    switch (type) {
      case FieldType.Unsigned: return this.encoder.unsignedWords(name, batch.valueWords[2 * slot]!, batch.valueWords[2 * slot + 1]!)
      case FieldType.String: return this.encoder.string(name, batch.stringValue(slot))
      case FieldType.Boolean: return this.encoder.boolean(name, batch.floatValues[slot] === 1)
    }
    throw new Error(`toIngestRecords: field slot ${slot} has unknown type ${batch.fieldType[slot]}`)
  }

  /** The encoded name and branch of field slot `slot`, of type Float or Integer. */
  private headOf(slot: number, type: number): FieldHead {
    const key = this.batch.fieldKey[slot]!
    const index = HEADS_PER_KEY * key + type
    const head = this.heads[index]
    if (head !== undefined) return head
    const found = this.encoder.fieldHead(this.batch.fieldKeys[key]!, type === FieldType.Float ? FieldBranch.DOUBLE : FieldBranch.LONG)
    this.heads[index] = found
    return found
  }
}
