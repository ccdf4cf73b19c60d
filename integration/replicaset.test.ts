// The replica set end to end: three node processes, one broker, Redis. HTTP writes reach every
// node's segment stores: each node reports the checksum of a reference replica this test builds by
// applying the committed changelog itself, at the same offsets, and the reference holds exactly the
// points written (each node's replica takes its own master's changelog from the local feed, the
// rest from Kafka). /api/v1/replicaset and `sluice status` show members, masters and lag;
// read-your-writes waits return once applied and time out clearly.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { uniqueName } from './http-helpers.ts'
import { kafkaClient } from './support/kafka.ts'
import { buildReference, readChangelogPoints, referencePoints, waitForChecksum, startThreeNodes, stopAll } from './support/replicas.ts'

const PARTITIONS = 3
const SERIES = 30
const POINTS = 3_000
const tenant = uniqueName('it_replicaset')
const nodeArgs = ['--partitions', String(PARTITIONS), '--default-tenant', tenant, '--replica-flush-interval-ms', '500', '--heartbeat-interval-ms', '500', '--master-session-timeout-ms', '3000']
let broker: BrokerProcess
let nodes: NodeProcess[] = []

before(async () => {
  broker = await startBrokerProcess()
  nodes.push(...await startThreeNodes(broker.bootstrap, 'rs', nodeArgs))
})

after(() => stopAll(nodes, broker, tenant))

const line = (i: number): string => `cpu,host=h${i % SERIES} v=${i}.25,n=${i}i ${1_700_000_000_000_000_000n + BigInt(i) * 1_000n}`

test('every node applies every partition: equal checksums at equal offsets, exactly the points written', async () => {
  for (let i = 0; i < POINTS; i += 250) {
    const node = nodes[(i / 250) % nodes.length]!
    const answer = await fetch(`${node.url}/write?db=metrics`, { method: 'POST', body: Array.from({ length: 250 }, (_, k) => line(i + k)).join('\n') })
    assert.equal(answer.status, 204, await answer.text())
  }
  const reference = await buildReference(await readChangelogPoints(kafkaClient(broker.bootstrap), 'metrics', POINTS), PARTITIONS, kafkaClient(broker.bootstrap))
  try {
    const expected = Array.from({ length: POINTS }, (_, i) => `cpu,host=h${i % SERIES}@${1_700_000_000_000_000_000n + BigInt(i) * 1_000n}=${i}.25`).sort()
    assert.deepEqual(referencePoints(reference, tenant, 'metrics', 'cpu', 'v'), expected, 'the committed changelog holds each point once')
    for (const node of nodes) {
      const answer = await waitForChecksum(node.url, reference)
      assert.deepEqual(answer.offsets, reference.offsets, `${node.nodeId} is at the reference's offsets`)
      assert.equal(answer.checksum, reference.checksum, `${node.nodeId} holds exactly the reference's points`)
      // Each node's replica took its own master's changelog from the local feed, and holds the same as the reference.
      assert.ok(await feedEntries(node.url) > 0, `${node.nodeId}'s replica applied entries from its master's local feed`)
    }
  } finally {
    await reference.close()
  }
})

/** sluice_replica_feed_entries_total of a node, over its partitions. */
async function feedEntries(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return [...text.matchAll(/^sluice_replica_feed_entries_total\{[^}]*\} (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0)
}

interface View {
  node: string
  members: Array<{ id: string; address: string; health: string; masters: number[]; partitions: Array<{ partition: number; appliedOffset: string; lag: string | null }> }>
  masters: Array<{ partition: number; nodes: string[] }>
}

test('/api/v1/replicaset and sluice status show members, the master of each partition and lags', async () => {
  const ids = nodes.map(node => node.nodeId)
  const deadline = Date.now() + 20_000
  let view: View | undefined
  let ours: View['members'] = []
  const settled = (): boolean => {
    if (ours.length !== nodes.length || ours.some(m => m.health !== 'ok' || m.partitions.some(p => p.lag !== '0'))) return false
    const mastered = ours.flatMap(m => m.masters).sort()
    return JSON.stringify(mastered) === JSON.stringify([0, 1, 2])
  }
  while (Date.now() < deadline) {
    view = await (await fetch(`${nodes[1]!.url}/api/v1/replicaset`)).json() as View
    ours = view.members.filter(m => ids.includes(m.id)) // Redis may hold members of other tests' sets
    if (settled()) break
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  assert.ok(settled(), `three healthy members at lag 0 mastering each partition once: ${JSON.stringify(ours)}`)
  assert.equal(view!.node, nodes[1]!.nodeId)
  for (const node of nodes) {
    const member = ours.find(m => m.id === node.nodeId)!
    assert.equal(member.address, node.url)
    assert.deepEqual(member.partitions.map(p => p.partition), [0, 1, 2])
  }
  for (const partition of [0, 1, 2]) {
    assert.equal(view!.masters.find(m => m.partition === partition)?.nodes.filter(id => ids.includes(id)).length, 1, `one master of partition ${partition}`)
  }

  const root = resolve(import.meta.dirname, '..')
  const json = spawnSync(process.execPath, ['bin/sluice.js', 'status', '--redis', 'redis://127.0.0.1:6379', '--json'], { cwd: root, encoding: 'utf8' })
  assert.equal(json.status, 0, json.stderr)
  const listed = (JSON.parse(json.stdout) as { members: Array<{ id: string }> }).members.map(m => m.id)
  for (const id of ids) assert.ok(listed.includes(id), `sluice status --json lists ${id}`)
  const text = spawnSync(process.execPath, ['bin/sluice.js', 'status', '--redis', 'redis://127.0.0.1:6379'], { cwd: root, encoding: 'utf8' })
  assert.equal(text.status, 0, text.stderr)
  for (const id of ids) assert.match(text.stdout, new RegExp(`^${id}\\s+http://127\\.0\\.0\\.1:\\d+\\s+ok`, 'm'))
  assert.match(text.stdout, /master per partition: /)
  const down = spawnSync(process.execPath, ['bin/sluice.js', 'status', '--redis', 'redis://127.0.0.1:1'], { cwd: root, encoding: 'utf8' })
  assert.equal(down.status, 1)
  assert.match(down.stderr, /Redis at redis:\/\/127\.0\.0\.1:1/)
})

test('read-your-writes: a wait on a command\'s positions returns once applied on every node, and times out clearly', async () => {
  const answer = await fetch(`${nodes[0]!.url}/api/v1/sql?db=metrics`, { method: 'POST', body: "DELETE FROM cpu WHERE host = 'h1'" })
  const command = await answer.json() as { positions: Array<{ partition: number; offset: string }> }
  assert.equal(answer.status, 200, JSON.stringify(command))
  for (const node of nodes) {
    const wait = await fetch(`${node.url}/api/v1/replicaset/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ positions: command.positions, timeoutMs: 20_000 }) })
    assert.equal(wait.status, 200, `${node.nodeId}: ${await wait.clone().text()}`)
    const positions = await (await fetch(`${node.url}/api/v1/replicaset/positions`)).json() as { ingest: Array<{ partition: number; offset: string }> }
    for (const position of command.positions) {
      const applied = positions.ingest.find(p => p.partition === position.partition)
      assert.ok(applied && BigInt(applied.offset) >= BigInt(position.offset), `${node.nodeId} applied ingest ${position.partition}:${position.offset}`)
    }
  }

  const started = Date.now()
  const late = await fetch(`${nodes[2]!.url}/api/v1/replicaset/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ positions: [{ partition: 1, offset: '999999999' }], timeoutMs: 300 }) })
  const body = await late.json() as { code: string; message: string; missing: unknown[] }
  assert.equal(late.status, 504)
  assert.ok(Date.now() - started >= 300, 'it waited the whole timeout')
  assert.equal(body.code, 'SLUICE_ERR_REPLICA_WAIT_TIMEOUT')
  assert.match(body.message, /did not apply ingest 1:999999999 \(applied \d+\) within 300 ms/)
  assert.equal(body.missing.length, 1)

  const bad = await fetch(`${nodes[2]!.url}/api/v1/replicaset/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ positions: [{ partition: 1, offset: '-3' }], timeoutMs: 300 }) })
  assert.equal(bad.status, 400)
})

test('losing a master pauses its partition for about the master session timeout; the set shows the takeover', async () => {
  const victim = nodes.findIndex(node => node !== nodes[0])
  const { dataDir, nodeId } = nodes[victim]!
  const before = await (await fetch(`${nodes[0]!.url}/api/v1/replicaset`)).json() as View
  const mastered = before.members.find(m => m.id === nodeId)!.masters
  assert.ok(mastered.length > 0, `${nodeId} masters a partition`)
  const exited = new Promise(resolve => nodes[victim]!.child.once('exit', resolve))
  nodes[victim]!.child.kill('SIGKILL')
  await exited
  const killedAt = Date.now()
  // A command reaches every ingest partition; its changelog entry on the dead master's partition
  // appears only once another node took the partition over.
  const answer = await fetch(`${nodes[0]!.url}/api/v1/sql?db=metrics`, { method: 'POST', body: "DELETE FROM cpu WHERE host = 'nobody'" })
  const command = await answer.json() as { positions: Array<{ partition: number; offset: string }> }
  assert.equal(answer.status, 200, JSON.stringify(command))
  const wait = await fetch(`${nodes[0]!.url}/api/v1/replicaset/wait`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ positions: command.positions, timeoutMs: 30_000 }) })
  assert.equal(wait.status, 200, await wait.clone().text())
  const pauseMs = Date.now() - killedAt
  process.stdout.write(`# failover: partitions ${mastered.join(',')} applied again ${pauseMs} ms after kill -9 of their master (master session timeout 3000 ms)\n`)
  assert.ok(pauseMs < 15_000, `takeover within 15 s, not ${pauseMs} ms`)

  // The new master reports it with its next heartbeat; the dead one's record expires.
  const takenOver = (view: View): boolean => mastered.every(partition =>
    (view.masters.find(m => m.partition === partition)?.nodes ?? []).some(id => id !== nodeId && nodes.some(n => n.nodeId === id)))
  let view: View | undefined
  for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
    view = await (await fetch(`${nodes[0]!.url}/api/v1/replicaset`)).json() as View
    if (takenOver(view)) break
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  nodes[victim] = await startNodeProcess({ kafka: broker.bootstrap, dataDir, nodeId, args: nodeArgs })
  assert.ok(takenOver(view!), `a live node masters partitions ${mastered.join(',')}: ${JSON.stringify(view!.masters)}`)
})
