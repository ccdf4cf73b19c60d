// The query functions of issue 6 end to end: a broker process and a node process. Counters, a
// ship's track and a polygon written as line protocol over HTTP are queried back over
// /api/v1/sql with increase, irate, gauge accessors, percentile, gap filling, date_part and the
// ST_* and track functions; every answer is worked out by hand below.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'

const T0 = 1_700_000_000_000_000_000n   // 2023-11-14T22:13:20Z
const SECOND = 1_000_000_000n
const tenant = uniqueName('it_query_fns')
/** 0.01° of longitude along the equator, a geodesic: a·π/18000 metres on WGS84. */
const EQUATOR_CENTIDEGREE_M = (6378137 * Math.PI) / 18000
let broker: BrokerProcess
let node: NodeProcess

before(async () => {
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', '2', '--default-tenant', tenant, '--replica-flush-interval-ms', '300'] })
  const lines = [
    // Counter a: 10 15 20, a restart, 3 8 12 → increase 5 + 5 + 3 + 5 + 4 = 22; irate (12 − 8) / 1 s = 4.
    ...[10, 15, 20, 3, 8, 12].map((n, i) => `req,host=a n=${n} ${T0 + BigInt(i) * SECOND}`),
    // Counter b: 100 at 0 s, 130 at 30 s → increase 30, irate 1.
    `req,host=b n=100 ${T0}`, `req,host=b n=130 ${T0 + 30n * SECOND}`,
    // A ship along the equator: 0.01° in the first 10 s, 0.02° in the next 10 s.
    `ship,id=s1 pos="POINT(0 0)" ${T0}`, `ship,id=s1 pos="POINT(0.01 0)" ${T0 + 10n * SECOND}`, `ship,id=s1 pos="POINT(0.03 0)" ${T0 + 20n * SECOND}`,
    `zone,name=cell shape="POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))" ${T0}`,
  ]
  const written = await fetch(`${node.url}/write?db=geo`, { method: 'POST', body: lines.join('\n') })
  assert.equal(written.status, 204, await written.text())
  // A DELETE that matches nothing follows the writes on every partition: once applied, so are they.
  const deleted = await fetch(`${node.url}/api/v1/sql?db=geo`, { method: 'POST', body: `DELETE FROM req WHERE host = 'nobody'` })
  const command = await deleted.json() as { positions: Array<{ partition: number; offset: string }> }
  assert.equal(deleted.status, 200, JSON.stringify(command))
  const wait = await fetch(`${node.url}/api/v1/replicaset/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ positions: command.positions, timeoutMs: 30_000 }) })
  assert.equal(wait.status, 200, await wait.text())
})

after(async () => {
  assert.equal(await node?.stop(), 0, 'the node exits 0 on SIGTERM')
  await broker?.stop()
  await forgetTenants([tenant])
})

async function sql(statement: string): Promise<{ status: number; body: string; rows: Array<Record<string, unknown>> }> {
  const answer = await fetch(`${node.url}/api/v1/sql?db=geo`, { method: 'POST', body: statement })
  const body = await answer.text()
  return { status: answer.status, body, rows: answer.status === 200 ? JSON.parse(body) as Array<Record<string, unknown>> : [] }
}

function near(actual: unknown, expected: number, tolerance: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: ${String(actual)}`)
  assert.ok(Math.abs((actual as number) - expected) <= tolerance, `${what}: ${String(actual)} vs ${expected}`)
}

test('counters and gauges: increase, irate, gauge accessors, median and percentile per host', async () => {
  const answer = await sql(`SELECT host, increase(n) AS inc, irate(n) AS ir, delta(gauge_agg(time, n)) AS d, num_elements(gauge_agg(time, n)) AS k,
    median(n) AS med, percentile(n, 0.9) AS p90, spread(n) AS sp FROM req GROUP BY host ORDER BY host`)
  assert.equal(answer.status, 200, answer.body)
  // a sorted: 3 8 10 12 15 20 → median (10 + 12) / 2 = 11; p90: h = 5 × 0.9 = 4.5 → 15 + 0.5 × 5 = 17.5.
  // b: 100 130 → median 115; p90: 100 + 0.9 × 30 = 127.
  assert.deepEqual(answer.rows, [
    { host: 'a', inc: 22, ir: 4, d: 2, k: 6, med: 11, p90: 17.5, sp: 17 },
    { host: 'b', inc: 30, ir: 1, d: 30, k: 2, med: 115, p90: 127, sp: 30 },
  ])
})

test('gap filling with locf and interpolate over 10-second windows, and date_part', async () => {
  // b has points at 0 s and 30 s: windows 10 s and 20 s are empty.
  const answer = await sql(`SELECT time_window_gapfill(time, '10s') AS w, max(n) AS raw, locf(max(n)) AS carried, interpolate(max(n)) AS line FROM req
    WHERE host = 'b' AND time >= ${T0} AND time < ${T0 + 40n * SECOND} GROUP BY w ORDER BY w`)
  assert.equal(answer.status, 200, answer.body)
  assert.deepEqual(answer.rows, [
    { w: '2023-11-14T22:13:20Z', raw: 100, carried: 100, line: 100 },
    { w: '2023-11-14T22:13:30Z', raw: null, carried: 100, line: 110 },
    { w: '2023-11-14T22:13:40Z', raw: null, carried: 100, line: 120 },
    { w: '2023-11-14T22:13:50Z', raw: 130, carried: 130, line: 130 },
  ])
  const parts = await sql(`SELECT time, date_part('hour', time) AS h, extract(second FROM time) AS s, to_timestamp(1700000000) AS t FROM req WHERE host = 'b' ORDER BY time`)
  assert.equal(parts.status, 200, parts.body)
  assert.deepEqual(parts.rows, [
    { time: '2023-11-14T22:13:20Z', h: 22, s: 20, t: '2023-11-14T22:13:20Z' },
    { time: '2023-11-14T22:13:50Z', h: 22, s: 50, t: '2023-11-14T22:13:20Z' },
  ])
})

test('space-time: a track, geodesic and planar measures, predicates', async () => {
  const track = await sql(`SELECT id, st_track_length(time, pos) AS metres, st_max_speed(time, pos) AS vmax, st_avg_speed(time, pos) AS vavg,
    st_position_at(time, pos, '2023-11-14T22:13:40Z') AS last FROM ship GROUP BY id`)
  assert.equal(track.status, 200, track.body)
  const [ship] = track.rows
  near(ship!.metres, 3 * EQUATOR_CENTIDEGREE_M, 1e-6, 'track length')
  near(ship!.vmax, (2 * EQUATOR_CENTIDEGREE_M) / 10, 1e-7, 'max speed')
  near(ship!.vavg, (3 * EQUATOR_CENTIDEGREE_M) / 20, 1e-7, 'average speed')
  assert.equal(ship!.last, 'POINT(0.03 0)')
  const shapes = await sql(`SELECT name, ST_Area(shape) AS planar, ST_AreaSpheroid(shape) AS m2, ST_Contains(shape, 'POINT(0.5 0.5)') AS inside,
    ST_Intersects(shape, 'LINESTRING(2 2, 3 3)') AS touches, ST_AsBinary('POINT(1 2)') AS wkb,
    ST_DistanceSpheroid('POINT(174.81 -41.32)', 'POINT(-5.50 40.96)') AS wellington_salamanca FROM zone`)
  assert.equal(shapes.status, 200, shapes.body)
  const [cell] = shapes.rows
  assert.equal(cell!.planar, 1)
  // The 1° cell at the equator: 12308463894 m² between the parallels; its geodesic top edge adds ~3e-5.
  near(cell!.m2, 12308463894, 12308463894 * 5e-5, 'geodesic area')
  assert.equal(cell!.inside, true)
  assert.equal(cell!.touches, false)
  assert.equal(cell!.wkb, '0101000000000000000000f03f0000000000000040')
  // GeographicLib's documented example: "The distance is 19959679.267 m."
  near(cell!.wellington_salamanca, 19959679.267, 0.001, 'geodesic distance')
})

test('bad input to the new functions is a 422 naming the function', async () => {
  const percentile = await sql('SELECT percentile(n, 90) FROM req')
  assert.equal(percentile.status, 422, percentile.body)
  assert.match(percentile.body, /percentile.*p must be a number from 0 to 1/)
  const notGeometry = await sql('SELECT ST_Area(host) FROM req')
  assert.equal(notGeometry.status, 422, notGeometry.body)
  assert.match(notGeometry.body, /ST_Area: '[ab]' is not a geometry/)
  const noRange = await sql(`SELECT time_window_gapfill(time, '10s') AS w, locf(max(n)) FROM req GROUP BY w`)
  assert.equal(noRange.status, 422, noRange.body)
  assert.match(noRange.body, /time range/)
})
