// What a worker's scan hands back: the partial aggregate states of its series in the order the
// serial path folds them into cells (one entry per run of a chunk in a bucket, per block answered
// from statistics, per row count), the points of the runs collected aggregates keep, and the
// collected-point counts. Columns of typed arrays, transferred, not copied. The main thread replays
// the entries in series order (replay.ts): float sums then add up in exactly the serial order.

import { type Column, FieldType, type FieldTypeCode } from '../../sinks/index.ts'
import { FieldAccumulator } from '../accumulate.ts'
import type { QueryStats } from '../result.ts'

export const EntryKind = {
  /** A partial FieldAccumulator to merge into the cell's. */
  PARTIAL: 0,
  /** Points [pointsStart, pointsStart + count) for the cell's ValueCollector. */
  POINTS: 1,
  /** `count` points of a chunk counted against the collected-points limit. */
  COLLECTED: 2,
} as const

const Flag = { BUCKET_NULL: 1, MIN_NULL: 2, MAX_NULL: 4, FIRST_NULL: 8, LAST_NULL: 16 } as const
const STATS = 4 // min, max, first, last

/** The log as sent: every array is trimmed to its length and owns its buffer. */
export interface PartialLogData {
  entries: number
  kind: Uint8Array
  flags: Uint8Array
  type: Uint8Array
  key: Int32Array
  bucketNs: BigInt64Array
  count: Float64Array
  sumFloat: Float64Array
  sumInteger: BigInt64Array
  /** Integer sums beyond 64 bits, by entry. */
  bigSums: [number, bigint][]
  /** min, max, first, last per entry: floats and booleans (strings: an index into `strings`). */
  statFloat: Float64Array
  /** min, max, first, last per entry: integers, and unsigned as their int64 bits. */
  statInteger: BigInt64Array
  firstTimeNs: BigInt64Array
  lastTimeNs: BigInt64Array
  pointsStart: Int32Array
  keys: string[]
  strings: string[]
  /** Entry index where each series of the task starts. */
  seriesStarts: Int32Array
  pointTimes: BigInt64Array
  pointFloats: Float64Array
  pointIntegers: BigInt64Array
  pointBooleans: Uint8Array
  pointStrings: string[]
  stats: QueryStats
}

type NumericArray = Float64Array | BigInt64Array | Int32Array | Uint8Array

/** A typed array that doubles when full. */
class Growing<T extends NumericArray> {
  length = 0
  constructor(public array: T) {}

  /** Room for `extra` more elements; returns the array to write them into at `length`. */
  reserve(extra: number): T {
    const needed = this.length + extra
    if (needed > this.array.length) {
      let capacity = Math.max(16, this.array.length * 2)
      while (capacity < needed) capacity *= 2
      const grown = new (this.array.constructor as new (n: number) => T)(capacity)
      grown.set(this.array as never)
      this.array = grown
    }
    return this.array
  }

  trimmed(): T {
    return this.array.slice(0, this.length) as T
  }
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

export class PartialLogWriter {
  private readonly kind = new Growing(new Uint8Array(256))
  private readonly flags = new Growing(new Uint8Array(256))
  private readonly type = new Growing(new Uint8Array(256))
  private readonly key = new Growing(new Int32Array(256))
  private readonly bucketNs = new Growing(new BigInt64Array(256))
  private readonly count = new Growing(new Float64Array(256))
  private readonly sumFloat = new Growing(new Float64Array(256))
  private readonly sumInteger = new Growing(new BigInt64Array(256))
  private readonly statFloat = new Growing(new Float64Array(256 * STATS))
  private readonly statInteger = new Growing(new BigInt64Array(256 * STATS))
  private readonly firstTimeNs = new Growing(new BigInt64Array(256))
  private readonly lastTimeNs = new Growing(new BigInt64Array(256))
  private readonly pointsStart = new Growing(new Int32Array(256))
  private readonly columns = [this.kind, this.flags, this.type, this.key, this.bucketNs, this.count, this.sumFloat, this.sumInteger, this.firstTimeNs, this.lastTimeNs, this.pointsStart]
  private readonly bigSums: [number, bigint][] = []
  private readonly keys: string[] = []
  private readonly keyIndex = new Map<string, number>()
  private readonly strings: string[] = []
  private readonly seriesStarts: number[] = []
  private readonly pointTimes = new Growing(new BigInt64Array(256))
  private readonly pointFloats = new Growing(new Float64Array(256))
  private readonly pointIntegers = new Growing(new BigInt64Array(256))
  private readonly pointBooleans = new Growing(new Uint8Array(256))
  private readonly pointStrings: string[] = []

  /** Entries so far. */
  get entries(): number {
    return this.kind.length
  }

  /** Points held for collectors so far. */
  get points(): number {
    return this.pointTimes.length
  }

  beginSeries(): void {
    this.seriesStarts.push(this.entries)
  }

  /** A partial state, to merge into the accumulator of (bucket, key) of the series' group. */
  addPartial(bucketNs: bigint | null, key: string, partial: FieldAccumulator): void {
    const at = this.entry(EntryKind.PARTIAL, bucketNs, key, partial.type, partial.count)
    this.sumFloat.array[at] = partial.sumFloat
    const sumInteger = partial.integerSum()
    if (sumInteger < INT64_MIN || sumInteger > INT64_MAX) this.bigSums.push([at, sumInteger])
    else this.sumInteger.array[at] = sumInteger
    const stats = [partial.min, partial.max, partial.first, partial.last]
    let flags = this.flags.array[at]!
    for (let s = 0; s < STATS; s++) {
      const value = stats[s]!
      if (value === null) flags |= Flag.MIN_NULL << s
      else if (typeof value === 'number') this.statFloat.array[at * STATS + s] = value
      else if (typeof value === 'bigint') this.statInteger.array[at * STATS + s] = BigInt.asIntN(64, value)
      else { this.statFloat.array[at * STATS + s] = this.strings.length; this.strings.push(value) }
    }
    this.flags.array[at] = flags
    this.firstTimeNs.array[at] = partial.firstTimeNs ?? 0n
    this.lastTimeNs.array[at] = partial.lastTimeNs ?? 0n
  }

  /**
   * Points [start, end) of a chunk, for the collector of (bucket, key) of the series' group. Every
   * value pool is indexed like the times pool (a query collecting fields of two types leaves gaps).
   */
  addPoints(bucketNs: bigint | null, key: string, column: Column, start: number, end: number): void {
    const count = end - start
    const at = this.entry(EntryKind.POINTS, bucketNs, key, column.type, count)
    const from = this.pointTimes.length
    this.pointsStart.array[at] = from
    this.pointTimes.reserve(count).set(column.times.subarray(start, end), from)
    this.pointTimes.length += count
    const values = column.values
    if (Array.isArray(values)) {
      while (this.pointStrings.length < from) this.pointStrings.push('')
      for (let i = start; i < end; i++) this.pointStrings.push(values[i]!)
      return
    }
    const pool = values instanceof Float64Array ? this.pointFloats : values instanceof Uint8Array ? this.pointBooleans : this.pointIntegers
    const part = values instanceof BigUint64Array ? new BigInt64Array(values.buffer, values.byteOffset + start * 8, count) : values.subarray(start, end)
    pool.length = Math.max(pool.length, from)
    ;(pool.reserve(count) as Float64Array).set(part as Float64Array, from)
    pool.length = from + count
  }

  /** A chunk's points counted against the collected-points limit. */
  addCollected(count: number): void {
    this.entry(EntryKind.COLLECTED, null, '', FieldType.FLOAT, count)
  }

  finish(stats: QueryStats): { data: PartialLogData; transfer: ArrayBuffer[] } {
    const data: PartialLogData = {
      entries: this.entries,
      kind: this.kind.trimmed(), flags: this.flags.trimmed(), type: this.type.trimmed(), key: this.key.trimmed(),
      bucketNs: this.bucketNs.trimmed(), count: this.count.trimmed(), sumFloat: this.sumFloat.trimmed(), sumInteger: this.sumInteger.trimmed(),
      bigSums: this.bigSums, statFloat: this.statFloat.trimmed(), statInteger: this.statInteger.trimmed(),
      firstTimeNs: this.firstTimeNs.trimmed(), lastTimeNs: this.lastTimeNs.trimmed(), pointsStart: this.pointsStart.trimmed(),
      keys: this.keys, strings: this.strings, seriesStarts: Int32Array.from(this.seriesStarts),
      pointTimes: this.pointTimes.trimmed(), pointFloats: this.pointFloats.trimmed(), pointIntegers: this.pointIntegers.trimmed(),
      pointBooleans: this.pointBooleans.trimmed(), pointStrings: this.pointStrings, stats,
    }
    const transfer = Object.values(data).flatMap((v) => (ArrayBuffer.isView(v) ? [v.buffer as ArrayBuffer] : []))
    return { data, transfer }
  }

  /** A new entry with every column one longer; returns its index. */
  private entry(kind: number, bucketNs: bigint | null, key: string, type: FieldTypeCode, count: number): number {
    const at = this.entries
    for (const column of this.columns) { column.reserve(1); column.length++ }
    this.statFloat.reserve(STATS); this.statFloat.length += STATS
    this.statInteger.reserve(STATS); this.statInteger.length += STATS
    this.kind.array[at] = kind
    this.flags.array[at] = bucketNs === null ? Flag.BUCKET_NULL : 0
    this.type.array[at] = type
    let keyAt = this.keyIndex.get(key)
    if (keyAt === undefined) { keyAt = this.keys.length; this.keys.push(key); this.keyIndex.set(key, keyAt) }
    this.key.array[at] = keyAt
    this.bucketNs.array[at] = bucketNs ?? 0n
    this.count.array[at] = count
    return at
  }
}

/** Reads a log back on the main thread. */
export class PartialLogReader {
  private readonly columns = new Map<FieldTypeCode, Column>()
  private readonly bigSums: Map<number, bigint>

  constructor(readonly data: PartialLogData) {
    this.bigSums = new Map(data.bigSums)
  }

  /** Entries [start, end) of the task's series `index`. */
  seriesEntries(index: number): [number, number] {
    const starts = this.data.seriesStarts
    return [starts[index]!, index + 1 < starts.length ? starts[index + 1]! : this.data.entries]
  }

  bucketNs(at: number): bigint | null {
    return (this.data.flags[at]! & Flag.BUCKET_NULL) !== 0 ? null : this.data.bucketNs[at]!
  }

  key(at: number): string {
    return this.data.keys[this.data.key[at]!]!
  }

  /** Merges entry `at` (a PARTIAL) into `target`, as FieldAccumulator.addRun/addStats/addCount would have changed it. */
  mergeInto(target: FieldAccumulator, at: number): void {
    const { data } = this
    target.count += data.count[at]!
    target.sumFloat += data.sumFloat[at]!
    target.sumInteger.add(this.bigSums.get(at) ?? data.sumInteger[at]!)
    const min = this.stat(at, 0)
    // A NaN seen first is replaced by the next number, as in FieldAccumulator.addNumbers.
    if (min !== null && (target.min === null || min < target.min || target.min !== target.min)) target.min = min
    const max = this.stat(at, 1)
    if (max !== null && (target.max === null || max > target.max || target.max !== target.max)) target.max = max
    const first = this.stat(at, 2)
    const firstTimeNs = data.firstTimeNs[at]!
    if (first !== null && (target.firstTimeNs === null || firstTimeNs < target.firstTimeNs)) { target.firstTimeNs = firstTimeNs; target.first = first }
    const last = this.stat(at, 3)
    const lastTimeNs = data.lastTimeNs[at]!
    if (last !== null && (target.lastTimeNs === null || lastTimeNs > target.lastTimeNs)) { target.lastTimeNs = lastTimeNs; target.last = last }
  }

  /** The points of entry `at` (a POINTS) as a column and the run [start, end) in it. */
  points(at: number): { column: Column; start: number; end: number } {
    const type = this.data.type[at]! as FieldTypeCode
    const start = this.data.pointsStart[at]!
    return { column: this.column(type), start, end: start + this.data.count[at]! }
  }

  private stat(at: number, which: number): number | bigint | string | null {
    if ((this.data.flags[at]! & (Flag.MIN_NULL << which)) !== 0) return null
    const slot = at * STATS + which
    switch (this.data.type[at]) {
      case FieldType.INTEGER: return this.data.statInteger[slot]!
      case FieldType.UNSIGNED: return BigInt.asUintN(64, this.data.statInteger[slot]!)
      case FieldType.STRING: return this.data.strings[this.data.statFloat[slot]!]!
      default: return this.data.statFloat[slot]!
    }
  }

  /** The task's collected points of one type as a column over the shared times. */
  private column(type: FieldTypeCode): Column {
    let column = this.columns.get(type)
    if (column) return column
    const { data } = this
    const values = type === FieldType.FLOAT ? data.pointFloats
      : type === FieldType.BOOLEAN ? data.pointBooleans
      : type === FieldType.STRING ? data.pointStrings
      : type === FieldType.UNSIGNED ? new BigUint64Array(data.pointIntegers.buffer, data.pointIntegers.byteOffset, data.pointIntegers.length)
      : data.pointIntegers
    column = { type, times: data.pointTimes, values }
    this.columns.set(type, column)
    return column
  }
}
