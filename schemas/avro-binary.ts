// Avro binary encoding by hand, for the hot records: a growable writer and a bounds-checked reader
// of the primitives (zigzag varints, exact 64-bit longs as bigint, IEEE doubles, length-prefixed
// UTF-8, the 8-byte sluice.Uint64). Byte layout per the Avro 1.11 specification, "Binary encoding":
//   int, long   zigzag, then base-128 varint, low group first (at most 5 / 10 bytes)
//   double      8 bytes, little-endian IEEE 754
//   boolean     1 byte, 0 or 1
//   string      long byte length, then UTF-8 bytes
//   array       blocks: long count (negative: |count| items follow a long byte size), ends with 0
//   union       long branch index, then the branch's value
// A 64-bit long crosses between bigint and two uint32 words through a BigInt64Array, so the
// varint loop runs on 32-bit integers and creates no intermediate bigints.

import { SchemaError, SchemaErrorCode } from './errors.ts'
import { INT64_MAX, INT64_MIN, UINT64_MAX } from './avro-types.ts'
import { schemaLimits } from './limits.ts'
import { LITTLE_ENDIAN, LOW_WORD, HIGH_WORD } from '../lib/bytes/endianness.ts'

const int64Scratch = new BigInt64Array(1)
const wordScratch = new Uint32Array(int64Scratch.buffer)
const float64Scratch = new Float64Array(1)
const float64Bytes = new Uint8Array(float64Scratch.buffer)

/** Strings name() interns: ASCII, at most this long, in a table of INTERN_SLOTS (a power of 2) entries. */
const INTERN_MAX_BYTES = 64
const INTERN_SLOTS = 1024
const internTable: Array<string | undefined> = new Array<string | undefined>(INTERN_SLOTS).fill(undefined)

/** Longest string copied by hand; its length varint takes at most 2 bytes (< 8192). Longer: native write. */
const HAND_COPY_MAX_CHARS = 256

/**
 * Writes the Avro long whose two's-complement 32-bit words are (low, high) at `pos` of `buf`, which
 * has room for 10 bytes there; returns the position after it. AvroWriter.longWords, for a caller
 * that made room for several values at once.
 */
export function putLongWords(buf: Uint8Array, pos: number, low: number, high: number): number {
  const sign = high >> 31 // -1 for negative values, else 0
  let zigzagLow = ((low << 1) ^ sign) >>> 0
  let zigzagHigh = (((high << 1) | (low >>> 31)) ^ sign) >>> 0
  while (zigzagHigh !== 0 || zigzagLow > 0x7f) {
    buf[pos++] = (zigzagLow & 0x7f) | 0x80
    zigzagLow = ((zigzagLow >>> 7) | (zigzagHigh << 25)) >>> 0
    zigzagHigh >>>= 7
  }
  buf[pos++] = zigzagLow
  return pos
}

export class AvroWriter {
  buf: Buffer
  /** A view of buf, for writes of whole words (a byte loop is several times slower for more than a few bytes). */
  view: DataView
  pos = 0
  private readonly maxBytes: number

  constructor(initialBytes = 64 * 1024, maxBytes = schemaLimits.maxEncodedRecordBytes) {
    this.buf = Buffer.allocUnsafe(initialBytes)
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength)
    this.maxBytes = maxBytes
  }

  reset(): void {
    this.pos = 0
  }

  /** Makes room for `bytes` more bytes. */
  ensure(bytes: number): void {
    const needed = this.pos + bytes
    if (needed <= this.buf.length) return
    if (needed > this.maxBytes) {
      throw new SchemaError(SchemaErrorCode.LIMIT_EXCEEDED, `encoded record exceeds maxEncodedRecordBytes (${this.maxBytes} bytes; needed ${needed})`)
    }
    const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(needed, this.buf.length * 2)))
    this.buf.copy(grown, 0, 0, this.pos)
    this.buf = grown
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.byteLength)
  }

  /** A copy of the bytes written, sized exactly (the writer's buffer is reused). */
  toBuffer(): Buffer {
    const out = Buffer.allocUnsafe(this.pos)
    out.set(this.buf.subarray(0, this.pos))
    return out
  }

  /** An Avro int (also array counts, lengths and union indexes); `value` must be a 32-bit integer. */
  int(value: number): void {
    this.ensure(5)
    let zigzag = ((value << 1) ^ (value >> 31)) >>> 0
    const buf = this.buf
    let pos = this.pos
    while (zigzag > 0x7f) {
      buf[pos++] = (zigzag & 0x7f) | 0x80
      zigzag >>>= 7
    }
    buf[pos++] = zigzag
    this.pos = pos
  }

  /** An Avro long from a bigint in [-2^63, 2^63 - 1]; throws ENCODE outside it. */
  long(value: bigint): void {
    if (value < INT64_MIN || value > INT64_MAX) {
      throw new SchemaError(SchemaErrorCode.ENCODE, `long out of the signed 64-bit range: ${value}`)
    }
    int64Scratch[0] = value
    this.longWords(wordScratch[LOW_WORD]!, wordScratch[HIGH_WORD]!)
  }

  /** An Avro long given as the two's-complement 32-bit words of a signed 64-bit integer: no bigint. */
  longWords(low: number, high: number): void {
    this.ensure(10)
    this.pos = putLongWords(this.buf, this.pos, low, high)
  }

  double(value: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, value, true)
    this.pos += 8
  }

  boolean(value: boolean): void {
    this.ensure(1)
    this.buf[this.pos++] = value ? 1 : 0
  }

  string(value: string): void {
    const length = value.length
    this.ensure(5 + 3 * length)
    if (length <= HAND_COPY_MAX_CHARS) {
      // Copy ASCII by hand behind room for the length (ASCII: bytes = chars), cheaper than two native
      // calls for the short strings records are made of; the first non-ASCII char falls through.
      const buf = this.buf
      const start = this.pos + (length < 64 ? 1 : 2)
      let i = 0
      while (i < length) {
        const code = value.charCodeAt(i)
        if (code > 0x7f) break
        buf[start + i++] = code
      }
      if (i === length) {
        this.int(length)
        this.pos += length
        return
      }
    }
    const bytes = Buffer.byteLength(value, 'utf8')
    this.int(bytes)
    this.pos += this.buf.write(value, this.pos, 'utf8')
  }

  /** sluice.Uint64: 8 bytes, big-endian. */
  uint64(value: bigint): void {
    if (value < 0n || value > UINT64_MAX) {
      throw new SchemaError(SchemaErrorCode.ENCODE, `unsigned value out of the 64-bit range: ${value}`)
    }
    this.ensure(8)
    this.buf.writeBigUInt64BE(value, this.pos)
    this.pos += 8
  }

  /** Raw bytes (an already encoded value). */
  bytes(value: Buffer): void {
    this.ensure(value.length)
    value.copy(this.buf, this.pos)
    this.pos += value.length
  }
}

function truncated(what: string): SchemaError {
  return new SchemaError(SchemaErrorCode.DECODE, `truncated Avro data: ${what} runs past the end`)
}

export class AvroReader {
  readonly buf: Buffer
  pos: number
  readonly end: number

  constructor(buf: Buffer, pos = 0, end = buf.length) {
    this.buf = buf
    this.pos = pos
    this.end = end
  }

  /** An Avro int; rejects varints longer than 5 bytes or outside the 32-bit range. */
  int(): number {
    const buf = this.buf
    let pos = this.pos
    let result = 0
    let shift = 0
    let byte: number
    do {
      if (pos >= this.end) throw truncated('an int')
      byte = buf[pos++]!
      result += (byte & 0x7f) * 2 ** shift
      shift += 7
    } while (byte & 0x80 && shift < 35)
    if (byte & 0x80 || result > 0xffffffff) {
      throw new SchemaError(SchemaErrorCode.DECODE, 'malformed Avro int: more than 32 bits')
    }
    this.pos = pos
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2
  }

  /** An Avro long, exact, as a bigint. */
  long(): bigint {
    this.longWords(wordScratch, 0)
    return int64Scratch[0]!
  }

  /**
   * An Avro long, exact, as the two 32-bit words of its 64 bits at words[at..at+1] in the
   * platform's order (an Int32Array or Uint32Array over a BigInt64Array reads back the value): no
   * bigint is made.
   */
  longWords(words: Int32Array | Uint32Array, at: number): void {
    const buf = this.buf
    let pos = this.pos
    let low = 0
    let high = 0
    let shift = 0
    let byte: number
    do {
      if (pos >= this.end) throw truncated('a long')
      byte = buf[pos++]!
      const bits = byte & 0x7f
      if (shift < 28) low |= bits << shift
      else if (shift === 28) {
        low |= bits << 28
        high |= bits >>> 4
      } else high |= bits << (shift - 32)
      shift += 7
    } while (byte & 0x80 && shift < 70)
    if (byte & 0x80 || (shift === 70 && byte > 1)) {
      throw new SchemaError(SchemaErrorCode.DECODE, 'malformed Avro long: more than 64 bits')
    }
    this.pos = pos
    // Undo zigzag on the 64-bit value (high, low).
    const sign = -(low & 1)
    words[at + LOW_WORD] = ((low >>> 1) | (high << 31)) ^ sign
    words[at + HIGH_WORD] = (high >>> 1) ^ sign
  }

  double(): number {
    if (this.pos + 8 > this.end) throw truncated('a double')
    const buf = this.buf
    const pos = this.pos
    if (LITTLE_ENDIAN) {
      for (let i = 0; i < 8; i++) float64Bytes[i] = buf[pos + i]!
    } else {
      for (let i = 0; i < 8; i++) float64Bytes[7 - i] = buf[pos + i]!
    }
    this.pos = pos + 8
    return float64Scratch[0]!
  }

  boolean(): boolean {
    if (this.pos >= this.end) throw truncated('a boolean')
    const byte = this.buf[this.pos++]!
    if (byte > 1) throw new SchemaError(SchemaErrorCode.DECODE, `malformed Avro boolean: byte ${byte}`)
    return byte === 1
  }

  string(): string {
    const length = this.int()
    if (length < 0 || this.pos + length > this.end) {
      throw length < 0 ? new SchemaError(SchemaErrorCode.DECODE, `malformed Avro string: length ${length}`) : truncated('a string')
    }
    const start = this.pos
    this.pos = start + length
    return this.buf.toString('utf8', start, start + length)
  }

  /**
   * A string that likely repeats (field names, tag keys): short ASCII strings come from a small
   * table keyed by a hash of their bytes, saving a native decode per occurrence.
   */
  name(): string {
    const length = this.int()
    if (length < 0 || this.pos + length > this.end) {
      throw length < 0 ? new SchemaError(SchemaErrorCode.DECODE, `malformed Avro string: length ${length}`) : truncated('a string')
    }
    const buf = this.buf
    const start = this.pos
    this.pos = start + length
    if (length > INTERN_MAX_BYTES) return buf.toString('utf8', start, start + length)
    let hash = length
    let ascii = 0
    for (let i = start; i < start + length; i++) {
      const byte = buf[i]!
      ascii |= byte
      hash = Math.imul(hash ^ byte, 0x01000193)
    }
    if (ascii > 0x7f) return buf.toString('utf8', start, start + length)
    const slot = (hash >>> 0) & (INTERN_SLOTS - 1)
    const cached = internTable[slot]
    if (cached !== undefined && cached.length === length) {
      let same = true
      for (let i = 0; i < length; i++) {
        if (cached.charCodeAt(i) !== buf[start + i]) {
          same = false
          break
        }
      }
      if (same) return cached
    }
    const decoded = buf.toString('latin1', start, start + length)
    internTable[slot] = decoded
    return decoded
  }

  uint64(): bigint {
    if (this.pos + 8 > this.end) throw truncated('a fixed(8)')
    const value = this.buf.readBigUInt64BE(this.pos)
    this.pos += 8
    return value
  }

  /**
   * The item count of the next array block (0 ends the array). A negative count is followed by the
   * block's byte size, which is skipped. Every item of Sluice's arrays takes at least one byte, so a
   * count above the bytes left is corrupt data, not a reason to allocate.
   */
  blockCount(): number {
    let count = this.int()
    if (count < 0) {
      count = -count
      this.long()
    }
    if (count > this.end - this.pos) {
      throw new SchemaError(SchemaErrorCode.DECODE, `malformed Avro array: block of ${count} items with ${this.end - this.pos} bytes left`)
    }
    return count
  }
}
