// Executes a SELECT without aggregates: per series, the requested fields read over the range as
// columns and lined up on the union of their times (a field without a value there is null), then
// rows. With LIMIT and no ORDER BY it stops once enough rows exist; with ORDER BY time and LIMIT
// each series contributes at most offset + limit rows.

import { type Column, FieldType, type PartitionStore, type SeriesListing } from '../sinks/index.ts'
import type { Value } from './accumulate.ts'
import { QueryError, QueryErrorCode } from './errors.ts'
import { filterMask } from './filter.ts'
import { QUERY_LIMITS } from './limits.ts'
import { type Plan, type TableSchema, seriesMatches, tagValue } from './plan.ts'
import type { QueryStats } from './result.ts'

/** One field of one series over the range, as a single column. */
export function readColumn(store: PartitionStore, series: SeriesListing, field: string, fromNs: bigint | null, toNs: bigint | null, stats?: QueryStats): Column | null {
  const chunks = [...store.scan({ seriesId: series.id, field, fromNs, toNs })]
  if (stats) stats.chunksScanned = (stats.chunksScanned ?? 0) + chunks.length
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

function sameTimes(a: BigInt64Array, b: BigInt64Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** The sorted, distinct times of several columns. */
export function unionTimes(columns: Column[]): BigInt64Array {
  if (columns.length === 1) return columns[0]!.times
  // Fields written together share their times: then the union is any one of them, no sort.
  const first = columns[0]!.times
  if (columns.every((c) => sameTimes(c.times, first))) return first
  const total = columns.reduce((n, c) => n + c.times.length, 0)
  const all = new BigInt64Array(total)
  let at = 0
  for (const c of columns) { all.set(c.times, at); at += c.times.length }
  all.sort()
  let distinct = 0
  for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) all[distinct++] = all[i]!
  return all.subarray(0, distinct)
}

export function valueAt(column: Column, index: number): Value {
  const value = (column.values as ArrayLike<number | bigint | string>)[index]!
  return column.type === FieldType.BOOLEAN ? value !== 0 : value
}

export function executeRaw(plan: Plan, schema: TableSchema): { rows: Value[][]; stats: QueryStats } {
  const { statement, outputs } = plan
  const stats: QueryStats = { pointsScanned: 0, pointsFromBlockStats: 0 }
  const wanted = statement.limit === null ? null : statement.offset + statement.limit
  const byTimeOnly = statement.orderBy.length === 1 && outputs.some((o) => o.kind === 'time' && o.name === statement.orderBy[0]!.name)
  const filter = plan.rowFilter
  // A filter or DISTINCT drops rows after they are read, so a series' first rows may not be enough.
  const cuttable = wanted !== null && filter === null && !statement.distinct
  const perSeriesCap = cuttable && (statement.orderBy.length === 0 || byTimeOnly) ? wanted : null
  const tail = byTimeOnly && statement.orderBy[0]!.descending
  const requested = outputs.flatMap((o) => (o.kind === 'field' ? [o.field] : o.kind === 'expression' ? o.compiled.columns.filter((c) => schema.fields.has(c)) : []))
  if (filter !== null && requested.length > 0) requested.push(...filter.compiled.columns.filter((c) => schema.fields.has(c)))
  const tags = new Set(schema.tags)
  const rows: Value[][] = []
  // SELECT DISTINCT over tags only: a series gives one row if it has any point in the range.
  const tagsOnly = statement.distinct && filter === null && outputs.every((o) => o.kind === 'tag')
  for (const { store, series } of schema.series) {
    if (!seriesMatches(series, plan)) continue
    if (tagsOnly) {
      if (hasPoint(store, series, statement.fromNs, statement.toNs)) rows.push(outputs.map((o) => (o.kind === 'tag' ? tagValue(series, o.key) : null)))
      continue
    }
    const names = requested.length > 0 ? requested : series.fields.map((f) => f.name)
    const columns = new Map<string, Column>()
    for (const name of new Set(names)) {
      if (!series.fields.some((f) => f.name === name)) continue
      const column = readColumn(store, series, name, statement.fromNs, statement.toNs, stats)
      if (column) { columns.set(name, column); stats.pointsScanned += column.times.length }
    }
    if (columns.size === 0) continue
    const times = unionTimes([...columns.values()])
    let from = 0
    let to = times.length
    if (perSeriesCap !== null && to - from > perSeriesCap) {
      if (tail) from = to - perSeriesCap
      else to = from + perSeriesCap
    }
    // Per field, the index of its next unread point: fields advance together along `times`.
    const cursors = new Map<string, number>()
    for (const [name, column] of columns) cursors.set(name, lowerBoundTime(column.times, times[from] ?? 0n))
    // Expressions read the row's fields and tags by name; only queries with expressions build this.
    const row$ = { timeNs: 0n as bigint | null, column: (name: string): Value => columnAt(name) }
    const columnAt = (name: string): Value => {
      const column = columns.get(name)
      if (column === undefined) return tagValue(series, name)
      const at = cursors.get(name)!
      return at < column.times.length && column.times[at] === row$.timeNs ? valueAt(column, at) : null
    }
    // The filter reads a missing tag as '' (as the tag conditions), a missing field as null.
    const mask = filter === null ? null : filterMask(filter, times, columns, (name) => (tags.has(name) ? tagValue(series, name) ?? '' : undefined))
    for (let i = from; i < to; i++) {
      const timeNs = times[i]!
      row$.timeNs = timeNs
      if (mask !== null && mask[i] === 0) {
        for (const [name, column] of columns) {
          const at = cursors.get(name)!
          if (at < column.times.length && column.times[at] === timeNs) cursors.set(name, at + 1)
        }
        continue
      }
      const row: Value[] = new Array(outputs.length)
      for (let o = 0; o < outputs.length; o++) {
        const output = outputs[o]!
        if (output.kind === 'time') row[o] = timeNs
        else if (output.kind === 'tag') row[o] = tagValue(series, output.key)
        else if (output.kind === 'field') {
          const column = columns.get(output.field)
          const at = cursors.get(output.field)
          row[o] = column !== undefined && at !== undefined && at < column.times.length && column.times[at] === timeNs ? valueAt(column, at) : null
        } else if (output.kind === 'expression') row[o] = output.compiled.evaluate(row$)
      }
      for (const [name, column] of columns) {
        const at = cursors.get(name)!
        if (at < column.times.length && column.times[at] === timeNs) cursors.set(name, at + 1)
      }
      rows.push(row)
      if (rows.length > QUERY_LIMITS.maxResultRows) {
        throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `the result has more than ${QUERY_LIMITS.maxResultRows} rows; add a LIMIT, narrow the time range or aggregate`)
      }
    }
    if (cuttable && statement.orderBy.length === 0 && rows.length >= wanted!) break
  }
  return { rows, stats }
}

function hasPoint(store: PartitionStore, series: SeriesListing, fromNs: bigint | null, toNs: bigint | null): boolean {
  for (const field of series.fields) {
    const scan = store.scan({ seriesId: series.id, field: field.name, fromNs, toNs })
    const first = scan.next()
    scan.return(undefined)
    if (!first.done) return true
  }
  return false
}

function lowerBoundTime(times: BigInt64Array, bound: bigint): number {
  let low = 0
  let high = times.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (times[middle]! < bound) low = middle + 1
    else high = middle
  }
  return low
}
