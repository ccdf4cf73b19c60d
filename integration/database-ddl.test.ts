// Database and table DDL on a replica set of two node processes (one broker, Redis): a TTL set by
// SQL reaches both nodes through the log and hides the old points on each, with equal checksums; DROP
// DATABASE deletes every point on both and a later write recreates the database empty with new
// types; ALTER TABLE ... DROP deletes one field; IF EXISTS / IF NOT EXISTS; bad options are refused
// naming them. Every answer is read through SQL on each node's own stores.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { uniqueName } from './http-helpers.ts'
import { eventually } from './support/kafka.ts'
import { nodeChecksum, stopAll } from './support/replicas.ts'

const PARTITIONS = 2
const HOUR_NS = 3_600_000_000_000n
const DAY_NS = 24n * HOUR_NS
const tenant = uniqueName('it_dbddl')
const nodeArgs = ['--partitions', String(PARTITIONS), '--default-tenant', tenant, '--replica-flush-interval-ms', '500', '--heartbeat-interval-ms', '500']
let broker: BrokerProcess
const nodes: NodeProcess[] = []

before(async () => {
  broker = await startBrokerProcess()
  const id = uniqueName('dbddl')
  nodes.push(await startNodeProcess({ kafka: broker.bootstrap, nodeId: `${id}-a`, args: nodeArgs }))
  nodes.push(await startNodeProcess({ kafka: broker.bootstrap, nodeId: `${id}-b`, args: nodeArgs }))
})

after(() => stopAll(nodes, broker, tenant))

interface Answer {
  status: number
  body: Record<string, unknown> & Array<Record<string, unknown>>
}

async function sql(node: NodeProcess, database: string, statement: string): Promise<Answer> {
  const answer = await fetch(`${node.url}/api/v1/sql?db=${encodeURIComponent(database)}`, { method: 'POST', body: statement })
  return { status: answer.status, body: await answer.json() as Answer['body'] }
}

async function ok(node: NodeProcess, database: string, statement: string): Promise<Answer['body']> {
  const answer = await sql(node, database, statement)
  assert.equal(answer.status, 200, `${statement}: ${JSON.stringify(answer.body)}`)
  return answer.body
}

async function write(node: NodeProcess, database: string, lines: string[]): Promise<void> {
  const answer = await fetch(`${node.url}/api/v1/write?db=${database}`, { method: 'POST', body: lines.join('\n') })
  assert.equal(answer.status, 204, await answer.text())
}

/** Waits until every node applied the command's positions (read-your-writes). */
async function appliedEverywhere(positions: unknown): Promise<void> {
  for (const node of nodes) {
    const wait = await fetch(`${node.url}/api/v1/replicaset/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ positions, timeoutMs: 20_000 }) })
    assert.equal(wait.status, 200, `${node.nodeId}: ${await wait.clone().text()}`)
  }
}

/** The rows of a query on each node, once every node answers `expected` (a write has no position to wait for). */
async function everyNodeAnswers(database: string, statement: string, expected: unknown): Promise<void> {
  for (const node of nodes) {
    let last: unknown
    const reached = await eventually(async () => {
      const answer = await sql(node, database, statement)
      last = answer.status === 200 ? answer.body : answer.status
      return JSON.stringify(last) === JSON.stringify(expected)
    }, 30_000)
    assert.ok(reached, `${node.nodeId}: ${statement} answers ${JSON.stringify(last)}, not ${JSON.stringify(expected)}`)
  }
}

/** Both nodes at the same offsets with the same checksum. */
async function sameContent(): Promise<void> {
  let sums: Array<{ checksum: string; offsets: unknown }> = []
  const equal = await eventually(async () => {
    sums = await Promise.all(nodes.map(node => nodeChecksum(node.url)))
    return sums[0]!.checksum === sums[1]!.checksum && JSON.stringify(sums[0]!.offsets) === JSON.stringify(sums[1]!.offsets)
  }, 30_000)
  assert.ok(equal, `both nodes hold the same points: ${JSON.stringify(sums)}`)
}

test('a TTL set by SQL hides the points older than it on every node, with the same checksum', async () => {
  const nowNs = BigInt(Date.now()) * 1_000_000n
  const created = await ok(nodes[0]!, 'weather', "CREATE DATABASE weather WITH TTL '90d'")
  await appliedEverywhere(created.positions)
  const lines: string[] = []
  for (let station = 0; station < 8; station++) {
    for (const ageDays of [30n, 10n]) lines.push(`air,station=s${station} temperature=${station}.5 ${nowNs - ageDays * DAY_NS}`)
    lines.push(`air,station=s${station} temperature=${station}.25 ${nowNs - HOUR_NS}`)
  }
  await write(nodes[1]!, 'weather', lines)
  await everyNodeAnswers('weather', 'SELECT count(temperature) AS n FROM air', [{ n: 24 }])

  const altered = await ok(nodes[1]!, 'weather', "ALTER DATABASE weather SET TTL '7d'")
  assert.equal((altered.positions as unknown[]).length, PARTITIONS, 'the TTL went to every partition')
  await appliedEverywhere(altered.positions)
  for (const node of nodes) {
    assert.deepEqual(await ok(node, 'weather', 'SELECT count(temperature) AS n, min(temperature) AS low FROM air'), [{ n: 8, low: 0.25 }], `${node.nodeId} hides the points older than 7 days`)
    assert.deepEqual(await ok(node, 'weather', 'DESCRIBE DATABASE weather'), { database: 'weather', ttl: '7d', ttl_ns: String(7n * DAY_NS) })
  }
  await sameContent()

  const forever = await ok(nodes[0]!, 'weather', 'ALTER DATABASE weather SET TTL INF')
  await appliedEverywhere(forever.positions)
  await everyNodeAnswers('weather', 'SELECT count(temperature) AS n FROM air', [{ n: 24 }])
  await sameContent()
})

test('DROP DATABASE deletes every point on every node; a write after it recreates the database with new types', async () => {
  await write(nodes[0]!, 'plant', Array.from({ length: 10 }, (_, i) => `boiler,unit=u${i} temp=${i}.5,state="on" ${1_700_000_000_000_000_000n + BigInt(i)}`))
  await everyNodeAnswers('plant', 'SELECT count(temp) AS n FROM boiler', [{ n: 10 }])

  const dropped = await ok(nodes[1]!, 'plant', 'DROP DATABASE plant')
  assert.equal(dropped.dropped, true)
  await appliedEverywhere(dropped.positions)
  for (const node of nodes) {
    const shown = await ok(node, 'plant', 'SHOW DATABASES')
    assert.ok(!shown.some(row => row.database_name === 'plant'), `${node.nodeId}: the catalog forgot plant`)
    const gone = await sql(node, 'plant', 'SELECT count(temp) AS n FROM boiler')
    assert.ok(gone.status === 404 || JSON.stringify(gone.body) === '[{"n":0}]', `${node.nodeId}: no point left (${gone.status} ${JSON.stringify(gone.body)})`)
  }
  assert.equal((await sql(nodes[0]!, 'plant', 'DROP DATABASE plant')).status, 404)
  assert.deepEqual((await ok(nodes[0]!, 'plant', 'DROP DATABASE IF EXISTS plant')).dropped, false)

  // temp was a float on node a, which cached it; now it is a string, written there.
  await write(nodes[0]!, 'plant', [`boiler,unit=u1 temp="hot" ${1_700_000_000_000_000_100n}`])
  await everyNodeAnswers('plant', 'SELECT unit, temp FROM boiler', [{ unit: 'u1', temp: 'hot' }])
  await sameContent()
})

test('ALTER TABLE ... DROP deletes one field on every node; IF EXISTS and IF NOT EXISTS; bad options are refused naming them', async () => {
  await write(nodes[1]!, 'lab', Array.from({ length: 6 }, (_, i) => `probe,id=p${i} ph=${i}.5,volts=${i}i ${1_700_000_000_000_000_000n + BigInt(i)}`))
  await everyNodeAnswers('lab', 'SELECT count(ph) AS ph, count(volts) AS volts FROM probe', [{ ph: 6, volts: 6 }])
  const dropped = await ok(nodes[0]!, 'lab', 'ALTER TABLE probe DROP volts')
  assert.deepEqual(dropped.columns, ['volts'])
  await appliedEverywhere(dropped.positions)
  for (const node of nodes) {
    assert.deepEqual(await ok(node, 'lab', 'SELECT count(ph) AS ph FROM probe'), [{ ph: 6 }], `${node.nodeId} keeps the other field`)
    const volts = await sql(node, 'lab', 'SELECT count(volts) AS volts FROM probe')
    assert.ok(volts.status === 404 || JSON.stringify(volts.body) === '[{"volts":0}]', `${node.nodeId}: volts is gone (${volts.status} ${JSON.stringify(volts.body)})`)
  }
  await sameContent()

  assert.equal((await ok(nodes[0]!, 'lab', "CREATE DATABASE IF NOT EXISTS lab WITH TTL '1d'")).created, false)
  assert.deepEqual(await ok(nodes[1]!, 'lab', 'DESCRIBE DATABASE lab'), { database: 'lab', ttl: 'INF', ttl_ns: null }, 'IF NOT EXISTS changed nothing')
  assert.deepEqual((await ok(nodes[1]!, 'lab', 'DROP TABLE IF EXISTS nothing_here')).dropped, false)
  for (const [statement, status, message] of [
    ["CREATE DATABASE other WITH TTL '5 days'", 400, /TTL '5 days'/],
    ["CREATE DATABASE other WITH REPLICA 2", 422, /database option REPLICA is not supported/],
    ["CREATE DATABASE other WITH RETENTION '5d'", 400, /unknown database option RETENTION/],
    ["ALTER DATABASE lab SET TTL '-1d'", 400, /TTL '-1d'/],
  ] as const) {
    const answer = await sql(nodes[0]!, 'lab', statement)
    assert.equal(answer.status, status, `${statement}: ${JSON.stringify(answer.body)}`)
    assert.match(String(answer.body.error_message), message)
  }
  assert.equal((await sql(nodes[0]!, 'other', 'DESCRIBE DATABASE other')).status, 404, 'a refused CREATE created nothing')
})
