// The functions of issue 6 over a real partition store, on small series whose answers are worked
// out by hand in the comments: value aggregates, counters and gauges, gap filling, hopping
// windows, date/time functions and the space-time functions and track aggregates.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Field, Tag } from '../schemas/index.ts'
import { canonicalSeriesKey, openPartitionStore } from '../sinks/index.ts'
import { executeSql, type QueryContext } from './execute.ts'
import { QueryErrorCode, isQueryError } from './errors.ts'
import { parseGeometry, shapeOf } from './geo.ts'
import type { Value } from './result.ts'

const T0 = 1_700_000_000_000_000_000n
const SECOND = 1_000_000_000n
const MINUTE = 60n * SECOND

interface SeriesData {
  measurement: string
  tags: Tag[]
  points: [bigint, Field[]][]
}

/** One store holding `series`, flushed (blocks of 4 points, so several blocks) with the last series left in the memtable. */
async function contextWith(t: { after: (fn: () => Promise<void>) => void }, series: SeriesData[]): Promise<QueryContext> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-query-fns-'))
  const store = await openPartitionStore(dir, { partition: 0, fsync: false, blockMaxPoints: 4, autoCompact: false })
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  let offset = 0n
  for (const [i, s] of series.entries()) {
    await store.apply({
      ingestPartition: 0, ingestOffset: offset, command: null,
      upsert: { tenant: 't', database: 'db', measurement: s.measurement, seriesKey: canonicalSeriesKey(s.measurement, s.tags), tags: s.tags, points: s.points.map(([timeNs, fields]) => ({ timeNs, fields })), pointsIn: s.points.length },
    }, offset++)
    if (i === series.length - 2) await store.flush()
  }
  return { tenant: 't', database: 'db', stores: [store], nowNs: T0 + 3600n * SECOND }
}

const host = (name: string): Tag[] => [{ key: 'host', value: name }]
const values = (name: string, times: bigint[], vs: (number | bigint | string)[]): [bigint, Field[]][] =>
  vs.map((v, i) => [times[i]!, [{ name, value: v }]])
const seconds = (...s: number[]): bigint[] => s.map((x) => T0 + BigInt(x) * SECOND)

async function rows(context: QueryContext, sql: string, usePreAggregates = true): Promise<Value[][]> {
  return (await executeSql(sql, { ...context, usePreAggregates })).rows
}

function near(actual: Value, expected: number, tolerance: number, what: string): void {
  assert.equal(typeof actual, 'number', `${what}: ${String(actual)}`)
  assert.ok(Math.abs((actual as number) - expected) <= tolerance, `${what}: ${String(actual)} vs ${expected}`)
}

test('median, mode, stddev, stddev_pop, spread and percentile on a small set', async (t) => {
  // v = 1, 2, 2, 3, 4, 7, 9 (written out of order): mean 4, squared deviations 9+4+4+1+0+9+25 = 52.
  const context = await contextWith(t, [
    { measurement: 'm', tags: host('a'), points: values('v', seconds(0, 1, 2, 3, 4, 5, 6), [7, 2, 9, 1, 4, 2, 3]) },
    { measurement: 'm', tags: host('b'), points: values('v', seconds(0, 1, 2, 3), [4, 1, 3, 2]) },
    { measurement: 'm', tags: host('c'), points: [[T0, [{ name: 'v', value: 5 }, { name: 'n', value: 3n }, { name: 's', value: 'x' }]], [T0 + SECOND, [{ name: 'v', value: 5 }, { name: 'n', value: 10n }, { name: 's', value: 'y' }]], [T0 + 2n * SECOND, [{ name: 'v', value: 5 }, { name: 'n', value: 3n }, { name: 's', value: 'y' }]]] },
  ])
  for (const pre of [true, false]) {
    const sql = `SELECT host, median(v), mode(v), stddev(v), stddev_pop(v), spread(v), percentile(v, 0.9), percentile(v, 0.25), percentile(v, 0) FROM m GROUP BY host ORDER BY host`
    const [a, b, c] = await rows(context, sql, pre)
    // a: sorted 1 2 2 3 4 7 9; median the 4th = 3; mode 2; sample variance 52/6, population 52/7;
    // spread 9 − 1 = 8; p90: h = 6 × 0.9 = 5.4 → 7 + 0.4 × (9 − 7) = 7.8; p25: h = 1.5 → 2.
    assert.deepEqual(a!.slice(0, 3), ['a', 3, 2])
    near(a![3]!, Math.sqrt(52 / 6), 1e-12, 'stddev')
    near(a![4]!, Math.sqrt(52 / 7), 1e-12, 'stddev_pop')
    assert.equal(a![5], 8)
    near(a![6]!, 7.8, 1e-12, 'p90')
    assert.deepEqual(a!.slice(7), [2, 1])
    // b: 1 2 3 4: median (2 + 3) / 2 = 2.5; every value once, so the smallest: 1; stddev of 1..4 = sqrt(5/3).
    assert.deepEqual(b!.slice(0, 3), ['b', 2.5, 1])
    near(b![3]!, Math.sqrt(5 / 3), 1e-12, 'stddev b')
    // c: one value thrice: no spread, no deviation.
    assert.deepEqual(c, ['c', 5, 5, 0, 0, 0, 5, 5, 5])
  }
  // Integers keep their type in mode and spread; strings have a mode.
  assert.deepEqual(await rows(context, `SELECT mode(n), spread(n), mode(s), median(n) FROM m WHERE host = 'c'`), [[3n, 7n, 'y', 3]])
  // A single value has no sample deviation.
  assert.deepEqual(await rows(context, `SELECT stddev(v), stddev_pop(v) FROM m WHERE host = 'a' AND time < ${T0 + SECOND}`), [[null, 0]])
})

test('increase and irate: a drop is a counter restarting from 0, per series, then summed', async (t) => {
  const context = await contextWith(t, [
    // a: 10 15 20 | 3 8 12 → steps 5, 5, then a reset: +3, then 5, 4 → 22. irate: (12 − 8) / 1 s = 4.
    { measurement: 'c', tags: host('a'), points: values('n', seconds(0, 1, 2, 3, 4, 5), [10, 15, 20, 3, 8, 12]) },
    // b: 100 110 5 at 0, 10, 20 s → 10, then a reset: +5 → 15. irate: the last pair drops, so 5 / 10 s = 0.5.
    { measurement: 'c', tags: host('b'), points: values('n', seconds(0, 10, 20), [100, 110, 5]) },
  ])
  assert.deepEqual(await rows(context, 'SELECT host, increase(n), irate(n) FROM c GROUP BY host ORDER BY host'), [['a', 22, 4], ['b', 15, 0.5]])
  // Without GROUP BY the two counters are summed, not interleaved: 22 + 15.
  assert.deepEqual(await rows(context, 'SELECT increase(time, n) FROM c'), [[37]])
  // Per 10-second bucket, only the points inside it count: a's six points are all in [0, 10 s).
  assert.deepEqual(await rows(context, `SELECT host, date_bin(INTERVAL '10 seconds', time) AS b, increase(n) FROM c GROUP BY host, b ORDER BY host, b`),
    [['a', T0, 22], ['b', T0, null], ['b', T0 + 10n * SECOND, null], ['b', T0 + 20n * SECOND, null]])
})

test('gauge_agg and its accessors (CnosDB): first, second, penultimate, last points and their count', async (t) => {
  const context = await contextWith(t, [
    { measurement: 'g', tags: host('a'), points: values('v', seconds(0, 1, 2, 3, 4, 5), [10, 15, 20, 3, 8, 12]) },
    { measurement: 'g', tags: host('b'), points: values('v', seconds(7), [1]) },
  ])
  const sql = `SELECT host, delta(gauge_agg(time, v)), time_delta(gauge_agg(time, v)), rate(gauge_agg(time, v)), idelta_left(gauge_agg(time, v)),
    idelta_right(gauge_agg(time, v)), first_val(gauge_agg(time, v)), last_val(gauge_agg(time, v)), first_time(gauge_agg(time, v)),
    last_time(gauge_agg(time, v)), num_elements(gauge_agg(time, v)) FROM g GROUP BY host ORDER BY host`
  const result = await executeSql(sql, context)
  // a: delta 12 − 10 = 2 over 5 s; rate per nanosecond as CnosDB: 2 / 5e9; idelta_left 15 − 10, idelta_right 12 − 8.
  assert.deepEqual(result.rows, [
    ['a', 2, 5n * SECOND, 2 / 5e9, 5, 4, 10, 12, T0, T0 + 5n * SECOND, 6n],
    ['b', 0, 0n, null, null, null, 1, 1, T0 + 7n * SECOND, T0 + 7n * SECOND, 1n],
  ])
  assert.deepEqual(result.columns.map((c) => c.type), ['string', 'float', 'integer', 'float', 'float', 'float', 'float', 'float', 'timestamp', 'timestamp', 'integer'])
  assert.equal(result.columns[1]!.name, 'delta(gauge_agg(time, v))')
  const [[summary]] = await rows(context, `SELECT gauge_agg(time, v) FROM g WHERE host = 'a'`) as [[string]]
  assert.deepEqual(JSON.parse(summary), {
    first: { ts: String(T0), val: 10 }, second: { ts: String(T0 + SECOND), val: 15 },
    penultimate: { ts: String(T0 + 4n * SECOND), val: 8 }, last: { ts: String(T0 + 5n * SECOND), val: 12 }, num_elements: 6,
  })
})

test('gap filling: time_window_gapfill and date_bin_gapfill with interpolate and locf', async (t) => {
  // a: 1 at minute 0, 4 at minute 3; b: 10 at minute 1 (minutes from M0, T0 floored to the minute).
  const M0 = T0 - (T0 % MINUTE)
  const context = await contextWith(t, [
    { measurement: 'f', tags: host('a'), points: values('v', [M0, M0 + 3n * MINUTE], [1, 4]) },
    { measurement: 'f', tags: host('b'), points: values('v', [M0 + MINUTE + SECOND], [10]) },
  ])
  const range = `time >= ${M0} AND time < ${M0 + 5n * MINUTE}`
  const minute = (i: number): bigint => M0 + BigInt(i) * MINUTE
  assert.deepEqual(await rows(context, `SELECT time_window_gapfill(time, '1m') AS w, avg(v), interpolate(avg(v)), locf(avg(v)), count(v) FROM f WHERE host = 'a' AND ${range} GROUP BY w ORDER BY w`), [
    [minute(0), 1, 1, 1, 1n],
    [minute(1), null, 2, 1, null],
    [minute(2), null, 3, 1, null],
    [minute(3), 4, 4, 4, 1n],
    [minute(4), null, null, 4, null],
  ])
  // Per group: b's only value is carried forward and nothing comes before it.
  assert.deepEqual(await rows(context, `SELECT host, date_bin_gapfill(INTERVAL '1 minute', time) AS w, locf(max(v)) FROM f WHERE ${range} GROUP BY host, w ORDER BY host, w`), [
    ['a', minute(0), 1], ['a', minute(1), 1], ['a', minute(2), 1], ['a', minute(3), 4], ['a', minute(4), 4],
    ['b', minute(0), null], ['b', minute(1), 10], ['b', minute(2), 10], ['b', minute(3), 10], ['b', minute(4), 10],
  ])
  // Hopping and gap-filled: M0 is 22:13, a's points are at 22:13 and 22:16; 10-minute windows every
  // 5 minutes meeting [22:13, 22:33) start at 22:05, 22:10, ..., 22:30; 22:13 is in the first two,
  // 22:16 in 22:10 and 22:15.
  const hopping = await rows(context, `SELECT time_window_gapfill(time, '10m', '5m') AS w, count(v), locf(sum(v)) FROM f WHERE host = 'a' AND time >= ${M0} AND time < ${M0 + 20n * MINUTE} GROUP BY w ORDER BY w`)
  const at = (hhmm: number): bigint => M0 - 13n * MINUTE + BigInt(hhmm) * MINUTE
  assert.deepEqual(hopping, [[at(5), 1n, 1], [at(10), 2n, 5], [at(15), 1n, 4], [at(20), null, 4], [at(25), null, 4], [at(30), null, 4]])
})

test('hopping time_window: a point belongs to every window that covers it', async (t) => {
  // v = i at T0 + i minutes, i = 0..9, T0 = 22:13:20. Windows of 10 minutes start every 5 minutes:
  // [22:05, 22:15) holds i = 0, 1; [22:10, 22:20) 0..6; [22:15, 22:25) 2..9; [22:20, 22:30) 7..9.
  const context = await contextWith(t, [
    { measurement: 'h', tags: host('a'), points: values('v', Array.from({ length: 10 }, (_, i) => T0 + BigInt(i) * MINUTE), Array.from({ length: 10 }, (_, i) => i)) },
  ])
  const base = T0 - (T0 % (5n * MINUTE))
  assert.equal(base, T0 - 200n * SECOND, 'T0 is 22:13:20: the window starts at 22:10:00 and every 5 minutes')
  for (const pre of [true, false]) {
    const result = await rows(context, `SELECT time_window(time, '10m', '5m') AS w, count(v), sum(v), count(*) FROM h GROUP BY w ORDER BY w`, pre)
    const expected: Value[][] = []
    for (let start = base - 5n * MINUTE; start <= T0 + 9n * MINUTE; start += 5n * MINUTE) {
      const inside = Array.from({ length: 10 }, (_, i) => i).filter((i) => T0 + BigInt(i) * MINUTE >= start && T0 + BigInt(i) * MINUTE < start + 10n * MINUTE)
      if (inside.length > 0) expected.push([start, BigInt(inside.length), inside.reduce((a, b) => a + b, 0), BigInt(inside.length)])
    }
    assert.deepEqual(expected.map((r) => r[1]), [2n, 7n, 8n, 3n], 'the four windows hold 2, 7, 8 and 3 points')
    assert.deepEqual(result, expected)
    // A slide longer than the window leaves gaps: 1-minute windows every 3 minutes from 22:12 hold
    // only the points at 22:15:20 (i = 2), 22:18:20 (5) and 22:21:20 (8).
    const sparse = await rows(context, `SELECT time_window(time, '1m', '3m') AS w, count(v), sum(v) FROM h GROUP BY w ORDER BY w`, pre)
    const at = (hhmm: bigint): bigint => base + hhmm * MINUTE
    assert.deepEqual(sparse, [[at(5n), 1n, 2], [at(8n), 1n, 5], [at(11n), 1n, 8]])
  }
})

test('date_part, extract, to_timestamp and now()', async (t) => {
  // 1700000000123456789 ns is Tuesday 2023-11-14T22:13:20.123456789Z, day 318 of the year, ISO week 46.
  const at = 1_700_000_000_123_456_789n
  const context = await contextWith(t, [
    { measurement: 'd', tags: host('a'), points: [[at, [{ name: 'secs', value: 1.5 }, { name: 'ms', value: 1_700_000_000_123n }]]] },
  ])
  const result = await executeSql(`SELECT date_part('hour', time) AS h, extract(minute FROM time) AS m, date_part('second', time), date_part('millisecond', time),
    date_part('nanosecond', time), date_part('dow', time), date_part('doy', time), date_part('week', time), date_part('year', time), date_part('month', time),
    date_part('day', time), date_part('quarter', time), to_timestamp(secs), to_timestamp_millis(ms), to_timestamp(1700000000), to_timestamp_micros(5),
    to_timestamp('2023-11-14T22:13:20Z'), now(), date_part('hour', to_timestamp(3600)), to_timestamp(time) FROM d`, context)
  assert.deepEqual(result.rows, [[22, 13, 20, 20123, 20123456789, 2, 318, 46, 2023, 11, 14, 4, 1_500_000_000n, 1_700_000_000_123_000_000n,
    1_700_000_000_000_000_000n, 5000n, 1_700_000_000_000_000_000n, T0 + 3600n * SECOND, 1, at]])
  assert.deepEqual(result.columns.slice(0, 2), [{ name: 'h', type: 'float' }, { name: 'm', type: 'float' }])
  assert.equal(result.columns[12]!.type, 'timestamp')
  const epoch = await rows(context, `SELECT date_part('epoch', time) FROM d`)
  near(epoch[0]![0]!, 1_700_000_000.123456789, 1e-6, 'epoch')
})

// A ship along the equator: 0.01° of longitude there is a·π/18000 = 1113.1949079327358 m (the
// equator is a geodesic), so legs of 0.01° in 10 s and 0.02° in 10 s.
const EQUATOR_DEGREE_M = (6378137 * Math.PI) / 180

test('track aggregates: distance travelled, max and average speed, position at a time', async (t) => {
  const context = await contextWith(t, [
    { measurement: 'ship', tags: host('s1'), points: values('pos', seconds(0, 10, 20), ['POINT(0 0)', 'POINT(0.01 0)', '0101000000b81e85eb51b89e3f0000000000000000']) },
    { measurement: 'ship', tags: host('s2'), points: values('pos', seconds(0), ['POINT(10 10)']) },
  ])
  const [s1, s2] = await rows(context, `SELECT host, st_track_length(time, pos), st_max_speed(time, pos), st_avg_speed(time, pos), st_position_at(time, pos, ${T0 + 5n * SECOND}),
    st_position_at(time, pos, ${T0 + 20n * SECOND}), st_position_at(time, pos, ${T0 + 21n * SECOND}) FROM ship GROUP BY host ORDER BY host`)
  near(s1![1]!, 0.03 * EQUATOR_DEGREE_M, 1e-6, 'track length')
  near(s1![2]!, (0.02 * EQUATOR_DEGREE_M) / 10, 1e-7, 'max speed')
  near(s1![3]!, (0.03 * EQUATOR_DEGREE_M) / 20, 1e-7, 'average speed')
  const halfway = shapeOf(parseGeometry(s1![4] as string, 'test')).points[0]!
  near(halfway[0], 0.005, 1e-12, 'longitude halfway along the first leg')
  near(halfway[1], 0, 1e-12, 'latitude')
  assert.equal(s1![5], 'POINT(0.03 0)', 'a fix at that time')
  assert.equal(s1![6], null, 'after the track')
  assert.deepEqual(s2, ['s2', 0, null, null, null, null, null])
  // Per bucket the track is cut: 15-second bins from the epoch put the fix at 0 s (22:13:20) alone in
  // [22:13:15, 22:13:30), and those at 10 and 20 s together in the next bin.
  const perBucket = await rows(context, `SELECT date_bin(INTERVAL '15 seconds', time) AS b, st_track_length(time, pos) FROM ship WHERE host = 's1' GROUP BY b ORDER BY b`)
  assert.deepEqual(perBucket.map((r) => r[0]), [T0 - 5n * SECOND, T0 + 10n * SECOND])
  assert.equal(perBucket[0]![1], 0)
  near(perBucket[1]![1]!, 0.02 * EQUATOR_DEGREE_M, 1e-6, 'the second bin travels 0.02°')
})

test('gauge_agg over two series of one group interleaves their points by time', async (t) => {
  const context = await contextWith(t, [
    { measurement: 'g', tags: host('a'), points: values('v', seconds(0, 2, 4), [10, 30, 50]) },
    { measurement: 'g', tags: host('b'), points: values('v', seconds(1, 5), [20, 5]) },
  ])
  // In time order: 10 (a, 0 s), 20 (b, 1 s), 30 (a), 50 (a, 4 s), 5 (b, 5 s).
  assert.deepEqual(await rows(context, 'SELECT delta(gauge_agg(time, v)), idelta_left(gauge_agg(time, v)), idelta_right(gauge_agg(time, v)), num_elements(gauge_agg(time, v)), irate(v), increase(v) FROM g'),
    // irate: the last two in time are 50 then 5, a drop: 5 / 1 s. increase per series: a 20 + 20, b a reset: 5.
    [[-5, 10, -45, 5n, 5, 45]])
})

test('ST_* scalar functions over stored WKT and WKB', async (t) => {
  const context = await contextWith(t, [
    { measurement: 'geo', tags: host('a'), points: [[T0, [{ name: 'shape', value: 'POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))' }, { name: 'p', value: 'POINT(0.5 0.5)' }]]] },
    { measurement: 'geo', tags: host('b'), points: [[T0, [{ name: 'shape', value: 'LINESTRING(0 0, 3 4)' }, { name: 'p', value: '0101000000000000000000f03f0000000000000040' }, { name: 'missing', value: 'POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))' }]]] },
  ])
  const result = await executeSql(`SELECT host, ST_Area(shape), ST_Length(shape), ST_AsText(p), ST_AsBinary(p), ST_Contains(shape, p), ST_Within(p, shape),
    ST_Intersects(shape, 'POINT(3 4)'), ST_Disjoint(shape, 'POINT(5 5)'), ST_Equals(ST_GeomFromText(shape), shape), ST_Distance(p, 'POINT(0.5 3.5)'),
    ST_GeomFromWKB('\\x0101000000000000000000f03f0000000000000040'::bytea), ST_X(p), ST_Y(p) FROM geo ORDER BY host`, context)
  // A row without the field gives null.
  assert.deepEqual(await rows(context, `SELECT host, ST_AsText(shape), ST_Area(missing) FROM geo ORDER BY host`), [['a', 'POLYGON((0 0,1 0,1 1,0 1,0 0))', null], ['b', 'LINESTRING(0 0,3 4)', 1]])
  assert.deepEqual(result.rows, [
    ['a', 1, 0, 'POINT(0.5 0.5)', '0101000000000000000000e03f000000000000e03f', true, true, false, true, true, 3, 'POINT(1 2)', 0.5, 0.5],
    ['b', 0, 5, 'POINT(1 2)', '0101000000000000000000f03f0000000000000040', false, false, true, true, true, Math.hypot(0.5, 1.5), 'POINT(1 2)', 1, 2],
  ])
  // Geodesic forms: Wellington to Salamanca (GeographicLib's README: 19959679.267 m); the 1° cell at the equator.
  const [[d1, d2, area, length]] = await rows(context, `SELECT ST_DistanceSpheroid('POINT(174.81 -41.32)', 'POINT(-5.50 40.96)'), ST_Distance('POINT(174.81 -41.32)', 'POINT(-5.50 40.96)', true),
    ST_AreaSpheroid(shape), ST_Length('LINESTRING(0 0, 0.01 0)', true) FROM geo WHERE host = 'a'`)
  near(d1!, 19959679.267, 0.001, 'ST_DistanceSpheroid')
  assert.equal(d2, d1)
  // The cell's area between the parallels (authalic zone formula, as in geo.test.ts) is 12308463894.0 m²;
  // its northern edge is a geodesic, not the parallel, so the two differ by ~3e-5 relative.
  near(area!, 12308463894.0, 12308463894.0 * 5e-5, 'ST_AreaSpheroid of the 1° cell')
  near(length!, 0.01 * EQUATOR_DEGREE_M, 1e-6, 'ST_Length(..., true)')
})

test('refusals of the new functions name the part at fault', async (t) => {
  const context = await contextWith(t, [
    { measurement: 'm', tags: host('a'), points: [[T0, [{ name: 'v', value: 1 }, { name: 's', value: 'not a geometry' }]]] },
  ])
  const cases: [string, string, RegExp][] = [
    ['SELECT percentile(v, 90) FROM m', QueryErrorCode.BAD_VALUE, /0 to 1/],
    ['SELECT delta(v) FROM m', QueryErrorCode.UNSUPPORTED, /gauge_agg\(time, value\)/],
    ['SELECT stddev(s) FROM m', QueryErrorCode.TYPE_MISMATCH, /stddev/],
    ['SELECT st_track_length(time, v) FROM m', QueryErrorCode.TYPE_MISMATCH, /POINT/],
    ['SELECT st_max_speed(v) FROM m', QueryErrorCode.UNSUPPORTED, /st_max_speed\(time, position\)/],
    ["SELECT time_window_gapfill(time, '1m') AS w, avg(v) FROM m GROUP BY w", QueryErrorCode.UNSUPPORTED, /time range/],
    ["SELECT date_bin(INTERVAL '1 minute', time) AS w, locf(avg(v)) FROM m GROUP BY w", QueryErrorCode.UNSUPPORTED, /gapfill/],
    [`SELECT time_window_gapfill(time, '1m') AS w, interpolate(max(s)) FROM m WHERE time >= ${T0} AND time < ${T0 + MINUTE} GROUP BY w`, QueryErrorCode.TYPE_MISMATCH, /locf/],
    ['SELECT ST_Area(s) FROM m', QueryErrorCode.BAD_VALUE, /ST_Area: 'not a geometry'/],
    ['SELECT ST_Area(v) FROM m', QueryErrorCode.TYPE_MISMATCH, /geometry/],
    ["SELECT ST_DistanceSpheroid('LINESTRING(0 0, 1 1)', 'POINT(0 0)') FROM m", QueryErrorCode.BAD_VALUE, /POINT/],
    ["SELECT date_part('fortnight', time) FROM m", QueryErrorCode.BAD_VALUE, /fortnight/],
    ['SELECT date_part(s, time) FROM m', QueryErrorCode.BAD_VALUE, /constant/],
    ['SELECT to_timestamp(s) FROM m', QueryErrorCode.BAD_VALUE, /RFC 3339/],
    ['SELECT ST_AsText(v), count(v) FROM m', QueryErrorCode.UNSUPPORTED, /GROUP BY tags/],
    ['SELECT ST_Buffer(s, 1) FROM m', QueryErrorCode.UNSUPPORTED, /st_buffer/],
    ["SELECT date_part('hour', time) AS h, count(v) FROM m GROUP BY h", QueryErrorCode.UNSUPPORTED, /GROUP BY h \(date_part/],
    ['SELECT to_timestamp(1e300) FROM m', QueryErrorCode.BAD_VALUE, /timestamp range/],
    ['SELECT to_timestamp_millis(9223372036854775807) FROM m', QueryErrorCode.BAD_VALUE, /timestamp range/],
    ["SELECT ST_Distance(s, s, 'yes') FROM m", QueryErrorCode.TYPE_MISMATCH, /use_spheroid/],
    ["SELECT date_part('hour', v) FROM m", QueryErrorCode.TYPE_MISMATCH, /timestamp/],
    ["SELECT st_position_at(time, s, 'soon') FROM m", QueryErrorCode.BAD_VALUE, /RFC 3339/],
    ["SELECT percentile(v, '0.5') FROM m", QueryErrorCode.BAD_VALUE, /0 to 1/],
    ['SELECT st_max_speed(time, s) FROM m', QueryErrorCode.BAD_VALUE, /st_max_speed: 'not a geometry'/],
  ]
  for (const [sql, code, message] of cases) {
    await assert.rejects(executeSql(sql, context), (error: unknown) => {
      assert.ok(isQueryError(error), `${sql}: ${String(error)}`)
      assert.equal(error.code, code, `${sql}: ${error.message}`)
      assert.match(error.message, message, sql)
      return true
    })
  }
})
