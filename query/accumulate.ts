// Aggregate state of one (group, bucket, field): count, sum, min, max, first and last by time.
// Fed either a run of a scanned chunk (typed arrays, one tight loop per run) or a block's index
// statistics; both give the same answer. Float min/max follow the store's block statistics
// (`<`/`>`, a NaN seen first is replaced by the next number), so the two paths never disagree.

import { LITTLE_ENDIAN } from '../lib/bytes/endianness.ts'
import { type BlockStats, type Column, FieldType, type FieldTypeCode } from '../sinks/index.ts'

/** A value of a result: time and 64-bit integers as bigint, floats as number, booleans, strings, null. */
export type Value = bigint | number | boolean | string | null

const SAFE_SUM = 2n ** 53n
const SAFE_NUMBER_SUM = 2 ** 53

/**
 * The exact sum of an integer field: sums of runs known to lie within ±2^53 (foldSmallIntegers) are
 * added to a float64 while that stays exact, the rest to a bigint; the float64 part joins the bigint
 * only when the next run would leave that range. Shared by SQL's and InfluxQL's accumulators.
 */
export class ExactIntegerSum {
  private big = 0n
  private small = 0

  /** A run's sum that foldSmallIntegers proved exact. */
  addSmall(sum: number): void {
    const next = this.small + sum
    if (Math.abs(next) < SAFE_NUMBER_SUM) this.small = next
    else {
      this.big += BigInt(this.small) + BigInt(sum)
      this.small = 0
    }
  }

  add(sum: bigint): void {
    this.big += sum
  }

  total(): bigint {
    return this.small === 0 ? this.big : this.big + BigInt(this.small)
  }

  /** total() / count as a float64, without a BigInt while the sum is still within the float64 part. */
  mean(count: number): number {
    return (this.big === 0n ? this.small : Number(this.total())) / count
  }
}

/** Whether an integer block's float64 statistics sum is exact: count × max|v| below 2^53 bounds every partial sum. */
export function integerStatsSumExact(stats: BlockStats): boolean {
  const min = BigInt(stats.min!)
  const max = BigInt(stats.max!)
  const magnitude = (min < 0n ? -min : min) > (max < 0n ? -max : max) ? (min < 0n ? -min : min) : (max < 0n ? -max : max)
  return magnitude * BigInt(stats.count) < SAFE_SUM
}

/**
 * What an accumulator keeps beyond the count, as bits: a run of points costs only the passes its
 * aggregates need (avg per minute needs the sum, not min, max or the ends, whose bigints were most
 * of a small run's cost).
 */
export const Fold = {
  /** sum, avg. */
  SUM: 1,
  /** min, max, spread. */
  EXTREMES: 2,
  /** first, last. */
  ENDS: 4,
  ALL: 7,
} as const

/** The fold an aggregate of result() needs (count needs none). */
export function foldOf(fn: string): number {
  switch (fn) {
    case 'sum': case 'avg': return Fold.SUM
    case 'min': case 'max': case 'spread': return Fold.EXTREMES
    case 'first': case 'last': return Fold.ENDS
    default: return 0
  }
}

export class FieldAccumulator {
  count = 0
  /** Floats: the sum; booleans: the number of trues. */
  sumFloat = 0
  /** Integers and unsigned: the exact sum. */
  readonly sumInteger = new ExactIntegerSum()
  min: number | bigint | string | null = null
  max: number | bigint | string | null = null
  firstTimeNs: bigint | null = null
  first: number | bigint | string | null = null
  lastTimeNs: bigint | null = null
  last: number | bigint | string | null = null

  /** `folds`: the Fold bits kept; result() refuses an aggregate whose fold was not kept. */
  constructor(readonly type: FieldTypeCode, private readonly folds: number = Fold.ALL) {}

  /** Points [start, end) of a time-ordered chunk. */
  addRun(column: Column, start: number, end: number): void {
    if (end <= start) return
    this.count += end - start
    const values = column.values
    if ((this.folds & (Fold.SUM | Fold.EXTREMES)) !== 0) switch (this.type) {
      case FieldType.FLOAT: case FieldType.BOOLEAN: this.addNumbers(values as Float64Array | Uint8Array, start, end); break
      case FieldType.INTEGER: case FieldType.UNSIGNED: this.addBigInts(values as BigInt64Array | BigUint64Array, start, end); break
      case FieldType.STRING: this.addStrings(values as string[], start, end); break
    }
    if ((this.folds & Fold.ENDS) === 0) return
    this.takeFirst(column.times[start]!, (values as ArrayLike<number | bigint | string>)[start]!)
    this.takeLast(column.times[end - 1]!, (values as ArrayLike<number | bigint | string>)[end - 1]!)
  }

  /** The exact sum of an integer or unsigned field. */
  integerSum(): bigint {
    return this.sumInteger.total()
  }

  private addNumbers(values: Float64Array | Uint8Array, start: number, end: number): void {
    let min = (this.min as number | null) ?? values[start]!
    let max = (this.max as number | null) ?? values[start]!
    let sum = 0
    for (let i = start; i < end; i++) {
      const v = values[i]!
      if (v < min || min !== min) min = v
      if (v > max || max !== max) max = v
      sum += v
    }
    this.min = min
    this.max = max
    this.sumFloat += sum
  }

  private addBigInts(values: BigInt64Array | BigUint64Array, start: number, end: number): void {
    if (!this.addSmallIntegers(values, start, end)) this.addBigIntsExactly(values, start, end)
  }

  /** The fast path (foldSmallIntegers); the run's sum joins smallSum while that stays within ±2^53. False: nothing was added. */
  private addSmallIntegers(values: BigInt64Array | BigUint64Array, start: number, end: number): boolean {
    if (!foldSmallIntegers(values, start, end)) return false
    const min = smallFold[0]!
    const max = smallFold[1]!
    const sum = smallFold[2]!
    if ((this.folds & Fold.EXTREMES) !== 0) {
      if (this.min === null || min < (this.min as bigint)) this.min = BigInt(min)
      if (this.max === null || max > (this.max as bigint)) this.max = BigInt(max)
    }
    this.sumInteger.addSmall(sum)
    return true
  }

  private addBigIntsExactly(values: BigInt64Array | BigUint64Array, start: number, end: number): void {
    let min = (this.min as bigint | null) ?? values[start]!
    let max = (this.max as bigint | null) ?? values[start]!
    let sum = 0n
    for (let i = start; i < end; i++) {
      const v = values[i]!
      if (v < min) min = v
      if (v > max) max = v
      sum += v
    }
    this.min = min
    this.max = max
    this.sumInteger.add(sum)
  }

  private addStrings(values: string[], start: number, end: number): void {
    let min = (this.min as string | null) ?? values[start]!
    let max = (this.max as string | null) ?? values[start]!
    for (let i = start; i < end; i++) {
      const v = values[i]!
      if (v < min) min = v
      if (v > max) max = v
    }
    this.min = min
    this.max = max
  }

  // Ties (equal times, from two series of one group) keep the value seen first, as CnosDB's first/last.
  private takeFirst(timeNs: bigint, value: number | bigint | string): void {
    if (this.firstTimeNs === null || timeNs < this.firstTimeNs) { this.firstTimeNs = timeNs; this.first = value }
  }

  private takeLast(timeNs: bigint, value: number | bigint | string): void {
    if (this.lastTimeNs === null || timeNs > this.lastTimeNs) { this.lastTimeNs = timeNs; this.last = value }
  }

  /**
   * Whether a block's statistics answer the aggregates of `folds` exactly: strings keep only a count
   * there, and an integer block's float64 sum is exact only while every partial sum stays below 2^53
   * (which matters only when the sum is kept).
   */
  static statsSuffice(type: FieldTypeCode, stats: BlockStats, needsValues: boolean, folds: number = Fold.ALL): boolean {
    if (type === FieldType.STRING) return !needsValues
    if (type !== FieldType.INTEGER && type !== FieldType.UNSIGNED) return true
    return (folds & Fold.SUM) === 0 || integerStatsSumExact(stats)
  }

  /**
   * A whole block, from its index statistics (the caller checked statsSuffice): only the folds kept,
   * and first or last converted only when the block's end times would change them (the last point
   * of every host over a day meets 24 blocks a host, of which one decides).
   */
  addStats(stats: BlockStats): void {
    this.count += stats.count
    if (this.type === FieldType.STRING) return
    const integer = this.type === FieldType.INTEGER || this.type === FieldType.UNSIGNED
    if ((this.folds & Fold.SUM) !== 0) {
      if (integer) this.sumInteger.add(BigInt(stats.sum))
      else this.sumFloat += stats.sum
    }
    if ((this.folds & Fold.EXTREMES) !== 0) {
      if (integer) {
        const min = BigInt(stats.min!)
        const max = BigInt(stats.max!)
        if (this.min === null || min < (this.min as bigint)) this.min = min
        if (this.max === null || max > (this.max as bigint)) this.max = max
      } else {
        const min = Number(stats.min)
        const max = Number(stats.max)
        const current = this.min as number | null
        if (current === null || min < current || current !== current) this.min = min
        const currentMax = this.max as number | null
        if (currentMax === null || max > currentMax || currentMax !== currentMax) this.max = max
      }
    }
    if ((this.folds & Fold.ENDS) === 0) return
    if (this.firstTimeNs === null || stats.minTimeNs < this.firstTimeNs) this.takeFirst(stats.minTimeNs, integer ? BigInt(stats.first!) : Number(stats.first))
    if (this.lastTimeNs === null || stats.maxTimeNs > this.lastTimeNs) this.takeLast(stats.maxTimeNs, integer ? BigInt(stats.last!) : Number(stats.last))
  }

  /** Adds `n` rows without values (count(*) over several fields). */
  addCount(n: number): void {
    this.count += n
  }

  result(fn: 'count' | 'sum' | 'avg' | 'min' | 'max' | 'first' | 'last' | 'spread'): Value {
    const fold = foldOf(fn)
    if ((this.folds & fold) !== fold) throw new Error(`internal: ${fn} asked of an accumulator that does not keep it`)
    switch (fn) {
      case 'spread':
        // max − min: exact for integers (an int64 spread may need the unsigned range: it stays a bigint).
        if (this.count === 0 || this.min === null || this.max === null) return null
        return this.type === FieldType.FLOAT ? (this.max as number) - (this.min as number) : (this.max as bigint) - (this.min as bigint)
      case 'count': return BigInt(this.count)
      case 'sum':
        if (this.count === 0) return null
        return this.type === FieldType.FLOAT ? this.sumFloat : this.integerSum()
      case 'avg':
        if (this.count === 0) return null
        // An integer sum still within the float64 part needs no BigInt to divide.
        if (this.type === FieldType.FLOAT) return this.sumFloat / this.count
        return this.sumInteger.mean(this.count)
      case 'min': return this.typed(this.min)
      case 'max': return this.typed(this.max)
      case 'first': return this.typed(this.first)
      case 'last': return this.typed(this.last)
    }
  }

  private typed(value: number | bigint | string | null): Value {
    if (value === null) return null
    return this.type === FieldType.BOOLEAN ? Number(value) !== 0 : value
  }
}

/** min, max and sum of the last foldSmallIntegers that returned true. */
export const smallFold = new Float64Array(3)

/**
 * Folds int64 values [start, end) without a BigInt per point: each is read as two 32-bit words while
 * every value lies within ±2^53, where a float64 holds it exactly, and the sum is kept only when the
 * bound count × max|v| < 2^53 proves every partial sum exact. True: min, max and sum are in
 * smallFold; false: nothing was written, fold them as bigints.
 */
export function foldSmallIntegers(values: BigInt64Array | BigUint64Array, start: number, end: number): boolean {
  if (!LITTLE_ENDIAN) return false
  const words = wordsOf(values)
  let min = Infinity
  let max = -Infinity
  let sum = 0
  for (let i = 2 * start; i < 2 * end; i += 2) {
    const high = words[i + 1]!
    if (high > 0x1fffff || high < -0x200000) return false
    const v = high * 4294967296 + (words[i]! >>> 0)
    if (v < min) min = v
    if (v > max) max = v
    sum += v
  }
  if ((end - start) * Math.max(Math.abs(min), Math.abs(max)) >= SAFE_NUMBER_SUM) return false
  smallFold[0] = min
  smallFold[1] = max
  smallFold[2] = sum
  return true
}

/** The last integer column read as 32-bit words: a chunk's bucket runs come one after another. */
let wordsSource: BigInt64Array | BigUint64Array | null = null
let wordsView: Int32Array | Uint32Array = new Int32Array(0)

function wordsOf(values: BigInt64Array | BigUint64Array): Int32Array | Uint32Array {
  if (values !== wordsSource) {
    wordsView = values instanceof BigInt64Array
      ? new Int32Array(values.buffer, values.byteOffset, values.length * 2)
      : new Uint32Array(values.buffer, values.byteOffset, values.length * 2)
    wordsSource = values
  }
  return wordsView
}
