// query/influxql: InfluxDB 1.x's query language over the same stores as SQL, for Grafana's InfluxDB
// data source and other InfluxQL clients (/query). A hand-written parser (no well-kept InfluxQL
// parser exists on npm), InfluxQL's series, fill and time semantics, and InfluxDB's JSON answer.
// Supported statements and differences from InfluxDB: docs/influxql.md.

export { executeInfluxql, type InfluxqlContext } from './execute.ts'
export { parseInfluxql } from './parser.ts'
export type { Statement as InfluxqlStatement } from './ast.ts'
