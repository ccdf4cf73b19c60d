// Parallel scans (query/parallel) against the serial path, same run, same stores: the TSBS-like cpu
// day (100 hosts, 10 integer fields, 10 s) in 6 partition stores (a series in one, as a node holds
// them), compacted, and decode-heavy aggregates (median and max per host per 7 minutes; a
// 95th percentile per host) that block statistics cannot answer. Median latency of executeSql,
// serial and with 1 and 2 scan workers, idle and while an apply loop writes the next day into the
// same stores on the main thread (as a replica applies the changelog).
// Usage: npm run bench:query-parallel [-- --quick]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { executeSql, type QueryContext } from '../query/index.ts'
import { ScanPool } from '../query/parallel/pool.ts'
import type { ChangelogEntry } from '../schemas/index.ts'
import { openPartitionStore, type PartitionStore } from '../sinks/index.ts'
import { describeMachine, median } from './support/report.ts'
import { generateTsbsCpu, tsbsChangelogEntries, tsbsCpuOneDay } from './support/tsbs-cpu.ts'

const quick = process.argv.includes('--quick')
const RUNS = quick ? 3 : 5
const PARTITIONS = 6
const hours = quick ? 6 : 24
const options = { ...tsbsCpuOneDay, durationSeconds: hours * 3600 }
const DAY_NS = BigInt(hours * 3600) * 1_000_000_000n
/** The loaded day only: the apply loop writes the next one, so every run reads the same points. */
const DAY = `time >= 1451606400000000000 AND time < ${1451606400000000000n + DAY_NS}`

const QUERIES = [
  { name: 'median + max per host per 7 min', sql: `SELECT date_bin(INTERVAL '7 minutes', time) AS t, hostname, median(usage_user), max(usage_system) FROM cpu WHERE ${DAY} GROUP BY t, hostname` },
  { name: 'p95 per host', sql: `SELECT hostname, percentile(usage_idle, 0.95) FROM cpu WHERE ${DAY} GROUP BY hostname` },
  { name: 'max per host per 7 min', sql: `SELECT date_bin(INTERVAL '7 minutes', time) AS t, hostname, max(usage_user) FROM cpu WHERE ${DAY} GROUP BY t, hostname` },
]

function partitionOf(entry: ChangelogEntry): number {
  const key = entry.upsert!.seriesKey
  let hash = 0
  for (let i = 0; i < key.length; i++) hash = (hash * 31 + key.charCodeAt(i)) >>> 0
  return hash % PARTITIONS
}

/** The workload's entries shifted by `shiftNs`, per partition. */
function entriesByPartition(shiftNs: bigint): ChangelogEntry[][] {
  const out: ChangelogEntry[][] = Array.from({ length: PARTITIONS }, () => [])
  for (const entry of tsbsChangelogEntries(generateTsbsCpu(options).batches)) {
    if (shiftNs !== 0n) for (const point of entry.upsert!.points) point.timeNs += shiftNs
    out[partitionOf(entry)]!.push(entry)
  }
  return out
}

async function timed(run: () => Promise<unknown>): Promise<number> {
  // Warm-up: a worker's JIT starts cold, and each pool worker should have run the query once.
  await run()
  await run()
  const times: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now()
    await run()
    times.push(performance.now() - started)
  }
  return median(times)
}

/** Applies `entries` round-robin over the stores, yielding to the event loop between small batches, until stopped. */
function applyLoop(stores: PartitionStore[], entries: ChangelogEntry[][]): { stop(): Promise<number> } {
  let running = true
  let applied = 0
  const done = (async () => {
    const offsets = stores.map((store) => store.appliedOffset)
    for (let i = 0; running; i++) {
      for (let p = 0; p < stores.length && running; p++) {
        const entry = entries[p]![i % entries[p]!.length]
        if (!entry) continue
        await stores[p]!.apply(entry, offsets[p]!)
        offsets[p]!++
        applied++
      }
      if (i % 8 === 0) await new Promise((resolve) => setImmediate(resolve))
    }
  })()
  return { stop: async () => { running = false; await done; return applied } }
}

async function main(): Promise<void> {
  console.log(`# query-parallel: ${hours} h of the TSBS-like cpu workload in ${PARTITIONS} stores; ${describeMachine()}`)
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-query-parallel-'))
  const stores: PartitionStore[] = []
  const pools = [new ScanPool({ size: 1 }), new ScanPool({ size: 2 })]
  try {
    const byPartition = entriesByPartition(0n)
    for (let p = 0; p < PARTITIONS; p++) {
      const store = await openPartitionStore(join(dir, String(p)), { partition: p, fsync: false, autoCompact: false })
      let offset = 0n
      for (const entry of byPartition[p]!) await store.apply(entry, offset++)
      await store.compactAll()
      stores.push(store)
    }
    const nextDay = entriesByPartition(DAY_NS)
    await Promise.all(pools.map((pool) => pool.ready()))
    const context: QueryContext = { tenant: 'bench', database: 'bench', stores, nowNs: 0n }
    const withPool = (pool: ScanPool): QueryContext => ({ ...context, parallelScans: { pool, minPointsToDecode: 0 } })
    console.log('| query | ingest | serial (ms) | 1 worker (ms) | ratio | 2 workers (ms) | ratio | applied/s (serial, 1, 2) |')
    console.log('|---|---|---:|---:|---:|---:|---:|---|')
    for (const query of QUERIES) {
      for (const ingest of [false, true]) {
        const rates: string[] = []
        const measure = async (run: () => Promise<unknown>): Promise<number> => {
          const loop = ingest ? applyLoop(stores, nextDay) : null
          const started = performance.now()
          const ms = await timed(run)
          if (loop) rates.push(String(Math.round((await loop.stop()) / ((performance.now() - started) / 1000))))
          return ms
        }
        const serial = await measure(() => executeSql(query.sql, context))
        const one = await measure(() => executeSql(query.sql, withPool(pools[0]!)))
        const two = await measure(() => executeSql(query.sql, withPool(pools[1]!)))
        console.log(`| ${query.name} | ${ingest ? 'applying' : 'idle'} | ${serial.toFixed(0)} | ${one.toFixed(0)} | ${(one / serial).toFixed(2)} | ${two.toFixed(0)} | ${(two / serial).toFixed(2)} | ${ingest ? rates.join(', ') : '-'} |`)
      }
    }
  } finally {
    for (const pool of pools) await pool.close()
    for (const store of stores) await store.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
