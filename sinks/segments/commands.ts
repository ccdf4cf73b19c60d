// UPDATE and DELETE commands, applied at their log position against a store's current state:
// DELETE edits the active memtable and leaves a tombstone for older data; UPDATE_FIELDS,
// UPDATE_EXPRESSIONS and UPDATE_TAGS read the merged state and write their result into the active
// memtable as an upsert at the command's offset. SET_CODEC is the masters' business (lossy
// compression): a replica has nothing to do. DROP_DATABASE, DROP_TABLE and DROP_FIELDS delete
// every value of their scope (all time) and forget the fields' types, so a later write may give a
// field another type (DROP_DATABASE forgets the database's TTL too); SET_DATABASE_TTL sets the database's time to live from this log position on.
// docs/segment-format.md lists what each supports.

import type { FieldValue, IngestCommand, Tag } from '../../schemas/index.ts'
import { type Column, type FieldTypeCode, FIELD_TYPE_NAMES, FieldType } from './encoding/block.ts'
import { type Comparison, compare, parseFieldPredicate } from './field-predicate.ts'
import { type Expression, type ExpressionType, type StoredValue, checkExpression, evaluate, fieldsOf, parseExpression, UNCHANGED } from './field-expression.ts'
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
  /** A database's time to live from now on; null = keep forever (the store's static setting no longer applies). */
  setDatabaseTtl(tenant: string, database: string, ttlNs: bigint | null): void
  /** Forgets the time to live the log set for a database (DROP_DATABASE): the static setting applies again. */
  clearDatabaseTtl(tenant: string, database: string): void
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
    case 'UPDATE_EXPRESSIONS':
      return updateExpressions(store, command, range, offset)
    case 'UPDATE_TAGS':
      return updateTags(store, command, range, offset)
    case 'SET_CODEC':
      return
    case 'SET_DATABASE_TTL':
      if (command.ttlNs != null && command.ttlNs <= 0n) return store.warn(offset, `SET_DATABASE_TTL ${command.commandId}: ttlNs ${command.ttlNs} is not positive; skipped`)
      return store.setDatabaseTtl(command.tenant, command.database, command.ttlNs ?? null)
    case 'DROP_DATABASE':
      store.clearDatabaseTtl(command.tenant, command.database)
      return dropColumns(store, command, offset)
    case 'DROP_TABLE':
    case 'DROP_FIELDS':
      return dropColumns(store, command, offset)
  }
}

/**
 * DROP_DATABASE, DROP_TABLE, DROP_FIELDS: the scope's values leave the active memtable, a tombstone
 * over all time hides them in older memtables and segments (compaction purges them), and the
 * fields' types are forgotten: the next write of a field gives it its type again. The series stay
 * in the store's catalog (their old blocks still name them until compaction); a series left with no
 * field is listed nowhere.
 */
function dropColumns(store: CommandTarget, command: IngestCommand, offset: bigint): void {
  const fields = command.kind === 'DROP_FIELDS' ? command.columns ?? [] : null
  if (fields !== null && fields.length === 0) return store.warn(offset, `DROP_FIELDS ${command.commandId}: no columns; skipped`)
  for (const series of store.matchingSeries(command)) {
    const memColumns = store.active.columns.get(series.id)
    for (const field of fields ?? [...series.fieldTypes.keys()]) {
      memColumns?.delete(field)
      series.fieldTypes.delete(field)
    }
  }
  store.addTombstone({
    offset, tenant: command.tenant, database: command.database, measurement: command.kind === 'DROP_DATABASE' ? null : command.measurement,
    seriesId: null, tags: [], fromNs: null, toNs: null, fields, forgetsTypes: true,
  })
}

/**
 * UPDATE_FIELDS: an upsert, at this offset, of the assigned constants at every matching point.
 * A command never rotates the memtable midway: a flush there would make a manifest whose state is
 * no prefix of the log. So the points one command rewrites must fit in memory (CnosDB's UPDATE has
 * the same shape: scan, then re-insert).
 */
function updateFields(store: CommandTarget, command: IngestCommand, range: TimeRange, offset: bigint): void {
  const comparisons = comparisonsOf(store, command, offset)
  if (comparisons === null) return
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

/** The command's field predicate parsed, or null (and a warning: the command is skipped) when it does not parse. */
function comparisonsOf(store: CommandTarget, command: IngestCommand, offset: bigint): Comparison[] | null {
  if (command.where.fieldPredicate === null) return []
  const parsed = parseFieldPredicate(command.where.fieldPredicate)
  if (typeof parsed !== 'string') return parsed
  store.warn(offset, `UPDATE ${command.commandId}: ${parsed}; skipped`)
  return null
}

interface ParsedAssignment {
  name: string
  type: ExpressionType
  expression: Expression
  reads: string[]
}

const EXPRESSION_TYPE_CODE: Record<ExpressionType, FieldTypeCode> = {
  float: FieldType.FLOAT, integer: FieldType.INTEGER, unsigned: FieldType.UNSIGNED, boolean: FieldType.BOOLEAN, string: FieldType.STRING,
}

/**
 * UPDATE_EXPRESSIONS: at every matching point, each assignment's expression evaluated on the
 * point's stored values as they were before the command (so `SET a = b, b = a` swaps), written as
 * an upsert at this offset. A point where an expression reads a missing field, divides by zero or
 * leaves its type's range keeps that field unchanged (docs/sql-commands.md). A series whose stored
 * types do not fit an expression (a float field in integer arithmetic) is left alone, with a warning.
 */
function updateExpressions(store: CommandTarget, command: IngestCommand, range: TimeRange, offset: bigint): void {
  const comparisons = comparisonsOf(store, command, offset)
  if (comparisons === null) return
  const assignments: ParsedAssignment[] = []
  for (const assignment of command.expressions ?? []) {
    if (!(assignment.type in EXPRESSION_TYPE_CODE)) return store.warn(offset, `UPDATE ${command.commandId}: unknown type ${JSON.stringify(assignment.type)} of "${assignment.name}"; skipped`)
    try {
      const expression = parseExpression(assignment.expression)
      assignments.push({ name: assignment.name, type: assignment.type as ExpressionType, expression, reads: fieldsOf(expression) })
    } catch (error) {
      return store.warn(offset, `UPDATE ${command.commandId}: "${assignment.name}" = ${assignment.expression}: ${(error as Error).message}; skipped`)
    }
  }
  for (const series of store.matchingSeries(command)) {
    const stored = (field: string): ExpressionType | undefined => {
      const code = series.fieldTypes.get(field)
      return code === undefined ? undefined : FIELD_TYPE_NAMES[code] as ExpressionType
    }
    // A field this series never had reads as missing at every point: checked as the target type.
    const problem = assignments.map(a => checkExpression(a.expression, a.type, field => stored(field) ?? a.type)).find(p => p !== null)
    if (problem) {
      store.warn(offset, `UPDATE ${command.commandId}: series ${series.seriesKey}: ${problem}; left unchanged`)
      continue
    }
    const times = matchingTimes(store, series, range, comparisons)
    if (times.length === 0) continue
    const columns = new Map<string, Array<StoredValue | undefined>>()
    for (const assignment of assignments) {
      for (const field of assignment.reads) if (!columns.has(field)) columns.set(field, valuesAt(store, series, field, range, times))
    }
    // Evaluate everything before writing anything: every expression sees the values before the command.
    const results = assignments.map(assignment => {
      const out: Array<ReturnType<typeof evaluate>> = new Array(times.length)
      for (let i = 0; i < times.length; i++) out[i] = evaluate(assignment.expression, assignment.type, field => columns.get(field)![i])
      return out
    })
    store.active.touchedSeries.add(series.id)
    assignments.forEach((assignment, a) => {
      const type = EXPRESSION_TYPE_CODE[assignment.type]
      if (!store.admitType(series, assignment.name, type, offset)) return
      const column = store.active.column(series.id, assignment.name, type)
      const values = results[a]!
      for (let i = 0; i < times.length; i++) {
        const value = values[i]!
        if (value === UNCHANGED) continue
        store.active.append(column, times[i]!, assignment.type === 'unsigned' ? { unsigned: value as bigint } : value as FieldValue)
      }
    })
  }
}

/** The stored value of (series, field) at each of `times` (sorted), undefined where the point lacks the field. */
function valuesAt(store: CommandTarget, series: SeriesInfo, field: string, range: TimeRange, times: BigInt64Array): Array<StoredValue | undefined> {
  const out = new Array<StoredValue | undefined>(times.length).fill(undefined)
  if (!series.fieldTypes.has(field)) return out
  let next = 0
  for (const chunk of store.scan(series, field, range)) {
    const values = chunk.values as unknown as ArrayLike<StoredValue>
    for (let i = 0; i < chunk.times.length && next < times.length; i++) {
      const t = chunk.times[i]!
      while (next < times.length && times[next]! < t) next++
      if (next < times.length && times[next] === t) out[next++] = values[i]!
    }
  }
  return out
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
