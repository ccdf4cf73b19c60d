// Where a flush or a compaction cuts the time-ordered points of one (series, field) into blocks.
// A block ends at an aligned time boundary (a multiple of `alignNs` since the epoch, as date_bin
// buckets) once it holds `minPoints`, and at `maxPoints` at the latest. Queries answer a bucket
// from block statistics only when a block lies inside it, so 10 s data gets hour-long blocks that
// hourly buckets read from the index, while a slow series keeps blocks of several hours, still
// ending on a boundary. A flush's run starts wherever the memtable did, mid-hour, so there
// (`firstBlockToBoundary`) the first block ends at the first boundary whatever it holds: no
// flushed block straddles an hour, at the price of one short block per (series, field) per flush,
// which compaction (whose runs start at a series' first point) merges away. With `alignNs` 0
// blocks are cut at `maxPoints` only.

import { type Column, FieldType, sliceColumn } from './encoding/block.ts'
import { lowerBound } from './merge.ts'

export interface BlockCutLimits {
  maxPoints: number
  /** At most maxPoints (a larger value acts as maxPoints). */
  minPoints: number
  /** 0n: no alignment. */
  alignNs: bigint
  /** The first block ends at the first boundary, however few points it holds (flushes). */
  firstBlockToBoundary?: boolean
}

/** The first aligned boundary strictly after `timeNs` (floor division, so negative times align too). */
export function alignedEndNs(timeNs: bigint, alignNs: bigint): bigint {
  let bucket = timeNs / alignNs
  if (timeNs % alignNs !== 0n && timeNs < 0n) bucket -= 1n
  return (bucket + 1n) * alignNs
}

/**
 * Cuts a stream of time-ordered chunks (one (series, field), times strictly increasing across
 * chunks) into blocks: `push` each chunk and write the blocks it yields, then those of `finish`.
 */
export class BlockCutter {
  private pending: Column[] = []
  private count = 0
  /** Once the block holds minPoints: the boundary it ends before (null: none, cut at maxPoints). */
  private boundaryNs: bigint | null = null
  private reachedMin = false
  private firstBlock: boolean
  private readonly minPoints: number

  constructor(private readonly limits: BlockCutLimits) {
    this.firstBlock = limits.firstBlockToBoundary === true
    this.minPoints = limits.alignNs > 0n ? Math.max(1, Math.min(limits.minPoints, limits.maxPoints)) : limits.maxPoints
  }

  *push(chunk: Column): Generator<Column> {
    const times = chunk.times
    const n = times.length
    let start = 0
    while (start < n) {
      if (!this.reachedMin) {
        const take = Math.min(n - start, (this.firstBlock ? 1 : this.minPoints) - this.count)
        this.append(sliceColumn(chunk, start, start + take))
        start += take
        if (this.count < (this.firstBlock ? 1 : this.minPoints)) return
        this.reachedMin = true
        this.boundaryNs = this.limits.alignNs > 0n ? alignedEndNs(times[start - 1]!, this.limits.alignNs) : null
        if (this.count === this.limits.maxPoints) yield this.take()
        continue
      }
      const limit = Math.min(n, start + this.limits.maxPoints - this.count)
      const cut = this.boundaryNs === null ? limit : lowerBound(times, this.boundaryNs, start, limit)
      if (cut > start) this.append(sliceColumn(chunk, start, cut))
      start = cut
      if (this.count === this.limits.maxPoints || cut < limit) yield this.take()
    }
  }

  *finish(): Generator<Column> {
    if (this.count > 0) yield this.take()
  }

  /**
   * Whether a point at `timeNs` would end the pending block here: nothing is pending, or the block
   * holds its minimum and `timeNs` is past its boundary. Then finish() yields what push() would,
   * and a block starting at `timeNs` starts afresh.
   */
  cutsBefore(timeNs: bigint): boolean {
    return this.count === 0 || (this.reachedMin && this.boundaryNs !== null && timeNs >= this.boundaryNs)
  }

  private append(column: Column): void {
    this.pending.push(column)
    this.count += column.times.length
  }

  private take(): Column {
    const block = concatColumns(this.pending)
    this.pending = []
    this.count = 0
    this.firstBlock = false
    this.reachedMin = false
    this.boundaryNs = null
    return block
  }
}

/** The blocks of one time-ordered column. */
export function cutColumn(column: Column, limits: BlockCutLimits): Column[] {
  return [...cutChunks([column], limits)]
}

/** The blocks of time-ordered chunks of one (series, field), times strictly increasing across them (a memtable column's pieces). */
export function* cutChunks(chunks: Iterable<Column>, limits: BlockCutLimits): Generator<Column> {
  const cutter = new BlockCutter(limits)
  for (const chunk of chunks) yield* cutter.push(chunk)
  yield* cutter.finish()
}

export function concatColumns(columns: Column[]): Column {
  if (columns.length === 1) return columns[0]!
  const adjacent = adjacentView(columns)
  if (adjacent !== null) return adjacent
  const count = columns.reduce((n, c) => n + c.times.length, 0)
  const times = new BigInt64Array(count)
  const type = columns[0]!.type
  if (type === FieldType.STRING) {
    let at = 0
    const values: string[] = []
    for (const c of columns) { times.set(c.times, at); at += c.times.length; for (const v of c.values as string[]) values.push(v) }
    return { type, times, values }
  }
  const first = columns[0]!.values as Float64Array
  const values = new (first.constructor as Float64ArrayConstructor)(count)
  let at = 0
  for (const c of columns) {
    times.set(c.times, at)
    values.set(c.values as Float64Array, at)
    at += c.times.length
  }
  return { type, times, values }
}

/**
 * The columns as one view when they are consecutive slices of the same arrays (a cutter's pieces of
 * one memtable column or one decoded block, the common case): no copy. Null otherwise.
 */
function adjacentView(columns: Column[]): Column | null {
  const first = columns[0]!
  if (first.type === FieldType.STRING) return null
  const values = first.values as Float64Array
  const times = first.times
  let count = 0
  for (const column of columns) {
    const nextValues = column.values as Float64Array
    if (column.times.buffer !== times.buffer || column.times.byteOffset !== times.byteOffset + count * 8) return null
    if (nextValues.buffer !== values.buffer || nextValues.byteOffset !== values.byteOffset + count * values.BYTES_PER_ELEMENT) return null
    count += column.times.length
  }
  const Values = values.constructor as Float64ArrayConstructor
  return { type: first.type, times: new BigInt64Array(times.buffer, times.byteOffset, count), values: new Values(values.buffer, values.byteOffset, count) }
}
