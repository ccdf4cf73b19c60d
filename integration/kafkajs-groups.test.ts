// Consumer groups with kafkajs 2.2.4 against the broker process: three members over six
// partitions with one leaving, and a member killed with SIGKILL whose session expires
// (brief §7.3 G, H).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { Consumer } from 'kafkajs'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { eventually, kafkaClient } from './support/kafka.ts'

let broker: BrokerProcess
const PARTITIONS = 6

before(async () => {
  broker = await startBrokerProcess()
  const admin = kafkaClient(broker.bootstrap).admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'g6', numPartitions: PARTITIONS }, { topic: 'g-kill', numPartitions: PARTITIONS }] })
  await admin.disconnect()
})
after(async () => { await broker.stop() })

interface Member { consumer: Consumer; assigned: Set<number>; values: string[] }

async function startMember(groupId: string, topic: string): Promise<Member> {
  const consumer = kafkaClient(broker.bootstrap).consumer({ groupId, sessionTimeout: 6_000, heartbeatInterval: 300, maxWaitTimeInMs: 200, rebalanceTimeout: 10_000 })
  const member: Member = { consumer, assigned: new Set(), values: [] }
  consumer.on(consumer.events.GROUP_JOIN, event => {
    member.assigned = new Set((event.payload.memberAssignment[topic] ?? []) as number[])
  })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => { member.values.push(message.value!.toString()) } })
  return member
}

function exactCover(members: Member[]): boolean {
  const all = members.flatMap(m => [...m.assigned]).sort((a, b) => a - b)
  return all.length === PARTITIONS && all.every((p, i) => p === i)
}

test('three members share six partitions exactly, and two take over when one leaves', async () => {
  const producer = kafkaClient(broker.bootstrap).producer()
  await producer.connect()
  await producer.send({ topic: 'g6', messages: Array.from({ length: 60 }, (_, i) => ({ partition: i % PARTITIONS, value: `m${i}` })) })

  const members = [await startMember('g6-group', 'g6'), await startMember('g6-group', 'g6'), await startMember('g6-group', 'g6')]
  assert.ok(await eventually(() => exactCover(members) && members.every(m => m.assigned.size === 2), 30_000), 'exact cover at three members')
  assert.ok(await eventually(() => new Set(members.flatMap(m => m.values)).size === 60, 20_000), 'all 60 consumed')

  await members[2]!.consumer.disconnect() // LeaveGroup
  const survivors = members.slice(0, 2)
  assert.ok(await eventually(() => exactCover(survivors) && survivors.every(m => m.assigned.size === 3), 30_000), 'exact cover at two members')

  await producer.send({ topic: 'g6', messages: Array.from({ length: 12 }, (_, i) => ({ partition: i % PARTITIONS, value: `late${i}` })) })
  assert.ok(await eventually(() => survivors.flatMap(m => m.values).filter(v => v.startsWith('late')).length >= 12, 20_000))
  await producer.disconnect()
  for (const member of survivors) await member.consumer.disconnect()
})

test('a member killed with SIGKILL is removed after its session timeout and its partitions move', async () => {
  const survivor = await startMember('g-kill-group', 'g-kill')
  const script = `
    import { kafkaClient } from './integration/support/kafka.ts'
    const consumer = kafkaClient(process.argv[1]).consumer({ groupId: 'g-kill-group', sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTimeInMs: 200 })
    consumer.on(consumer.events.GROUP_JOIN, e => console.log('assigned ' + JSON.stringify(e.payload.memberAssignment['g-kill'] ?? [])))
    await consumer.connect()
    await consumer.subscribe({ topics: ['g-kill'] })
    await consumer.run({ eachMessage: async () => {} })
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, broker.bootstrap], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] })
  let childOutput = ''
  child.stdout!.on('data', chunk => { childOutput += chunk })
  assert.ok(await eventually(() => survivor.assigned.size === 3 && /assigned \[[^\]]+\]/.test(childOutput), 30_000), `both members assigned: ${childOutput}`)

  const killedAt = Date.now()
  child.kill('SIGKILL') // no LeaveGroup: only the session timeout can remove it
  await once(child, 'exit')
  assert.ok(await eventually(() => survivor.assigned.size === PARTITIONS, 30_000), 'the survivor takes every partition')
  const tookMs = Date.now() - killedAt
  assert.ok(tookMs >= 3_000, `rebalance came from session expiry (${tookMs} ms), not from a clean leave`)
  await survivor.consumer.disconnect()
})
