import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogEntry, Field, IngestCommand, Tag } from '../schemas/index.ts'
import { canonicalSeriesKey, openPartitionStore, type PartitionStore } from '../sinks/index.ts'
import { executeSql, type QueryContext } from './execute.ts'
import fc from 'fast-check'
import { QueryErrorCode, isQueryError } from './errors.ts'

// WHERE on fields, OR/NOT/LIKE, expressions, CASE, HAVING, DISTINCT, subqueries, SHOW and EXPLAIN
// over a small table whose every answer is computed by hand. After the upsert rewrite and the
// DELETE below, cpu holds (times t1 < t2 < t3, one minute apart):
//   host=a region=eu  t1 usage=1   reqs=10 state='idle' | t2 usage=3.5 reqs=20 | t3 usage=5 reqs=30 state='busy'
//   host=b region=us  t1 usage=2   reqs=5               (its t2 point, state 'Idle', deleted)
//   host=c (no region) t1 usage=4

const T1 = 1_700_000_000_000_000_000n
const MINUTE = 60_000_000_000n
const T2 = T1 + MINUTE
const T3 = T1 + 2n * MINUTE

function upsert(tags: Tag[], points: [bigint, Field[]][]): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, command: null,
    upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tags), tags, points: points.map(([timeNs, fields]) => ({ timeNs, fields })), pointsIn: points.length },
  }
}

function remove(where: Partial<IngestCommand['where']>): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, upsert: null,
    command: { commandId: 'c', tenant: 't', database: 'db', measurement: 'cpu', kind: 'DELETE', set: [], issuedAtNs: 0n, where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null, ...where } },
  }
}

async function fixture(t: { after: (fn: () => Promise<void> | void) => void }): Promise<QueryContext> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sql-'))
  const stores: PartitionStore[] = []
  for (const partition of [0, 1]) stores.push(await openPartitionStore(join(dir, String(partition)), { partition, fsync: false, blockMaxPoints: 2, autoCompact: false }))
  t.after(async () => { for (const s of stores) await s.close(); rmSync(dir, { recursive: true, force: true }) })
  const a = [{ key: 'host', value: 'a' }, { key: 'region', value: 'eu' }]
  const b = [{ key: 'host', value: 'b' }, { key: 'region', value: 'us' }]
  const c = [{ key: 'host', value: 'c' }]
  let offset = 0n
  await stores[0]!.apply(upsert(a, [
    [T1, [{ name: 'usage', value: 1 }, { name: 'reqs', value: 10n }, { name: 'state', value: 'idle' }]],
    [T2, [{ name: 'usage', value: 3 }, { name: 'reqs', value: 20n }]],
    [T3, [{ name: 'usage', value: 5 }, { name: 'reqs', value: 30n }, { name: 'state', value: 'busy' }]],
  ]), offset++)
  await stores[1]!.apply(upsert(b, [[T1, [{ name: 'usage', value: 2 }, { name: 'reqs', value: 5n }]], [T2, [{ name: 'usage', value: 0.5 }, { name: 'state', value: 'Idle' }]]]), 0n)
  await stores[1]!.apply(upsert(c, [[T1, [{ name: 'usage', value: 4 }]]]), 1n)
  for (const s of stores) await s.flush()
  // A rewrite in the memtable over a flushed point, and a DELETE of b's second point.
  await stores[0]!.apply(upsert(a, [[T2, [{ name: 'usage', value: 3.5 }]]]), offset++)
  await stores[1]!.apply(remove({ tags: [{ key: 'host', values: ['b'] }], fromNs: T2 }), 2n)
  return { tenant: 't', database: 'db', stores, nowNs: T3 + MINUTE, listDatabases: () => ['db', 'other'] }
}

const rows = async (context: QueryContext, sql: string): Promise<unknown[][]> => (await executeSql(sql, context)).rows

test('WHERE on fields: comparisons, IS [NOT] NULL, IN, BETWEEN, over raw rows', async (t) => {
  const context = await fixture(t)
  assert.deepEqual(await rows(context, 'SELECT time, host, usage FROM cpu WHERE usage > 1.5 ORDER BY host, time'),
    [[T2, 'a', 3.5], [T3, 'a', 5], [T1, 'b', 2], [T1, 'c', 4]])
  assert.deepEqual(await rows(context, 'SELECT host, usage FROM cpu WHERE usage = 3.5'), [['a', 3.5]])
  assert.deepEqual(await rows(context, 'SELECT host, usage FROM cpu WHERE usage != 1 AND usage <= 2'), [['b', 2]])
  assert.deepEqual(await rows(context, 'SELECT time, host, state FROM cpu WHERE state IS NULL AND usage >= 0 ORDER BY host, time'),
    [[T2, 'a', null], [T1, 'b', null], [T1, 'c', null]])
  assert.deepEqual(await rows(context, "SELECT time, state FROM cpu WHERE state IS NOT NULL AND NOT (usage > 4)"), [[T1, 'idle']])
  assert.deepEqual(await rows(context, 'SELECT time, reqs FROM cpu WHERE reqs IN (10, 30) ORDER BY time'), [[T1, 10n], [T3, 30n]])
  assert.deepEqual(await rows(context, 'SELECT time, reqs FROM cpu WHERE reqs NOT IN (10, 30)'), [[T2, 20n], [T1, 5n]])
  assert.deepEqual(await rows(context, 'SELECT host, usage FROM cpu WHERE usage BETWEEN 2 AND 4 ORDER BY host'), [['a', 3.5], ['b', 2], ['c', 4]])
  assert.deepEqual(await rows(context, "SELECT host, state FROM cpu WHERE state = 'busy'"), [['a', 'busy']])
  assert.deepEqual(await rows(context, 'SELECT time, host FROM cpu WHERE usage > 3 ORDER BY time LIMIT 1'), [[T1, 'c']])
})

test('OR, NOT and parentheses between tag, field and time conditions; LIKE, ILIKE, NOT LIKE', async (t) => {
  const context = await fixture(t)
  assert.deepEqual(await rows(context, `SELECT host, usage FROM cpu WHERE host = 'c' OR (usage < 2 AND time < ${T2}) ORDER BY host`), [['a', 1], ['c', 4]])
  assert.deepEqual(await rows(context, `SELECT host, usage FROM cpu WHERE time >= '2023-11-14T22:15:20Z' OR host = 'b' ORDER BY host`), [['a', 5], ['b', 2]])
  assert.deepEqual(await rows(context, "SELECT count(*) FROM cpu WHERE host = 'a' OR region = 'us'"), [[4n]])
  assert.deepEqual(await rows(context, "SELECT DISTINCT host FROM cpu WHERE host LIKE 'a%' OR region LIKE 'u_' ORDER BY host"), [['a'], ['b']])
  assert.deepEqual(await rows(context, "SELECT DISTINCT host FROM cpu WHERE region NOT LIKE 'e%' ORDER BY host"), [['b'], ['c']])
  assert.deepEqual(await rows(context, "SELECT time, state FROM cpu WHERE state ILIKE 'I%'"), [[T1, 'idle']])
  assert.deepEqual(await rows(context, "SELECT time, state FROM cpu WHERE state LIKE 'I%'"), [])
  assert.deepEqual(await rows(context, "SELECT DISTINCT host FROM cpu WHERE NOT (host IN ('a', 'b'))"), [['c']])
  // Every character that means something in a regular expression is a plain character in a pattern.
  for (const pattern of ['test-%', '%(%', '[a]%', 'a{2}', '^a$', 'a.b', 'a+', '%|%', '/%', '%\\%%', 'é_']) {
    assert.deepEqual(await rows(context, `SELECT DISTINCT host FROM cpu WHERE host LIKE '${pattern}' OR state LIKE '${pattern}'`), [], pattern)
  }
  assert.deepEqual(await rows(context, "SELECT DISTINCT host FROM cpu WHERE concat(host, '-(x)') LIKE 'a-(_)'"), [['a']])
})

test('aggregates over filtered rows equal the hand-computed groups, with and without block statistics', async (t) => {
  const context = await fixture(t)
  const sql = 'SELECT host, count(*), sum(usage), max(reqs), first(time, usage) FROM cpu WHERE usage > 1.5 GROUP BY host ORDER BY host'
  const expected = [['a', 2n, 8.5, 30n, 3.5], ['b', 1n, 2, 5n, 2], ['c', 1n, 4, null, 4]]
  assert.deepEqual(await rows(context, sql), expected)
  assert.deepEqual((await executeSql(sql, { ...context, usePreAggregates: false })).rows, expected)
  assert.deepEqual(await rows(context, "SELECT count(usage), median(usage) FROM cpu WHERE state IS NULL OR host = 'b'"), [[3n, 3.5]])
})

test('select expressions: arithmetic over aggregates, CASE, unary minus, math and string functions', async (t) => {
  const context = await fixture(t)
  assert.deepEqual(await rows(context, 'SELECT host, max(usage) - min(usage) AS range, sum(reqs) / count(reqs) AS per, round(avg(usage) * 10) / 10 AS r FROM cpu GROUP BY host ORDER BY host'),
    [['a', 4, 20n, 3.2], ['b', 0, 5n, 2], ['c', 0, null, 4]])
  const result = await executeSql(`SELECT host, CASE WHEN usage >= 4 THEN 'high' WHEN usage >= 2 THEN 'mid' ELSE 'low' END AS level, -usage AS neg,
    upper(host) || '-' || lower('X') AS label, length(state) AS n, concat(host, state) AS c, abs(-reqs) AS ar, sqrt(usage) AS sq, power(2, 3) AS p,
    floor(usage) AS fl, ceil(usage / 3) AS ce, ln(1) AS l, log10(100) AS lg, reqs % 3 AS m, usage * 2 + 1 AS lin FROM cpu WHERE time = ${T1} ORDER BY host`, context)
  assert.deepEqual(result.columns.map((c) => c.type), ['string', 'string', 'float', 'string', 'integer', 'string', 'integer', 'float', 'float', 'float', 'float', 'float', 'float', 'integer', 'float'])
  assert.deepEqual(result.rows, [
    ['a', 'low', -1, 'A-x', 4n, 'aidle', 10n, 1, 8, 1, 1, 0, 2, 1n, 3],
    ['b', 'mid', -2, 'B-x', null, 'b', 5n, Math.SQRT2, 8, 2, 1, 0, 2, 2n, 5],
    ['c', 'high', -4, 'C-x', null, 'c', null, 2, 8, 4, 2, 0, 2, null, 9],
  ])
  assert.deepEqual(await rows(context, 'SELECT host, CASE host WHEN \'a\' THEN count(*) ELSE 0 END AS n FROM cpu GROUP BY host ORDER BY host'), [['a', 3n], ['b', 0n], ['c', 0n]])
  assert.deepEqual(await rows(context, 'SELECT reqs / 0 AS z FROM cpu WHERE time = ' + T1 + ' AND host = \'a\''), [[null]])
  assert.deepEqual(await rows(context, "SELECT time - INTERVAL '1 minute' AS before, time + 1 AS after FROM cpu WHERE host = 'c'"), [[T1 - MINUTE, T1 + 1n]])
})

test('HAVING, aliases and unselected columns in ORDER BY, DISTINCT', async (t) => {
  const context = await fixture(t)
  assert.deepEqual(await rows(context, 'SELECT host, count(usage) AS n FROM cpu GROUP BY host HAVING count(usage) > 1 OR max(usage) >= 4 ORDER BY n DESC, host'), [['a', 3n], ['c', 1n]])
  assert.deepEqual(await rows(context, 'SELECT host, max(usage) AS m FROM cpu GROUP BY host HAVING m < 4.5 ORDER BY m'), [['b', 2], ['c', 4]])
  assert.deepEqual(await rows(context, 'SELECT DISTINCT region FROM cpu ORDER BY region'), [['eu'], ['us'], [null]])
  assert.deepEqual(await rows(context, 'SELECT host, usage FROM cpu ORDER BY time DESC, host LIMIT 3'), [['a', 5], ['a', 3.5], ['a', 1]], 'ORDER BY columns not selected')
  assert.deepEqual(await rows(context, 'SELECT host FROM cpu ORDER BY usage DESC LIMIT 2'), [['a'], ['c']])
  assert.deepEqual(await rows(context, 'SELECT host FROM cpu GROUP BY host ORDER BY max(usage) DESC'), [['a'], ['c'], ['b']], 'ORDER BY an aggregate not selected')
  assert.deepEqual(await rows(context, `SELECT DISTINCT host, region FROM cpu WHERE time >= ${T2} ORDER BY host`), [['a', 'eu']], 'DISTINCT tags: series with a point in the range')
  assert.deepEqual(await rows(context, 'SELECT DISTINCT host, region FROM cpu WHERE usage > 1 ORDER BY host'), [['a', 'eu'], ['b', 'us'], ['c', null]])
})

test('subqueries in FROM run into an in-memory table the outer query groups and filters', async (t) => {
  const context = await fixture(t)
  assert.deepEqual(await rows(context, "SELECT host, avg(m) FROM (SELECT host, max(usage) AS m FROM cpu GROUP BY host, date_bin(INTERVAL '2 minutes', time)) GROUP BY host ORDER BY host"),
    [['a', 3], ['b', 2], ['c', 4]])
  assert.deepEqual(await rows(context, 'SELECT region, avg(m) AS am, count(*) AS n FROM (SELECT host, region, max(usage) AS m FROM cpu GROUP BY host, region) AS s GROUP BY region ORDER BY region'),
    [['eu', 5, 1n], ['us', 2, 1n], [null, 4, 1n]])
  assert.deepEqual(await rows(context, 'SELECT time, usage FROM (SELECT time, host, usage FROM cpu WHERE usage > 1) WHERE usage < 4 AND host = \'a\' ORDER BY time'), [[T2, 3.5]])
  assert.deepEqual(await rows(context, 'SELECT count(*) FROM (SELECT host FROM cpu)'), [[0n]], 'a subquery of tags only has no field, so no rows')
})

test('SHOW DATABASES, SHOW SERIES, SHOW TAG VALUES', async (t) => {
  const context = await fixture(t)
  assert.deepEqual(await rows(context, 'SHOW DATABASES'), [['db'], ['other']])
  assert.deepEqual(await rows(context, 'SHOW SERIES FROM cpu'), [['cpu,host=a,region=eu'], ['cpu,host=b,region=us'], ['cpu,host=c']])
  assert.deepEqual(await rows(context, "SHOW SERIES WHERE region = 'eu'"), [['cpu,host=a,region=eu']])
  assert.deepEqual(await rows(context, 'SHOW TAG VALUES FROM cpu WITH KEY = "region"'), [['region', 'eu'], ['region', 'us']])
  assert.deepEqual(await rows(context, "SHOW TAG VALUES FROM cpu WITH KEY IN (host, region) WHERE host != 'a'"), [['host', 'b'], ['host', 'c'], ['region', 'us']])
  assert.deepEqual(await rows(context, 'SHOW TAG VALUES WITH KEY != host'), [['region', 'eu'], ['region', 'us']])
})

test('EXPLAIN names what is pushed down and counts per partition what was scanned and answered from statistics', async (t) => {
  const context = await fixture(t)
  const plan = await executeSql(`EXPLAIN SELECT max(usage) FROM cpu WHERE time >= ${T1} AND host IN ('a', 'c') AND usage > 0`, context)
  assert.deepEqual(plan.columns.map((c) => c.name), ['plan_type', 'plan'])
  const byType = new Map(plan.rows.map((r) => [r[0] as string, r[1] as string]))
  assert.equal(byType.get('table'), 'cpu')
  assert.match(byType.get('time range (block pruning)')!, /^\[2023-11-14T22:13:20.000Z, \+∞\)$/)
  assert.equal(byType.get('tag conditions (series pruning)'), "host IN ('a', 'c')")
  assert.equal(byType.get('row filter (per row; no block statistics)'), 'usage > 0')
  assert.match(byType.get('partition 0')!, /^series 1, chunks scanned \d+, points scanned 3,/)
  assert.match(byType.get('partition 1')!, /^series 1, chunks scanned 1, points scanned 1,/)
  const stats = await executeSql(`EXPLAIN SELECT count(usage) FROM cpu WHERE host = 'c'`, context)
  assert.match(stats.rows.find((r) => r[0] === 'partition 1')![1] as string, /chunks scanned 0, points scanned 0, blocks from block statistics 1, points from block statistics 1/)
})

test('refusals: a syntax error names its line and column; type mismatches and unknown columns are not crashes', async (t) => {
  const context = await fixture(t)
  await assert.rejects(executeSql('SELECT usage\nFROM cpu WHERE usage = = 1', context), (error: unknown) => {
    assert.ok(isQueryError(error))
    assert.equal(error.code, QueryErrorCode.SYNTAX)
    assert.equal(error.line, 2)
    assert.equal(error.column, 24)
    assert.match(error.message, /line 2, column 24: unexpected "="/)
    return true
  })
  const cases: [string, string][] = [
    ["SELECT usage FROM cpu WHERE usage > 'x'", QueryErrorCode.TYPE_MISMATCH],
    ['SELECT usage FROM cpu WHERE usage', QueryErrorCode.TYPE_MISMATCH],
    ['SELECT upper(usage) FROM cpu', QueryErrorCode.TYPE_MISMATCH],
    ["SELECT CASE WHEN usage > 1 THEN 'a' ELSE 1 END FROM cpu", QueryErrorCode.TYPE_MISMATCH],
    ['SELECT usage FROM cpu WHERE nope LIKE \'a\'', QueryErrorCode.UNKNOWN_COLUMN],
    ['SELECT host FROM cpu GROUP BY host HAVING nope > 1', QueryErrorCode.UNKNOWN_COLUMN],
    ['SELECT usage FROM cpu HAVING usage > 1', QueryErrorCode.UNSUPPORTED],
    ['SELECT x FROM (SELECT host, usage FROM cpu)', QueryErrorCode.UNKNOWN_COLUMN],
  ]
  for (const [sql, code] of cases) {
    await assert.rejects(executeSql(sql, context), (error: unknown) => {
      assert.ok(isQueryError(error), `${sql}: ${String(error)}`)
      assert.equal(error.code, code, `${sql}: ${error.message}`)
      return true
    })
  }
})

test('generated statements either answer or are refused with a query error, never a crash', async (t) => {
  const context = await fixture(t)
  let answered = 0
  // Mostly well-typed numbers, strings and conditions (so most statements run), now and then any column or constant.
  const generators = (withAggregates: boolean): { num: fc.Arbitrary<string>; str: fc.Arbitrary<string>; bool: fc.Arbitrary<string> } => fc.letrec<{ num: string; str: string; bool: string }>((tie) => ({
    num: fc.oneof({ depthSize: 'small' },
      fc.constantFrom('usage', 'reqs', '1', '2.5', '-3', '0', 'null'),
      ...(withAggregates ? [fc.tuple(fc.constantFrom('max', 'min', 'sum', 'avg', 'count', 'median', 'spread', 'first'), fc.constantFrom('usage', 'reqs')).map(([fn, c]) => `${fn}(${c})`)] : []),
      fc.tuple(tie('num'), fc.constantFrom('+', '-', '*', '/', '%'), tie('num')).map(([a, op, b]) => `(${a} ${op} ${b})`),
      tie('num').map((a) => `-(${a})`),
      fc.tuple(fc.constantFrom('abs', 'round', 'floor', 'ceil', 'sqrt', 'ln', 'log10'), tie('num')).map(([fn, a]) => `${fn}(${a})`),
      tie('str').map((a) => `length(${a})`),
      fc.tuple(tie('bool'), tie('num'), tie('num')).map(([c, a, b]) => `CASE WHEN ${c} THEN ${a} ELSE ${b} END`),
      fc.constantFrom('time', "'x'", 'state', 'nope', 'true'),
    ),
    str: fc.oneof({ depthSize: 'small' },
      fc.constantFrom(...(withAggregates ? ['host'] : ['host', 'region', 'state']), "'a'", "'x%'", "'a-(b)'", 'null'),
      fc.tuple(tie('str'), tie('str')).map(([a, b]) => `(${a} || ${b})`),
      fc.tuple(fc.constantFrom('upper', 'lower'), tie('str')).map(([fn, a]) => `${fn}(${a})`),
      fc.tuple(tie('str'), tie('num')).map(([a, b]) => `concat(${a}, ${b})`),
      fc.tuple(tie('bool'), tie('str'), tie('str')).map(([c, a, b]) => `CASE WHEN ${c} THEN ${a} ELSE ${b} END`),
    ),
    bool: fc.oneof({ depthSize: 'small' },
      fc.constantFrom('true', 'false'),
      fc.tuple(tie('num'), fc.constantFrom('=', '!=', '<', '<=', '>', '>='), tie('num')).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(tie('str'), fc.constantFrom('=', '<>', 'LIKE', 'NOT LIKE', 'ILIKE'), tie('str')).map(([a, op, b]) => `${a} ${op} ${b}`),
      fc.tuple(tie('bool'), fc.constantFrom('AND', 'OR'), tie('bool')).map(([a, op, b]) => `(${a} ${op} ${b})`),
      tie('bool').map((a) => `NOT (${a})`),
      fc.tuple(tie('num'), tie('num'), tie('num')).map(([a, b, c]) => `${a} BETWEEN ${b} AND ${c}`),
      fc.tuple(fc.oneof(tie('num'), tie('str')), fc.boolean()).map(([a, not]) => `${a} IS ${not ? 'NOT ' : ''}NULL`),
      fc.tuple(tie('num'), tie('num'), tie('num')).map(([a, b, c]) => `${a} IN (${b}, ${c})`),
      ...(withAggregates ? [] : [fc.constantFrom(`time > '2023-11-14T22:13:20Z'`, `time <= now() - INTERVAL '1 minute'`)]),
    ),
  }))
  const raw = generators(false)
  const aggregated = generators(true)
  const statement = fc.oneof(
    fc.tuple(fc.oneof(raw.num, raw.str, raw.bool), raw.bool).map(([e, w]) => `SELECT time, ${e} AS x FROM cpu WHERE ${w} ORDER BY x, time`),
    fc.tuple(fc.oneof(aggregated.num, aggregated.str), aggregated.bool, raw.bool).map(([e, h, w]) => `SELECT host, ${e} AS x FROM cpu WHERE ${w} GROUP BY host HAVING ${h} ORDER BY host`),
    fc.tuple(aggregated.num, raw.bool).map(([e, w]) => `SELECT DISTINCT x FROM (SELECT host, ${e} AS x FROM cpu GROUP BY host) WHERE ${w.replaceAll('usage', 'x').replaceAll('reqs', 'x')}`),
  )
  await fc.assert(fc.asyncProperty(statement, async (sql) => {
    try {
      await executeSql(sql, context)
      answered++
    } catch (error) {
      assert.ok(isQueryError(error), `${sql}: ${(error as Error).stack}`)
    }
  }), { numRuns: 400, seed: 42 })
  assert.ok(answered > 80, `many generated statements run (${answered} of 400 did)`)
})

test('IN and BETWEEN on fields answer alike vectorised and row by row', async (t) => {
  const context = await fixture(t)
  for (const condition of ['reqs IN (10, 20, 20.0, 20.5)', 'usage IN (1, 3.5)', "state IN ('busy', 'x')", 'usage BETWEEN 1 AND 3.5', 'reqs BETWEEN 6 AND 25']) {
    const vectorised = await rows(context, `SELECT time, host FROM cpu WHERE ${condition} ORDER BY host, time`)
    const rowByRow = await rows(context, `SELECT time, host FROM cpu WHERE NOT (NOT (${condition})) ORDER BY host, time`)
    assert.deepEqual(vectorised, rowByRow, condition)
    assert.ok(vectorised.length > 0, condition)
  }
  assert.deepEqual(await rows(context, 'SELECT time FROM cpu WHERE reqs IN (10, 20.0)'), [[T1], [T2]])
})
