// The master against a real broker process: every Sluice ingest record becomes exactly one
// committed changelog entry on the same partition, raw records are left to the Kafka source, a
// poison record goes to the dead-letter topic without stopping its partition, and a second node
// joining takes partitions over without a duplicate or a gap.

import '../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { startProcessor, type Processor } from '../pipeline/processor/index.ts'
import { sluiceRecordHeaders } from '../pipeline/source/record-format.ts'
import { consumeUntil, eventually, kafkaClient } from './support/kafka.ts'
import { connectIngestProducer, createIngestTopic, INGEST_TOPIC, readChangelog, sendLines } from './support/ingest.ts'
import { parseCommandSql, submitCommand } from '../pipeline/commands/index.ts'
import kafkajs from 'kafkajs'
import { registerLz4Codec } from '../lib/kafka/lz4-codec.ts'
import { parseLineProtocol, toIngestRecords } from '../pipeline/ingest/index.ts'

const PARTITIONS = 4
const quiet = (): void => {}

test('every ingest record becomes one committed changelog entry; poison goes to dead letters; a second master splits the work', async () => {
  const broker = await startBrokerProcess()
  const processors: Processor[] = []
  try {
    const kafka = kafkaClient(broker.bootstrap)
    await createIngestTopic(kafka, PARTITIONS)
    const producer = await connectIngestProducer(kafka)

    const lines = (from: number, count: number): string[] =>
      Array.from({ length: count }, (_, i) => `cpu,host=h${(from + i) % 10},region=r${(from + i) % 3} user=${from + i}.5,idle=${from + i}i ${1_700_000_000_000_000_000n + BigInt(from + i)}`)
    let sent = await sendLines(producer, lines(0, 200), { partitions: PARTITIONS })
    // A raw line protocol record (the Kafka source's to re-key) and a poison Sluice record.
    await producer.send({ topic: INGEST_TOPIC, messages: [{ partition: 1, value: 'cpu,host=raw user=1 1' }] })
    await producer.send({ topic: INGEST_TOPIC, messages: [{ partition: 2, key: 'cpu,host=x', value: Buffer.from([0, 0, 0, 0, 1, 0xff, 0xff]), headers: { ...sluiceRecordHeaders } }] })

    processors.push(await startProcessor({ kafka: kafkaClient(broker.bootstrap), changelogSchemaId: 3, log: quiet, sessionTimeoutMs: 6_000 }))
    sent += await sendLines(producer, lines(200, 200), { partitions: PARTITIONS })
    let entries = await readChangelog(kafka, read => read.length >= sent)
    assert.equal(entries.length, sent, 'one changelog entry per ingest record')

    // A second master joins: the partitions split, and nothing is processed twice or skipped.
    processors.push(await startProcessor({ kafka: kafkaClient(broker.bootstrap), changelogSchemaId: 3, log: quiet, sessionTimeoutMs: 6_000 }))
    assert.ok(await eventually(() => processors[1]!.partitions().length > 0 && processors[0]!.partitions().length + processors[1]!.partitions().length === PARTITIONS, 30_000), 'the partitions are shared between two masters')
    sent += await sendLines(producer, lines(400, 400), { partitions: PARTITIONS })
    entries = await readChangelog(kafka, read => read.length >= sent)
    await producer.disconnect()

    const seen = new Set<string>()
    let points = 0
    for (const { partition, entry } of entries) {
      assert.equal(entry.ingestPartition, partition, 'the changelog entry is on its ingest partition')
      const at = `${entry.ingestPartition}/${entry.ingestOffset}`
      assert.ok(!seen.has(at), `ingest record ${at} applied once`)
      seen.add(at)
      points += entry.upsert!.points.length
    }
    assert.equal(entries.length, sent)
    assert.equal(points, 800, 'every point is in the changelog')
    const user = entries.flatMap(({ entry }) => entry.upsert!.points.map(point => point.fields.find(field => field.name === 'user')!.value as number)).sort((a, b) => a - b)
    assert.deepEqual(user, Array.from({ length: 800 }, (_, i) => i + 0.5), 'the values are those written')

    const deadLetters = await consumeUntil(kafkaClient(broker.bootstrap), 'sluice.deadletter', { until: read => read.length >= 1, timeoutMs: 10_000 })
    assert.equal(deadLetters.length, 1, 'the poison record, and only it, is dead-lettered')
    const stats = processors.map(processor => processor.stats)
    assert.equal(stats.reduce((sum, s) => sum + s.recordsPoison, 0), 1)
    assert.equal(stats.reduce((sum, s) => sum + s.recordsSkipped, 0), 1, 'the raw record is skipped')
  } finally {
    for (const processor of processors) await processor.stop().catch(() => {})
    await broker.stop()
  }
})

test('a DELETE enters every partition in one transaction and reaches each changelog partition between the writes around it', async () => {
  const broker = await startBrokerProcess()
  let processor: Processor | undefined
  try {
    const kafka = kafkaClient(broker.bootstrap)
    await createIngestTopic(kafka, PARTITIONS)
    processor = await startProcessor({ kafka: kafkaClient(broker.bootstrap), changelogSchemaId: 3, log: quiet })
    const producer = await connectIngestProducer(kafka)
    const lines = (tag: string): string[] => Array.from({ length: 40 }, (_, i) => `air,station=s${i} pressure=${i}.5 ${1_700_000_000_000_000_000n + BigInt(i)}`).map(line => `${line.replace('air,', `air,phase=${tag},`)}`)
    let sent = await sendLines(producer, lines('before'), { partitions: PARTITIONS })
    const command = parseCommandSql("DELETE FROM air WHERE station = 's1' AND time < '2030-01-01'", {
      tenant: 'default', database: 'db', nowNs: 1n,
      columns: () => ({ tags: new Set(['station', 'phase']), fields: new Map([['pressure', 'float' as const]]) }),
    })
    const committer = kafka.producer({ transactionalId: 'it-commands', idempotent: true, maxInFlightRequests: 1 })
    await committer.connect()
    const positions = await submitCommand(committer, command, { topic: INGEST_TOPIC, partitions: PARTITIONS, schemaId: 1 })
    await committer.disconnect()
    assert.deepEqual(positions.map(position => position.partition), [0, 1, 2, 3], 'one position per partition')
    sent += PARTITIONS
    sent += await sendLines(producer, lines('after'), { partitions: PARTITIONS })
    await producer.disconnect()

    const entries = await readChangelog(kafka, read => read.length >= sent)
    assert.equal(entries.length, sent)
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const here = entries.filter(read => read.partition === partition).sort((a, b) => Number(a.offset) - Number(b.offset))
      const at = here.findIndex(read => read.entry.command !== null)
      assert.ok(at >= 0, `partition ${partition} has the command`)
      assert.equal(here.filter(read => read.entry.command !== null).length, 1, 'once')
      assert.equal(here[at]!.entry.command!.commandId, command.commandId)
      assert.equal(String(here[at]!.entry.ingestOffset), positions[partition]!.offset, 'at the position the answer named')
      const phases = here.map(read => read.entry.upsert?.tags.find(tag => tag.key === 'phase')?.value ?? 'command')
      assert.deepEqual(phases, [...phases.slice(0, at).map(() => 'before'), 'command', ...phases.slice(at + 1).map(() => 'after')], `partition ${partition}: writes before, the command, writes after`)
    }
  } finally {
    await processor?.stop().catch(() => {})
    await broker.stop()
  }
})

test('a chunk whose changelog is larger than the broker accepts in one batch is committed in several requests', async () => {
  // LZ4 ingest batches hold several times their size in changelog entries, which the master writes
  // uncompressed: one fetch of ingest can give a transaction far above max.message.bytes (1 MiB).
  registerLz4Codec()
  const broker = await startBrokerProcess()
  let processor: Processor | undefined
  try {
    const kafka = kafkaClient(broker.bootstrap)
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: INGEST_TOPIC, numPartitions: 1 }] })
    await admin.disconnect()
    const producer = await connectIngestProducer(kafka)
    const note = 'x'.repeat(200)
    let points = 0
    for (let send = 0; send < 12; send++) {
      const lines = Array.from({ length: 2_000 }, (_, i) => `m,s=s${i % 20} v=${send * 2_000 + i},note="${note}" ${1_700_000_000_000_000_000n + BigInt(send * 2_000 + i)}`)
      const batch = parseLineProtocol(Buffer.from(lines.join('\n')), { nowNs: 0n })
      const records = toIngestRecords(batch, { tenant: 'default', database: 'db', partitions: 1, source: 'test', receivedAtNs: 1n })
      await producer.send({ topic: INGEST_TOPIC, acks: -1, compression: kafkajs.CompressionTypes.LZ4, messages: records.map(r => ({ partition: 0, key: r.key, value: r.value, headers: { ...sluiceRecordHeaders } })) })
      points += lines.length
    }
    await producer.disconnect()
    processor = await startProcessor({ kafka: kafkaClient(broker.bootstrap), changelogSchemaId: 3, log: quiet, sessionTimeoutMs: 6_000 })
    let seen = 0
    const entries = await readChangelog(kafka, read => (seen += read[read.length - 1]!.entry.upsert?.points.length ?? 0) >= points, 60_000)
    assert.equal(entries.reduce((sum, { entry }) => sum + (entry.upsert?.points.length ?? 0), 0), points, 'every point reached the changelog')
    assert.equal(processor.stats.transactionsAborted, 0, 'no transaction was refused')
  } finally {
    await processor?.stop().catch(() => {})
    await broker.stop()
  }
})
