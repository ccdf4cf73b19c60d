// A new node joins a set whose changelog start is gone (DeleteRecords, as retention would): it
// cannot replay from offset 0, so it copies each partition's store from a healthy peer over
// GET /api/v1/replicaset/snapshot/:partition and replays from the copy's offset, reaching the
// peer's checksum and answering queries. With no peer to copy from, a new node refuses to start
// and says why, rather than serve a store with a hole in it.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { uniqueName } from './http-helpers.ts'
import { eventually, kafkaClient } from './support/kafka.ts'
import { CHANGELOG_TOPIC } from './support/ingest.ts'
import { nodeChecksum, stopAll } from './support/replicas.ts'

const PARTITIONS = 2
const tenant = uniqueName('it_catchup')
const args = ['--partitions', String(PARTITIONS), '--default-tenant', tenant, '--replica-flush-interval-ms', '500', '--heartbeat-interval-ms', '300']
let broker: BrokerProcess
const nodes: NodeProcess[] = []

before(async () => { broker = await startBrokerProcess() })
after(() => stopAll(nodes, broker, tenant))

const lines = (from: number, count: number): string =>
  Array.from({ length: count }, (_, i) => `plant,unit=u${(from + i) % 7} temp=${from + i}.25 ${1_700_000_000_000_000_000n + BigInt(from + i) * 1_000_000_000n}`).join('\n')

async function write(node: NodeProcess, body: string): Promise<void> {
  const answer = await fetch(`${node.url}/write?db=plant`, { method: 'POST', body })
  assert.equal(answer.status, 204, await answer.text())
}

test('a node whose changelog start is gone copies the stores from a peer, then follows the changelog', async () => {
  const id = uniqueName('cu')
  nodes.push(await startNodeProcess({ kafka: broker.bootstrap, nodeId: `${id}-a`, args }))
  const [a] = nodes as [NodeProcess]
  for (let batch = 0; batch < 5; batch++) await write(a, lines(batch * 400, 400))

  // Once the peer has applied every point, remove every changelog entry written so far.
  const count = async (node: NodeProcess): Promise<{ status: number; n?: number; s?: number }> => {
    const answer = await fetch(`${node.url}/api/v1/sql?db=plant`, { method: 'POST', body: 'SELECT count(temp) AS n, sum(temp) AS s FROM plant' })
    return answer.status === 200 ? { status: 200, ...(await answer.json() as Array<{ n: number; s: number }>)[0]! } : { status: answer.status }
  }
  assert.ok(await eventually(async () => (await count(a)).n === 2_000, 30_000), 'the peer applied every point')
  const admin = kafkaClient(broker.bootstrap).admin()
  await admin.connect()
  const ends = await admin.fetchTopicOffsets(CHANGELOG_TOPIC)
  const target = { offsets: Object.fromEntries(ends.map(e => [String(e.partition), e.high])) }
  await admin.deleteTopicRecords({ topic: CHANGELOG_TOPIC, partitions: ends.map(e => ({ partition: e.partition, offset: e.high })) })
  const starts = await admin.fetchTopicOffsets(CHANGELOG_TOPIC)
  await admin.disconnect()
  assert.ok(starts.every(p => BigInt(p.low) > 0n && p.low === p.high), `the changelog now starts at its end: ${JSON.stringify(starts)}`)

  nodes.push(await startNodeProcess({ kafka: broker.bootstrap, nodeId: `${id}-b`, args }))
  const b = nodes[1]!
  assert.match(b.logs(), /"event":"replica_changelog_start_gone"/)
  assert.equal((b.logs().match(/"event":"replica_snapshot_copied"/g) ?? []).length, PARTITIONS, 'one copy per partition')

  // Both follow the changelog from here on. The write's points reach each changelog partition in
  // that partition's master's own transaction: wait until the new node has all of them, then until
  // the peer stands at the same offsets (equal checksums at lower offsets would stop too early).
  await write(b, lines(2_000, 300))
  assert.ok(await eventually(async () => (await count(b)).n === 2_300, 30_000), 'the new node applied the copied points and the new ones')
  const applied = (offsets: Record<string, string>): bigint => Object.values(offsets).reduce((n, o) => n + BigInt(o), 0n)
  for (let i = 0; i < 120; i++) {
    const [sa, sb] = await Promise.all([nodeChecksum(a.url), nodeChecksum(b.url)])
    if (sa.checksum === sb.checksum && applied(sa.offsets) > applied(target.offsets)) break
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  const [sa, sb] = await Promise.all([nodeChecksum(a.url), nodeChecksum(b.url)])
  assert.equal(sb.checksum, sa.checksum, 'the copy and the new entries give the peer\'s content')
  assert.deepEqual(sb.offsets, sa.offsets)
  assert.ok(applied(sb.offsets) > applied(target.offsets), 'the new node applied entries after the copy')
  const expectedSum = Array.from({ length: 2_300 }, (_, i) => i + 0.25).reduce((x, y) => x + y, 0)
  const row = await count(b)
  assert.equal(row.status, 200)
  assert.equal(row.n, 2_300, 'every point, the copied and the replayed')
  assert.ok(Math.abs(row.s! - expectedSum) < 1e-6, `sum ${row.s} = ${expectedSum}`)
})

test('with no peer to copy from, a new node refuses to start and names the gap', async () => {
  for (const node of nodes) assert.equal(await node.stop(), 0) // stopping removes their member records
  nodes.length = 0
  // A node that starts after all is stopped again, so the failure does not leave it running.
  const started = startNodeProcess({ kafka: broker.bootstrap, nodeId: uniqueName('cu-alone'), args }).then(async node => { await node.stop() })
  await assert.rejects(started, error => {
    assert.match((error as Error).message, /sluice\.changelog partition \d now starts at offset [1-9]\d*, but this replica applied it only up to 0: the entries in between are gone, and no peer gave a copy of its store \(no healthy peer with that partition is known\)/)
    return true
  })
})
