// The coordinator lookup replacement: the metadata's single broker once kafkajs's lookup found it for
// the same key in the same client; kafkajs's lookup in every other case. The integration test
// (integration/kafkajs-coordinator-lookup.test.ts) counts the round trips against the broker.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { type ClusterState, KAFKAJS_CLUSTER_MODULE, coordinatorLookup, installCoordinatorLookup } from './coordinator-lookup.ts'
import { pristineKafkajsModule } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)

function fakeCluster(brokers: number[] | null): ClusterState & { lookups: string[]; found: number[] } {
  return {
    brokerPool: { metadata: brokers === null ? null : { brokers: brokers.map(nodeId => ({ nodeId })) } },
    lookups: [],
    found: [],
    async findBroker({ nodeId }) { this.found.push(nodeId); return { nodeId } },
  }
}

const lookup = coordinatorLookup(async function (this: ClusterState, { groupId, coordinatorType }) {
  const cluster = this as ReturnType<typeof fakeCluster>
  cluster.lookups.push(`${coordinatorType ?? 0}:${groupId}`)
  const brokers = cluster.brokerPool.metadata?.brokers ?? [{ nodeId: 7 }]
  return { nodeId: brokers[0]!.nodeId }
})

test('on a one-broker cluster a coordinator is looked up once per (type, id) and client', async () => {
  const cluster = fakeCluster([3])
  for (let i = 0; i < 5; i++) assert.deepEqual(await lookup.call(cluster, { groupId: 'tx-1', coordinatorType: 1 }), { nodeId: 3 })
  assert.deepEqual(cluster.lookups, ['1:tx-1'])
  assert.deepEqual(cluster.found, [3, 3, 3, 3], 'the others answered by the broker pool')
  await lookup.call(cluster, { groupId: 'tx-1' })
  await lookup.call(cluster, { groupId: 'group-a', coordinatorType: 0 })
  await lookup.call(cluster, { groupId: 'group-a' })
  assert.deepEqual(cluster.lookups, ['1:tx-1', '0:tx-1', '0:group-a'], 'another type or id is looked up, the default type is 0')
  const other = fakeCluster([3])
  await lookup.call(other, { groupId: 'tx-1', coordinatorType: 1 })
  assert.deepEqual(other.lookups, ['1:tx-1'], 'another client looks up for itself')
})

test('with several brokers, no metadata, or another broker in the metadata, kafkajs looks up every time', async () => {
  const several = fakeCluster([1, 2])
  for (let i = 0; i < 3; i++) await lookup.call(several, { groupId: 'g', coordinatorType: 0 })
  assert.equal(several.lookups.length, 3)
  const none = fakeCluster(null)
  for (let i = 0; i < 3; i++) await lookup.call(none, { groupId: 'g' })
  assert.equal(none.lookups.length, 3)
  const moved = fakeCluster([1])
  await lookup.call(moved, { groupId: 'g' })
  await lookup.call(moved, { groupId: 'g' })
  moved.brokerPool.metadata = { brokers: [{ nodeId: 2 }] }
  assert.deepEqual(await lookup.call(moved, { groupId: 'g' }), { nodeId: 2 })
  await lookup.call(moved, { groupId: 'g' })
  assert.deepEqual(moved.lookups, ['0:g', '0:g'], 'looked up again once the single broker changed, then remembered')
})

test('a failed lookup is not remembered', async () => {
  let fail = true
  const flaky = coordinatorLookup(async function () {
    if (fail) throw new Error('GROUP_COORDINATOR_NOT_AVAILABLE')
    return { nodeId: 1 }
  })
  const cluster = fakeCluster([1])
  await assert.rejects(flaky.call(cluster, { groupId: 'g' }), /NOT_AVAILABLE/)
  fail = false
  await flaky.call(cluster, { groupId: 'g' })
  assert.deepEqual(cluster.found, [], 'the first success came from the lookup')
  await flaky.call(cluster, { groupId: 'g' })
  assert.deepEqual(cluster.found, [1])
})

test('installed on kafkajs\'s Cluster once, whatever the number of calls', () => {
  assert.equal(installCoordinatorLookup(), true)
  const Cluster = require(KAFKAJS_CLUSTER_MODULE) as { prototype: { findGroupCoordinator: { name: string } } }
  const installed = Cluster.prototype.findGroupCoordinator
  const pristine = pristineKafkajsModule<typeof Cluster>(KAFKAJS_CLUSTER_MODULE).prototype.findGroupCoordinator
  assert.notEqual(installed, pristine, 'kafkajs\'s own lookup is replaced')
  assert.equal(installCoordinatorLookup(), true)
  assert.equal(Cluster.prototype.findGroupCoordinator, installed)
})
