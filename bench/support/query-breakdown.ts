// Where Sluice's time goes in the queries of bench/query-peers.ts, without HTTP: the TSBS-like cpu
// workload applied to one partition store in this process (8,192-point blocks, the default), then
// each query's SQL through executeSqlNow (parse, series listing, plan, aggregation: what the HTTP
// route runs; the statement cache answers the parse of a repeated text) and the parse alone: a
// text seen for the first time (parseStatementUncached), the same text again (parseStatement, from
// the cache) and the text with its time range moved by a second each run, as a dashboard's refresh
// sends it (the cached AST with other literals), before and after full compaction. The HTTP latency
// of bench/query-peers.ts minus executeSqlNow here is the route's and the client's share.
//
// Run: node --import tsx bench/support/query-breakdown.ts [--hours 24] [--runs 50]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { executeSqlNow } from '../../query/index.ts'
import { parseStatement, parseStatementUncached } from '../../query/parse.ts'
import { openPartitionStore, type PartitionStore } from '../../sinks/index.ts'
import { peerQueries } from './peer-queries.ts'
import { cpuPressureMeter, describeMachine, median } from './report.ts'
import { generateTsbsCpu, tsbsChangelogEntries, tsbsCpuOneDay } from './tsbs-cpu.ts'

const { values: options } = parseArgs({ options: { hours: { type: 'string' }, runs: { type: 'string' } } })
const HOURS = Number(options.hours ?? 24)
const RUNS = Number(options.runs ?? 50)


function timedMs(run: () => unknown): number {
  for (let i = 0; i < 5; i++) run()
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now()
    run()
    times.push(performance.now() - started)
  }
  return median(times)
}

/** Seconds the next moved range is shifted by: never the same text twice in a run. */
let shiftSeconds = 0

/** The statement with each RFC 3339 time of its range moved by `seconds`. */
function movedBy(sql: string, seconds: number): string {
  return sql.replace(/'(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})Z'/g, (_, time: string) => `'${new Date(Date.parse(`${time}Z`) + seconds * 1000).toISOString()}'`)
}

function report(label: string, store: PartitionStore): void {
  const context = { tenant: 'bench', database: 'bench', stores: [store], nowNs: 0n }
  console.log(`\n${label}`)
  console.log('| query | executeSqlNow ms | parse, first time ms | parse, same text ms | parse, range moved ms | points decoded | points from block statistics |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const query of peerQueries(HOURS)) {
    const whole = timedMs(() => executeSqlNow(query.sql, context))
    const uncached = timedMs(() => parseStatementUncached(query.sql, 0n))
    const cached = timedMs(() => parseStatement(query.sql, 0n))
    const moved = timedMs(() => parseStatement(movedBy(query.sql, ++shiftSeconds), 0n))
    const { stats } = executeSqlNow(query.sql, context)
    console.log(`| ${query.name} | ${whole.toFixed(2)} | ${uncached.toFixed(3)} | ${cached.toFixed(3)} | ${moved.toFixed(3)} | ${stats.pointsScanned} | ${stats.pointsFromBlockStats} |`)
  }
}

async function main(): Promise<void> {
  const pressure = cpuPressureMeter()
  pressure.start()
  console.log(`# Query breakdown, in-process: ${describeMachine()}; ${HOURS} h of the TSBS-like cpu workload in one partition store; medians of ${RUNS} runs`)
  const workload = generateTsbsCpu({ ...tsbsCpuOneDay, durationSeconds: HOURS * 3600 })
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-breakdown-'))
  try {
    const store = await openPartitionStore(dir, { fsync: false, autoCompact: false })
    let offset = 0n
    for (const entry of tsbsChangelogEntries(workload.batches)) await store.apply(entry, offset++)
    report('As applied (memtable flushes, no compaction):', store)
    await store.compactAll()
    report('After full compaction:', store)
    await store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  console.log(`\nCPU pressure during the run: ${pressure.percent()}`)
}

await main()
