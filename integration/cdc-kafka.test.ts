// The change feed as the Kafka topic sluice.cdc under kill -9 (issue 7, section 3): two nodes run
// the CDC loop (--cdc) while a third takes writes, UPDATEs and DELETEs; the CDC nodes are killed
// with SIGKILL at random moments and restarted. A read_committed consumer of sluice.cdc must get
// exactly the changes the committed changelog implies, each once, in changelog order per partition.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { cdcEventType, decode, unframe } from '../schemas/index.ts'
import { cdcEventJson } from '../sinks/index.ts'
import { consumeUntil, kafkaClient, sleep } from './support/kafka.ts'
import { comparable, expectedEvents, idsByPartition, readChangelogRecords, type ComparableEvent } from './support/cdc.ts'

const PARTITIONS = 3
const DB = 'feed'
const CDC_ARGS = ['--cdc', '--no-processor', '--no-kafka-source', '--no-replica', '--parse-workers', '0', '--master-session-timeout-ms', '3000']

async function kill9(node: NodeProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return
  const exited = once(node.child, 'exit')
  node.child.kill('SIGKILL')
  await exited
}

test('kill -9 of CDC nodes: a read_committed consumer of sluice.cdc gets every change exactly once, in order', async t => {
  const broker = await startBrokerProcess()
  const nodes: NodeProcess[] = []
  try {
    const writer = await startNodeProcess({ kafka: broker.bootstrap, redis: 'memory', args: ['--partitions', String(PARTITIONS), '--parse-workers', '0', '--no-replica'] })
    nodes.push(writer)
    const cdcNodes: NodeProcess[] = []
    for (let i = 0; i < 2; i++) cdcNodes.push(await startNodeProcess({ kafka: broker.bootstrap, redis: 'memory', nodeId: `cdc-${i}`, args: CDC_ARGS }))
    nodes.push(...cdcNodes)

    const sql = async (statement: string): Promise<string> => {
      const answer = await fetch(`${writer.url}/api/v1/sql?db=${DB}`, { method: 'POST', body: statement })
      const body = await answer.text()
      assert.equal(answer.status, 200, `${statement}: ${body}`)
      return (JSON.parse(body) as { command_id: string }).command_id
    }

    let done = false
    let points = 0
    let commands = 0
    const writing = (async () => {
      for (let batch = 0; batch < 60; batch++) {
        const lines = Array.from({ length: 500 }, (_, i) => {
          const n = batch * 500 + i
          return `cpu,host=h${n % 40},rack=a usage=${n % 89}.5 ${1_700_000_000_000_000_000n + BigInt(n)}`
        })
        const answer = await fetch(`${writer.url}/write?db=${DB}`, { method: 'POST', body: lines.join('\n') })
        assert.equal(answer.status, 204, await answer.text())
        points += lines.length
        if (batch % 6 === 5) {
          const k = (batch - 5) / 6
          await sql([`UPDATE cpu SET usage = 0.5 WHERE host = 'h${k}'`, `UPDATE cpu SET rack = 'b${k}' WHERE host = 'h${10 + k}'`, `DELETE FROM cpu WHERE host = 'h${20 + k}'`][k % 3]!)
          commands++
        }
        await sleep(150)
      }
      done = true
    })()

    let seed = Number(process.env.SLUICE_FAULT_SEED ?? Date.now() % 100_000)
    t.diagnostic(`fault seed ${seed} (replay with SLUICE_FAULT_SEED)`)
    const random = (): number => { seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648; return seed / 2_147_483_648 }
    let kills = 0
    while (!done || kills < 4) {
      await sleep(500 + random() * 1_500)
      const victim = Math.floor(random() * cdcNodes.length)
      const killed = cdcNodes[victim]!
      await kill9(killed)
      kills++
      await sleep(random() * 1_000)
      cdcNodes[victim] = await startNodeProcess({ kafka: broker.bootstrap, redis: 'memory', nodeId: killed.nodeId, dataDir: killed.dataDir, args: CDC_ARGS })
      nodes.push(cdcNodes[victim]!)
    }
    await writing
    const marker = await sql(`DELETE FROM cpu WHERE host = 'end-of-test'`)
    commands++

    const kafka = kafkaClient(broker.bootstrap)
    let markers = 0
    const changelog = await readChangelogRecords(kafka, records => {
      if (records[records.length - 1]!.entry.command?.commandId === marker) markers++
      return markers === PARTITIONS
    })
    const expected = expectedEvents(changelog, DB)
    assert.equal(expected.length, points + commands * PARTITIONS, 'one change per point, one per command and partition')
    t.diagnostic(`${points} points, ${commands} commands, ${kills} CDC nodes killed: ${expected.length} changes expected`)
    const takeovers = nodes.slice(1).reduce((sum, node) => sum + (node.logs().match(/cdc took over partition/g)?.length ?? 0), 0)
    t.diagnostic(`${takeovers} partition takeovers by CDC nodes`)
    assert.ok(takeovers > PARTITIONS, `partitions changed owner during the load (${takeovers} takeovers)`)

    const received: ComparableEvent[] = []
    const markerSeen = new Set<number>()
    await consumeUntil(kafka, 'sluice.cdc', {
      raw: true,
      timeoutMs: 90_000,
      until: records => {
        const record = records[records.length - 1]!
        const event = decode(cdcEventType, unframe(record.rawValue!).payload)
        assert.equal(event.source.partition, record.partition, 'an event stays on its changelog partition')
        const seen = comparable(cdcEventJson(event))
        received.push(seen)
        if (event.command?.commandId === marker) markerSeen.add(record.partition)
        return markerSeen.size === PARTITIONS
      },
    })
    assert.equal(markerSeen.size, PARTITIONS, 'the last command reached sluice.cdc on every partition')
    const got = idsByPartition(received)
    for (const [partition, ids] of idsByPartition(expected)) {
      const mine = got.get(partition) ?? []
      assert.equal(new Set(mine).size, mine.length, `partition ${partition}: no change twice`)
      assert.deepEqual(mine, ids, `partition ${partition}: every change once, in changelog order`)
    }
    const expectedContent = new Map(expected.map(event => [event.id, event.content]))
    for (const event of received) assert.equal(event.content, expectedContent.get(event.id), `event ${event.id}`)
  } finally {
    await Promise.all(nodes.map(kill9))
    await broker.stop()
  }
})
