// Booleans bit-packed, eight to a byte, least significant bit first; a column is 0/1 bytes.

import { ByteWriter, ByteReader } from './bytes.ts'

export function encodeBooleans(column: Uint8Array, count: number, out: ByteWriter): void {
  const byteCount = Math.ceil(count / 8)
  out.ensure(byteCount)
  const bytes = out.bytes
  const base = out.length
  bytes.fill(0, base, base + byteCount)
  for (let i = 0; i < count; i++) if (column[i]) bytes[base + (i >>> 3)]! |= 1 << (i & 7)
  out.length += byteCount
}

export function decodeBooleans(input: ByteReader, count: number, column: Uint8Array): void {
  const packed = input.take(Math.ceil(count / 8))
  for (let i = 0; i < count; i++) column[i] = (packed[i >>> 3]! >>> (i & 7)) & 1
}
