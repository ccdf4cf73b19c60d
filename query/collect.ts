// Aggregates that need every value of a (group, bucket), not a running state: median, mode,
// stddev, percentile, increase, irate, the gauge functions and the movement (track) functions.
// A ValueCollector holds a cell's points in growing typed arrays (times, values, where each series
// starts); the functions run over them once, at the end. Definitions: docs/query.md.

import { type Column, FieldType, type FieldTypeCode } from '../sinks/index.ts'
import { QueryError, QueryErrorCode } from './errors.ts'
import { geodesicDistance, geodesicInterpolate, parseGeometry, pointWkt, shapeOf, singlePoint, type Coord } from './geo.ts'
import type { ColumnTypeName, Value } from './result.ts'

export const COLLECTED_AGGREGATES = [
  'median', 'mode', 'stddev', 'stddev_pop', 'percentile', 'increase', 'irate',
  'gauge_agg', 'delta', 'time_delta', 'rate', 'idelta_left', 'idelta_right', 'first_val', 'last_val', 'first_time', 'last_time', 'num_elements',
  'st_max_speed', 'st_avg_speed', 'st_track_length', 'st_position_at',
] as const
export type CollectedName = (typeof COLLECTED_AGGREGATES)[number]

/** Accessors written accessor(gauge_agg(time, v)); gauge_agg itself gives the summary as JSON. */
export const GAUGE_ACCESSORS: readonly CollectedName[] = ['delta', 'time_delta', 'rate', 'idelta_left', 'idelta_right', 'first_val', 'last_val', 'first_time', 'last_time', 'num_elements']
/** Functions over a track of POINT positions in time order: fn(time, position[, at]). */
export const TRACK_FUNCTIONS: readonly CollectedName[] = ['st_max_speed', 'st_avg_speed', 'st_track_length', 'st_position_at']

export function isCollected(fn: string): fn is CollectedName {
  return (COLLECTED_AGGREGATES as readonly string[]).includes(fn)
}

const NUMERIC_TYPES: readonly FieldTypeCode[] = [FieldType.FLOAT, FieldType.INTEGER, FieldType.UNSIGNED]

/** The result type of a collected aggregate over a field of `type`; throws when it does not take that type. */
export function collectedType(fn: CollectedName, type: FieldTypeCode, fieldTypeName: ColumnTypeName, sql: string): ColumnTypeName {
  const mismatch = (wants: string): QueryError => new QueryError(QueryErrorCode.TYPE_MISMATCH, `${sql}: the field is ${fieldTypeName}; ${fn} takes ${wants}`)
  if ((TRACK_FUNCTIONS as readonly string[]).includes(fn)) {
    if (type !== FieldType.STRING) throw mismatch('a string field of POINT geometries (WKT or hex WKB)')
    return fn === 'st_position_at' ? 'string' : 'float'
  }
  if (fn === 'mode') return fieldTypeName
  if (!NUMERIC_TYPES.includes(type)) throw mismatch('a numeric field')
  switch (fn) {
    case 'time_delta': case 'num_elements': return 'integer'
    case 'first_time': case 'last_time': return 'timestamp'
    case 'gauge_agg': return 'string'
    default: return 'float'
  }
}

type Values = Float64Array | BigInt64Array | BigUint64Array | Uint8Array | string[]

/** The points of one (group, bucket, field), series after series, each in time order. */
export class ValueCollector {
  times = new BigInt64Array(16)
  values: Values
  length = 0
  /** Index where each series' points start. */
  readonly seriesStarts: number[] = []
  private lastSeries = -1

  constructor(readonly type: FieldTypeCode) {
    this.values = type === FieldType.STRING ? [] : newValues(type, 16)
  }

  addRun(column: Column, start: number, end: number, seriesOrdinal: number): void {
    if (end <= start) return
    if (seriesOrdinal !== this.lastSeries) { this.seriesStarts.push(this.length); this.lastSeries = seriesOrdinal }
    const count = end - start
    this.reserve(this.length + count)
    this.times.set(column.times.subarray(start, end), this.length)
    if (Array.isArray(this.values)) {
      const source = column.values as string[]
      for (let i = start; i < end; i++) this.values.push(source[i]!)
    } else {
      (this.values as Float64Array).set((column.values as Float64Array).subarray(start, end), this.length)
    }
    this.length += count
  }

  private reserve(size: number): void {
    if (size <= this.times.length) return
    let capacity = this.times.length * 2
    while (capacity < size) capacity *= 2
    const times = new BigInt64Array(capacity)
    times.set(this.times.subarray(0, this.length))
    this.times = times
    if (!Array.isArray(this.values)) {
      const values = newValues(this.type, capacity)
      values.set(this.values.subarray(0, this.length) as never)
      this.values = values
    }
  }

  number(i: number): number {
    return Number((this.values as ArrayLike<number | bigint>)[i]!)
  }

  /**
   * Indices in time order. Each series' points are already in time order, so the series' runs are
   * merged pairwise (O(n log k) for k series); on equal times the series read first comes first.
   */
  timeOrder(): Uint32Array {
    let order = new Uint32Array(this.length)
    for (let i = 0; i < order.length; i++) order[i] = i
    let runs = [...this.seriesStarts, this.length]
    const times = this.times
    while (runs.length > 2) {
      const merged = new Uint32Array(this.length)
      const next = [0]
      for (let r = 0; r + 1 < runs.length; r += 2) {
        const end = r + 2 < runs.length ? runs[r + 2]! : runs[r + 1]!
        mergeRuns(order, merged, runs[r]!, runs[r + 1]!, end, times)
        next.push(end)
      }
      order = merged
      runs = next
    }
    return order
  }

  /** The values as float64, NaN left out (it has no order), in no particular order: for selection. */
  numbers(): Float64Array {
    const out = new Float64Array(this.length)
    let n = 0
    for (let i = 0; i < this.length; i++) {
      const v = this.number(i)
      if (v === v) out[n++] = v
    }
    return out.subarray(0, n)
  }
}

/** Merges order[a, b) and order[b, end) (each ascending by time) into out[a, end); ties take the left run. */
function mergeRuns(order: Uint32Array, out: Uint32Array, a: number, b: number, end: number, times: BigInt64Array): void {
  let i = a
  let j = b
  let k = a
  while (i < b && j < end) out[k++] = times[order[j]!]! < times[order[i]!]! ? order[j++]! : order[i++]!
  while (i < b) out[k++] = order[i++]!
  while (j < end) out[k++] = order[j++]!
}

function newValues(type: FieldTypeCode, capacity: number): Float64Array | BigInt64Array | BigUint64Array | Uint8Array {
  switch (type) {
    case FieldType.INTEGER: return new BigInt64Array(capacity)
    case FieldType.UNSIGNED: return new BigUint64Array(capacity)
    case FieldType.BOOLEAN: return new Uint8Array(capacity)
    default: return new Float64Array(capacity)
  }
}

/**
 * Linear interpolation between closest ranks (PostgreSQL percentile_cont, numpy 'linear'): with the
 * values x₀ ≤ … ≤ xₙ₋₁ and h = (n−1)·p, x⌊h⌋ + (h − ⌊h⌋)·(x⌊h⌋₊₁ − x⌊h⌋). Selection, not a sort:
 * O(n) on average. `values` (no NaN) is reordered.
 */
export function percentileOf(values: Float64Array, p: number): number | null {
  const n = values.length
  if (n === 0) return null
  const h = (n - 1) * p
  const low = Math.floor(h)
  const lowValue = select(values, low)
  if (h === low || low + 1 >= n) return lowValue
  // After selection everything right of `low` is ≥ its value: the next rank is their minimum.
  let next = Infinity
  for (let i = low + 1; i < n; i++) if (values[i]! < next) next = values[i]!
  return lowValue + (h - low) * (next - lowValue)
}

/** The k-th smallest (from 0) of `a`, by quickselect with a median-of-three pivot; a sort past 64 rounds bounds the worst case. */
export function select(a: Float64Array, k: number): number {
  let left = 0
  let right = a.length - 1
  for (let round = 0; right > left; round++) {
    if (round === 64) {
      const part = a.subarray(left, right + 1).sort()
      return part[k - left]!
    }
    const x = a[left]!
    const y = a[(left + right) >>> 1]!
    const z = a[right]!
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y)
    let i = left
    let j = right
    while (i <= j) {
      while (a[i]! < pivot) i++
      while (a[j]! > pivot) j--
      if (i <= j) {
        const swap = a[i]!
        a[i++] = a[j]!
        a[j--] = swap
      }
    }
    if (k <= j) right = j
    else if (k >= i) left = i
    else return a[k]!
  }
  return a[k]!
}

/** The most frequent value; on a tie, the smallest of them. */
function modeOf(collector: ValueCollector): Value {
  if (collector.length === 0) return null
  const counts = new Map<number | bigint | string, number>()
  const values = collector.values as ArrayLike<number | bigint | string>
  for (let i = 0; i < collector.length; i++) counts.set(values[i]!, (counts.get(values[i]!) ?? 0) + 1)
  let best: number | bigint | string | null = null
  let bestCount = 0
  for (const [value, count] of counts) {
    if (count > bestCount || (count === bestCount && best !== null && value < best)) { best = value; bestCount = count }
  }
  return collector.type === FieldType.BOOLEAN ? best !== 0 : best
}

/** Standard deviation: sample (n − 1, DataFusion's stddev) or population; two passes for accuracy. */
function stddevOf(collector: ValueCollector, sample: boolean): number | null {
  const n = collector.length
  if (n === 0 || (sample && n < 2)) return null
  let mean = 0
  for (let i = 0; i < n; i++) mean += collector.number(i)
  mean /= n
  let squares = 0
  for (let i = 0; i < n; i++) { const d = collector.number(i) - mean; squares += d * d }
  return Math.sqrt(squares / (sample ? n - 1 : n))
}

/**
 * increase: per series, the sum of the steps between consecutive points, where a drop means the
 * counter restarted from 0 (the step is then the new value), then summed over the group's series.
 * No extrapolation to the bucket's edges. Null when no series has two points.
 */
export function increaseOf(collector: ValueCollector): number | null {
  let total = 0
  let pairs = 0
  const starts = [...collector.seriesStarts, collector.length]
  for (let s = 0; s + 1 < starts.length; s++) {
    for (let i = starts[s]! + 1; i < starts[s + 1]!; i++) {
      const previous = collector.number(i - 1)
      const current = collector.number(i)
      total += current >= previous ? current - previous : current
      pairs++
    }
  }
  return pairs === 0 ? null : total
}

const NS_PER_SECOND = 1e9

/** irate: per second between the last two points in time (a drop counts as a restart from 0, as Prometheus). */
export function irateOf(collector: ValueCollector, order: Uint32Array): number | null {
  if (order.length < 2) return null
  const last = order[order.length - 1]!
  const previous = order[order.length - 2]!
  const seconds = Number(collector.times[last]! - collector.times[previous]!) / NS_PER_SECOND
  if (seconds <= 0) return null
  const v = collector.number(last)
  const u = collector.number(previous)
  return (v >= u ? v - u : v) / seconds
}

/** gauge_agg's summary: the first, second, penultimate and last points in time, and the count (CnosDB). */
interface GaugeSummary {
  first: number
  second: number
  penultimate: number
  last: number
  count: number
}

function gaugeOf(collector: ValueCollector, order: Uint32Array): GaugeSummary | null {
  const n = order.length
  if (n === 0) return null
  return { first: order[0]!, second: order[Math.min(1, n - 1)]!, penultimate: order[Math.max(n - 2, 0)]!, last: order[n - 1]!, count: n }
}

function gaugeResult(fn: CollectedName, collector: ValueCollector, order: Uint32Array): Value {
  const gauge = gaugeOf(collector, order)
  if (gauge === null) return fn === 'num_elements' ? 0n : null
  const t = (i: number): bigint => collector.times[i]!
  const v = (i: number): number => collector.number(i)
  switch (fn) {
    case 'delta': return v(gauge.last) - v(gauge.first)
    case 'time_delta': return t(gauge.last) - t(gauge.first)
    case 'rate': {
      // CnosDB divides by the time delta in the table's raw unit: nanoseconds.
      const ns = t(gauge.last) - t(gauge.first)
      return ns === 0n ? null : (v(gauge.last) - v(gauge.first)) / Number(ns)
    }
    case 'idelta_left': return gauge.count < 2 ? null : v(gauge.second) - v(gauge.first)
    case 'idelta_right': return gauge.count < 2 ? null : v(gauge.last) - v(gauge.penultimate)
    case 'first_val': return v(gauge.first)
    case 'last_val': return v(gauge.last)
    case 'first_time': return t(gauge.first)
    case 'last_time': return t(gauge.last)
    case 'num_elements': return BigInt(gauge.count)
    case 'gauge_agg': {
      const point = (i: number): { ts: string; val: number } => ({ ts: String(t(i)), val: v(i) })
      return JSON.stringify({ first: point(gauge.first), second: point(gauge.second), penultimate: point(gauge.penultimate), last: point(gauge.last), num_elements: gauge.count })
    }
    default: throw new Error(`unreachable: ${fn} is not a gauge function`)
  }
}

/** The track's positions in time order, each a POINT(longitude latitude). */
function trackOf(collector: ValueCollector, order: Uint32Array, fn: string): { times: bigint[]; points: Coord[] } {
  const values = collector.values as string[]
  const times: bigint[] = []
  const points: Coord[] = []
  for (const i of order) {
    times.push(collector.times[i]!)
    points.push(singlePoint(shapeOf(parseGeometry(values[i]!, fn)), fn))
  }
  return { times, points }
}

function trackResult(fn: CollectedName, collector: ValueCollector, order: Uint32Array, atNs: bigint | null): Value {
  const { times, points } = trackOf(collector, order, fn)
  if (points.length === 0) return null
  switch (fn) {
    case 'st_track_length': {
      let metres = 0
      for (let i = 1; i < points.length; i++) metres += geodesicDistance(points[i - 1]!, points[i]!, fn)
      return metres
    }
    case 'st_max_speed': {
      let best: number | null = null
      for (let i = 1; i < points.length; i++) {
        const seconds = Number(times[i]! - times[i - 1]!) / NS_PER_SECOND
        if (seconds <= 0) continue
        const speed = geodesicDistance(points[i - 1]!, points[i]!, fn) / seconds
        if (best === null || speed > best) best = speed
      }
      return best
    }
    case 'st_avg_speed': {
      const seconds = Number(times[times.length - 1]! - times[0]!) / NS_PER_SECOND
      if (seconds <= 0) return null
      let metres = 0
      for (let i = 1; i < points.length; i++) metres += geodesicDistance(points[i - 1]!, points[i]!, fn)
      return metres / seconds
    }
    case 'st_position_at': return positionAt(times, points, atNs!)
    default: throw new Error(`unreachable: ${fn} is not a track function`)
  }
}

/** The position at `atNs`: a fix at that time, else the geodesic interpolation between the fixes around it; null outside the track. */
function positionAt(times: bigint[], points: Coord[], atNs: bigint): string | null {
  if (atNs < times[0]! || atNs > times[times.length - 1]!) return null
  let after = 0
  while (times[after]! < atNs) after++
  if (times[after] === atNs) return pointWkt(points[after]!)
  const before = after - 1
  const fraction = Number(atNs - times[before]!) / Number(times[after]! - times[before]!)
  return pointWkt(geodesicInterpolate(points[before]!, points[after]!, fraction))
}

/** The value of a collected aggregate; `parameter` is percentile's p or st_position_at's time. */
export function collectedResult(fn: CollectedName, collector: ValueCollector | undefined, parameter: number | bigint | null): Value {
  if (!collector || collector.length === 0) return fn === 'num_elements' ? 0n : null
  switch (fn) {
    case 'median': return percentileOf(collector.numbers(), 0.5)
    case 'percentile': return percentileOf(collector.numbers(), parameter as number)
    case 'mode': return modeOf(collector)
    case 'stddev': return stddevOf(collector, true)
    case 'stddev_pop': return stddevOf(collector, false)
    case 'increase': return increaseOf(collector)
    case 'irate': return irateOf(collector, collector.timeOrder())
    default:
      if ((TRACK_FUNCTIONS as readonly string[]).includes(fn)) return trackResult(fn, collector, collector.timeOrder(), parameter as bigint | null)
      return gaugeResult(fn, collector, collector.timeOrder())
  }
}
