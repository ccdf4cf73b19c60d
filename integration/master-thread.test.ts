// The master in its own worker thread (pipeline/processor/master-thread.ts) against a real broker
// process: every ingest record becomes exactly one committed changelog entry; status, lag and the
// lossy-compression report cross the thread; a worker that dies is started again, loudly, and
// the records around its death are in the changelog once each, with no gap.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { startMasterThread, type MasterThread } from '../pipeline/processor/index.ts'
import type { CompressionConfig } from '../pipeline/transforms/index.ts'
import { eventually, kafkaClient } from './support/kafka.ts'
import { connectIngestProducer, createIngestTopic, readChangelog, sendLines, type ChangelogRead } from './support/ingest.ts'

const PARTITIONS = 4

function assertOncePerRecord(entries: ChangelogRead[], records: number): void {
  const seen = new Set<string>()
  for (const { partition, entry } of entries) {
    assert.equal(entry.ingestPartition, partition, 'the changelog entry is on its ingest partition')
    const at = `${entry.ingestPartition}/${entry.ingestOffset}`
    assert.ok(!seen.has(at), `ingest record ${at} is in the changelog once`)
    seen.add(at)
  }
  assert.equal(seen.size, records, 'one changelog entry per ingest record')
}

test('a master thread writes each ingest record once, answers status across the thread, and is started again after it dies', async () => {
  const broker = await startBrokerProcess()
  let master: MasterThread | undefined
  const events: Array<Record<string, unknown>> = []
  const transactions: number[] = []
  try {
    const kafka = kafkaClient(broker.bootstrap)
    await createIngestTopic(kafka, PARTITIONS)
    const producer = await connectIngestProducer(kafka)
    const lines = (from: number, count: number): string[] =>
      Array.from({ length: count }, (_, i) => `cpu,host=h${(from + i) % 10} user=${from + i}.5,idle=${from + i}i ${1_700_000_000_000_000_000n + BigInt(from + i) * 1_000_000_000n}`)

    const lossy: CompressionConfig = { databases: new Map([['lossy', { codec: { algorithm: 'deadband', band: 1_000_000 } }]]) }
    master = await startMasterThread({
      kafka: { clientId: 'master-thread-test', brokers: [broker.bootstrap] },
      changelogSchemaId: 3,
      lossy: { config: lossy, stateSchemaId: 4 },
      sessionTimeoutMs: 6_000,
      log: event => events.push(event),
      observeTransaction: (_seconds, records) => transactions.push(records),
      onFatal: error => { throw error },
    })
    let sent = await sendLines(producer, lines(0, 300), { partitions: PARTITIONS })
    sent += await sendLines(producer, lines(300, 100), { partitions: PARTITIONS, database: 'lossy' })
    assertOncePerRecord(await readChangelog(kafka, read => read.length >= sent), sent)
    assert.ok(await eventually(() => master!.partitions().length === PARTITIONS && master!.stats.recordsIn >= sent), 'status crosses the thread: every partition mastered, every record counted')
    assert.ok(transactions.length > 0 && transactions.every(records => records > 0), 'each committed transaction is reported with its records')
    // A partition that never had a record has no master yet, so no lag entry.
    assert.ok(await eventually(async () => { const lag = await master!.lag(); return lag.size > 0 && [...lag.values()].every(records => records === 0n) }), 'lag answered across the thread: 0 on every partition with records')
    const filters = await master.compressionFilters()
    assert.ok(filters.some(filter => filter.database === 'lossy' && filter.field === 'user' && filter.counters.pointsIn > filter.counters.pointsKept), 'the deadband filters of database lossy dropped points, and say so')
    assert.deepEqual(await master.codecs('default', 'lossy', [['cpu', 'user']]), [{ algorithm: 'deadband', band: 1_000_000 }])
    assert.deepEqual(await master.codecs('default', 'db', [['cpu', 'user']]), [{ algorithm: 'off' }])

    // The worker dies (as on an uncaught error): it is started again, loudly, and takes its partitions back.
    const dying = master.thread!
    sent += await sendLines(producer, lines(400, 200), { partitions: PARTITIONS })
    await dying.terminate()
    sent += await sendLines(producer, lines(600, 200), { partitions: PARTITIONS })
    assert.ok(await eventually(() => master!.restarts === 1 && master!.thread !== undefined && master!.thread !== dying, 30_000), 'a new worker runs')
    assert.ok(events.some(event => event.level === 'error' && event.event === 'master thread exited unexpectedly; starting it again'), 'the death is logged at error level')
    const entries = await readChangelog(kafka, read => read.length >= sent, 60_000)
    await producer.disconnect()
    assertOncePerRecord(entries, sent)
    const users = entries.flatMap(({ entry }) => entry.upsert?.database === 'db' ? entry.upsert.points.map(point => point.fields.find(field => field.name === 'user')!.value as number) : [])
    assert.deepEqual(users.sort((a, b) => a - b), [...Array.from({ length: 300 }, (_, i) => i + 0.5), ...Array.from({ length: 400 }, (_, i) => 400 + i + 0.5)], 'every point written is in the changelog, once')
  } finally {
    await master?.stop().catch(() => {})
    await broker.stop()
  }
})
