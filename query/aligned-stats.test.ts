// With storage's default hour-aligned blocks, hourly buckets (date_bin 1 h, InfluxQL GROUP BY
// time(1h)) and a one-hour count are answered from block statistics without decoding a point,
// before compaction (flushes cut mid-hour) and after it, with the same answers as a full decode.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogEntry, Tag } from '../schemas/index.ts'
import { canonicalSeriesKey, openPartitionStore, type PartitionStore, type Column } from '../sinks/index.ts'
import { executeSql, type QueryContext } from './execute.ts'
import { executeInfluxql, type InfluxqlContext } from './influxql/execute.ts'

const HOUR_NS = 3_600_000_000_000n
const STEP_NS = 10_000_000_000n
const START_NS = 1_451_606_400_000_000_000n + 20n * 60_000_000_000n // 2016-01-01T00:20:00Z
const HOURS = 5
const HOSTS = ['h0', 'h1', 'h2']
const iso = (ns: bigint): string => new Date(Number(ns / 1_000_000n)).toISOString()

function entries(): ChangelogEntry[] {
  const out: ChangelogEntry[] = []
  const points = (HOURS * 3600) / 10
  // 100 points an entry: entry edges (and so flushes) fall mid-hour.
  for (let from = 0; from < points; from += 100) {
    for (const [h, host] of HOSTS.entries()) {
      const tags: Tag[] = [{ key: 'hostname', value: host }]
      const batch = Array.from({ length: Math.min(100, points - from) }, (_, k) => {
        const i = from + k
        return { timeNs: START_NS + BigInt(i) * STEP_NS, fields: [{ name: 'usage', value: BigInt((i * 7 + h * 13) % 101) }] }
      })
      out.push({ ingestPartition: 0, ingestOffset: 0n, command: null, upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tags), tags, points: batch, pointsIn: batch.length } })
    }
  }
  return out
}

/** Counts the points a store decodes or reads from memtables (scans and the rest of aggregate plans). */
function countReads(store: PartitionStore): { points: number } {
  const counter = { points: 0 }
  const counted = function* (chunks: Iterable<Column>): Generator<Column> {
    for (const chunk of chunks) { counter.points += chunk.times.length; yield chunk }
  }
  const scan = store.scan.bind(store)
  const aggregate = store.aggregate.bind(store)
  store.scan = (request) => counted(scan(request))
  store.aggregate = (request) => {
    const plan = aggregate(request)
    return { blocks: plan.blocks, rest: counted(plan.rest) }
  }
  return counter
}

for (const compacted of [false, true]) {
  test(`hourly buckets and a one-hour count come from block statistics (${compacted ? 'compacted' : 'flushed mid-hour, not compacted'})`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-aligned-stats-'))
    const store = await openPartitionStore(dir, { fsync: false, autoCompact: false })
    t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
    let offset = 0n
    for (const [n, entry] of entries().entries()) {
      await store.apply(entry, offset++)
      if (n % 40 === 39) await store.flush()
    }
    if (compacted) await store.compactAll()
    else await store.flush()
    const reads = countReads(store)
    const context: QueryContext = { tenant: 't', database: 'db', stores: [store], nowNs: START_NS + 100n * HOUR_NS }
    const total = HOSTS.length * HOURS * 360

    const hourly = `SELECT hostname, date_bin(INTERVAL '1 hour', time) AS hour, max(usage) AS m FROM cpu GROUP BY hostname, hour ORDER BY hostname, hour`
    const fromStats = await executeSql(hourly, context)
    assert.equal(fromStats.stats.pointsFromBlockStats, total)
    assert.equal(fromStats.stats.pointsScanned, 0)
    assert.equal(reads.points, 0, 'no point decoded')
    assert.equal(fromStats.rows.length, HOSTS.length * (HOURS + 1), 'the first and last hours are partial')
    assert.deepEqual(fromStats.rows, (await executeSql(hourly, { ...context, usePreAggregates: false })).rows)
    const explain = await executeSql(`EXPLAIN ${hourly}`, context)
    assert.match(JSON.stringify(explain.rows), new RegExp(`points scanned 0, blocks from block statistics \\d+, points from block statistics ${total}`))

    const hourFrom = START_NS - 20n * 60_000_000_000n + HOUR_NS
    const count = await executeSql(`SELECT count(usage) AS n FROM cpu WHERE hostname = 'h1' AND time >= '${iso(hourFrom)}' AND time < '${iso(hourFrom + HOUR_NS)}'`, context)
    assert.deepEqual(count.rows, [[360n]])
    assert.equal(count.stats.pointsFromBlockStats, 360)
    assert.equal(count.stats.pointsScanned, 0)

    reads.points = 0
    const influx: InfluxqlContext = {
      tenant: 't', database: 'db', epoch: 'ns', stores: [store], nowNs: context.nowNs,
      databases: async () => ['db'], hasDatabase: async (name) => name === 'db', createDatabase: async () => {}, authorizeRead: () => {},
    }
    const text = await executeInfluxql(`SELECT max("usage") FROM "cpu" WHERE time >= '${iso(START_NS - HOUR_NS)}' AND time < '${iso(START_NS + BigInt(HOURS) * HOUR_NS)}' GROUP BY time(1h), "hostname"`, influx)
    assert.equal(reads.points, 0, 'InfluxQL GROUP BY time(1h) decodes no point')
    const series = (JSON.parse(text) as { results: { series: { tags: { hostname: string }; values: [number, number | null][] }[] }[] }).results[0]!.series
    const sqlMax = new Map(fromStats.rows.map((row) => [`${row[0]}|${row[1]}`, Number(row[2])]))
    for (const s of series) {
      for (const [time, max] of s.values) {
        if (max !== null) assert.equal(max, sqlMax.get(`${s.tags.hostname}|${time}`), `${s.tags.hostname} at ${time}`)
      }
    }
  })
}
