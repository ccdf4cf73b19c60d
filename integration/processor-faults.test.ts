// The master under kill -9 (issue 4, "Faults"): three master processes share the ingest
// partitions while points are written; one of them is killed with SIGKILL at random moments and
// restarted. The committed changelog must hold every ingest record exactly once, and with lossy
// compression on, exactly the points an uninterrupted master keeps.

import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { LossyCompression } from '../pipeline/processor/index.ts'
import { parseCompressionConfig } from '../pipeline/transforms/index.ts'
import { decodeIngestRecord, unframe, type Point } from '../schemas/index.ts'
import { consumeUntil, kafkaClient, sleep } from './support/kafka.ts'
import { connectIngestProducer, createIngestTopic, INGEST_TOPIC, readChangelog, sendLines, type ChangelogRead } from './support/ingest.ts'

const PARTITIONS = 6
const root = resolve(import.meta.dirname, '..')

async function startMaster(bootstrap: string, env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'integration/support/processor-child.ts'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SLUICE_KAFKA: bootstrap, ...env },
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

interface Run {
  bootstrap: string
  sent: number
  kills: number
  changelog: ChangelogRead[]
  stop(): Promise<void>
}

/** Writes `batches` batches of lines while three masters run and one is killed -9 at random moments; reads the changelog back. */
async function runWithKills(t: TestContext, options: { batches: number; lines: (batch: number) => string[]; env?: Record<string, string> }): Promise<Run> {
  const broker = await startBrokerProcess()
  const masters: ChildProcess[] = []
  const env = options.env ?? {}
  try {
    const kafka = kafkaClient(broker.bootstrap)
    await createIngestTopic(kafka, PARTITIONS)
    for (let i = 0; i < 3; i++) masters.push(await startMaster(broker.bootstrap, env))

    const producer = await connectIngestProducer(kafka)
    let sent = 0
    let kills = 0
    let done = false
    const writing = (async () => {
      for (let b = 0; b < options.batches; b++) {
        sent += await sendLines(producer, options.lines(b), { partitions: PARTITIONS })
        await sleep(100)
      }
      done = true
    })()
    let seed = Number(process.env.SLUICE_FAULT_SEED ?? Date.now() % 100_000)
    t.diagnostic(`fault seed ${seed} (replay with SLUICE_FAULT_SEED)`)
    const random = (): number => { seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648; return seed / 2_147_483_648 }
    while (!done || kills < 4) {
      await sleep(300 + random() * 1_000)
      const victim = Math.floor(random() * masters.length)
      await kill(masters[victim]!)
      kills++
      await sleep(random() * 1_000)
      masters[victim] = await startMaster(broker.bootstrap, env)
    }
    await writing
    await producer.disconnect()

    const unique = new Set<string>()
    const changelog = await readChangelog(kafkaClient(broker.bootstrap), read => {
      const last = read[read.length - 1]!.entry
      unique.add(`${last.ingestPartition}/${last.ingestOffset}`)
      return unique.size >= sent
    }, 120_000)
    return {
      bootstrap: broker.bootstrap, sent, kills, changelog,
      stop: async () => { await Promise.all(masters.map(kill)); await broker.stop() },
    }
  } catch (error) {
    await Promise.all(masters.map(kill))
    await broker.stop()
    throw error
  }
}

test('kill -9 of masters during ingest: every ingest record is in the committed changelog exactly once', async t => {
  const batches = 100
  const run = await runWithKills(t, {
    batches,
    lines: b => Array.from({ length: 1_000 }, (_, i) => {
      const n = b * 1_000 + i
      return `cpu,host=h${n % 100} usage=${n} ${1_700_000_000_000_000_000n + BigInt(n)}`
    }),
  })
  try {
    t.diagnostic(`${run.sent} ingest records (${batches * 1_000} points) written, ${run.kills} masters killed`)
    assert.ok(run.kills >= 4, `masters were killed during the load (${run.kills})`)
    const unique = new Set(run.changelog.map(({ entry }) => `${entry.ingestPartition}/${entry.ingestOffset}`))
    assert.equal(unique.size, run.sent, 'every ingest record reached the committed changelog')
    assert.equal(run.changelog.length, run.sent, 'and none of them twice')
    const points = run.changelog.reduce((sum, { entry }) => sum + entry.upsert!.points.length, 0)
    assert.equal(points, batches * 1_000, 'every point, once')
  } finally {
    await run.stop()
  }
})

test('kill -9 of masters with swinging door on: the kept points are exactly those of an uninterrupted master', async t => {
  const settings = { databases: { db: { measurements: { plant: { codec: 'SDT(0.5)', fields: { level: 'DEADBAND(2)' } } } } } }
  const batches = 60
  const run = await runWithKills(t, {
    batches,
    env: { SLUICE_LOSSY: JSON.stringify(settings) },
    lines: b => Array.from({ length: 500 }, (_, i) => {
      const n = b * 25 + Math.floor(i / 20) // 20 sensors, one point each per step
      const sensor = i % 20
      const temp = 20 + 5 * Math.sin(n / (30 + sensor)) + ((n * 7919 + sensor * 104_729) % 100) / 400
      return `plant,sensor=s${sensor} temp=${temp},level=${Math.floor(n / 40) * 10 + (n % 3)}i ${1_700_000_000_000_000_000n + BigInt(n) * 1_000_000_000n}`
    }),
  })
  try {
    assert.ok(run.kills >= 4, `masters were killed during the load (${run.kills})`)
    assert.equal(run.changelog.length, new Set(run.changelog.map(({ entry }) => `${entry.ingestPartition}/${entry.ingestOffset}`)).size, 'no ingest record applied twice')

    // The uninterrupted master: the same ingest records, per partition in offset order, through one LossyCompression each.
    const ingest = await consumeUntil(kafkaClient(run.bootstrap), INGEST_TOPIC, { raw: true, timeoutMs: 30_000, until: read => read.length >= run.sent })
    assert.equal(ingest.length, run.sent)
    const expected = new Map<string, unknown>()
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const lossy = new LossyCompression({ config: parseCompressionConfig(settings), stateSchemaId: 4 })
      const records = ingest.filter(record => record.partition === partition).sort((a, b) => Number(a.offset) - Number(b.offset))
      for (const record of records) {
        const batch = decodeIngestRecord(unframe(record.rawValue!).payload).batch!
        for (const point of lossy.apply(batch)) merge(expected, batch.seriesKey, point)
      }
    }
    const actual = new Map<string, unknown>()
    for (const { entry } of run.changelog) for (const point of entry.upsert!.points) merge(actual, entry.upsert!.seriesKey, point)
    t.diagnostic(`${run.kills} masters killed; ${batches * 500 * 2} values written, ${actual.size} kept`)
    assert.ok(actual.size < batches * 500, `compression dropped values (${actual.size} kept)`)
    assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort(), 'the same (series, time, field) kept')
    for (const [key, value] of actual) assert.deepEqual(value, expected.get(key), key)
  } finally {
    await run.stop()
  }
})

/** Replicas' view: per (series, time, field) the value last written. */
function merge(into: Map<string, unknown>, seriesKey: string, point: Point): void {
  for (const field of point.fields) into.set(`${seriesKey} ${point.timeNs} ${field.name}`, field.value)
}
