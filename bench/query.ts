// Query benchmark (issue 6 §4, first part): aggregates over the TSBS-like cpu workload (100 hosts,
// 10 integer fields, 10 s, one day: 8.64 M values) in one partition store after compaction, each
// query run with the block statistics of the segment index (pre-aggregates) and without them (every
// point decoded and folded), same run, same store. Values/s counts the values the query covers.
// Two stores of the same data, same run: blocks cut at 8,192 points only (blockAlignNs 0n, the cut
// before hour-aligned blocks) and the default cut (blocks end on the hour: 360 points at 10 s).
// Usage: npm run bench:query [-- --quick]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { executeSqlNow } from '../query/index.ts'
import { executeAggregate } from '../query/aggregate.ts'
import { parseStatement, type SelectStatement } from '../query/parse.ts'
import { planSelect, tableSchema } from '../query/plan.ts'
import { openPartitionStore, type PartitionStore } from '../sinks/index.ts'
import { cpuPressureMeter, describeMachine, median } from './support/report.ts'
import { generateTsbsCpu, tsbsChangelogEntries, tsbsCpuOneDay } from './support/tsbs-cpu.ts'
import { peerQueries } from './support/peer-queries.ts'
import type { StoreSettings } from '../sinks/index.ts'

const quick = process.argv.includes('--quick')
const RUNS = quick ? 3 : 7
const options = quick ? { ...tsbsCpuOneDay, durationSeconds: 4 * 3600 } : tsbsCpuOneDay
const DAY_START = '2016-01-01T00:00:00Z'


async function buildStore(dir: string, settings: Partial<StoreSettings>, batches: Buffer[]): Promise<PartitionStore> {
  const store = await openPartitionStore(dir, { fsync: false, autoCompact: false, ...settings })
  let offset = 0n
  for (const entry of tsbsChangelogEntries(batches)) await store.apply(entry, offset++)
  await store.compactAll()
  return store
}

interface QueryCase {
  name: string
  sql: string
  /** Values the query covers (points × aggregated fields). */
  values: number
}

interface Measured {
  ms: number
  fromStats: number
  scanned: number
}

function timed(run: () => { stats: { pointsFromBlockStats: number; pointsScanned: number } }): Measured {
  run() // warm-up
  const times: number[] = []
  let last = run()
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now()
    last = run()
    times.push(performance.now() - started)
  }
  return { ms: median(times), fromStats: last.stats.pointsFromBlockStats, scanned: last.stats.pointsScanned }
}

/** The aggregation alone, over a schema listed once: what pre-aggregates change. */
function execution(store: PartitionStore, sql: string, usePreAggregates: boolean): Measured {
  const schema = tableSchema([store], 'bench', 'bench', 'cpu')
  const plan = planSelect(parseStatement(sql, 0n) as SelectStatement, schema)
  return timed(() => executeAggregate(plan, schema, { usePreAggregates }))
}

/** executeSql as the HTTP route calls it: parse, series listing, plan, aggregation, order. */
function endToEnd(store: PartitionStore, sql: string): Measured {
  return timed(() => executeSqlNow(sql, { tenant: 'bench', database: 'bench', stores: [store], nowNs: 0n }))
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(1)
}

function rate(values: number, ms: number): string {
  return `${(values / (ms / 1000) / 1e6).toFixed(1)} M`
}

function report(label: string, store: PartitionStore, cases: QueryCase[]): void {
  console.log(`\n${label}`)
  console.log('| query | values | with stats (ms) | values/s | from stats | without (ms) | values/s | ratio | executeSql (ms) |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const c of cases) {
    const withStats = execution(store, c.sql, true)
    const without = execution(store, c.sql, false)
    const whole = endToEnd(store, c.sql)
    const share = withStats.fromStats / (withStats.fromStats + withStats.scanned)
    console.log(`| ${c.name} | ${(c.values / 1e6).toFixed(2)} M | ${ms(withStats.ms)} | ${rate(c.values, withStats.ms)} | ${(100 * share).toFixed(0)} % | ` +
      `${ms(without.ms)} | ${rate(c.values, without.ms)} | ${(without.ms / withStats.ms).toFixed(1)}× | ${ms(whole.ms)} |`)
  }
  const listing = timed(() => { tableSchema([store], 'bench', 'bench', 'cpu'); return { stats: { pointsFromBlockStats: 0, pointsScanned: 0 } } })
  console.log(`series listing of the whole table (store.listSeries): ${listing.ms.toFixed(1)} ms, inside every executeSql above without a tag filter`)
}

async function main(): Promise<void> {
  const pressure = cpuPressureMeter()
  pressure.start()
  console.log(`bench:query — ${describeMachine()}${quick ? ' (quick)' : ''}`)
  const workload = generateTsbsCpu(options)
  const points = workload.lines / options.hosts
  console.log(`workload: ${options.hosts} hosts × ${points} points × 10 integer fields = ${(workload.values / 1e6).toFixed(2)} M values`)
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-query-'))
  try {
    const perHost = points
    const all = workload.lines
    const cases: QueryCase[] = [
      { name: 'count, min, max, sum of usage_user, whole range', sql: 'SELECT count(usage_user), min(usage_user), max(usage_user), sum(usage_user) FROM cpu', values: all },
      { name: 'max of all 10 fields per host', sql: `SELECT hostname, ${['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait', 'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'].map((f) => `max(${f})`).join(', ')} FROM cpu GROUP BY hostname`, values: all * 10 },
      { name: 'avg usage_user per host per day (date_bin 1 day)', sql: `SELECT hostname, date_bin(INTERVAL '1 day', time, '${DAY_START}') AS day, avg(usage_user) FROM cpu GROUP BY hostname, day`, values: all },
      { name: 'max usage_user per host per hour', sql: `SELECT hostname, date_bin(INTERVAL '1 hour', time) AS hour, max(usage_user) FROM cpu GROUP BY hostname, hour`, values: all },
      { name: 'last usage_user of one host', sql: `SELECT last(time, usage_user) FROM cpu WHERE hostname = 'host_7'`, values: perHost },
      // bench:query-peers' queries 3 and 4 (the second hour of the data).
      { name: 'count of one host in one hour', sql: peerQueries(options.durationSeconds / 3600)[2]!.sql, values: 360 },
      { name: '5 hosts, mean per minute over one hour', sql: peerQueries(options.durationSeconds / 3600)[3]!.sql, values: 5 * 360 },
      { name: 'count of one host in 15 minutes inside an hour', sql: `SELECT count(usage_user) FROM cpu WHERE hostname = 'host_42' AND time >= '2016-01-01T01:20:00Z' AND time < '2016-01-01T01:35:00Z'`, values: 90 },
    ]
    for (const [label, settings] of [
      ['blocks cut at 8,192 points only (blockAlignNs 0n, the cut before aligned blocks; a block spans 22.7 h of one host and field)', { blockAlignNs: 0n }],
      ['the default cut: blocks end on the hour (360 points of one host and field)', {}],
    ] as const) {
      const started = performance.now()
      const store = await buildStore(join(dir, label.slice(0, 6)), settings, workload.batches)
      console.log(`\nstore built (apply + full compaction) in ${((performance.now() - started) / 1000).toFixed(1)} s, ${store.stats().segmentBytes} bytes`)
      report(label + ':', store, cases)
      await store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  console.log(`\nCPU pressure during the run: ${pressure.percent()}`)
}

await main()
