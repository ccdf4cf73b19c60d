// executeInfluxql over two partition stores holding the small data set below. The expected answers
// are what InfluxDB 1.6.7 answered for the same points and statements (written with precision=s),
// so fill, selector times, tie rules and series shapes are checked against the real thing; the
// oracle test in integration/ does the same at scale against a running influxd.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogEntry, Field, Tag } from '../../schemas/index.ts'
import { canonicalSeriesKey, openPartitionStore, type PartitionStore } from '../../sinks/index.ts'
import { executeInfluxql, type InfluxqlContext } from './execute.ts'
import { literalAlternatives } from './select.ts'

const S = 1_000_000_000n

/** cpu,host=a,region=x v=1,i=10i 1000 ... as written to influxd. */
const LINES: Array<[string, Array<[string, string]>, Field[], number]> = [
  ['cpu', [['host', 'a'], ['region', 'x']], [{ name: 'v', value: 1 }, { name: 'i', value: 10n }], 1000],
  ['cpu', [['host', 'b'], ['region', 'x']], [{ name: 'v', value: 5 }, { name: 'i', value: 3n }], 1000],
  ['cpu', [['host', 'a'], ['region', 'x']], [{ name: 'v', value: 2 }, { name: 'i', value: 7n }], 1010],
  ['cpu', [['host', 'b'], ['region', 'y']], [{ name: 'v', value: 3 }], 1020],
  ['cpu', [['host', 'a'], ['region', 'x']], [{ name: 'v', value: 2 }], 1100],
  ['mem', [['host', 'a']], [{ name: 'free', value: 3n }], 1000],
  ['cpu', [['host', 'a'], ['region', 'x']], [{ name: 'v', value: 4 }, { name: 'i', value: 1n }], 1130],
  ['cpu', [['host', 'a'], ['region', 'x']], [{ name: 'i', value: 20n }], 1150],
]

/** st,host=a v=3,i=3i 100 ... for median, mode, stddev and percentile. */
const SPREAD_LINES: typeof LINES = [
  ['st', [['host', 'a']], [{ name: 'v', value: 3 }, { name: 'i', value: 3n }], 100],
  ['st', [['host', 'a']], [{ name: 'v', value: 1 }, { name: 'i', value: 1n }], 110],
  ['st', [['host', 'a']], [{ name: 'v', value: 3 }, { name: 'i', value: 3n }], 120],
  ['st', [['host', 'a']], [{ name: 'v', value: 2 }, { name: 'i', value: 2n }], 130],
  ['st', [['host', 'b']], [{ name: 'v', value: 1 }, { name: 'i', value: 1n }], 100],
  ['st', [['host', 'c']], [{ name: 'v', value: 9 }, { name: 'i', value: 9n }], 500],
]

async function context(t: { after: (fn: () => Promise<void>) => void }, lines = LINES): Promise<InfluxqlContext> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-influxql-'))
  const stores: PartitionStore[] = []
  for (const partition of [0, 1]) stores.push(await openPartitionStore(join(dir, String(partition)), { partition, fsync: false, blockMaxPoints: 2, autoCompact: false }))
  t.after(async () => { for (const s of stores) await s.close(); rmSync(dir, { recursive: true, force: true }) })
  const offsets = [0n, 0n]
  for (const [index, [measurement, pairs, fields, seconds]] of lines.entries()) {
    const tags: Tag[] = pairs.map(([key, value]) => ({ key, value }))
    const entry: ChangelogEntry = {
      ingestPartition: 0, ingestOffset: 0n, command: null,
      upsert: { tenant: 't', database: 'db', measurement, seriesKey: canonicalSeriesKey(measurement, tags), tags, points: [{ timeNs: BigInt(seconds) * S, fields }], pointsIn: 1 },
    }
    const partition = pairs.some(([, v]) => v === 'b') ? 1 : 0
    await stores[partition]!.apply(entry, offsets[partition]!++)
    if (index === 3) for (const s of stores) await s.flush()
  }
  return {
    tenant: 't', database: 'db', epoch: null, stores, nowNs: 2000n * S,
    databases: async () => ['db'], hasDatabase: async (name) => name === 'db', createDatabase: async () => {}, authorizeRead: () => {},
  }
}

const run = async (c: InfluxqlContext, q: string, epoch: string | null = null): Promise<unknown> => JSON.parse(await executeInfluxql(q, { ...c, epoch }))

test('aggregates, selector times and first/last ties as InfluxDB 1.6 answers them', async (t) => {
  const c = await context(t)
  const series = (columns: string[], values: unknown[][]): unknown => ({ results: [{ statement_id: 0, series: [{ name: 'cpu', columns, values }] }] })
  assert.deepEqual(await run(c, 'SELECT max(v) FROM cpu WHERE time <= 1120s'), series(['time', 'max'], [['1970-01-01T00:16:40Z', 5]]))
  assert.deepEqual(await run(c, 'SELECT max(v),min(v) FROM cpu WHERE time <= 1120s'), series(['time', 'max', 'min'], [['1970-01-01T00:00:00Z', 5, 1]]))
  assert.deepEqual(await run(c, 'SELECT first(v) FROM cpu'), series(['time', 'first'], [['1970-01-01T00:16:40Z', 5]]))
  assert.deepEqual(await run(c, 'SELECT mean(v) FROM "db"."autogen"."cpu" WHERE time >= 500s AND time <= 1120s'), series(['time', 'mean'], [['1970-01-01T00:08:20Z', 2.6]]))
  assert.deepEqual(await run(c, 'SELECT max(v) FROM cpu GROUP BY host'), {
    results: [{ statement_id: 0, series: [
      { name: 'cpu', tags: { host: 'a' }, columns: ['time', 'max'], values: [['1970-01-01T00:18:50Z', 4]] },
      { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'max'], values: [['1970-01-01T00:16:40Z', 5]] },
    ] }],
  })
})

test('fill(null|none|previous|number|linear) per column, count filled with 0, integers interpolated as integers', async (t) => {
  const c = await context(t)
  const range = 'FROM cpu WHERE time >= 990s and time <= 1160s GROUP BY time(30s)'
  const values = async (q: string): Promise<unknown> => ((await run(c, q)) as { results: Array<{ series: Array<{ values: unknown }> }> }).results[0]!.series[0]!.values
  assert.deepEqual(await values(`SELECT count(v) ${range}`), [['1970-01-01T00:16:30Z', 3], ['1970-01-01T00:17:00Z', 1], ['1970-01-01T00:17:30Z', 0], ['1970-01-01T00:18:00Z', 1], ['1970-01-01T00:18:30Z', 1], ['1970-01-01T00:19:00Z', 0]])
  assert.deepEqual(await values(`SELECT sum(i) ${range} fill(linear)`), [['1970-01-01T00:16:30Z', 20], ['1970-01-01T00:17:00Z', 15], ['1970-01-01T00:17:30Z', 10], ['1970-01-01T00:18:00Z', 5], ['1970-01-01T00:18:30Z', 1], ['1970-01-01T00:19:00Z', 20]])
  assert.deepEqual(await values(`SELECT count(v) ${range} fill(none)`), [['1970-01-01T00:16:30Z', 3], ['1970-01-01T00:17:00Z', 1], ['1970-01-01T00:18:00Z', 1], ['1970-01-01T00:18:30Z', 1]])
  const mean = 6.666666666666667
  assert.deepEqual(await values(`SELECT count(v),mean(i) ${range} fill(previous)`), [['1970-01-01T00:16:30Z', 3, mean], ['1970-01-01T00:17:00Z', 1, mean], ['1970-01-01T00:17:30Z', 1, mean], ['1970-01-01T00:18:00Z', 1, mean], ['1970-01-01T00:18:30Z', 1, 1], ['1970-01-01T00:19:00Z', 1, 20]])
  assert.deepEqual(await values(`SELECT count(v),mean(i) ${range} fill(7)`), [['1970-01-01T00:16:30Z', 3, mean], ['1970-01-01T00:17:00Z', 1, 7], ['1970-01-01T00:17:30Z', 7, 7], ['1970-01-01T00:18:00Z', 1, 7], ['1970-01-01T00:18:30Z', 1, 1], ['1970-01-01T00:19:00Z', 7, 20]])
  assert.deepEqual(await values(`SELECT count(v),mean(i) ${range} fill(none)`), [['1970-01-01T00:16:30Z', 3, mean], ['1970-01-01T00:17:00Z', 1, null], ['1970-01-01T00:18:00Z', 1, null], ['1970-01-01T00:18:30Z', 1, 1], ['1970-01-01T00:19:00Z', null, 20]])
})

test('GROUP BY time and tags with ORDER BY time DESC, LIMIT, offsets and epochs', async (t) => {
  const c = await context(t)
  assert.deepEqual(await run(c, 'SELECT max(v) FROM cpu WHERE time >= 990s and time <= 1160s GROUP BY time(30s), host fill(none) ORDER BY time DESC LIMIT 2', 's'), {
    results: [{ statement_id: 0, series: [
      { name: 'cpu', tags: { host: 'b' }, columns: ['time', 'max'], values: [[1020, 3], [990, 5]] },
      { name: 'cpu', tags: { host: 'a' }, columns: ['time', 'max'], values: [[1110, 4], [1080, 2]] },
    ] }],
  })
  assert.deepEqual(await run(c, 'SELECT last(v) FROM cpu WHERE time >= 990s and time <= 1160s GROUP BY time(1m, 15s) fill(null)', 'ms'), {
    results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'last'], values: [[975000, 3], [1035000, null], [1095000, 4], [1155000, null]] }] }],
  })
})

test('raw selections, *, tag filters with OR and regex, and several statements', async (t) => {
  const c = await context(t)
  assert.deepEqual(await run(c, "SELECT * FROM cpu WHERE time <= 1120s AND (host = 'b' OR region =~ /^x$/)"), {
    results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'host', 'i', 'region', 'v'], values: [
      ['1970-01-01T00:16:40Z', 'a', 10, 'x', 1], ['1970-01-01T00:16:40Z', 'b', 3, 'x', 5], ['1970-01-01T00:16:50Z', 'a', 7, 'x', 2],
      ['1970-01-01T00:17:00Z', 'b', null, 'y', 3], ['1970-01-01T00:18:20Z', 'a', null, 'x', 2],
    ] }] }],
  })
  assert.deepEqual(await run(c, "SELECT \"v\" FROM cpu WHERE host !~ /a/ GROUP BY *; SELECT mean(host) FROM cpu; SHOW MEASUREMENTS"), {
    results: [
      { statement_id: 0, series: [
        { name: 'cpu', tags: { host: 'b', region: 'x' }, columns: ['time', 'v'], values: [['1970-01-01T00:16:40Z', 5]] },
        { name: 'cpu', tags: { host: 'b', region: 'y' }, columns: ['time', 'v'], values: [['1970-01-01T00:17:00Z', 3]] },
      ] },
      { statement_id: 1 },
      { statement_id: 2, series: [{ name: 'measurements', columns: ['name'], values: [['cpu'], ['mem']] }] },
    ],
  })
})

test('SHOW statements in InfluxDB 1.6 shapes', async (t) => {
  const c = await context(t)
  assert.deepEqual(await run(c, 'SHOW TAG KEYS; SHOW TAG VALUES WITH KEY = "host"; SHOW FIELD KEYS; SHOW RETENTION POLICIES; SHOW MEASUREMENTS WITH MEASUREMENT =~ /c.*/'), {
    results: [
      { statement_id: 0, series: [{ name: 'cpu', columns: ['tagKey'], values: [['host'], ['region']] }, { name: 'mem', columns: ['tagKey'], values: [['host']] }] },
      { statement_id: 1, series: [{ name: 'cpu', columns: ['key', 'value'], values: [['host', 'a'], ['host', 'b']] }, { name: 'mem', columns: ['key', 'value'], values: [['host', 'a']] }] },
      { statement_id: 2, series: [{ name: 'cpu', columns: ['fieldKey', 'fieldType'], values: [['i', 'integer'], ['v', 'float']] }, { name: 'mem', columns: ['fieldKey', 'fieldType'], values: [['free', 'integer']] }] },
      { statement_id: 3, series: [{ columns: ['name', 'duration', 'shardGroupDuration', 'replicaN', 'default'], values: [['autogen', '0s', '168h0m0s', 1, true]] }] },
      { statement_id: 4, series: [{ name: 'measurements', columns: ['name'], values: [['cpu']] }] },
    ],
  })
  assert.deepEqual(await run(c, "SHOW TAG VALUES FROM cpu WITH KEY IN (\"host\",\"region\"); SHOW TAG VALUES WITH KEY =~ /reg/ WHERE host = 'b'"), {
    results: [
      { statement_id: 0, series: [{ name: 'cpu', columns: ['key', 'value'], values: [['host', 'a'], ['host', 'b'], ['region', 'x'], ['region', 'y']] }] },
      { statement_id: 1, series: [{ name: 'cpu', columns: ['key', 'value'], values: [['region', 'x'], ['region', 'y']] }] },
    ],
  })
})

test('errors: a parse error refuses the request with its position; a statement error ends the results', async (t) => {
  const c = await context(t)
  await assert.rejects(executeInfluxql('SELECT v FROM cpu; SELECT nope( FROM cpu', c), { code: 'SLUICE_ERR_QUERY_SYNTAX', message: 'error parsing query: found FROM, expected identifier, string, number, bool at line 1, char 33' })
  assert.deepEqual(await run({ ...c, database: 'nope' }, 'SELECT mean(v) FROM cpu; SHOW MEASUREMENTS'), { results: [{ statement_id: 0, error: 'database not found: nope' }] })
  assert.deepEqual(await run({ ...c, database: null }, 'SELECT mean(v) FROM cpu'), { results: [{ statement_id: 0, error: 'database name required' }] })
  const refused = await run(c, 'SHOW MEASUREMENTS; SELECT v FROM cpu WHERE v > 1; SHOW MEASUREMENTS') as { results: Array<{ error?: string }> }
  assert.equal(refused.results.length, 2)
  assert.match(refused.results[1]!.error!, /"v" is a field; conditions on fields are not supported/)
  await assert.rejects(executeInfluxql('SELECT v FROM cpu', { ...c, epoch: 'days' }), { code: 'SLUICE_ERR_QUERY_BAD_VALUE' })
  const tooMany = await run(c, 'SELECT count(v) FROM cpu WHERE time >= 0 AND time <= 1000000000s GROUP BY time(1ms)') as { results: Array<{ error?: string }> }
  assert.match(tooMany.results[0]!.error!, /windows over this time range/)
})

test('median, stddev, mode and percentile (a selector) as InfluxDB 1.6 computes them', async (t) => {
  const c = await context(t, SPREAD_LINES)
  const one = (columns: string[], values: unknown[][], tags?: Record<string, string>): unknown => ({ name: 'st', ...(tags ? { tags } : {}), columns, values })
  assert.deepEqual(await run(c, 'SELECT median(v), median(i), stddev(v), stddev(i) FROM st WHERE time < 400s'), {
    results: [{ statement_id: 0, series: [one(['time', 'median', 'median_1', 'stddev', 'stddev_1'], [['1970-01-01T00:00:00Z', 2, 2, 1, 1]])] }],
  })
  assert.deepEqual(await run(c, 'SELECT median(v), stddev(v), mode(v) FROM st WHERE time < 400s GROUP BY host'), {
    results: [{ statement_id: 0, series: [
      one(['time', 'median', 'stddev', 'mode'], [['1970-01-01T00:00:00Z', 2.5, 0.9574271077563381, 3]], { host: 'a' }),
      one(['time', 'median', 'stddev', 'mode'], [['1970-01-01T00:00:00Z', 1, null, 1]], { host: 'b' }),
    ] }],
  })
  assert.deepEqual(await run(c, 'SELECT percentile(v, 50) FROM st WHERE time < 400s'), { results: [{ statement_id: 0, series: [one(['time', 'percentile'], [['1970-01-01T00:02:10Z', 2]])] }] })
  assert.deepEqual(await run(c, 'SELECT percentile(i, 90), percentile(v, 10) FROM st WHERE time < 400s'), { results: [{ statement_id: 0, series: [one(['time', 'percentile', 'percentile_1'], [['1970-01-01T00:00:00Z', 3, 1]])] }] })
  const windows = await run(c, 'SELECT stddev(v) FROM st WHERE time < 400s GROUP BY time(20s) fill(0)') as { results: Array<{ series: Array<{ values: unknown[][] }> }> }
  const values = windows.results[0]!.series[0]!.values
  assert.equal(values.length, 15)
  assert.deepEqual(values.slice(0, 3), [['1970-01-01T00:01:40Z', 1.1547005383792517], ['1970-01-01T00:02:00Z', 0.7071067811865476], ['1970-01-01T00:02:20Z', 0]])
})

test('arithmetic over aggregates: fill first, then the expression; integers exact, / a float, by zero 0', async (t) => {
  const c = await context(t)
  const rows = async (q: string): Promise<unknown> => ((await run(c, q)) as { results: Array<{ series: Array<{ columns: string[]; values: unknown[][] }> }> }).results[0]!.series.map((s) => [s.columns, s.values])
  assert.deepEqual(await rows('SELECT max(v) * 2 FROM cpu WHERE time <= 1120s'), [[['time', 'max'], [['1970-01-01T00:16:40Z', 10]]]])
  assert.deepEqual(await rows('SELECT max(i) / 3, max(i) / 3.0, -max(i) / 3, max(i) / 0, max(v) / 0, max(i) * 2.5 FROM cpu WHERE time <= 1120s'), [[
    ['time', 'max', 'max_1', 'max_2', 'max_3', 'max_4', 'max_5'], [['1970-01-01T00:00:00Z', 3.3333333333333335, 3.3333333333333335, -3.3333333333333335, 0, 0, 25]],
  ]])
  const range = 'FROM cpu WHERE time >= 990s and time <= 1160s GROUP BY time(30s)'
  const times = ['1970-01-01T00:16:30Z', '1970-01-01T00:17:00Z', '1970-01-01T00:17:30Z', '1970-01-01T00:18:00Z', '1970-01-01T00:18:30Z', '1970-01-01T00:19:00Z']
  const zip = (...columns: unknown[][]): unknown[][] => times.map((time, i) => [time, ...columns.map((column) => column[i])])
  assert.deepEqual(await rows(`SELECT max(i) * 2 ${range} fill(previous)`), [[['time', 'max'], zip([20, 20, 20, 20, 2, 40])]])
  assert.deepEqual(await rows(`SELECT max(i) * 2 ${range} fill(linear)`), [[['time', 'max'], zip([20, 14, 10, 6, 2, 40])]])
  assert.deepEqual(await rows(`SELECT mean(v) * 2, max(v) - min(v) ${range} fill(0)`), [[['time', 'mean', 'max_min'], zip([5.333333333333333, 6, 0, 4, 8, 0], [4, 0, 0, 0, 0, 0])]])
  assert.deepEqual(await rows('SELECT mean(v) + 1 AS a, 2 * mean(v) FROM cpu WHERE time >= 990s and time <= 1160s GROUP BY time(60s) fill(none)'), [[
    ['time', 'a', 'mean'], [['1970-01-01T00:16:00Z', 3.6666666666666665, 5.333333333333333], ['1970-01-01T00:17:00Z', 4, 6], ['1970-01-01T00:18:00Z', 4, 6]],
  ]])
  const refused = await run(c, 'SELECT v * 2 FROM cpu') as { results: Array<{ error?: string }> }
  assert.match(refused.results[0]!.error!, /arithmetic on aggregates only/)
})

test('time conditions: != is refused, an empty range answers no series', async (t) => {
  const c = await context(t)
  const refused = await run(c, 'SELECT v FROM cpu WHERE time != 1000s') as { results: Array<{ error?: string }> }
  assert.match(refused.results[0]!.error!, /compare time with =, <, <=, > or >=/)
  const orTime = await run(c, "SELECT v FROM cpu WHERE host = 'a' OR time > 1000s") as { results: Array<{ error?: string }> }
  assert.match(orTime.results[0]!.error!, /joined with AND, not OR/)
  assert.deepEqual(await run(c, 'SELECT v FROM cpu WHERE time > 2000s AND time < 1000s; SELECT mean(v) FROM cpu WHERE time > 2000s AND time < 1000s GROUP BY time(1m)'), { results: [{ statement_id: 0 }, { statement_id: 1 }] })
  assert.deepEqual(await run(c, 'SELECT v FROM cpu WHERE time = 1010s'), { results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'v'], values: [['1970-01-01T00:16:50Z', 2]] }] }] })
})

test('derivative, difference, moving_average and cumulative_sum of windows, with the look-back window InfluxDB 1.6 reads', async (t) => {
  const c = await context(t)
  const rows = async (q: string): Promise<unknown> => ((await run(c, q)) as { results: Array<{ series?: Array<{ columns: string[]; values: unknown[][] }>; error?: string }> }).results[0]!.series!.map((s) => [s.columns, s.values])
  const range = 'FROM cpu WHERE time >= 990s and time <= 1160s GROUP BY time(30s)'
  assert.deepEqual(await rows(`SELECT derivative(mean(v), 10s) ${range}`), [[['time', 'derivative'], [['1970-01-01T00:17:00Z', 0.11111111111111116], ['1970-01-01T00:18:00Z', -0.16666666666666666], ['1970-01-01T00:18:30Z', 0.6666666666666666]]]])
  assert.deepEqual(await rows(`SELECT derivative(mean(v)) ${range} fill(0)`), [[['time', 'derivative'], [
    ['1970-01-01T00:16:30Z', 2.6666666666666665], ['1970-01-01T00:17:00Z', 0.3333333333333335], ['1970-01-01T00:17:30Z', -3], ['1970-01-01T00:18:00Z', 2], ['1970-01-01T00:18:30Z', 2], ['1970-01-01T00:19:00Z', -4],
  ]]])
  assert.deepEqual(await rows(`SELECT non_negative_derivative(mean(v), 10s) ${range} fill(none)`), [[['time', 'non_negative_derivative'], [['1970-01-01T00:17:00Z', 0.11111111111111116], ['1970-01-01T00:18:30Z', 0.6666666666666666]]]])
  assert.deepEqual(await rows(`SELECT difference(mean(v)), cumulative_sum(mean(v)) ${range} fill(null)`), [[['time', 'difference', 'cumulative_sum'], [
    ['1970-01-01T00:16:30Z', null, 2.6666666666666665], ['1970-01-01T00:17:00Z', 0.3333333333333335, 5.666666666666666], ['1970-01-01T00:18:00Z', -1, 7.666666666666666], ['1970-01-01T00:18:30Z', 2, 11.666666666666666],
  ]]])
  assert.deepEqual(await rows(`SELECT non_negative_difference(max(i)) ${range} fill(previous)`), [[['time', 'non_negative_difference'], [['1970-01-01T00:17:00Z', 0], ['1970-01-01T00:17:30Z', 0], ['1970-01-01T00:18:00Z', 0], ['1970-01-01T00:19:00Z', 19]]]])
  // The look-back window reads points before the range (1000 s) for the derivative, not for mean.
  assert.deepEqual(await rows('SELECT mean(v), derivative(mean(v)) FROM cpu WHERE time >= 1005s and time <= 1160s GROUP BY time(30s)'), [[['time', 'mean', 'derivative'], [
    ['1970-01-01T00:16:30Z', 2, null], ['1970-01-01T00:17:00Z', 3, 0.3333333333333335], ['1970-01-01T00:17:30Z', null, null], ['1970-01-01T00:18:00Z', 2, -0.5], ['1970-01-01T00:18:30Z', 4, 2], ['1970-01-01T00:19:00Z', null, null],
  ]]])
  assert.deepEqual(await rows('SELECT mean(v), moving_average(mean(v), 2) FROM cpu WHERE time >= 1035s and time <= 1160s GROUP BY time(30s) fill(0)'), [[['time', 'mean', 'moving_average'], [
    ['1970-01-01T00:17:00Z', 0, 2.5], ['1970-01-01T00:17:30Z', 0, 1.5], ['1970-01-01T00:18:00Z', 2, 1], ['1970-01-01T00:18:30Z', 4, 3], ['1970-01-01T00:19:00Z', 0, 2],
  ]]])
  assert.deepEqual(await rows('SELECT derivative(mean(v), 1s) FROM cpu WHERE time >= 1005s and time <= 1160s GROUP BY time(30s) ORDER BY time DESC'), [[['time', 'derivative'], [
    ['1970-01-01T00:18:00Z', -0.06666666666666667], ['1970-01-01T00:17:00Z', 0.016666666666666666], ['1970-01-01T00:16:30Z', -0.03333333333333333],
  ]]])
  const raw = await run(c, 'SELECT derivative(v, 1s) FROM cpu') as { results: Array<{ error?: string }> }
  assert.match(raw.results[0]!.error!, /of raw points is not supported/)
})

test('a moving average looks back one window whatever its length; rows of other columns get fill(<number>)', async (t) => {
  const c = await context(t)
  const rows = async (q: string): Promise<unknown> => ((await run(c, q)) as { results: Array<{ series?: Array<{ values: unknown[][] }> }> }).results[0]!.series?.map((s) => s.values) ?? []
  assert.deepEqual(await rows('SELECT moving_average(mean(v), 3) FROM cpu WHERE time >= 1035s and time <= 1160s GROUP BY time(30s) fill(0)'), [[
    ['1970-01-01T00:17:30Z', 1.6666666666666667], ['1970-01-01T00:18:00Z', 1.6666666666666667], ['1970-01-01T00:18:30Z', 2], ['1970-01-01T00:19:00Z', 2],
  ]])
  assert.deepEqual(await rows('SELECT moving_average(mean(v), 4) FROM cpu WHERE time >= 1095s and time <= 1160s GROUP BY time(30s) fill(0)'), [[['1970-01-01T00:19:00Z', 1.5]]])
  assert.deepEqual(await rows('SELECT moving_average(mean(v), 3) FROM cpu WHERE time >= 1065s and time <= 1160s GROUP BY time(30s) fill(null)'), [])
  const range = 'FROM cpu WHERE time >= 1065s and time <= 1160s GROUP BY time(30s)'
  assert.deepEqual(await rows(`SELECT mean(v), derivative(mean(v)), moving_average(mean(v), 3) ${range} fill(7)`), [[
    ['1970-01-01T00:17:30Z', 7, 0, 7], ['1970-01-01T00:18:00Z', 2, -5, 5.333333333333333], ['1970-01-01T00:18:30Z', 4, 2, 4.333333333333333], ['1970-01-01T00:19:00Z', 7, 3, 4.333333333333333],
  ]])
  assert.deepEqual(await rows(`SELECT mean(v), derivative(mean(v)), moving_average(mean(v), 3) ${range} fill(previous)`), [[
    ['1970-01-01T00:17:30Z', null, null, null], ['1970-01-01T00:18:00Z', 2, null, null], ['1970-01-01T00:18:30Z', 4, 2, null], ['1970-01-01T00:19:00Z', 4, 0, 3.3333333333333335],
  ]])
  assert.deepEqual(await rows(`SELECT mean(v), derivative(mean(v)), moving_average(mean(v), 3) ${range} fill(none)`), [[['1970-01-01T00:18:00Z', 2, null, null], ['1970-01-01T00:18:30Z', 4, 2, null]]])
})

test('generated statements answer JSON or a query error, never another exception', async (t) => {
  const c = await context(t)
  const fc = (await import('fast-check')).default
  const { isQueryError } = await import('../errors.ts')
  const field = fc.constantFrom('v', 'i', 'host', 'nope', '*', '/v|i/')
  const call = fc.tuple(fc.constantFrom('count', 'sum', 'mean', 'min', 'max', 'first', 'last', 'spread', 'median', 'mode', 'stddev', 'percentile', 'derivative', 'difference', 'moving_average', 'cumulative_sum'), field)
    .map(([fn, f]) => (fn === 'percentile' ? `percentile(${f}, 50)` : fn === 'moving_average' ? `moving_average(mean(${f}), 2)` : ['derivative', 'difference', 'cumulative_sum'].includes(fn) ? `${fn}(max(${f}))` : `${fn}(${f})`))
  const item = fc.oneof(call, field, call.map((x) => `${x} * 2`))
  const condition = fc.constantFrom('', "WHERE host = 'a'", "WHERE host =~ /a|b/ OR region != 'y'", 'WHERE time >= 990s AND time <= 1160s', 'WHERE time > now() - 1h', 'WHERE time < 1100s')
  const group = fc.constantFrom('', 'GROUP BY host', 'GROUP BY time(30s)', 'GROUP BY time(1m, 15s), *', 'GROUP BY time(20s), region')
  const fill = fc.constantFrom('', 'fill(none)', 'fill(0)', 'fill(previous)', 'fill(linear)', 'fill(-2.5)')
  const tail = fc.constantFrom('', 'ORDER BY time DESC', 'LIMIT 2', 'LIMIT 1 OFFSET 1 SLIMIT 1', 'ORDER BY time DESC LIMIT 3 SOFFSET 1')
  const statement = fc.tuple(fc.array(item, { minLength: 1, maxLength: 3 }), fc.constantFrom('cpu', 'mem', '/.*/'), condition, group, fill, tail)
    .map(([items, from, where, by, f, end]) => `SELECT ${items.join(', ')} FROM ${from} ${where} ${by} ${f} ${end}`)
  await fc.assert(fc.asyncProperty(statement, fc.constantFrom(null, 'ns', 'ms', 'h'), async (q, epoch) => {
    try {
      const body = JSON.parse(await executeInfluxql(q, { ...c, epoch })) as { results: unknown[] }
      assert.equal(body.results.length, 1, q)
    } catch (error) {
      if (!isQueryError(error)) throw error
    }
  }), { numRuns: 400 })
})

test('a selector brings the fields and tags of the point it picked', async (t) => {
  const c = await context(t)
  const rows = async (q: string): Promise<unknown> => ((await run(c, q)) as { results: Array<{ series?: Array<{ columns: string[]; values: unknown[][] }> }> }).results[0]!.series?.map((s) => [s.columns, s.values])
  assert.deepEqual(await rows('SELECT max(v), host, i FROM cpu WHERE time <= 1120s'), [[['time', 'max', 'host', 'i'], [['1970-01-01T00:16:40Z', 5, 'b', 3]]]])
  assert.deepEqual(await rows('SELECT last(v), host FROM cpu WHERE time >= 990s and time <= 1160s GROUP BY time(60s)'), [[['time', 'last', 'host'], [
    ['1970-01-01T00:16:00Z', 2, 'a'], ['1970-01-01T00:17:00Z', 3, 'b'], ['1970-01-01T00:18:00Z', 4, 'a'], ['1970-01-01T00:19:00Z', null, null],
  ]]])
  const mixed = await run(c, 'SELECT max(v), mean(v), host FROM cpu') as { results: Array<{ error?: string }> }
  assert.equal(mixed.results[0]!.error, 'mixing aggregate and non-aggregate queries is not supported')
})

test('a WHERE that requires tag values lists only the series having them, with the answers of the whole measurement', async (t) => {
  // Series with different tags and fields: `extra` only where host=c, `zone` a tag only where host=d.
  const lines: typeof LINES = [
    ...LINES,
    ['cpu', [['host', 'c'], ['region', 'x']], [{ name: 'v', value: 7 }, { name: 'extra', value: 1 }], 1005],
    ['cpu', [['host', 'd'], ['zone', 'z1']], [{ name: 'v', value: 8 }], 1006],
    ['cpu', [['region', 'y']], [{ name: 'v', value: 6 }], 1007],
  ]
  const c = await context(t, lines)
  // `"k" =~ /^v$/` selects the same series but is never narrowed: the whole measurement's answer.
  const equality = /"(\w+)" = '(\w*)'/g
  const cases = [
    `SELECT count(v) FROM cpu WHERE "host" = 'a'`,
    `SELECT mean(v), max(i) FROM cpu WHERE "host" = 'a' OR "host" = 'b' GROUP BY "host"`,
    `SELECT v, i FROM cpu WHERE "host" = 'a' AND time >= 1010s`,
    `SELECT v FROM cpu WHERE "host" = 'b' AND "region" = 'y'`,
    `SELECT extra FROM cpu WHERE "host" = 'a'`, // a field only other series have
    `SELECT v FROM cpu WHERE "host" = 'a' AND "zone" = ''`, // a tag only other series have
    `SELECT v FROM cpu WHERE "host" = 'c' AND extra = 'x'`, // a field in a condition: refused either way
    `SELECT v FROM cpu WHERE "host" = 'nobody'`,
    `SELECT count(v) FROM cpu WHERE "host" = 'a' GROUP BY *`,
    `SELECT * FROM cpu WHERE "host" = 'd'`,
    `SELECT last(v) FROM cpu WHERE ("host" = 'a' OR "host" = 'd') AND time <= 2000s GROUP BY time(100s), "zone" fill(none)`,
    `SELECT mean(v) FROM cpu WHERE "host" =~ /^(a|b|x\\.y)$/ AND "region" = 'x' GROUP BY "host"`,
    `SELECT count(v) FROM cpu WHERE "host" =~ /^(?:c|d)$/ OR "host" = 'a'`,
  ]
  for (const q of cases) {
    // A character class is never narrowed, and means the same here.
    const whole = q.replace(equality, (_, key: string, value: string) => `"${key}" =~ /^${value}$/`).replace(/=~ \/\^\((?:\?:)?([a-z])/g, '=~ /^([$1]')
    assert.notEqual(whole, q)
    assert.deepEqual(await run(c, q), await run(c, whole), q)
  }
  // (^a)|(d$) is not an alternation of whole values: hosts starting with a or ending with d.
  assert.deepEqual(await run(c, `SELECT count(v) FROM cpu WHERE "host" =~ /^a|d$/`), await run(c, `SELECT count(v) FROM cpu WHERE "host" =~ /^[a]|[d]$/`))
  assert.deepEqual(await run(c, `SELECT count(v) FROM cpu WHERE "host" = 'a' OR "host" = 'b'`), {
    results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'count'], values: [['1970-01-01T00:00:00Z', 6]] }] }],
  })
})

test('an anchored alternation of literals is read as the tag values it matches; anything else is not', () => {
  assert.deepEqual(literalAlternatives(/^host_42$/), ['host_42'])
  assert.deepEqual(literalAlternatives(/^(a|b\.c|d\-e)$/), ['a', 'b.c', 'd-e'])
  assert.deepEqual(literalAlternatives(/^(?:a|b)$/), ['a', 'b'])
  assert.deepEqual(literalAlternatives(/^(a|)$/), ['a', ''])
  for (const regex of [/^a|b$/, /^a/, /a$/, /^a.b$/, /^a\d$/, /^(a|b)c$/, /^(a|(b))$/, /^a$/i, /^[ab]$/, /^a\$/, /^(a|b)$x/]) {
    assert.equal(literalAlternatives(regex), null, String(regex))
  }
})

test('count, sum and mean alone (the sums-only cells) answer as with a selector beside them, integer sums exact past 2^53', async (t) => {
  const big = 2n ** 53n - 1n
  const lines: typeof LINES = [
    ['big', [['host', 'a']], [{ name: 'i', value: big }, { name: 'v', value: 0.5 }], 100],
    ['big', [['host', 'a']], [{ name: 'i', value: big }, { name: 'v', value: 1.25 }], 110],
    ['big', [['host', 'b']], [{ name: 'i', value: -5n }, { name: 'v', value: 2 }], 120],
    ['big', [['host', 'a']], [{ name: 'i', value: 2n ** 62n }, { name: 'v', value: 4 }], 230],
    ['big', [['host', 'b']], [{ name: 'i', value: 3n }, { name: 'v', value: 8 }], 240],
  ]
  const c = await context(t, lines)
  const text = (q: string): Promise<string> => executeInfluxql(q, { ...c, epoch: 's' })
  const where = 'WHERE time >= 100s AND time < 300s GROUP BY time(100s)'
  const alone = await text(`SELECT sum(i), count(i), mean(v) FROM big ${where}`)
  assert.ok(alone.includes(`[100,${2n * big - 5n},3,1.25]`), alone)
  assert.ok(alone.includes(`[200,${2n ** 62n + 3n},2,6]`), alone)
  const withSelector = await text(`SELECT sum(i), count(i), mean(v), max(i) FROM big ${where}`)
  assert.ok(withSelector.includes(`[100,${2n * big - 5n},3,1.25,${big}]`), withSelector)
  assert.ok(withSelector.includes(`[200,${2n ** 62n + 3n},2,6,${2n ** 62n}]`), withSelector)
})

test('a repeated statement (parsed once, its times and tag values worked out once) answers from the stores as they are now', async (t) => {
  const c = await context(t)
  const q = "SELECT count(v) FROM cpu WHERE \"host\" = 'a' AND time >= '1970-01-01T00:16:40Z' AND time < '1970-01-01T00:20:00Z'"
  const count = (n: number): unknown => ({ results: [{ statement_id: 0, series: [{ name: 'cpu', columns: ['time', 'count'], values: [['1970-01-01T00:16:40Z', n]] }] }] })
  assert.deepEqual(await run(c, q), count(4))
  assert.deepEqual(await run(c, q), count(4))
  // Another text with the same shape but other times and values reads its own.
  assert.deepEqual(await run(c, q.replace("'a'", "'b'")), count(2))
  assert.deepEqual(await run(c, q.replace('00:20:00Z', '00:18:30Z')), count(3))
  // A point written since, and one deleted, show in the next answer of the cached statement.
  const [store] = c.stores as PartitionStore[]
  const tags: Tag[] = [{ key: 'host', value: 'a' }, { key: 'region', value: 'x' }]
  await store!.apply({
    ingestPartition: 0, ingestOffset: 0n, command: null,
    upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tags), tags, points: [{ timeNs: 1190n * S, fields: [{ name: 'v', value: 7 }] }], pointsIn: 1 },
  }, 100n)
  assert.deepEqual(await run(c, q), count(5))
})

test('a repeated GROUP BY statement (its columns and groups kept for the schema) sees a new series and a deleted one, and now() moves its range', async (t) => {
  const c = await context(t)
  const q = 'SELECT count(v) FROM cpu WHERE time >= 1000s AND time < 1200s GROUP BY "host"'
  const hosts = async (query = q, at = c): Promise<unknown> => ((JSON.parse(await executeInfluxql(query, at)) as { results: Array<{ series?: Array<{ tags: { host: string }; values: unknown[][] }> }> })
    .results[0]!.series ?? []).map((s) => [s.tags.host, s.values[0]![1]])
  assert.deepEqual(await hosts(), [['a', 4], ['b', 2]])
  const [store] = c.stores as PartitionStore[]
  const tags: Tag[] = [{ key: 'host', value: 'c' }]
  await store!.apply({
    ingestPartition: 0, ingestOffset: 0n, command: null,
    upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tags), tags, points: [{ timeNs: 1100n * S, fields: [{ name: 'v', value: 1 }] }], pointsIn: 1 },
  }, 100n)
  assert.deepEqual(await hosts(), [['a', 4], ['b', 2], ['c', 1]])
  await store!.apply({
    ingestPartition: 0, ingestOffset: 0n, upsert: null,
    command: { commandId: 'd', tenant: 't', database: 'db', measurement: 'cpu', kind: 'DELETE', set: [], issuedAtNs: 0n, where: { tags: [{ key: 'host', values: ['a'] }], fromNs: null, toNs: null, fieldPredicate: null } },
  }, 101n)
  assert.deepEqual(await hosts(), [['b', 2], ['c', 1]])
  // The same text at another now(): the kept groups, this request's time range.
  const recent = 'SELECT count(v) FROM cpu WHERE time >= now() - 100s GROUP BY "host"'
  assert.deepEqual(await hosts(recent, { ...c, nowNs: 1120n * S }), [['b', 1], ['c', 1]])
  assert.deepEqual(await hosts(recent, { ...c, nowNs: 1200n * S }), [['c', 1]])
  assert.deepEqual(await hosts(recent, { ...c, nowNs: 1025n * S }), [['b', 2], ['c', 1]])
})
