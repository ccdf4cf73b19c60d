// EXPLAIN <select>: the plan as a table (plan_type, plan): the table read, what WHERE pushes down
// (the time range to block pruning, tag conditions to series pruning) and what it filters per
// series or per row, the aggregation, and per partition the series read, chunks (decoded blocks,
// memtable runs) and points scanned, and blocks and points answered from block statistics. The counts come from running the query once
// (as EXPLAIN ANALYZE does elsewhere); EXPLAIN ANALYZE is accepted and means the same.

import type { PartitionStore } from '../sinks/index.ts'
import type { Value } from './accumulate.ts'
import type { ColumnCondition, SelectStatement } from './parse.ts'
import { type Plan, type TableSchema, seriesMatches } from './plan.ts'
import type { QueryResult, QueryStats } from './result.ts'

export interface ExplainRunner {
  stores: PartitionStore[]
  prepare(statement: SelectStatement): { plan: Plan; schema: TableSchema }
  run(plan: Plan, schema: TableSchema): { rows: Value[][]; stats: QueryStats }
  /** The path a SELECT of this plan takes (query/parallel) and why. */
  execution?(plan: Plan, schema: TableSchema): { parallel: boolean; reason: string }
}

function timeText(ns: bigint): string {
  const ms = ns / 1_000_000n
  const rest = ns % 1_000_000n
  const iso = new Date(Number(ms)).toISOString()
  return rest === 0n ? iso : `${iso} (+${rest} ns)`
}

function conditionText(conditions: ColumnCondition[]): string {
  return conditions.length === 0 ? 'none' : conditions.map((c) => c.sql).join(' AND ')
}

function partitionName(store: PartitionStore): string {
  const stats = (store as { stats?: () => { partition: number } }).stats
  return typeof stats === 'function' ? `partition ${stats.call(store).partition}` : 'in-memory table'
}

function statsText(series: number, stats: QueryStats): string {
  return `series ${series}, chunks scanned ${stats.chunksScanned ?? 0}, points scanned ${stats.pointsScanned}, blocks from block statistics ${stats.blocksFromBlockStats ?? 0}, points from block statistics ${stats.pointsFromBlockStats}`
}

export function explainSelect(statement: SelectStatement, _analyze: boolean, runner: ExplainRunner): QueryResult {
  const { plan, schema } = runner.prepare(statement)
  const rows: [string, string][] = []
  if (statement.source !== null) {
    for (const [type, text] of explainSelect(statement.source, _analyze, runner).rows as [string, string][]) rows.push([`subquery: ${type}`, text])
    rows.push(['table', `(subquery) AS ${statement.table}, held in memory`])
  } else {
    rows.push(['table', statement.table])
  }
  const { fromNs, toNs } = statement
  rows.push(['time range (block pruning)', fromNs === null && toNs === null ? 'all time' : `[${fromNs === null ? '-∞' : timeText(fromNs)}, ${toNs === null ? '+∞' : timeText(toNs)})`])
  rows.push(['tag conditions (series pruning)', conditionText(plan.tagConditions)])
  if (plan.seriesFilter !== null) rows.push(['series filter (tags, once per series)', filterText(statement, plan)])
  if (plan.rowFilter !== null) rows.push(['row filter (per row; no block statistics)', filterText(statement, plan)])
  if (plan.aggregate) {
    const by = [...statement.groupBy, ...(statement.bucket ? [statement.bucket.sql] : [])]
    const aggregates = plan.outputs.filter((o) => o.kind === 'aggregate').length
    rows.push(['aggregate', `${aggregates} aggregate${aggregates === 1 ? '' : 's'}${by.length > 0 ? `, GROUP BY ${by.join(', ')}` : ', one group'}`])
  } else {
    rows.push(['projection', `raw rows, ${plan.outputs.length} column${plan.outputs.length === 1 ? '' : 's'}`])
  }
  if (statement.having !== null) rows.push(['having', statement.having.kind === 'column' || statement.having.kind === 'literal' ? String(statement.having.kind) : statement.having.sql])
  if (statement.distinct) rows.push(['distinct', 'rows deduplicated'])
  if (statement.orderBy.length > 0) rows.push(['order', statement.orderBy.map((k) => `${k.name} ${k.descending ? 'DESC' : 'ASC'}`).join(', ')])
  if (statement.limit !== null || statement.offset > 0) rows.push(['limit', `${statement.limit ?? 'all'} offset ${statement.offset}`])
  const execution = runner.execution?.(plan, schema)
  if (execution) rows.push(['execution', `${execution.parallel ? 'parallel scan in worker threads' : 'serial, on the main thread'}: ${execution.reason}`])
  const total: QueryStats = { pointsScanned: 0, pointsFromBlockStats: 0, blocksFromBlockStats: 0, chunksScanned: 0 }
  let totalSeries = 0
  const stores = [...new Set(schema.series.map((s) => s.store))]
  for (const store of stores) {
    const series = schema.series.filter((s) => s.store === store)
    const matched = series.filter((s) => seriesMatches(s.series, plan)).length
    const { stats } = runner.run(plan, { ...schema, series })
    rows.push([partitionName(store), statsText(matched, stats)])
    total.pointsScanned += stats.pointsScanned
    total.pointsFromBlockStats += stats.pointsFromBlockStats
    total.blocksFromBlockStats! += stats.blocksFromBlockStats ?? 0
    total.chunksScanned! += stats.chunksScanned ?? 0
    totalSeries += matched
  }
  rows.push(['total', `${statsText(totalSeries, total)}, of ${schema.series.length} series in the table`])
  return { columns: [{ name: 'plan_type', type: 'string' }, { name: 'plan', type: 'string' }], rows, stats: total }
}

function filterText(statement: SelectStatement, plan: Plan): string {
  const parts = plan.statement.conditions.filter((c) => !plan.tagConditions.includes(c)).map((c) => c.sql)
  if (statement.filter !== null) parts.unshift(statement.filter.kind === 'column' ? statement.filter.name : statement.filter.kind === 'literal' ? String(statement.filter.value) : statement.filter.sql)
  return parts.join(' AND ')
}
