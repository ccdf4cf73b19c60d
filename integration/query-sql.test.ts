// The SQL language and interface of issue 6 end to end: a broker process and a node process, line
// protocol written over HTTP, then /api/v1/sql with field conditions, OR, LIKE, CASE and arithmetic
// over aggregates, a subquery, SHOW DATABASES/SERIES/TAG VALUES, EXPLAIN, NDJSON, a large answer
// written in chunks, a syntax error's line and column, and the `sluice sql` command. The node runs
// with --auth: SHOW DATABASES lists only the databases a token may see. The table
// (times t1 < t2 < t3 a minute apart):
//   host=a region=eu  t1 usage=1 reqs=10 state="idle" | t2 usage=3.5 reqs=20 | t3 usage=5 reqs=30 state="busy"
//   host=b region=us  t1 usage=2 reqs=5
//   host=c            t1 usage=4

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const T1 = 1_700_000_000_000_000_000n   // 2023-11-14T22:13:20Z
const MINUTE = 60_000_000_000n
const BIG_ROWS = 12_000
const tenant = uniqueName('it_query_sql')
let broker: BrokerProcess
let node: NodeProcess
/** Reads and writes every database of the tenant. */
let token: string
/** Reads sqltest only. */
let limited: string

before(async () => {
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--auth', '--partitions', '2', '--replica-flush-interval-ms', '300'] })
  token = node.createToken({ tenant, id: 'all' })
  limited = node.createToken({ tenant, databases: ['sqltest'], permissions: ['read'], id: 'sqltest-reader' })
  const lines = [
    `cpu,host=a,region=eu usage=1,reqs=10i,state="idle" ${T1}`,
    `cpu,host=a,region=eu usage=3.5,reqs=20i ${T1 + MINUTE}`,
    `cpu,host=a,region=eu usage=5,reqs=30i,state="busy" ${T1 + 2n * MINUTE}`,
    `cpu,host=b,region=us usage=2,reqs=5i ${T1}`,
    `cpu,host=c usage=4 ${T1}`,
    ...Array.from({ length: BIG_ROWS }, (_, i) => `big,k=k${i % 3} v=${i}i ${T1 + BigInt(i) * 1_000_000n}`),
  ]
  const written = await fetch(`${node.url}/write?db=sqltest`, { method: 'POST', body: lines.join('\n'), headers: { authorization: `Token ${token}` } })
  assert.equal(written.status, 204, await written.text())
  // A DELETE that matches nothing follows the writes on every partition: once applied, so are they.
  const deleted = await fetch(`${node.url}/api/v1/sql?db=sqltest`, { method: 'POST', body: `DELETE FROM cpu WHERE host = 'nobody'`, headers: { authorization: `Token ${token}` } })
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

async function sql(statement: string, accept?: string, as = token): Promise<{ status: number; body: string; type: string | null; rows: Array<Record<string, unknown>> }> {
  const answer = await fetch(`${node.url}/api/v1/sql?db=sqltest`, { method: 'POST', body: statement, headers: { authorization: `Token ${as}`, ...(accept ? { accept } : {}) } })
  const body = await answer.text()
  const json = answer.status === 200 && (accept === undefined || accept === 'application/json')
  return { status: answer.status, body, type: answer.headers.get('content-type'), rows: json ? JSON.parse(body) as Array<Record<string, unknown>> : [] }
}

test('field conditions with OR and LIKE between tags and fields', async () => {
  const answer = await sql(`SELECT time, host, usage FROM cpu WHERE usage > 1.5 AND (host LIKE 'a%' OR region = 'us') ORDER BY host, time`)
  assert.equal(answer.status, 200, answer.body)
  assert.deepEqual(answer.rows, [
    { time: '2023-11-14T22:14:20Z', host: 'a', usage: 3.5 },
    { time: '2023-11-14T22:15:20Z', host: 'a', usage: 5 },
    { time: '2023-11-14T22:13:20Z', host: 'b', usage: 2 },
  ])
  const counted = await sql(`SELECT count(*) AS n, sum(reqs) AS s FROM cpu WHERE state IS NULL OR reqs BETWEEN 25 AND 35`)
  assert.deepEqual(counted.rows, [{ n: 4, s: 55 }], 'a t2 (20), a t3 (30), b (5), c (no reqs)')
})

test('CASE and arithmetic over aggregates; HAVING', async () => {
  const answer = await sql(`SELECT host, CASE WHEN max(usage) >= 4 THEN 'hot' ELSE 'cool' END AS heat, max(usage) - min(usage) AS range
    FROM cpu GROUP BY host HAVING count(usage) >= 1 ORDER BY host`)
  assert.equal(answer.status, 200, answer.body)
  assert.deepEqual(answer.rows, [{ host: 'a', heat: 'hot', range: 4 }, { host: 'b', heat: 'cool', range: 0 }, { host: 'c', heat: 'hot', range: 0 }])
})

test('a subquery in FROM', async () => {
  // Two-minute bins from the epoch: a's t1 alone (max 1), t2 and t3 together (max 5) → avg 3.
  const answer = await sql(`SELECT host, avg(m) AS am FROM (SELECT host, max(usage) AS m FROM cpu GROUP BY host, date_bin(INTERVAL '2 minutes', time)) GROUP BY host ORDER BY host`)
  assert.equal(answer.status, 200, answer.body)
  assert.deepEqual(answer.rows, [{ host: 'a', am: 3 }, { host: 'b', am: 2 }, { host: 'c', am: 4 }])
})

test('SHOW DATABASES, SHOW SERIES and SHOW TAG VALUES; CREATE DATABASE and DROP DATABASE', async () => {
  assert.deepEqual((await sql('SHOW DATABASES')).rows, [{ database_name: 'sqltest' }])
  const created = await sql('CREATE DATABASE "empty one"')
  assert.equal(created.status, 200, created.body)
  assert.deepEqual((await sql('SHOW DATABASES')).rows, [{ database_name: 'empty one' }, { database_name: 'sqltest' }])
  assert.deepEqual((await sql('SHOW DATABASES', undefined, limited)).rows, [{ database_name: 'sqltest' }], 'only the databases the token may see')
  const dropped = await sql('DROP DATABASE "empty one"')
  assert.equal(dropped.status, 200, dropped.body)
  assert.deepEqual((await sql('SHOW DATABASES')).rows, [{ database_name: 'sqltest' }])
  assert.equal((await sql(`CREATE DATABASE other WITH SHARD 3`)).status, 422, 'a CnosDB option Sluice does not take')
  assert.deepEqual((await sql(`SHOW SERIES FROM cpu WHERE host != 'c'`)).rows, [{ key: 'cpu,host=a,region=eu' }, { key: 'cpu,host=b,region=us' }])
  assert.deepEqual((await sql('SHOW TAG VALUES FROM cpu WITH KEY = "region"')).rows, [{ key: 'region', value: 'eu' }, { key: 'region', value: 'us' }])
})

test('EXPLAIN shows the pushed-down range, the series pruning and the row filter', async () => {
  const answer = await sql(`EXPLAIN SELECT max(usage) FROM cpu WHERE time >= '2023-11-14T22:14:00Z' AND host = 'a' AND usage < 5`)
  assert.equal(answer.status, 200, answer.body)
  const plan = new Map(answer.rows.map((r) => [r.plan_type, r.plan]))
  assert.equal(plan.get('table'), 'cpu')
  assert.equal(plan.get('time range (block pruning)'), '[2023-11-14T22:14:00.000Z, +∞)')
  assert.equal(plan.get('tag conditions (series pruning)'), "host = 'a'")
  assert.equal(plan.get('row filter (per row; no block statistics)'), 'usage < 5')
  assert.match(String(plan.get('total')), /^series 1, chunks scanned \d+, points scanned 2,/)
})

test('NDJSON, and an answer over 10,000 rows written in chunks in every format', async () => {
  const ndjson = await sql(`SELECT host, usage FROM cpu WHERE time = ${T1} ORDER BY host`, 'application/x-ndjson')
  assert.equal(ndjson.status, 200, ndjson.body)
  assert.match(ndjson.type!, /^application\/x-ndjson/)
  assert.equal(ndjson.body, '{"host":"a","usage":1}\n{"host":"b","usage":2}\n{"host":"c","usage":4}\n')
  for (const accept of ['application/json', 'text/csv', 'application/x-ndjson']) {
    const answer = await fetch(`${node.url}/api/v1/sql?db=sqltest`, { method: 'POST', body: 'SELECT time, v FROM big ORDER BY v', headers: { accept, authorization: `Token ${token}` } })
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('transfer-encoding'), 'chunked', accept)
    const body = await answer.text()
    const values = accept === 'application/json'
      ? (JSON.parse(body) as Array<{ v: number }>).map((r) => r.v)
      : accept === 'text/csv' ? body.trimEnd().split('\n').slice(1).map((l) => Number(l.split(',')[1])) : body.trimEnd().split('\n').map((l) => (JSON.parse(l) as { v: number }).v)
    assert.equal(values.length, BIG_ROWS, accept)
    assert.ok(values.every((v, i) => v === i), `${accept}: every row in order`)
  }
})

test('a syntax error names its line and column; type mismatches and unknown columns are 4xx', async () => {
  const answer = await sql('SELECT usage\nFROM cpu WHERE usage = = 1')
  assert.equal(answer.status, 400, answer.body)
  const error = JSON.parse(answer.body) as { error_code: string; error_message: string; line: number; column: number }
  assert.equal(error.line, 2)
  assert.equal(error.column, 24)
  assert.match(error.error_message, /line 2, column 24/)
  assert.equal((await sql(`SELECT usage FROM cpu WHERE usage > 'x'`)).status, 422)
  assert.equal((await sql(`SELECT usage FROM cpu WHERE nope > 1`)).status, 404)
})

/** Runs `sluice sql ...` to its end. */
function sluiceSql(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['bin/sluice.js', 'sql', ...args, '--node', node.url, '--db', 'sqltest', '--tenant', tenant, '--token', token], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => { stdout += chunk })
    child.stderr.on('data', (chunk) => { stderr += chunk })
    child.once('error', reject)
    child.once('exit', (code) => resolveRun({ code, stdout, stderr }))
  })
}

test('sluice sql prints an aligned table, CSV, and exits 1 with the node\'s message on an error', async () => {
  const table = await sluiceSql(`SELECT host, max(usage) AS top FROM cpu GROUP BY host ORDER BY host`)
  assert.equal(table.code, 0, table.stderr)
  assert.equal(table.stdout, 'host  top\n----  ---\na       5\nb       2\nc       4\n(3 rows)\n')
  const csv = await sluiceSql('SHOW TABLES', '--format', 'csv')
  assert.equal(csv.stdout, 'table_name\nbig\ncpu\n')
  const failed = await sluiceSql('SELECT nope FROM cpu')
  assert.equal(failed.code, 1)
  assert.match(failed.stderr, /^sluice sql: 404 column "nope" not found in table "cpu"\n$/)
})
