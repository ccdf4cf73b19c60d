// executeSql: parse, check against the table's series, execute, order and cut. The work is
// synchronous from the first read to the last, so a query sees one state of every store: no flush,
// compaction or apply can interleave (they need the event loop), which keeps results exact under
// concurrent writes, updates and deletes.

import { FieldType, type PartitionStore } from '../sinks/index.ts'
import type { TagMatch } from '../schemas/index.ts'
import type { Value } from './accumulate.ts'
import { type AggregateOptions, executeAggregate } from './aggregate.ts'
import { QueryError, QueryErrorCode } from './errors.ts'
import { explainSelect } from './explain.ts'
import { compareValues as compareOrdered } from './operators.ts'
import { parseStatement, type ColumnCondition, type SelectStatement, type Statement } from './parse.ts'
import { planSelect, resultColumn, selectSchema, tableSchema, type Plan, type TableSchema } from './plan.ts'
import { type ParallelScans, chooseExecution, executeAggregateParallel } from './parallel/parallel-aggregate.ts'
import { executeRaw } from './raw.ts'
import type { QueryResult, QueryStats } from './result.ts'
import { MemoryTable } from './subquery.ts'
import { KeptByPair } from './kept.ts'

export interface QueryContext {
  tenant: string
  database: string
  /** One store per changelog partition; a series lives in exactly one. */
  stores: Iterable<PartitionStore>
  /** Server time in ns, for now(). */
  nowNs: bigint
  /** Answer whole blocks from their index statistics (default true); off to measure or cross-check. */
  usePreAggregates?: boolean
  /** The tenant's databases, for SHOW DATABASES (the node reads them from its catalog). */
  listDatabases?: () => Promise<string[]> | string[]
  /** Worker threads for aggregates that decode many points (query/parallel); absent: every query runs on this thread. */
  parallelScans?: ParallelScans
}

const NO_STATS: QueryStats = { pointsScanned: 0, pointsFromBlockStats: 0 }

export async function executeSql(sql: string, context: QueryContext): Promise<QueryResult> {
  const statement = parseStatement(sql, context.nowNs)
  if (statement.kind === 'show-databases') return showDatabases(await context.listDatabases?.())
  if (statement.kind === 'select' && context.parallelScans !== undefined) return selectMaybeParallel([...context.stores], context, statement, context.parallelScans)
  return executeStatement(statement, context)
}

/** executeSql without the promise: for benchmarks and callers that hold no event loop turn. */
export function executeSqlNow(sql: string, context: QueryContext): QueryResult {
  return executeStatement(parseStatement(sql, context.nowNs), context)
}

function executeStatement(statement: Statement, context: QueryContext): QueryResult {
  const stores = [...context.stores]
  switch (statement.kind) {
    case 'show-tables': return showTables(stores, context, statement.columnName)
    case 'describe': return describeTable(stores, context, statement.table)
    case 'show-databases': {
      const listed = context.listDatabases?.()
      if (listed === undefined || listed instanceof Promise) return showDatabases(undefined)
      return showDatabases(listed)
    }
    case 'show-series': return showSeries(stores, context, statement.table, statement.conditions)
    case 'show-tag-values': return showTagValues(stores, context, statement)
    case 'explain': return explainSelect(statement.statement, statement.analyze, {
      stores, prepare: (s) => prepare(stores, context, s), run: (plan, schema) => run(plan, schema, context),
      execution: (plan, schema) => chooseExecution(plan, schema, aggregateOptions(context), context.parallelScans),
    })
    case 'select': return select(stores, context, statement)
  }
}

/** The schema and plan of a SELECT; a subquery in FROM runs first, into an in-memory table. */
function prepare(stores: PartitionStore[], context: QueryContext, statement: SelectStatement): { plan: Plan; schema: TableSchema } {
  if (statement.source !== null) {
    const inner = select(stores, context, statement.source)
    const schema = new MemoryTable(inner, context.tenant, context.database, statement.table).schema(inner, statement.table)
    return { schema, plan: planSelect(statement, schema) }
  }
  const schema = selectSchema(stores, context.tenant, context.database, statement)
  return { schema, plan: keptPlan(statement, schema) }
}

/**
 * Plans by table schema, then by statement. A plan depends on nothing else, and both are kept as
 * the same objects while nothing changed: a cached statement (parse.ts; one that reads now() is
 * parsed anew) and a table schema kept until some store applies an entry (plan.ts listTable), so
 * a write, a DELETE or a DDL command makes a new schema and with it a new plan. Planning was a
 * quarter of a small query's CPU. Plans are not changed by their execution.
 */
const keptPlans = new KeptByPair<TableSchema, SelectStatement, Plan>()

function keptPlan(statement: SelectStatement, schema: TableSchema): Plan {
  return keptPlans.get(schema, statement, () => planSelect(statement, schema))
}

function aggregateOptions(context: QueryContext): AggregateOptions {
  return { usePreAggregates: context.usePreAggregates ?? true }
}

function run(plan: Plan, schema: TableSchema, context: QueryContext): { rows: Value[][]; stats: QueryStats } {
  return plan.aggregate ? executeAggregate(plan, schema, aggregateOptions(context)) : executeRaw(plan, schema)
}

function select(stores: PartitionStore[], context: QueryContext, statement: SelectStatement): QueryResult {
  const { plan, schema } = prepare(stores, context, statement)
  return shape(plan, statement, run(plan, schema, context))
}

/** A SELECT whose aggregate may be scanned in worker threads (chooseExecution decides); the answer is the serial one. */
async function selectMaybeParallel(stores: PartitionStore[], context: QueryContext, statement: SelectStatement, scans: ParallelScans): Promise<QueryResult> {
  const { plan, schema } = prepare(stores, context, statement)
  const options = aggregateOptions(context)
  if (!chooseExecution(plan, schema, options, scans).parallel) return shape(plan, statement, run(plan, schema, context))
  const executed = await executeAggregateParallel(plan, schema, options, scans)
  // null: a worker gave up; the serial path runs now, over a fresh listing (the stores moved on meanwhile).
  return executed === null ? select(stores, context, statement) : shape(plan, statement, executed)
}

/** DISTINCT, ORDER BY, OFFSET/LIMIT and hidden columns over the executed rows. */
function shape(plan: Plan, statement: SelectStatement, executed: { rows: Value[][]; stats: QueryStats }): QueryResult {
  const stats = executed.stats
  let rows = executed.rows
  const visible = plan.outputs.length - statement.hidden
  const columns = plan.outputs.map(resultColumn)
  if (statement.distinct) rows = distinctRows(rows, visible)
  if (statement.orderBy.length > 0) {
    const keys = statement.orderBy.map((key) => ({ index: columns.findIndex((c) => c.name === key.name), sign: key.descending ? -1 : 1 }))
    rows.sort((a, b) => {
      for (const { index, sign } of keys) {
        const order = compareValues(a[index]!, b[index]!)
        if (order !== 0) return order * sign
      }
      return 0
    })
  }
  const end = statement.limit === null ? rows.length : statement.offset + statement.limit
  let cut = statement.offset > 0 || end < rows.length ? rows.slice(statement.offset, end) : rows
  if (statement.hidden > 0) cut = cut.map((row) => row.slice(0, visible))
  return { columns: columns.slice(0, visible), rows: cut, stats }
}

/** The first of each set of rows equal in their visible columns, in order. */
function distinctRows(rows: Value[][], visible: number): Value[][] {
  const seen = new Set<string>()
  return rows.filter((row) => {
    let key = ''
    for (let i = 0; i < visible; i++) {
      const v = row[i]!
      key += (v === null ? 'n' : typeof v === 'bigint' ? 'i' + v : typeof v === 'string' ? 's' + v.length + ':' + v : typeof v === 'number' ? 'f' + v : 'b' + v) + '|'
    }
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

/** SQL order: nulls last (first when descending), then by value (integers and floats by value). */
function compareValues(a: Value, b: Value): number {
  if (a === b) return 0
  if (a === null) return 1
  if (b === null) return -1
  return compareOrdered(a, b)
}

function showDatabases(databases: string[] | undefined): QueryResult {
  if (databases === undefined) throw new QueryError(QueryErrorCode.UNSUPPORTED, 'SHOW DATABASES needs the catalog, which this caller did not give')
  return { columns: [{ name: 'database_name', type: 'string' }], rows: [...databases].sort().map((d) => [d]), stats: NO_STATS }
}

/** The tag matches a store can apply, and a test for the rest (negated conditions): a missing tag has the value ''. */
function tagFilter(conditions: ColumnCondition[]): { matches: TagMatch[]; test: (tags: { key: string; value: string }[]) => boolean } {
  return {
    matches: conditions.filter((c) => !c.negate).map((c) => ({ key: c.column, values: c.values })),
    test: (tags) => conditions.every((c) => c.values.includes(tags.find((t) => t.key === c.column)?.value ?? '') !== c.negate),
  }
}

/** CnosDB's SHOW SERIES: one column, key, as `table,tag=value,...` (tags sorted), for series with visible points. */
function showSeries(stores: PartitionStore[], context: QueryContext, table: string | null, conditions: ColumnCondition[]): QueryResult {
  const { matches, test } = tagFilter(conditions)
  const keys = new Set<string>()
  for (const store of stores) {
    for (const series of store.listSeries({ tenant: context.tenant, database: context.database, ...(table !== null ? { measurement: table } : {}), tags: matches })) {
      if (!test(series.tags)) continue
      const tags = [...series.tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      keys.add([series.measurement, ...tags.map((t) => `${t.key}=${t.value}`)].join(','))
    }
  }
  return { columns: [{ name: 'key', type: 'string' }], rows: [...keys].sort().map((k) => [k]), stats: NO_STATS }
}

/** CnosDB's SHOW TAG VALUES ... WITH KEY: the distinct (key, value) pairs of the named tags (or all others, with != / NOT IN). */
function showTagValues(stores: PartitionStore[], context: QueryContext, statement: Extract<Statement, { kind: 'show-tag-values' }>): QueryResult {
  const { matches, test } = tagFilter(statement.conditions)
  const pairs = new Map<string, [string, string]>()
  for (const store of stores) {
    for (const series of store.listSeries({ tenant: context.tenant, database: context.database, ...(statement.table !== null ? { measurement: statement.table } : {}), tags: matches })) {
      if (!test(series.tags)) continue
      for (const tag of series.tags) {
        if (statement.keys.includes(tag.key) === statement.negate) continue
        pairs.set(JSON.stringify([tag.key, tag.value]), [tag.key, tag.value])
      }
    }
  }
  const rows = [...pairs.values()].sort(([a, x], [b, y]) => (a !== b ? (a < b ? -1 : 1) : x < y ? -1 : x > y ? 1 : 0))
  return { columns: [{ name: 'key', type: 'string' }, { name: 'value', type: 'string' }], rows, stats: NO_STATS }
}

function showTables(stores: PartitionStore[], context: QueryContext, columnName: string): QueryResult {
  const tables = new Set<string>()
  for (const store of stores) {
    for (const series of store.listSeries({ tenant: context.tenant, database: context.database })) tables.add(series.measurement)
  }
  return {
    columns: [{ name: columnName, type: 'string' }],
    rows: [...tables].sort().map((table) => [table]),
    stats: NO_STATS,
  }
}

/** CnosDB's DESCRIBE TABLE columns: column_name, data_type, column_type (TIME, TAG, FIELD). */
const SQL_TYPES = {
  [FieldType.FLOAT]: 'DOUBLE', [FieldType.INTEGER]: 'BIGINT', [FieldType.UNSIGNED]: 'BIGINT UNSIGNED',
  [FieldType.BOOLEAN]: 'BOOLEAN', [FieldType.STRING]: 'STRING',
} as const

function describeTable(stores: PartitionStore[], context: QueryContext, table: string): QueryResult {
  const schema = tableSchema(stores, context.tenant, context.database, table)
  const rows: Value[][] = [['time', 'TIMESTAMP(NANOSECOND)', 'TIME']]
  for (const tag of schema.tags) rows.push([tag, 'STRING', 'TAG'])
  for (const [field, type] of schema.fields) rows.push([field, SQL_TYPES[type], 'FIELD'])
  return {
    columns: [{ name: 'column_name', type: 'string' }, { name: 'data_type', type: 'string' }, { name: 'column_type', type: 'string' }],
    rows,
    stats: NO_STATS,
  }
}
