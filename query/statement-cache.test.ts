import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogEntry, IngestCommand } from '../schemas/index.ts'
import { canonicalSeriesKey, openPartitionStore } from '../sinks/index.ts'
import { executeSql } from './execute.ts'
import { executeInfluxql, parseInfluxql } from './influxql/index.ts'
import { clearStatementCaches, parseStatement, parseStatementUncached, statementCacheStats, type SelectStatement, type Statement } from './parse.ts'
import { frozenSize, StatementCache } from './statement-cache.ts'

test('the cache keeps at most maxEntries, the least recently used leaving first', () => {
  const cache = new StatementCache<string>({ maxEntries: 2, maxBytes: 1_000_000 })
  cache.set('a', 'A', 10)
  cache.set('b', 'B', 10)
  assert.equal(cache.get('a'), 'A') // a is now the most recently used
  cache.set('c', 'C', 10)
  assert.equal(cache.size, 2)
  assert.equal(cache.get('b'), undefined)
  assert.equal(cache.get('a'), 'A')
  assert.equal(cache.get('c'), 'C')
})

test('the cache keeps its estimated bytes under maxBytes and refuses an entry over a sixteenth of them', () => {
  const cache = new StatementCache<number>({ maxEntries: 100, maxBytes: 1_600 })
  for (let i = 0; i < 50; i++) cache.set(`statement ${i}`, i, 60)
  assert.ok(cache.bytes <= 1_600, `${cache.bytes} bytes held`)
  assert.ok(cache.size < 50 && cache.size > 0)
  assert.equal(cache.get('statement 49'), 49)
  assert.equal(cache.get('statement 0'), undefined)
  cache.set('huge', -1, 101)
  assert.equal(cache.get('huge'), undefined)
  cache.set('statement 49', 49, 40) // replacing an entry counts its bytes once
  const held = cache.bytes
  cache.set('statement 49', 49, 40)
  assert.equal(cache.bytes, held)
})

test('frozenSize freezes plain objects and arrays deeply and leaves a RegExp alone', () => {
  const regex = /^cpu/
  const value = { a: [{ b: 'text' }, 1n], regex }
  const bytes = frozenSize(value)
  assert.ok(bytes > 0)
  assert.ok(Object.isFrozen(value) && Object.isFrozen(value.a) && Object.isFrozen(value.a[0]))
  assert.equal(Object.isFrozen(regex), false)
  assert.ok(frozenSize({ s: 'x'.repeat(1000) }) > frozenSize({ s: 'x' }))
})

test('a statement that does not read now() is parsed once and shared, frozen', () => {
  clearStatementCaches()
  const sql = "SELECT count(usage) FROM cpu WHERE host = 'a' AND time >= '2024-01-01T00:00:00Z'"
  const first = parseStatement(sql, 1n) as SelectStatement
  const second = parseStatement(sql, 2n)
  assert.equal(second, first)
  assert.equal(statementCacheStats().statements, 1)
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first.items) && Object.isFrozen(first.conditions[0]))
  assert.throws(() => { (first.items as unknown[]).push({ kind: 'star' }) }, TypeError)
  assert.throws(() => { (first as { limit: number | null }).limit = 1 }, TypeError)
})

test('a statement that reads now() is rebuilt at each time from its cached AST', () => {
  clearStatementCaches()
  const sql = "SELECT count(usage) FROM cpu WHERE time > now() - INTERVAL '1 minute'"
  const at1 = parseStatement(sql, 100_000_000_000n) as SelectStatement
  const at2 = parseStatement(sql, 200_000_000_000n) as SelectStatement
  assert.equal(at1.fromNs, 40_000_000_001n)
  assert.equal(at2.fromNs, 140_000_000_001n)
  assert.deepEqual(statementCacheStats(), { ...statementCacheStats(), statements: 0, asts: 1 })
  // now() in the select list too: a literal of the time given.
  const listed = parseStatement('SELECT now() FROM cpu', 7n) as SelectStatement
  const item = listed.items[0]!
  assert.ok(item.kind === 'expression' && item.expr.kind === 'call' && item.expr.args[0]!.kind === 'literal' && item.expr.args[0]!.value === 7n)
  assert.equal(statementCacheStats().statements, 0)
})

test('EXPLAIN and a statement without EXPLAIN are cached apart; errors are never cached', () => {
  clearStatementCaches()
  const sql = 'SELECT max(usage) FROM cpu'
  assert.equal(parseStatement(`EXPLAIN ${sql}`, 0n).kind, 'explain')
  assert.equal(parseStatement(sql, 0n).kind, 'select')
  for (let i = 0; i < 2; i++) assert.throws(() => parseStatement('SELECT max(usage) FROM', 0n), { code: 'SLUICE_ERR_QUERY_SYNTAX', line: 1 })
  assert.throws(() => parseStatement('SELECT nosuch(usage) FROM cpu', 0n), { code: 'SLUICE_ERR_QUERY_UNSUPPORTED' })
  assert.throws(() => parseStatement('SELECT nosuch(usage) FROM cpu', 0n), { code: 'SLUICE_ERR_QUERY_UNSUPPORTED' })
})

/** The statement, or the error's code, message and position. */
function outcome(parse: () => Statement): unknown {
  try {
    return parse()
  } catch (error) {
    const { code, message, line, column } = error as { code?: string; message: string; line?: number; column?: number }
    return { code, message, line, column }
  }
}

test('date-time literals are templated out of the AST cache: a moved time range reuses the AST, and answers as a fresh parse', () => {
  clearStatementCaches()
  const dashboard = (from: string, to: string): string => `SELECT date_bin(INTERVAL '1 minute', time) AS t, avg(usage) FROM cpu WHERE host = 'a' AND time >= '${from}' AND time < '${to}' GROUP BY t`
  const first = parseStatement(dashboard('2024-01-01T00:00:00Z', '2024-01-01T01:00:00Z'), 0n) as SelectStatement
  const moved = parseStatement(dashboard('2024-01-01T00:00:10.5Z', '2024-01-01T01:00:10.5Z'), 0n) as SelectStatement
  assert.equal(statementCacheStats().asts, 1)
  assert.equal(statementCacheStats().statements, 2)
  assert.equal(moved.fromNs! - first.fromNs!, 10_500_000_000n)
  assert.equal(moved.toNs! - first.toNs!, 10_500_000_000n)
  const texts = [
    dashboard('2024-01-01', '2024-01-02 00:00:00+02:00'),
    "SELECT count(usage) FROM cpu WHERE time BETWEEN '2024-01-01T00:00:00Z' AND '2024-01-01T00:00:00.123456789Z'",
    // A date-time as a tag value, in a select-list expression, as an origin, doubled quotes next to it.
    "SELECT host = '2024-01-01' AS same, max(usage) FROM cpu WHERE note = 'it''s' AND host IN ('2024-01-01', 'b') GROUP BY host",
    "SELECT date_bin(INTERVAL '1 hour', time, '2023-12-31T23:30:00Z') AS h, count(usage) FROM cpu GROUP BY h",
    "SELECT st_position_at(time, position, '2024-01-01T00:00:30Z') FROM track",
    // Comments, a quoted identifier holding a quote, an E'' literal: left as they are.
    "SELECT count(usage) /* since '2024-01-01' */ FROM \"it's\" -- until '2024-01-02'\nWHERE time >= '2024-01-01T00:00:00Z'",
    "SELECT count(usage) FROM cpu WHERE host = E'2024-01-01' AND time < '2024-01-01T00:00:00Z'",
    "SELECT count(usage) FROM cpu WHERE note = 'a'' AND x = ''2024-01-01' AND time >= '2024-01-01T00:00:00Z'",
    "EXPLAIN SELECT count(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z'",
    "SHOW SERIES FROM cpu WHERE host = '2024-01-01'",
    "SELECT count(usage) FROM cpu WHERE time >= TIMESTAMP '2024-01-01T00:00:00Z'",
    // Errors: the position is the text's, not the template's.
    "SELECT count(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00.123456789Z' AND AND",
    "SELECT count(usage) FROM cpu WHERE time >= '2024-13-45T99:99:99Z'",
    "SELECT count(usage) FROM cpu WHERE time >= '2024-01-01T00:00:00Z' + INTERVAL '1 month'",
  ]
  for (const text of texts) {
    for (let i = 0; i < 2; i++) assert.deepEqual(outcome(() => parseStatement(text, 5n)), outcome(() => parseStatementUncached(text, 5n)), text)
  }
  // The end of the text sent, not of its shorter template.
  const broken = texts.find((text) => text.endsWith('AND AND'))!
  const error = outcome(() => parseStatement(broken, 0n)) as { line: number; column: number }
  assert.deepEqual([error.line, error.column], [1, broken.length + 1])
})

test('InfluxQL queries are parsed once and shared, frozen', () => {
  const q = 'SELECT mean("usage") FROM "cpu" WHERE time > now() - 1h GROUP BY time(1m), "host"'
  const first = parseInfluxql(q)
  assert.equal(parseInfluxql(q), first)
  assert.ok(Object.isFrozen(first) && Object.isFrozen(first[0]))
})

function upsert(host: string, timeNs: bigint, usage: number): ChangelogEntry {
  const tags = [{ key: 'host', value: host }]
  return {
    ingestPartition: 0, ingestOffset: 0n, command: null,
    upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tags), tags, points: [{ timeNs, fields: [{ name: 'usage', value: usage }] }], pointsIn: 1 },
  }
}

function deleteAll(host: string): ChangelogEntry {
  const command: IngestCommand = {
    commandId: 'c', tenant: 't', database: 'db', measurement: 'cpu', kind: 'DELETE', set: [], issuedAtNs: 0n,
    where: { tags: [{ key: 'host', values: [host] }], fromNs: null, toNs: null, fieldPredicate: null },
  }
  return { ingestPartition: 0, ingestOffset: 0n, upsert: null, command }
}

test('a cached statement answers from the stores as they are now: new series, new points, a DELETE', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-statement-cache-'))
  try {
    const store = await openPartitionStore(dir, { fsync: false, autoCompact: false })
    let offset = 0n
    const apply = (entry: ChangelogEntry): Promise<void> => store.apply(entry, offset++)
    const context = { tenant: 't', database: 'db', stores: [store], nowNs: 10_000n }
    const sql = 'SELECT host, count(usage) AS n, max(usage) AS m FROM cpu GROUP BY host ORDER BY host'
    const q = 'SELECT count("usage") FROM "cpu" GROUP BY "host"'
    const influx = (): Promise<string> => executeInfluxql(q, {
      ...context, database: 'db', epoch: 'ns', databases: async () => ['db'], hasDatabase: async (name: string) => name === 'db', createDatabase: async () => {}, authorizeRead: () => {},
    })
    await apply(upsert('a', 1_000n, 1))
    assert.deepEqual((await executeSql(sql, context)).rows, [['a', 1n, 1]])
    assert.match(await influx(), /"host":"a"\},"columns":\["time","count"\],"values":\[\[0,1\]\]/)
    await apply(upsert('a', 2_000n, 5))
    await apply(upsert('b', 1_000n, 2))
    assert.deepEqual((await executeSql(sql, context)).rows, [['a', 2n, 5], ['b', 1n, 2]])
    assert.match(await influx(), /"host":"b"\},"columns":\["time","count"\],"values":\[\[0,1\]\]/)
    await store.flush()
    await apply(deleteAll('a'))
    assert.deepEqual((await executeSql(sql, context)).rows, [['b', 1n, 2]])
    assert.doesNotMatch(await influx(), /"host":"a"/)
    // A column the table does not have yet is refused, and answered once a write adds it.
    const temperature = 'SELECT max(temperature) AS t FROM cpu'
    await assert.rejects(executeSql(temperature, context), { code: 'SLUICE_ERR_QUERY_UNKNOWN_COLUMN' })
    const tags = [{ key: 'host', value: 'b' }]
    await apply({
      ingestPartition: 0, ingestOffset: 0n, command: null,
      upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tags), tags, points: [{ timeNs: 3_000n, fields: [{ name: 'temperature', value: 21.5 }] }], pointsIn: 1 },
    })
    assert.deepEqual((await executeSql(temperature, context)).rows, [[21.5]])
    await store.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
