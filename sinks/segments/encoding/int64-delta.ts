// Delta codecs for 64-bit integer columns, on the raw words (two int32 halves, little-endian) so the
// common case never allocates a bigint: timestamps as delta-of-delta, integers and unsigned as
// delta; every delta is taken modulo 2^64, zigzag-encoded and written as a LEB128 varint.
// Layout: the first value as 8 bytes little-endian, then one varint per remaining value (order 1:
// the delta; order 2: the first delta, then each delta minus the one before).

import { endianness } from 'node:os'
import { ByteWriter, ByteReader } from './bytes.ts'

if (endianness() !== 'LE') throw new Error('sinks/segments assumes a little-endian machine')

const TWO_POW_32 = 4294967296
/** Beyond this a delta (and delta of deltas) takes the bigint path, so zigzag values stay exact. */
const FAST_LIMIT = 2 ** 49

/** An Int32Array over the same bytes as a 64-bit column. */
function wordsOf(column: BigInt64Array | BigUint64Array): Int32Array {
  return new Int32Array(column.buffer, column.byteOffset, column.length * 2)
}

/** value[i] − value[i−1] as an exact number, or NaN when outside ±2^49. */
function fastDelta(words: Int32Array, i: number): number {
  const delta = (words[2 * i + 1]! - words[2 * i - 1]!) * TWO_POW_32 + ((words[2 * i]! >>> 0) - (words[2 * i - 2]! >>> 0))
  return delta > -FAST_LIMIT && delta < FAST_LIMIT ? delta : NaN
}

export function encodeInt64Deltas(column: BigInt64Array | BigUint64Array, count: number, order: 1 | 2, out: ByteWriter): void {
  if (count === 0) return
  const words = wordsOf(column)
  const signed = new BigInt64Array(column.buffer, column.byteOffset, column.length)
  out.raw(new Uint8Array(column.buffer, column.byteOffset, 8))
  let previousDelta = 0
  let previousDeltaBig: bigint | null = null
  for (let i = 1; i < count; i++) {
    const delta = fastDelta(words, i)
    if (order === 1) {
      if (delta === delta) out.zigzag(delta)
      else out.zigzagBig(BigInt.asIntN(64, signed[i]! - signed[i - 1]!))
      continue
    }
    if (delta === delta && previousDeltaBig === null) {
      const dod = delta - previousDelta
      if (dod > -FAST_LIMIT && dod < FAST_LIMIT) {
        out.zigzag(dod)
        previousDelta = delta
        continue
      }
    }
    const deltaBig = BigInt.asIntN(64, signed[i]! - signed[i - 1]!)
    const before = previousDeltaBig ?? BigInt(previousDelta)
    out.zigzagBig(BigInt.asIntN(64, deltaBig - before))
    if (deltaBig > -BigInt(FAST_LIMIT) && deltaBig < BigInt(FAST_LIMIT)) {
      previousDelta = Number(deltaBig)
      previousDeltaBig = null
    } else {
      previousDeltaBig = deltaBig
    }
  }
}

/** Decodes `count` values written by encodeInt64Deltas into `column` (which has room for them). */
export function decodeInt64Deltas(input: ByteReader, count: number, order: 1 | 2, column: BigInt64Array | BigUint64Array): void {
  if (count === 0) return
  const words = wordsOf(column)
  const signed = new BigInt64Array(column.buffer, column.byteOffset, column.length)
  const first = input.take(8)
  new Uint8Array(column.buffer, column.byteOffset, 8).set(first)
  let delta = 0
  let deltaBig: bigint | null = null
  for (let i = 1; i < count; i++) {
    let step = input.zigzagOrNaN()
    if (order === 2) {
      if (step === step && deltaBig === null && Math.abs(delta + step) < FAST_LIMIT) {
        delta += step
      } else {
        const stepBig = step === step ? BigInt(step) : input.zigzagBig()
        const next = BigInt.asIntN(64, (deltaBig ?? BigInt(delta)) + stepBig)
        if (next > -BigInt(FAST_LIMIT) && next < BigInt(FAST_LIMIT)) { delta = Number(next); deltaBig = null } else deltaBig = next
      }
      step = deltaBig === null ? delta : NaN
    }
    if (step === step) {
      const sum = (words[2 * i - 2]! >>> 0) + step
      const carry = Math.floor(sum / TWO_POW_32)
      words[2 * i] = sum - carry * TWO_POW_32
      words[2 * i + 1] = (words[2 * i - 1]! + carry) | 0
    } else {
      const by = order === 2 ? deltaBig! : input.zigzagBig()
      signed[i] = BigInt.asIntN(64, signed[i - 1]! + by)
    }
  }
}
