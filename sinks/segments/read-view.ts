// A read view: one instant of a partition store, taken synchronously on the thread that owns the
// store, that a worker thread opens as a read-only store and scans while the owner goes on applying,
// flushing and compacting (query/parallel). The scans see exactly what the owner's scans would have
// seen at that instant, chunk for chunk: the worker runs the store's own read code over copies.
//
// Pins: a compaction unlinks the files it replaced at once and closes them when no scan of the owner
// holds them (LiveSegment.refs); a worker cannot share the owner's reader, and the name may be gone by
// the time it opens one. So the view opens its own descriptor on every live segment at the instant it
// is taken; the worker reads the file through /proc/self/fd (descriptors are per process, and an open
// descriptor keeps an unlinked file's data). release() closes them: call it when the read is done,
// also after an error.
//
// Reading a segment's index costs milliseconds, so a thread that opens views keeps the readers it
// opened, by the identity of the owner's reader (a file's content never changes under one), up to
// CACHED_READERS; a view of a store drops the cached readers of that store's files it no longer
// lists, so files a compaction replaced are closed at the next read of the store.

import { closeSync, openSync } from 'node:fs'
import { join } from 'node:path'
import { LruCache } from '../../lib/cache/lru.ts'
import { type Column, allocateValues, copySlices, lowerBound } from './encoding/block.ts'
import type { Manifest } from './manifest.ts'
import { Memtable } from './memtable.ts'
import { type TimeRange, overlaps } from './merge.ts'
import { SegmentReader } from './segment-file.ts'
import type { SeriesInfo } from './series.ts'
import { resolveSettings, type StoreSettings } from './settings.ts'
import { type LiveSegment, PartitionStore } from './store.ts'

/** Whether a worker can open a pinned segment by its descriptor (Linux's /proc/self/fd). */
export const READ_VIEWS_SUPPORTED = process.platform === 'linux'

export interface PinnedSegment {
  /** The owner's reader of the file, as a number unique in this process: the key of cached readers. */
  readerId: number
  file: string
  /** A descriptor of the file, open in this process until the view is released. */
  fd: number
  minSeq: number
  maxSeq: number
  level: number
  purgedOffset: bigint
  bytes: number
}

/**
 * One memtable column of a series, cut to the read's range (plus its first and last point, which
 * bound its span), in the column's pieces: a worker's scan yields the chunks the store's would.
 */
export interface MemtableColumn {
  seriesId: string
  field: string
  pieces: Column[]
}

/** Everything a worker needs to rebuild the store's reads at the view's instant; structured-cloneable. */
export interface ReadView {
  /** The store, as a number unique in this process. */
  storeId: number
  dir: string
  settings: Pick<StoreSettings, 'partition' | 'blockMaxPoints' | 'scanChunkMaxPoints' | 'retentionNs' | 'compactionFanIn' | 'memtableMaxBytes'>
  /** Retention is cut at this instant (the owner's clock when the view was taken). */
  clockNs: bigint
  /** The store's in-memory manifest state (tombstones, sequence numbers); segments are in `segments`. */
  manifest: Manifest
  segments: PinnedSegment[]
  active: MemtableColumn[]
  frozen: { seq: number; columns: MemtableColumn[] } | null
  series: SeriesInfo[]
}

export interface PinnedView {
  view: ReadView
  /** Buffers of the memtable copies, to transfer rather than copy again. */
  transfer: ArrayBuffer[]
  /** Closes the pins' descriptors; idempotent. */
  release(): void
}

export interface ViewRequest {
  /** The series the read needs, and of each the fields (null: all of them). */
  series: readonly { id: string; fields: readonly string[] | null }[]
  range: TimeRange
}

let pinned = 0

/** Segment descriptors pinned by views not yet released, in this thread: for tests and leak checks. */
export function pinnedSegments(): number {
  return pinned
}

const ids = new WeakMap<object, number>()
let nextId = 1
function idOf(owner: object): number {
  let id = ids.get(owner)
  if (id === undefined) ids.set(owner, id = nextId++)
  return id
}

/** A number for `store`, unique in this process and the same in every view of it (ReadView.storeId). */
export function storeNumber(store: PartitionStore): number {
  return idOf(store)
}

/** Pins `store`'s live segments and copies what else reads of `request` need, at this instant. */
export function pinReadView(store: PartitionStore, request: ViewRequest): PinnedView {
  const state = store.readState()
  const fds: number[] = []
  let released = false
  const release = (): void => {
    if (released) return
    released = true
    for (const fd of fds) closeSync(fd)
    pinned -= fds.length
  }
  try {
    const segments = state.segments.map((segment): PinnedSegment => {
      const fd = openSync(join(state.dir, segment.file), 'r')
      fds.push(fd)
      pinned++
      const { file, minSeq, maxSeq, level, purgedOffset, bytes } = segment
      return { readerId: idOf(segment.reader), file, fd, minSeq, maxSeq, level, purgedOffset, bytes }
    })
    const transfer: ArrayBuffer[] = []
    const copy = (memtable: Memtable): MemtableColumn[] => copyColumns(memtable, request, transfer)
    const series = request.series.flatMap(({ id }) => {
      const info = state.catalog.get(id)
      return info ? [{ ...info, tags: [...info.tags], fieldTypes: new Map(info.fieldTypes) }] : []
    })
    const { partition, blockMaxPoints, scanChunkMaxPoints, retentionNs, compactionFanIn, memtableMaxBytes } = state.settings
    const view: ReadView = {
      storeId: idOf(store),
      dir: state.dir,
      settings: { partition, blockMaxPoints, scanChunkMaxPoints, retentionNs, compactionFanIn, memtableMaxBytes },
      clockNs: state.settings.clockNs(),
      // Copied now: the store pushes tombstones into its live list, and the view may be cloned later.
      manifest: { ...state.manifest, tombstones: state.manifest.tombstones.map((t) => ({ ...t })), databaseTtls: state.manifest.databaseTtls.map((d) => ({ ...d })) },
      segments,
      active: copy(state.active),
      frozen: state.frozen === null ? null : { seq: state.frozen.seq, columns: copy(state.frozen) },
      series,
    }
    return { view, transfer, release }
  } catch (error) {
    release()
    throw error
  }
}

function copyColumns(memtable: Memtable, request: ViewRequest, transfer: ArrayBuffer[]): MemtableColumn[] {
  const out: MemtableColumn[] = []
  for (const { id, fields } of request.series) {
    const columns = memtable.columns.get(id)
    if (!columns) continue
    for (const [field, memColumn] of columns) {
      if (fields !== null && !fields.includes(field)) continue
      if (memColumn.length === 0) continue
      const pieces = keepSpan(memColumn.view(), request.range)
      for (const piece of pieces) {
        transfer.push(piece.times.buffer as ArrayBuffer)
        if (!Array.isArray(piece.values)) transfer.push(piece.values.buffer as ArrayBuffer)
      }
      out.push({ seriesId: id, field, pieces })
    }
  }
  return out
}

/**
 * Fresh copies of a column's pieces (consecutive, in time order) cut to `range`, the first and last
 * point kept when outside it: scans cut them away again, but the store's choice of blocks to answer
 * from statistics looks at a memtable's span. Pieces left empty are dropped.
 */
function keepSpan(pieces: Column[], range: TimeRange): Column[] {
  const out: Column[] = []
  pieces.forEach((piece, p) => {
    const n = piece.times.length
    const from = range.fromNs === null ? 0 : lowerBound(piece.times, range.fromNs)
    const to = range.toNs === null ? n : Math.max(from, lowerBound(piece.times, range.toNs))
    // [from, to), widened by one point at either end of the column when it lies outside: slice bounds in order.
    const bounds: number[] = []
    const firstOutside = p === 0 && !(from === 0 && to > 0)
    if (firstOutside) bounds.push(0, 1)
    if (to > from) bounds.push(from, to)
    if (p === pieces.length - 1 && !(to === n && from < n) && !(firstOutside && n === 1)) bounds.push(n - 1, n)
    if (bounds.length === 0) return
    let count = 0
    for (let b = 0; b < bounds.length; b += 2) count += bounds[b + 1]! - bounds[b]!
    const copy = { type: piece.type, times: new BigInt64Array(count), values: allocateValues(piece.type, count) }
    copySlices(piece, bounds, copy, 0)
    out.push(copy)
  })
  return out
}

/** Readers kept by a thread that opens views, at most (each holds a descriptor and its file's index). */
export const CACHED_READERS = 256

interface CachedReader {
  storeId: number
  reader: SegmentReader
}

/** This thread's readers by readerId, least recently used first; one pushed out is closed. */
const cachedReaders = new LruCache<number, CachedReader>({ maxEntries: CACHED_READERS, maxWeight: CACHED_READERS }, (_id, old) => old.reader.close())

function cachedReader(storeId: number, pin: PinnedSegment): SegmentReader {
  const cached = cachedReaders.get(pin.readerId)
  if (cached) return cached.reader
  const reader = SegmentReader.open(`/proc/self/fd/${pin.fd}`)
  cachedReaders.set(pin.readerId, { storeId, reader })
  return reader
}

/** Closes the cached readers of the view's store that the view does not list (files compacted away). */
function dropReplaced(view: ReadView): void {
  const live = new Set(view.segments.map((pin) => pin.readerId))
  for (const [id, cached] of cachedReaders) {
    if (cached.storeId === view.storeId && !live.has(id)) { cached.reader.close(); cachedReaders.delete(id) }
  }
}

/**
 * The view as a read-only store (in a worker). Its segment readers are this thread's cached ones:
 * do not close() it; it holds nothing else (it never flushes or compacts).
 */
export function openReadView(view: ReadView): PartitionStore {
  dropReplaced(view)
  const segments = view.segments.map((pin): LiveSegment => {
    const { fd: _fd, readerId: _readerId, ...segment } = pin
    return { ...segment, reader: cachedReader(view.storeId, pin), refs: 0, removed: false }
  })
  const settings = resolveSettings({ ...view.settings, clockNs: () => view.clockNs, autoCompact: false, fsync: false })
  return new PartitionStore(view.dir, settings, view.manifest, segments, {
    active: memtableOf(view.active, -1),
    frozen: view.frozen === null ? null : memtableOf(view.frozen.columns, view.frozen.seq),
    series: view.series,
  })
}

function memtableOf(columns: MemtableColumn[], seq: number): Memtable {
  const memtable = new Memtable()
  memtable.seq = seq
  for (const { seriesId, field, pieces } of columns) {
    // Fresh arrays of the structured clone: the store owns them now.
    if (pieces.length > 0) memtable.column(seriesId, field, pieces[0]!.type).adopt(pieces)
  }
  return memtable
}

export interface ReadEstimate {
  /** Segment blocks of the (series, field) that overlap the range: what a scan may decode. */
  blocks: { minTimeNs: bigint; maxTimeNs: bigint; count: number }[]
  /** Points of the memtables (any time). */
  memtablePoints: number
}

/** From the index alone, what a read of (series, field) over `range` would touch: for planning. */
export function estimateRead(store: PartitionStore, seriesId: string, field: string, range: TimeRange): ReadEstimate {
  const state = store.readState()
  const blocks: ReadEstimate['blocks'] = []
  for (const segment of state.segments) {
    for (const block of segment.reader.blocksOf(seriesId, field) ?? []) {
      if (overlaps(block.minTimeNs, block.maxTimeNs, range)) blocks.push({ minTimeNs: block.minTimeNs, maxTimeNs: block.maxTimeNs, count: block.count })
    }
  }
  let memtablePoints = 0
  for (const memtable of [state.active, state.frozen]) memtablePoints += memtable?.get(seriesId, field)?.length ?? 0
  return { blocks, memtablePoints }
}
