import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogEntry, Field, FieldValue, IngestCommand, Tag } from '../schemas/index.ts'
import { canonicalSeriesKey, openPartitionStore, type PartitionStore } from '../sinks/index.ts'
import { executeSql, type QueryContext } from './execute.ts'
import { QueryErrorCode, isQueryError } from './errors.ts'
import type { Value } from './result.ts'
import { seededRandom as seeded } from '../lib/testing/seeded-random.ts'

// A log of upserts (with rewrites), DELETEs and an UPDATE, applied to two partition stores with
// flushes and compactions between, and to a plain model of what should be visible. Every query's
// answer is checked value by value against the same question asked of the model.

const T0 = 1_700_000_000_000_000_000n
const STEP = 10_000_000_000n
const MINUTE = 60_000_000_000n
const HOSTS = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5']
const regionOf = (host: string): string => (Number(host.slice(1)) % 3 === 0 ? 'us' : 'eu')

type Row = Map<string, FieldValue>
/** host → time → fields. */
type Model = Map<string, Map<bigint, Row>>

function tagsOf(host: string): Tag[] {
  return [{ key: 'host', value: host }, { key: 'region', value: regionOf(host) }]
}

function upsert(measurement: string, host: string, points: [bigint, Field[]][]): ChangelogEntry {
  const tags = tagsOf(host)
  return {
    ingestPartition: 0, ingestOffset: 0n, command: null,
    upsert: { tenant: 't', database: 'db', measurement, seriesKey: canonicalSeriesKey(measurement, tags), tags, points: points.map(([timeNs, fields]) => ({ timeNs, fields })), pointsIn: points.length },
  }
}

function command(kind: IngestCommand['kind'], where: Partial<IngestCommand['where']>, set: Field[] = []): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, upsert: null,
    command: { commandId: 'c', tenant: 't', database: 'db', measurement: 'cpu', kind, set, issuedAtNs: 0n, where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null, ...where } },
  }
}

const storeOf = (host: string): number => Number(host.slice(1)) % 2

interface Fixture {
  context: QueryContext
  model: Model
}

async function fixture(t: { after: (fn: () => Promise<void> | void) => void }): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-query-'))
  const stores: PartitionStore[] = []
  for (const partition of [0, 1]) stores.push(await openPartitionStore(join(dir, String(partition)), { partition, fsync: false, blockMaxPoints: 16, autoCompact: false }))
  t.after(async () => { for (const s of stores) await s.close(); rmSync(dir, { recursive: true, force: true }) })
  const offsets = [0n, 0n]
  const model: Model = new Map(HOSTS.map((h) => [h, new Map()]))
  const apply = async (host: string | null, entry: ChangelogEntry): Promise<void> => {
    for (const p of host === null ? [0, 1] : [storeOf(host)]) await stores[p]!.apply(entry, offsets[p]!++)
  }
  const random = seeded(7)
  for (let round = 0; round < 4; round++) {
    for (const host of HOSTS) {
      const points: [bigint, Field[]][] = []
      for (let i = 0; i < 60; i++) {
        // Rounds overlap: round r covers points [r*50, r*50+60), so each round rewrites ten earlier times.
        const timeNs = T0 + BigInt(round * 50 + i) * STEP
        const fields: Field[] = [{ name: 'usage', value: Math.round(random() * 4000) / 4 }]
        if (random() < 0.8) fields.push({ name: 'reqs', value: BigInt(Math.round(random() * 1000) - 200) })
        if (random() < 0.5) fields.push({ name: 'up', value: random() < 0.7 })
        if (random() < 0.3) fields.push({ name: 'state', value: ['idle', 'busy', 'off'][Math.floor(random() * 3)]! })
        // Past ±2^53 on two hosts: the integer fast path must hand over to exact BigInt arithmetic.
        const magnitude = host === 'h4' || host === 'h5' ? 2n ** 52n : 1000n
        fields.push({ name: 'big', value: BigInt(Math.round(random() * 2000) - 1000) * magnitude + BigInt(i) })
        fields.push({ name: 'u', value: { unsigned: BigInt(Math.round(random() * 1e6)) * (host === 'h4' ? 2n ** 40n : 1n) } })
        points.push([timeNs, fields])
        const row = model.get(host)!.get(timeNs) ?? new Map()
        for (const f of fields) row.set(f.name, f.value)
        model.get(host)!.set(timeNs, row)
      }
      await apply(host, upsert('cpu', host, points))
    }
    for (const s of stores) await s.flush()
    if (round === 1) for (const s of stores) await s.compactAll()
  }
  await apply('h0', upsert('mem', 'h0', [[T0, [{ name: 'free', value: 1n }]]]))
  // DELETE h1 between points 20 and 80; region 'us' (h0, h3) from point 150 on.
  await apply(null, command('DELETE', { tags: [{ key: 'host', values: ['h1'] }], fromNs: T0 + 20n * STEP, toNs: T0 + 80n * STEP }))
  for (const [time] of model.get('h1')!) if (time >= T0 + 20n * STEP && time < T0 + 80n * STEP) model.get('h1')!.delete(time)
  await apply(null, command('DELETE', { tags: [{ key: 'region', values: ['us'] }], fromNs: T0 + 150n * STEP, toNs: null }))
  for (const host of ['h0', 'h3']) for (const [time] of model.get(host)!) if (time >= T0 + 150n * STEP) model.get(host)!.delete(time)
  // UPDATE reqs = 7 on h2's points 100..130: every existing row gets the value.
  await apply(null, command('UPDATE_FIELDS', { tags: [{ key: 'host', values: ['h2'] }], fromNs: T0 + 100n * STEP, toNs: T0 + 130n * STEP }, [{ name: 'reqs', value: 7n }]))
  for (const [time, row] of model.get('h2')!) if (time >= T0 + 100n * STEP && time < T0 + 130n * STEP) row.set('reqs', 7n)
  return { context: { tenant: 't', database: 'db', stores, nowNs: T0 + 1000n * STEP }, model }
}

function modelValue(value: FieldValue | undefined): Value {
  if (value === undefined) return null
  if (typeof value === 'object') return value.unsigned
  return value
}

/** Model rows of `hosts` in [from, to) as [time, host, fields...], by host then time. */
function modelRows(model: Model, hosts: string[], fromNs: bigint, toNs: bigint): { time: bigint; host: string; row: Row }[] {
  const out: { time: bigint; host: string; row: Row }[] = []
  for (const host of hosts) {
    for (const [time, row] of [...model.get(host)!].sort(([a], [b]) => (a < b ? -1 : 1))) if (time >= fromNs && time < toNs) out.push({ time, host, row })
  }
  return out
}

type Reducer = (values: FieldValue[], times: bigint[]) => Value

const reducers: Record<string, Reducer> = {
  count: (v) => BigInt(v.length),
  sum: (v) => (v.length === 0 ? null : typeof v[0] === 'bigint' ? (v as bigint[]).reduce((a, b) => a + b, 0n) : (v as number[]).reduce((a, b) => a + b, 0)),
  avg: (v) => (v.length === 0 ? null : (v as (number | bigint)[]).reduce<number>((a, b) => a + Number(b), 0) / v.length),
  min: (v) => (v.length === 0 ? null : v.reduce((a, b) => ((b as number) < (a as number) ? b : a))) as Value,
  max: (v) => (v.length === 0 ? null : v.reduce((a, b) => ((b as number) > (a as number) ? b : a))) as Value,
  first: (v, t) => (v.length === 0 ? null : modelValue(v[t.indexOf(t.reduce((a, b) => (b < a ? b : a)))])),
  last: (v, t) => (v.length === 0 ? null : modelValue(v[t.indexOf(t.reduce((a, b) => (b > a ? b : a)))])),
}

test('raw SELECT with tag filters, time range, ORDER BY time DESC, host and LIMIT equals the model', async (t) => {
  const { context, model } = await fixture(t)
  const from = T0 + 40n * STEP
  const to = T0 + 170n * STEP
  const result = await executeSql(`SELECT time, host, usage, state, up FROM cpu WHERE host IN ('h0', 'h1', 'h2') AND region != 'x' AND time >= ${from} AND time < ${to} ORDER BY time DESC, host LIMIT 50 OFFSET 3`, context)
  assert.deepEqual(result.columns, [{ name: 'time', type: 'timestamp' }, { name: 'host', type: 'string' }, { name: 'usage', type: 'float' }, { name: 'state', type: 'string' }, { name: 'up', type: 'boolean' }])
  const expected = modelRows(model, ['h0', 'h1', 'h2'], from, to)
    .sort((a, b) => (a.time !== b.time ? (a.time > b.time ? -1 : 1) : a.host < b.host ? -1 : 1))
    .slice(3, 53)
    .map(({ time, host, row }) => [time, host, modelValue(row.get('usage')), modelValue(row.get('state')), modelValue(row.get('up'))])
  assert.equal(expected.length, 50)
  assert.deepEqual(result.rows, expected)
})

test('SELECT * lists time, tags and fields; a field absent at a time is null', async (t) => {
  const { context, model } = await fixture(t)
  const result = await executeSql(`SELECT * FROM cpu WHERE host = 'h1' ORDER BY time`, context)
  assert.deepEqual(result.columns.map((c) => c.name), ['time', 'host', 'region', 'big', 'reqs', 'state', 'u', 'up', 'usage'])
  const expected = modelRows(model, ['h1'], T0, T0 + 10_000n * STEP)
    .map(({ time, host, row }) => [time, host, regionOf(host), ...['big', 'reqs', 'state', 'u', 'up', 'usage'].map((f) => modelValue(row.get(f)))])
  assert.deepEqual(result.rows, expected)
})

test('aggregates GROUP BY host and date_bin equal the model, with and without pre-aggregates', async (t) => {
  const { context, model } = await fixture(t)
  const from = T0 + 5n * STEP
  const to = T0 + 190n * STEP
  const fns = ['count', 'sum', 'avg', 'min', 'max', 'first', 'last']
  const select = [...fns.map((fn) => (fn === 'first' || fn === 'last' ? `${fn}(time, usage)` : `${fn}(usage)`)), 'sum(reqs)', 'min(reqs)', 'last(time, reqs)', 'max(state)', 'first(time, state)', 'count(state)', 'min(up)', 'last(up)', 'count(*)', 'sum(big)', 'min(big)', 'max(big)', 'sum(u)', 'max(u)', 'first(time, u)']
  const sql = `SELECT host, date_bin(INTERVAL '10 minutes', time) AS bucket, ${select.join(', ')} FROM cpu WHERE region IN ('eu', 'us') AND host NOT IN ('h5') AND time >= ${from} AND time < ${to} GROUP BY host, bucket ORDER BY host, bucket`
  const withStats = await executeSql(sql, context)
  const without = await executeSql(sql, { ...context, usePreAggregates: false })
  assert.ok(withStats.stats.pointsFromBlockStats > 0, 'some blocks answered from their statistics')
  assert.equal(without.stats.pointsFromBlockStats, 0)
  assert.deepEqual(withStats.rows, without.rows)
  const bucketOf = (time: bigint): bigint => time - (time % (10n * MINUTE))
  const expected: Value[][] = []
  for (const host of ['h0', 'h1', 'h2', 'h3', 'h4']) {
    const rows = modelRows(model, [host], from, to)
    for (const bucket of [...new Set(rows.map((r) => bucketOf(r.time)))]) {
      const inBucket = rows.filter((r) => bucketOf(r.time) === bucket)
      const column = (f: string, fn: string): Value => {
        const having = inBucket.filter((r) => r.row.has(f))
        return reducers[fn]!(having.map((r) => modelValue(r.row.get(f)!) as FieldValue), having.map((r) => r.time))
      }
      expected.push([host, bucket, ...fns.map((fn) => column('usage', fn)), column('reqs', 'sum'), column('reqs', 'min'), column('reqs', 'last'),
        column('state', 'max'), column('state', 'first'), column('state', 'count'), column('up', 'min'), column('up', 'last'), BigInt(inBucket.length),
        column('big', 'sum'), column('big', 'min'), column('big', 'max'), column('u', 'sum'), column('u', 'max'), column('u', 'first')])
    }
  }
  assert.deepEqual(withStats.rows, expected)
})

test('aggregates without GROUP BY give one row; over no data, count 0 and nulls', async (t) => {
  const { context, model } = await fixture(t)
  const all = modelRows(model, HOSTS, T0, T0 + 10_000n * STEP)
  const usage = all.map((r) => r.row.get('usage') as number)
  const result = await executeSql('SELECT count(usage), sum(usage), mean(usage), max(usage), count(*) FROM cpu', context)
  assert.deepEqual(result.rows, [[BigInt(usage.length), usage.reduce((a, b) => a + b, 0), usage.reduce((a, b) => a + b, 0) / usage.length, Math.max(...usage), BigInt(all.length)]])
  assert.deepEqual(result.columns.map((c) => c.name), ['count(usage)', 'sum(usage)', 'avg(usage)', 'max(usage)', 'count(*)'])
  const empty = await executeSql(`SELECT count(usage), min(usage), first(time, usage) FROM cpu WHERE time < ${T0}`, context)
  assert.deepEqual(empty.rows, [[0n, null, null]])
  const grouped = await executeSql(`SELECT host, count(usage) FROM cpu WHERE time < ${T0} GROUP BY host`, context)
  assert.deepEqual(grouped.rows, [])
})

test('time_window and date_trunc bucket like date_bin; ORDER BY time DESC orders buckets', async (t) => {
  const { context } = await fixture(t)
  const binned = await executeSql(`SELECT date_bin(INTERVAL '10 minutes', time) AS t, max(usage) FROM cpu GROUP BY t ORDER BY t DESC`, context)
  const window = await executeSql(`SELECT time_window(time, '10m') AS t, max(usage) FROM cpu GROUP BY t ORDER BY time DESC`, context)
  const trunc = await executeSql(`SELECT date_trunc('minute', time), max(usage) FROM cpu GROUP BY 1 ORDER BY 1 DESC`, context)
  assert.ok(binned.rows.length > 1, 'several buckets')
  assert.deepEqual(window.rows, binned.rows)
  assert.ok(trunc.rows.length > binned.rows.length, 'minutes are finer than 10 minutes')
  assert.ok((binned.rows[0]![0] as bigint) > (binned.rows[1]![0] as bigint), 'descending')
})

test('SHOW TABLES and DESCRIBE TABLE', async (t) => {
  const { context } = await fixture(t)
  assert.deepEqual((await executeSql('SHOW TABLES', context)).rows, [['cpu'], ['mem']])
  assert.deepEqual((await executeSql('SHOW MEASUREMENTS', context)).rows, [['cpu'], ['mem']])
  assert.deepEqual((await executeSql('DESCRIBE TABLE cpu', context)).rows, [
    ['time', 'TIMESTAMP(NANOSECOND)', 'TIME'], ['host', 'STRING', 'TAG'], ['region', 'STRING', 'TAG'],
    ['big', 'BIGINT', 'FIELD'], ['reqs', 'BIGINT', 'FIELD'], ['state', 'STRING', 'FIELD'], ['u', 'BIGINT UNSIGNED', 'FIELD'], ['up', 'BOOLEAN', 'FIELD'], ['usage', 'DOUBLE', 'FIELD'],
  ])
})

test('refusals carry a code and name the part refused', async (t) => {
  const { context } = await fixture(t)
  const cases: [string, string, RegExp][] = [
    ['SELEC x FROM cpu', QueryErrorCode.SYNTAX, /syntax/],
    ['SELECT usage FROM nope', QueryErrorCode.UNKNOWN_TABLE, /"nope"/],
    ['SELECT nope FROM cpu', QueryErrorCode.UNKNOWN_COLUMN, /"nope"/],
    ["SELECT nope FROM cpu WHERE host = 'h1'", QueryErrorCode.UNKNOWN_COLUMN, /"nope"/],
    ['SELECT sum(state) FROM cpu', QueryErrorCode.TYPE_MISMATCH, /sum\(state\)/],
    ['SELECT usage FROM cpu JOIN mem ON true', QueryErrorCode.UNSUPPORTED, /join/],
    ['SELECT sample(usage, 2) FROM cpu', QueryErrorCode.UNSUPPORTED, /sample/],
    ['SELECT host, max(usage) FROM cpu', QueryErrorCode.UNSUPPORTED, /GROUP BY/],
    ["SELECT max(usage) FROM cpu GROUP BY date_bin(INTERVAL '1 month', time)", QueryErrorCode.BAD_VALUE, /month/],
    ["SELECT max(usage) FROM cpu GROUP BY time_bucket('1m', time)", QueryErrorCode.UNSUPPORTED, /date_bin/],
    ["SELECT usage FROM cpu WHERE time > 'yesterday'", QueryErrorCode.BAD_VALUE, /RFC 3339/],
    ['INSERT INTO cpu (time, usage) VALUES (1, 2)', QueryErrorCode.UNSUPPORTED, /INSERT/],
    ['SELECT usage FROM cpu WHERE usage > host', QueryErrorCode.TYPE_MISMATCH, /cannot compare/],
    ["SELECT usage + state FROM cpu", QueryErrorCode.TYPE_MISMATCH, /usage \+ state/],
    ['SELECT usage FROM cpu WHERE nope > 1', QueryErrorCode.UNKNOWN_COLUMN, /"nope"/],
    ['SELECT usage FROM cpu WHERE max(usage) > 1', QueryErrorCode.UNSUPPORTED, /HAVING/],
    ["SELECT host FROM cpu WHERE host LIKE 1", QueryErrorCode.TYPE_MISMATCH, /LIKE/],
  ]
  assert.deepEqual((await executeSql("SELECT usage FROM cpu WHERE host = 'nobody'", context)).rows, [], 'a known table, no matching series: no rows')
  for (const [sql, code, message] of cases) {
    await assert.rejects(executeSql(sql, context), (error: unknown) => {
      assert.ok(isQueryError(error), `${sql}: ${String(error)}`)
      assert.equal(error.code, code, `${sql}: ${error.message}`)
      assert.match(error.message, message, sql)
      return true
    })
  }
})

test('now() and RFC 3339 bounds select the same rows as nanoseconds', async (t) => {
  const { context } = await fixture(t)
  const a = await executeSql(`SELECT count(usage) FROM cpu WHERE time >= now() - INTERVAL '1000 minutes' AND time < '2023-11-14T22:20:00Z'`, { ...context, nowNs: T0 + 1000n * MINUTE })
  const b = await executeSql(`SELECT count(usage) FROM cpu WHERE time >= ${T0} AND time < ${T0 + 3n * MINUTE}`, context)
  assert.equal(new Date(Number((T0 + 3n * MINUTE) / 1_000_000n)).toISOString(), '2023-11-14T22:16:20.000Z')
  assert.ok((a.rows[0]![0] as bigint) > (b.rows[0]![0] as bigint), 'the wider range counts more')
})

test('value aggregates (median, percentile, stddev, spread, mode, increase) per host and bucket equal the model, with and without pre-aggregates', async (t) => {
  const { context, model } = await fixture(t)
  const from = T0 + 5n * STEP
  const to = T0 + 190n * STEP
  const sql = `SELECT host, date_bin(INTERVAL '10 minutes', time) AS bucket, median(usage), percentile(usage, 0.75), stddev(usage), stddev_pop(usage), spread(usage), spread(reqs),
    mode(state), increase(usage), count(usage) FROM cpu WHERE time >= ${from} AND time < ${to} GROUP BY host, bucket ORDER BY host, bucket`
  const withStats = await executeSql(sql, context)
  const without = await executeSql(sql, { ...context, usePreAggregates: false })
  assert.deepEqual(withStats.rows, without.rows)
  const bucketOf = (time: bigint): bigint => time - (time % (10n * MINUTE))
  const percentile = (sorted: number[], p: number): number | null => {
    if (sorted.length === 0) return null
    const h = (sorted.length - 1) * p
    const low = Math.floor(h)
    return sorted[low]! + (h - low) * (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!)
  }
  const expected: Value[][] = []
  for (const host of HOSTS) {
    const rows = modelRows(model, [host], from, to)
    for (const bucket of [...new Set(rows.map((r) => bucketOf(r.time)))]) {
      const inBucket = rows.filter((r) => bucketOf(r.time) === bucket)
      const usage = inBucket.flatMap((r) => (r.row.has('usage') ? [r.row.get('usage') as number] : []))
      const sorted = [...usage].sort((a, b) => a - b)
      const mean = usage.reduce((a, b) => a + b, 0) / usage.length
      const squares = usage.reduce((a, b) => a + (b - mean) ** 2, 0)
      const reqs = inBucket.flatMap((r) => (r.row.has('reqs') ? [r.row.get('reqs') as bigint] : []))
      const states = inBucket.flatMap((r) => (r.row.has('state') ? [r.row.get('state') as string] : []))
      const counts = new Map<string, number>()
      for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1)
      const mode = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))[0]?.[0] ?? null
      let increase = 0
      for (let i = 1; i < usage.length; i++) increase += usage[i]! >= usage[i - 1]! ? usage[i]! - usage[i - 1]! : usage[i]!
      expected.push([host, bucket, percentile(sorted, 0.5), percentile(sorted, 0.75), usage.length > 1 ? Math.sqrt(squares / (usage.length - 1)) : null,
        Math.sqrt(squares / usage.length), sorted[sorted.length - 1]! - sorted[0]!,
        reqs.length === 0 ? null : reqs.reduce((a, b) => (b > a ? b : a)) - reqs.reduce((a, b) => (b < a ? b : a)),
        mode, usage.length > 1 ? increase : null, BigInt(usage.length)])
    }
  }
  assert.equal(withStats.rows.length, expected.length)
  withStats.rows.forEach((row, i) => {
    const want = expected[i]!
    for (const c of [4, 5]) {
      assert.ok(Math.abs((row[c] as number) - (want[c] as number)) < 1e-9 * Math.max(1, want[c] as number), `row ${i} column ${c}: ${String(row[c])} vs ${String(want[c])}`)
      row[c] = want[c]!
    }
    assert.deepEqual(row, want, `row ${i}`)
  })
})

test('WHERE on fields under upserts, UPDATE and DELETE equals the model, vectorised or row by row, raw and aggregated', async (t) => {
  const { context, model } = await fixture(t)
  const all = modelRows(model, HOSTS, T0, T0 + 10_000n * STEP)
  const vectorised = await executeSql('SELECT time, host, usage, reqs FROM cpu WHERE usage > 500 AND reqs < 100 ORDER BY host, time', context)
  const rowByRow = await executeSql('SELECT time, host, usage, reqs FROM cpu WHERE NOT (NOT (usage > 500 AND reqs < 100)) ORDER BY host, time', context)
  const expected = all.filter(({ row }) => (row.get('usage') as number) > 500 && row.has('reqs') && (row.get('reqs') as bigint) < 100n)
    .map(({ time, host, row }) => [time, host, modelValue(row.get('usage')), modelValue(row.get('reqs'))])
  assert.ok(expected.length > 20, 'the condition keeps some rows')
  assert.deepEqual(vectorised.rows, expected)
  assert.deepEqual(rowByRow.rows, expected)
  const grouped = await executeSql("SELECT host, count(*) AS n, sum(reqs) AS s, max(usage) AS m FROM cpu WHERE usage > 700 OR (up = true AND state = 'busy') GROUP BY host ORDER BY host", context)
  const expectedGroups: Value[][] = []
  for (const host of HOSTS) {
    const kept = all.filter((r) => r.host === host && ((r.row.get('usage') as number) > 700 || (r.row.get('up') === true && r.row.get('state') === 'busy')))
    if (kept.length === 0) continue
    const reqs = kept.flatMap((r) => (r.row.has('reqs') ? [r.row.get('reqs') as bigint] : []))
    expectedGroups.push([host, BigInt(kept.length), reqs.length === 0 ? null : reqs.reduce((a, b) => a + b, 0n), Math.max(...kept.map((r) => r.row.get('usage') as number))])
  }
  assert.deepEqual(grouped.rows, expectedGroups)
})

test('a repeated query sees series, fields and deletes applied since its last answer (the kept table schema follows the stores)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kept-schema-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const store = await openPartitionStore(dir, { fsync: false })
  t.after(() => store.close())
  const context: QueryContext = { tenant: 't', database: 'db', stores: [store], nowNs: T0 }
  const sql = `SELECT host, count(usage) AS n FROM cpu WHERE host IN ('h0', 'h1') GROUP BY host ORDER BY host`
  const answer = async (): Promise<Value[][]> => (await executeSql(sql, context)).rows
  await store.apply(upsert('cpu', 'h0', [[T0, [{ name: 'usage', value: 1 }]]]), 0n)
  assert.deepEqual(await answer(), [['h0', 1n]])
  assert.deepEqual(await answer(), [['h0', 1n]], 'the same again')
  await store.apply(upsert('cpu', 'h1', [[T0, [{ name: 'usage', value: 2 }]], [T0 + STEP, [{ name: 'usage', value: 3 }]]]), 1n)
  assert.deepEqual(await answer(), [['h0', 1n], ['h1', 2n]], 'a series applied after the first answer')
  await store.apply(upsert('cpu', 'h0', [[T0 + STEP, [{ name: 'idle', value: 4 }]]]), 2n)
  assert.deepEqual((await executeSql(`SELECT host, count(idle) AS n FROM cpu WHERE host IN ('h0', 'h1') GROUP BY host`, context)).rows, [['h0', 1n]], 'a field applied after')
  await store.apply(command('DELETE', { tags: [{ key: 'host', values: ['h1'] }] }), 3n)
  assert.deepEqual(await answer(), [['h0', 1n]], 'a DELETE hides the series at once')
})

test('under a time to live a repeated query lists anew: a series whose points expired leaves the answer without any entry applied', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-kept-schema-ttl-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  let nowNs = T0 + MINUTE
  const store = await openPartitionStore(dir, { fsync: false, retentionNs: { db: 2n * MINUTE }, clockNs: () => nowNs })
  t.after(() => store.close())
  const context: QueryContext = { tenant: 't', database: 'db', stores: [store], nowNs: T0 }
  const sql = `SELECT host, count(usage) AS n FROM cpu GROUP BY host ORDER BY host`
  await store.apply(upsert('cpu', 'h0', [[T0, [{ name: 'usage', value: 1 }, { name: 'idle', value: 5 }]]]), 0n)
  await store.apply(upsert('cpu', 'h1', [[T0 + 2n * MINUTE, [{ name: 'usage', value: 2 }]]]), 1n)
  assert.deepEqual((await executeSql(sql, context)).rows, [['h0', 1n], ['h1', 1n]])
  assert.deepEqual((await executeSql('SELECT count(idle) AS n FROM cpu', context)).rows, [[1n]])
  nowNs = T0 + 3n * MINUTE
  assert.deepEqual((await executeSql(sql, context)).rows, [['h1', 1n]], 'h0 expired')
  await assert.rejects(executeSql('SELECT count(idle) AS n FROM cpu', context), (error: unknown) => isQueryError(error) && error.code === QueryErrorCode.UNKNOWN_COLUMN,
    'the field only the expired series had is gone from the table')
})

test('a repeated SELECT (its plan kept for the table schema) answers what the stores hold after writes, a new field, a DELETE and compaction', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-query-plans-'))
  const store = await openPartitionStore(join(dir, '0'), { partition: 0, fsync: false, autoCompact: false })
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  let offset = 0n
  const apply = (entry: ChangelogEntry): Promise<unknown> => store.apply(entry, offset++)
  const context: QueryContext = { tenant: 't', database: 'db', stores: [store], nowNs: T0 + 1000n * STEP }
  const perHost = 'SELECT host, count(usage) AS n FROM cpu GROUP BY host ORDER BY host'
  const maxOfW = 'SELECT max(w) AS m FROM cpu'
  const rows = async (sql: string): Promise<Value[][]> => (await executeSql(sql, context)).rows
  const refusal = async (sql: string): Promise<string | undefined> => executeSql(sql, context).then(() => undefined, (error: unknown) => (isQueryError(error) ? error.code : String(error)))

  await apply(upsert('cpu', 'h0', [[T0, [{ name: 'usage', value: 1 }]]]))
  assert.deepEqual(await rows(perHost), [['h0', 1n]])
  assert.deepEqual(await rows(perHost), [['h0', 1n]])
  assert.equal(await refusal(maxOfW), QueryErrorCode.UNKNOWN_COLUMN)
  await apply(upsert('cpu', 'h1', [[T0, [{ name: 'usage', value: 2 }, { name: 'w', value: 5 }]], [T0 + STEP, [{ name: 'usage', value: 3 }]]]))
  assert.deepEqual(await rows(perHost), [['h0', 1n], ['h1', 2n]])
  assert.deepEqual(await rows(maxOfW), [[5]])
  await apply(command('DELETE', { tags: [{ key: 'host', values: ['h1'] }] }))
  assert.deepEqual(await rows(perHost), [['h0', 1n]])
  assert.equal(await refusal(maxOfW), QueryErrorCode.UNKNOWN_COLUMN)
  await store.flush()
  await store.compactAll()
  assert.deepEqual(await rows(perHost), [['h0', 1n]])
  await apply(upsert('cpu', 'h0', [[T0 + STEP, [{ name: 'usage', value: 4 }]]]))
  assert.deepEqual(await rows(perHost), [['h0', 2n]])
  // w again, now an integer in a new series: the answer is typed by the schema of now, not of the first plan.
  await apply(upsert('cpu', 'h2', [[T0, [{ name: 'usage', value: 5 }, { name: 'w', value: 7n }]]]))
  assert.deepEqual(await rows(maxOfW), [[7n]])
  assert.deepEqual((await executeSql(maxOfW, context)).columns.map((c) => c.type), ['integer'])
})

test('one narrowed SELECT text over two databases answers each from its own series (the listing key names the database beside the kept matches)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-query-keys-'))
  const store = await openPartitionStore(join(dir, '0'), { partition: 0, fsync: false, autoCompact: false })
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  const inDatabase = (database: string, value: number): ChangelogEntry => {
    const entry = upsert('cpu', 'h0', [[T0, [{ name: 'usage', value }]]])
    return { ingestPartition: 0, ingestOffset: 0n, command: null, upsert: { ...entry.upsert!, database } }
  }
  await store.apply(inDatabase('db', 1), 0n)
  await store.apply(inDatabase('other', 2), 1n)
  const sql = "SELECT max(usage) AS m FROM cpu WHERE host = 'h0'"
  for (let i = 0; i < 2; i++) {
    assert.deepEqual((await executeSql(sql, { tenant: 't', database: 'db', stores: [store], nowNs: T0 })).rows, [[1]])
    assert.deepEqual((await executeSql(sql, { tenant: 't', database: 'other', stores: [store], nowNs: T0 })).rows, [[2]])
  }
})
