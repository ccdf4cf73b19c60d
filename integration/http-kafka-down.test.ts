// The HTTP write API when Kafka goes away: a write with the broker stopped gets 503 and Retry-After
// and leaves nothing in sluice.ingest; a broker killed (-9) in the middle of concurrent writes that
// each span every partition leaves every request all-or-nothing (transactions), every 204 complete,
// no point twice, in sluice.ingest and in what the node's master and replica applied; and writes
// resume once the broker is back. Real processes, real Redis, no mocks.

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { countByPoint, forgetTenants, readIngest, uniqueName } from './http-helpers.ts'

const post = (url: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers } })

// A short transaction timeout, so the broker aborts what the killed writes left open soon and
// read_committed readers move on; the broker checks for expired transactions twice a second.
const brokerArgs = ['--config', 'transactionAbortCheckIntervalMs=500']
const tenant = uniqueName('it_tenant')
const nodeArgs = ['--limit', 'transactionTimeoutMs=5000', '--partitions', '8', '--default-tenant', tenant]

let broker: BrokerProcess | undefined
let node: NodeProcess | undefined

after(async () => {
  await node?.stop()
  await broker?.stop()
  await forgetTenants([tenant])
})

/** The rows of `sql` once there are at least `count` of them (the node applies asynchronously), or the last answer's after 60 s. */
async function eventuallyRows(target: NodeProcess, db: string, sql: string, count: number): Promise<Array<Record<string, unknown>>> {
  let rows: Array<Record<string, unknown>> = []
  for (let attempt = 0; attempt < 240 && rows.length < count; attempt++) {
    if (attempt > 0) await new Promise(resolve => setTimeout(resolve, 250))
    const answer = await fetch(`${target.url}/api/v1/sql?db=${db}`, { method: 'POST', body: sql })
    if (answer.status === 200) rows = await answer.json() as Array<Record<string, unknown>>
  }
  return rows
}

/** Posts until the answer is 204 (the node reconnects to a restarted broker on its own); returns how many tries it took. */
async function writeUntilAccepted(url: string, body: string, tries = 60): Promise<number> {
  for (let attempt = 1; attempt <= tries; attempt++) {
    const response = await post(url, body)
    if (response.status === 204) return attempt
    assert.ok([503, 429].includes(response.status), `only retriable answers while Kafka comes back, got ${response.status}`)
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  throw new Error(`no 204 after ${tries} tries`)
}

test('with the broker stopped: 503 + Retry-After, nothing written; writes resume after a restart', async () => {
  broker = await startBrokerProcess({ args: brokerArgs })
  node = await startNodeProcess({ kafka: broker.bootstrap, args: nodeArgs })
  const db = uniqueName('it_down')
  const series = (tag: string, time: number): string => Array.from({ length: 30 }, (_, i) => `m,s=s${i} ${tag}=1 ${time}`).join('\n')
  assert.equal((await post(`${node.url}/write?db=${db}`, series('before', 1))).status, 204)

  await broker.kill()
  const v1 = await post(`${node.url}/write?db=${db}`, series('down_v1', 2))
  assert.equal(v1.status, 503)
  assert.equal(v1.headers.get('retry-after'), '5')
  assert.equal(((await v1.json()) as { error: string }).error.includes('nothing was written'), true)
  const v2 = await post(`${node.url}/api/v2/write?bucket=${db}`, series('down_v2', 3))
  assert.ok([503, 429].includes(v2.status), `v2 answers ${v2.status}`)
  assert.equal(v2.headers.get('retry-after'), '5')
  const cnos = await post(`${node.url}/api/v1/write?db=${db}`, series('down_cnos', 4))
  assert.equal(cnos.status, 503)
  const health = await fetch(`${node.url}/health`)
  assert.equal(health.status, 503, '/health reports Kafka failing')

  broker = await broker.restart()
  await writeUntilAccepted(`${node.url}/write?db=${db}`, series('after', 5))

  const counts = countByPoint(await readIngest(broker.bootstrap), db)
  const times = [...counts.keys()].map(id => Number(id.split('|')[2]))
  assert.deepEqual([...new Set(times)].sort(), [1, 5], 'the refused writes left nothing, the accepted ones everything')
  assert.equal(counts.size, 60)
  assert.deepEqual([...new Set(counts.values())], [1])
  // The node's consumers lost the broker too (kafkajs gives some of them up): it applies both writes.
  const rows = await eventuallyRows(node, db, 'SELECT * FROM m', 60)
  assert.equal(rows.length, 60, 'the node applied the writes before and after the outage')
})

test('broker killed during concurrent multi-partition writes: every request all-or-nothing, every 204 complete, no duplicate; the node applies what committed', async t => {
  const db = uniqueName('it_kill')
  broker ??= await startBrokerProcess({ args: brokerArgs })
  node ??= await startNodeProcess({ kafka: broker.bootstrap, args: nodeArgs })
  const seriesPerRequest = 40
  const outcomes = new Map<number, number>() // request id (= timestamp) → status
  let nextRequest = 1
  let accepted = 0
  let killed = false
  let refusedAfterKill = 0
  let refusedBeforeKill = 0
  const client = async (): Promise<void> => {
    while (!killed || refusedAfterKill < 8) {
      const id = nextRequest++
      const body = Array.from({ length: seriesPerRequest }, (_, i) => `load,s=s${i} v=${id}i ${id}`).join('\n')
      const response = await post(`${node!.url}/write?db=${db}`, body)
      outcomes.set(id, response.status)
      if (response.status === 204) accepted++
      else if (killed) refusedAfterKill++
      else if (response.status === 503) refusedBeforeKill++ // a write slower than its timeout on a loaded machine: refused whole, checked below
      else assert.fail(`answer ${response.status} before the broker was killed`)
    }
  }
  const clients = [client(), client(), client(), client()]
  while (accepted < 40) await new Promise(resolve => setTimeout(resolve, 20))
  await broker!.kill()
  killed = true
  await Promise.all(clients)
  for (const status of outcomes.values()) assert.ok([204, 503].includes(status), `status ${status}`)

  broker = await broker!.restart()
  await writeUntilAccepted(`${node.url}/write?db=${db}`, 'load,s=after v=0i 0')
  const counts = countByPoint(await readIngest(broker.bootstrap, { timeoutMs: 90_000 }), db)
  assert.deepEqual([...new Set(counts.values())], [1], 'no point twice')
  const pointsPerRequest = new Map<number, number>()
  for (const id of counts.keys()) {
    const time = Number(id.split('|')[2])
    pointsPerRequest.set(time, (pointsPerRequest.get(time) ?? 0) + 1)
  }
  let ambiguous = 0
  for (const [request, status] of outcomes) {
    const found = pointsPerRequest.get(request) ?? 0
    assert.ok(found === 0 || found === seriesPerRequest, `request ${request} (${status}) is half-written: ${found} of ${seriesPerRequest} points`)
    if (status === 204) assert.equal(found, seriesPerRequest, `request ${request} was acknowledged, so all its points are there`)
    if (status === 503 && found > 0) ambiguous++
  }
  const refused = [...outcomes.values()].filter(status => status === 503).length
  t.diagnostic(`${accepted} requests acknowledged, ${refused} refused (${refusedBeforeKill} before the kill; ${ambiguous} committed before the answer was lost)`)
  assert.ok(refused >= 8)

  // The master read the same topic (read_committed, through kafkajs) and the replica applied what it
  // wrote: the node answers exactly the committed requests, each whole. Every point's v is its request.
  const expected = [...pointsPerRequest.values()].reduce((sum, n) => sum + n, 0) // the write after the restart (request 0) included
  const applied = new Map<number, number>()
  for (const { v } of await eventuallyRows(node, db, 'SELECT v FROM load', expected) as Array<{ v: number }>) applied.set(v, (applied.get(v) ?? 0) + 1)
  for (const request of outcomes.keys()) {
    assert.equal(applied.get(request) ?? 0, pointsPerRequest.get(request) ?? 0, `request ${request} (${outcomes.get(request)}): the node applied what sluice.ingest committed`)
  }
  assert.equal(applied.get(0), 1, 'the write after the restart is applied')
})
