// Membership records in Redis (real Redis on 127.0.0.1:6379) and in memory: put, list, expiry,
// removal; the set at a glance as `sluice status` prints it.

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { formatReplicaSet, lastMasterChange, mastersOf, Membership, MemoryMemberStore, RedisMemberStore, type MemberRecord, type MemberStore } from './membership.ts'
import type { Replica } from './replica.ts'

const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true, maxRetriesPerRequest: 1 })
after(() => redis.disconnect())

function record(id: string, masters: number[], lags: Array<string | null> = ['0', '0']): MemberRecord {
  return {
    id, address: `http://127.0.0.1:${8000 + masters.length}`, startedAt: new Date().toISOString(), heartbeatAt: new Date().toISOString(), masters,
    partitions: lags.map((lag, partition) => ({ partition, appliedOffset: '10', endOffset: lag === null ? null : String(10n + BigInt(lag)), lag })),
    health: 'ok',
  }
}

async function expiryAndRemoval(store: MemberStore): Promise<void> {
  const id = `unit-${randomBytes(4).toString('hex')}`
  await store.put(record(`${id}-a`, [0]), 10_000)
  await store.put(record(`${id}-b`, [1]), 150)
  let ids = (await store.list()).map(m => m.id)
  assert.ok(ids.includes(`${id}-a`) && ids.includes(`${id}-b`))
  await new Promise(resolve => setTimeout(resolve, 250))
  ids = (await store.list()).map(m => m.id)
  assert.ok(ids.includes(`${id}-a`), 'a member with heartbeats stays')
  assert.ok(!ids.includes(`${id}-b`), 'a member whose heartbeats stopped expires')
  await store.remove(`${id}-a`)
  assert.ok(!(await store.list()).some(m => m.id === `${id}-a`), 'a removed member is gone at once')
}

test('Redis member records expire when heartbeats stop and leave at once when removed', async () => {
  await redis.connect()
  await expiryAndRemoval(new RedisMemberStore(redis))
})

test('memory member records behave the same', async () => {
  await expiryAndRemoval(new MemoryMemberStore())
})

test('Redis listing skips records that do not parse', async () => {
  const id = `unit-${randomBytes(4).toString('hex')}`
  const store = new RedisMemberStore(redis)
  if (redis.status !== 'ready') await redis.connect()
  await redis.multi().set(`sluice:replicaset:member:${id}`, '{"not":"a member"}', 'PX', 5_000).zadd('sluice:replicaset:members', Date.now() + 5_000, id).exec()
  assert.ok(!(await store.list()).some(m => m.id === id))
  await store.remove(id)
})

test('masters per partition and the status table', () => {
  const members = [record('n1', [0, 2]), record('n2', [1], ['5', null])]
  assert.deepEqual(mastersOf(members), [{ partition: 0, nodes: ['n1'] }, { partition: 1, nodes: ['n2'] }, { partition: 2, nodes: ['n1'] }])
  const text = formatReplicaSet(members, Date.parse(members[0]!.heartbeatAt) + 1_500)
  const [header, n1, n2] = text.split('\n')
  assert.match(header!, /^NODE\s+ADDRESS\s+HEALTH\s+MASTERS\s+LAG \(total\)\s+LAG per partition\s+HEARTBEAT$/)
  assert.match(n1!, /^n1\s+http:\/\/127\.0\.0\.1:8002\s+ok\s+0,2\s+0\s+0 0\s+1\.5s ago$/)
  assert.match(n2!, /^n2\s+\S+\s+ok\s+1\s+5\s+5 \?/)
  assert.match(text, /master per partition: 0=n1 1=n2\n$/)
  assert.equal(formatReplicaSet([]), 'no live members (no heartbeat in Redis)\n')
})

test('each member notes when it took each partition; the view names the latest master change', async () => {
  let masters = [0, 1]
  const store = new MemoryMemberStore()
  const membership = new Membership({ store, nodeId: 'n1', address: () => 'http://127.0.0.1:1', masters: () => masters, replica: undefined })
  const first = await membership.record()
  assert.deepEqual(first.masterSince?.map(m => m.partition), [0, 1])
  await new Promise(resolve => setTimeout(resolve, 5))
  masters = [1, 2]
  const second = await membership.record()
  assert.equal(second.masterSince?.find(m => m.partition === 1)?.since, first.masterSince?.find(m => m.partition === 1)?.since, 'a partition kept keeps its time')
  const took2 = second.masterSince?.find(m => m.partition === 2)?.since
  assert.ok(took2 !== undefined && took2 > first.masterSince![0]!.since, 'a partition gained gets a later time')
  await store.put(second, 5_000)
  await store.put({ ...record('n0', []), masterSince: undefined }, 5_000)
  assert.deepEqual((await membership.view()).lastFailover, { partition: 2, node: 'n1', at: took2 })
  assert.equal(lastMasterChange([record('n2', [])]), null, 'no master, no change')
})

test('a catching-up replica reports how far each partition is, and its stores', async () => {
  let behind = [{ partition: 0, position: 40n, target: 100n }, { partition: 1, position: 0n, target: -1n }]
  const stats = (partition: number) => ({ partition, appliedOffset: 40n, durableOffset: 40n, segments: 3, segmentBytes: 4096, levels: [0, 0, 1], memtableBytes: 100, frozenMemtableBytes: 20, tombstones: 0, series: 2, warnings: 0 })
  const replica = {
    state: 'running',
    endOffsets: async () => new Map([[0, 100n], [1, 7n]]),
    appliedPositions: () => [0, 1].map(partition => ({ partition, appliedOffset: 40n, durableOffset: 40n, consumedOffset: 40n, ingest: [] })),
    stores: () => new Map([0, 1].map(partition => [partition, { stats: () => stats(partition) }])),
    catchingUp: () => behind,
  } as unknown as Replica
  const membership = new Membership({ store: new MemoryMemberStore(), nodeId: 'n1', address: () => '', masters: () => [], replica })
  const catching = await membership.record()
  assert.deepEqual(catching.catchingUp, [{ partition: 0, position: '40', target: '100' }, { partition: 1, position: '0', target: null }])
  assert.deepEqual(catching.partitions[0]!.store, { segments: 3, segmentBytes: 4096, levels: [0, 0, 1], memtableBytes: 120 })
  behind = []
  assert.equal((await membership.record()).catchingUp, undefined, 'caught up: no progress to report')
})
