// The memtable: points applied since the last freeze, per (series, field), as pieces of typed
// arrays in apply order. A column is normalized (sorted by time, one value per time: the last
// applied wins) lazily, into fresh arrays, so a scan holding an older view is never disturbed.

import type { ChangelogColumns, FieldValue } from '../../schemas/index.ts'
import { type Column, type ColumnValues, type FieldTypeCode, FieldType, allocateValues, copySlices, lowerBound, sliceColumn, sliceValues } from './encoding/block.ts'
import { LOW_WORD, HIGH_WORD } from '../../lib/bytes/endianness.ts'
import { concatColumns } from './block-cuts.ts'
import { type TimeRange, overlaps } from './merge.ts'

/** Estimated bytes of a column beyond its points, of a piece beyond its points, and of a point (time + value). */
const COLUMN_OVERHEAD_BYTES = 256
const PIECE_OVERHEAD_BYTES = 192
const POINT_BYTES = 16
/** A new column's first piece, in points, when nothing says how many it will get. */
const INITIAL_CAPACITY = 16
/** The room of a column's pieces after the first, at most: what a column leaves unused, at most. */
const PIECE_MAX_POINTS = 1024

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

/** A piece of a column: room for times.length points, [0, length) written. */
interface Piece {
  times: BigInt64Array
  values: ColumnValues
  /** Int32Array views of times and (64-bit types) values: appends copy words, never a bigint. */
  timeWords: Int32Array
  valueWords: Int32Array
  length: number
}

/** Bytes of a value in a piece's buffer, by type (strings are kept in an array of their own). */
const VALUE_BYTES: Record<FieldTypeCode, number> = { [FieldType.FLOAT]: 8, [FieldType.INTEGER]: 8, [FieldType.UNSIGNED]: 8, [FieldType.BOOLEAN]: 1, [FieldType.STRING]: 0 }

/** A piece whose times and (typed) values share one buffer: one allocation outside V8's heap, not two. */
function newPiece(type: FieldTypeCode, capacity: number): Piece {
  const buffer = new ArrayBuffer(capacity * (8 + VALUE_BYTES[type]))
  const times = new BigInt64Array(buffer, 0, capacity)
  const at = capacity * 8
  let values: ColumnValues
  switch (type) {
    case FieldType.FLOAT: values = new Float64Array(buffer, at, capacity); break
    case FieldType.INTEGER: values = new BigInt64Array(buffer, at, capacity); break
    case FieldType.UNSIGNED: values = new BigUint64Array(buffer, at, capacity); break
    case FieldType.BOOLEAN: values = new Uint8Array(buffer, at, capacity); break
    default: values = allocateValues(type, capacity)
  }
  return { times, values, timeWords: new Int32Array(buffer, 0, 2 * capacity), valueWords: wordsOf(values), length: 0 }
}

function pieceOf(column: Column): Piece {
  const times = column.times
  return { times, values: column.values, timeWords: new Int32Array(times.buffer, times.byteOffset, 2 * times.length), valueWords: wordsOf(column.values), length: times.length }
}

/**
 * Whether the time at point a of `words` is before the one given as int32 words (signed high,
 * unsigned low; the low words compared as compareTimes does, without `>>> 0`).
 */
function timeBefore(words: Int32Array, a: number, high: number, low: number): boolean {
  const highA = words[2 * a + HIGH_WORD]!
  return highA < high || (highA === high && (words[2 * a + LOW_WORD]! ^ SIGN_BIT) < (low ^ SIGN_BIT))
}

/**
 * The points of one (series, field) in a memtable, in apply order, in pieces: a column grows by
 * adding a piece (each twice the room of the one before, up to PIECE_MAX_POINTS), never by copying
 * what it holds into larger arrays, so it copies nothing and leaves at most one piece's room unused.
 * Doubling whole arrays made a TSBS day's column of 8,640 points hold room for 16,384 and copy
 * 16,368 on the way (bench:e2e, docs/benchmarks.md).
 *
 * Normalizing (sorted by time, one value per time: the last applied wins) rewrites only from the
 * piece where the points applied out of order land, into a fresh piece: the pieces before it stay
 * as they are, and a scan holding an older view is never disturbed.
 */
export class MemColumn {
  length = 0
  stringBytes = 0
  /** Room of all pieces, in points. */
  capacity = 0
  /** Points [0, sortedLength) have times strictly increasing (the column is normalized when that is all of them). */
  private sortedLength = 0
  private pieces: Piece[] = []

  /** `capacity`: points the first piece makes room for (the next ones double it, up to PIECE_MAX_POINTS). */
  constructor(readonly type: FieldTypeCode, private readonly firstCapacity = INITIAL_CAPACITY) {}

  /** Times strictly increasing over [0, length). */
  get normalized(): boolean {
    return this.sortedLength === this.length
  }

  get estimatedBytes(): number {
    return COLUMN_OVERHEAD_BYTES + this.pieces.length * PIECE_OVERHEAD_BYTES + this.capacity * POINT_BYTES + this.stringBytes
  }

  /** The piece the next point goes to: the last one, or a new one when it is full. */
  private writable(): Piece {
    const last = this.pieces[this.pieces.length - 1]
    if (last !== undefined && last.length < last.times.length) return last
    const capacity = last === undefined ? Math.max(1, this.firstCapacity) : Math.max(INITIAL_CAPACITY, Math.min(PIECE_MAX_POINTS, 2 * last.times.length))
    const piece = newPiece(this.type, capacity)
    this.pieces.push(piece)
    this.capacity += capacity
    return piece
  }

  /** Whether the column's last point is before the time given as int32 words (true for an empty column). */
  private lastBefore(high: number, low: number): boolean {
    const last = this.pieces[this.pieces.length - 1]
    return last === undefined || timeBefore(last.timeWords, last.length - 1, high, low)
  }

  append(timeNs: bigint, value: FieldValue): void {
    const last = this.pieces[this.pieces.length - 1]
    const sorted = this.normalized && (last === undefined || last.times[last.length - 1]! < timeNs)
    const piece = this.writable()
    piece.times[piece.length] = timeNs
    const stored = storedValue(value)
    if (typeof stored === 'string') this.stringBytes += 2 * stored.length + 16
    ;(piece.values as unknown as (typeof stored)[])[piece.length] = stored
    piece.length++
    this.length++
    if (sorted) this.sortedLength = this.length
  }

  /** Appends value k of a decoded changelog entry, whose type must be this column's. */
  appendColumnsValue(entry: ChangelogColumns, k: number): void {
    const point = entry.valuePoint[k]!
    const low = entry.timeWords[2 * point + LOW_WORD]!
    const high = entry.timeWords[2 * point + HIGH_WORD]!
    const sorted = this.normalized && this.lastBefore(high, low)
    const piece = this.writable()
    const at = piece.length
    piece.timeWords[2 * at + LOW_WORD] = low
    piece.timeWords[2 * at + HIGH_WORD] = high
    switch (this.type) {
      case FieldType.INTEGER: case FieldType.UNSIGNED:
        piece.valueWords[2 * at] = entry.valueWords[2 * k]!
        piece.valueWords[2 * at + 1] = entry.valueWords[2 * k + 1]!
        break
      case FieldType.FLOAT: case FieldType.BOOLEAN:
        (piece.values as Float64Array | Uint8Array)[at] = entry.valueDoubles[k]!
        break
      default: {
        const text = entry.valueStrings[k]!
        this.stringBytes += 2 * text.length + 16
        ;(piece.values as string[])[at] = text
      }
    }
    piece.length = at + 1
    this.length++
    if (sorted) this.sortedLength = this.length
  }

  /**
   * Appends the values of names[slot] of a regular decoded entry (ChangelogColumns.regular), one
   * per point, whose type must be this column's: what appendColumnsValue does for each of them, the
   * times copied a piece at a time.
   */
  appendColumnsSlot(entry: ChangelogColumns, slot: number): void {
    const count = entry.pointCount
    if (count === 0) return
    const stride = entry.names.length
    const sorted = this.normalized && entry.timesAscending && this.lastBefore(entry.timeWords[HIGH_WORD]!, entry.timeWords[LOW_WORD]!)
    for (let done = 0; done < count;) {
      const piece = this.writable()
      const at = piece.length
      const n = Math.min(count - done, piece.times.length - at)
      piece.timeWords.set(entry.timeWords.subarray(2 * done, 2 * (done + n)), 2 * at)
      switch (this.type) {
        case FieldType.INTEGER: case FieldType.UNSIGNED: {
          const from = entry.valueWords
          const to = piece.valueWords
          for (let p = 0, k = slot + done * stride; p < n; p++, k += stride) {
            to[2 * (at + p)] = from[2 * k]!
            to[2 * (at + p) + 1] = from[2 * k + 1]!
          }
          break
        }
        case FieldType.FLOAT: case FieldType.BOOLEAN: {
          const from = entry.valueDoubles
          const to = piece.values as Float64Array | Uint8Array
          for (let p = 0, k = slot + done * stride; p < n; p++, k += stride) to[at + p] = from[k]!
          break
        }
        default: {
          const from = entry.valueStrings
          const to = piece.values as string[]
          for (let p = 0, k = slot + done * stride; p < n; p++, k += stride) {
            const text = from[k]!
            this.stringBytes += 2 * text.length + 16
            to[at + p] = text
          }
        }
      }
      piece.length = at + n
      done += n
    }
    this.length += count
    if (sorted) this.sortedLength = this.length
  }

  /** The points sorted by time, the last applied value winning per time, as consecutive pieces. */
  view(): Column[] {
    if (!this.normalized) this.normalize()
    return this.pieces.map((piece) => this.columnOf(piece))
  }

  private columnOf(piece: Piece): Column {
    return { type: this.type, times: piece.times.subarray(0, piece.length), values: sliceValues(piece.values, 0, piece.length) }
  }

  /** Whether a point's time lies outside every one of `ranges`, read in apply order (the column is not put in order). */
  hasTimeOutside(ranges: readonly TimeRange[]): boolean {
    if (ranges.length === 0) return this.length > 0
    for (const piece of this.pieces) {
      for (let i = 0; i < piece.length; i++) {
        const time = piece.times[i]!
        if (!ranges.some((range) => overlaps(time, time, range))) return true
      }
    }
    return false
  }

  /** The first and last time, or null when the column is empty. */
  span(): [bigint, bigint] | null {
    if (this.length === 0) return null
    if (!this.normalized) this.normalize()
    const first = this.pieces[0]!
    const last = this.pieces[this.pieces.length - 1]!
    return [first.times[0]!, last.times[last.length - 1]!]
  }

  /** Replaces the points by `pieces` (consecutive in time order), taking their arrays: a read view's copy of a memtable. */
  adopt(pieces: Column[]): void {
    this.replaceWith(pieces.map(pieceOf))
  }

  private replaceWith(pieces: Piece[]): void {
    this.pieces = pieces.filter((piece) => piece.length > 0)
    this.length = this.capacity = this.stringBytes = 0
    for (const piece of this.pieces) {
      this.length += piece.length
      this.capacity += piece.times.length
      if (Array.isArray(piece.values)) this.stringBytes += stringBytesOf(piece.values, piece.length)
    }
    this.sortedLength = this.length
  }

  /**
   * Puts the points in order. The points applied since the column was last in order can only move
   * those at or after the earliest of them: the pieces wholly before it are kept, and the rest
   * (from the first piece holding such a point) are rewritten into one fresh piece.
   */
  private normalize(): void {
    const pieces = this.pieces
    // The earliest time applied out of order, as words.
    let minHigh = 0
    let minLow = 0
    let found = false
    for (let p = 0, start = 0; p < pieces.length; start += pieces[p]!.length, p++) {
      const piece = pieces[p]!
      for (let i = Math.max(0, this.sortedLength - start); i < piece.length; i++) {
        if (!found || timeBefore(piece.timeWords, i, minHigh, minLow)) {
          minHigh = piece.timeWords[2 * i + HIGH_WORD]!
          minLow = piece.timeWords[2 * i + LOW_WORD]!
          found = true
        }
      }
    }
    // The first piece that holds a point applied out of order or a time not before the earliest of them.
    let first = 0
    let start = 0
    while (first < pieces.length) {
      const piece = pieces[first]!
      if (start + piece.length > this.sortedLength || !timeBefore(piece.timeWords, piece.length - 1, minHigh, minLow)) break
      start += piece.length
      first++
    }
    const region = pieces.slice(first)
    const source = region.length === 1 ? region[0]! : pieceOf(concatColumns(region.map((piece) => this.columnOf(piece))))
    if (this.type === FieldType.STRING) this.stringBytes -= stringBytesOf(source.values as string[], source.length)
    const ordered = orderedPiece(this.type, source)
    if (this.type === FieldType.STRING) this.stringBytes += stringBytesOf(ordered.values as string[], ordered.length)
    for (const piece of region) this.capacity -= piece.times.length
    pieces.length = first
    pieces.push(ordered)
    this.capacity += ordered.times.length
    this.length = start + ordered.length
    this.sortedLength = this.length
  }

  /** Removes points with fromNs ≤ time < toNs (null = unbounded); returns how many. */
  deleteRange(fromNs: bigint | null, toNs: bigint | null): number {
    const kept: Column[] = []
    let removed = 0
    for (const piece of this.view()) {
      const from = fromNs === null ? 0 : lowerBound(piece.times, fromNs)
      const to = toNs === null ? piece.times.length : lowerBound(piece.times, toNs)
      if (to <= from) { kept.push(piece); continue }
      removed += to - from
      if (from > 0) kept.push(sliceColumn(piece, 0, from))
      if (to < piece.times.length) kept.push(sliceColumn(piece, to, piece.times.length))
    }
    if (removed === 0) return 0
    const count = this.length - removed
    this.replaceWith(count === 0 ? [] : [pieceOf(concatColumns(kept))])
    return removed
  }
}

function stringBytesOf(values: string[], count: number): number {
  let bytes = 0
  for (let i = 0; i < count; i++) bytes += 2 * values[i]!.length + 16
  return bytes
}

/**
 * The points of `source` sorted by time, the last applied winning per time, in a fresh piece with
 * room for about as many again (at most PIECE_MAX_POINTS) for the points that follow.
 */
function orderedPiece(type: FieldTypeCode, source: Piece): Piece {
  const count = source.length
  const room = (kept: number): number => kept + Math.max(INITIAL_CAPACITY, Math.min(PIECE_MAX_POINTS, kept))
  const runs = runPieces(source.timeWords, count)
  if (runs !== null) {
    const out = newPiece(type, room(count))
    out.length = copySlices(source, runs, out, 0)
    return out
  }
  const order = sortedOrder(source.timeWords, count)
  // Equal times lie together in apply order: keep the last of each.
  const words = source.timeWords
  let kept = 0
  for (let k = 0; k < order.length; k++) {
    if (k + 1 < order.length) {
      const next = order[k + 1]!
      const at = order[k]!
      if (words[2 * next] === words[2 * at] && words[2 * next + 1] === words[2 * at + 1]) continue
    }
    order[kept++] = order[k]!
  }
  const out = newPiece(type, room(kept))
  // Copied as int32 words (times, 64-bit values) or numbers: no bigint per point.
  const timeWords = out.timeWords
  for (let i = 0; i < kept; i++) {
    const from = order[i]!
    timeWords[2 * i] = words[2 * from]!
    timeWords[2 * i + 1] = words[2 * from + 1]!
  }
  if (type === FieldType.STRING) {
    const from = source.values as string[]
    const to = out.values as string[]
    for (let i = 0; i < kept; i++) to[i] = from[order[i]!]!
  } else if (type === FieldType.INTEGER || type === FieldType.UNSIGNED) {
    const from = source.valueWords
    const to = out.valueWords
    for (let i = 0; i < kept; i++) {
      const at = order[i]!
      to[2 * i] = from[2 * at]!
      to[2 * i + 1] = from[2 * at + 1]!
    }
  } else {
    const from = source.values as Float64Array | Uint8Array
    const to = out.values as Float64Array | Uint8Array
    for (let i = 0; i < kept; i++) to[i] = from[order[i]!]!
  }
  out.length = kept
  return out
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
   * timer fills about as many again, so a column's first piece makes room for that many instead
   * of 16: one piece, where growing from 16 would take 7-11.
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
      fields.set(field, column = new MemColumn(type, Math.max(INITIAL_CAPACITY, expected)))
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
    if (column.length === column.capacity || column.type === FieldType.STRING) {
      const before = column.estimatedBytes
      column.appendColumnsValue(entry, k)
      this.estimatedBytes += column.estimatedBytes - before
    } else {
      column.appendColumnsValue(entry, k)
    }
    this.points++
  }

  append(column: MemColumn, timeNs: bigint, value: FieldValue): void {
    if (column.length === column.capacity || column.type === FieldType.STRING) {
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
