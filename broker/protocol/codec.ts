// Byte-level reader and writer for the Kafka wire protocol: fixed-width big-endian integers,
// unsigned LEB128 varints (flexible versions), zigzag varints (inside records), strings, bytes,
// arrays and tagged-field sections. Every other protocol module builds on these two classes.

export class ProtocolDecodeError extends Error {
  readonly code = 'BROKER_ERR_DECODE' as const
}

export class Reader {
  offset: number

  constructor(readonly buffer: Buffer, offset = 0) {
    this.offset = offset
  }

  get remaining(): number {
    return this.buffer.length - this.offset
  }

  private need(byteCount: number): number {
    if (byteCount < 0 || this.offset + byteCount > this.buffer.length) {
      throw new ProtocolDecodeError(`truncated: need ${byteCount} bytes at ${this.offset}, have ${this.remaining}`)
    }
    const at = this.offset
    this.offset += byteCount
    return at
  }

  int8(): number { return this.buffer.readInt8(this.need(1)) }
  int16(): number { return this.buffer.readInt16BE(this.need(2)) }
  int32(): number { return this.buffer.readInt32BE(this.need(4)) }
  uint32(): number { return this.buffer.readUInt32BE(this.need(4)) }
  int64(): bigint { return this.buffer.readBigInt64BE(this.need(8)) }
  bool(): boolean { return this.int8() !== 0 }

  uvarint(): number {
    let value = 0
    let shift = 0
    for (;;) {
      const byte = this.buffer[this.need(1)]!
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return value
      shift += 7
      if (shift >= 35) throw new ProtocolDecodeError('uvarint longer than 5 bytes')
    }
  }

  /** Zigzag varint (record fields). */
  varint(): number {
    const raw = this.uvarint()
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2
  }

  /** Zigzag varlong (record timestamps). */
  varlong(): bigint {
    let raw = 0n
    let shift = 0n
    for (;;) {
      const byte = this.buffer[this.need(1)]!
      raw |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) break
      shift += 7n
      if (shift > 63n) throw new ProtocolDecodeError('varlong longer than 10 bytes')
    }
    // Bits past 64 in a 10th byte are dropped, as Java's long does in Kafka's readVarlong.
    raw = BigInt.asUintN(64, raw)
    return (raw >> 1n) ^ -(raw & 1n)
  }

  raw(byteCount: number): Buffer {
    const at = this.need(byteCount)
    return this.buffer.subarray(at, at + byteCount)
  }

  nullableString(): string | null {
    const length = this.int16()
    if (length < 0) return null
    return this.raw(length).toString('utf8')
  }

  string(): string {
    const value = this.nullableString()
    if (value === null) throw new ProtocolDecodeError('null where a string is required')
    return value
  }

  compactNullableString(): string | null {
    const length = this.uvarint() - 1
    if (length < 0) return null
    return this.raw(length).toString('utf8')
  }

  compactString(): string {
    const value = this.compactNullableString()
    if (value === null) throw new ProtocolDecodeError('null where a compact string is required')
    return value
  }

  nullableBytes(): Buffer | null {
    const length = this.int32()
    if (length < 0) return null
    return this.raw(length)
  }

  compactNullableBytes(): Buffer | null {
    const length = this.uvarint() - 1
    if (length < 0) return null
    return this.raw(length)
  }

  /** Array length: -1 means null. */
  arrayLength(): number {
    const length = this.int32()
    if (length > this.remaining) throw new ProtocolDecodeError(`array length ${length} exceeds frame`)
    return length
  }

  compactArrayLength(): number {
    const length = this.uvarint() - 1
    if (length > this.remaining) throw new ProtocolDecodeError(`array length ${length} exceeds frame`)
    return length
  }

  /** Skips a tagged-field section; Sluice's broker reads no tagged field. */
  skipTaggedFields(): void {
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint()
      this.raw(this.uvarint())
    }
  }
}

/**
 * Byte strings at least this long are kept by reference, not copied: a Fetch response's record sets,
 * read from the log into buffers of their own. Copying them, and again each time the response
 * buffer doubled, was an eighth of the broker's busy time in bench:e2e's profile.
 */
export const WRITER_ATTACH_MIN_BYTES = 64 * 1024

/**
 * Record sets at least this long are kept by reference (Writer.records): a Fetch response's record
 * sets are read from the log into buffers of their own that nothing changes, so the copy is needed
 * only where a piece costs more than copying its bytes.
 */
export const RECORDS_ATTACH_MIN_BYTES = 1024

/** A finished stretch of a Writer's output: a written part of an earlier buffer, or attached bytes. */
interface WriterPiece {
  /** Where it lies in the output. */
  start: number
  bytes: Uint8Array
  /** The caller's bytes (raw), never patched; else a part of one of this writer's buffers. */
  attached: boolean
}

export class Writer {
  private buffer: Buffer
  /** Bytes written so far, in every piece and the current buffer. */
  offset = 0
  /** Where this.buffer's first byte lies in the output. */
  private bufferStart = 0
  /** The output before bufferStart, in order; empty until a long byte string is attached. */
  private readonly pieces: WriterPiece[] = []

  constructor(initialBytes = 256) {
    this.buffer = Buffer.allocUnsafe(initialBytes)
  }

  /** Reserves `byteCount` bytes at the end of the output; returns their position in this.buffer. */
  private reserve(byteCount: number): number {
    const at = this.offset - this.bufferStart
    const needed = at + byteCount
    if (needed > this.buffer.length) {
      let size = Math.max(this.buffer.length * 2, 64)
      while (size < needed) size *= 2
      const grown = Buffer.allocUnsafe(size)
      this.buffer.copy(grown, 0, 0, at)
      this.buffer = grown
    }
    this.offset += byteCount
    return at
  }

  // Every write reserves first and only then reads this.buffer: reserve() may replace the buffer,
  // and `this.buffer.write…(x, this.reserve(n))` would evaluate the old one before growing.
  int8(value: number): this { const at = this.reserve(1); this.buffer.writeInt8(value, at); return this }
  int16(value: number): this { const at = this.reserve(2); this.buffer.writeInt16BE(value, at); return this }
  int32(value: number): this { const at = this.reserve(4); this.buffer.writeInt32BE(value, at); return this }
  uint32(value: number): this { const at = this.reserve(4); this.buffer.writeUInt32BE(value, at); return this }
  int64(value: bigint): this { const at = this.reserve(8); this.buffer.writeBigInt64BE(value, at); return this }
  bool(value: boolean): this { return this.int8(value ? 1 : 0) }

  uvarint(value: number): this {
    let rest = value
    while (rest >= 0x80) {
      const at = this.reserve(1)
      this.buffer[at] = (rest % 0x80) | 0x80
      rest = Math.floor(rest / 0x80)
    }
    const at = this.reserve(1)
    this.buffer[at] = rest
    return this
  }

  varint(value: number): this {
    return this.uvarint(value >= 0 ? value * 2 : -value * 2 - 1)
  }

  varlong(value: bigint): this {
    let raw = (value << 1n) ^ (value >> 63n)
    raw &= 0xffffffffffffffffn
    while (raw >= 0x80n) {
      const at = this.reserve(1)
      this.buffer[at] = Number(raw & 0x7fn) | 0x80
      raw >>= 7n
    }
    const at = this.reserve(1)
    this.buffer[at] = Number(raw)
    return this
  }

  /**
   * Appends `bytes`; from WRITER_ATTACH_MIN_BYTES on by reference (chunks() hands them out as they
   * are), so the caller must not change them until the output has been written.
   */
  raw(bytes: Uint8Array): this {
    if (bytes.length >= WRITER_ATTACH_MIN_BYTES) return this.attach(bytes)
    const at = this.reserve(bytes.length)
    this.buffer.set(bytes, at)
    return this
  }

  private attach(bytes: Uint8Array): this {
    const written = this.offset - this.bufferStart
    if (written > 0) this.pieces.push({ start: this.bufferStart, bytes: this.buffer.subarray(0, written), attached: false })
    this.pieces.push({ start: this.offset, bytes, attached: true })
    this.offset += bytes.length
    this.bufferStart = this.offset
    this.buffer = this.buffer.subarray(written) // later writes go on in the rest of the buffer
    return this
  }

  nullableString(value: string | null): this {
    if (value === null) return this.int16(-1)
    const length = Buffer.byteLength(value)
    this.int16(length)
    const at = this.reserve(length)
    this.buffer.write(value, at, 'utf8')
    return this
  }

  string(value: string): this { return this.nullableString(value) }

  compactNullableString(value: string | null): this {
    if (value === null) return this.uvarint(0)
    const length = Buffer.byteLength(value)
    this.uvarint(length + 1)
    const at = this.reserve(length)
    this.buffer.write(value, at, 'utf8')
    return this
  }

  nullableBytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1)
    return this.int32(value.length).raw(value)
  }

  compactNullableBytes(value: Uint8Array | null): this {
    if (value === null) return this.uvarint(0)
    return this.uvarint(value.length + 1).raw(value)
  }

  /**
   * A record set, as nullableBytes (compactNullableBytes when `compact`), kept by reference from
   * RECORDS_ATTACH_MIN_BYTES on: the caller's bytes are never changed (a Fetch response's, read from
   * the log into a buffer of their own). Copying the record sets under WRITER_ATTACH_MIN_BYTES, and
   * the response again each time its buffer doubled, was 54 MB a day of the broker's Buffers in bench:e2e.
   */
  records(value: Uint8Array | null, compact: boolean): this {
    if (value === null) return compact ? this.uvarint(0) : this.int32(-1)
    if (compact) this.uvarint(value.length + 1)
    else this.int32(value.length)
    return value.length >= RECORDS_ATTACH_MIN_BYTES ? this.attach(value) : this.raw(value)
  }

  emptyTaggedFields(): this { return this.uvarint(0) }

  /** Reserves an int32 to be filled in later (frame sizes, batch lengths); returns its position in the output. */
  placeholderInt32(): number { return this.bufferStart + this.reserve(4) }

  patchInt32(at: number, value: number): void {
    if (at >= this.bufferStart) {
      this.buffer.writeInt32BE(value, at - this.bufferStart)
      return
    }
    // A placeholder is reserved within one buffer, so it lies whole in one piece of the written ones.
    let index = this.pieces.length - 1
    while (index >= 0 && this.pieces[index]!.start > at) index--
    const piece = this.pieces[index]
    if (piece === undefined || piece.attached || at + 4 > piece.start + piece.bytes.length) throw new RangeError(`patchInt32: ${at} is not a placeholder of this writer`)
    Buffer.from(piece.bytes.buffer, piece.bytes.byteOffset, piece.bytes.byteLength).writeInt32BE(value, at - piece.start)
  }

  /** The bytes written so far (a view, valid until the next write; a copy once bytes were attached). */
  view(): Buffer {
    const current = this.buffer.subarray(0, this.offset - this.bufferStart)
    if (this.pieces.length === 0) return current
    return Buffer.concat([...this.pieces.map(piece => piece.bytes), current], this.offset)
  }

  /** The bytes written so far as consecutive chunks, attached ones as they were given: to write out without joining them. */
  chunks(): Uint8Array[] {
    const current = this.buffer.subarray(0, this.offset - this.bufferStart)
    if (this.pieces.length === 0) return [current]
    const chunks = this.pieces.map(piece => piece.bytes)
    if (current.length > 0) chunks.push(current)
    return chunks
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer { return Buffer.from(this.view()) }
}
