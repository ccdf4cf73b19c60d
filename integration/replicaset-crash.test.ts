// kill -9 a replica (which is also a master) at random moments during ingest, flushes and
// compactions, and restart it on the same data directory: it recovers to the checksum of a
// reference replica built from the committed changelog, at the same offsets, with no point lost or
// doubled; the nodes that never crashed report the same.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { uniqueName } from './http-helpers.ts'
import { kafkaClient } from './support/kafka.ts'
import { buildReference, readChangelogPoints, referencePoints, waitForChecksum, startThreeNodes, stopAll } from './support/replicas.ts'

const PARTITIONS = 3
const SERIES = 50
const BATCHES = 40
const BATCH_POINTS = 200
const tenant = uniqueName('it_replicacrash')
// Flushes every 100 ms (and so compactions) make a kill land during one often.
const nodeArgs = ['--partitions', String(PARTITIONS), '--default-tenant', tenant, '--replica-flush-interval-ms', '100', '--heartbeat-interval-ms', '500', '--master-session-timeout-ms', '3000']
let broker: BrokerProcess
const nodes: NodeProcess[] = []

before(async () => {
  broker = await startBrokerProcess()
  nodes.push(...await startThreeNodes(broker.bootstrap, 'rc', nodeArgs))
})

after(() => stopAll(nodes, broker, tenant))

async function kill9(node: NodeProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return
  const exited = once(node.child, 'exit')
  node.child.kill('SIGKILL')
  await exited
}

const timeNs = (i: number): bigint => 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000n
const line = (i: number): string => `temp,sensor=s${i % SERIES} c=${i}.5 ${timeNs(i)}`

test('a replica killed -9 during ingest, flush and compaction recovers to the checksum of one that never crashed', async () => {
  const victim = 2
  const { dataDir, nodeId } = nodes[victim]!
  const kills = [8, 24] // batches after which the victim dies; it comes back after a random pause
  let restarted: Promise<void> = Promise.resolve()
  for (let batch = 0; batch < BATCHES; batch++) {
    const node = nodes[batch % 2]! // the victim takes no writes: the test is about its replica (and its masters' takeover)
    const body = Array.from({ length: BATCH_POINTS }, (_, k) => line(batch * BATCH_POINTS + k)).join('\n')
    const answer = await fetch(`${node.url}/write?db=plant`, { method: 'POST', body })
    assert.equal(answer.status, 204, await answer.text())
    if (kills.includes(batch)) {
      await restarted
      await new Promise(resolve => setTimeout(resolve, Math.floor(Math.random() * 300)))
      await kill9(nodes[victim]!)
      restarted = (async () => {
        await new Promise(resolve => setTimeout(resolve, 200 + Math.floor(Math.random() * 800)))
        nodes[victim] = await startNodeProcess({ kafka: broker.bootstrap, dataDir, nodeId, args: nodeArgs })
      })()
    }
  }
  await restarted
  // One more kill while it catches up, right after start, then a last restart.
  await new Promise(resolve => setTimeout(resolve, Math.floor(Math.random() * 500)))
  await kill9(nodes[victim]!)
  nodes[victim] = await startNodeProcess({ kafka: broker.bootstrap, dataDir, nodeId, args: nodeArgs })

  const points = BATCHES * BATCH_POINTS
  const reference = await buildReference(await readChangelogPoints(kafkaClient(broker.bootstrap), 'plant', points, 45_000), PARTITIONS, kafkaClient(broker.bootstrap))
  try {
    const expected = Array.from({ length: points }, (_, i) => `temp,sensor=s${i % SERIES}@${timeNs(i)}=${i}.5`).sort()
    assert.deepEqual(referencePoints(reference, tenant, 'plant', 'temp', 'c'), expected, 'the committed changelog holds each point once')
    for (const node of nodes) {
      const answer = await waitForChecksum(node.url, reference, 30_000)
      assert.deepEqual(answer.offsets, reference.offsets, `${node.nodeId} is at the reference's offsets`)
      assert.equal(answer.checksum, reference.checksum, `${node.nodeId} holds exactly the reference's points`)
    }
  } finally {
    await reference.close()
  }
  // The last restart resumed from stores flushed before the kill, not from an empty directory.
  assert.match(nodes[victim]!.logs(), /"event":"store_opened".*"durableOffset":"[1-9]/)
})
