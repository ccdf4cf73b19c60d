// A block: the points of one (series, field), times strictly increasing, as columns. encodeBlock
// writes the uncompressed payload, sealBlock compresses it with LZ4 and checksums the stored bytes.
// Payload layout (docs/segment-format.md has it byte by byte):
//   u8 field type | varint count | varint timesByteLength | times (delta-of-delta) | values
// Payloads of format-2 segments may lean on the block's index entry (`indexed`): regular times are
// then implied by its time range and count, and an integer block's first value is its `first` stat.

import { compressSync, uncompressSync } from 'lz4-napi'
import { crc32c } from '../../../lib/checksum/crc32c.ts'
import { ByteReader, ByteWriter } from './bytes.ts'
import { decodeBooleans, encodeBooleans } from './booleans.ts'
import { decodeFloats, encodeFloats } from './floats.ts'
import { decodeInt64Deltas, encodeInt64Deltas } from './int64-delta.ts'
import { decodeStrings, encodeStrings } from './strings.ts'
import {
  applyDeltas, decimalScale, decodeDeltaOfDeltaRuns, decodeSignedSequence, encodeDeltaOfDeltaRuns, encodeSignedSequence, powerOfTen, smallDeltas,
} from './packed.ts'
import { LOW_WORD, HIGH_WORD } from '../../../lib/bytes/endianness.ts'

/** The first byte of a block's times section and of its values section (numeric types). */
export const TimesMode = { DELTA_OF_DELTA: 0, DELTA_OF_DELTA_RUNS: 1, REGULAR_FROM_INDEX: 2 } as const
export const IntegerMode = { DELTA_VARINT: 0, DELTA_PACKED: 1, DELTA_PACKED_FIRST_FROM_INDEX: 2 } as const
export const FloatMode = { XOR: 0, DECIMAL: 2 } as const

export const FieldType = {
  FLOAT: 1,
  INTEGER: 2,
  UNSIGNED: 3,
  BOOLEAN: 4,
  STRING: 5,
} as const

export type FieldTypeCode = (typeof FieldType)[keyof typeof FieldType]

export const FIELD_TYPE_NAMES: Record<FieldTypeCode, string> = {
  1: 'float', 2: 'integer', 3: 'unsigned', 4: 'boolean', 5: 'string',
}

export function isFieldTypeCode(value: number): value is FieldTypeCode {
  return value >= 1 && value <= 5 && Number.isInteger(value)
}

/** Values of one column: float64, int64, uint64, booleans as 0/1 bytes, or strings. */
export type ColumnValues = Float64Array | BigInt64Array | BigUint64Array | Uint8Array | string[]

/** Points of one (series, field): times strictly increasing, values[i] at times[i]. */
export interface Column {
  type: FieldTypeCode
  times: BigInt64Array
  values: ColumnValues
}

export function allocateValues(type: FieldTypeCode, count: number): ColumnValues {
  switch (type) {
    case FieldType.FLOAT: return new Float64Array(count)
    case FieldType.INTEGER: return new BigInt64Array(count)
    case FieldType.UNSIGNED: return new BigUint64Array(count)
    case FieldType.BOOLEAN: return new Uint8Array(count)
    case FieldType.STRING: return new Array<string>(count)
  }
}

/** values[start, end) without copying typed arrays (strings are copied). */
export function sliceValues(values: ColumnValues, start: number, end: number): ColumnValues {
  return Array.isArray(values) ? values.slice(start, end) : values.subarray(start, end)
}

export function sliceColumn(column: Column, start: number, end: number): Column {
  return { type: column.type, times: column.times.subarray(start, end), values: sliceValues(column.values, start, end) }
}

/** Times and values, as a column or a memtable's piece holds them. */
export interface ColumnArrays {
  times: BigInt64Array
  values: ColumnValues
}

/**
 * Copies the slices [bounds[2i], bounds[2i + 1]) of `from` one after another into `to` from position
 * `at` (typed arrays a slice at a time); returns the position after the last.
 */
export function copySlices(from: ColumnArrays, bounds: ArrayLike<number>, to: ColumnArrays, at: number): number {
  for (let b = 0; b < bounds.length; b += 2) {
    const start = bounds[b]!
    const end = bounds[b + 1]!
    to.times.set(from.times.subarray(start, end), at)
    if (Array.isArray(to.values)) for (let i = start; i < end; i++) to.values[at + i - start] = (from.values as string[])[i]!
    else (to.values as Float64Array).set((from.values as Float64Array).subarray(start, end), at)
    at += end - start
  }
  return at
}

/**
 * A block's index entry, as far as decoding needs it: its type and count are checked, and the
 * payload of a format-2 segment takes what it does not repeat (regular times, an integer block's
 * first value) from it.
 */
export interface IndexFacts {
  type: FieldTypeCode
  count: number
  minTimeNs: bigint
  maxTimeNs: bigint
  first: number | bigint | null
}

export interface EncodeOptions {
  /** The payload goes into a format-2 segment, whose index holds the block's IndexedFacts. */
  indexed?: boolean
}

export interface DecodeOptions {
  /** Decode the times only (the values column comes back empty). */
  timesOnly?: boolean
  /** The block's index entry; payloads written with `indexed` cannot be decoded without it. */
  entry?: IndexFacts
  /** Only points in [fromNs, toNs) are returned; values past toNs are not decoded. */
  fromNs?: bigint | null
  toNs?: bigint | null
}

/**
 * Scratch of encodeBlock and decodeBlock, reused from block to block (both are synchronous and
 * never nested): the times section before its length is known, and the deltas of times and then of
 * values. A typed array above 64 bytes is a separate allocation outside V8's heap; a flush encodes,
 * and a compaction decodes, tens of thousands of blocks.
 */
const timesScratch = new ByteWriter(4096)
let deltasScratch = new Float64Array(1024)

function scratchDeltas(count: number): Float64Array {
  if (deltasScratch.length < count) deltasScratch = new Float64Array(2 ** Math.ceil(Math.log2(count)))
  return deltasScratch
}

/** `count` deltas to decode into: a view of the scratch, valid until the next block. */
function decodedDeltas(count: number): Float64Array {
  return scratchDeltas(count).subarray(0, count)
}

/** `out` receives the payload, which is returned as a view of its bytes (a reused writer: copy it before the next block). */
export function encodeBlock(column: Column, out: ByteWriter = new ByteWriter(64 + column.times.length * 4), options: EncodeOptions = {}): Uint8Array {
  const count = column.times.length
  const indexed = options.indexed === true
  out.byte(column.type)
  out.varint(count)
  const times = timesScratch
  times.length = 0
  encodeTimes(column.times, times, indexed)
  out.varint(times.length)
  out.raw(times.result())
  const values = column.values
  switch (column.type) {
    case FieldType.FLOAT: encodeFloatValues(values as Float64Array, out); break
    case FieldType.INTEGER: case FieldType.UNSIGNED: encodeIntegerValues(values as BigInt64Array | BigUint64Array, count, out, indexed); break
    case FieldType.BOOLEAN: encodeBooleans(values as Uint8Array, count, out); break
    case FieldType.STRING: encodeStrings(values as string[], count, out); break
  }
  return out.result()
}

function encodeTimes(times: BigInt64Array, out: ByteWriter, indexed: boolean): void {
  const count = times.length
  const deltas = count > 1 ? smallDeltas(times, count, scratchDeltas(count)) : null
  if (indexed && (count === 1 || (deltas !== null && isConstant(deltas)))) {
    out.byte(TimesMode.REGULAR_FROM_INDEX)
    return
  }
  if (deltas !== null) {
    out.byte(TimesMode.DELTA_OF_DELTA_RUNS)
    const start = out.length
    out.raw(new Uint8Array(times.buffer, times.byteOffset, 8))
    if (encodeDeltaOfDeltaRuns(deltas, out)) return
    out.length = start - 1
  }
  out.byte(TimesMode.DELTA_OF_DELTA)
  encodeInt64Deltas(times, count, 2, out)
}

function isConstant(deltas: Float64Array): boolean {
  for (let i = 1; i < deltas.length; i++) if (deltas[i] !== deltas[0]) return false
  return true
}

function decodeTimes(input: ByteReader, times: BigInt64Array, indexed: IndexFacts | undefined): void {
  const mode = input.byte()
  if (mode === TimesMode.DELTA_OF_DELTA) return decodeInt64Deltas(input, times.length, 2, times)
  if (mode === TimesMode.REGULAR_FROM_INDEX) return regularTimes(input, times, indexed)
  if (mode !== TimesMode.DELTA_OF_DELTA_RUNS) input.fail(`unknown times mode ${mode}`)
  new Uint8Array(times.buffer, times.byteOffset, 8).set(input.take(8))
  const deltas = decodedDeltas(times.length - 1)
  decodeDeltaOfDeltaRuns(input, deltas)
  applyDeltas(times, deltas)
}

/** Evenly spaced times from the index's first to its last time. */
function regularTimes(input: ByteReader, times: BigInt64Array, indexed: IndexFacts | undefined): void {
  if (indexed === undefined) return input.fail('regular times need the block\'s index entry')
  const count = times.length
  times[0] = indexed.minTimeNs
  if (count === 1) {
    if (indexed.maxTimeNs !== indexed.minTimeNs) input.fail('one regular time, but a time range in the index')
    return
  }
  const span = indexed.maxTimeNs - indexed.minTimeNs
  const step = span / BigInt(count - 1)
  if (step <= 0n || step * BigInt(count - 1) !== span) input.fail(`index time range ${span} ns does not split into ${count - 1} equal steps`)
  if (step < 2n ** 47n) {
    applyDeltas(times, decodedDeltas(count - 1).fill(Number(step)))
    return
  }
  for (let i = 1; i < count; i++) times[i] = indexed.minTimeNs + BigInt(i) * step
}

function encodeIntegerValues(values: BigInt64Array | BigUint64Array, count: number, out: ByteWriter, indexed: boolean): void {
  const deltas = count > 1 ? smallDeltas(values, count, scratchDeltas(count)) : null
  if (deltas === null && !(indexed && count === 1)) {
    out.byte(IntegerMode.DELTA_VARINT)
    encodeInt64Deltas(values, count, 1, out)
    return
  }
  if (indexed) {
    out.byte(IntegerMode.DELTA_PACKED_FIRST_FROM_INDEX)
  } else {
    out.byte(IntegerMode.DELTA_PACKED)
    out.raw(new Uint8Array(values.buffer, values.byteOffset, 8))
  }
  encodeSignedSequence(deltas ?? new Float64Array(0), out)
}

/** Decodes the first `values.length` values of the block (all of them, or a prefix). */
function decodeIntegerValues(input: ByteReader, values: BigInt64Array | BigUint64Array, indexed: IndexFacts | undefined): void {
  const mode = input.byte()
  if (mode === IntegerMode.DELTA_VARINT) return decodeInt64Deltas(input, values.length, 1, values)
  if (mode === IntegerMode.DELTA_PACKED_FIRST_FROM_INDEX) {
    if (typeof indexed?.first !== 'bigint') return input.fail('an integer block whose first value is in the index, without it')
    if (values.length === 0) return
    values[0] = values instanceof BigUint64Array ? BigInt.asUintN(64, indexed.first) : BigInt.asIntN(64, indexed.first)
  } else {
    if (mode !== IntegerMode.DELTA_PACKED) input.fail(`unknown integer mode ${mode}`)
    const first = input.take(8)
    if (values.length === 0) return
    new Uint8Array(values.buffer, values.byteOffset, 8).set(first)
  }
  const deltas = decodedDeltas(values.length - 1)
  decodeSignedSequence(input, deltas)
  applyDeltas(values, deltas)
}

function encodeFloatValues(values: Float64Array, out: ByteWriter): void {
  const mantissas = new Float64Array(values.length)
  const scale = decimalScale(values, mantissas)
  if (scale === null) {
    out.byte(FloatMode.XOR)
    encodeFloats(values, values.length, out)
    return
  }
  out.byte(FloatMode.DECIMAL)
  out.byte(scale)
  out.zigzag(mantissas[0]!)
  const deltas = new Float64Array(values.length - 1)
  for (let i = 1; i < values.length; i++) deltas[i - 1] = mantissas[i]! - mantissas[i - 1]!
  encodeSignedSequence(deltas, out)
}

function decodeFloatValues(input: ByteReader, values: Float64Array, whole: boolean): void {
  const mode = input.byte()
  if (mode === FloatMode.XOR) return decodeFloats(input, values.length, values, whole)
  if (mode !== FloatMode.DECIMAL) input.fail(`unknown float mode ${mode}`)
  const scale = input.byte()
  if (scale > 9) input.fail(`decimal scale ${scale}`)
  const power = powerOfTen(scale)
  let mantissa = input.zigzagOrNaN()
  if (mantissa !== mantissa) input.fail('decimal mantissa out of range')
  const deltas = decodedDeltas(values.length - 1)
  decodeSignedSequence(input, deltas)
  values[0] = mantissa / power
  for (let i = 1; i < values.length; i++) {
    mantissa += deltas[i - 1]!
    values[i] = mantissa / power
  }
}

/**
 * Decodes a payload. Times are decoded whole (they locate the range); values only up to the last
 * point before `toNs`: delta and XOR codings are sequential, so the points before `fromNs` are
 * decoded but not returned. A whole decode also checks that no byte is left over.
 */
export function decodeBlock(payload: Uint8Array, options: DecodeOptions = {}): Column {
  const input = new ByteReader(payload)
  const type = input.byte()
  if (!isFieldTypeCode(type)) return input.fail(`unknown field type ${type}`)
  const count = input.size()
  if (count === 0) input.fail('empty block')
  const entry = options.entry
  if (entry !== undefined && (entry.count !== count || entry.type !== type)) {
    input.fail(`the payload holds ${count} points of type ${type}, the index says ${entry.count} of ${entry.type}`)
  }
  const timesByteLength = input.size()
  const timesEnd = input.offset + timesByteLength
  const times = new BigInt64Array(count)
  const timesInput = new ByteReader(payload, input.offset, timesEnd)
  decodeTimes(timesInput, times, options.entry)
  if (timesInput.offset !== timesEnd) timesInput.fail('trailing bytes in the times section')
  input.offset = timesEnd
  const start = options.fromNs == null ? 0 : lowerBound(times, options.fromNs)
  const end = options.toNs == null ? count : Math.max(start, lowerBound(times, options.toNs))
  if (options.timesOnly) return { type, times: times.subarray(start, end), values: allocateValues(type, 0) }
  const values = allocateValues(type, end)
  if (end === 0) return { type, times: times.subarray(0, 0), values }
  switch (type) {
    case FieldType.FLOAT: decodeFloatValues(input, values as Float64Array, end === count); break
    case FieldType.INTEGER: case FieldType.UNSIGNED: decodeIntegerValues(input, values as BigInt64Array | BigUint64Array, options.entry); break
    case FieldType.BOOLEAN: decodeBooleans(input, end, values as Uint8Array); break
    case FieldType.STRING: decodeStrings(input, end, values as string[], count); break
  }
  if (end === count && input.offset !== payload.length) input.fail(`${payload.length - input.offset} trailing bytes`)
  const column = { type, times: times.subarray(0, end), values }
  return start === 0 ? column : sliceColumn(column, start, end)
}

/** First index in [start, end) with times[i] ≥ timeNs (end when none). */
export function lowerBound(times: BigInt64Array, timeNs: bigint, start = 0, end = times.length): number {
  let low = start
  let high = end
  while (low < high) {
    const mid = (low + high) >>> 1
    if (times[mid]! < timeNs) low = mid + 1
    else high = mid
  }
  return low
}

export const BlockCodec = {
  /** Stored as is: LZ4 would not have made it smaller. */
  NONE: 0,
  /** lz4-napi block format (compressSync: 4-byte little-endian uncompressed size, then an LZ4 block). */
  LZ4: 1,
} as const

export type BlockCodecValue = (typeof BlockCodec)[keyof typeof BlockCodec]

export interface SealedBlock {
  stored: Uint8Array
  codec: BlockCodecValue
  rawLength: number
  crc32c: number
}

/** Payloads up to this many bytes are checked for a repeated 4-byte sequence before LZ4 is tried (repeatsFourBytes). */
const REPEAT_CHECK_MAX_BYTES = 4096
const REPEAT_TABLE_BITS = 13
/** Open addressing over the 4-byte words of one payload: a slot is filled when its stamp is the current payload's. */
const repeatWords = new Int32Array(1 << REPEAT_TABLE_BITS)
const repeatStamps = new Uint32Array(1 << REPEAT_TABLE_BITS)
let repeatStamp = 0

/**
 * Whether some 4 consecutive bytes of `payload` occur again at another position (overlaps count).
 * LZ4 encodes a match only for 4 equal bytes or more; without one its output is every byte as a
 * literal plus a token, and compressSync's 4-byte size before it: never smaller than the payload.
 * So a payload without a repeat is stored plain without calling LZ4, the codec it would have
 * chosen: the same bytes. Most flushed numeric blocks have none (bit-packed values), and one call
 * into lz4-napi costs a few microseconds even for a payload of 70 bytes.
 */
export function repeatsFourBytes(payload: Uint8Array): boolean {
  const length = payload.length
  if (length > REPEAT_CHECK_MAX_BYTES) return true
  if (length < 5) return false
  repeatStamp = (repeatStamp + 1) >>> 0
  if (repeatStamp === 0) { repeatStamps.fill(0); repeatStamp = 1 }
  const stamp = repeatStamp
  const mask = (1 << REPEAT_TABLE_BITS) - 1
  let word = (payload[0]! << 8) | (payload[1]! << 16) | (payload[2]! << 24)
  for (let i = 3; i < length; i++) {
    word = (word >>> 8) | (payload[i]! << 24)
    let slot = Math.imul(word, 0x9e3779b1) >>> (32 - REPEAT_TABLE_BITS)
    while (repeatStamps[slot] === stamp) {
      if (repeatWords[slot] === word) return true
      slot = (slot + 1) & mask
    }
    repeatStamps[slot] = stamp
    repeatWords[slot] = word
  }
  return false
}

export function sealBlock(payload: Uint8Array): SealedBlock {
  const compressed = repeatsFourBytes(payload) ? compressSync(Buffer.from(payload.buffer, payload.byteOffset, payload.length)) : null
  const useLz4 = compressed !== null && compressed.length < payload.length
  const stored = useLz4 ? compressed : payload
  return { stored, codec: useLz4 ? BlockCodec.LZ4 : BlockCodec.NONE, rawLength: payload.length, crc32c: crc32c(stored) }
}

/** The payload of stored bytes; throws a plain Error on a checksum or decompression failure. */
export function unsealBlock(stored: Uint8Array, codec: number, rawLength: number, expectedCrc32c: number): Uint8Array {
  const actual = crc32c(stored)
  if (actual !== expectedCrc32c) {
    throw new Error(`checksum mismatch: crc32c ${actual.toString(16)} ≠ ${expectedCrc32c.toString(16)} in the index`)
  }
  if (codec === BlockCodec.NONE) return stored
  if (codec !== BlockCodec.LZ4) throw new Error(`unknown block codec ${codec}`)
  const payload = uncompressSync(Buffer.from(stored.buffer, stored.byteOffset, stored.length))
  if (payload.length !== rawLength) throw new Error(`decompressed to ${payload.length} bytes, the index says ${rawLength}`)
  return payload
}

/** Pre-aggregates of a block, in the field's own type (strings have count only). */
export interface BlockStats {
  count: number
  minTimeNs: bigint
  maxTimeNs: bigint
  min: number | bigint | null
  max: number | bigint | null
  first: number | bigint | null
  last: number | bigint | null
  /** Sum as float64 (integers may round past 2^53); booleans: the number of trues; strings: 0. */
  sum: number
}

const TWO_POW_32 = 4294967296

export function computeStats(column: Column): BlockStats {
  const count = column.times.length
  const minTimeNs = column.times[0]!
  const maxTimeNs = column.times[count - 1]!
  const values = column.values
  // Each branch returns one literal of the same shape (no Object.assign): a flush computes this per block.
  if (column.type === FieldType.STRING) return { count, minTimeNs, maxTimeNs, min: null, max: null, first: null, last: null, sum: 0 }
  if (column.type === FieldType.FLOAT || column.type === FieldType.BOOLEAN) {
    const numbers = values as Float64Array | Uint8Array
    let min = numbers[0]!
    let max = numbers[0]!
    let sum = 0
    for (let i = 0; i < count; i++) {
      const v = numbers[i]!
      if (v < min || min !== min) min = v
      if (v > max || max !== max) max = v
      sum += v
    }
    return { count, minTimeNs, maxTimeNs, min, max, first: numbers[0]!, last: numbers[count - 1]!, sum }
  }
  // On the int32 words of the values, not a bigint per value (a flush computes this for every
  // block): min and max by (high word, unsigned low word), signed or not with the type; the sum
  // adds high * 2^32 + low, which rounds once, to exactly Number(value).
  const bigints = values as BigInt64Array | BigUint64Array
  const words = new Int32Array(bigints.buffer, bigints.byteOffset, 2 * count)
  const unsigned = column.type === FieldType.UNSIGNED
  let minAt = 0
  let maxAt = 0
  let minHigh = 0
  let minLow = 0
  let maxHigh = 0
  let maxLow = 0
  let sum = 0
  for (let i = 0; i < count; i++) {
    const low = words[2 * i + LOW_WORD]! >>> 0
    const high = unsigned ? words[2 * i + HIGH_WORD]! >>> 0 : words[2 * i + HIGH_WORD]!
    if (i === 0 || high < minHigh || (high === minHigh && low < minLow)) { minHigh = high; minLow = low; minAt = i }
    if (i === 0 || high > maxHigh || (high === maxHigh && low > maxLow)) { maxHigh = high; maxLow = low; maxAt = i }
    sum += high * TWO_POW_32 + low
  }
  return { count, minTimeNs, maxTimeNs, min: bigints[minAt]!, max: bigints[maxAt]!, first: bigints[0]!, last: bigints[count - 1]!, sum }
}
