// The memtable: points applied since the last freeze, per (series, field), as growable typed
// arrays in apply order. A column is normalized (sorted by time, one value per time: the last
// applied wins) lazily, into fresh arrays, so a scan holding an older view is never disturbed.

import type { ChangelogColumns, FieldValue } from '../../schemas/index.ts'
import { type Column, type ColumnValues, type FieldTypeCode, FieldType, allocateValues, sliceValues } from './encoding/block.ts'
import { LOW_WORD, HIGH_WORD } from '../../lib/bytes/endianness.ts'

/** Estimated bytes of a column beyond its points, and of a point (time + value). */
const COLUMN_OVERHEAD_BYTES = 256
/** A new column's capacity, in points, when nothing says how many it will get. */
const INITIAL_CAPACITY = 16
const POINT_BYTES = 16

export function fieldTypeOf(value: FieldValue): FieldTypeCode {
  switch (typeof value) {
    case 'number': return FieldType.FLOAT
    case 'bigint': return FieldType.INTEGER
    case 'boolean': return FieldType.BOOLEAN
    case 'string': return FieldType.STRING
    default: return FieldType.UNSIGNED
  }
}

function storedValue(value: FieldValue): number | bigint | string {
  switch (typeof value) {
    case 'number': case 'bigint': case 'string': return value
    case 'boolean': return value ? 1 : 0
    default: return value.unsigned
  }
}

/** An Int32Array over a 64-bit typed array's memory; an empty one for other value arrays (never written). */
function wordsOf(values: ColumnValues): Int32Array {
  return values instanceof BigInt64Array || values instanceof BigUint64Array ? new Int32Array(values.buffer, values.byteOffset, 2 * values.length) : EMPTY_WORDS
}
const EMPTY_WORDS = new Int32Array(0)

/** Whether 64-bit time a of `words` (int32 words: signed high, unsigned low) is before time b of `other`. */
function wordsBefore(words: Int32Array, a: number, other: Int32Array, b: number): boolean {
  const highA = words[2 * a + HIGH_WORD]!
  const highB = other[2 * b + HIGH_WORD]!
  return highA < highB || (highA === highB && words[2 * a + LOW_WORD]! >>> 0 < other[2 * b + LOW_WORD]! >>> 0)
}

/**
 * Positions [0, length) ordered by time (int64 as int32 words: signed high, unsigned low), equal
 * times in position order: a merge sort of the ascending runs already there (a memtable column is
 * runs of entries, each in time order, sometimes applied out of order).
 */
export function sortedOrder(words: Int32Array, length: number): Int32Array {
  let order = new Int32Array(length)
  for (let i = 0; i < length; i++) order[i] = i
  const before = (a: number, b: number): boolean => {
    const highA = words[2 * a + HIGH_WORD]!
    const highB = words[2 * b + HIGH_WORD]!
    return highA < highB || (highA === highB && words[2 * a + LOW_WORD]! >>> 0 < words[2 * b + LOW_WORD]! >>> 0)
  }
  // Run starts: where a time is below the one before it.
  let starts: number[] = [0]
  for (let i = 1; i < length; i++) if (before(i, i - 1)) starts.push(i)
  let scratch = new Int32Array(length)
  while (starts.length > 1) {
    const merged: number[] = []
    for (let r = 0; r < starts.length; r += 2) {
      const from = starts[r]!
      const middle = r + 1 < starts.length ? starts[r + 1]! : length
      const to = r + 2 < starts.length ? starts[r + 2]! : length
      merged.push(from)
      // Stable: on equal times the left run (earlier positions) goes first.
      let i = from
      let j = middle
      let k = from
      while (i < middle && j < to) scratch[k++] = before(order[j]!, order[i]!) ? order[j++]! : order[i++]!
      while (i < middle) scratch[k++] = order[i++]!
      while (j < to) scratch[k++] = order[j++]!
    }
    const swap = order
    order = scratch
    scratch = swap
    starts = merged
  }
  return order
}

/**
 * runPieces looks for the earliest head among all runs for every piece: with r runs about 2r² steps,
 * kept under this many per point (else sortedOrder's merge, n log r, is cheaper).
 */
const SPLICE_STEPS_PER_POINT = 16

/** XORed into an int32 so that signed order is the unsigned order of the original. */
const SIGN_BIT = -0x80000000

/**
 * A column applied out of order is ascending runs (entries, as 4 connections deliver bodies out of
 * order); the runs of different bodies hardly interleave. This returns the column in time order as
 * pieces of those runs, [pieces[2i], pieces[2i + 1]) one after another, each copied whole: a merge
 * of the runs that takes from the run with the earliest head everything before the next head.
 * Null when a time repeats (the last applied must win: sortedOrder and a deduplication), when there
 * are too many runs for the length (SPLICE_STEPS_PER_POINT), or when the pieces average under 8 points.
 */
export function runPieces(words: Int32Array, length: number): Int32Array | null {
  const heads = runHeads(words, length)
  if (heads === null) return null
  if (heads.length > 16 && heads.length * heads.length > SPLICE_STEPS_PER_POINT * length) return null
  const pieces = mergeRuns(words, heads, length)
  return pieces === null ? null : Int32Array.from(pieces)
}

/**
 * The order of the times at points a and b: -1, 0 or 1. The low words are compared unsigned as
 * int32s with the sign bit flipped: `>>> 0` made values from 2^31 up doubles, and code V8 had
 * optimized on-stack for smaller ones was deoptimized ("lost precision") and entered again on
 * every later call, 65 times in a bench:e2e day (node --trace-deopt).
 */
function compareTimes(words: Int32Array, a: number, b: number): number {
  const highA = words[2 * a + HIGH_WORD]!
  const highB = words[2 * b + HIGH_WORD]!
  if (highA !== highB) return highA < highB ? -1 : 1
  const lowA = words[2 * a + LOW_WORD]! ^ SIGN_BIT
  const lowB = words[2 * b + LOW_WORD]! ^ SIGN_BIT
  return lowA < lowB ? -1 : lowA > lowB ? 1 : 0
}

/** Where each ascending run of [0, length) starts; null when a time repeats. */
function runHeads(words: Int32Array, length: number): number[] | null {
  const heads: number[] = [0]
  for (let i = 1; i < length; i++) {
    const step = compareTimes(words, i - 1, i)
    if (step === 0) return null
    if (step > 0) heads.push(i)
  }
  return heads
}

/** runPieces's merge of the runs starting at `heads` (consumed): the pieces as [from, to) pairs. */
function mergeRuns(words: Int32Array, heads: number[], length: number): number[] | null {
  const ends: number[] = []
  for (let r = 0; r < heads.length; r++) ends.push(r + 1 < heads.length ? heads[r + 1]! : length)
  const pieces: number[] = []
  for (;;) {
    let best = -1
    let second = -1
    for (let r = 0; r < heads.length; r++) {
      if (heads[r]! >= ends[r]!) continue
      if (best < 0 || compareTimes(words, heads[r]!, heads[best]!) < 0) { second = best; best = r } else if (second < 0 || compareTimes(words, heads[r]!, heads[second]!) < 0) second = r
    }
    if (best < 0) break
    let to = ends[best]!
    if (second >= 0) {
      const next = heads[second]!
      if (compareTimes(words, heads[best]!, next) === 0) return null
      // The first position of the best run at or after the next head.
      let low = heads[best]! + 1
      let high = to
      while (low < high) {
        const middle = (low + high) >> 1
        if (compareTimes(words, middle, next) < 0) low = middle + 1
        else high = middle
      }
      if (low < to && compareTimes(words, low, next) === 0) return null
      to = low
    }
    pieces.push(heads[best]!, to)
    heads[best] = to
    if (pieces.length > 16 && pieces.length > length / 4) return null
  }
  return pieces
}

export class MemColumn {
  length = 0
  /** Times strictly increasing over [0, length). */
  normalized = true
  stringBytes = 0
  private timesArray: BigInt64Array
  private valuesArray: ColumnValues
  /** Int32Array views of times and (64-bit types) values: appendColumnsValue copies words, never a bigint. */
  private timeWords: Int32Array
  private valueWords: Int32Array

  /** `capacity`: points to make room for at once (then it doubles as needed). */
  constructor(readonly type: FieldTypeCode, capacity = INITIAL_CAPACITY) {
    this.timesArray = new BigInt64Array(capacity)
    this.timeWords = new Int32Array(this.timesArray.buffer)
    this.valuesArray = allocateValues(type, capacity)
    this.valueWords = wordsOf(this.valuesArray)
  }

  get times(): BigInt64Array {
    return this.timesArray
  }

  set times(times: BigInt64Array) {
    this.timesArray = times
    this.timeWords = new Int32Array(times.buffer, times.byteOffset, 2 * times.length)
  }

  get values(): ColumnValues {
    return this.valuesArray
  }

  set values(values: ColumnValues) {
    this.valuesArray = values
    this.valueWords = wordsOf(values)
  }

  get estimatedBytes(): number {
    return COLUMN_OVERHEAD_BYTES + this.times.length * POINT_BYTES + this.stringBytes
  }

  append(timeNs: bigint, value: FieldValue): void {
    if (this.length === this.times.length) this.grow()
    if (this.normalized && this.length > 0 && this.times[this.length - 1]! >= timeNs) this.normalized = false
    this.times[this.length] = timeNs
    const stored = storedValue(value)
    if (typeof stored === 'string') this.stringBytes += 2 * stored.length + 16
    ;(this.values as unknown as (typeof stored)[])[this.length] = stored
    this.length++
  }

  /** Appends value k of a decoded changelog entry, whose type must be this column's. */
  appendColumnsValue(entry: ChangelogColumns, k: number): void {
    if (this.length === this.timesArray.length) this.grow()
    const at = this.length
    const point = entry.valuePoint[k]!
    const low = entry.timeWords[2 * point + LOW_WORD]!
    const high = entry.timeWords[2 * point + HIGH_WORD]!
    const timeWords = this.timeWords
    if (this.normalized && at > 0) {
      const lastHigh = timeWords[2 * (at - 1) + HIGH_WORD]!
      if (lastHigh > high || (lastHigh === high && timeWords[2 * (at - 1) + LOW_WORD]! >>> 0 >= low >>> 0)) this.normalized = false
    }
    timeWords[2 * at + LOW_WORD] = low
    timeWords[2 * at + HIGH_WORD] = high
    switch (this.type) {
      case FieldType.INTEGER: case FieldType.UNSIGNED:
        this.valueWords[2 * at] = entry.valueWords[2 * k]!
        this.valueWords[2 * at + 1] = entry.valueWords[2 * k + 1]!
        break
      case FieldType.FLOAT: case FieldType.BOOLEAN:
        (this.valuesArray as Float64Array | Uint8Array)[at] = entry.valueDoubles[k]!
        break
      default: {
        const text = entry.valueStrings[k]!
        this.stringBytes += 2 * text.length + 16
        ;(this.valuesArray as string[])[at] = text
      }
    }
    this.length = at + 1
  }

  /**
   * Appends the values of names[slot] of a regular decoded entry (ChangelogColumns.regular), one
   * per point, whose type must be this column's: what appendColumnsValue does for each of them, the
   * times copied at once.
   */
  appendColumnsSlot(entry: ChangelogColumns, slot: number): void {
    const count = entry.pointCount
    const stride = entry.names.length
    const at = this.length
    if (count === 0) return
    let capacity = this.timesArray.length
    while (capacity < at + count) capacity = Math.max(INITIAL_CAPACITY, capacity * 2)
    if (capacity !== this.timesArray.length) this.grow(capacity)
    const timeWords = this.timeWords
    if (this.normalized && (!entry.timesAscending || (at > 0 && !wordsBefore(timeWords, at - 1, entry.timeWords, 0)))) this.normalized = false
    timeWords.set(entry.timeWords.subarray(0, 2 * count), 2 * at)
    switch (this.type) {
      case FieldType.INTEGER: case FieldType.UNSIGNED: {
        const from = entry.valueWords
        const to = this.valueWords
        for (let p = 0, k = slot; p < count; p++, k += stride) {
          to[2 * (at + p)] = from[2 * k]!
          to[2 * (at + p) + 1] = from[2 * k + 1]!
        }
        break
      }
      case FieldType.FLOAT: case FieldType.BOOLEAN: {
        const from = entry.valueDoubles
        const to = this.valuesArray as Float64Array | Uint8Array
        for (let p = 0, k = slot; p < count; p++, k += stride) to[at + p] = from[k]!
        break
      }
      default: {
        const from = entry.valueStrings
        const to = this.valuesArray as string[]
        for (let p = 0, k = slot; p < count; p++, k += stride) {
          const text = from[k]!
          this.stringBytes += 2 * text.length + 16
          to[at + p] = text
        }
      }
    }
    this.length = at + count
  }

  /** `capacity`: by default the next doubling (at least INITIAL_CAPACITY). */
  private grow(capacity = Math.max(INITIAL_CAPACITY, this.times.length * 2)): void {
    const times = new BigInt64Array(capacity)
    times.set(this.times)
    const values = allocateValues(this.type, capacity)
    if (Array.isArray(values)) for (let i = 0; i < this.length; i++) values[i] = (this.values as string[])[i]!
    else (values as Float64Array).set(this.values as Float64Array)
    this.times = times
    this.values = values
  }

  /** The points sorted by time, the last applied value winning per time. */
  view(): Column {
    if (!this.normalized) this.normalize()
    return { type: this.type, times: this.times.subarray(0, this.length), values: sliceValues(this.values, 0, this.length) }
  }

  private normalize(): void {
    const pieces = runPieces(this.timeWords, this.length)
    if (pieces !== null) return this.concatenatePieces(pieces)
    const order = sortedOrder(this.timeWords, this.length)
    // Equal times lie together in apply order: keep the last of each.
    const words = this.timeWords
    let kept = 0
    for (let k = 0; k < order.length; k++) {
      if (k + 1 < order.length) {
        const next = order[k + 1]!
        const at = order[k]!
        if (words[2 * next] === words[2 * at] && words[2 * next + 1] === words[2 * at + 1]) continue
      }
      order[kept++] = order[k]!
    }
    this.rebuild(order, kept)
  }

  /** The pieces [pieces[2i], pieces[2i + 1]) one after another in fresh arrays, each copied whole (runPieces). */
  private concatenatePieces(runs: Int32Array): void {
    const count = this.length
    const times = new BigInt64Array(Math.max(16, count))
    const values = allocateValues(this.type, times.length)
    let at = 0
    for (let r = 0; r < runs.length; r += 2) {
      const from = runs[r]!
      const to = runs[r + 1]!
      times.set(this.timesArray.subarray(from, to), at)
      if (Array.isArray(values)) for (let i = from; i < to; i++) values[at + i - from] = (this.valuesArray as string[])[i]!
      else (values as Float64Array).set((this.valuesArray as Float64Array).subarray(from, to), at)
      at += to - from
    }
    this.times = times
    this.values = values
    this.normalized = true
  }

  /** Keeps the points at positions order[0, count), in that order, in fresh arrays. */
  private rebuild(order: ArrayLike<number>, count: number): void {
    const capacity = Math.max(16, count)
    const times = new BigInt64Array(capacity)
    const values = allocateValues(this.type, capacity)
    // Copied as int32 words (times, 64-bit values) or numbers: no bigint per point.
    const timeWords = new Int32Array(times.buffer)
    const sourceTimes = this.timeWords
    for (let i = 0; i < count; i++) {
      const from = order[i]!
      timeWords[2 * i] = sourceTimes[2 * from]!
      timeWords[2 * i + 1] = sourceTimes[2 * from + 1]!
    }
    this.stringBytes = 0
    if (this.type === FieldType.STRING) {
      const source = this.valuesArray as string[]
      const target = values as string[]
      for (let i = 0; i < count; i++) {
        const text = source[order[i]!]!
        target[i] = text
        this.stringBytes += 2 * text.length + 16
      }
    } else if (this.type === FieldType.INTEGER || this.type === FieldType.UNSIGNED) {
      const source = this.valueWords
      const target = wordsOf(values)
      for (let i = 0; i < count; i++) {
        const from = order[i]!
        target[2 * i] = source[2 * from]!
        target[2 * i + 1] = source[2 * from + 1]!
      }
    } else {
      const source = this.valuesArray as Float64Array | Uint8Array
      const target = values as Float64Array | Uint8Array
      for (let i = 0; i < count; i++) target[i] = source[order[i]!]!
    }
    this.times = times
    this.values = values
    this.length = count
    this.normalized = true
  }

  /** Removes points with fromNs ≤ time < toNs (null = unbounded); returns how many. */
  deleteRange(fromNs: bigint | null, toNs: bigint | null): number {
    if (!this.normalized) this.normalize()
    const keep: number[] = []
    for (let i = 0; i < this.length; i++) {
      const t = this.times[i]!
      if ((fromNs !== null && t < fromNs) || (toNs !== null && t >= toNs)) keep.push(i)
    }
    const removed = this.length - keep.length
    if (removed > 0) this.rebuild(keep, keep.length)
    return removed
  }
}

/** Points per (series id, field) of a flushed memtable: the next one's column capacities (Memtable.pointCounts). */
export type ColumnSizes = ReadonlyMap<string, ReadonlyMap<string, number>>

export class Memtable {
  readonly columns = new Map<string, Map<string, MemColumn>>()
  /** Series whose catalog entry (field types) this memtable must carry into its segment. */
  readonly touchedSeries = new Set<string>()
  estimatedBytes = 0
  points = 0
  /** Assigned when frozen: the segment sequence number its data will have. */
  seq = -1

  /**
   * `sizes`: how many points each column of the previous memtable got. A replica flushing on a
   * timer fills about as many again, so a column starts with that room (rounded up to a power of
   * two, as doubling would have reached) instead of 16 doubled to it: 7-8 allocations and copies
   * of a column's arrays per flush were about a fortieth of a node's main thread in bench:e2e.
   */
  constructor(private readonly sizes?: ColumnSizes) {}

  /** Points per column, for the next memtable's constructor. */
  pointCounts(): ColumnSizes {
    const sizes = new Map<string, Map<string, number>>()
    for (const [seriesId, fields] of this.columns) sizes.set(seriesId, new Map([...fields].map(([field, column]) => [field, column.length])))
    return sizes
  }

  column(seriesId: string, field: string, type: FieldTypeCode): MemColumn {
    let fields = this.columns.get(seriesId)
    if (!fields) this.columns.set(seriesId, fields = new Map())
    let column = fields.get(field)
    if (!column) {
      const expected = this.sizes?.get(seriesId)?.get(field) ?? 0
      const capacity = expected > INITIAL_CAPACITY ? 2 ** Math.ceil(Math.log2(expected)) : INITIAL_CAPACITY
      fields.set(field, column = new MemColumn(type, capacity))
      this.estimatedBytes += column.estimatedBytes
    }
    return column
  }

  /** Appends the values of names[slot] of a regular decoded entry to `column` (of their type): appendColumnsValue for each. */
  appendColumnsSlot(column: MemColumn, entry: ChangelogColumns, slot: number): void {
    const before = column.estimatedBytes
    column.appendColumnsSlot(entry, slot)
    this.estimatedBytes += column.estimatedBytes - before
    this.points += entry.pointCount
  }

  /** Appends value k of a decoded changelog entry to `column` (of its type): Memtable.append without a FieldValue. */
  appendColumnsValue(column: MemColumn, entry: ChangelogColumns, k: number): void {
    if (column.length === column.times.length || column.type === FieldType.STRING) {
      const before = column.estimatedBytes
      column.appendColumnsValue(entry, k)
      this.estimatedBytes += column.estimatedBytes - before
    } else {
      column.appendColumnsValue(entry, k)
    }
    this.points++
  }

  append(column: MemColumn, timeNs: bigint, value: FieldValue): void {
    if (column.length === column.times.length || column.type === FieldType.STRING) {
      const before = column.estimatedBytes
      column.append(timeNs, value)
      this.estimatedBytes += column.estimatedBytes - before
    } else {
      column.append(timeNs, value)
    }
    this.points++
  }

  get(seriesId: string, field: string): MemColumn | undefined {
    return this.columns.get(seriesId)?.get(field)
  }

  deleteRange(seriesId: string, fromNs: bigint | null, toNs: bigint | null): void {
    const fields = this.columns.get(seriesId)
    if (!fields) return
    for (const [name, column] of fields) {
      const before = column.estimatedBytes
      this.points -= column.deleteRange(fromNs, toNs)
      this.estimatedBytes += column.estimatedBytes - before
      if (column.length === 0) fields.delete(name)
    }
    if (fields.size === 0) this.columns.delete(seriesId)
  }
}
