// executeSql: parse, check against the table's series, execute, order and cut. The work is
// synchronous from the first read to the last, so a query sees one state of every store: no flush,
// compaction or apply can interleave (they need the event loop), which keeps results exact under
// concurrent writes, updates and deletes.

import { FieldType, type PartitionStore } from '../sinks/index.ts'
import type { Value } from './accumulate.ts'
import { executeAggregate } from './aggregate.ts'
import { parseStatement, type SelectStatement } from './parse.ts'
import { planSelect, resultColumn, selectSchema, tableSchema } from './plan.ts'
import { executeRaw } from './raw.ts'
import type { QueryResult } from './result.ts'

export interface QueryContext {
  tenant: string
  database: string
  /** One store per changelog partition; a series lives in exactly one. */
  stores: Iterable<PartitionStore>
  /** Server time in ns, for now(). */
  nowNs: bigint
  /** Answer whole blocks from their index statistics (default true); off to measure or cross-check. */
  usePreAggregates?: boolean
}

export async function executeSql(sql: string, context: QueryContext): Promise<QueryResult> {
  return executeSqlNow(sql, context)
}

/** executeSql without the promise: for benchmarks and callers that hold no event loop turn. */
export function executeSqlNow(sql: string, context: QueryContext): QueryResult {
  const stores = [...context.stores]
  const statement = parseStatement(sql, context.nowNs)
  switch (statement.kind) {
    case 'show-tables': return showTables(stores, context, statement.columnName)
    case 'describe': return describeTable(stores, context, statement.table)
    case 'select': return select(stores, context, statement)
  }
}

function select(stores: PartitionStore[], context: QueryContext, statement: SelectStatement): QueryResult {
  const schema = selectSchema(stores, context.tenant, context.database, statement)
  const plan = planSelect(statement, schema)
  const { rows, stats } = plan.aggregate
    ? executeAggregate(plan, schema, { usePreAggregates: context.usePreAggregates ?? true })
    : executeRaw(plan, schema)
  const columns = plan.outputs.map(resultColumn)
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
  const cut = statement.offset > 0 || end < rows.length ? rows.slice(statement.offset, end) : rows
  return { columns, rows: cut, stats }
}

/** SQL order: nulls last (first when descending), then by value. */
function compareValues(a: Value, b: Value): number {
  if (a === b) return 0
  if (a === null) return 1
  if (b === null) return -1
  return a < b ? -1 : a > b ? 1 : 0
}

function showTables(stores: PartitionStore[], context: QueryContext, columnName: string): QueryResult {
  const tables = new Set<string>()
  for (const store of stores) {
    for (const series of store.listSeries({ tenant: context.tenant, database: context.database })) tables.add(series.measurement)
  }
  return {
    columns: [{ name: columnName, type: 'string' }],
    rows: [...tables].sort().map((table) => [table]),
    stats: { pointsScanned: 0, pointsFromBlockStats: 0 },
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
    stats: { pointsScanned: 0, pointsFromBlockStats: 0 },
  }
}
