// A node without a processor on a fresh broker starts at once (sluice.changelog does not exist
// yet, and the replica must not create it); its replica starts applying once another node's
// processor creates the topic, and reaches the same checksum. Until it reads the changelog it
// refuses queries (503, retriable) instead of answering from an empty store.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { uniqueName } from './http-helpers.ts'
import { nodeChecksum, stopAll } from './support/replicas.ts'

const tenant = uniqueName('it_latetopic')
const args = ['--partitions', '2', '--default-tenant', tenant, '--replica-flush-interval-ms', '500']
let broker: BrokerProcess
const nodes: NodeProcess[] = []

before(async () => { broker = await startBrokerProcess() })

after(() => stopAll(nodes, broker, tenant))

test('a replica waits for sluice.changelog without creating it, then applies it', async () => {
  const id = uniqueName('lt')
  nodes.push(await startNodeProcess({ kafka: broker.bootstrap, nodeId: `${id}-replica`, args: [...args, '--no-processor'] }))
  const positions = await (await fetch(`${nodes[0]!.url}/api/v1/replicaset/positions`)).json() as { state: string }
  assert.equal(positions.state, 'starting')
  // Not reading the changelog yet: a query is refused, retriable, rather than answered from nothing.
  const early = await fetch(`${nodes[0]!.url}/api/v1/sql?db=late`, { method: 'POST', body: 'SELECT count(v) FROM m' })
  assert.equal(early.status, 503)
  assert.equal(early.headers.get('retry-after'), '5')
  assert.match(await early.text(), /SLUICE_ERR_REPLICA_CATCHING_UP.*catching up with sluice\.changelog \(partition 0 not yet reading/)
  nodes.push(await startNodeProcess({ kafka: broker.bootstrap, nodeId: `${id}-master`, args }))
  const answer = await fetch(`${nodes[1]!.url}/write?db=late`, { method: 'POST', body: 'm,k=a v=1 1\nm,k=b v=2 2\nm,k=c v=3 3' })
  assert.equal(answer.status, 204)
  const deadline = Date.now() + 30_000
  let sums: Array<{ checksum: string; offsets: Record<string, string> }> = []
  while (Date.now() < deadline) {
    sums = await Promise.all(nodes.map(node => nodeChecksum(node.url)))
    const applied = Object.values(sums[1]!.offsets).reduce((total, offset) => total + BigInt(offset), 0n)
    if (applied >= 3n && sums[0]!.checksum === sums[1]!.checksum) break
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  assert.equal(sums[0]!.checksum, sums[1]!.checksum, JSON.stringify(sums))
  assert.deepEqual(sums[0]!.offsets, sums[1]!.offsets)
  assert.match(nodes[0]!.logs(), /"event":"replica_waiting_for_topic"/)
  const late = await fetch(`${nodes[0]!.url}/api/v1/sql?db=late`, { method: 'POST', body: 'SELECT count(v) AS n FROM m' })
  assert.equal(late.status, 200, 'caught up, it answers')
  assert.deepEqual(await late.json(), [{ n: 3 }])
})
