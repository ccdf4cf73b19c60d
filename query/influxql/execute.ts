// executeInfluxql: the statements of one /query request, run in order; the first statement that
// fails ends the request with its error in its result, as InfluxDB 1.x does. A query that does not
// parse is refused whole (QueryError SYNTAX: "error parsing query: ... at line 1, char 8").
// Databases come from the caller (the HTTP route owns the catalog and permissions); the data from
// the node's stores, read synchronously per statement so each sees one state of every store.

import type { PartitionStore } from '../../sinks/index.ts'
import { QueryError, QueryErrorCode, isQueryError } from '../errors.ts'
import { QUERY_LIMITS } from '../limits.ts'
import type { SelectStatement, Source, Statement } from './ast.ts'
import { parseInfluxql } from './parser.ts'
import { epochUnit, renderResults, type StatementResult } from './render.ts'
import { selectMeasurement, type OutputSeries } from './select.ts'
import { executeShow } from './show.ts'

export interface InfluxqlContext {
  tenant: string
  /** The request's db parameter; null when absent. */
  database: string | null
  /** The request's epoch parameter (ns, u, µ, ms, s, m, h); null: RFC 3339 times. */
  epoch: string | null
  /** One store per changelog partition. */
  stores: Iterable<PartitionStore>
  /** Server time in ns, for now() and the end of GROUP BY time ranges. */
  nowNs: bigint
  /** Databases the caller may see: SHOW DATABASES. */
  databases(): Promise<string[]>
  /** Whether the database exists and the caller may see it: "database not found" when not. */
  hasDatabase(name: string): Promise<boolean>
  /** CREATE DATABASE, with the caller's write permission checked. */
  createDatabase(name: string): Promise<void>
  /** Throws when the caller may not read the database. */
  authorizeRead(database: string): void
}

/** The JSON answer of `q` (InfluxDB 1.x's shape). */
export async function executeInfluxql(q: string, context: InfluxqlContext): Promise<string> {
  const unit = epochUnit(context.epoch)
  const statements = parseInfluxql(q)
  const run = new Run(context)
  const results: StatementResult[] = []
  for (const statement of statements) {
    try {
      results.push(await run.statement(statement))
    } catch (error) {
      if (!isQueryError(error)) throw error
      results.push({ error: error.message })
      break
    }
  }
  return renderResults(results, unit)
}

const RETENTION_POLICY_COLUMNS = ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default']

class Run {
  private readonly stores: PartitionStore[]

  constructor(private readonly context: InfluxqlContext) {
    this.stores = [...context.stores]
  }

  async statement(statement: Statement): Promise<StatementResult> {
    switch (statement.kind) {
      case 'show-databases': {
        const names = await this.context.databases()
        return { series: [{ name: 'databases', tags: null, columns: ['name'], values: names.map((n) => [n]) }], timeColumn: false }
      }
      case 'create-database':
        await this.context.createDatabase(statement.name)
        return { series: [], timeColumn: false }
      case 'show-retention-policies': {
        await this.readable(statement.database ?? this.context.database)
        return { series: [{ name: '', tags: null, columns: RETENTION_POLICY_COLUMNS, values: [['autogen', '0s', '168h0m0s', 1n, true]] }], timeColumn: false }
      }
      case 'select':
        return { series: await this.select(statement), timeColumn: true }
      default: {
        const database = await this.readable(statement.database ?? this.context.database)
        return { series: executeShow(statement, this.stores, this.context.tenant, database, this.context.nowNs), timeColumn: false }
      }
    }
  }

  /** The database, checked to exist and be readable. */
  private async readable(database: string | null): Promise<string> {
    if (database === null || database === '') throw new QueryError(QueryErrorCode.BAD_VALUE, 'database name required')
    if (!await this.context.hasDatabase(database)) throw new QueryError(QueryErrorCode.UNKNOWN_TABLE, `database not found: ${database}`)
    this.context.authorizeRead(database)
    return database
  }

  private async select(statement: SelectStatement): Promise<OutputSeries[]> {
    const targets: Array<{ database: string; measurement: string }> = []
    for (const source of statement.sources) {
      const database = await this.readable(source.database ?? this.context.database)
      if (source.retentionPolicy !== null && source.retentionPolicy !== 'autogen') {
        throw new QueryError(QueryErrorCode.UNKNOWN_TABLE, `retention policy not found: ${source.retentionPolicy}`)
      }
      for (const measurement of this.measurements(database, source)) {
        if (!targets.some((t) => t.database === database && t.measurement === measurement)) targets.push({ database, measurement })
      }
    }
    targets.sort((a, b) => (a.measurement < b.measurement ? -1 : a.measurement > b.measurement ? 1 : 0))
    const out: OutputSeries[] = []
    let rows = 0
    for (const { database, measurement } of targets) {
      for (const series of selectMeasurement(statement, this.stores, this.context.tenant, database, measurement, this.context.nowNs)) {
        rows += series.values.length
        if (rows > QUERY_LIMITS.maxResultRows) {
          throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `the answer has more than ${QUERY_LIMITS.maxResultRows} rows; narrow the time range, widen the GROUP BY time interval, add a LIMIT or SLIMIT`)
        }
        out.push(series)
      }
    }
    return out
  }

  private measurements(database: string, source: Source): string[] {
    if (source.name !== null) return [source.name]
    const names = new Set<string>()
    for (const store of this.stores) {
      for (const series of store.listSeries({ tenant: this.context.tenant, database })) if (source.regex!.test(series.measurement)) names.add(series.measurement)
    }
    return [...names].sort()
  }
}
