// The whole set under kill -9 (issues 4 and 5, "Faults"): three `sluice node` processes (each a
// master, a replica and an HTTP front) on one broker and Redis take 1,000,000 points over HTTP
// while nodes are killed -9 at random moments and restarted on their data directories. Writers
// retry each batch on another node with the same Idempotency-Key until it is acknowledged.
// Afterwards:
//   - the committed changelog holds each committed ingest record exactly once;
//   - the lossless measurement holds every point, value by value;
//   - with swinging door on, the kept points are exactly those an uninterrupted master keeps when
//     it reads the same committed ingest log (LossyCompression run in this process);
//   - every node reports the checksum of a reference replica built from the changelog, and answers
//     SQL with exactly the expected points.
// SLUICE_CHAOS_POINTS scales the run down for a quick local try; SLUICE_FAULT_SEED replays a schedule.

import '../lib/kafka/aborted-filter.ts' // before kafkajs loads: read_committed drops every aborted record
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { LossyCompression } from '../pipeline/processor/index.ts'
import { parseCompressionConfig } from '../pipeline/transforms/index.ts'
import { decodeIngestRecord, unframe, type Point } from '../schemas/index.ts'
import { uniqueName } from './http-helpers.ts'
import { eventually, kafkaClient, sleep } from './support/kafka.ts'
import { INGEST_TOPIC, readChangelog } from './support/ingest.ts'
import { registerLz4Codec } from '../lib/kafka/lz4-codec.ts'
import { buildReference, referencePoints, startThreeNodes, stopAll, waitForChecksum } from './support/replicas.ts'

const POINTS = Number(process.env.SLUICE_CHAOS_POINTS ?? 1_000_000)
const PARTITIONS = 6
const SERIES = 1_000 // half cpu (lossless), half sensor (swinging door on temp)
const STEPS = POINTS / SERIES
const STEPS_PER_BATCH = 50
const WRITERS = 2 // each owns half the series and writes them in time order
const T0 = 1_700_000_000_000_000_000n
const DATABASE = 'chaos'
const tenant = uniqueName('it_chaos')
const lossy = { databases: { [DATABASE]: { measurements: { sensor: { codec: 'SDT(0.5)' } } } } }

let seed = Number(process.env.SLUICE_FAULT_SEED ?? Date.now() % 100_000)
const random = (): number => { seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648; return seed / 2_147_483_648 }

const timeNs = (step: number): bigint => T0 + BigInt(step) * 1_000_000_000n
const usage = (series: number, step: number): number => ((series * 31 + step * 17) % 800) / 8
const temp = (series: number, step: number): number => Number((20 + 5 * Math.sin(step / (40 + (series % 13))) + ((step * 7_919 + series) % 50) / 500).toFixed(4))
const line = (series: number, step: number): string => series % 2 === 0
  ? `cpu,host=h${series} usage=${usage(series, step)} ${timeNs(step)}`
  : `sensor,id=s${series} temp=${temp(series, step)} ${timeNs(step)}`

let broker: BrokerProcess | undefined
const nodes: NodeProcess[] = []
after(() => stopAll(nodes, broker, tenant))

const isUp = (node: NodeProcess): boolean => node.child.exitCode === null && node.child.signalCode === null

async function kill9(node: NodeProcess): Promise<void> {
  if (!isUp(node)) return
  const exited = once(node.child, 'exit')
  node.child.kill('SIGKILL')
  await exited
}

/** Requests each node is taking from the writers right now: a kill aims there, so it lands on writes in flight. */
const inFlight = new Map<NodeProcess, number>()

/** Posts one batch until a node acknowledges it: another node after a connection error or a 5xx/409/429. */
async function writeBatch(body: string, key: string, stats: { retries: number }): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const live = nodes.filter(isUp)
    const node = live[Math.floor(random() * live.length)]
    if (node) {
      inFlight.set(node, (inFlight.get(node) ?? 0) + 1)
      try {
        const answer = await fetch(`${node.url}/write?db=${DATABASE}&precision=ns`, { method: 'POST', body, headers: { 'Idempotency-Key': key }, signal: AbortSignal.timeout(20_000) })
        const text = await answer.text()
        if (answer.status === 204) return
        assert.ok([409, 429, 500, 502, 503].includes(answer.status), `batch ${key}: unexpected ${answer.status} ${text}`)
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error // a refusal, not a fault
      } finally {
        inFlight.set(node, inFlight.get(node)! - 1)
      }
    }
    stats.retries++
    assert.ok(attempt < 200, `batch ${key} never acknowledged`)
    await sleep(100 + random() * 200)
  }
}

interface IngestRead { partition: number; offset: bigint; value: Buffer }

/** Reads the committed ingest log until it covers every expected point and then stays quiet for 2 s. */
async function readIngestLog(bootstrap: string, covered: (reads: IngestRead[]) => boolean): Promise<IngestRead[]> {
  registerLz4Codec() // nodes compress sluice.ingest with LZ4 by default
  const consumer = kafkaClient(bootstrap).consumer({ groupId: `chaos-reader-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 200 })
  const reads: IngestRead[] = []
  let lastAt = Date.now()
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [INGEST_TOPIC], fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        reads.push({ partition, offset: BigInt(message.offset), value: message.value! })
        lastAt = Date.now()
      },
    })
    const deadline = Date.now() + 120_000
    let enough = false
    while (Date.now() < deadline) {
      await sleep(500)
      enough ||= covered(reads)
      if (enough && Date.now() - lastAt > 2_000) return reads
    }
    throw new Error(`ingest log not covered within 120 s (${reads.length} records read)`)
  } finally {
    await consumer.disconnect()
  }
}

/** Replicas' view: per (series, time, field) the value last written. */
function merge(into: Map<string, unknown>, seriesKey: string, point: Point): void {
  for (const field of point.fields) into.set(`${seriesKey}@${point.timeNs}=${field.name}`, field.value)
}

test(`${POINTS} points over HTTP while nodes are killed -9: every replica holds exactly the expected points`, { timeout: 600_000 }, async t => {
  assert.ok(Number.isInteger(STEPS) && STEPS % STEPS_PER_BATCH === 0, 'SLUICE_CHAOS_POINTS is a multiple of 50,000')
  t.diagnostic(`fault seed ${seed} (replay with SLUICE_FAULT_SEED)`)
  const settings = join(mkdtempSync(join(tmpdir(), 'sluice-chaos-')), 'lossy.json')
  writeFileSync(settings, JSON.stringify(lossy))
  const args = [
    '--partitions', String(PARTITIONS), '--default-tenant', tenant, '--lossy-compression', settings,
    '--replica-flush-interval-ms', '1000', '--heartbeat-interval-ms', '500', '--master-session-timeout-ms', '3000',
    // A node killed while holding an Idempotency-Key claim: its retry may write after 11 s.
    '--limit', 'idempotencyPendingTtlMs=11000',
  ]
  broker = await startBrokerProcess()
  nodes.push(...await startThreeNodes(broker.bootstrap, 'chaos', args))

  // Writers: each owns every WRITERS-th series and posts STEPS_PER_BATCH steps of them per batch.
  const stats = { retries: 0 }
  const started = Date.now()
  let writing = WRITERS
  let writtenMs = 0
  let killsDuringWrites = 0
  // However fast the machine writes, kills land mid-ingest: the first writer holds at its midpoint
  // until that many kills have happened (the other writes on, so kills meet writes in flight).
  const killsBeforeSecondHalf = POINTS >= 1_000_000 ? 2 : 1
  const midpoint = Math.floor(STEPS / STEPS_PER_BATCH / 2) * STEPS_PER_BATCH
  const writers = Array.from({ length: WRITERS }, async (_, writer) => {
    const mine = Array.from({ length: SERIES / WRITERS }, (_, i) => i * WRITERS + writer)
    for (let step = 0; step < STEPS; step += STEPS_PER_BATCH) {
      if (writer === 0 && step === midpoint) assert.ok(await eventually(() => killsDuringWrites >= killsBeforeSecondHalf, 120_000, 50), 'kills happened while writing')
      const lines: string[] = []
      for (let s = step; s < step + STEPS_PER_BATCH; s++) for (const series of mine) lines.push(line(series, s))
      await writeBatch(lines.join('\n'), `${tenant}-${writer}-${step}`, stats)
    }
    if (--writing === 0) writtenMs = Date.now() - started
  })

  // Faults: one node at a time is killed -9 (one taking a write, while there are writes) and
  // restarted after a pause, until the writers are done and at least 4 kills happened.
  // A victim is never the previous one, so the kills spread over the nodes.
  const kills: string[] = []
  let killsInFlight = 0
  let previous = -1
  const faults = (async () => {
    while (writing > 0 || kills.length < 4) {
      await sleep(1_000 + random() * 2_000)
      const busy = [...inFlight].filter(([, requests]) => requests > 0).map(([node]) => nodes.indexOf(node)).filter(index => index >= 0 && index !== previous)
      const others = nodes.map((_, index) => index).filter(index => index !== previous)
      const victim = busy.length > 0 ? busy[Math.floor(random() * busy.length)]! : others[Math.floor(random() * others.length)]!
      if (writing > 0) killsDuringWrites++
      previous = victim
      const { dataDir, nodeId } = nodes[victim]!
      // Stopped first, so that it sends no more answers; after the writers have read those it sent, a
      // request still open to it is one the kill interrupts (an answer already on its way is not).
      if (isUp(nodes[victim]!)) {
        nodes[victim]!.child.kill('SIGSTOP')
        await sleep(100)
        if ((inFlight.get(nodes[victim]!) ?? 0) > 0) killsInFlight++
      }
      await kill9(nodes[victim]!)
      kills.push(nodeId)
      await sleep(300 + random() * 1_700)
      nodes[victim] = await startNodeProcess({ kafka: broker!.bootstrap, dataDir, nodeId, args })
    }
  })()
  await Promise.all(writers)
  await faults
  t.diagnostic(`${POINTS} points acknowledged in ${(writtenMs / 1000).toFixed(1)} s; ${kills.length} kills, ${killsDuringWrites} during writes, ${killsInFlight} of a node taking a write (${kills.join(', ')}); ${stats.retries} retried posts`)
  assert.ok(new Set(kills).size >= 2, 'more than one node was killed')
  assert.ok(killsDuringWrites >= killsBeforeSecondHalf, `kills during the writes (${killsDuringWrites})`)
  if (killsInFlight > 0) assert.ok(stats.retries > 0, 'a kill of a node taking a write made its writer retry')

  // The committed ingest log: what every master read. Acknowledged batches may be in it twice (a retry after a lost answer).
  const kafka = kafkaClient(broker.bootstrap)
  const seenPoints = new Set<string>()
  let decoded = 0
  const ingest = await readIngestLog(broker.bootstrap, reads => {
    for (; decoded < reads.length; decoded++) {
      const batch = decodeIngestRecord(unframe(reads[decoded]!.value).payload).batch
      if (batch?.database === DATABASE) for (const point of batch.points) seenPoints.add(`${batch.seriesKey}@${point.timeNs}`)
    }
    return seenPoints.size >= POINTS
  })
  assert.equal(seenPoints.size, POINTS, 'every acknowledged point is in the committed ingest log')

  // The uninterrupted master: the same ingest records, per partition in offset order, through one LossyCompression each.
  const expected = new Map<string, unknown>()
  let ingestRecords = 0
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const compression = new LossyCompression({ config: parseCompressionConfig(lossy), stateSchemaId: 0 })
    const records = ingest.filter(read => read.partition === partition).sort((a, b) => (a.offset < b.offset ? -1 : 1))
    for (const read of records) {
      const batch = decodeIngestRecord(unframe(read.value).payload).batch
      if (!batch) continue
      ingestRecords++
      for (const point of compression.apply(batch)) merge(expected, batch.seriesKey, point)
    }
  }

  // The committed changelog: one entry per ingest record, none twice.
  const unique = new Set<string>()
  const changelog = await readChangelog(kafka, reads => {
    const last = reads[reads.length - 1]!.entry
    unique.add(`${last.ingestPartition}/${last.ingestOffset}`)
    return unique.size >= ingestRecords
  }, 180_000)
  assert.equal(unique.size, ingestRecords, 'every committed ingest record reached the committed changelog')
  assert.equal(changelog.length, ingestRecords, 'and none of them twice')
  const actual = new Map<string, unknown>()
  for (const { entry } of changelog) for (const point of entry.upsert?.points ?? []) merge(actual, entry.upsert!.seriesKey, point)

  // Lossless: every cpu point, value by value. Lossy: exactly the uninterrupted master's choice.
  let cpu = 0
  for (let series = 0; series < SERIES; series += 2) {
    for (let step = 0; step < STEPS; step++) {
      cpu++
      const key = `cpu,host=h${series}@${timeNs(step)}=usage`
      assert.equal(actual.get(key), usage(series, step), key)
    }
  }
  const kept = [...actual.keys()].filter(key => key.startsWith('sensor,')).length
  t.diagnostic(`changelog: ${changelog.length} entries; cpu ${cpu} points; sensor ${kept} of ${POINTS - cpu} points kept`)
  assert.ok(kept < (POINTS - cpu) / 2, `swinging door dropped points (${kept} kept)`)
  assert.equal(actual.size, expected.size, 'as many (series, time, field) as the uninterrupted master')
  for (const [key, value] of expected) if (actual.get(key) !== value) assert.fail(`${key}: changelog has ${String(actual.get(key))}, an uninterrupted master ${String(value)}`)

  // Every replica: the reference's checksum at the reference's offsets, and the same points over SQL.
  const reference = await buildReference(changelog, PARTITIONS, kafka)
  try {
    const fromReference = referencePoints(reference, tenant, DATABASE, 'cpu', 'usage')
    assert.equal(fromReference.length, cpu, 'the reference replica holds every cpu point once')
    for (const node of nodes) {
      const answer = await waitForChecksum(node.url, reference, 60_000)
      assert.deepEqual(answer.offsets, reference.offsets, `${node.nodeId} is at the reference's offsets`)
      assert.equal(answer.checksum, reference.checksum, `${node.nodeId} holds exactly the reference's points`)
      for (const measurement of ['cpu', 'sensor']) {
        const field = measurement === 'cpu' ? 'usage' : 'temp'
        const tag = measurement === 'cpu' ? 'host' : 'id'
        const response = await fetch(`${node.url}/api/v1/sql?db=${DATABASE}&tenant=${tenant}`, { method: 'POST', body: `SELECT time, ${tag}, ${field} FROM ${measurement}` })
        assert.equal(response.status, 200, await response.clone().text())
        const rows = await response.json() as Array<Record<string, string | number>>
        const want = [...expected].filter(([key]) => key.startsWith(`${measurement},`))
        assert.equal(rows.length, want.length, `${node.nodeId}: ${measurement} rows`)
        for (const row of rows) {
          const key = `${measurement},${tag}=${row[tag]}@${BigInt(Date.parse(String(row.time))) * 1_000_000n}=${field}`
          if (expected.get(key) !== row[field]) assert.fail(`${node.nodeId}: ${key} is ${row[field]}, expected ${String(expected.get(key))}`)
        }
      }
    }
  } finally {
    await reference.close()
  }
})
