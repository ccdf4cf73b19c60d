// UPDATE and DELETE commands, applied at their log position against a store's current state:
// DELETE edits the active memtable and leaves a tombstone for older data; UPDATE_FIELDS and
// UPDATE_TAGS read the merged state and write their result into the active memtable as an upsert
// at the command's offset. docs/segment-format.md lists what each supports.

import type { FieldValue, IngestCommand, Tag } from '../../schemas/index.ts'
import { type Column, type FieldTypeCode, FieldType } from './encoding/block.ts'
import { type Comparison, compare, parseFieldPredicate } from './field-predicate.ts'
import type { Tombstone } from './manifest.ts'
import { type Memtable, fieldTypeOf } from './memtable.ts'
import { type TimeRange, lowerBound, uniqueSorted } from './merge.ts'
import { type SeriesInfo, canonicalSeriesKey } from './series.ts'

/** The part of a store a command may touch. */
export interface CommandTarget {
  active: Memtable
  /** Series of the command's tenant, database and measurement matching its tag predicates, by id. */
  matchingSeries(command: IngestCommand): SeriesInfo[]
  ensureSeries(tenant: string, database: string, measurement: string, seriesKey: string, tags: readonly Tag[]): SeriesInfo
  /** False (and a warning) when the value's type conflicts with the field's first type. */
  admitType(series: SeriesInfo, field: string, type: FieldTypeCode, offset: bigint): boolean
  /** Merged visible points of (series, field) in range. */
  scan(series: SeriesInfo, field: string, range: TimeRange): Generator<Column>
  /** Records a tombstone hiding older data (the store sets beforeSeq). */
  addTombstone(tombstone: Omit<Tombstone, 'beforeSeq'>): void
  /** Reports a command skipped as unsupported. */
  warn(offset: bigint, message: string): void
}

export function applyCommand(store: CommandTarget, command: IngestCommand, offset: bigint): void {
  const where = command.where
  const range: TimeRange = { fromNs: where.fromNs, toNs: where.toNs }
  switch (command.kind) {
    case 'DELETE':
      if (where.fieldPredicate !== null) return store.warn(offset, `DELETE ${command.commandId}: field predicates are not supported; skipped`)
      for (const series of store.matchingSeries(command)) store.active.deleteRange(series.id, range.fromNs, range.toNs)
      store.addTombstone({
        offset, tenant: command.tenant, database: command.database, measurement: command.measurement,
        seriesId: null, tags: where.tags, fromNs: range.fromNs, toNs: range.toNs,
      })
      return
    case 'UPDATE_FIELDS':
      return updateFields(store, command, range, offset)
    case 'UPDATE_TAGS':
      return updateTags(store, command, range, offset)
  }
}

/**
 * UPDATE_FIELDS: an upsert, at this offset, of the assigned constants at every matching point.
 * A command never rotates the memtable midway: a flush there would make a manifest whose state is
 * no prefix of the log. So the points one command rewrites must fit in memory (CnosDB's UPDATE has
 * the same shape: scan, then re-insert).
 */
function updateFields(store: CommandTarget, command: IngestCommand, range: TimeRange, offset: bigint): void {
  let comparisons: Comparison[] = []
  if (command.where.fieldPredicate !== null) {
    const parsed = parseFieldPredicate(command.where.fieldPredicate)
    if (typeof parsed === 'string') return store.warn(offset, `UPDATE ${command.commandId}: ${parsed}; skipped`)
    comparisons = parsed
  }
  for (const series of store.matchingSeries(command)) {
    const times = matchingTimes(store, series, range, comparisons)
    if (times.length === 0) continue
    store.active.touchedSeries.add(series.id)
    for (const assignment of command.set) {
      const type = fieldTypeOf(assignment.value)
      if (!store.admitType(series, assignment.name, type, offset)) continue
      const column = store.active.column(series.id, assignment.name, type)
      for (let i = 0; i < times.length; i++) store.active.append(column, times[i]!, assignment.value)
    }
  }
}

/** Times of the series' points in range (a point exists where any field has a value) that satisfy every comparison. */
function matchingTimes(store: CommandTarget, series: SeriesInfo, range: TimeRange, comparisons: Comparison[]): BigInt64Array {
  const parts: BigInt64Array[] = []
  for (const field of series.fieldTypes.keys()) for (const chunk of store.scan(series, field, range)) parts.push(chunk.times)
  let times = uniqueSorted(parts)
  for (const comparison of comparisons) {
    const type = series.fieldTypes.get(comparison.field)
    if (type === undefined) return new BigInt64Array(0)
    const keep: bigint[] = []
    const chunks = [...store.scan(series, comparison.field, range)]
    let c = 0
    let i = 0
    for (const t of times) {
      while (c < chunks.length && (i >= chunks[c]!.times.length || chunks[c]!.times[chunks[c]!.times.length - 1]! < t)) { c++; i = 0 }
      if (c === chunks.length) break
      const chunk = chunks[c]!
      i = lowerBound(chunk.times, t)
      if (chunk.times[i] !== t) continue
      const value = (chunk.values as unknown as ArrayLike<number | bigint | string>)[i]!
      if (compare(value, type === FieldType.BOOLEAN, comparison)) keep.push(t)
    }
    times = BigInt64Array.from(keep)
  }
  return times
}

/**
 * UPDATE_TAGS: each matching series' points in range move to the series with the assigned tags
 * (an empty value removes the tag), as an upsert at this offset (so they win over points the
 * target already has at the same times), and are deleted from the old series.
 */
function updateTags(store: CommandTarget, command: IngestCommand, range: TimeRange, offset: bigint): void {
  if (command.where.fieldPredicate !== null || command.set.some((a) => typeof a.value !== 'string')) {
    return store.warn(offset, `UPDATE ${command.commandId}: tag updates take string values and tag predicates only; skipped`)
  }
  for (const source of store.matchingSeries(command)) {
    const tags = new Map(source.tags.map((t) => [t.key, t.value]))
    for (const assignment of command.set) tags.set(assignment.name, assignment.value as string)
    const newTags = [...tags].map(([key, value]) => ({ key, value }))
    const seriesKey = canonicalSeriesKey(source.measurement, newTags)
    if (seriesKey === source.seriesKey) continue
    const renamed = store.ensureSeries(source.tenant, source.database, source.measurement, seriesKey, newTags)
    store.active.touchedSeries.add(source.id)
    store.active.touchedSeries.add(renamed.id)
    for (const [field, type] of source.fieldTypes) {
      if (!store.admitType(renamed, field, type, offset)) continue
      const column = store.active.column(renamed.id, field, type)
      for (const chunk of store.scan(source, field, range)) {
        const values = chunk.values as unknown as ArrayLike<number | bigint | string>
        for (let i = 0; i < chunk.times.length; i++) {
          const v = values[i]!
          const value: FieldValue = type === FieldType.BOOLEAN ? v === 1 : type === FieldType.UNSIGNED ? { unsigned: v as bigint } : v
          store.active.append(column, chunk.times[i]!, value)
        }
      }
    }
    store.active.deleteRange(source.id, range.fromNs, range.toNs)
    store.addTombstone({
      offset, tenant: source.tenant, database: source.database, measurement: source.measurement,
      seriesId: source.id, tags: [], fromNs: range.fromNs, toNs: range.toNs,
    })
  }
}
