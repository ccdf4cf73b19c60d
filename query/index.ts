// query/: SQL over the segment stores of one node. It owns parsing (node-sql-parser), planning
// against a table's series, and vectorised execution over typed-array chunks and block statistics.
// It does not own storage (sinks/segments merges upserts, updates and deletes), nor HTTP (the
// route in pipeline/http calls executeSql through an injected function). Supported SQL: docs/query.md.

export { executeSql, executeSqlNow, type QueryContext } from './execute.ts'
export { ScanPool } from './parallel/pool.ts'
export { type ParallelScans } from './parallel/parallel-aggregate.ts'
export { QueryError, QueryErrorCode, isQueryError, type QueryErrorCodeValue } from './errors.ts'
export { QUERY_LIMITS } from './limits.ts'
export type { ColumnTypeName, QueryResult, QueryStats, ResultColumn, Value } from './result.ts'
export { executeInfluxql, type InfluxqlContext } from './influxql/index.ts'
