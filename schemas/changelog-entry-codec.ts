// sluice.ChangelogEntry decoded by hand, for the replica's apply loop: one pass over the Avro
// binary with the same readers as the IngestBatch codec (field names and tag strings interned,
// exact longs through two uint32 words instead of avsc's 8-byte Buffer per long), so a point costs
// its own object and nothing else. Commands are rare and keep avsc's decoding.
// changelog-entry-codec.test.ts checks it equals avsc's decode on random entries.
//
//   ChangelogEntry: int ingestPartition | long ingestOffset
//                   | union{null, SeriesUpsert: tenant database measurement seriesKey tags points int pointsIn}
//                   | union{null, IngestCommand}

import { AvroReader } from './avro-binary.ts'
import { SchemaError, SchemaErrorCode } from './errors.ts'
import { FieldBranch, readBranch, readOptionalCommandToEnd, readSeriesPoints } from './ingest-batch-codec.ts'
import type { ChangelogEntry, FieldValue, IngestCommand, Point, SeriesUpsert, Tag } from './types.ts'
import { LOW_WORD, HIGH_WORD } from '../lib/bytes/endianness.ts'

const RECORD = 'sluice.ChangelogEntry'

function readSeriesUpsert(reader: AvroReader): SeriesUpsert {
  const { tenant, database, measurement, seriesKey, tags, points } = readSeriesPoints(reader)
  return { tenant, database, measurement, seriesKey, tags, points, pointsIn: reader.int() }
}

/** Decodes a ChangelogEntry payload (without the Confluent header); equal to avsc's decode of it. */
export function decodeChangelogEntry(payload: Buffer): ChangelogEntry {
  const reader = new AvroReader(payload)
  const ingestPartition = reader.int()
  const ingestOffset = reader.long()
  const upsert = readBranch(reader, RECORD, 'upsert') ? readSeriesUpsert(reader) : null
  const command = readOptionalCommandToEnd(reader, payload, RECORD)
  if ((upsert === null) === (command === null)) {
    throw new SchemaError(SchemaErrorCode.DECODE, `sluice.ChangelogEntry holds ${upsert === null ? 'neither upsert nor command' : 'both an upsert and a command'}; exactly one is allowed`)
  }
  return upsert !== null ? { ingestPartition, ingestOffset, upsert, command: null } : { ingestPartition, ingestOffset, upsert: null, command: command! }
}

// ---- columns: the replica's apply path ---------------------------------------------------------
//
// decodeChangelogColumns reads the same bytes into a reusable ChangelogColumns: typed arrays of
// the points' times and of the values in entry order, with no object per point, field or long.
// 64-bit times and integers travel as two int32 words in the memory order of a BigInt64Array, so
// the segment store copies them into its memtable's BigInt64Arrays without making a bigint.
// changelog-entry-codec.test.ts checks it against decodeChangelogEntry.


const INITIAL_POINTS = 64
const INITIAL_VALUES = 512

/** A decoded ChangelogEntry, reused from entry to entry: valid until the next decode into it. */
export class ChangelogColumns {
  ingestPartition = 0
  ingestOffset = 0n
  /** The entry's command, or null when it is an upsert (the fields below). */
  command: IngestCommand | null = null
  tenant = ''
  database = ''
  measurement = ''
  seriesKey = ''
  pointsIn = 0
  pointCount = 0
  /** Point p's time: words 2p + LOW_WORD and 2p + HIGH_WORD (a BigInt64Array's memory). */
  timeWords = new Int32Array(2 * INITIAL_POINTS)
  valueCount = 0
  /** Value k belongs to point valuePoint[k], is the field names[valueName[k]], of branch valueBranch[k] (FieldBranch). */
  valuePoint = new Int32Array(INITIAL_VALUES)
  valueName = new Int32Array(INITIAL_VALUES)
  valueBranch = new Uint8Array(INITIAL_VALUES)
  /**
   * Value k's 8 bytes: a double (or a boolean as 0 / 1) at valueDoubles[k]; a long or Uint64 as
   * words 2k + LOW_WORD and 2k + HIGH_WORD of valueWords (two views of one buffer).
   */
  valueDoubles = new Float64Array(INITIAL_VALUES)
  valueWords = new Int32Array(this.valueDoubles.buffer)
  /** Value k when a string, else stale. */
  valueStrings: string[] = []
  /**
   * Every point holds one value of every name, listed in the order of `names` with the same branch
   * in every point: value k is point k / names.length's value of names[k % names.length] (the
   * common entry, which a store can then copy name by name).
   */
  regular = true
  /** The points' times strictly increase. */
  timesAscending = true
  /** The entry's distinct field names, in order of first appearance. */
  names: string[] = []
  /** Per name, where its bytes first occur in the payload (at its one-byte length), or -1. */
  nameAt: number[] = []
  /** Per field position of point 0, where its name starts in the payload and the bytes of its name and branch. */
  fieldAt: number[] = []
  fieldBytes: number[] = []
  private payload: Buffer = Buffer.alloc(0)
  /** The payload's bytes, for comparing names 4 bytes at a time. */
  view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0))
  private tagsAt = 0

  /** The upsert's tags, decoded from the payload now (a store needs them only for a new series). */
  tags(): Tag[] {
    return readTags(new AvroReader(this.payload, this.tagsAt))
  }

  /** The entry's ingest position and upsert as decodeChangelogEntry gives them (tests, the old path). */
  toEntry(): ChangelogEntry {
    const { ingestPartition, ingestOffset } = this
    if (this.command !== null) return { ingestPartition, ingestOffset, upsert: null, command: this.command }
    const points: Point[] = []
    for (let p = 0; p < this.pointCount; p++) points.push({ timeNs: wordsToBigInt(this.timeWords, p), fields: [] })
    for (let k = 0; k < this.valueCount; k++) points[this.valuePoint[k]!]!.fields.push({ name: this.names[this.valueName[k]!]!, value: this.value(k) })
    const { tenant, database, measurement, seriesKey, pointsIn } = this
    return { ingestPartition, ingestOffset, command: null, upsert: { tenant, database, measurement, seriesKey, tags: this.tags(), points, pointsIn } }
  }

  private value(k: number): FieldValue {
    switch (this.valueBranch[k]) {
      case FieldBranch.LONG: return wordsToBigInt(this.valueWords, k)
      case FieldBranch.DOUBLE: return this.valueDoubles[k]!
      case FieldBranch.UNSIGNED: return { unsigned: BigInt.asUintN(64, wordsToBigInt(this.valueWords, k)) }
      case FieldBranch.STRING: return this.valueStrings[k]!
      default: return this.valueDoubles[k] === 1
    }
  }

  /** Starts an entry over `payload`. */
  reset(payload: Buffer): void {
    this.payload = payload
    this.view = new DataView(payload.buffer, payload.byteOffset, payload.length)
    this.command = null
    this.pointCount = 0
    this.valueCount = 0
    this.names.length = 0
    this.nameAt.length = 0
    this.fieldAt.length = 0
    this.fieldBytes.length = 0
    this.regular = true
    this.timesAscending = true
  }

  /** Room for `count` points. */
  reservePoints(count: number): void {
    if (count * 2 <= this.timeWords.length) return
    const words = new Int32Array(2 * Math.max(count, this.timeWords.length))
    words.set(this.timeWords)
    this.timeWords = words
  }

  /** Room for `count` more values. */
  reserveValues(count: number): void {
    if (this.valueCount + count <= this.valuePoint.length) return
    const capacity = Math.max(this.valueCount + count, this.valuePoint.length * 2)
    this.valuePoint = grown(this.valuePoint, new Int32Array(capacity))
    this.valueName = grown(this.valueName, new Int32Array(capacity))
    this.valueBranch = grown(this.valueBranch, new Uint8Array(capacity))
    this.valueDoubles = grown(this.valueDoubles, new Float64Array(capacity))
    this.valueWords = new Int32Array(this.valueDoubles.buffer)
  }

  /** Notes where the tags start, then skips them. */
  skipTags(reader: AvroReader): void {
    this.tagsAt = reader.pos
    for (let count = reader.blockCount(); count !== 0; count = reader.blockCount()) {
      for (let i = 0; i < 2 * count; i++) skipString(reader)
    }
  }
}

function grown<T extends Int32Array | Uint8Array | Float64Array>(from: T, to: T): T {
  to.set(from as ArrayLike<number>)
  return to
}

const wordScratch = new Int32Array(2)
const int64Scratch = new BigInt64Array(wordScratch.buffer)

function wordsToBigInt(words: Int32Array, slot: number): bigint {
  wordScratch[0] = words[2 * slot]!
  wordScratch[1] = words[2 * slot + 1]!
  return int64Scratch[0]!
}

function skipString(reader: AvroReader): void {
  const length = reader.int()
  if (length < 0 || reader.pos + length > reader.end) {
    throw length < 0 ? new SchemaError(SchemaErrorCode.DECODE, `malformed Avro string: length ${length}`) : new SchemaError(SchemaErrorCode.DECODE, 'truncated Avro data: a string runs past the end')
  }
  reader.pos += length
}

function readTags(reader: AvroReader): Tag[] {
  const tags: Tag[] = []
  for (let count = reader.blockCount(); count !== 0; count = reader.blockCount()) {
    for (let i = 0; i < count; i++) tags.push({ key: reader.name(), value: reader.name() })
  }
  return tags
}

/** Whether point p's time (64-bit words in `words`) is after point p - 1's. */
function timeAfter(words: Int32Array, p: number): boolean {
  const high = words[2 * p + HIGH_WORD]!
  const previousHigh = words[2 * p - 2 + HIGH_WORD]!
  return high > previousHigh || (high === previousHigh && words[2 * p + LOW_WORD]! >>> 0 > words[2 * p - 2 + LOW_WORD]! >>> 0)
}

/**
 * An Avro long at the reader's position into words 2 * slot + LOW_WORD / HIGH_WORD of `words`,
 * as AvroReader.longWords reads it, a one-byte value (the common small integer) inline.
 */
function readLongWords(reader: AvroReader, words: Int32Array, slot: number): void {
  const buf = reader.buf
  const pos = reader.pos
  if (pos < reader.end && buf[pos]! < 0x80) { // -64..63: one byte (small integer fields)
    const byte = buf[pos]!
    const sign = -(byte & 1)
    words[2 * slot + LOW_WORD] = (byte >>> 1) ^ sign
    words[2 * slot + HIGH_WORD] = sign
    reader.pos = pos + 1
    return
  }
  if (pos + 10 > reader.end || !readLongWordsUnrolled(reader, words, slot)) reader.longWords(words, 2 * slot)
}

/**
 * AvroReader.longWords for a varint with all 10 bytes it may take in the buffer (nanosecond times
 * take 9): the 7-bit groups gathered without a shift test per byte. False, the reader untouched,
 * when the varint runs past 10 bytes or past 64 bits (longWords then throws its error).
 */
function readLongWordsUnrolled(reader: AvroReader, words: Int32Array, slot: number): boolean {
  const buf = reader.buf
  let pos = reader.pos
  let byte = buf[pos++]!
  let low = byte & 0x7f
  let high = 0
  for (let shift = 7; byte >= 0x80 && shift < 28; shift += 7) {
    byte = buf[pos++]!
    low |= (byte & 0x7f) << shift
  }
  if (byte >= 0x80) { // bits 28-34: 4 into low, 3 into high
    byte = buf[pos++]!
    low |= (byte & 0x7f) << 28
    high = (byte & 0x7f) >>> 4
    for (let shift = 3; byte >= 0x80 && shift < 32; shift += 7) {
      byte = buf[pos++]!
      high |= (byte & 0x7f) << shift
    }
    if (byte >= 0x80 || (pos - reader.pos === 10 && byte > 1)) return false
  }
  reader.pos = pos
  const sign = -(low & 1)
  words[2 * slot + LOW_WORD] = ((low >>> 1) | (high << 31)) ^ sign
  words[2 * slot + HIGH_WORD] = (high >>> 1) ^ sign
  return true
}

/**
 * The slot in `into.names` of the field name at the reader's position. Points of an entry list
 * their fields in the same order, so the bytes of the name at field position `guess` of the first
 * point that had it (length varint included) are compared with the bytes here first: equal bytes
 * are the same string. Anything else decodes the name and looks it up.
 */
function readNameSlot(reader: AvroReader, into: ChangelogColumns, guess: number): number {
  const buf = reader.buf
  const pos = reader.pos
  const names = into.names
  if (guess < names.length) {
    const from = into.nameAt[guess]!
    if (from >= 0) {
      const size = 1 + (buf[from]! >>> 1) // a one-byte length varint: recorded only so
      if (pos + size <= reader.end && sameBytes(into.view, pos, from, size)) {
        reader.pos = pos + size
        return guess
      }
    }
  }
  const name = reader.name()
  if (guess < names.length && names[guess] === name) return guess
  const at = names.indexOf(name)
  if (at >= 0) return at
  names.push(name)
  into.nameAt.push(buf[pos]! < 0x80 ? pos : -1)
  return names.length - 1
}

/**
 * Whether view's `size` bytes at `a` and at `b` are equal, compared 4 at a time (the last 4
 * overlapping the ones before when `size` is not a multiple of 4).
 */
function sameBytes(view: DataView<ArrayBufferLike>, a: number, b: number, size: number): boolean {
  if (size < 4) {
    for (let i = 0; i < size; i++) if (view.getUint8(a + i) !== view.getUint8(b + i)) return false
    return true
  }
  for (let i = 0; i < size - 4; i += 4) if (view.getInt32(a + i) !== view.getInt32(b + i)) return false
  return view.getInt32(a + size - 4) === view.getInt32(b + size - 4)
}

/** AvroReader.blockCount with a one-byte count (a point's fields, an entry's points) read inline. */
function readBlockCount(reader: AvroReader): number {
  const pos = reader.pos
  const byte = pos < reader.end ? reader.buf[pos]! : 0x80
  // Anything else (longer, negative: a byte size follows; too many for the bytes left) takes blockCount, its checks and errors.
  if (byte >= 0x80 || (byte & 1) !== 0 || byte >>> 1 > reader.end - pos - 1) return reader.blockCount()
  reader.pos = pos + 1
  return byte >>> 1
}

/** An Avro int at the reader's position that is most often one byte (union branches). */
function readSmallInt(reader: AvroReader): number {
  const pos = reader.pos
  const byte = pos < reader.end ? reader.buf[pos]! : 0x80
  if (byte >= 0x80) return reader.int()
  reader.pos = pos + 1
  return (byte >>> 1) ^ -(byte & 1)
}

/**
 * Whether the bytes at the reader's position repeat the name and branch of point 0's field at
 * position `field` (then the reader moves past them): the same name slot and branch as there.
 */
function sameAsPointZero(reader: AvroReader, into: ChangelogColumns, field: number): boolean {
  const pos = reader.pos
  const size = into.fieldBytes[field]!
  if (pos + size > reader.end || !sameBytes(into.view, pos, into.fieldAt[field]!, size)) return false
  reader.pos = pos + size
  return true
}

/**
 * The common point of a regular entry: its fields repeat point 0's names and branches in order.
 * Reads them as readFieldsInto's loop does (the same values, in the same arrays), with the arrays in
 * locals and a one-byte long inline, while they match point 0's and are longs or doubles; returns
 * how many it read, the reader after them. The loop takes any other field from there.
 */
function readPointZeroFields(reader: AvroReader, into: ChangelogColumns, point: number, count: number): number {
  const { buf, end } = reader
  const { view, fieldAt, fieldBytes, valuePoint, valueName, valueBranch, valueWords, valueDoubles } = into
  let pos = reader.pos
  let k = into.valueCount
  let field = 0
  for (; field < count; field++) {
    const size = fieldBytes[field]!
    if (pos + size > end || !sameBytes(view, pos, fieldAt[field]!, size)) break
    const branch = valueBranch[field]!
    const at = pos + size
    if (branch === FieldBranch.LONG) {
      if (at < end && buf[at]! < 0x80) { // -64..63: one byte, as readLongWords reads it
        const byte = buf[at]!
        const sign = -(byte & 1)
        valueWords[2 * k + LOW_WORD] = (byte >>> 1) ^ sign
        valueWords[2 * k + HIGH_WORD] = sign
        pos = at + 1
      } else {
        reader.pos = at
        readLongWords(reader, valueWords, k)
        pos = reader.pos
      }
    } else if (branch === FieldBranch.DOUBLE && at + 8 <= end) {
      valueDoubles[k] = view.getFloat64(at, true)
      pos = at + 8
    } else {
      break
    }
    valuePoint[k] = point
    valueName[k] = valueName[field]!
    valueBranch[k] = branch
    k++
  }
  reader.pos = pos
  into.valueCount = k
  return field
}

function readFieldsInto(reader: AvroReader, into: ChangelogColumns, point: number): void {
  let field = 0
  // Points of an entry mostly list point 0's fields in its order: each field's name and branch
  // bytes are compared with point 0's at that position at once (value `field` is point 0's there).
  const pointZeroFields = into.fieldAt.length
  for (let count = readBlockCount(reader); count !== 0; count = readBlockCount(reader)) {
    into.reserveValues(count)
    let i = 0
    if (field === 0 && point > 0 && into.regular && count === pointZeroFields) {
      i = readPointZeroFields(reader, into, point, count)
      field = i
    }
    for (; i < count; i++, field++) {
      const k = into.valueCount
      let slot: number
      let branch: number
      if (field < pointZeroFields && sameAsPointZero(reader, into, field)) {
        slot = into.valueName[field]!
        branch = into.valueBranch[field]!
      } else {
        const at = reader.pos
        slot = readNameSlot(reader, into, field)
        branch = readSmallInt(reader)
        if (point === 0) {
          into.fieldAt.push(at)
          into.fieldBytes.push(reader.pos - at)
        }
        // A regular entry repeats point 0's name and branch at every field position.
        if (slot !== field || (point > 0 && branch !== into.valueBranch[field])) into.regular = false
      }
      into.valuePoint[k] = point
      into.valueName[k] = slot
      switch (branch) {
        case FieldBranch.LONG: readLongWords(reader, into.valueWords, k); break
        case FieldBranch.DOUBLE: into.valueDoubles[k] = reader.double(); break
        case FieldBranch.UNSIGNED: {
          if (reader.pos + 8 > reader.end) throw new SchemaError(SchemaErrorCode.DECODE, 'truncated Avro data: a fixed(8) runs past the end')
          into.valueWords[2 * k + HIGH_WORD] = reader.buf.readInt32BE(reader.pos)
          into.valueWords[2 * k + LOW_WORD] = reader.buf.readInt32BE(reader.pos + 4)
          reader.pos += 8
          break
        }
        case FieldBranch.STRING: into.valueStrings[k] = reader.string(); break
        case FieldBranch.BOOLEAN: into.valueDoubles[k] = reader.boolean() ? 1 : 0; break
        default: throw new SchemaError(SchemaErrorCode.DECODE, `invalid union index ${branch} for a field value (0-4)`)
      }
      into.valueBranch[k] = branch
      into.valueCount = k + 1
    }
  }
}

/**
 * Decodes a ChangelogEntry payload (without the Confluent header) into `into`, which is reset
 * first; accepts and refuses exactly what decodeChangelogEntry does. Returns `into`.
 */
export function decodeChangelogColumns(payload: Buffer, into: ChangelogColumns): ChangelogColumns {
  into.reset(payload)
  const reader = new AvroReader(payload)
  into.ingestPartition = reader.int()
  into.ingestOffset = reader.long()
  const upsert = readBranch(reader, RECORD, 'upsert')
  if (upsert) {
    into.tenant = reader.name()
    into.database = reader.name()
    into.measurement = reader.name()
    into.seriesKey = reader.string()
    into.skipTags(reader)
    for (let count = readBlockCount(reader); count !== 0; count = readBlockCount(reader)) {
      into.reservePoints(into.pointCount + count)
      for (let i = 0; i < count; i++) {
        const point = into.pointCount++
        readLongWords(reader, into.timeWords, point)
        if (point > 0 && !timeAfter(into.timeWords, point)) into.timesAscending = false
        readFieldsInto(reader, into, point)
      }
    }
    // With every value at its field position (checked per value), this count leaves each point all names.
    if (into.valueCount !== into.pointCount * into.names.length) into.regular = false
    into.pointsIn = reader.int()
  }
  const command = readOptionalCommandToEnd(reader, payload, RECORD)
  if (upsert === (command !== null)) {
    throw new SchemaError(SchemaErrorCode.DECODE, `sluice.ChangelogEntry holds ${upsert ? 'both an upsert and a command' : 'neither upsert nor command'}; exactly one is allowed`)
  }
  into.command = command
  return into
}
