// Executes an InfluxQL SELECT over one database's stores. Series of a measurement are listed with
// the query layer's tableSchema, filtered by the WHERE's tag predicate and grouped into output
// series by the GROUP BY tags (InfluxDB's tag sets, sorted by their values); the select list is
// planned in columns.ts. Aggregates fold time-ordered typed-array chunks (or whole blocks' index
// statistics) into per-window cells (reduce.ts); each call is filled on its own (fill.ts), maybe
// transformed (transform.ts), and the calls are zipped by time, as InfluxDB's iterators are, then
// arithmetic applies (math.ts). Raw selections line up each series' fields on the union of their
// times and merge the group's series by time.

import { type Column, FieldType, type PartitionStore, type SeriesListing } from '../../sinks/index.ts'
import type { TagMatch } from '../../schemas/index.ts'
import { QueryError, QueryErrorCode, isQueryError } from '../errors.ts'
import { QUERY_LIMITS } from '../limits.ts'
import { tableSchema, type TableSchema, type TableSeries } from '../plan.ts'
import type { Value } from '../result.ts'
import { bucketStartNs, forEachTumblingRun } from '../time.ts'
import type { Expr, SelectStatement } from './ast.ts'
import { planColumns, type AggregateColumn, type CallColumn, type ColumnPlan } from './columns.ts'
import { analyzeWhere, type TagLookup, type WhereParts } from './condition.ts'
import { fillWindows, type FillSpec } from './fill.ts'
import { Cell, NEEDS_VALUES, SELECTORS, resultIsInteger } from './reduce.ts'
import { transformWindows } from './transform.ts'
import { KeptByPair } from '../kept.ts'

/** One series of an answer: rows start with the time (ns). */
export interface OutputSeries {
  name: string
  /** GROUP BY tags and their values; null without GROUP BY tags. */
  tags: Array<[string, string]> | null
  columns: string[]
  values: Value[][]
}

/** Aggregates a cell answers from its count and sum alone (reduce.ts Cell's sumsOnly). */
const SUMS: ReadonlySet<string> = new Set(['count', 'sum', 'mean'])

const unsupported = (message: string): QueryError => new QueryError(QueryErrorCode.UNSUPPORTED, message)

export function selectMeasurement(statement: SelectStatement, stores: PartitionStore[], tenant: string, database: string, measurement: string, nowNs: bigint): OutputSeries[] {
  const schema = schemaFor(statement, stores, tenant, database, measurement)
  if (schema === null) return []
  const where = analyzeWhere(statement.condition, nowNs, (name) => schema.fields.has(name) && !schema.tags.includes(name))
  const { groupKeys, columns, calls, groups: grouped } = preparedFor(statement, schema, where)
  const aggregate = calls.length > 0
  if (aggregate && statement.groupByTime && where.endNs === null) where.endNs = nowNs
  const ordered = statement.descending ? [...grouped].reverse() : grouped
  const groups = ordered.slice(statement.soffset, statement.slimit > 0 ? statement.soffset + statement.slimit : undefined)
  const out: OutputSeries[] = []
  for (const group of groups) {
    let rows = !aggregate ? rawRows(statement, columns, group.members, where)
      : calls.length < columns.length ? selectorRows(statement, columns, calls[0] as AggregateColumn, group.members, where)
        : outputRows(columns, aggregateRows(statement, calls, group.members, where))
    rows = rows.slice(statement.offset, statement.limit > 0 ? statement.offset + statement.limit : undefined)
    if (rows.length === 0) continue
    out.push({
      name: measurement,
      tags: statement.groupByAllTags || statement.groupByTags.length > 0 ? groupKeys.map((key, i) => [key, group.values[i]!]) : null,
      columns: ['time', ...columns.map((c) => c.name)],
      values: rows,
    })
  }
  return out
}

interface Group {
  values: string[]
  members: TableSeries[]
}

/** What a statement makes of a measurement's schema whatever the time: its columns and its series in groups. */
interface Prepared {
  groupKeys: string[]
  columns: ColumnPlan[]
  calls: CallColumn[]
  /** In tag order; shared by every request that repeats the statement, so never changed. */
  groups: readonly Group[]
}

/**
 * Prepared by table schema, then by statement, as SQL keeps its plans (query/execute.ts): the
 * statement is the parse cache's frozen one, the schema the one plan.ts keeps until a store applies
 * an entry, so a write, DELETE or DDL command gives a new schema and a new preparation. The tag
 * predicate the groups were chosen with depends on the condition and the schema only (time bounds,
 * which may read now(), are worked out per request).
 */
const PREPARED = new KeptByPair<TableSchema, SelectStatement, Prepared>()

function preparedFor(statement: SelectStatement, schema: TableSchema, where: WhereParts): Prepared {
  return PREPARED.get(schema, statement, () => prepare(statement, schema, where))
}

function prepare(statement: SelectStatement, schema: TableSchema, where: WhereParts): Prepared {
  const groupKeys = statement.groupByAllTags ? schema.tags : statement.groupByTags
  const columns = planColumns(statement, schema, groupKeys)
  const calls = columns.flatMap((c): CallColumn[] => (c.kind === 'aggregate' || c.kind === 'transform' ? [c] : c.kind === 'math' ? c.calls : []))
  if (statement.groupByTime && calls.length === 0) throw unsupported('GROUP BY time(...) requires at least one aggregate function')
  const transform = calls.find((c) => c.kind === 'transform')
  if (transform && !statement.groupByTime) throw unsupported(`${transform.spec.fn}() of an aggregate requires GROUP BY time(...)`)
  return { groupKeys, columns, calls, groups: groupSeries(schema, where, groupKeys) }
}

/** The measurement's series (listed with their tags and fields), or null when it has none; some when `matches` narrow them. */
function listed(stores: PartitionStore[], tenant: string, database: string, measurement: string, matches?: TagMatch[]): TableSchema | null {
  try {
    return tableSchema(stores, tenant, database, measurement, matches)
  } catch (error) {
    if (isQueryError(error) && error.code === QueryErrorCode.UNKNOWN_TABLE) return null
    throw error
  }
}

/**
 * The series the statement reads. Listing a series costs the store a visibility check per field,
 * so when the WHERE requires tag values (`"host" = 'a'` or an OR of such on one tag, joined to the
 * rest with AND) only the series having them are listed, as long as they tell every name of the
 * statement apart as the whole measurement would: no wildcard, regex or GROUP BY *, the WHERE's
 * names all tags of those series, the select list's names all known to them. Otherwise, or when
 * none match, the whole measurement is listed. (As in SQL, a field whose type differs in series the
 * narrowed listing leaves out is not refused.)
 */
function schemaFor(statement: SelectStatement, stores: PartitionStore[], tenant: string, database: string, measurement: string): TableSchema | null {
  const matches = tagMatchesOf(statement.condition)
  if (matches.length > 0 && !statement.groupByAllTags && statement.fields.every(({ expr }) => !hasPattern(expr))) {
    const narrowed = listed(stores, tenant, database, measurement, matches)
    if (narrowed !== null && namesResolve(statement, narrowed)) return narrowed
  }
  return listed(stores, tenant, database, measurement)
}

/**
 * requiredTagMatches by condition: a cached statement's (frozen, parser.ts) is worked out once, not
 * per request. Frozen, as the statement is, since every request that repeats it gets the same ones.
 */
const TAG_MATCHES = new WeakMap<Expr, TagMatch[]>()

function tagMatchesOf(condition: Expr | null): TagMatch[] {
  if (condition === null) return []
  let matches = TAG_MATCHES.get(condition)
  if (matches === undefined) {
    matches = requiredTagMatches(condition).map((match) => Object.freeze({ key: match.key, values: Object.freeze(match.values) as string[] }))
    TAG_MATCHES.set(condition, Object.freeze(matches) as TagMatch[])
  }
  return matches
}

/**
 * The tag values the condition requires: top-level AND parts `"k" = 'v'` or `"k" =~ /^(v|w)$/` (an
 * anchored alternation of literals, as Grafana writes a multi-value variable), or ORs of those on
 * one key; never '' (the value of a missing tag).
 */
function requiredTagMatches(condition: Expr | null): TagMatch[] {
  if (condition === null) return []
  if (condition.kind === 'binary' && condition.op === 'AND') return [...requiredTagMatches(condition.left), ...requiredTagMatches(condition.right)]
  const values: string[] = []
  let key: string | null = null
  const equalities = (expr: Expr): boolean => {
    if (expr.kind === 'binary' && expr.op === 'OR') return equalities(expr.left) && equalities(expr.right)
    if (expr.kind !== 'binary' || (expr.op !== '=' && expr.op !== '=~')) return false
    const [ident, value] = expr.left.kind === 'ident' ? [expr.left, expr.right] : [expr.right, expr.left]
    if (ident.kind !== 'ident' || ident.cast === 'field') return false
    const matched = expr.op === '=' ? (value.kind === 'string' ? [value.value] : null) : value.kind === 'regex' ? literalAlternatives(value.regex) : null
    if (matched === null || matched.includes('') || (key !== null && key !== ident.name)) return false
    key = ident.name
    values.push(...matched)
    return true
  }
  return equalities(condition) && key !== null && key !== 'time' ? [{ key, values }] : []
}

/** Characters with a meaning in a regex; any other stands for itself, as does one escaped that is not a letter or digit. */
const REGEX_SYNTAX = '\\^$.|?*+()[]{}'

/** What /^literal$/ or /^(a|b|c)$/ (or (?:...)) matches, unescaped; null for any other regex or one with flags. */
export function literalAlternatives(regex: RegExp): string[] | null {
  const source = regex.source
  if (regex.flags !== '' || !source.startsWith('^')) return null
  let at = 1
  const group = source.startsWith('(?:', at) ? 3 : source[at] === '(' ? 1 : 0
  at += group
  const alternatives: string[] = []
  let current = ''
  for (; at < source.length; at++) {
    const c = source[at]!
    if (c === '\\') {
      const next = source[at + 1]
      if (next === undefined || /[A-Za-z0-9]/.test(next)) return null
      current += next
      at++
    } else if (c === '|' && group > 0) {
      alternatives.push(current)
      current = ''
    } else if (!REGEX_SYNTAX.includes(c)) {
      current += c
    } else {
      break
    }
  }
  alternatives.push(current)
  const rest = source.slice(at)
  return rest === (group > 0 ? ')$' : '$') ? alternatives : null
}

function hasPattern(expr: Expr): boolean {
  if (expr.kind === 'wildcard' || expr.kind === 'regex') return true
  if (expr.kind === 'call') return expr.args.some(hasPattern)
  return expr.kind === 'binary' && (hasPattern(expr.left) || hasPattern(expr.right))
}

function identifiers(expr: Expr | null, out: string[] = []): string[] {
  if (expr === null) return out
  if (expr.kind === 'ident') out.push(expr.name)
  else if (expr.kind === 'call') for (const arg of expr.args) identifiers(arg, out)
  else if (expr.kind === 'binary') { identifiers(expr.left, out); identifiers(expr.right, out) }
  return out
}

/** Whether the narrowed series read the statement's names as the whole measurement would. */
function namesResolve(statement: SelectStatement, schema: TableSchema): boolean {
  const isTime = (name: string): boolean => name.toLowerCase() === 'time'
  const tagOnly = (name: string): boolean => schema.tags.includes(name) && !schema.fields.has(name)
  const known = (name: string): boolean => schema.tags.includes(name) || schema.fields.has(name)
  return identifiers(statement.condition).every((name) => isTime(name) || tagOnly(name))
    && statement.fields.every(({ expr }) => identifiers(expr).every((name) => isTime(name) || known(name)))
}

function lookupOf(series: SeriesListing): TagLookup {
  return (key) => {
    for (const tag of series.tags) if (tag.key === key) return tag.value
    return ''
  }
}

function compareLists(a: string[], b: string[]): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
  return a.length - b.length
}

/** The output series: members matching the predicate, grouped by the GROUP BY tags, sorted. */
function groupSeries(schema: TableSchema, where: WhereParts, groupKeys: string[]): Group[] {
  const groups = new Map<string, Group>()
  const members = schema.series
    .filter(({ series }) => where.predicate === null || where.predicate(lookupOf(series)))
    .map((member) => ({ member, key: schema.tags.map(lookupOf(member.series)) }))
    .sort((a, b) => compareLists(a.key, b.key))
    .map(({ member }) => member)
  for (const member of members) {
    const lookup = lookupOf(member.series)
    const values = groupKeys.map(lookup)
    const key = JSON.stringify(values)
    let group = groups.get(key)
    if (!group) { group = { values, members: [] }; groups.set(key, group) }
    group.members.push(member)
  }
  return [...groups.values()].sort((a, b) => compareLists(a.values, b.values))
}

type ScanRange = { fromNs: bigint | null; toNs: bigint | null }

function scanRange(where: WhereParts): ScanRange {
  return { fromNs: where.startNs, toNs: where.endNs === null ? null : where.endNs + 1n }
}

/** Rows of the output columns from rows of the calls ([time, call values...]). */
function outputRows(columns: ColumnPlan[], rows: Value[][]): Value[][] {
  if (columns.every((c) => c.kind !== 'math')) return rows
  const outputs: Array<(calls: Value[]) => Value> = []
  let at = 0
  for (const column of columns) {
    const start = at
    if (column.kind === 'math') {
      at += column.calls.length
      outputs.push((calls) => column.evaluate(calls.slice(start, start + column.calls.length)))
    } else {
      at++
      outputs.push((calls) => calls[start]!)
    }
  }
  return rows.map((row) => {
    const calls = row.slice(1)
    return [row[0]!, ...outputs.map((output) => output(calls))]
  })
}

/** The range an aggregate reads: widened by the windows a transformation of it looks back on. */
function widened(where: WhereParts, byTime: SelectStatement['groupByTime'], call: AggregateColumn, descending: boolean): WhereParts {
  if (byTime === null || call.extraWindows === 0) return where
  const extraNs = BigInt(call.extraWindows) * byTime.intervalNs
  if (descending) return { ...where, endNs: where.endNs! + extraNs }
  return where.startNs === null ? where : { ...where, startNs: where.startNs - extraNs }
}

function aggregateRows(statement: SelectStatement, calls: CallColumn[], members: TableSeries[], where: WhereParts): Value[][] {
  const byTime = statement.groupByTime
  const aggregates = calls.map((c) => (c.kind === 'transform' ? c.call : c))
  /** A lone selector without GROUP BY time answers at the time of the point it selected. */
  const selectorTime = byTime === null && aggregates.length === 1 && SELECTORS.has(aggregates[0]!.fn)
  // Cells per field and range (a transformation's aggregate reads a wider one).
  const cells = new Map<string, Map<bigint, Cell>>()
  const keyOf = (call: AggregateColumn): string => `${call.extraWindows}\u0000${call.field}`
  for (const call of aggregates) {
    const key = keyOf(call)
    if (cells.has(key)) continue
    const sharing = aggregates.filter((c) => keyOf(c) === key)
    const keepValues = sharing.some((c) => NEEDS_VALUES.has(c.fn))
    // Block statistics answer whole blocks, unless every value or the time of a min or max is needed.
    const useStats = !keepValues && !(selectorTime && (call.fn === 'min' || call.fn === 'max'))
    const sumsOnly = sharing.every((c) => SUMS.has(c.fn))
    cells.set(key, foldField(call.field, members, byTime, scanRange(widened(where, byTime, call, statement.descending)), { keepValues, useStats, sumsOnly }))
  }
  if (!byTime) return [singleRow(aggregates, aggregates.map((c) => cells.get(keyOf(c))!.get(0n)), where)].filter((row): row is Value[] => row !== null)
  const firstWindowNs = where.startNs === null ? null : bucketStartNs(where.startNs, byTime.intervalNs, byTime.offsetNs)
  const lastWindowNs = bucketStartNs(where.endNs!, byTime.intervalNs, byTime.offsetNs)
  const filledOf = (i: number): Array<[bigint, Value]> => {
    const aggregate = aggregates[i]!
    const range = widened(where, byTime, aggregate, statement.descending)
    const spec: FillSpec = {
      fill: statement.fill, intervalNs: byTime.intervalNs, descending: statement.descending,
      firstWindowNs: range.startNs === null ? null : bucketStartNs(range.startNs, byTime.intervalNs, byTime.offsetNs),
      lastWindowNs: bucketStartNs(range.endNs!, byTime.intervalNs, byTime.offsetNs),
    }
    const windows = cells.get(keyOf(aggregate))!
    const points: Array<[bigint, Value]> = [...windows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((w) => [w, windows.get(w)!.result(aggregate.fn, aggregate.percent)])
    return fillWindows(points, spec, resultIsInteger(aggregate.fn, aggregate.type), aggregate.fn === 'count')
  }
  // One plain aggregate: its filled windows, in output order, are the rows.
  if (calls.length === 1 && calls[0]!.kind !== 'transform') return filledOf(0).map(([time, value]) => [time, value])
  const columns = calls.map((call, i) => {
    const filled = filledOf(i)
    if (call.kind !== 'transform') return new Map(filled)
    const inside = ([time]: [bigint, Value]): boolean => (firstWindowNs === null || time >= firstWindowNs) && time <= lastWindowNs
    return new Map(transformWindows(call.spec, filled, byTime.intervalNs, statement.descending).filter(inside))
  })
  const times = new Set<bigint>()
  for (const column of columns) for (const time of column.keys()) times.add(time)
  const ordered = [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  if (statement.descending) ordered.reverse()
  // A row another column makes: a transformation without a value there gets fill(<number>)'s number.
  const missing: Value = statement.fill.kind === 'value' ? statement.fill.value : null
  return ordered.map((time) => [time, ...columns.map((column) => (column.has(time) ? column.get(time)! : missing))])
}

/**
 * A selector with other fields and tags (SELECT max("v"), "host", "w"): each row's fields and tags are
 * those of the point the selector picked (null in a filled window), as InfluxDB gives them.
 */
function selectorRows(statement: SelectStatement, columns: ColumnPlan[], call: AggregateColumn, members: TableSeries[], where: WhereParts): Value[][] {
  const byTime = statement.groupByTime
  const windows = foldField(call.field, members, byTime, scanRange(where), { keepValues: NEEDS_VALUES.has(call.fn), useStats: false, sumsOnly: false })
  const auxiliary = (window: bigint): Value[] => {
    const point = windows.get(window)?.selectedPoint(call.fn, call.percent) ?? null
    return columns.map((column) => {
      if (column.kind === 'aggregate') return windows.get(window)!.result(call.fn, call.percent)
      if (point === null) return null
      const { store, series } = members[point.source]!
      if (column.kind === 'tag') return series.tags.find((t) => t.key === column.key)?.value ?? null
      if (column.kind !== 'field' || !series.fields.some((f) => f.name === column.field)) return null
      const [chunk] = store.scan({ seriesId: series.id, field: column.field, fromNs: point.timeNs, toNs: point.timeNs + 1n })
      return chunk === undefined || chunk.times.length === 0 ? null : valueAt(chunk, 0)
    })
  }
  if (byTime === null) {
    const point = windows.get(0n)?.selectedPoint(call.fn, call.percent) ?? null
    return point === null ? [] : [[point.timeNs, ...auxiliary(0n)]]
  }
  const spec: FillSpec = {
    fill: statement.fill, intervalNs: byTime.intervalNs, descending: statement.descending,
    firstWindowNs: where.startNs === null ? null : bucketStartNs(where.startNs, byTime.intervalNs, byTime.offsetNs),
    lastWindowNs: bucketStartNs(where.endNs!, byTime.intervalNs, byTime.offsetNs),
  }
  const points: Array<[bigint, Value]> = [...windows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((w) => [w, windows.get(w)!.result(call.fn, call.percent)])
  return fillWindows(points, spec, resultIsInteger(call.fn, call.type), false).map(([time, value]) => {
    if (!windows.has(time)) return [time, ...columns.map((column) => (column.kind === 'aggregate' ? value : null))]
    return [time, ...auxiliary(time)]
  })
}

/** One field of the group's series folded into cells by window (0 without GROUP BY time). */
function foldField(field: string, members: TableSeries[], byTime: SelectStatement['groupByTime'], range: { fromNs: bigint | null; toNs: bigint | null }, options: { keepValues: boolean; useStats: boolean; sumsOnly: boolean }): Map<bigint, Cell> {
  const windows = new Map<bigint, Cell>()
  for (const [source, { store, series }] of members.entries()) {
    const type = series.fields.find((f) => f.name === field)?.type
    if (type === undefined) continue
    const cellAt = (window: bigint): Cell => {
      let cell = windows.get(window)
      if (!cell) {
        if (windows.size >= QUERY_LIMITS.maxResultRows) throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `more than ${QUERY_LIMITS.maxResultRows} time windows; narrow the time range or widen the interval`)
        cell = new Cell(type, options.keepValues, options.sumsOnly)
        windows.set(window, cell)
      }
      return cell
    }
    if (!options.useStats) {
      for (const chunk of store.scan({ seriesId: series.id, field, ...range })) addChunk(chunk, byTime, cellAt, source)
      continue
    }
    const plan = store.aggregate({ seriesId: series.id, field, ...range })
    for (const block of plan.blocks) {
      const window = byTime === null ? 0n : bucketStartNs(block.minTimeNs, byTime.intervalNs, byTime.offsetNs)
      const oneWindow = byTime === null || window === bucketStartNs(block.maxTimeNs, byTime.intervalNs, byTime.offsetNs)
      if (oneWindow && Cell.statsSuffice(type, block)) {
        cellAt(window).addStats(block)
        continue
      }
      // A clean block is the only data of its series and field in its span: scanning the span reads exactly it.
      for (const chunk of store.scan({ seriesId: series.id, field, fromNs: block.minTimeNs, toNs: block.maxTimeNs + 1n })) addChunk(chunk, byTime, cellAt)
    }
    for (const chunk of plan.rest) addChunk(chunk, byTime, cellAt)
  }
  return windows
}

function addChunk(chunk: Column, byTime: SelectStatement['groupByTime'], cellAt: (window: bigint) => Cell, source = 0): void {
  const count = chunk.times.length
  if (byTime === null) { cellAt(0n).add(chunk, 0, count, source); return }
  forEachTumblingRun(chunk.times, count, byTime.intervalNs, byTime.offsetNs, (window, start, end) => cellAt(window).add(chunk, start, end, source))
}

/** Without GROUP BY time: one row, at the range start (epoch 0 without one), or at the selected point for a lone selector. */
function singleRow(columns: AggregateColumn[], cellsOf: Array<Cell | undefined>, where: WhereParts): Value[] | null {
  if (cellsOf.every((cell) => cell === undefined)) return null
  let time = where.startNs ?? 0n
  const only = columns.length === 1 ? columns[0]! : null
  if (only !== null && SELECTORS.has(only.fn)) time = cellsOf[0]!.selectedPoint(only.fn, only.percent)?.timeNs ?? time
  return [time, ...columns.map((column, i) => cellsOf[i]?.result(column.fn, column.percent) ?? (column.fn === 'count' ? 0n : null))]
}

/** One field of one series over the range, as a single column. */
function readColumn(store: PartitionStore, seriesId: string, field: string, range: { fromNs: bigint | null; toNs: bigint | null }): Column | null {
  const chunks = [...store.scan({ seriesId, field, ...range })]
  if (chunks.length === 0) return null
  if (chunks.length === 1) return chunks[0]!
  const count = chunks.reduce((n, c) => n + c.times.length, 0)
  const times = new BigInt64Array(count)
  const type = chunks[0]!.type
  if (type === FieldType.STRING) {
    const values: string[] = []
    let at = 0
    for (const c of chunks) { times.set(c.times, at); at += c.times.length; for (const v of c.values as string[]) values.push(v) }
    return { type, times, values }
  }
  const values = new ((chunks[0]!.values as Float64Array).constructor as Float64ArrayConstructor)(count)
  let at = 0
  for (const c of chunks) { times.set(c.times, at); values.set(c.values as Float64Array, at); at += c.times.length }
  return { type, times, values }
}

function rawRows(statement: SelectStatement, columns: ColumnPlan[], members: TableSeries[], where: WhereParts): Value[][] {
  const range = scanRange(where)
  const rows: Value[][] = []
  const fields = [...new Set(columns.flatMap((c) => (c.kind === 'field' ? [c.field] : [])))]
  for (const { store, series } of members) {
    const read = new Map<string, { column: Column; at: number }>()
    for (const field of fields) {
      if (!series.fields.some((f) => f.name === field)) continue
      const column = readColumn(store, series.id, field, range)
      if (column) read.set(field, { column, at: 0 })
    }
    if (read.size === 0) continue
    const times = unionTimes([...read.values()].map((r) => r.column.times))
    const tagValues = columns.map((column) => (column.kind === 'tag' ? series.tags.find((t) => t.key === column.key)?.value ?? null : null))
    for (const time of times) {
      const row: Value[] = [time]
      for (let c = 0; c < columns.length; c++) {
        const column = columns[c]!
        if (column.kind === 'tag') { row.push(tagValues[c]!); continue }
        const cursor = column.kind === 'field' ? read.get(column.field) : undefined
        row.push(cursor !== undefined && cursor.column.times[cursor.at] === time ? valueAt(cursor.column, cursor.at) : null)
      }
      for (const cursor of read.values()) if (cursor.column.times[cursor.at] === time) cursor.at++
      rows.push(row)
      if (rows.length > QUERY_LIMITS.maxResultRows) {
        throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `the result has more than ${QUERY_LIMITS.maxResultRows} rows; add a LIMIT, narrow the time range or aggregate`)
      }
    }
  }
  // Stable: rows of one time keep the order of their series (sorted by tags).
  const sign = statement.descending ? -1 : 1
  rows.sort((a, b) => ((a[0] as bigint) < (b[0] as bigint) ? -sign : (a[0] as bigint) > (b[0] as bigint) ? sign : 0))
  return rows
}

function unionTimes(columns: BigInt64Array[]): BigInt64Array {
  if (columns.length === 1) return columns[0]!
  const total = columns.reduce((n, c) => n + c.length, 0)
  const all = new BigInt64Array(total)
  let at = 0
  for (const c of columns) { all.set(c, at); at += c.length }
  all.sort()
  let distinct = 0
  for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) all[distinct++] = all[i]!
  return all.subarray(0, distinct)
}

function valueAt(column: Column, index: number): Value {
  const value = (column.values as ArrayLike<number | bigint | string>)[index]!
  return column.type === FieldType.BOOLEAN ? value !== 0 : value
}
