// A partition store: the LSM of one changelog partition. Entries are applied in log order into the
// active memtable; a full memtable is frozen and flushed to a segment file in the background while a
// new one takes writes; compaction merges adjacent segments of one level into the next, purging
// tombstoned and expired points. The manifest names the live segments, the tombstones and the next
// changelog offset to apply, and changes atomically with them: Kafka is the write-ahead log, so after
// a crash the caller replays the changelog from `durableOffset` and reaches the same state.
//
// Ordering: every memtable gets a sequence number when frozen, and its segment keeps it; compaction
// output spans the numbers of its inputs. Newer data (higher seq; the active memtable highest) wins
// per (series, field, time). A command at offset O sees exactly what was applied before O: a DELETE
// edits the active memtable directly and leaves a tombstone hiding matching points of every segment
// (or frozen memtable) with seq below `beforeSeq`, the next seq at O; data applied after O always
// lands in seq ≥ beforeSeq, so it survives.

import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { type ChangelogColumns, type ChangelogEntry, type FieldValue, type IngestCommand, type SeriesUpsert, type Tag, type TagMatch, FieldBranch } from '../../schemas/index.ts'
import { type BlockStats, type Column, type FieldTypeCode, FIELD_TYPE_NAMES, FieldType, sliceColumn } from './encoding/block.ts'
import { type BlockCutLimits, BlockCutter, alignedEndNs, cutChunks } from './block-cuts.ts'
import { StorageError, StorageErrorCode, invariant } from './errors.ts'
import { type CommandTarget, applyCommand } from './commands.ts'
import { type DatabaseTtl, type Manifest, type ManifestSegment, type Tombstone, readManifest, writeManifest } from './manifest.ts'
import { MemColumn, Memtable, fieldTypeOf } from './memtable.ts'
import { type TimeRange, covers, cutToRange, lowerBound, mergeSources, overlaps, removeRanges } from './merge.ts'
import { type SeriesInfo, matchesTags, seriesId, sortTags } from './series.ts'
import { type BlockEntry, SEGMENT_FORMAT_VERSION, SegmentReader, SegmentWriter } from './segment-file.ts'
import { type StoreSettings, type StoreWarning, resolveSettings } from './settings.ts'
import { DecodedBlockCache } from './block-cache.ts'
import { TimeSlice } from '../../lib/time/time-slice.ts'

const SEGMENT_SUFFIX = '.seg'
/** The column type of each field value branch of the changelog (FieldBranch), by branch index. */
const TYPE_OF_BRANCH: readonly FieldTypeCode[] = (() => {
  const types: FieldTypeCode[] = []
  types[FieldBranch.LONG] = FieldType.INTEGER
  types[FieldBranch.DOUBLE] = FieldType.FLOAT
  types[FieldBranch.UNSIGNED] = FieldType.UNSIGNED
  types[FieldBranch.STRING] = FieldType.STRING
  types[FieldBranch.BOOLEAN] = FieldType.BOOLEAN
  return types
})()
const ALL_TIME: TimeRange = { fromNs: null, toNs: null }
const NO_BLOCKS: readonly BlockEntry[] = []
/** Distinct listSeries queries kept between two applied entries. */
const MAX_KEPT_LISTINGS = 64

export interface LiveSegment extends ManifestSegment {
  reader: SegmentReader
  /** Scans in progress over this segment; its file closes when removed and unused. */
  refs: number
  removed: boolean
}

interface Checkpoint {
  appliedOffset: bigint
  nextSeq: number
  /** The databases' times to live as the log set them up to appliedOffset. */
  databaseTtls: DatabaseTtl[]
}

export interface ScanRequest {
  seriesId: string
  field: string
  /** Inclusive; null or absent = unbounded. */
  fromNs?: bigint | null
  /** Exclusive; null or absent = unbounded. */
  toNs?: bigint | null
}

export interface SeriesQuery {
  tenant: string
  database: string
  measurement?: string
  /** All must hold (a missing tag has the value ""). */
  tags?: TagMatch[]
}

export interface SeriesListing {
  id: string
  tenant: string
  database: string
  measurement: string
  seriesKey: string
  tags: Tag[]
  /** Fields with at least one visible point, sorted by name. */
  fields: { name: string; type: FieldTypeCode }[]
}

export interface BlockAggregate extends BlockStats {
  type: FieldTypeCode
  file: string
  block: number
}

export interface AggregatePlan {
  /** Blocks wholly inside the range, untouched by tombstones, retention or newer data: use their stats. */
  blocks: BlockAggregate[]
  /** Every other visible point of the range, merged; the blocks above are not in it. */
  rest: Generator<Column>
}

export interface StoreStats {
  partition: number
  appliedOffset: bigint
  durableOffset: bigint
  segments: number
  segmentBytes: number
  levels: number[]
  memtableBytes: number
  frozenMemtableBytes: number
  tombstones: number
  series: number
  warnings: number
  /** Memtables flushed (to a segment, or to nothing when empty) since the store opened. */
  flushes: number
  /** Compactions (adjacent segments merged into one) since the store opened. */
  compactions: number
  /** The compaction running now, if any: its inputs and how many of their series are merged. */
  compacting: CompactionProgress | null
}

/** This instant of a store, for read-view.ts, which copies it for a read in a worker thread; read only. */
export interface StoreReadState {
  dir: string
  settings: StoreSettings
  /** The in-memory state as a manifest (no segments: those are `segments`), for a read-only copy. */
  manifest: Manifest
  segments: readonly LiveSegment[]
  active: Memtable
  frozen: Memtable | null
  catalog: ReadonlyMap<string, SeriesInfo>
}

/** A block compaction may copy as stored (wholeBlocks), with its segment and the ranges deleted there. */
interface WholeBlock {
  segment: LiveSegment
  block: BlockEntry
  deleted: TimeRange[]
}

/** A read view's memtables and series (read-view.ts): a store built with them only reads. */
export interface ViewMemory {
  active: Memtable
  frozen: Memtable | null
  series: readonly SeriesInfo[]
}

export interface CompactionProgress {
  inputs: number
  inputBytes: number
  series: number
  seriesDone: number
  startedAtMs: number
}

/** Series a compaction merges between two turns of the event loop. */
const COMPACTION_YIELD_SERIES = 8
/**
 * Block bytes of its inputs a compaction reads into memory at once (SegmentReader.holdBlocks),
 * instead of one read per block; inputs past it are read block by block. Bounds the memory: a node
 * compacts up to one store per partition at a time, 6 × 16 MiB in bench:e2e's node.
 */
const COMPACTION_HELD_BLOCK_BYTES = 16 * 1024 * 1024

/** Holds the blocks of the inputs in order while their bytes fit in `maxBytes` (released by the caller); returns those held. */
function holdBlocksWithin(inputs: readonly LiveSegment[], maxBytes: number): LiveSegment[] {
  const held: LiveSegment[] = []
  let bytes = 0
  try {
    for (const input of inputs) {
      if (bytes + input.reader.blockBytes > maxBytes) continue
      input.reader.holdBlocks()
      held.push(input)
      bytes += input.reader.blockBytes
    }
  } catch (error) {
    for (const input of held) input.reader.releaseBlocks()
    throw error
  }
  return held
}

export function segmentFileName(fileId: number): string {
  return String(fileId).padStart(12, '0') + SEGMENT_SUFFIX
}

/** Opens (or creates) the store of one partition in `dir`, at exactly the state of its manifest. */
export async function openPartitionStore(dir: string, settings: Partial<StoreSettings> = {}): Promise<PartitionStore> {
  const resolved = resolveSettings(settings)
  mkdirSync(dir, { recursive: true })
  const manifest: Manifest = readManifest(dir) ?? {
    partition: resolved.partition, appliedOffset: 0n, nextSeq: 0, nextFileId: 0, segments: [], tombstones: [], databaseTtls: [],
  }
  invariant(manifest.partition === resolved.partition, `${dir} holds partition ${manifest.partition}, not ${resolved.partition}`, { partition: resolved.partition })
  const listed = new Set(manifest.segments.map((s) => s.file))
  for (const name of readdirSync(dir)) {
    // Files of a flush or compaction the crash interrupted: no manifest names them.
    if ((name.endsWith(SEGMENT_SUFFIX) && !listed.has(name)) || name === 'MANIFEST.tmp') unlinkSync(join(dir, name))
  }
  const segments: LiveSegment[] = []
  try {
    for (const segment of manifest.segments) {
      let reader: SegmentReader
      try {
        reader = SegmentReader.open(join(dir, segment.file))
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          invariant(false, `the manifest names ${segment.file}, which is missing`, { partition: resolved.partition, file: segment.file })
        }
        throw error
      }
      segments.push({ ...segment, reader, refs: 0, removed: false })
    }
  } catch (error) {
    for (const segment of segments) segment.reader.close()
    throw error
  }
  return new PartitionStore(dir, resolved, manifest, segments)
}

export class PartitionStore {
  private readonly catalog = new Map<string, SeriesInfo>()
  /** Times to live set through the log (SET_DATABASE_TTL), by "tenant\0database"; they override settings.retentionNs. */
  private readonly databaseTtls = new Map<string, DatabaseTtl>()
  private active = new Memtable()
  private frozen: Memtable | null = null
  private segments: LiveSegment[]
  private tombstones: Tombstone[]
  private nextAppliedOffset: bigint
  private readonly blockCache: DecodedBlockCache
  /** listSeries's answers while no entry is applied (see there). */
  private readonly listings = { offset: -1n, byQuery: new Map<string, readonly SeriesListing[]>() }
  private durable: Checkpoint
  private nextSeq: number
  private nextFileId: number
  private flushing: Promise<void> | null = null
  private compacting: Promise<void> | null = null
  private compactionWanted = false
  private compactionChain: Promise<unknown> = Promise.resolve()
  private manifestChain: Promise<unknown> = Promise.resolve()
  private failure: unknown = null
  private closed = false
  private warningCount = 0
  private flushCount = 0
  private compactionCount = 0
  private compactionProgress: CompactionProgress | null = null
  private readonly entryFieldNames: string[] = []
  private readonly entryColumns: MemColumn[] = []
  /** Per field name of the entry being applied (ChangelogColumns.names), its column once admitted. */
  private readonly slotColumns: Array<MemColumn | null> = []

  constructor(private readonly dir: string, private readonly settings: StoreSettings, manifest: Manifest, segments: LiveSegment[], view?: ViewMemory) {
    this.segments = segments.sort((a, b) => a.maxSeq - b.maxSeq)
    this.blockCache = new DecodedBlockCache(settings.blockCacheBytes)
    if (view) {
      this.active = view.active
      this.frozen = view.frozen
      for (const series of view.series) this.catalog.set(series.id, series)
    }
    this.tombstones = manifest.tombstones
    this.nextAppliedOffset = manifest.appliedOffset
    this.durable = { appliedOffset: manifest.appliedOffset, nextSeq: manifest.nextSeq, databaseTtls: manifest.databaseTtls }
    for (const ttl of manifest.databaseTtls) this.databaseTtls.set(`${ttl.tenant}\u0000${ttl.database}`, ttl)
    this.nextSeq = manifest.nextSeq
    this.nextFileId = manifest.nextFileId
    for (const segment of this.segments) {
      invariant(segment.maxSeq < this.nextSeq, `segment ${segment.file} has seq ${segment.maxSeq} ≥ nextSeq ${this.nextSeq}`, { file: segment.file })
      for (const s of segment.reader.series) {
        const info = this.ensureSeries(s.tenant, s.database, s.measurement, s.seriesKey, s.tags)
        for (const f of s.fields) if (!info.fieldTypes.has(f.name) && !this.typeForgotten(segment, info, f.name)) info.fieldTypes.set(f.name, f.type)
      }
    }
  }

  /** The next changelog offset to apply (entries below it are applied, maybe only in memory). */
  get appliedOffset(): bigint {
    return this.nextAppliedOffset
  }

  /** The next changelog offset to apply after a restart: the manifest's. Replay from here. */
  get durableOffset(): bigint {
    return this.durable.appliedOffset
  }

  // ---- apply -------------------------------------------------------------------------------

  /**
   * Applies the changelog entry at `offset`. Entries must come in log order; an offset below
   * appliedOffset was applied already and is ignored, so replaying a prefix is harmless. Offsets
   * may skip (transaction markers and aborted records occupy offsets). Resolves once the entry is
   * in memory; waits only when both memtables are full (backpressure).
   */
  /**
   * Offsets below `offset` hold nothing more to apply (transaction markers, aborted records): the
   * applied offset moves there, and is durable after the next flush. A replica that read through
   * the end of the changelog so stands at its end, and a changelog whose start was deleted up to
   * there is no gap for it.
   */
  skipTo(offset: bigint): void {
    this.throwIfUnusable()
    if (offset > this.nextAppliedOffset) this.nextAppliedOffset = offset
  }

  async apply(entry: ChangelogEntry, offset: bigint): Promise<void> {
    this.throwIfUnusable()
    if (offset < this.nextAppliedOffset) return
    if (entry.upsert !== null) this.applyUpsert(entry.upsert, offset)
    else applyCommand(this.commandTarget(), entry.command, offset)
    this.nextAppliedOffset = offset + 1n
    if (this.active.estimatedBytes >= this.settings.memtableMaxBytes) await this.rotate()
  }

  /**
   * apply() for an entry decoded into columns (the replica's path): the same store afterwards,
   * with no object per point or value. `entry` is read before this returns a promise and may be
   * reused as soon as it has.
   */
  async applyColumns(entry: ChangelogColumns, offset: bigint): Promise<void> {
    this.throwIfUnusable()
    if (offset < this.nextAppliedOffset) return
    if (entry.command === null) this.applyUpsertColumns(entry, offset)
    else applyCommand(this.commandTarget(), entry.command, offset)
    this.nextAppliedOffset = offset + 1n
    if (this.active.estimatedBytes >= this.settings.memtableMaxBytes) await this.rotate()
  }

  private applyUpsertColumns(entry: ChangelogColumns, offset: bigint): void {
    const id = seriesId(entry.tenant, entry.database, entry.seriesKey)
    const series = this.catalog.get(id) ?? this.ensureSeries(entry.tenant, entry.database, entry.measurement, entry.seriesKey, entry.tags())
    this.active.touchedSeries.add(series.id)
    if (entry.regular && this.admitsEveryName(series, entry)) this.applyRegularColumns(series, entry)
    else this.applyEachValue(series, entry, offset)
  }

  /** Whether every name of the entry takes its values' type without a conflict (admitType would pass). */
  private admitsEveryName(series: SeriesInfo, entry: ChangelogColumns): boolean {
    for (let slot = 0; slot < entry.names.length; slot++) {
      const known = series.fieldTypes.get(entry.names[slot]!)
      if (known !== undefined && known !== TYPE_OF_BRANCH[entry.valueBranch[slot]!]) return false
    }
    return true
  }

  /**
   * A regular entry (ChangelogColumns.regular) whose names all admit their type: each name's
   * values go to its column in one append, not one call per value; the same store as applyEachValue.
   */
  private applyRegularColumns(series: SeriesInfo, entry: ChangelogColumns): void {
    const names = entry.names
    for (let slot = 0; slot < names.length; slot++) {
      const type = TYPE_OF_BRANCH[entry.valueBranch[slot]!]!
      if (!series.fieldTypes.has(names[slot]!)) series.fieldTypes.set(names[slot]!, type)
      this.active.appendColumnsSlot(this.active.column(series.id, names[slot]!, type), entry, slot)
    }
  }

  /** An entry's values one by one, in entry order (any entry; field type conflicts warn and drop). */
  private applyEachValue(series: SeriesInfo, entry: ChangelogColumns, offset: bigint): void {
    const names = entry.names
    const columns = this.slotColumns
    columns.length = 0
    for (let slot = 0; slot < names.length; slot++) columns.push(null)
    const active = this.active
    const valueName = entry.valueName
    const valueBranch = entry.valueBranch
    for (let k = 0; k < entry.valueCount; k++) {
      const slot = valueName[k]!
      const type = TYPE_OF_BRANCH[valueBranch[k]!]!
      let column = columns[slot]!
      if (column === null || column.type !== type) {
        // As applyUpsert: the first admitted type of a name is kept for the entry; a value of
        // another type goes through admitType (a conflict warns and drops it).
        if (!this.admitType(series, names[slot]!, type, offset)) continue
        const admitted = active.column(series.id, names[slot]!, type)
        if (column === null) columns[slot] = admitted
        column = admitted
      }
      active.appendColumnsValue(column, entry, k)
    }
  }

  private warn(kind: StoreWarning['kind'], offset: bigint, message: string): void {
    this.warningCount++
    this.settings.onWarning({ kind, offset, message })
  }

  private ensureSeries(tenant: string, database: string, measurement: string, seriesKey: string, tags: readonly Tag[]): SeriesInfo {
    const id = seriesId(tenant, database, seriesKey)
    let info = this.catalog.get(id)
    if (!info) {
      info = { id, tenant, database, measurement, seriesKey, tags: sortTags(tags), fieldTypes: new Map() }
      this.catalog.set(id, info)
    }
    return info
  }

  /** The type a field write must have, or null (and a warning) when it conflicts with the first. */
  private admitType(series: SeriesInfo, field: string, type: FieldTypeCode, offset: bigint): boolean {
    const known = series.fieldTypes.get(field)
    if (known === undefined) {
      series.fieldTypes.set(field, type)
      return true
    }
    if (known === type) return true
    this.warn('field-type-conflict', offset,
      `series ${series.seriesKey} field ${field} is ${FIELD_TYPE_NAMES[known]}; a ${FIELD_TYPE_NAMES[type]} value was dropped`)
    return false
  }

  private applyUpsert(upsert: SeriesUpsert, offset: bigint): void {
    const series = this.ensureSeries(upsert.tenant, upsert.database, upsert.measurement, upsert.seriesKey, upsert.tags)
    this.active.touchedSeries.add(series.id)
    // Fields repeat from point to point: resolve each one's column once per entry (a short list
    // beats a Map here: entries carry a few fields).
    const names = this.entryFieldNames
    const columns = this.entryColumns
    names.length = 0
    columns.length = 0
    for (const point of upsert.points) {
      for (const field of point.fields) {
        const at = names.indexOf(field.name)
        const column = at >= 0 ? columns[at]! : undefined
        if (column !== undefined && column.type === fieldTypeOf(field.value)) {
          this.active.append(column, point.timeNs, field.value)
          continue
        }
        const written = this.writeValue(series, field.name, point.timeNs, field.value, offset)
        if (written && at < 0) { names.push(field.name); columns.push(written) }
      }
    }
  }

  /** Writes one value into the active memtable; returns its column, or null on a type conflict. */
  private writeValue(series: SeriesInfo, field: string, timeNs: bigint, value: FieldValue, offset: bigint): MemColumn | null {
    const type = fieldTypeOf(value)
    if (!this.admitType(series, field, type, offset)) return null
    const column = this.active.column(series.id, field, type)
    this.active.append(column, timeNs, value)
    return column
  }

  private matchingSeries(command: IngestCommand): SeriesInfo[] {
    const out: SeriesInfo[] = []
    for (const series of this.catalog.values()) {
      if (series.tenant !== command.tenant || series.database !== command.database) continue
      if (command.kind !== 'DROP_DATABASE' && series.measurement !== command.measurement) continue
      if (matchesTags(series.tags, command.where.tags)) out.push(series)
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** What commands.ts may touch: the active memtable, the catalog, merged reads and tombstones. */
  private commandTarget(): CommandTarget {
    return {
      active: this.active,
      matchingSeries: (command) => this.matchingSeries(command),
      ensureSeries: (tenant, database, measurement, seriesKey, tags) => this.ensureSeries(tenant, database, measurement, seriesKey, tags),
      admitType: (series, field, type, offset) => this.admitType(series, field, type, offset),
      scan: (series, field, range) => this.scanSeries(series, field, range),
      addTombstone: (tombstone) => { this.tombstones.push({ ...tombstone, beforeSeq: this.nextSeq }) },
      warn: (offset, message) => this.warn('unsupported-command', offset, message),
      setDatabaseTtl: (tenant, database, ttlNs) => { this.databaseTtls.set(`${tenant}\u0000${database}`, { tenant, database, ttlNs }) },
      clearDatabaseTtl: (tenant, database) => { this.databaseTtls.delete(`${tenant}\u0000${database}`) },
    }
  }

  // ---- flush -------------------------------------------------------------------------------

  /** Freezes the active memtable and starts its flush; waits for the previous flush first. */
  private async rotate(): Promise<void> {
    while (this.flushing) await this.flushing
    this.throwIfUnusable()
    const frozen = this.active
    frozen.seq = this.nextSeq++
    // Columns sized for as many points as the frozen memtable's got, when that cannot take the new one
    // to its limit at once: a sized column's capacity is under twice those points, so its estimate
    // starts under twice the frozen one's.
    this.active = new Memtable(frozen.estimatedBytes < this.settings.memtableMaxBytes / 2 ? frozen.pointCounts() : undefined)
    this.frozen = frozen
    const checkpoint: Checkpoint = { appliedOffset: this.nextAppliedOffset, nextSeq: this.nextSeq, databaseTtls: this.databaseTtlList() }
    this.flushing = this.flushFrozen(frozen, checkpoint)
      .catch((error: unknown) => { this.failure ??= error })
      .finally(() => { this.flushing = null })
  }

  /**
   * Makes everything applied so far durable: freezes the memtable, writes its segment and the
   * manifest (durableOffset becomes appliedOffset). Resolves when done.
   */
  async flush(): Promise<void> {
    this.throwIfUnusable()
    await this.rotate()
    while (this.flushing) await this.flushing
    this.throwIfUnusable()
  }

  private async flushFrozen(frozen: Memtable, checkpoint: Checkpoint): Promise<void> {
    const ids = [...new Set([...frozen.touchedSeries, ...frozen.columns.keys()])].sort()
    let segment: LiveSegment | null = null
    if (ids.length > 0) {
      const { writer, file } = await this.newSegmentWriter()
      try {
        // Encoding a memtable's blocks takes a partition's flush 100-250 ms in bench:e2e: other work gets turns meanwhile.
        const slice = new TimeSlice()
        for (const id of ids) {
          const series = this.catalog.get(id)!
          writer.declareSeries(series, series.fieldTypes)
          const fields = frozen.columns.get(id)
          if (!fields) continue
          for (const name of [...fields.keys()].sort()) {
            // A memtable starts mid-hour: its first block ends at the first boundary, so no flushed block straddles an hour.
            const limits = { ...this.blockCutLimits(), firstBlockToBoundary: true }
            // The column's pieces go through one cutter: a block that spans two of them is joined there.
            for (const block of cutChunks(fields.get(name)!.view(), limits)) {
              await writer.addBlock(series, name, block)
              if (slice.due) await slice.pause()
            }
          }
        }
        const bytes = await writer.finish(this.settings.fsync)
        segment = this.liveSegment(file, frozen.seq, frozen.seq, 0, checkpoint.appliedOffset, bytes, writer)
      } catch (error) {
        await writer.abort()
        throw error
      }
    }
    await this.withManifestLock(() => {
      const segments = segment ? [...this.segments, segment] : this.segments
      this.durable = checkpoint
      this.frozen = null
      this.installManifest(segments)
    })
    this.flushCount++
    this.scheduleCompaction()
  }

  private async newSegmentWriter(): Promise<{ writer: SegmentWriter; file: string }> {
    const file = segmentFileName(this.nextFileId++)
    return { writer: await SegmentWriter.create(join(this.dir, file)), file }
  }

  /** `writer`: the finished writer of `file`, whose index the reader takes instead of decoding the file's. */
  private liveSegment(file: string, minSeq: number, maxSeq: number, level: number, purgedOffset: bigint, bytes: number, writer: SegmentWriter): LiveSegment {
    return { file, minSeq, maxSeq, level, purgedOffset, bytes, reader: SegmentReader.openWritten(writer, bytes), refs: 0, removed: false }
  }

  private withManifestLock(step: () => void): Promise<void> {
    const run = this.manifestChain.then(step)
    this.manifestChain = run.catch(() => {})
    return run
  }

  /** Writes the manifest for `segments`, then makes them live; drops tombstones that hide nothing. */
  private installManifest(segments: LiveSegment[]): void {
    const applies = (t: Tombstone, s: ManifestSegment): boolean => t.beforeSeq > s.maxSeq && t.offset >= s.purgedOffset
    const durableOffset = this.durable.appliedOffset
    const tombstones = this.tombstones.filter((t) => t.offset < durableOffset && segments.some((s) => applies(t, s)))
    const manifest: Manifest = {
      partition: this.settings.partition, appliedOffset: durableOffset, nextSeq: this.durable.nextSeq, nextFileId: this.nextFileId,
      segments: segments.map(({ file, minSeq, maxSeq, level, purgedOffset, bytes }) => ({ file, minSeq, maxSeq, level, purgedOffset, bytes })),
      tombstones,
      databaseTtls: this.durable.databaseTtls,
    }
    writeManifest(this.dir, manifest, this.settings.fsync)
    const removed = this.segments.filter((s) => !segments.includes(s))
    this.segments = segments
    const frozenSeq = this.frozen?.seq ?? -1
    this.tombstones = this.tombstones.filter((t) =>
      t.offset >= durableOffset || segments.some((s) => applies(t, s)) || (frozenSeq >= 0 && frozenSeq < t.beforeSeq))
    for (const segment of removed) {
      segment.removed = true
      this.blockCache.forget(segment.reader.blocks)
      unlinkSync(join(this.dir, segment.file))
      if (segment.refs === 0) segment.reader.close()
    }
  }

  // ---- compaction and retention ----------------------------------------------------------

  /** Runs compaction work one piece at a time: background rounds and callers never overlap. */
  private exclusively<T>(work: () => Promise<T>): Promise<T> {
    const run = this.compactionChain.then(work)
    this.compactionChain = run.catch(() => {})
    return run
  }

  private scheduleCompaction(): void {
    if (!this.settings.autoCompact || this.closed) return
    this.compactionWanted = true
    if (this.compacting) return
    this.compacting = (async () => {
      while (this.compactionWanted && !this.closed && this.failure === null) {
        this.compactionWanted = false
        await this.exclusively(() => this.compactionRound())
      }
    })().catch((error: unknown) => { this.failure ??= error }).finally(() => { this.compacting = null })
  }

  private async compactionRound(): Promise<void> {
    await this.dropExpired()
    for (let inputs = this.pickCompaction(); inputs && !this.closed; inputs = this.pickCompaction()) await this.compactSegments(inputs)
  }

  /** The oldest run of compactionFanIn adjacent segments of one level, or null. */
  private pickCompaction(): LiveSegment[] | null {
    const fanIn = this.settings.compactionFanIn
    for (let start = 0; start + fanIn <= this.segments.length; start++) {
      const run = this.segments.slice(start, start + fanIn)
      if (run.every((s) => s.level === run[0]!.level) && !this.straddlesPendingTombstone(run) && !this.holdsPendingDrop(run)) return run
    }
    return null
  }

  /**
   * A compaction purges only durable tombstones (a crash must not lose what a replayed command
   * will read). A tombstone not yet durable keeps hiding points of the output only if the output's
   * maxSeq stays below its beforeSeq, so inputs must not lie on both sides of it. Commands never
   * rotate the memtable midway, so this does not happen; checked all the same.
   */
  private straddlesPendingTombstone(inputs: LiveSegment[]): boolean {
    const maxSeq = inputs[inputs.length - 1]!.maxSeq
    return this.tombstones.some((t) => t.offset >= this.durable.appliedOffset && t.beforeSeq <= maxSeq &&
      inputs.some((s) => s.maxSeq < t.beforeSeq && t.offset >= s.purgedOffset))
  }

  /**
   * A DROP not yet durable has forgotten the fields' types, and compaction writes only the fields a
   * series has a type for: compacting data it hides would lose it before the DROP is durable, and a
   * replay after a crash would meet the store without it. Such inputs wait for the next flush.
   */
  private holdsPendingDrop(inputs: LiveSegment[]): boolean {
    return this.tombstones.some((t) => t.forgetsTypes === true && t.offset >= this.durable.appliedOffset &&
      inputs.some((s) => s.maxSeq < t.beforeSeq && t.offset >= s.purgedOffset))
  }

  /** Runs tiered compaction until no run qualifies (what autoCompact does after each flush). */
  async compact(): Promise<void> {
    this.throwIfUnusable()
    await this.exclusively(() => this.compactionRound())
  }

  /** Flushes, then merges every segment into one (purging tombstoned and expired points). */
  async compactAll(): Promise<void> {
    await this.flush()
    await this.exclusively(async () => {
      await this.dropExpired()
      if (this.segments.length > 0) await this.compactSegments([...this.segments])
    })
  }

  private async compactSegments(inputs: LiveSegment[]): Promise<void> {
    invariant(!this.straddlesPendingTombstone(inputs), 'compaction inputs straddle a tombstone that is not durable yet')
    const purgeBelow = this.durable.appliedOffset
    const newestFirst = [...inputs].reverse()
    const ids = [...new Set(inputs.flatMap((s) => s.reader.series.map((x) => x.id)))].sort()
    for (const input of inputs) input.refs++
    let held: LiveSegment[] = []
    const progress: CompactionProgress = { inputs: inputs.length, inputBytes: inputs.reduce((sum, s) => sum + s.bytes, 0), series: ids.length, seriesDone: 0, startedAtMs: Date.now() }
    this.compactionProgress = progress
    const { writer, file } = await this.newSegmentWriter()
    let bytes: number
    try {
      held = holdBlocksWithin(inputs, COMPACTION_HELD_BLOCK_BYTES)
      for (const id of ids) {
        // A long compaction gives the event loop a turn now and then: applies and queries go on meanwhile.
        if (progress.seriesDone % COMPACTION_YIELD_SERIES === 0 && progress.seriesDone > 0) await new Promise((resolve) => setImmediate(resolve))
        const series = this.catalog.get(id)!
        writer.declareSeries(series, series.fieldTypes)
        for (const field of [...series.fieldTypes.keys()].sort()) {
          if (!inputs.some((s) => s.reader.blocksOf(id, field) !== undefined)) continue
          const deleted = newestFirst.map((s) => this.deletedRanges(series, field, s.maxSeq, s.purgedOffset, purgeBelow))
          const whole = this.wholeBlocks(newestFirst, series, field, deleted)
          const skip = new Set(whole.map((copy) => copy.block))
          const sources = newestFirst.map((s, i) => this.segmentColumns(s, series, field, ALL_TIME, deleted[i]!, skip, false))
          await this.writeMerged(writer, series, field, mergeSources(sources, this.settings.blockMaxPoints), whole)
        }
        progress.seriesDone++
      }
      bytes = await writer.finish(this.settings.fsync)
    } catch (error) {
      await writer.abort()
      throw error
    } finally {
      for (const input of held) input.reader.releaseBlocks()
      for (const input of inputs) input.refs--
      this.compactionProgress = null
    }
    const level = Math.max(...inputs.map((s) => s.level)) + 1
    const output = this.liveSegment(file, inputs[0]!.minSeq, inputs[inputs.length - 1]!.maxSeq, level, purgeBelow, bytes, writer)
    await this.withManifestLock(() => {
      const at = this.segments.indexOf(inputs[0]!)
      invariant(at >= 0 && inputs.every((s, i) => this.segments[at + i] === s), 'compaction inputs are no longer adjacent and live')
      this.installManifest([...this.segments.slice(0, at), output, ...this.segments.slice(at + inputs.length)])
    })
    this.compactionCount++
  }

  /**
   * The blocks of a compaction's inputs that the cutter would write again as they are: of this
   * format and the field's type, within one aligned bucket with at least blockMinPoints (and at
   * most blockMaxPoints), no deleted range touching them, and no other block of any input in their
   * bucket (nothing to merge, dedupe or cut differently). Sorted by time. writeMerged copies them
   * as stored instead of decoding and encoding them again: time-ordered ingest, whose flushes
   * leave one partial block per (series, field) at each end, is nearly all such blocks.
   */
  private wholeBlocks(inputs: LiveSegment[], series: SeriesInfo, field: string, deleted: TimeRange[][]): WholeBlock[] {
    const { alignNs, maxPoints } = this.blockCutLimits()
    if (alignNs <= 0n) return []
    const minPoints = Math.max(1, Math.min(this.settings.blockMinPoints, maxPoints))
    const type = series.fieldTypes.get(field)
    const all: WholeBlock[] = []
    inputs.forEach((segment, i) => {
      for (const block of segment.reader.blocksOf(series.id, field) ?? []) all.push({ segment, block, deleted: deleted[i]! })
    })
    all.sort((a, b) => (a.block.minTimeNs < b.block.minTimeNs ? -1 : a.block.minTimeNs > b.block.minTimeNs ? 1 : 0))
    const whole: WholeBlock[] = []
    let maxBefore: bigint | null = null
    for (let j = 0; j < all.length; j++) {
      const { segment, block, deleted: ranges } = all[j]!
      const bucketEndNs = alignedEndNs(block.minTimeNs, alignNs)
      const bucketStartNs = bucketEndNs - alignNs
      const alone = (maxBefore === null || maxBefore < bucketStartNs) && (j + 1 === all.length || all[j + 1]!.block.minTimeNs >= bucketEndNs)
      if (alone && block.maxTimeNs < bucketEndNs && block.count >= minPoints && block.count <= maxPoints && block.type === type &&
        segment.reader.formatVersion === SEGMENT_FORMAT_VERSION && !ranges.some((r) => overlaps(block.minTimeNs, block.maxTimeNs, r))) {
        whole.push(all[j]!)
      }
      if (maxBefore === null || block.maxTimeNs > maxBefore) maxBefore = block.maxTimeNs
    }
    return whole
  }

  /**
   * Writes merged chunks as blocks cut on aligned boundaries (block-cuts.ts), and `whole` blocks
   * (wholeBlocks; none of the chunks' points lie in their buckets) in their place in time: copied
   * as stored when the cutter would end its pending block before them, else decoded and cut.
   */
  private async writeMerged(writer: SegmentWriter, series: SeriesInfo, field: string, chunks: Iterable<Column>, whole: WholeBlock[] = []): Promise<void> {
    const cutter = new BlockCutter(this.blockCutLimits())
    let next = 0
    const writeWhole = async (copy: WholeBlock): Promise<void> => {
      if (cutter.cutsBefore(copy.block.minTimeNs)) {
        for (const block of cutter.finish()) await writer.addBlock(series, field, block)
        await writer.addStoredBlock(series, copy.block, copy.segment.reader.readStoredBlock(copy.block))
      } else {
        for (const block of cutter.push(copy.segment.reader.readBlock(copy.block))) await writer.addBlock(series, field, block)
      }
    }
    for (let chunk of chunks) {
      // A chunk of merged conflicts may run from before a whole block's bucket to after it: split there.
      while (next < whole.length) {
        const copy = whole[next]!.block
        const split = lowerBound(chunk.times, copy.minTimeNs)
        if (split === chunk.times.length) break
        invariant(chunk.times[split]! > copy.maxTimeNs, 'a merged point lies inside a block compaction copies whole', { partition: this.settings.partition, seriesId: series.id, field })
        if (split > 0) {
          for (const block of cutter.push(sliceColumn(chunk, 0, split))) await writer.addBlock(series, field, block)
          chunk = sliceColumn(chunk, split, chunk.times.length)
        }
        await writeWhole(whole[next++]!)
      }
      for (const block of cutter.push(chunk)) await writer.addBlock(series, field, block)
    }
    while (next < whole.length) await writeWhole(whole[next++]!)
    for (const block of cutter.finish()) await writer.addBlock(series, field, block)
  }

  private blockCutLimits(): BlockCutLimits {
    return { maxPoints: this.settings.blockMaxPoints, minPoints: this.settings.blockMinPoints, alignNs: this.settings.blockAlignNs }
  }

  /** The oldest time a database keeps: its time to live from the log, else the static setting; null = keep forever. */
  private retentionCutoff(tenant: string, database: string): bigint | null {
    const set = this.databaseTtls.get(`${tenant}\u0000${database}`)
    const ttl = set !== undefined ? set.ttlNs : this.settings.retentionNs[database] ?? null
    return ttl === null ? null : this.settings.clockNs() - ttl
  }

  /** The times to live set through the log, sorted (so a manifest's text depends only on the log). */
  private databaseTtlList(): DatabaseTtl[] {
    return [...this.databaseTtls.values()].sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : a.database < b.database ? -1 : a.database > b.database ? 1 : 0))
  }

  /** Whether a DROP newer than the segment forgot the field's type (its declaration there no longer counts). */
  private typeForgotten(segment: ManifestSegment, series: SeriesInfo, field: string): boolean {
    return this.tombstones.some((t) => t.forgetsTypes === true && t.beforeSeq > segment.maxSeq && t.offset >= segment.purgedOffset &&
      tombstoneMatches(t, series, field))
  }

  /** Deletes segments whose every block is past its database's time to live; returns how many. */
  dropExpiredSegments(): Promise<number> {
    return this.exclusively(() => this.dropExpired())
  }

  private async dropExpired(): Promise<number> {
    const expired = (s: LiveSegment): boolean => s.reader.blocks.length > 0 && s.reader.blocks.every((b) => {
      const cutoff = this.retentionCutoff(b.series.tenant, b.series.database)
      return cutoff !== null && b.maxTimeNs < cutoff
    })
    if (!this.segments.some(expired)) return 0
    let dropped = 0
    await this.withManifestLock(() => {
      const keep = this.segments.filter((s) => !expired(s))
      dropped = this.segments.length - keep.length
      this.installManifest(keep)
    })
    return dropped
  }

  // ---- reads ------------------------------------------------------------------------------

  /** Time ranges of `series` hidden in a source of maxSeq/purgedOffset: tombstones and retention. */
  private deletedRanges(series: SeriesInfo, field: string, maxSeq: number, purgedOffset: bigint, tombstonesBelowOffset: bigint | null = null): TimeRange[] {
    const ranges: TimeRange[] = []
    for (const t of this.tombstones) {
      if (t.beforeSeq <= maxSeq || t.offset < purgedOffset) continue
      if (tombstonesBelowOffset !== null && t.offset >= tombstonesBelowOffset) continue
      if (!tombstoneMatches(t, series, field)) continue
      ranges.push({ fromNs: t.fromNs, toNs: t.toNs })
    }
    const cutoff = this.retentionCutoff(series.tenant, series.database)
    if (cutoff !== null) ranges.push({ fromNs: null, toNs: cutoff })
    return ranges
  }

  /** `cache`: through the decoded block cache (scans); compaction, which reads each block once, reads around it. */
  private *segmentColumns(segment: LiveSegment, series: SeriesInfo, field: string, range: TimeRange, deleted: TimeRange[], skip?: Set<BlockEntry>, cache = true): Generator<Column> {
    const blocks = segment.reader.blocksOf(series.id, field)
    if (!blocks) return
    for (const block of blocks) {
      if (!overlaps(block.minTimeNs, block.maxTimeNs, range) || skip?.has(block)) continue
      if (deleted.some((r) => covers(r, block.minTimeNs, block.maxTimeNs))) continue
      // Only the part of the block in range is returned; uncached, its values are decoded only up to the range's end.
      const column = removeRanges(cache ? this.cachedBlock(segment, block, range) : segment.reader.readBlock(block, range), deleted)
      if (column.times.length > 0) yield column
    }
  }

  private cachedBlock(segment: LiveSegment, block: BlockEntry, range: TimeRange): Column {
    let whole = this.blockCache.get(block)
    if (!whole) {
      whole = segment.reader.readBlock(block)
      this.blockCache.put(block, whole)
    }
    return cutToRange(whole, range)
  }

  private *memtableColumns(memtable: Memtable, series: SeriesInfo, field: string, range: TimeRange, deleted: TimeRange[]): Generator<Column> {
    const column = memtable.get(series.id, field)
    if (!column || column.length === 0) return
    for (const piece of column.view()) {
      if (!overlaps(piece.times[0]!, piece.times[piece.times.length - 1]!, range)) continue
      const view = removeRanges(cutToRange(piece, range), deleted)
      if (view.times.length > 0) yield view
    }
  }

  /** The merged, visible points of (series, field) in range, oldest first. */
  private *scanSeries(series: SeriesInfo, field: string, range: TimeRange, skip?: Set<BlockEntry>): Generator<Column> {
    const segments = [...this.segments].reverse()
    for (const segment of segments) segment.refs++
    try {
      const sources: Iterator<Column>[] = [this.memtableColumns(this.active, series, field, range, this.deletedRanges(series, field, Infinity, 0n))]
      if (this.frozen) sources.push(this.memtableColumns(this.frozen, series, field, range, this.deletedRanges(series, field, this.frozen.seq, 0n)))
      for (const segment of segments) {
        sources.push(this.segmentColumns(segment, series, field, range, this.deletedRanges(series, field, segment.maxSeq, segment.purgedOffset), skip))
      }
      yield* mergeSources(sources, this.settings.scanChunkMaxPoints)
    } finally {
      for (const segment of segments) {
        segment.refs--
        if (segment.removed && segment.refs === 0) segment.reader.close()
      }
    }
  }

  private seriesOf(id: string): SeriesInfo {
    const series = this.catalog.get(id)
    if (!series) throw new StorageError(StorageErrorCode.NOT_FOUND, `no series ${JSON.stringify(id)}`, { partition: this.settings.partition, seriesId: id })
    return series
  }

  /**
   * Scans (series, field) over [fromNs, toNs) as time-ordered chunks of typed arrays: the newest
   * value per time across memtables and segments, tombstoned and expired points removed.
   */
  scan(request: ScanRequest): Generator<Column> {
    this.throwIfClosed()
    const range = { fromNs: request.fromNs ?? null, toNs: request.toNs ?? null }
    return this.scanSeries(this.seriesOf(request.seriesId), request.field, range)
  }

  /** Splits a range into blocks answerable from their index stats and the rest to scan. */
  aggregate(request: ScanRequest): AggregatePlan {
    this.throwIfClosed()
    const series = this.seriesOf(request.seriesId)
    const range = { fromNs: request.fromNs ?? null, toNs: request.toNs ?? null }
    const blocks: BlockAggregate[] = []
    const skip = new Set<BlockEntry>()
    const memtableSpans: [bigint, bigint][] = []
    for (const memtable of [this.active, this.frozen]) {
      const span = memtable?.get(series.id, request.field)?.span()
      if (span) memtableSpans.push(span)
    }
    // Hour-aligned blocks make many small blocks: this loop stays free of per-block closures and copies by rest/spread.
    const others = this.segments.length > 1
    for (const segment of this.segments) {
      const deleted = this.deletedRanges(series, request.field, segment.maxSeq, segment.purgedOffset)
      for (const block of segment.reader.blocksOf(series.id, request.field) ?? NO_BLOCKS) {
        const min = block.minTimeNs
        const max = block.maxTimeNs
        if (!covers(range, min, max) || overlapsAny(min, max, deleted)) continue
        if (memtableSpans.length > 0 && memtableSpans.some(([a, b]) => a <= max && b >= min)) continue
        if (others && this.shadowed(segment, series.id, request.field, min, max)) continue
        skip.add(block)
        blocks.push({
          type: block.type, count: block.count, minTimeNs: min, maxTimeNs: max, min: block.min, max: block.max, first: block.first, last: block.last,
          sum: block.sum, file: segment.file, block: block.ordinal,
        })
      }
    }
    return { blocks, rest: this.scanSeries(series, request.field, range, skip) }
  }

  /** Whether another segment holds a block of (series, field) overlapping [min, max]. */
  private shadowed(segment: LiveSegment, seriesId: string, field: string, min: bigint, max: bigint): boolean {
    for (const other of this.segments) {
      if (other === segment) continue
      for (const block of other.reader.blocksOf(seriesId, field) ?? NO_BLOCKS) if (block.minTimeNs <= max && block.maxTimeNs >= min) return true
    }
    return false
  }

  /**
   * Whether a (series, field) has a visible point. A memtable's column answers from its points in
   * apply order: a listing during ingest (every query's schema) does not put every column of the
   * memtable in order. A segment block that no tombstone or retention range touches answers from
   * the index alone; only otherwise is a block decoded (by a scan).
   */
  private fieldVisible(series: SeriesInfo, field: string, retention: readonly TimeRange[]): boolean {
    if (this.active.get(series.id, field)?.hasTimeOutside(this.deletedRanges(series, field, Infinity, 0n))) return true
    if (this.frozen?.get(series.id, field)?.hasTimeOutside(this.deletedRanges(series, field, this.frozen.seq, 0n))) return true
    for (const segment of this.segments) {
      const blocks = segment.reader.blocksOf(series.id, field)
      if (!blocks || blocks.length === 0) continue
      // Without tombstones only the database's retention hides points: the ranges are the listing's.
      const deleted = this.tombstones.length === 0 ? retention : this.deletedRanges(series, field, segment.maxSeq, segment.purgedOffset)
      for (const block of blocks) if (block.count > 0 && !overlapsAny(block.minTimeNs, block.maxTimeNs, deleted)) return true
    }
    const scan = this.scanSeries(series, field, ALL_TIME)
    const visible = !scan.next().done
    scan.return(undefined)
    return visible
  }

  /**
   * What listSeries answers for a tenant's database can have changed only when this has: the offset
   * of the next entry to apply, or null under a time to live (the clock hides points then).
   */
  listingVersion(tenant: string, database: string): bigint | null {
    this.throwIfClosed()
    return this.retentionCutoff(tenant, database) === null ? this.nextAppliedOffset : null
  }

  /**
   * Series of a database (and measurement) matching tag predicates, with visible points. A listing
   * kept until the next applied entry is answered as the same frozen array each time, so a caller
   * can tell by identity that nothing changed (query/plan.ts keeps the table schema it built on it).
   */
  listSeries(query: SeriesQuery): readonly SeriesListing[] {
    this.throwIfClosed()
    // One tenant and database per listing: their retention range is worked out once, not per field.
    const cutoff = this.retentionCutoff(query.tenant, query.database)
    // What is visible follows from the entries applied (flushes and compactions move points, they
    // do not change them) and, under a time to live, from the clock: without one a listing is kept
    // until the next entry is applied.
    const key = cutoff === null ? JSON.stringify(query) : null
    if (key !== null) {
      if (this.listings.offset !== this.nextAppliedOffset) {
        this.listings.offset = this.nextAppliedOffset
        this.listings.byQuery.clear()
      }
      const listed = this.listings.byQuery.get(key)
      if (listed) return listed
    }
    const out = Object.freeze(this.listSeriesNow(query, cutoff))
    if (key !== null && this.listings.byQuery.size < MAX_KEPT_LISTINGS) this.listings.byQuery.set(key, out)
    return out
  }

  private listSeriesNow(query: SeriesQuery, cutoff: bigint | null): SeriesListing[] {
    const out: SeriesListing[] = []
    const retention: readonly TimeRange[] = cutoff === null ? [] : [{ fromNs: null, toNs: cutoff }]
    for (const series of this.catalog.values()) {
      if (series.tenant !== query.tenant || series.database !== query.database) continue
      if (query.measurement !== undefined && series.measurement !== query.measurement) continue
      if (query.tags && !matchesTags(series.tags, query.tags)) continue
      const fields: SeriesListing['fields'] = []
      for (const [name, type] of [...series.fieldTypes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (this.fieldVisible(series, name, retention)) fields.push({ name, type })
      }
      if (fields.length === 0) continue
      const { id, tenant, database, measurement, seriesKey, tags } = series
      out.push({ id, tenant, database, measurement, seriesKey, tags, fields })
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /**
   * SHA-256 over every visible point, by series id, field name and time: the same applied entries
   * give the same value whatever the flush and compaction history (and the same retention clock).
   */
  checksum(): string {
    this.throwIfClosed()
    const hash = createHash('sha256')
    const utf8 = new TextEncoder()
    const length = Buffer.alloc(8)
    for (const id of [...this.catalog.keys()].sort()) {
      const series = this.catalog.get(id)!
      for (const field of [...series.fieldTypes.keys()].sort()) {
        // Times and values hashed apart, so chunk boundaries (which depend on history) do not count.
        const times = createHash('sha256')
        const values = createHash('sha256')
        let count = 0
        for (const chunk of this.scanSeries(series, field, ALL_TIME)) {
          count += chunk.times.length
          times.update(new Uint8Array(chunk.times.buffer, chunk.times.byteOffset, chunk.times.byteLength))
          if (Array.isArray(chunk.values)) {
            for (const value of chunk.values) {
              const bytes = utf8.encode(value)
              length.writeUInt32LE(bytes.length, 0)
              values.update(length.subarray(0, 4))
              values.update(bytes)
            }
          } else {
            const typed = chunk.values as Float64Array
            values.update(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength))
          }
        }
        if (count === 0) continue
        length.writeBigUInt64LE(BigInt(count), 0)
        hash.update(utf8.encode(`${id}\u0000${field}\u0000${series.fieldTypes.get(field)}\u0000`))
        hash.update(length)
        hash.update(times.digest())
        hash.update(values.digest())
      }
    }
    return hash.digest('hex')
  }

  stats(): StoreStats {
    return {
      partition: this.settings.partition,
      appliedOffset: this.nextAppliedOffset,
      durableOffset: this.durable.appliedOffset,
      segments: this.segments.length,
      segmentBytes: this.segments.reduce((sum, s) => sum + s.bytes, 0),
      levels: this.segments.map((s) => s.level),
      memtableBytes: this.active.estimatedBytes,
      frozenMemtableBytes: this.frozen?.estimatedBytes ?? 0,
      tombstones: this.tombstones.length,
      series: this.catalog.size,
      warnings: this.warningCount,
      flushes: this.flushCount,
      compactions: this.compactionCount,
      compacting: this.compactionProgress === null ? null : { ...this.compactionProgress },
    }
  }

  /** What read-view.ts copies for a read in another thread: this instant's segments, memtables, tombstones, series. */
  readState(): StoreReadState {
    this.throwIfClosed()
    const manifest: Manifest = {
      partition: this.settings.partition, appliedOffset: this.nextAppliedOffset, nextSeq: this.nextSeq, nextFileId: this.nextFileId,
      segments: [], tombstones: this.tombstones, databaseTtls: this.databaseTtlList(),
    }
    return { dir: this.dir, settings: this.settings, manifest, segments: this.segments, active: this.active, frozen: this.frozen, catalog: this.catalog }
  }

  /** The live segment files (names relative to the store's directory). */
  segmentFiles(): string[] {
    return this.segments.map((s) => s.file)
  }

  /** Waits for background work, then closes files. Unflushed entries are replayed from Kafka at reopen. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    while (this.flushing || this.compacting) await (this.flushing ?? this.compacting)
    await this.compactionChain
    await this.manifestChain
    for (const segment of this.segments) segment.reader.close()
  }

  private throwIfClosed(): void {
    if (this.closed) throw new StorageError(StorageErrorCode.CLOSED, 'the store is closed', { partition: this.settings.partition })
  }

  private throwIfUnusable(): void {
    this.throwIfClosed()
    if (this.failure !== null) {
      throw new StorageError(StorageErrorCode.CLOSED, `a background flush or compaction failed; reopen the store: ${String(this.failure)}`,
        { partition: this.settings.partition }, false, { cause: this.failure })
    }
  }
}

function overlapsAny(min: bigint, max: bigint, ranges: readonly TimeRange[]): boolean {
  for (const range of ranges) if (overlaps(min, max, range)) return true
  return false
}

/** Whether a tombstone's scope (database, measurement, series or tags, fields) holds (series, field). */
function tombstoneMatches(t: Tombstone, series: SeriesInfo, field: string): boolean {
  if (t.tenant !== series.tenant || t.database !== series.database) return false
  if (t.measurement !== null && t.measurement !== series.measurement) return false
  if (t.fields != null && !t.fields.includes(field)) return false
  return t.seriesId !== null ? t.seriesId === series.id : matchesTags(series.tags, t.tags)
}
