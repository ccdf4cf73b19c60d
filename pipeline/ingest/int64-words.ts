// Exact 64-bit integers without BigInt on the parser's hot path: a decimal magnitude is held as two
// exact doubles, hi·1e9 + lo (0 ≤ lo < 1e9), and written into typed arrays as two little-endian 32-bit
// words (Uint32Array views over BigInt64Array buffers). BigInt appears only where a consumer reads a
// value, and in bigintToWords for the few values that arrive as bigints (the server time).

import { endianness } from 'node:os'

if (endianness() !== 'LE') {
  // The word views over BigInt64Array buffers assume the low word comes first.
  throw new Error('Sluice ingest needs a little-endian machine (BigInt64Array word views)')
}

const TWO_16 = 65_536
const TWO_32 = 4_294_967_296
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]

/** Results of the functions below (module scratch, so the hot path allocates nothing). */
export const scratch = { hi: 0, lo: 0, wordLow: 0, wordHigh: 0 }

/** Two's-complement words of a bigint in the signed or unsigned 64-bit range, into scratch. */
export function bigintToWords(value: bigint): void {
  const unsigned = BigInt.asUintN(64, value)
  scratch.wordLow = Number(unsigned & 0xffffffffn)
  scratch.wordHigh = Number(unsigned >> 32n)
}

/** Magnitude bounds as [hi, lo] pairs. */
export const INT64_MAX_MAGNITUDE = [9_223_372_036, 854_775_807] as const
export const INT64_MIN_MAGNITUDE = [9_223_372_036, 854_775_808] as const
export const UINT64_MAX_MAGNITUDE = [18_446_744_073, 709_551_615] as const
/** InfluxDB's time range: MinNanoTime = MinInt64 + 2, MaxNanoTime = MaxInt64 − 1, both ±9223372036854775806. */
export const TIME_MAX_MAGNITUDE = [9_223_372_036, 854_775_806] as const

function digitsValue(buf: Uint8Array, start: number, end: number): number {
  let value = 0
  for (let i = start; i < end; i++) value = value * 10 + (buf[i]! - 48)
  return value
}

/**
 * Reads the ASCII digits buf[start, end) (the caller checked they are digits) into scratch.hi/lo.
 * Returns false when the number has more than 20 significant digits (beyond any 64-bit range).
 */
export function readDecimal(buf: Uint8Array, start: number, end: number): boolean {
  while (start < end - 1 && buf[start] === 48) start++
  const digits = end - start
  if (digits > 20) return false
  if (digits <= 9) {
    scratch.hi = 0
    scratch.lo = digitsValue(buf, start, end)
  } else {
    scratch.hi = digitsValue(buf, start, end - 9)
    scratch.lo = digitsValue(buf, end - 9, end)
  }
  return true
}

/** Whether scratch.hi/lo is at most the bound. */
export function withinMagnitude(bound: readonly [number, number]): boolean {
  return scratch.hi < bound[0] || (scratch.hi === bound[0] && scratch.lo <= bound[1])
}

/**
 * Multiplies scratch.hi/lo by factor·10^power (factor ≤ 3600, power ≤ 9), for precisions coarser
 * than a nanosecond. Returns false if the result certainly exceeds the time range.
 */
export function scaleDecimal(factor: number, power: number): boolean {
  if (factor !== 1) {
    const carried = scratch.lo * factor
    const carry = Math.floor(carried / 1e9)
    scratch.hi = scratch.hi * factor + carry
    scratch.lo = carried - carry * 1e9
  }
  if (power === 0) return scratch.hi <= TIME_MAX_MAGNITUDE[0]
  if (scratch.hi > TIME_MAX_MAGNITUDE[0] / POW10[power]!) return false
  const divisor = POW10[9 - power]!
  const carry = Math.floor(scratch.lo / divisor)
  scratch.hi = scratch.hi * POW10[power]! + carry
  scratch.lo = (scratch.lo - carry * divisor) * POW10[power]!
  return true
}

/** Two's-complement words of ±(hi·1e9 + lo), into scratch.wordLow/wordHigh (both unsigned). */
export function decimalToWords(hi: number, lo: number, negative: boolean): void {
  if (hi < 9_007_199) {
    // Below 2^53 the value is an exact double: the words come from ToUint32 and an exact division.
    const magnitude = hi * 1e9 + lo
    const value = negative ? -magnitude : magnitude
    scratch.wordLow = value >>> 0
    scratch.wordHigh = Math.floor(value / TWO_32) >>> 0
    return
  }
  const hiHigh = Math.floor(hi / TWO_16)
  const hiLow = hi - hiHigh * TWO_16
  const a = hiLow * 1e9 + lo // < 6.6e13, exact
  const b = hiHigh * 1e9 // < 2^49, exact; contributes b·2^16
  const bHigh = Math.floor(b / TWO_16)
  const c = (b - bHigh * TWO_16) * TWO_16 + a // < 2^32 + 6.6e13, exact
  const cHigh = Math.floor(c / TWO_32)
  let low = c - cHigh * TWO_32
  let high = bHigh + cHigh
  if (negative && (low !== 0 || high !== 0)) {
    if (low === 0) {
      high = (TWO_32 - high) % TWO_32
    } else {
      low = TWO_32 - low
      high = TWO_32 - 1 - high
    }
  }
  scratch.wordLow = low
  scratch.wordHigh = high
}
