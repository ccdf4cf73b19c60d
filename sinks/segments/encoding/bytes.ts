// A growable byte writer and a bounds-checked reader with LEB128 varints, the byte layer under every
// column codec. Varints hold zigzag-encoded 64-bit integers: a number while exact, a bigint beyond.

const TWO_POW_49 = 2 ** 49

export class ByteWriter {
  bytes: Uint8Array
  length = 0

  constructor(initialBytes = 1024) {
    this.bytes = new Uint8Array(initialBytes)
  }

  ensure(extraBytes: number): void {
    if (this.length + extraBytes <= this.bytes.length) return
    let size = this.bytes.length * 2
    while (size < this.length + extraBytes) size *= 2
    const grown = new Uint8Array(size)
    grown.set(this.bytes.subarray(0, this.length))
    this.bytes = grown
  }

  byte(value: number): void {
    this.ensure(1)
    this.bytes[this.length++] = value
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length)
    this.bytes.set(bytes, this.length)
    this.length += bytes.length
  }

  /** An unsigned integer 0 ≤ value < 2^53 as LEB128. */
  varint(value: number): void {
    this.ensure(8)
    const bytes = this.bytes
    while (value >= 128) {
      bytes[this.length++] = (value % 128) | 128
      value = Math.floor(value / 128)
    }
    bytes[this.length++] = value
  }

  /** An unsigned 64-bit bigint as LEB128 (at most 10 bytes). */
  varintBig(value: bigint): void {
    this.ensure(10)
    while (value >= 128n) {
      this.bytes[this.length++] = Number(value & 127n) | 128
      value >>= 7n
    }
    this.bytes[this.length++] = Number(value)
  }

  /** A signed integer with |value| < 2^51, zigzag then LEB128. */
  zigzag(value: number): void {
    this.varint(value >= 0 ? value * 2 : -value * 2 - 1)
  }

  /** A signed 64-bit bigint, zigzag then LEB128. */
  zigzagBig(value: bigint): void {
    this.varintBig(BigInt.asUintN(64, (value << 1n) ^ (value >> 63n)))
  }

  result(): Uint8Array {
    return this.bytes.subarray(0, this.length)
  }
}

export class ByteReader {
  offset: number

  constructor(readonly bytes: Uint8Array, offset = 0, readonly end = bytes.length) {
    this.offset = offset
  }

  fail(what: string): never {
    throw new RangeError(`truncated or invalid column data: ${what} at byte ${this.offset}`)
  }

  byte(): number {
    if (this.offset >= this.end) this.fail('byte past the end')
    return this.bytes[this.offset++]!
  }

  take(byteLength: number): Uint8Array {
    if (this.offset + byteLength > this.end) this.fail(`${byteLength} bytes past the end`)
    const out = this.bytes.subarray(this.offset, this.offset + byteLength)
    this.offset += byteLength
    return out
  }

  /**
   * A LEB128 varint: a number when it holds at most 49 bits (7 bytes), else -1 after which the
   * caller re-reads it with varintBig from `start`.
   */
  varint(): number {
    const bytes = this.bytes
    let result = 0
    let scale = 1
    for (let i = 0; i < 7; i++) {
      if (this.offset >= this.end) this.fail('varint past the end')
      const b = bytes[this.offset++]!
      result += (b & 127) * scale
      if (b < 128) return result
      scale *= 128
    }
    return -1
  }

  varintBig(): bigint {
    let result = 0n
    let shift = 0n
    for (let i = 0; i < 10; i++) {
      const b = this.byte()
      result |= BigInt(b & 127) << shift
      if (b < 128) return BigInt.asUintN(64, result)
      shift += 7n
    }
    return this.fail('varint longer than 10 bytes')
  }

  /** A zigzag varint as a number, or NaN when it does not fit 49 bits (then read zigzagBig). */
  zigzagOrNaN(): number {
    const start = this.offset
    const z = this.varint()
    if (z >= 0 && z < TWO_POW_49) return z % 2 === 0 ? z / 2 : -(z + 1) / 2
    this.offset = start
    return NaN
  }

  zigzagBig(): bigint {
    const z = this.varintBig()
    return BigInt.asIntN(64, (z >> 1n) ^ -(z & 1n))
  }

  /** An unsigned varint that must fit a number (lengths, counts, dictionary indexes). */
  size(): number {
    const value = this.varint()
    if (value < 0) this.fail('size varint too large')
    return value
  }
}
