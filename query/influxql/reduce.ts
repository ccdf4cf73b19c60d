// InfluxQL's reducers over one (output series, field, time window): count, sum, mean, min, max,
// first, last and spread, fed time-ordered runs of typed arrays. Ties follow InfluxDB 1.x: min and
// max keep the earliest point of equal values, first and last the larger value of equal times
// (series of one group meet at the same times).

import { type Column, FieldType, type FieldTypeCode } from '../../sinks/index.ts'
import type { Value } from '../result.ts'

export const INFLUXQL_AGGREGATES = ['count', 'sum', 'mean', 'min', 'max', 'first', 'last', 'spread'] as const
export type InfluxqlAggregate = (typeof INFLUXQL_AGGREGATES)[number]

export const SELECTORS: ReadonlySet<string> = new Set(['min', 'max', 'first', 'last'])

type Raw = number | bigint | string

/** Larger-than for the tie rules: numbers and bigints by value, strings by code units, booleans (0/1) as numbers. */
function greater(a: Raw, b: Raw): boolean {
  return a > b
}

export class Cell {
  count = 0
  sumFloat = 0
  sumInteger = 0n
  min: Raw | null = null
  minTimeNs = 0n
  max: Raw | null = null
  maxTimeNs = 0n
  first: Raw | null = null
  firstTimeNs = 0n
  last: Raw | null = null
  lastTimeNs = 0n

  constructor(readonly type: FieldTypeCode) {}

  /** Points [start, end) of a time-ordered column. */
  add(column: Column, start: number, end: number): void {
    if (end <= start) return
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
      this.takeExtremes(min!, minTime, max!, maxTime)
      this.sumFloat += sumFloat
      this.sumInteger += sumInteger
    }
    this.takeFirst(values[start]!, times[start]!)
    this.takeLast(values[end - 1]!, times[end - 1]!)
  }

  private takeExtremes(min: Raw, minTime: bigint, max: Raw, maxTime: bigint): void {
    if (this.min === null || min < this.min || (min === this.min && minTime < this.minTimeNs)) { this.min = min; this.minTimeNs = minTime }
    if (this.max === null || max > this.max || (max === this.max && maxTime < this.maxTimeNs)) { this.max = max; this.maxTimeNs = maxTime }
  }

  private takeFirst(value: Raw, timeNs: bigint): void {
    if (this.first === null || timeNs < this.firstTimeNs || (timeNs === this.firstTimeNs && greater(value, this.first))) { this.first = value; this.firstTimeNs = timeNs }
  }

  private takeLast(value: Raw, timeNs: bigint): void {
    if (this.last === null || timeNs > this.lastTimeNs || (timeNs === this.lastTimeNs && greater(value, this.last))) { this.last = value; this.lastTimeNs = timeNs }
  }

  /** The aggregate's value (null over no points). */
  result(fn: InfluxqlAggregate): Value {
    if (fn === 'count') return BigInt(this.count)
    if (this.count === 0) return null
    const integer = this.type === FieldType.INTEGER || this.type === FieldType.UNSIGNED
    switch (fn) {
      case 'sum': return integer ? this.sumInteger : this.sumFloat
      case 'mean': return integer ? Number(this.sumInteger) / this.count : this.sumFloat / this.count
      case 'min': return this.typed(this.min!)
      case 'max': return this.typed(this.max!)
      case 'first': return this.typed(this.first!)
      case 'last': return this.typed(this.last!)
      case 'spread': return integer ? (this.max as bigint) - (this.min as bigint) : (this.max as number) - (this.min as number)
    }
  }

  /** The time of the point a selector picked. */
  selectedTimeNs(fn: InfluxqlAggregate): bigint | null {
    switch (fn) {
      case 'min': return this.minTimeNs
      case 'max': return this.maxTimeNs
      case 'first': return this.firstTimeNs
      case 'last': return this.lastTimeNs
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
  if (fn === 'mean') return false
  return type === FieldType.INTEGER || type === FieldType.UNSIGNED
}
