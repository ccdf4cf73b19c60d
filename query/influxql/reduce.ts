// InfluxQL's reducers over one (output series, field, time window): count, sum, mean, min, max,
// first, last and spread, fed time-ordered runs of typed arrays. Ties follow InfluxDB 1.x: min and
// max keep the earliest point of equal values, first and last the larger value of equal times
// (series of one group meet at the same times). median, mode, stddev and percentile need every
// value: the cell keeps the runs (views of the scanned chunks) and copies them into one typed array
// that it sorts once.

import { type BlockStats, type Column, FieldType, type FieldTypeCode } from '../../sinks/index.ts'
import type { Value } from '../result.ts'
import { ExactIntegerSum, foldSmallIntegers, integerStatsSumExact, smallFold } from '../accumulate.ts'

export const INFLUXQL_AGGREGATES = ['count', 'sum', 'mean', 'min', 'max', 'first', 'last', 'spread', 'median', 'mode', 'stddev', 'percentile'] as const
export type InfluxqlAggregate = (typeof INFLUXQL_AGGREGATES)[number]

export const SELECTORS: ReadonlySet<string> = new Set(['min', 'max', 'first', 'last', 'percentile'])

/** Aggregates that need every value of a window, not running state. */
export const NEEDS_VALUES: ReadonlySet<string> = new Set(['median', 'mode', 'stddev', 'percentile'])

interface Run {
  column: Column
  start: number
  end: number
  source: number
}

/** The point a selector picked: its time and the caller's number for the series it came from. */
export interface SelectedPoint {
  timeNs: bigint
  source: number
}

type Raw = number | bigint | string

/** Larger-than for the tie rules: numbers and bigints by value, strings by code units, booleans (0/1) as numbers. */
function greater(a: Raw, b: Raw): boolean {
  return a > b
}

export class Cell {
  count = 0
  sumFloat = 0
  readonly sumInteger = new ExactIntegerSum()
  min: Raw | null = null
  minTimeNs = 0n
  max: Raw | null = null
  maxTimeNs = 0n
  first: Raw | null = null
  firstTimeNs = 0n
  last: Raw | null = null
  lastTimeNs = 0n
  /** The callers' series numbers of the points above (for a selector's other fields and tags). */
  private minSource = 0
  private maxSource = 0
  private firstSource = 0
  private lastSource = 0

  /** The runs added, when an aggregate needs every value (null otherwise). */
  private readonly runs: Run[] | null
  private sorted: Float64Array | BigInt64Array | BigUint64Array | null = null

  /**
   * `sumsOnly`: only count, sum and mean will be asked for, so a run adds its count and sum and
   * nothing else (no bigint per point for an integer field, no extremes or ends).
   */
  constructor(readonly type: FieldTypeCode, keepValues = false, private readonly sumsOnly = false) {
    this.runs = keepValues ? [] : null
  }

  /** Points [start, end) of a time-ordered column of the series the caller numbers `source`. */
  add(column: Column, start: number, end: number, source = 0): void {
    if (end <= start) return
    if (this.sumsOnly) { this.addSums(column, start, end); return }
    this.runs?.push({ column, start, end, source })
    const times = column.times
    const values = column.values as ArrayLike<Raw>
    this.count += end - start
    const numeric = this.type === FieldType.FLOAT
    const integer = this.type === FieldType.INTEGER || this.type === FieldType.UNSIGNED
    if (this.type !== FieldType.STRING) {
      let min = this.min
      let minTime = this.minTimeNs
      let max = this.max
      let maxTime = this.maxTimeNs
      let sumFloat = 0
      let sumInteger = 0n
      for (let i = start; i < end; i++) {
        const v = values[i]!
        // Within a run times grow, so an equal value keeps the earlier point.
        if (min === null || v < min) { min = v; minTime = times[i]! }
        if (max === null || v > max) { max = v; maxTime = times[i]! }
        if (numeric) sumFloat += v as number
        else if (integer) sumInteger += v as bigint
      }
      this.takeExtremes(min!, minTime, max!, maxTime, source)
      this.sumFloat += sumFloat
      if (integer) this.sumInteger.add(sumInteger)
    }
    this.takeFirst(values[start]!, times[start]!, source)
    this.takeLast(values[end - 1]!, times[end - 1]!, source)
  }

  private addSums(column: Column, start: number, end: number): void {
    this.count += end - start
    if (this.type === FieldType.FLOAT) {
      const values = column.values as Float64Array
      let sum = 0
      for (let i = start; i < end; i++) sum += values[i]!
      this.sumFloat += sum
    } else if (this.type === FieldType.INTEGER || this.type === FieldType.UNSIGNED) {
      const values = column.values as BigInt64Array | BigUint64Array
      if (foldSmallIntegers(values, start, end)) this.sumInteger.addSmall(smallFold[2]!)
      else {
        let sum = 0n
        for (let i = start; i < end; i++) sum += values[i]!
        this.sumInteger.add(sum)
      }
    }
  }

  /**
   * Whether a block's index statistics can stand for its points: not for strings (their statistics
   * hold only a count), nor for integers whose float64 sum may have rounded.
   */
  static statsSuffice(type: FieldTypeCode, stats: BlockStats): boolean {
    if (type === FieldType.STRING) return false
    if (type !== FieldType.INTEGER && type !== FieldType.UNSIGNED) return true
    return integerStatsSumExact(stats)
  }

  /**
   * A whole block from its index statistics (statsSuffice holds; no aggregate of the cell needs every
   * value or the time of its min or max: the statistics do not say when the extremes were).
   */
  addStats(stats: BlockStats): void {
    this.count += stats.count
    const integer = this.type === FieldType.INTEGER || this.type === FieldType.UNSIGNED
    const raw = (value: number | bigint | null): Raw => (integer ? BigInt(value!) : Number(value))
    if (integer) this.sumInteger.add(BigInt(stats.sum))
    else this.sumFloat += stats.sum
    this.takeExtremes(raw(stats.min), stats.minTimeNs, raw(stats.max), stats.minTimeNs, 0)
    this.takeFirst(raw(stats.first), stats.minTimeNs, 0)
    this.takeLast(raw(stats.last), stats.maxTimeNs, 0)
  }

  /** The exact sum of an integer or unsigned field. */
  private integerSum(): bigint {
    return this.sumInteger.total()
  }

  private takeExtremes(min: Raw, minTime: bigint, max: Raw, maxTime: bigint, source: number): void {
    if (this.min === null || min < this.min || (min === this.min && minTime < this.minTimeNs)) { this.min = min; this.minTimeNs = minTime; this.minSource = source }
    if (this.max === null || max > this.max || (max === this.max && maxTime < this.maxTimeNs)) { this.max = max; this.maxTimeNs = maxTime; this.maxSource = source }
  }

  private takeFirst(value: Raw, timeNs: bigint, source: number): void {
    if (this.first === null || timeNs < this.firstTimeNs || (timeNs === this.firstTimeNs && greater(value, this.first))) { this.first = value; this.firstTimeNs = timeNs; this.firstSource = source }
  }

  private takeLast(value: Raw, timeNs: bigint, source: number): void {
    if (this.last === null || timeNs > this.lastTimeNs || (timeNs === this.lastTimeNs && greater(value, this.last))) { this.last = value; this.lastTimeNs = timeNs; this.lastSource = source }
  }

  /** The aggregate's value (null over no points); percentile takes its percent. */
  result(fn: InfluxqlAggregate, percent = 0): Value {
    if (fn === 'count') return BigInt(this.count)
    if (this.sumsOnly && fn !== 'sum' && fn !== 'mean') throw new Error(`internal: ${fn} asked of a cell that keeps only sums`)
    if (this.count === 0) return null
    const integer = this.type === FieldType.INTEGER || this.type === FieldType.UNSIGNED
    switch (fn) {
      case 'sum': return integer ? this.integerSum() : this.sumFloat
      case 'mean':
        if (!integer) return this.sumFloat / this.count
        return this.sumInteger.mean(this.count)
      case 'min': return this.typed(this.min!)
      case 'max': return this.typed(this.max!)
      case 'first': return this.typed(this.first!)
      case 'last': return this.typed(this.last!)
      case 'spread': return integer ? (this.max as bigint) - (this.min as bigint) : (this.max as number) - (this.min as number)
      case 'median': return this.median()
      case 'mode': return this.mode()
      case 'stddev': return this.stddev()
      case 'percentile': {
        const index = this.percentileIndex(percent)
        return index === null ? null : this.sortedValues()[index]!
      }
    }
  }

  /** Every value, ascending, in one typed array (float64, int64 or uint64; sorted numerically). */
  private sortedValues(): Float64Array | BigInt64Array | BigUint64Array {
    if (this.sorted) return this.sorted
    // Numeric fields only (booleans and strings are refused before): float64, int64 or uint64 runs.
    const runs = this.runs ?? []
    const Typed = (runs[0]?.column.values.constructor ?? Float64Array) as Float64ArrayConstructor
    const all = new Typed(this.count)
    let at = 0
    for (const { column, start, end } of runs) {
      all.set((column.values as Float64Array).subarray(start, end), at)
      at += end - start
    }
    all.sort()
    this.sorted = all
    return all
  }

  /** The earliest point at which the field has `value` (the one a percentile reports). */
  private earliestPointOf(value: number | bigint): SelectedPoint | null {
    let earliest: SelectedPoint | null = null
    for (const { column, start, end, source } of this.runs ?? []) {
      const values = column.values as ArrayLike<number | bigint>
      for (let i = start; i < end; i++) {
        if (values[i] === value && (earliest === null || column.times[i]! < earliest.timeNs)) { earliest = { timeNs: column.times[i]!, source }; break }
      }
    }
    return earliest
  }

  /** InfluxDB's: the middle value, or the mean of the two middle ones. */
  private median(): number {
    const values = this.sortedValues()
    const n = values.length
    if (n % 2 === 1) return Number(values[(n - 1) / 2]!)
    const low = values[n / 2 - 1]!
    const high = values[n / 2]!
    return typeof low === 'bigint' ? Number(low) + Number((high as bigint) - low) / 2 : low + ((high as number) - low) / 2
  }

  /** The most frequent value; of equally frequent ones the smallest. */
  private mode(): Value {
    const values = this.sortedValues()
    let best = values[0]!
    let bestCount = 0
    for (let i = 0; i < values.length;) {
      let j = i + 1
      while (j < values.length && values[j] === values[i]) j++
      if (j - i > bestCount) { best = values[i]!; bestCount = j - i }
      i = j
    }
    return best
  }

  /** Sample standard deviation as InfluxDB computes it (a running mean, in series then time order); null below two points. */
  private stddev(): number | null {
    if (this.count < 2) return null
    const runs = this.runs ?? []
    let mean = 0
    let count = 0
    for (const { column, start, end } of runs) {
      const values = column.values as ArrayLike<number | bigint>
      for (let i = start; i < end; i++) { count++; mean += (Number(values[i]!) - mean) / count }
    }
    let variance = 0
    for (const { column, start, end } of runs) {
      const values = column.values as ArrayLike<number | bigint>
      for (let i = start; i < end; i++) variance += (Number(values[i]!) - mean) ** 2
    }
    return Math.sqrt(variance / (count - 1))
  }

  /** InfluxDB's nearest-rank index: floor(n × p / 100 + 0.5) - 1, null outside the values. */
  private percentileIndex(percent: number): number | null {
    const n = this.sortedValues().length
    const index = Math.floor(n * percent / 100 + 0.5) - 1
    return index < 0 || index >= n ? null : index
  }

  /** The point a selector picked (null for other aggregates, or a percentile outside the values). */
  selectedPoint(fn: InfluxqlAggregate, percent = 0): SelectedPoint | null {
    if (this.count === 0) return null
    switch (fn) {
      case 'percentile': {
        const index = this.percentileIndex(percent)
        return index === null ? null : this.earliestPointOf(this.sortedValues()[index]!)
      }
      case 'min': return { timeNs: this.minTimeNs, source: this.minSource }
      case 'max': return { timeNs: this.maxTimeNs, source: this.maxSource }
      case 'first': return { timeNs: this.firstTimeNs, source: this.firstSource }
      case 'last': return { timeNs: this.lastTimeNs, source: this.lastSource }
      default: return null
    }
  }

  private typed(value: Raw): Value {
    return this.type === FieldType.BOOLEAN ? value !== 0 : value
  }
}

/** The type of an aggregate's values, for fill: 'integer' values are filled with whole numbers. */
export function resultIsInteger(fn: InfluxqlAggregate, type: FieldTypeCode): boolean {
  if (fn === 'count') return true
  if (fn === 'mean' || fn === 'median' || fn === 'stddev') return false
  return type === FieldType.INTEGER || type === FieldType.UNSIGNED
}
