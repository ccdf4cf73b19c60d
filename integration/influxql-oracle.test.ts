// InfluxQL against the real thing: the same generated points (four hosts in three regions, float
// and integer fields, three hours at 10 s with gaps, a second measurement) are written to a real
// InfluxDB 1.6 (Debian's influxd) and, over HTTP, to a Sluice node (broker and node processes).
// Then every statement below goes to both /query endpoints and the answers must agree: the same
// statements' results, series (names, tags, columns) and rows, floats within 1e-9 relative and
// everything else exactly. Epochs other than ns are checked as Sluice's answer against influxd's
// nanoseconds converted. A second table asks Sluice the same questions in SQL (/api/v1/sql) and
// compares its numbers with influxd's InfluxQL answers; and the influx CLI reads Sluice's answers.
//
// influxd must be installed (.ci/run installs it); if it cannot start, the test fails.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { parseJsonLossless, JsonNumber, type JsonValue } from '../pipeline/ingest/testing/lossless-json.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'
import { startInfluxd, type Influxd } from './support/influxd.ts'
import { run } from './support/run.ts'
import { seededRandom as seeded } from '../lib/testing/seeded-random.ts'

const DB = 'oracle'
const SECOND = 1_000_000_000n
const MINUTE = 60n * SECOND
const HOUR = 60n * MINUTE
const STEP = 10n * SECOND
/** Data starts on the hour, five hours ago, and runs for three hours. */
const T0 = ((BigInt(Date.now()) * 1_000_000n - 5n * HOUR) / HOUR) * HOUR
const T_END = T0 + 3n * HOUR
const tenant = uniqueName('it_influxql')

let broker: BrokerProcess
let node: NodeProcess
let influxd: Influxd

const REGIONS: Record<string, string> = { h0: 'eu', h1: 'eu', h2: 'us', h3: 'ap' }

/** The points as line protocol, and how many usage_user and free values they hold. */
function generate(): { lines: string[]; cpuPoints: number; memPoints: number } {
  const random = seeded(42)
  const lines: string[] = []
  let cpuPoints = 0
  let memPoints = 0
  for (const host of Object.keys(REGIONS)) {
    for (let i = 0n; T0 + i * STEP < T_END; i++) {
      const time = T0 + i * STEP
      if (host === 'h1' && time >= T0 + 60n * MINUTE && time < T0 + 80n * MINUTE) continue
      if (host === 'h2' && i % 7n === 3n) continue
      if (host === 'h3' && time >= T0 + 150n * MINUTE) continue
      const fields = [
        `usage_user=${Math.round(random() * 10_000) / 100}`,
        `usage_system=${Math.round(random() * 5_000) / 100}`,
        `requests=${Math.round(random() * 1_000) - 100}i`,
      ]
      if (host === 'h0' || host === 'h2') fields.push(`temp=${(Math.round(random() * 400) / 10 + 20).toFixed(1)}`)
      if (random() < 0.1) fields.push(`errors=${Math.round(random() * 5)}i`)
      lines.push(`cpu,host=${host},region=${REGIONS[host]} ${fields.join(',')} ${time}`)
      cpuPoints++
      if ((host === 'h0' || host === 'h1') && i % 3n === 0n) {
        lines.push(`mem,host=${host} free=${Math.round(random() * 1e9)}i,used_percent=${Math.round(random() * 10_000) / 100} ${time}`)
        memPoints++
      }
    }
  }
  return { lines, cpuPoints, memPoints }
}

const data = generate()

async function sluiceQuery(q: string, epoch: string | null, db = DB): Promise<{ status: number; body: string }> {
  const params = new URLSearchParams({ db, q, ...(epoch === null ? {} : { epoch }) })
  const answer = await fetch(`${node.url}/query?${params}`, { method: 'POST' })
  return { status: answer.status, body: await answer.text() }
}

async function waitForSluice(): Promise<void> {
  const deadline = Date.now() + 45_000
  let last = ''
  while (Date.now() < deadline) {
    const answer = await sluiceQuery('SELECT count(usage_user) FROM cpu; SELECT count(free) FROM mem', null)
    last = answer.body
    const counts = [...answer.body.matchAll(/"values":\[\["[^"]+",(\d+)\]\]/g)].map((m) => Number(m[1]))
    if (counts[0] === data.cpuPoints && counts[1] === data.memPoints) return
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`Sluice did not apply every point within 45 s; last count answer: ${last}`)
}

before(async () => {
  influxd = await startInfluxd()
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', '2', '--default-tenant', tenant, '--replica-flush-interval-ms', '300'] })
  await influxd.query(DB, `CREATE DATABASE ${DB}`)
  for (let at = 0; at < data.lines.length; at += 5000) {
    const body = data.lines.slice(at, at + 5000).join('\n')
    const toInflux = await influxd.write(DB, Buffer.from(body))
    assert.equal(toInflux.status, 204, toInflux.body.toString())
    const toSluice = await fetch(`${node.url}/write?db=${DB}`, { method: 'POST', body })
    assert.equal(toSluice.status, 204, await toSluice.text())
  }
  await waitForSluice()
})

after(async () => {
  assert.equal(await node?.stop(), 0, 'the node exits 0 on SIGTERM')
  await broker?.stop()
  await influxd?.stop()
  await forgetTenants([tenant])
})

const ms = (ns: bigint): string => `${ns / 1_000_000n}ms`
const rfc = (ns: bigint): string => `'${new Date(Number(ns / 1_000_000n)).toISOString()}'`
const A = T0 + 15n * MINUTE
const B = T0 + 165n * MINUTE
/** The range Grafana sends: milliseconds, both ends inclusive. */
const RANGE = `time >= ${ms(A)} and time <= ${ms(B)}`

const statements: string[] = [
  `SELECT mean("usage_user") FROM "cpu" WHERE ${RANGE} GROUP BY time(5m) fill(null)`,
  `SELECT min("usage_user"), max("usage_user") FROM "cpu" WHERE ${RANGE} GROUP BY time(10m)`,
  `SELECT count("usage_user"), sum("usage_system") FROM "cpu" WHERE ${RANGE} GROUP BY time(10m)`,
  `SELECT first("usage_user"), last("usage_user") FROM "cpu" WHERE ${RANGE} GROUP BY time(10m)`,
  `SELECT mean("usage_user") FROM "cpu" WHERE ("host" = 'h1') AND ${RANGE} GROUP BY time(2m) fill(null)`,
  `SELECT mean("usage_user") FROM "cpu" WHERE ("host" = 'h1') AND ${RANGE} GROUP BY time(2m) fill(0)`,
  `SELECT mean("usage_user") FROM "cpu" WHERE ("host" = 'h1') AND ${RANGE} GROUP BY time(2m) fill(previous)`,
  `SELECT mean("usage_user"), sum("requests") FROM "cpu" WHERE ("host" = 'h1') AND ${RANGE} GROUP BY time(2m) fill(linear)`,
  `SELECT mean("usage_user") FROM "cpu" WHERE ("host" = 'h1') AND ${RANGE} GROUP BY time(2m) fill(none)`,
  `SELECT max("requests") FROM "cpu" WHERE ("host" = 'h1') AND ${RANGE} GROUP BY time(5m) fill(-1)`,
  `SELECT mean("usage_user") FROM "cpu" WHERE ${RANGE} GROUP BY time(10m), "host" fill(none)`,
  `SELECT max("usage_system") FROM "cpu" WHERE ${RANGE} GROUP BY time(30m, 5m), "region" fill(null)`,
  `SELECT mean("temp"), count("errors") FROM "cpu" WHERE ${RANGE} GROUP BY time(15m), * fill(null)`,
  `SELECT mean("usage_user") FROM "cpu" WHERE "host" =~ /^h[02]$/ AND ${RANGE} GROUP BY time(20m), "host"`,
  `SELECT sum("requests") FROM "cpu" WHERE "host" !~ /h[01]/ AND "host" != 'h3' AND ${RANGE} GROUP BY time(20m)`,
  `SELECT count("usage_user") FROM "cpu" WHERE ("host" = 'h0' OR "region" = 'us') AND ${RANGE} GROUP BY time(30m), "host"`,
  `SELECT mean("requests"), sum("requests"), min("requests"), max("requests") FROM "cpu" WHERE ${RANGE} GROUP BY "region"`,
  `SELECT max("usage_user") FROM "cpu" WHERE ${RANGE}`,
  `SELECT min("usage_system") FROM "cpu" WHERE ${RANGE} GROUP BY "host"`,
  `SELECT last("requests") FROM "cpu" WHERE ${RANGE} GROUP BY "region"`,
  `SELECT max("usage_user"), "host", "requests" FROM "cpu" WHERE ${RANGE}`,
  `SELECT last("requests"), "region", "usage_user" FROM "cpu" WHERE ${RANGE} GROUP BY time(30m) fill(null)`,
  `SELECT first("temp"), "host" FROM "cpu" WHERE ${RANGE} GROUP BY "region"`,
  `SELECT count("usage_user") FROM "cpu" WHERE time > ${A} AND time < ${B}`,
  `SELECT spread("usage_user") FROM "cpu" WHERE ${RANGE} GROUP BY time(15m)`,
  `SELECT median("usage_user"), stddev("usage_user"), median("requests") FROM "cpu" WHERE ${RANGE} GROUP BY time(30m), "host"`,
  `SELECT percentile("usage_system", 95), percentile("requests", 20) FROM "cpu" WHERE ${RANGE} GROUP BY time(20m) fill(none)`,
  `SELECT percentile("usage_user", 50) FROM "cpu" WHERE "host" = 'h0' AND time >= ${A} AND time < ${A + 10n * MINUTE}`,
  `SELECT mean(*) FROM "cpu" WHERE ${RANGE} GROUP BY time(1h)`,
  `SELECT mean("usage_user") * 100, max("requests") - min("requests") FROM "cpu" WHERE ${RANGE} GROUP BY time(30m), "host" fill(previous)`,
  `SELECT sum("requests") / count("requests") AS "per_point", 8 * last("errors") FROM "cpu" WHERE ${RANGE} GROUP BY "region"`,
  `SELECT non_negative_derivative(mean("usage_user"), 1s) * 8 FROM "cpu" WHERE ${RANGE} GROUP BY time(1m), "host" fill(null)`,
  `SELECT derivative(max("requests")), difference(max("requests")) FROM "cpu" WHERE "host" = 'h1' AND time >= ${ms(A + 7n * SECOND)} AND time <= ${ms(B)} GROUP BY time(10m) fill(previous)`,
  `SELECT cumulative_sum(sum("requests")), moving_average(mean("usage_system"), 3) FROM "cpu" WHERE ${RANGE} GROUP BY time(15m), "region" fill(0)`,
  `SELECT non_negative_difference(count("errors")) FROM "cpu" WHERE ${RANGE} GROUP BY time(20m) fill(none) ORDER BY time DESC`,
  `SELECT "usage_user", "host" FROM "cpu" WHERE "host" = 'h2' AND time >= ${rfc(A)} AND time < ${rfc(A + 10n * MINUTE)}`,
  `SELECT * FROM "cpu" WHERE time >= ${A} AND time < ${A + 30n * SECOND}`,
  `SELECT "usage_user", "errors" FROM "cpu" WHERE ${RANGE} GROUP BY "host" ORDER BY time DESC LIMIT 5`,
  `SELECT mean("usage_user") FROM "cpu" WHERE ${RANGE} GROUP BY time(10m), "host" fill(previous) ORDER BY time DESC LIMIT 4 OFFSET 2 SLIMIT 2 SOFFSET 1`,
  `SELECT mean("usage_user") FROM "${DB}"."autogen"."cpu" WHERE time >= now() - 12h GROUP BY time(30m) fill(none)`,
  `SELECT max("usage_user") FROM "${DB}".."cpu" WHERE time >= ${ms(A)} GROUP BY time(1h)`,
  `SELECT count("free") FROM /mem|cpu/ WHERE ${RANGE} GROUP BY time(1h)`,
  `SELECT mean("used_percent") FROM "mem" WHERE ${RANGE} GROUP BY time(20m), "host" fill(linear)`,
  // No lower time bound: windows start at each series' first point and run to now().
  'SELECT count("usage_user") FROM "cpu" GROUP BY time(1h)',
  `SELECT mean("usage_user") FROM "cpu" WHERE time <= ${ms(B)} GROUP BY time(30m), "host" fill(0)`,
  `SELECT count("usage_user"), mean("temp") FROM "cpu" WHERE time <= ${ms(B)} GROUP BY time(30m), "host" fill(previous) ORDER BY time DESC`,
  // As Grafana's query builder writes them (now()-relative ranges with fill(none), so that the
  // moment each server reads its clock cannot move a window).
  `SELECT mean("usage_idle"), mean("usage_user") FROM "cpu" WHERE ("host"::tag =~ /^(h0|h3)$/) AND time >= now() - 6h and time <= now() GROUP BY time(20s), "host"::tag fill(none) LIMIT 30`,
  `SELECT last("requests") FROM "cpu" WHERE ("region"::tag = 'eu') AND ${RANGE} GROUP BY time(1m) fill(none) SLIMIT 1`,
  'SHOW DATABASES',
  'SHOW MEASUREMENTS',
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /cp/ LIMIT 10',
  'SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)CP/ LIMIT 100',
  `SELECT count("usage_user") FROM "cpu" WHERE "host" =~ /(?i)^H[13]$/ AND ${RANGE} GROUP BY "host"`,
  'SHOW TAG KEYS',
  'SHOW TAG KEYS FROM "cpu"',
  'SHOW TAG VALUES WITH KEY = "host"',
  `SHOW TAG VALUES FROM "cpu" WITH KEY IN ("host", "region") WHERE "region" = 'eu'`,
  'SHOW FIELD KEYS',
  'SHOW FIELD KEYS FROM "mem"',
  'SHOW RETENTION POLICIES',
  'SHOW SERIES',
  `SELECT mean("usage_user") FROM "cpu" WHERE ${RANGE} GROUP BY time(1h); SHOW TAG VALUES FROM "mem" WITH KEY = "host"; SELECT count("temp") FROM "cpu" WHERE ${RANGE}`,
]

type JsonObject = { [key: string]: JsonValue }

/** Times in the first column of SELECT rows as ns (epoch=ns integers, or RFC 3339 strings at ms precision here). */
function timeNs(value: JsonValue): bigint {
  if (value instanceof JsonNumber) return value.toBigInt()
  if (typeof value === 'string') return BigInt(Date.parse(value)) * 1_000_000n
  throw new Error(`not a time: ${JSON.stringify(value)}`)
}

function sameValue(actual: JsonValue, expected: JsonValue, where: string): void {
  if (actual instanceof JsonNumber && expected instanceof JsonNumber) {
    const exact = /^-?\d+$/
    if (exact.test(actual.text) && exact.test(expected.text)) { assert.equal(actual.toBigInt(), expected.toBigInt(), where); return }
    const [a, e] = [actual.toNumber(), expected.toNumber()]
    assert.ok(Math.abs(a - e) <= 1e-9 * Math.max(Math.abs(a), Math.abs(e)), `${where}: ${a} vs influxd ${e}`)
    return
  }
  assert.deepEqual(actual, expected, where)
}

/**
 * Rows of one time from several series (a raw SELECT without GROUP BY tags) come from InfluxDB's
 * merge in no defined order (Sluice gives them in tag order): compared as sets, in a fixed order.
 */
function sameTimesSorted(rows: JsonValue[][]): JsonValue[][] {
  const key = (row: JsonValue[]): string => JSON.stringify(row.slice(1), (_k, v: unknown) => (v instanceof JsonNumber ? v.text : v))
  const out: JsonValue[][] = []
  for (let start = 0; start < rows.length;) {
    let end = start + 1
    while (end < rows.length && JSON.stringify(rows[end]![0]) === JSON.stringify(rows[start]![0])) end++
    out.push(...rows.slice(start, end).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)))
    start = end
  }
  return out
}

/** Sluice's answer against influxd's: statement by statement, series by series, row by row. */
function compareAnswers(sluice: JsonValue, influx: JsonValue, label: string, timeOf: (v: JsonValue) => bigint, influxTime: (v: JsonValue) => bigint, sortSameTimes = true): void {
  const ours = (sluice as JsonObject).results as JsonObject[]
  const theirs = (influx as JsonObject).results as JsonObject[]
  assert.equal(ours.length, theirs.length, `${label}: number of results`)
  theirs.forEach((expected, s) => {
    const actual = ours[s]!
    const at = `${label} [statement ${s}]`
    assert.equal(actual.error, expected.error, `${at}: error`)
    const expectedSeries = (expected.series ?? []) as JsonObject[]
    const actualSeries = (actual.series ?? []) as JsonObject[]
    assert.equal(expected.partial, undefined, `${at}: influxd cut the answer (partial); keep answers under its row limit`)
    assert.deepEqual(actualSeries.map((x) => [x.name, x.tags, x.columns]), expectedSeries.map((x) => [x.name, x.tags, x.columns]), `${at}: series`)
    expectedSeries.forEach((series, i) => {
      const timed = (series.columns as string[])[0] === 'time'
      const sorted = timed && sortSameTimes
      const rows = sorted ? sameTimesSorted(series.values as JsonValue[][]) : series.values as JsonValue[][]
      const actualRows = sorted ? sameTimesSorted(actualSeries[i]!.values as JsonValue[][]) : actualSeries[i]!.values as JsonValue[][]
      assert.equal(actualRows.length, rows.length, `${at} series ${i}: rows`)
      rows.forEach((row, r) => row.forEach((value, c) => {
        const where = `${at} series ${i} row ${r} column ${(series.columns as string[])[c]}`
        if (timed && c === 0) assert.equal(timeOf(actualRows[r]![c]!), influxTime(value), where)
        else sameValue(actualRows[r]![c]!, value, where)
      }))
    })
  })
}

test(`${statements.length} InfluxQL statements answer as InfluxDB 1.6 does`, async () => {
  assert.ok(statements.length >= 30)
  for (const q of statements) {
    const reference = parseJsonLossless(await influxd.query(DB, q))
    const answer = await sluiceQuery(q, 'ns')
    assert.equal(answer.status, 200, `${q}: ${answer.body}`)
    compareAnswers(parseJsonLossless(answer.body), reference, q, timeNs, timeNs)
  }
})

test('epoch=u|ms|s|m|h and RFC 3339 times are influxd\'s nanoseconds in that unit', async () => {
  const q = `SELECT mean("usage_user"), count("requests") FROM "cpu" WHERE ${RANGE} GROUP BY time(7m, 3m), "host" fill(previous)`
  const reference = parseJsonLossless(await influxd.query(DB, q))
  const units: Array<[string | null, bigint]> = [['u', 1_000n], ['µ', 1_000n], ['ms', 1_000_000n], ['s', SECOND], ['m', MINUTE], ['h', HOUR], [null, 1n]]
  for (const [epoch, unit] of units) {
    const answer = await sluiceQuery(q, epoch)
    assert.equal(answer.status, 200, answer.body)
    const influxTime = (value: JsonValue): bigint => (epoch === null ? timeNs(value) : timeNs(value) / unit)
    const ourTime = (value: JsonValue): bigint => (epoch === null ? timeNs(value) : (value as JsonNumber).toBigInt())
    if (epoch === null) assert.match(answer.body, /"values":\[\["\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",/)
    // Truncated times repeat (epoch=h): rows keep influxd's order, which aggregates define.
    compareAnswers(parseJsonLossless(answer.body), reference, `epoch=${epoch}`, ourTime, influxTime, false)
  }
})

/** A SQL statement and the InfluxQL one whose numbers it must reproduce, row for row and column for column. */
interface SqlCase {
  sql: string
  influxql: string
  /** SQL output columns standing for the InfluxQL series' tags (in order), then its time column if any. */
  tagColumns: string[]
  timeColumn: string | null
  valueColumns: string[]
}

const sqlRange = `time >= ${A} AND time <= ${B}`
const sqlCases: SqlCase[] = [
  { sql: `SELECT host, avg(usage_user) AS m, min(usage_user) AS lo, max(usage_user) AS hi, count(usage_user) AS n FROM cpu WHERE ${sqlRange} GROUP BY host ORDER BY host`, influxql: `SELECT mean(usage_user), min(usage_user), max(usage_user), count(usage_user) FROM cpu WHERE ${RANGE} GROUP BY host`, tagColumns: ['host'], timeColumn: null, valueColumns: ['m', 'lo', 'hi', 'n'] },
  { sql: `SELECT region, sum(requests) AS s, avg(requests) AS m FROM cpu WHERE ${sqlRange} GROUP BY region ORDER BY region`, influxql: `SELECT sum(requests), mean(requests) FROM cpu WHERE ${RANGE} GROUP BY region`, tagColumns: ['region'], timeColumn: null, valueColumns: ['s', 'm'] },
  { sql: `SELECT date_bin(INTERVAL '10 minutes', time) AS t, avg(usage_user) AS m FROM cpu WHERE ${sqlRange} GROUP BY t ORDER BY t`, influxql: `SELECT mean(usage_user) FROM cpu WHERE ${RANGE} GROUP BY time(10m) fill(none)`, tagColumns: [], timeColumn: 't', valueColumns: ['m'] },
  { sql: `SELECT date_bin(INTERVAL '5 minutes', time) AS t, min(usage_system) AS lo, max(usage_system) AS hi FROM cpu WHERE ${sqlRange} GROUP BY t ORDER BY t`, influxql: `SELECT min(usage_system), max(usage_system) FROM cpu WHERE ${RANGE} GROUP BY time(5m) fill(none)`, tagColumns: [], timeColumn: 't', valueColumns: ['lo', 'hi'] },
  { sql: `SELECT host, date_bin(INTERVAL '30 minutes', time) AS t, count(usage_user) AS n, sum(usage_user) AS s FROM cpu WHERE ${sqlRange} GROUP BY host, t ORDER BY host, t`, influxql: `SELECT count(usage_user), sum(usage_user) FROM cpu WHERE ${RANGE} GROUP BY time(30m), host fill(none)`, tagColumns: ['host'], timeColumn: 't', valueColumns: ['n', 's'] },
  { sql: `SELECT host, first(time, usage_user) AS f, last(time, usage_user) AS l FROM cpu WHERE ${sqlRange} GROUP BY host ORDER BY host`, influxql: `SELECT first(usage_user), last(usage_user) FROM cpu WHERE ${RANGE} GROUP BY host`, tagColumns: ['host'], timeColumn: null, valueColumns: ['f', 'l'] },
  { sql: `SELECT date_bin(INTERVAL '15 minutes', time) AS t, avg(temp) AS m, count(temp) AS n FROM cpu WHERE host = 'h2' AND ${sqlRange} GROUP BY t ORDER BY t`, influxql: `SELECT mean(temp), count(temp) FROM cpu WHERE host = 'h2' AND ${RANGE} GROUP BY time(15m) fill(none)`, tagColumns: [], timeColumn: 't', valueColumns: ['m', 'n'] },
  { sql: `SELECT count(errors) AS n, sum(errors) AS s FROM cpu WHERE region IN ('eu', 'ap') AND ${sqlRange}`, influxql: `SELECT count(errors), sum(errors) FROM cpu WHERE (region = 'eu' OR region = 'ap') AND ${RANGE}`, tagColumns: [], timeColumn: null, valueColumns: ['n', 's'] },
  { sql: `SELECT host, max(requests) AS hi, min(requests) AS lo FROM cpu WHERE host != 'h0' AND ${sqlRange} GROUP BY host ORDER BY host`, influxql: `SELECT max(requests), min(requests) FROM cpu WHERE host != 'h0' AND ${RANGE} GROUP BY host`, tagColumns: ['host'], timeColumn: null, valueColumns: ['hi', 'lo'] },
  { sql: `SELECT host, date_bin(INTERVAL '1 hour', time) AS t, avg(used_percent) AS m, max(free) AS hi FROM mem WHERE ${sqlRange} GROUP BY host, t ORDER BY host, t`, influxql: `SELECT mean(used_percent), max(free) FROM mem WHERE ${RANGE} GROUP BY time(1h), host fill(none)`, tagColumns: ['host'], timeColumn: 't', valueColumns: ['m', 'hi'] },
  { sql: `SELECT date_bin(INTERVAL '20 minutes', time, '1970-01-01T00:05:00Z') AS t, sum(requests) AS s FROM cpu WHERE host = 'h1' AND ${sqlRange} GROUP BY t ORDER BY t`, influxql: `SELECT sum(requests) FROM cpu WHERE host = 'h1' AND ${RANGE} GROUP BY time(20m, 5m) fill(none)`, tagColumns: [], timeColumn: 't', valueColumns: ['s'] },
]

test(`${sqlCases.length} SQL queries on /api/v1/sql give influxd's InfluxQL numbers`, async () => {
  assert.ok(sqlCases.length >= 10)
  for (const { sql, influxql, tagColumns, timeColumn, valueColumns } of sqlCases) {
    const answer = await fetch(`${node.url}/api/v1/sql?db=${DB}`, { method: 'POST', body: sql })
    const body = await answer.text()
    assert.equal(answer.status, 200, `${sql}: ${body}`)
    const rows = parseJsonLossless(body) as JsonObject[]
    const reference = ((parseJsonLossless(await influxd.query(DB, influxql)) as JsonObject).results as JsonObject[])[0]!
    const expected: JsonValue[][] = []
    for (const series of (reference.series ?? []) as JsonObject[]) {
      const tags = (series.tags ?? {}) as JsonObject
      for (const row of series.values as JsonValue[][]) {
        expected.push([...Object.values(tags), ...(timeColumn === null ? [] : [row[0]!]), ...row.slice(1)])
      }
    }
    assert.equal(rows.length, expected.length, `${sql}: rows`)
    rows.forEach((row, r) => {
      const want = expected[r]!
      tagColumns.forEach((column, c) => assert.equal(row[column], want[c], `${sql} row ${r} ${column}`))
      const offset = tagColumns.length
      if (timeColumn !== null) assert.equal(timeNs(row[timeColumn]!), timeNs(want[offset]!), `${sql} row ${r} time`)
      const firstValue = offset + (timeColumn === null ? 0 : 1)
      valueColumns.forEach((column, c) => sameValue(row[column]!, want[firstValue + c]!, `${sql} row ${r} ${column}`))
    })
  }
})

test('refusals: a query that does not parse is a 400 with influxd\'s message; a failing statement ends the results', async () => {
  for (const q of ['SELECT mean( FROM cpu', 'SELECT usage_user FROM cpu WHERE', 'SHOW TAG VALUES WITH KEY', 'SHOW MEASUREMENTS WITH MEASUREMENT != cpu', '']) {
    // The influxd helper throws on a status other than 200, with the status and body in its message.
    const refused = await influxd.query(DB, q).then(() => null, (error: Error) => /answered (\d+): (.*)$/s.exec(error.message))
    assert.ok(refused, `influxd accepted ${JSON.stringify(q)}`)
    const answer = await sluiceQuery(q, null)
    assert.equal(answer.status, Number(refused[1]), `${JSON.stringify(q)}: ${answer.body}`)
    assert.equal((JSON.parse(answer.body) as { error: string }).error, (JSON.parse(refused[2]!) as { error: string }).error)
  }
  const single = 'SELECT mean(usage_user) FROM cpu'
  compareAnswers(parseJsonLossless((await sluiceQuery(single, null, 'nowhere')).body), parseJsonLossless(await influxd.query('nowhere', single)), single, timeNs, timeNs)
  // A later statement on a missing database: influxd 1.6 ends the results there with "not executed"
  // and loses the reason; Sluice ends them there too, with the reason.
  const several = 'SHOW MEASUREMENTS; SHOW FIELD KEYS ON nowhere; SHOW MEASUREMENTS'
  const reference = parseJsonLossless(await influxd.query(DB, several)) as JsonObject
  assert.deepEqual((reference.results as JsonObject[]).map((r) => r.error), [undefined, 'not executed'])
  const answer = parseJsonLossless((await sluiceQuery(several, null)).body) as JsonObject
  assert.deepEqual((answer.results as JsonObject[]).map((r) => r.error), [undefined, 'database not found: nowhere'])
  const first = (result: JsonObject): JsonObject => ({ results: [(result.results as JsonValue[])[0]!] })
  compareAnswers(first(answer), first(reference), several, timeNs, timeNs)
})

test('the influx CLI (Debian\'s influxdb-client, chunked requests) reads Sluice\'s answers as influxd\'s', async () => {
  const flattened = (answer: JsonValue): JsonObject => ({ results: [{ series: ((answer as JsonObject).results as JsonObject[]).flatMap((r) => (r.series ?? []) as JsonValue[]) }] })
  for (const q of [`SELECT mean("usage_user"), max("requests") FROM "cpu" WHERE ${RANGE} GROUP BY time(30m), "host" fill(none)`, 'SHOW MEASUREMENTS; SHOW TAG KEYS FROM "cpu"']) {
    const cli = await run('influx', ['-host', '127.0.0.1', '-port', String(node.port), '-database', DB, '-format', 'json', '-precision', 'ns', '-execute', q], { timeoutMs: 30_000 })
    assert.equal(cli.code, 0, `influx -execute ${q}: ${cli.stderr}${cli.stdout}`)
    compareAnswers(flattened(parseJsonLossless(cli.stdout)), flattened(parseJsonLossless(await influxd.query(DB, q))), `influx CLI: ${q}`, timeNs, timeNs, false)
  }
})
