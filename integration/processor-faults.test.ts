// The master under kill -9 (issue 4, "Faults"): three master processes share the ingest
// partitions while points are written; one of them is killed with SIGKILL at random moments and
// restarted. The committed changelog must hold every ingest record exactly once.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { kafkaClient, sleep } from './support/kafka.ts'
import { INGEST_TOPIC, readChangelog, sendLines } from './support/ingest.ts'

const PARTITIONS = 6
const BATCHES = 100
const LINES_PER_BATCH = 1_000
const HOSTS = 100
const root = resolve(import.meta.dirname, '..')

async function startMaster(bootstrap: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'integration/support/processor-child.ts'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLUICE_KAFKA: bootstrap },
  })
  child.stderr!.resume()
  await new Promise<void>((resolveStarted, reject) => {
    let out = ''
    child.stdout!.on('data', chunk => { out += chunk; if (out.includes('processor started')) resolveStarted() })
    child.once('exit', code => reject(new Error(`master exited with ${code} before starting`)))
  })
  return child
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGKILL')
  await once(child, 'exit')
}

test('kill -9 of masters during ingest: every ingest record is in the committed changelog exactly once', async t => {
  const broker = await startBrokerProcess()
  const masters: ChildProcess[] = []
  try {
    const kafka = kafkaClient(broker.bootstrap)
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: INGEST_TOPIC, numPartitions: PARTITIONS }] })
    await admin.disconnect()
    for (let i = 0; i < 3; i++) masters.push(await startMaster(broker.bootstrap))

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    let sent = 0
    let kills = 0
    const writing = (async () => {
      for (let b = 0; b < BATCHES; b++) {
        const lines = Array.from({ length: LINES_PER_BATCH }, (_, i) => {
          const n = b * LINES_PER_BATCH + i
          return `cpu,host=h${n % HOSTS} usage=${n} ${1_700_000_000_000_000_000n + BigInt(n)}`
        })
        sent += await sendLines(producer, lines, { partitions: PARTITIONS })
        await sleep(100)
      }
    })()
    let seed = Number(process.env.SLUICE_FAULT_SEED ?? Date.now() % 100_000)
    t.diagnostic(`fault seed ${seed}`)
    const random = (): number => { seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648; return seed / 2_147_483_648 }
    let done = false
    void writing.then(() => { done = true })
    while (!done || kills < 4) {
      await sleep(300 + random() * 1_000)
      const victim = Math.floor(random() * masters.length)
      await kill(masters[victim]!)
      kills++
      await sleep(random() * 1_000)
      masters[victim] = await startMaster(broker.bootstrap)
    }
    await writing
    await producer.disconnect()
    t.diagnostic(`${sent} ingest records (${BATCHES * LINES_PER_BATCH} points) written, ${kills} masters killed`)
    assert.ok(kills >= 4, `masters were killed during the load (${kills})`)

    const unique = new Set<string>()
    const entries = await readChangelog(kafkaClient(broker.bootstrap), read => {
      const last = read[read.length - 1]!.entry
      unique.add(`${last.ingestPartition}/${last.ingestOffset}`)
      return unique.size >= sent
    }, 120_000)
    assert.equal(unique.size, sent, 'every ingest record reached the committed changelog')
    assert.equal(entries.length, sent, 'and none of them twice')
    const points = entries.reduce((sum, { entry }) => sum + entry.upsert!.points.length, 0)
    assert.equal(points, BATCHES * LINES_PER_BATCH, 'every point, once')
  } finally {
    await Promise.all(masters.map(kill))
    await broker.stop()
  }
})
