// The hot path: sluice.IngestBatch (and the IngestRecord wrapper around it) encoded and decoded by
// hand, straight between values and Avro binary, with no intermediate objects, JSON or per-long
// buffers (avsc's custom long costs an 8-byte Buffer per value). Produces exactly avsc's bytes;
// ingest-batch-codec.test.ts checks that on random batches.
//
// IngestBatchEncoder is the streaming form, for callers that hold points in columns (a parsed
// write body) and must not build an object per point: begin → (point → field × n) × m → end.

import { AvroReader, AvroWriter, putLongWords } from './avro-binary.ts'
import { avscDecodeAt, avscEncode } from './avsc-codec.ts'
import { isUnsignedValue } from './avro-types.ts'
import { ingestCommandType } from './catalog.ts'
import { SchemaError, SchemaErrorCode } from './errors.ts'
import type { Field, FieldValue, IngestBatch, IngestCommand, IngestRecord, Point, Tag } from './types.ts'

/** Union branch indexes of the field value ["long", "double", sluice.Uint64, "string", "boolean"]. */
export const FieldBranch = {
  LONG: 0,
  DOUBLE: 1,
  UNSIGNED: 2,
  STRING: 3,
  BOOLEAN: 4,
} as const

/**
 * A field's name and branch as encoded (what precedes its value in a point), held as the
 * little-endian 32-bit words of those bytes, the last padded with zeros: copied a word at a time.
 */
export interface FieldHead {
  /** Bytes of the name and branch. */
  length: number
  words: Int32Array
}

/** Room made after a field's head: its value (a long takes up to 10 bytes) and the end of the point's fields (1). */
const FIELD_VALUE_ROOM = 11

/** Union branch indexes of IngestRecord's optional fields ["null", T]. */
const NULL_BRANCH = 0
const VALUE_BRANCH = 1

const MAGIC_BYTE = 0
const MAX_SCHEMA_ID = 0x7fffffff
/**
 * Field heads an encoder keeps (see beginField). Default 4,096: far more distinct field names than a
 * writer sends (Telegraf's widest inputs have under 100), and at most a few hundred KiB; past it the
 * cache starts again empty rather than grow with a writer that invents names.
 */
const MAX_CACHED_FIELD_HEADS = 4096

export interface IngestBatchHeader {
  tenant: string
  database: string
  measurement: string
  seriesKey: string
  tags: readonly Tag[]
}

export interface IngestBatchTrailer {
  source: string | null
  receivedAtNs: bigint
  idempotencyKey: string | null
}

export interface IngestBatchEncodeOptions {
  /** Prefix the Confluent wire header (magic byte 0, this id as 4 bytes big-endian). */
  schemaId?: number
  /** Encode as an IngestRecord holding the batch (the value of sluice.ingest) rather than a bare IngestBatch. */
  asIngestRecord?: boolean
}

function misuse(message: string): SchemaError {
  return new SchemaError(SchemaErrorCode.ENCODE, `IngestBatchEncoder: ${message}`)
}

function misfit(path: string, expected: string, value: unknown): SchemaError {
  const found = typeof value === 'bigint' ? `${value}n` : typeof value === 'object' ? JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) : String(value)
  return new SchemaError(SchemaErrorCode.ENCODE, `value does not match sluice.IngestBatch: ${path} is ${found}, expected ${expected}`, { path })
}

/** Writes the Confluent wire header. */
export function writeFraming(writer: AvroWriter, schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > MAX_SCHEMA_ID) {
    throw new SchemaError(SchemaErrorCode.FRAMING, `schema id must be an integer in [0, ${MAX_SCHEMA_ID}], got ${schemaId}`)
  }
  writer.ensure(5)
  writer.buf[writer.pos] = MAGIC_BYTE
  writer.buf.writeUInt32BE(schemaId, writer.pos + 1)
  writer.pos += 5
}

/**
 * Streaming IngestBatch encoder. Counts are declared up front (Avro arrays carry their length) and
 * checked as points and fields arrive. One encoder, one record at a time; it reuses its buffer and
 * end() returns an exact-size copy.
 */
export class IngestBatchEncoder {
  private readonly writer: AvroWriter
  private pointCount = 0
  private pointsLeft = -1 // -1: no record open
  private fieldsLeft = 0
  private asIngestRecord = false
  /** Per field value branch: field name → its encoded name and branch index. */
  private readonly fieldHeads: Array<Map<string, FieldHead>> = Object.values(FieldBranch).map(() => new Map())
  private fieldHeadCount = 0

  constructor(writer = new AvroWriter()) {
    this.writer = writer
  }

  begin(header: IngestBatchHeader, pointCount: number, options: IngestBatchEncodeOptions = {}): void {
    if (!Number.isInteger(pointCount) || pointCount < 0) throw misuse(`point count must be a non-negative integer, got ${pointCount}`)
    const writer = this.writer
    writer.reset()
    this.pointsLeft = -1
    if (options.schemaId !== undefined) writeFraming(writer, options.schemaId)
    if (options.asIngestRecord) writer.int(VALUE_BRANCH)
    writeHeaderString(writer, 'tenant', header.tenant)
    writeHeaderString(writer, 'database', header.database)
    writeHeaderString(writer, 'measurement', header.measurement)
    writeHeaderString(writer, 'seriesKey', header.seriesKey)
    writeTags(writer, header.tags)
    writer.int(pointCount) // a non-empty array's block count; for 0 it is the array's end
    this.asIngestRecord = options.asIngestRecord ?? false
    this.pointCount = pointCount
    this.pointsLeft = pointCount
    this.fieldsLeft = 0
  }

  point(timeNs: bigint, fieldCount: number): void {
    if (typeof timeNs !== 'bigint') throw misfit(`points.${this.pointCount - this.pointsLeft}.timeNs`, 'a bigint', timeNs)
    this.beginPoint(fieldCount)
    this.writer.long(timeNs)
    this.endPointHead(fieldCount)
  }

  /** point() with the time as the two's-complement words of the signed 64-bit nanoseconds (no bigint per point). */
  pointWords(timeLow: number, timeHigh: number, fieldCount: number): void {
    this.beginPoint(fieldCount)
    this.writer.longWords(timeLow, timeHigh)
    this.endPointHead(fieldCount)
  }

  private beginPoint(fieldCount: number): void {
    if (this.pointsLeft <= 0) throw misuse(this.pointsLeft < 0 ? 'point() before begin()' : `more points than the ${this.pointCount} declared`)
    if (this.fieldsLeft !== 0) throw misuse(`point() with ${this.fieldsLeft} fields of the previous point missing`)
    if (!Number.isInteger(fieldCount) || fieldCount < 0) throw misuse(`field count must be a non-negative integer, got ${fieldCount}`)
    this.pointsLeft--
  }

  private endPointHead(fieldCount: number): void {
    this.writer.int(fieldCount)
    this.fieldsLeft = fieldCount
  }

  /**
   * A field's name and branch as encoded, which precede its value: a batch repeats a handful of
   * field names thousands of times, so each (name, branch) is encoded once and copied after. A
   * caller that knows its fields by id (a parsed body) looks each up once and passes it to the
   * ...WithHead methods, rather than once per value by name.
   */
  fieldHead(name: string, branch: number): FieldHead {
    return this.fieldHeads[branch]!.get(name) ?? this.cacheFieldHead(name, branch)
  }

  private beginField(name: string, branch: number): void {
    this.beginFieldWithHead(this.fieldHead(name, branch))
  }

  /**
   * Copies the head (fieldHead) and makes room after it for a value of up to 10 bytes and the end
   * of the point's fields. The last word's padding lands past the head, where the value then goes.
   */
  private beginFieldWithHead(head: FieldHead): void {
    if (this.fieldsLeft <= 0) throw misuse('more fields than declared for the point')
    const writer = this.writer
    const words = head.words
    writer.ensure(4 * words.length + FIELD_VALUE_ROOM)
    const view = writer.view
    const pos = writer.pos
    for (let i = 0; i < words.length; i++) view.setInt32(pos + 4 * i, words[i]!, true)
    writer.pos = pos + head.length
  }

  private cacheFieldHead(name: string, branch: number): FieldHead {
    const scratch = new AvroWriter(16 + 3 * name.length)
    scratch.string(name)
    scratch.int(branch)
    const length = scratch.pos
    const words = new Int32Array(Math.ceil(length / 4))
    new Uint8Array(words.buffer).set(scratch.buf.subarray(0, length))
    const padded = new DataView(words.buffer)
    for (let i = 0; i < words.length; i++) words[i] = padded.getInt32(4 * i, true) // as beginFieldWithHead writes them, on any host
    const head: FieldHead = { length, words }
    if (this.fieldHeadCount >= MAX_CACHED_FIELD_HEADS) {
      for (const heads of this.fieldHeads) heads.clear()
      this.fieldHeadCount = 0
    }
    this.fieldHeads[branch]!.set(name, head)
    this.fieldHeadCount++
    return head
  }

  private endField(): void {
    if (--this.fieldsLeft === 0) this.writer.int(0)
  }

  double(name: string, value: number): void {
    this.doubleWithHead(this.fieldHead(name, FieldBranch.DOUBLE), value)
  }

  /** A signed 64-bit integer field (Avro long). */
  integer(name: string, value: bigint): void {
    this.beginField(name, FieldBranch.LONG)
    this.writer.long(value)
    this.endField()
  }

  /** integer() with the value as its two's-complement words (low, high), as a parsed batch holds it. */
  integerWords(name: string, low: number, high: number): void {
    this.integerWordsWithHead(this.fieldHead(name, FieldBranch.LONG), low, high)
  }

  /** integerWords() of the field whose fieldHead(name, FieldBranch.LONG) is `head`. */
  integerWordsWithHead(head: FieldHead, low: number, high: number): void {
    this.beginFieldWithHead(head)
    const writer = this.writer
    writer.pos = putLongWords(writer.buf, writer.pos, low, high)
    if (--this.fieldsLeft === 0) writer.buf[writer.pos++] = 0 // the fields array's end, int(0), in the room made
  }

  /** double() of the field whose fieldHead(name, FieldBranch.DOUBLE) is `head`. */
  doubleWithHead(head: FieldHead, value: number): void {
    this.beginFieldWithHead(head)
    this.writer.double(value)
    this.endField()
  }

  /** unsigned() with the value as its words (low, high). */
  unsignedWords(name: string, low: number, high: number): void {
    this.beginField(name, FieldBranch.UNSIGNED)
    const writer = this.writer
    writer.ensure(8)
    writer.buf.writeUInt32BE(high, writer.pos)
    writer.buf.writeUInt32BE(low, writer.pos + 4)
    writer.pos += 8
    this.endField()
  }

  /** An unsigned 64-bit integer field (sluice.Uint64). */
  unsigned(name: string, value: bigint): void {
    this.beginField(name, FieldBranch.UNSIGNED)
    this.writer.uint64(value)
    this.endField()
  }

  string(name: string, value: string): void {
    this.beginField(name, FieldBranch.STRING)
    this.writer.string(value)
    this.endField()
  }

  boolean(name: string, value: boolean): void {
    this.beginField(name, FieldBranch.BOOLEAN)
    this.writer.boolean(value)
    this.endField()
  }

  /** A field whose JS type picks the branch (number → double, bigint → long, {unsigned} → Uint64). */
  field(field: Field): void {
    const { name, value } = field
    if (typeof name !== 'string') throw misfit('field name', 'a string', name)
    switch (typeof value) {
      case 'number': return this.double(name, value)
      case 'bigint': return this.integer(name, value)
      case 'string': return this.string(name, value)
      case 'boolean': return this.boolean(name, value)
    }
    if (isUnsignedValue(value)) return this.unsigned(name, value.unsigned)
    throw misfit(`field ${JSON.stringify(name)}`, 'a number, bigint, { unsigned: bigint }, string or boolean', value)
  }

  end(trailer: IngestBatchTrailer): Buffer {
    if (this.pointsLeft !== 0) throw misuse(this.pointsLeft < 0 ? 'end() before begin()' : `${this.pointsLeft} of ${this.pointCount} declared points missing`)
    if (this.fieldsLeft !== 0) throw misuse(`${this.fieldsLeft} fields of the last point missing`)
    const writer = this.writer
    if (this.pointCount > 0) writer.int(0)
    writeOptionalString(writer, 'source', trailer.source)
    if (typeof trailer.receivedAtNs !== 'bigint') throw misfit('receivedAtNs', 'a bigint', trailer.receivedAtNs)
    writer.long(trailer.receivedAtNs)
    writeOptionalString(writer, 'idempotencyKey', trailer.idempotencyKey)
    if (this.asIngestRecord) writer.int(NULL_BRANCH) // IngestRecord.command
    this.pointsLeft = -1
    return writer.toBuffer()
  }
}

function writeHeaderString(writer: AvroWriter, path: string, value: string): void {
  if (typeof value !== 'string') throw misfit(path, 'a string', value)
  writer.string(value)
}

function writeOptionalString(writer: AvroWriter, path: string, value: string | null): void {
  if (value === null) {
    writer.int(0)
    return
  }
  if (typeof value !== 'string') throw misfit(path, 'a string or null', value)
  writer.int(1)
  writer.string(value)
}

function writeTags(writer: AvroWriter, tags: readonly Tag[]): void {
  if (!Array.isArray(tags)) throw misfit('tags', 'an array', tags)
  const count = tags.length
  writer.int(count)
  if (count === 0) return
  for (let i = 0; i < count; i++) {
    const tag = tags[i]!
    if (typeof tag?.key !== 'string' || typeof tag.value !== 'string') throw misfit(`tags.${i}`, '{ key: string, value: string }', tag)
    writer.string(tag.key)
    writer.string(tag.value)
  }
  writer.int(0)
}

const sharedEncoder = new IngestBatchEncoder()

function encodeBatchWith(encoder: IngestBatchEncoder, batch: IngestBatch, options: IngestBatchEncodeOptions): Buffer {
  const points = batch.points
  if (!Array.isArray(points)) throw misfit('points', 'an array', points)
  encoder.begin(batch, points.length, options)
  for (let p = 0; p < points.length; p++) {
    const point: Point = points[p]!
    const fields = point?.fields
    if (!Array.isArray(fields)) throw misfit(`points.${p}.fields`, 'an array', fields)
    encoder.point(point.timeNs, fields.length)
    for (let f = 0; f < fields.length; f++) encoder.field(fields[f]!)
  }
  return encoder.end(batch)
}

export function encodeIngestBatch(batch: IngestBatch, options: IngestBatchEncodeOptions = {}): Buffer {
  return encodeBatchWith(sharedEncoder, batch, options)
}

function exactlyOne(batch: unknown, command: unknown): SchemaError | undefined {
  if ((batch === null) === (command === null)) {
    return new SchemaError(SchemaErrorCode.ENCODE, `sluice.IngestRecord needs exactly one of batch and command, got ${batch === null ? 'neither' : 'both'}`)
  }
  return undefined
}

export function encodeIngestRecord(record: IngestRecord, options: { schemaId?: number } = {}): Buffer {
  const problem = exactlyOne(record.batch ?? null, record.command ?? null)
  if (problem) throw problem
  if (record.batch !== null) return encodeBatchWith(sharedEncoder, record.batch, { ...options, asIngestRecord: true })
  const command = avscEncode(ingestCommandType.avro, ingestCommandType.name, record.command)
  const writer = new AvroWriter(command.length + 7)
  if (options.schemaId !== undefined) writeFraming(writer, options.schemaId)
  writer.int(NULL_BRANCH) // batch
  writer.int(VALUE_BRANCH) // command
  writer.bytes(command)
  return writer.toBuffer()
}

function readFieldValue(reader: AvroReader): FieldValue {
  const branch = reader.int()
  switch (branch) {
    case FieldBranch.LONG: return reader.long()
    case FieldBranch.DOUBLE: return reader.double()
    case FieldBranch.UNSIGNED: return { unsigned: reader.uint64() }
    case FieldBranch.STRING: return reader.string()
    case FieldBranch.BOOLEAN: return reader.boolean()
  }
  throw new SchemaError(SchemaErrorCode.DECODE, `invalid union index ${branch} for a field value (0-4)`)
}

function readOptionalString(reader: AvroReader): string | null {
  const branch = reader.int()
  if (branch === 0) return null
  if (branch === 1) return reader.string()
  throw new SchemaError(SchemaErrorCode.DECODE, `invalid union index ${branch} for an optional string (0-1)`)
}

function readTags(reader: AvroReader): Tag[] {
  const tags: Tag[] = []
  for (let count = reader.blockCount(); count !== 0; count = reader.blockCount()) {
    for (let i = 0; i < count; i++) tags.push({ key: reader.name(), value: reader.name() })
  }
  return tags
}

function readFields(reader: AvroReader): Field[] {
  const fields: Field[] = []
  for (let count = reader.blockCount(); count !== 0; count = reader.blockCount()) {
    for (let i = 0; i < count; i++) {
      const name = reader.name()
      fields.push({ name, value: readFieldValue(reader) })
    }
  }
  return fields
}

function readPoints(reader: AvroReader): Point[] {
  const points: Point[] = []
  for (let count = reader.blockCount(); count !== 0; count = reader.blockCount()) {
    for (let i = 0; i < count; i++) {
      const timeNs = reader.long()
      points.push({ timeNs, fields: readFields(reader) })
    }
  }
  return points
}

/** The fields an IngestBatch and a ChangelogEntry's SeriesUpsert begin with, in this order. */
export type SeriesPoints = Pick<IngestBatch, 'tenant' | 'database' | 'measurement' | 'seriesKey' | 'tags' | 'points'>

/** Reads the series and points an IngestBatch and a SeriesUpsert begin with. */
export function readSeriesPoints(reader: AvroReader): SeriesPoints {
  // The same few tenants, databases and measurements in record after record: interned like names.
  const tenant = reader.name()
  const database = reader.name()
  const measurement = reader.name()
  const seriesKey = reader.string()
  const tags = readTags(reader)
  const points = readPoints(reader)
  return { tenant, database, measurement, seriesKey, tags, points }
}

/** Reads an IngestBatch (current version) at the reader's position. */
export function readIngestBatch(reader: AvroReader): IngestBatch {
  const { tenant, database, measurement, seriesKey, tags, points } = readSeriesPoints(reader)
  const source = readOptionalString(reader)
  const receivedAtNs = reader.long()
  const idempotencyKey = readOptionalString(reader)
  return { tenant, database, measurement, seriesKey, tags, points, source, receivedAtNs, idempotencyKey }
}

function assertConsumed(reader: AvroReader, name: string): void {
  if (reader.pos !== reader.end) {
    throw new SchemaError(SchemaErrorCode.DECODE, `trailing data after ${name}: ${reader.end - reader.pos} bytes`)
  }
}

export function decodeIngestBatch(payload: Buffer): IngestBatch {
  const reader = new AvroReader(payload)
  const batch = readIngestBatch(reader)
  assertConsumed(reader, 'sluice.IngestBatch')
  return batch
}

/** Whether the optional field `record`.`field` (["null", T]) holds a value. */
export function readBranch(reader: AvroReader, record: string, field: string): boolean {
  const branch = reader.int()
  if (branch !== NULL_BRANCH && branch !== VALUE_BRANCH) {
    throw new SchemaError(SchemaErrorCode.DECODE, `invalid union index ${branch} for ${record}.${field} (0-1)`)
  }
  return branch === VALUE_BRANCH
}

/** The optional `command` field ending an IngestRecord or a ChangelogEntry (avsc: commands are rare), then the end of `payload`. */
export function readOptionalCommandToEnd(reader: AvroReader, payload: Buffer, record: string): IngestCommand | null {
  let command: IngestCommand | null = null
  if (readBranch(reader, record, 'command')) {
    const decoded = avscDecodeAt(ingestCommandType.avro, ingestCommandType.name, payload, reader.pos)
    reader.pos = decoded.offset
    command = decoded.value as IngestCommand
  }
  assertConsumed(reader, record)
  return command
}

export function decodeIngestRecord(payload: Buffer): IngestRecord {
  const reader = new AvroReader(payload)
  const batch = readBranch(reader, 'sluice.IngestRecord', 'batch') ? readIngestBatch(reader) : null
  const command = readOptionalCommandToEnd(reader, payload, 'sluice.IngestRecord')
  if ((batch === null) === (command === null)) {
    throw new SchemaError(SchemaErrorCode.DECODE, `sluice.IngestRecord holds ${batch === null ? 'neither batch nor command' : 'both a batch and a command'}; exactly one is allowed`)
  }
  return batch !== null ? { batch, command: null } : { batch: null, command: command! }
}
