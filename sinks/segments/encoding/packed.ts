// Encodings that need no LZ4 to be small: a sequence of zigzag integers bit-packed at the block's
// widest width (or varints when that is smaller), run-length delta-of-delta timestamps, and
// decimal floats (values that are exactly m / 10^k stored as integer mantissas). Each writes a mode
// byte first so the decoder knows which layout follows.

import { ByteReader, ByteWriter } from './bytes.ts'

const TWO_POW_32 = 4294967296
/** Deltas and mantissas stay below this, so every zigzag value below fits the 49 bits a number varint reads. */
const FAST_LIMIT = 2 ** 47

export const SequenceMode = { VARINT: 0, BIT_PACKED: 1 } as const

function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1
}

function unzigzag(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2
}

function varintBytes(value: number): number {
  let bytes = 1
  while (value >= 128) { value = Math.floor(value / 128); bytes++ }
  return bytes
}

function bitWidth(max: number): number {
  return max === 0 ? 0 : 32 - Math.clz32(max)
}

/** Signed integers (|v| < 2^48): u8 mode, then (mode 1) u8 width + LSB-first bit-packed zigzags, or (mode 0) zigzag varints. */
export function encodeSignedSequence(values: Float64Array, out: ByteWriter): void {
  const count = values.length
  let max = 0
  let varintTotal = 0
  for (let i = 0; i < count; i++) {
    const z = zigzag(values[i]!)
    if (z > max) max = z
    varintTotal += varintBytes(z)
  }
  const width = max < TWO_POW_32 ? bitWidth(max) : 64
  const packedBytes = Math.ceil((count * width) / 8) + 1
  if (width > 32 || packedBytes >= varintTotal) {
    out.byte(SequenceMode.VARINT)
    for (let i = 0; i < count; i++) out.varint(zigzag(values[i]!))
    return
  }
  out.byte(SequenceMode.BIT_PACKED)
  out.byte(width)
  out.ensure(packedBytes)
  const bytes = out.bytes
  const base = out.length
  bytes.fill(0, base, base + packedBytes - 1)
  let bitPosition = 0
  for (let i = 0; i < count; i++) {
    let value = zigzag(values[i]!)
    let remaining = width
    while (remaining > 0) {
      const offset = bitPosition & 7
      const take = Math.min(8 - offset, remaining)
      bytes[base + (bitPosition >>> 3)]! |= (value & ((1 << take) - 1)) << offset
      value = value >>> take
      remaining -= take
      bitPosition += take
    }
  }
  out.length += packedBytes - 1
}

export function decodeSignedSequence(input: ByteReader, into: Float64Array): void {
  const count = into.length
  const mode = input.byte()
  if (mode === SequenceMode.VARINT) {
    for (let i = 0; i < count; i++) {
      const value = input.zigzagOrNaN()
      if (value !== value) input.fail('sequence varint out of range')
      into[i] = value
    }
    return
  }
  if (mode !== SequenceMode.BIT_PACKED) input.fail(`unknown sequence mode ${mode}`)
  const width = input.byte()
  if (width > 32) input.fail(`bit width ${width}`)
  const packed = input.take(Math.ceil((count * width) / 8))
  let bitPosition = 0
  for (let i = 0; i < count; i++) {
    let value = 0
    let shift = 0
    while (shift < width) {
      const offset = bitPosition & 7
      const take = Math.min(8 - offset, width - shift)
      value += ((packed[bitPosition >>> 3]! >>> offset) & ((1 << take) - 1)) * 2 ** shift
      shift += take
      bitPosition += take
    }
    into[i] = unzigzag(value)
  }
}

/** Differences of consecutive 64-bit values as exact numbers, or null when one is beyond ±2^47. */
export function smallDeltas(column: BigInt64Array | BigUint64Array, count: number): Float64Array | null {
  const words = new Int32Array(column.buffer, column.byteOffset, count * 2)
  const deltas = new Float64Array(Math.max(0, count - 1))
  for (let i = 1; i < count; i++) {
    const delta = (words[2 * i + 1]! - words[2 * i - 1]!) * TWO_POW_32 + ((words[2 * i]! >>> 0) - (words[2 * i - 2]! >>> 0))
    if (!(delta > -FAST_LIMIT && delta < FAST_LIMIT)) return null
    deltas[i - 1] = delta
  }
  return deltas
}

/** Rebuilds column[1..] from column[0] and exact deltas, on the raw words (no bigint). */
export function applyDeltas(column: BigInt64Array | BigUint64Array, deltas: Float64Array): void {
  const words = new Int32Array(column.buffer, column.byteOffset, column.length * 2)
  for (let i = 1; i <= deltas.length; i++) {
    const sum = (words[2 * i - 2]! >>> 0) + deltas[i - 1]!
    const carry = Math.floor(sum / TWO_POW_32)
    words[2 * i] = sum - carry * TWO_POW_32
    words[2 * i + 1] = (words[2 * i - 1]! + carry) | 0
  }
}

/**
 * Delta-of-delta run-length: the deltas' differences as (zigzag varint value, varint run) pairs,
 * or null when runs would not pay (fewer than two values per pair on average).
 */
export function encodeDeltaOfDeltaRuns(deltas: Float64Array, out: ByteWriter): boolean {
  let pairs = 0
  let previous = 0
  for (let i = 0; i < deltas.length; i++) {
    const dod = deltas[i]! - previous
    if (i === 0 || dod !== deltas[i - 1]! - (i >= 2 ? deltas[i - 2]! : 0)) pairs++
    previous = deltas[i]!
  }
  if (pairs * 2 > deltas.length) return false
  out.varint(pairs)
  previous = 0
  let i = 0
  while (i < deltas.length) {
    const dod = deltas[i]! - previous
    let run = 1
    previous = deltas[i]!
    while (i + run < deltas.length && deltas[i + run]! - previous === dod) { previous = deltas[i + run]!; run++ }
    out.zigzag(dod)
    out.varint(run)
    i += run
  }
  return true
}

export function decodeDeltaOfDeltaRuns(input: ByteReader, into: Float64Array): void {
  const pairs = input.size()
  let at = 0
  let delta = 0
  for (let p = 0; p < pairs; p++) {
    const dod = input.zigzagOrNaN()
    if (dod !== dod) input.fail('delta-of-delta out of range')
    const run = input.size()
    if (at + run > into.length) input.fail('runs longer than the block')
    for (let r = 0; r < run; r++) { delta += dod; into[at++] = delta }
  }
  if (at !== into.length) input.fail('runs shorter than the block')
}

const POWERS_OF_TEN = Array.from({ length: 10 }, (_, k) => 10 ** k)

/**
 * The smallest k ≤ 9 such that every value is exactly round(v·10^k) / 10^k (bit for bit, so -0,
 * NaN and infinities never qualify) with |mantissa| < 2^47; the mantissas are written into `out`.
 */
export function decimalScale(values: Float64Array, mantissas: Float64Array): number | null {
  for (let k = 0; k < POWERS_OF_TEN.length; k++) {
    const power = POWERS_OF_TEN[k]!
    let ok = true
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!
      const m = Math.round(v * power)
      if (m / power !== v || Math.abs(m) >= FAST_LIMIT || (v === 0 && 1 / v < 0)) { ok = false; break }
      mantissas[i] = m
    }
    if (ok) return k
  }
  return null
}

export function powerOfTen(scale: number): number {
  return POWERS_OF_TEN[scale]!
}
