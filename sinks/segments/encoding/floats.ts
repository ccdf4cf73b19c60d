// Gorilla-style XOR compression of float64 columns (Pelkonen et al., VLDB 2015), bit-packed
// most-significant bit first. Each value is XORed with the one before, on its two uint32 halves:
//   '0'                         same value
//   '1' '0' <meaningful bits>   the XOR fits the previous window of leading/trailing zeros
//   '1' '1' <6 bits leading zeros> <6 bits (meaningful length − 1)> <meaningful bits>
// The first value is 64 raw bits. The bit stream is padded with zeros to a whole byte.

import { ByteWriter, ByteReader } from './bytes.ts'

class BitWriter {
  private current = 0
  private used = 0

  constructor(private readonly out: ByteWriter) {}

  /** Writes the low `bitCount` bits of value (0 ≤ bitCount ≤ 32), most significant first. */
  bits(value: number, bitCount: number): void {
    while (bitCount > 0) {
      const free = 8 - this.used
      const take = free < bitCount ? free : bitCount
      const chunk = (value >>> (bitCount - take)) & ((1 << take) - 1)
      this.current |= chunk << (free - take)
      this.used += take
      bitCount -= take
      if (this.used === 8) {
        this.out.byte(this.current)
        this.current = 0
        this.used = 0
      }
    }
  }

  finish(): void {
    if (this.used > 0) this.out.byte(this.current)
    this.current = 0
    this.used = 0
  }
}

class BitReader {
  private bitOffset = 0

  constructor(private readonly input: ByteReader) {}

  bits(bitCount: number): number {
    let result = 0
    const bytes = this.input.bytes
    while (bitCount > 0) {
      if (this.input.offset >= this.input.end) this.input.fail('float bits past the end')
      const available = 8 - this.bitOffset
      const take = available < bitCount ? available : bitCount
      const chunk = (bytes[this.input.offset]! >>> (available - take)) & ((1 << take) - 1)
      result = result * (1 << take) + chunk
      this.bitOffset += take
      bitCount -= take
      if (this.bitOffset === 8) {
        this.bitOffset = 0
        this.input.offset++
      }
    }
    return result
  }

  finish(): void {
    if (this.bitOffset > 0) this.input.offset++
    this.bitOffset = 0
  }
}

function trailingZeros32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x)
}

export function encodeFloats(column: Float64Array, count: number, out: ByteWriter): void {
  if (count === 0) return
  const words = new Uint32Array(column.buffer, column.byteOffset, count * 2)
  const bits = new BitWriter(out)
  let previousLow = words[0]!
  let previousHigh = words[1]!
  bits.bits(previousHigh, 32)
  bits.bits(previousLow, 32)
  let windowLeading = -1
  let windowTrailing = 0
  for (let i = 1; i < count; i++) {
    const low = words[2 * i]!
    const high = words[2 * i + 1]!
    const xorLow = (low ^ previousLow) >>> 0
    const xorHigh = (high ^ previousHigh) >>> 0
    previousLow = low
    previousHigh = high
    if (xorLow === 0 && xorHigh === 0) {
      bits.bits(0, 1)
      continue
    }
    const leading = xorHigh !== 0 ? Math.clz32(xorHigh) : 32 + Math.clz32(xorLow)
    const trailing = xorLow !== 0 ? trailingZeros32(xorLow) : 32 + trailingZeros32(xorHigh)
    if (windowLeading >= 0 && leading >= windowLeading && trailing >= windowTrailing) {
      bits.bits(0b10, 2)
      writeMeaningful(bits, xorHigh, xorLow, windowTrailing, 64 - windowLeading - windowTrailing)
      continue
    }
    windowLeading = leading
    windowTrailing = trailing
    const length = 64 - leading - trailing
    bits.bits(0b11, 2)
    bits.bits(leading, 6)
    bits.bits(length - 1, 6)
    writeMeaningful(bits, xorHigh, xorLow, trailing, length)
  }
  bits.finish()
}

/** Writes bits [trailing, trailing + length) of the 64-bit (high, low), most significant first. */
function writeMeaningful(bits: BitWriter, high: number, low: number, trailing: number, length: number): void {
  let shiftedLow: number
  let shiftedHigh: number
  if (trailing >= 32) {
    shiftedLow = high >>> (trailing - 32)
    shiftedHigh = 0
  } else if (trailing === 0) {
    shiftedLow = low
    shiftedHigh = high
  } else {
    shiftedLow = ((low >>> trailing) | (high << (32 - trailing))) >>> 0
    shiftedHigh = high >>> trailing
  }
  if (length > 32) {
    bits.bits(shiftedHigh, length - 32)
    bits.bits(shiftedLow, 32)
  } else {
    bits.bits(shiftedLow, length)
  }
}

/** Decodes `count` values (a prefix of the block when not `whole`: then the stream's end is not sought). */
export function decodeFloats(input: ByteReader, count: number, column: Float64Array, whole = true): void {
  if (count === 0) return
  const words = new Uint32Array(column.buffer, column.byteOffset, count * 2)
  const bits = new BitReader(input)
  let high = bits.bits(32)
  let low = bits.bits(32)
  words[0] = low
  words[1] = high
  let windowLeading = 0
  let windowTrailing = 0
  for (let i = 1; i < count; i++) {
    if (bits.bits(1) === 1) {
      if (bits.bits(1) === 1) {
        windowLeading = bits.bits(6)
        windowTrailing = 64 - windowLeading - (bits.bits(6) + 1)
        if (windowTrailing < 0) input.fail('float window longer than 64 bits')
      }
      const length = 64 - windowLeading - windowTrailing
      let meaningfulHigh = 0
      let meaningfulLow: number
      if (length > 32) {
        meaningfulHigh = bits.bits(length - 32)
        meaningfulLow = bits.bits(32)
      } else {
        meaningfulLow = bits.bits(length)
      }
      let xorHigh: number
      let xorLow: number
      if (windowTrailing >= 32) {
        xorHigh = meaningfulLow << (windowTrailing - 32)
        xorLow = 0
      } else if (windowTrailing === 0) {
        xorHigh = meaningfulHigh
        xorLow = meaningfulLow
      } else {
        xorHigh = (meaningfulHigh << windowTrailing) | (meaningfulLow >>> (32 - windowTrailing))
        xorLow = meaningfulLow << windowTrailing
      }
      high = (high ^ xorHigh) >>> 0
      low = (low ^ xorLow) >>> 0
    }
    words[2 * i] = low
    words[2 * i + 1] = high
  }
  if (whole) bits.finish()
}
