// SELECT ... FROM (SELECT ...): the inner query's answer (at most QUERY_LIMITS.maxResultRows rows)
// held as an in-memory table the outer query reads like a partition store. Its string columns are
// the tags (so the outer query can group by them), its other columns the fields; a timestamp
// column named `time` is the time, else each row gets its ordinal as its time. Other timestamp
// columns become integer fields (nanoseconds). Rows with equal tags and time (the inner query
// dropped a distinguishing tag) go to separate series, so no row shadows another.

import { type Column, type ColumnValues, FieldType, type FieldTypeCode, type PartitionStore, type SeriesListing } from '../sinks/index.ts'
import type { AggregatePlan, ScanRequest, SeriesQuery } from '../sinks/index.ts'
import type { TableSchema } from './plan.ts'
import type { QueryResult, Value } from './result.ts'

const FIELD_TYPES: Readonly<Record<string, FieldTypeCode>> = {
  float: FieldType.FLOAT, integer: FieldType.INTEGER, unsigned: FieldType.UNSIGNED, boolean: FieldType.BOOLEAN, timestamp: FieldType.INTEGER,
}

interface MemorySeries {
  listing: SeriesListing
  times: BigInt64Array
  fields: Map<string, Column>
}

/** The part of a PartitionStore the query layer reads (listSeries, scan, aggregate), over a result. */
export class MemoryTable {
  private readonly series: MemorySeries[] = []
  private readonly byId = new Map<string, MemorySeries>()

  constructor(result: QueryResult, tenant: string, database: string, table: string) {
    const timeIndex = result.columns.findIndex((c) => c.name === 'time' && c.type === 'timestamp')
    const tagIndexes = result.columns.flatMap((c, i) => (c.type === 'string' ? [i] : []))
    const fieldIndexes = result.columns.flatMap((c, i) => (c.type !== 'string' && i !== timeIndex ? [i] : []))
    // Rows by series key, each series' times distinct: a repeated time opens the next series of that key.
    const groups = new Map<string, { tags: { key: string; value: string }[]; rows: number[]; times: Set<bigint> }[]>()
    result.rows.forEach((row, r) => {
      const tags = tagIndexes.flatMap((i) => (row[i] === null ? [] : [{ key: result.columns[i]!.name, value: row[i] as string }])).sort((a, b) => (a.key < b.key ? -1 : 1))
      const key = JSON.stringify(tags)
      const timeNs = timeIndex >= 0 && row[timeIndex] !== null ? row[timeIndex] as bigint : BigInt(r)
      let list = groups.get(key)
      if (!list) { list = []; groups.set(key, list) }
      let group = list.find((g) => !g.times.has(timeNs))
      if (!group) { group = { tags, rows: [], times: new Set() }; list.push(group) }
      group.rows.push(r)
      group.times.add(timeNs)
    })
    let ordinal = 0
    for (const list of groups.values()) {
      for (const group of list) {
        const timeOf = (r: number): bigint => (timeIndex >= 0 && result.rows[r]![timeIndex] !== null ? result.rows[r]![timeIndex] as bigint : BigInt(r))
        const rows = group.rows.sort((a, b) => (timeOf(a) < timeOf(b) ? -1 : timeOf(a) > timeOf(b) ? 1 : 0))
        const times = BigInt64Array.from(rows.map(timeOf))
        const fields = new Map<string, Column>()
        for (const i of fieldIndexes) {
          const present = rows.filter((r) => result.rows[r]![i] !== null)
          if (present.length === 0) continue
          const type = FIELD_TYPES[result.columns[i]!.type]!
          fields.set(result.columns[i]!.name, { type, times: BigInt64Array.from(present.map(timeOf)), values: columnValues(type, present.map((r) => result.rows[r]![i]!)) })
        }
        if (fields.size === 0) continue
        const id = `subquery:${ordinal++}`
        const listing: SeriesListing = {
          id, tenant, database, measurement: table, seriesKey: id, tags: group.tags,
          fields: [...fields].map(([name, column]) => ({ name, type: column.type })).sort((a, b) => (a.name < b.name ? -1 : 1)),
        }
        this.series.push({ listing, times, fields })
        this.byId.set(id, this.series[this.series.length - 1]!)
      }
    }
  }

  /** A result changes with every query: nothing listed from it is kept (plan.ts). */
  listingVersion(): bigint | null {
    return null
  }

  listSeries(query: SeriesQuery): SeriesListing[] {
    return this.series.map((s) => s.listing).filter((listing) => (query.tags ?? []).every((match) => {
      const value = listing.tags.find((t) => t.key === match.key)?.value ?? ''
      return match.values.includes(value)
    }))
  }

  scan(request: ScanRequest): Generator<Column> {
    const series = this.byId.get(request.seriesId)
    const column = series?.fields.get(request.field)
    return slices(column, request.fromNs ?? null, request.toNs ?? null)
  }

  aggregate(request: ScanRequest): AggregatePlan {
    return { blocks: [], rest: this.scan(request) }
  }

  /**
   * The outer query's view of the table: tags and fields (with their types) from the inner query's
   * columns, so an inner answer with no rows is an empty table, not an unknown one.
   */
  schema(result: QueryResult, table: string): TableSchema {
    const store = this.asStore()
    const timeIndex = result.columns.findIndex((c) => c.name === 'time' && c.type === 'timestamp')
    const tags = result.columns.filter((c) => c.type === 'string').map((c) => c.name).sort()
    const fields = result.columns.filter((c, i) => c.type !== 'string' && i !== timeIndex).map((c): [string, FieldTypeCode] => [c.name, FIELD_TYPES[c.type]!])
    return { table, series: this.series.map((s) => ({ store, series: s.listing })), tags, fields: new Map(fields.sort(([a], [b]) => (a < b ? -1 : 1))) }
  }

  /** Read as a store by plan.ts, aggregate.ts and raw.ts, which call only the methods above. */
  asStore(): PartitionStore {
    return this as unknown as PartitionStore
  }
}

function* slices(column: Column | undefined, fromNs: bigint | null, toNs: bigint | null): Generator<Column> {
  if (!column) return
  let start = 0
  let end = column.times.length
  while (start < end && fromNs !== null && column.times[start]! < fromNs) start++
  while (end > start && toNs !== null && column.times[end - 1]! >= toNs) end--
  if (end === start) return
  const values = Array.isArray(column.values) ? column.values.slice(start, end) : column.values.subarray(start, end)
  yield { type: column.type, times: column.times.subarray(start, end), values: values as ColumnValues }
}

function columnValues(type: FieldTypeCode, values: Value[]): ColumnValues {
  switch (type) {
    case FieldType.FLOAT: return Float64Array.from(values as number[])
    case FieldType.INTEGER: return BigInt64Array.from(values as bigint[])
    case FieldType.UNSIGNED: return BigUint64Array.from(values as bigint[])
    case FieldType.BOOLEAN: return Uint8Array.from(values.map((v) => (v ? 1 : 0)))
    default: return values as string[]
  }
}
