// Queries end to end: a broker process and a node process. Points written over HTTP (with a
// rewrite of some of them and a DELETE) reach the node's replica; once the DELETE's positions are
// applied, SELECTs over /api/v1/sql give exactly the values computed here from what was written.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'

const PARTITIONS = 2
const POINTS = 400
const T0 = 1_700_000_000_000_000_000n
const SECOND = 1_000_000_000n
const tenant = uniqueName('it_query')
let broker: BrokerProcess
let node: NodeProcess

before(async () => {
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', String(PARTITIONS), '--default-tenant', tenant, '--replica-flush-interval-ms', '300'] })
})

after(async () => {
  assert.equal(await node?.stop(), 0, 'the node exits 0 on SIGTERM')
  await broker?.stop()
  await forgetTenants([tenant])
})

const sql = async (statement: string, accept = 'application/json'): Promise<{ status: number; body: string }> => {
  const answer = await fetch(`${node.url}/api/v1/sql?db=metrics`, { method: 'POST', body: statement, headers: { accept } })
  return { status: answer.status, body: await answer.text() }
}

/** host → time (ns) → usage, as written, rewritten and deleted. */
const expected = new Map<string, Map<bigint, number>>()

test('written points are queried back exactly: raw rows, aggregates per host and per minute, CSV', async () => {
  const write = async (lines: string[]): Promise<void> => {
    const answer = await fetch(`${node.url}/write?db=metrics`, { method: 'POST', body: lines.join('\n') })
    assert.equal(answer.status, 204, await answer.text())
  }
  const put = (i: number, usage: number): string => {
    const host = `h${i % 4}`
    const time = T0 + BigInt(i) * SECOND
    if (!expected.has(host)) expected.set(host, new Map())
    expected.get(host)!.set(time, usage)
    return `cpu,host=${host} usage=${usage} ${time}`
  }
  for (let i = 0; i < POINTS; i += 100) await write(Array.from({ length: 100 }, (_, k) => put(i + k, (i + k) * 0.25)))
  await write(Array.from({ length: 40 }, (_, i) => put(i * 3, 1000 + i)))   // upserts of earlier points
  const deleted = await fetch(`${node.url}/api/v1/sql?db=metrics`, { method: 'POST', body: `DELETE FROM cpu WHERE host = 'h3' AND time < ${T0 + 200n * SECOND}` })
  const command = await deleted.json() as { positions: Array<{ partition: number; offset: string }> }
  assert.equal(deleted.status, 200, JSON.stringify(command))
  for (const [time] of expected.get('h3')!) if (time < T0 + 200n * SECOND) expected.get('h3')!.delete(time)
  // The command follows every write on each partition: once it is applied, so are they.
  const wait = await fetch(`${node.url}/api/v1/replicaset/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ positions: command.positions, timeoutMs: 30_000 }) })
  assert.equal(wait.status, 200, await wait.text())

  const rows = await sql(`SELECT time, host, usage FROM cpu WHERE host IN ('h1', 'h3') ORDER BY time, host`)
  assert.equal(rows.status, 200, rows.body)
  const rawExpected = ['h1', 'h3'].flatMap((host) => [...expected.get(host)!].map(([time, usage]) => ({ time, host, usage })))
    .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.host < b.host ? -1 : 1))
  const raw = JSON.parse(rows.body) as Array<{ time: string; host: string; usage: number }>
  assert.equal(raw.length, rawExpected.length)
  raw.forEach((row, i) => {
    const want = rawExpected[i]!
    assert.deepEqual(row, { time: new Date(Number(want.time / 1_000_000n)).toISOString().replace('.000Z', 'Z'), host: want.host, usage: want.usage }, `row ${i}`)
  })

  const perHost = await sql('SELECT host, count(usage) AS n, sum(usage) AS s, min(usage) AS lo, max(usage) AS hi, last(time, usage) AS l FROM cpu GROUP BY host ORDER BY host')
  assert.equal(perHost.status, 200, perHost.body)
  assert.deepEqual(JSON.parse(perHost.body), [...expected.keys()].sort().map((host) => {
    const points = [...expected.get(host)!].sort(([a], [b]) => (a < b ? -1 : 1))
    const values = points.map(([, usage]) => usage)
    return { host, n: values.length, s: values.reduce((a, b) => a + b, 0), lo: Math.min(...values), hi: Math.max(...values), l: values[values.length - 1] }
  }))

  const perMinute = await sql(`SELECT date_bin(INTERVAL '1 minute', time) AS minute, count(*) AS n FROM cpu GROUP BY minute ORDER BY minute`, 'text/csv')
  assert.equal(perMinute.status, 200, perMinute.body)
  const counts = new Map<string, number>()
  for (const points of expected.values()) {
    for (const time of points.keys()) {
      const minute = new Date(Number((time - (time % (60n * SECOND))) / 1_000_000n)).toISOString().replace('.000Z', 'Z')
      counts.set(minute, (counts.get(minute) ?? 0) + 1)
    }
  }
  assert.equal(perMinute.body, 'minute,n\n' + [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([minute, n]) => `${minute},${n}`).join('\n') + '\n')

  const tables = await sql('SHOW TABLES')
  assert.deepEqual(JSON.parse(tables.body), [{ table_name: 'cpu' }])
  const refused = await sql('SELECT usage FROM cpu JOIN mem ON true')
  assert.equal(refused.status, 422, refused.body)
  assert.match(refused.body, /join/i)
  const unknown = await sql('SELECT usage FROM nowhere')
  assert.equal(unknown.status, 404, unknown.body)
})
