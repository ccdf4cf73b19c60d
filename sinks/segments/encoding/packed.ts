// Encodings that need no LZ4 to be small: a sequence of zigzag integers bit-packed at the block's
// widest width (or varints when that is smaller), run-length delta-of-delta timestamps, and
// decimal floats (values that are exactly m / 10^k stored as integer mantissas). Each writes a mode
// byte first so the decoder knows which layout follows.

import { ByteReader, ByteWriter } from './bytes.ts'

const TWO_POW_32 = 4294967296
/** Deltas and mantissas stay below this, so every zigzag value below fits the 49 bits a number varint reads. */
const FAST_LIMIT = 2 ** 47

export const SequenceMode = { VARINT: 0, BIT_PACKED: 1, MIXED_RADIX: 2, RICE: 3 } as const

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

/** Bits written least significant first into bytes, bit j of the stream at bit (j mod 8) of byte j/8. */
class LsbBitWriter {
  private bitPosition = 0

  constructor(private readonly out: ByteWriter, private readonly base: number, byteLength: number) {
    out.ensure(byteLength)
    out.bytes.fill(0, base, base + byteLength)
  }

  /** The low `width` bits of value (0 ≤ value < 2^32, width ≤ 32). */
  bits(value: number, width: number): void {
    const bytes = this.out.bytes
    while (width > 0) {
      const offset = this.bitPosition & 7
      const take = Math.min(8 - offset, width)
      bytes[this.base + (this.bitPosition >>> 3)]! |= (value & ((1 << take) - 1)) << offset
      value = value >>> take
      width -= take
      this.bitPosition += take
    }
  }

  ones(count: number): void {
    for (; count >= 8; count -= 8) this.bits(0xff, 8)
    this.bits((1 << count) - 1, count)
  }
}

class LsbBitReader {
  private bitPosition = 0

  constructor(private readonly bytes: Uint8Array, private readonly input: ByteReader) {}

  bits(width: number): number {
    let value = 0
    let shift = 0
    while (shift < width) {
      const byteIndex = this.bitPosition >>> 3
      if (byteIndex >= this.bytes.length) this.input.fail('bit stream past its end')
      const offset = this.bitPosition & 7
      const take = Math.min(8 - offset, width - shift)
      value += ((this.bytes[byteIndex]! >>> offset) & ((1 << take) - 1)) * 2 ** shift
      shift += take
      this.bitPosition += take
    }
    return value
  }

  /** Counts 1 bits up to the next 0 bit (consumed). */
  unary(): number {
    let count = 0
    while (this.bits(1) === 1) count++
    return count
  }
}

/** Radix R mixed-radix groups: the most values k with R^k ≤ 2^32, and the bits such a group takes. */
function radixGroup(radix: number): { size: number; bits: number } {
  let size = 1
  let span = radix
  while (span * radix <= 2 ** 32) { span *= radix; size++ }
  return { size, bits: bitWidth(span - 1) }
}

/**
 * Signed integers (|v| < 2^48) as their zigzag values, in whichever of four layouts is smallest
 * for this block: a kind byte, then
 *   0 varints;
 *   1 u8 width w, every value in w bits;
 *   2 varint radix R (max + 1), values in groups of k (the most with R^k ≤ 2^32) each written as
 *     Σ v_j·R^j in ⌈log2 R^k⌉ bits: 5 equiprobable values cost 2.39 bits instead of 3;
 *   3 u8 k, Rice coding: (v >> k) one bits, a zero bit, then the low k bits: small values cost
 *     few bits when they dominate.
 * Bit streams are least significant bit first and take ⌈bits / 8⌉ bytes.
 *
 * Every loop is a function of its own, called once per block. V8 optimizes a function that loops
 * long on its first calls while it runs (on-stack replacement); code made that way from the first
 * loop here, before any block had taken a later layout, left those layouts' loops without type
 * feedback, and in Node 20 that code was entered again on every later block and deoptimized there,
 * 192 times in a bench:e2e day (node --trace-deopt). A small function per loop is optimized whole.
 */
export function encodeSignedSequence(values: Float64Array, out: ByteWriter): void {
  const count = values.length
  const zigzags = scratchZigzags(count)
  const scan = zigzagScan(values, zigzags)
  const max = scan.max
  if (max >= 2 ** 32) {
    out.byte(SequenceMode.VARINT)
    writeVarints(zigzags, out)
    return
  }
  const width = bitWidth(max)
  let mode: number = SequenceMode.VARINT
  let bytes = scan.varintBytes
  let parameter = 0
  const packed = 1 + Math.ceil((count * width) / 8)
  if (packed < bytes) {
    mode = SequenceMode.BIT_PACKED
    bytes = packed
    parameter = width
  }
  const radix = max + 1
  if (radix >= 3 && (radix & (radix - 1)) !== 0) {
    const group = radixGroup(radix)
    const mixed = varintBytes(radix) + Math.ceil((Math.ceil(count / group.size) * group.bits) / 8)
    if (mixed < bytes) {
      mode = SequenceMode.MIXED_RADIX
      bytes = mixed
      parameter = radix
    }
  }
  const rice = bestRice(zigzags, count, Math.min(width, 12), scan.sum)
  if (rice.bytes < bytes) {
    mode = SequenceMode.RICE
    bytes = rice.bytes
    parameter = rice.k
  }
  out.byte(mode)
  if (mode === SequenceMode.VARINT) {
    writeVarints(zigzags, out)
    return
  }
  const payloadBytes = bytes - (mode === SequenceMode.MIXED_RADIX ? varintBytes(radix) : 1)
  if (mode === SequenceMode.MIXED_RADIX) out.varint(radix)
  else out.byte(parameter)
  const bits = new LsbBitWriter(out, out.length, payloadBytes)
  if (mode === SequenceMode.BIT_PACKED) writeBitPacked(zigzags, width, bits)
  else if (mode === SequenceMode.MIXED_RADIX) writeMixedRadix(zigzags, radix, bits)
  else writeRice(zigzags, parameter, bits)
  out.length += payloadBytes
}

const scanResult = { max: 0, sum: 0, varintBytes: 0 }

/** zigzags[i] = zigzag(values[i]); their maximum, sum and total varint bytes (in a reused object). */
function zigzagScan(values: Float64Array, zigzags: Float64Array): typeof scanResult {
  let max = 0
  let sum = 0
  let total = 0
  for (let i = 0; i < values.length; i++) {
    const z = zigzag(values[i]!)
    zigzags[i] = z
    if (z > max) max = z
    sum += z
    total += varintBytes(z)
  }
  scanResult.max = max
  scanResult.sum = sum
  scanResult.varintBytes = total
  return scanResult
}

function writeVarints(zigzags: Float64Array, out: ByteWriter): void {
  for (let i = 0; i < zigzags.length; i++) out.varint(zigzags[i]!)
}

function writeBitPacked(zigzags: Float64Array, width: number, bits: LsbBitWriter): void {
  for (let i = 0; i < zigzags.length; i++) bits.bits(zigzags[i]!, width)
}

function writeMixedRadix(zigzags: Float64Array, radix: number, bits: LsbBitWriter): void {
  const count = zigzags.length
  const group = radixGroup(radix)
  for (let start = 0; start < count; start += group.size) {
    let packed = 0
    let scale = 1
    const end = Math.min(count, start + group.size)
    for (let j = start; j < end; j++) { packed += zigzags[j]! * scale; scale *= radix }
    bits.bits(packed, group.bits)
  }
}

function writeRice(zigzags: Float64Array, k: number, bits: LsbBitWriter): void {
  const divisor = 2 ** k
  for (let i = 0; i < zigzags.length; i++) {
    const z = zigzags[i]!
    const quotient = Math.floor(z / divisor)
    bits.ones(quotient)
    bits.bits(0, 1)
    bits.bits(z - quotient * divisor, k)
  }
}

/** Bits of the Rice coding of zigzags[0, count) with parameter k (every value < 2^32, so z >>> k is exact). */
function riceBits(zigzags: Float64Array, count: number, k: number): number {
  let quotients = 0
  for (let i = 0; i < count; i++) quotients += zigzags[i]! >>> k
  return quotients + count * (1 + k)
}

const riceBitsByK = new Float64Array(13)

/**
 * The Rice parameter k in [0, maxK] of the fewest bytes (1 + ⌈bits / 8⌉, the parameter byte
 * included), the smallest such k on a tie: what trying every k gives. Rice's bit count over k is
 * convex (going from k to k + 1 saves Σ ⌈q/2⌉ of the quotients q and costs one bit per value, and
 * the saving only shrinks), so it falls strictly up to its first minimum m and never falls after:
 * the walk starts near m (the k of the mean) instead of at 0, each step a pass over the values.
 */
function bestRice(zigzags: Float64Array, count: number, maxK: number, sum: number): { k: number; bytes: number } {
  const bits = riceBitsByK.fill(-1)
  const at = (k: number): number => (bits[k]! >= 0 ? bits[k]! : (bits[k] = riceBits(zigzags, count, k)))
  const mean = count > 0 ? sum / count : 0
  let m = Math.min(maxK, Math.max(0, Math.floor(Math.log2(mean + 1)) - 1))
  // m: the first k whose next bit count does not fall (or maxK).
  if (m < maxK && at(m + 1) < at(m)) {
    m++
    while (m < maxK && at(m + 1) < at(m)) m++
  } else {
    while (m > 0 && at(m) >= at(m - 1)) m--
  }
  const bytes = 1 + Math.ceil(at(m) / 8)
  let k = m
  while (k > 0 && 1 + Math.ceil(at(k - 1) / 8) === bytes) k--
  return { k, bytes }
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
  if (mode === SequenceMode.BIT_PACKED) {
    const width = input.byte()
    if (width > 32) input.fail(`bit width ${width}`)
    const bits = new LsbBitReader(input.take(Math.ceil((count * width) / 8)), input)
    for (let i = 0; i < count; i++) into[i] = unzigzag(bits.bits(width))
    return
  }
  if (mode === SequenceMode.MIXED_RADIX) {
    const radix = input.size()
    if (radix < 2 || radix > 2 ** 32) input.fail(`radix ${radix}`)
    const group = radixGroup(radix)
    const bits = new LsbBitReader(input.take(Math.ceil((Math.ceil(count / group.size) * group.bits) / 8)), input)
    for (let start = 0; start < count; start += group.size) {
      let packed = bits.bits(group.bits)
      for (let j = start; j < Math.min(count, start + group.size); j++) {
        const digit = packed % radix
        into[j] = unzigzag(digit)
        packed = (packed - digit) / radix
      }
    }
    return
  }
  if (mode !== SequenceMode.RICE) input.fail(`unknown sequence mode ${mode}`)
  const k = input.byte()
  if (k > 32) input.fail(`rice parameter ${k}`)
  // The stream's length is not stored: it is the rest of this section, read lazily.
  const bytes = input.bytes.subarray(input.offset, input.end)
  const bits = new LsbBitReader(bytes, input)
  let bitCount = 0
  for (let i = 0; i < count; i++) {
    const quotient = bits.unary()
    const remainder = bits.bits(k)
    bitCount += quotient + 1 + k
    into[i] = unzigzag(quotient * 2 ** k + remainder)
  }
  input.offset += Math.ceil(bitCount / 8)
}

/**
 * Scratch for encodeSignedSequence's zigzag values, reused from block to block (encoding is
 * synchronous and never nested): a typed array above 64 bytes is a separate allocation outside V8's
 * heap, and a flush encodes tens of thousands of blocks.
 */
let zigzagScratch = new Float64Array(1024)

function scratchZigzags(count: number): Float64Array {
  if (zigzagScratch.length < count) zigzagScratch = new Float64Array(2 ** Math.ceil(Math.log2(count)))
  return zigzagScratch.subarray(0, count)
}

/**
 * Differences of consecutive 64-bit values as exact numbers, or null when one is beyond ±2^47;
 * into `scratch` when it has room (then valid until the scratch is used again).
 */
export function smallDeltas(column: BigInt64Array | BigUint64Array, count: number, scratch?: Float64Array): Float64Array | null {
  const words = new Int32Array(column.buffer, column.byteOffset, count * 2)
  const length = Math.max(0, count - 1)
  const deltas = scratch !== undefined && scratch.length >= length ? scratch.subarray(0, length) : new Float64Array(length)
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
