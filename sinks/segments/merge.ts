// Column helpers of the read path: cut a column to a time range, drop deleted ranges, and merge
// sources (each a time-ordered stream of columns) where, at equal times, the newest source wins.

import { type Column, type ColumnValues, allocateValues, lowerBound, sliceColumn } from './encoding/block.ts'

/** A half-open time range; null bounds are unbounded. */
export interface TimeRange {
  fromNs: bigint | null
  toNs: bigint | null
}

export { lowerBound }

export function cutToRange(column: Column, range: TimeRange): Column {
  const start = range.fromNs === null ? 0 : lowerBound(column.times, range.fromNs)
  const end = range.toNs === null ? column.times.length : lowerBound(column.times, range.toNs)
  if (start === 0 && end === column.times.length) return column
  return sliceColumn(column, start, Math.max(start, end))
}

export function overlaps(minNs: bigint, maxNs: bigint, range: TimeRange): boolean {
  return (range.fromNs === null || maxNs >= range.fromNs) && (range.toNs === null || minNs < range.toNs)
}

export function covers(range: TimeRange, minNs: bigint, maxNs: bigint): boolean {
  return (range.fromNs === null || minNs >= range.fromNs) && (range.toNs === null || maxNs < range.toNs)
}

/** The column without points in any of the deleted ranges. */
export function removeRanges(column: Column, deleted: readonly TimeRange[]): Column {
  const count = column.times.length
  if (count === 0 || deleted.length === 0) return column
  const relevant = deleted.filter((r) => overlaps(column.times[0]!, column.times[count - 1]!, r))
  if (relevant.length === 0) return column
  const keep: number[] = []
  for (let i = 0; i < count; i++) {
    const t = column.times[i]!
    let dead = false
    for (const r of relevant) {
      if ((r.fromNs === null || t >= r.fromNs) && (r.toNs === null || t < r.toNs)) { dead = true; break }
    }
    if (!dead) keep.push(i)
  }
  return gather(column, keep)
}

export function gather(column: Column, positions: readonly number[]): Column {
  const times = new BigInt64Array(positions.length)
  const values = allocateValues(column.type, positions.length)
  const source = column.values as unknown as ArrayLike<unknown>
  const target = values as unknown as unknown[]
  for (let i = 0; i < positions.length; i++) {
    times[i] = column.times[positions[i]!]!
    target[i] = source[positions[i]!]
  }
  return { type: column.type, times, values }
}

class ChunkBuilder {
  times: BigInt64Array
  values: ColumnValues
  length = 0

  constructor(readonly type: Column['type'], readonly capacity: number) {
    this.times = new BigInt64Array(capacity)
    this.values = allocateValues(type, capacity)
  }

  push(column: Column, index: number): void {
    this.times[this.length] = column.times[index]!
    ;(this.values as unknown as unknown[])[this.length] = (column.values as unknown as ArrayLike<unknown>)[index]
    this.length++
  }

  take(): Column {
    const out = sliceColumn({ type: this.type, times: this.times, values: this.values }, 0, this.length)
    this.times = new BigInt64Array(this.capacity)
    this.values = allocateValues(this.type, this.capacity)
    this.length = 0
    return out
  }
}

interface Head {
  source: Iterator<Column>
  column: Column | null
  index: number
}

function advance(head: Head): void {
  while (head.column === null || head.index >= head.column.times.length) {
    const next = head.source.next()
    if (next.done) { head.column = null; return }
    head.column = next.value
    head.index = 0
  }
}

/**
 * Merges sources, sources[0] the newest: at equal times only the newest source's value is kept.
 * Runs that no other source interleaves pass through as slices, without copying.
 */
export function* mergeSources(sources: Iterator<Column>[], chunkMaxPoints: number): Generator<Column> {
  const heads: Head[] = sources.map((source) => ({ source, column: null, index: 0 }))
  for (const head of heads) advance(head)
  let live = heads.filter((h) => h.column !== null)
  let builder: ChunkBuilder | null = null
  while (live.length > 0) {
    let best = live[0]!
    let second: bigint | null = null
    for (let h = 1; h < live.length; h++) {
      const head = live[h]!
      const t = head.column!.times[head.index]!
      const bestTime = best.column!.times[best.index]!
      if (t < bestTime) { second = bestTime; best = head } else if (second === null || t < second) second = t
    }
    const column = best.column!
    const end = second === null ? column.times.length : lowerBound(column.times, second)
    if (end > best.index + 1 || second === null || column.times[best.index]! < second) {
      // A run of `best` strictly before every other head: no conflicts inside it.
      const runEnd = Math.min(end, best.index + chunkMaxPoints)
      if (builder !== null && builder.length > 0) yield builder.take()
      yield sliceColumn(column, best.index, runEnd)
      best.index = runEnd
    } else {
      // Equal times at several heads: the newest (lowest position in `heads`) wins, all advance.
      const time = column.times[best.index]!
      let winner: Head | null = null
      for (const head of heads) {
        if (head.column === null || head.column.times[head.index] !== time) continue
        if (winner === null) winner = head
        else head.index++
      }
      builder ??= new ChunkBuilder(column.type, chunkMaxPoints)
      builder.push(winner!.column!, winner!.index)
      winner!.index++
      if (builder.length === chunkMaxPoints) yield builder.take()
    }
    for (const head of live) advance(head)
    live = live.filter((h) => h.column !== null)
  }
  if (builder !== null && builder.length > 0) yield builder.take()
}

/** The distinct times of several arrays, sorted. */
export function uniqueSorted(parts: BigInt64Array[]): BigInt64Array {
  const total = parts.reduce((n, p) => n + p.length, 0)
  const all = new BigInt64Array(total)
  let at = 0
  for (const part of parts) { all.set(part, at); at += part.length }
  all.sort()
  let kept = 0
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[kept - 1]) all[kept++] = all[i]!
  return all.subarray(0, kept)
}
