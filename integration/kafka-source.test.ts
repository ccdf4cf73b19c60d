// The Kafka source end to end against the broker process: kcat (librdkafka) and kafkajs write line
// protocol, Telegraf JSON and Confluent-framed Avro to sluice.ingest, keyed and not, with every
// compression codec; the source (its own process) re-keys them, and a read_committed reader finds
// every point exactly once, on the partition of its series key, in order per series and source
// partition. Bad records land in sluice.deadletter with reason, offset and original bytes, and
// their partition keeps flowing. kill -9 of the source mid-stream loses and duplicates nothing,
// whether it restarts or a second source takes its partitions over.

import '../lib/kafka/aborted-filter.ts' // before kafkajs loads: read_committed drops every aborted record
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { resolve } from 'node:path'
import kafkajs, { type Kafka } from 'kafkajs'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { kafkaClient, sleep } from './support/kafka.ts'
import { run } from './support/run.ts'
import { registerKafkaCodecs, DeadLetterHeader, OriginHeader, SLUICE_INGEST_RECORD_FORMAT, SourceHeader } from '../pipeline/source/index.ts'
import { partitionForSeriesKey } from '../pipeline/ingest/index.ts'
import { frame, encode, unframe, decodeIngestRecord, ingestRecordType, ingestBatchType, ingestBatchV1Type, type IngestBatch } from '../schemas/index.ts'

const { CompressionTypes } = kafkajs
const PARTITIONS = 4
const INGEST = 'sluice.ingest'
const DEAD_LETTER = 'sluice.deadletter'
const repositoryRoot = resolve(import.meta.dirname, '..')

let broker: BrokerProcess
let kafka: Kafka

before(async () => {
  registerKafkaCodecs()
  broker = await startBrokerProcess()
  kafka = kafkaClient(broker.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  // sluice.deadletter is left to the source, which creates it when missing.
  await admin.createTopics({ topics: [{ topic: INGEST, numPartitions: PARTITIONS }] })
  await admin.disconnect()
})

after(async () => { await broker.stop() })

// ---- the source process ----

interface SourceProcess { child: ChildProcess; logs(): string }

async function startSource(maxRecordsPerTransaction = 1000): Promise<SourceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'integration/kafka-source.child.ts'], {
    cwd: repositoryRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SLUICE_TEST_BOOTSTRAP: broker.bootstrap, SLUICE_TEST_MAX_RECORDS_PER_TRANSACTION: String(maxRecordsPerTransaction) },
  })
  let stderr = ''
  child.stderr!.on('data', chunk => { stderr += chunk })
  await new Promise<void>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`source did not start:\n${stderr}`)), 30_000)
    child.stdout!.on('data', chunk => { if (String(chunk).includes('ready')) { clearTimeout(timer); resolveReady() } })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`source exited with ${code}:\n${stderr}`)) })
  })
  return { child, logs: () => stderr }
}

async function stopSource(source: SourceProcess, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (source.child.exitCode !== null || source.child.signalCode !== null) return
  const exited = once(source.child, 'exit')
  source.child.kill(signal)
  await exited
}

// ---- reading what the source wrote ----

interface WrittenPoint { partition: number; seriesKey: string; database: string; timeNs: bigint; fields: string; originPartition: string; originOffset: string }

/** Reads sluice.ingest read_committed from the start until `enough` holds (then a quiet second more, to catch duplicates). */
async function readWritten(enough: (points: WrittenPoint[]) => boolean, timeoutMs = 60_000): Promise<WrittenPoint[]> {
  const consumer = kafka.consumer({ groupId: `reader-${Math.random().toString(36).slice(2)}`, readUncommitted: false, maxWaitTimeInMs: 200, sessionTimeout: 10_000 })
  const points: WrittenPoint[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic: INGEST, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (message.headers?.[SourceHeader.FORMAT]?.toString() !== SLUICE_INGEST_RECORD_FORMAT) return
        const batch = decodeIngestRecord(unframe(message.value!).payload).batch!
        assert.equal(message.key!.toString(), batch.seriesKey, 'the record key is the series key')
        for (const point of batch.points) {
          points.push({
            partition, seriesKey: batch.seriesKey, database: batch.database, timeNs: point.timeNs,
            fields: JSON.stringify(point.fields, (_key, value: unknown) => typeof value === 'bigint' ? `${value}n` : value),
            originPartition: message.headers[OriginHeader.PARTITION]!.toString(), originOffset: message.headers[OriginHeader.OFFSET]!.toString(),
          })
        }
      },
    })
    const deadline = Date.now() + timeoutMs
    while (!enough(points) && Date.now() < deadline) await sleep(200)
    await sleep(1_000)
  } finally {
    await consumer.disconnect()
  }
  return points
}

interface DeadLetter { headers: Record<string, string>; key: string | null; value: Buffer | null }

async function readDeadLetters(count: number): Promise<DeadLetter[]> {
  const consumer = kafka.consumer({ groupId: `dl-${Math.random().toString(36).slice(2)}`, readUncommitted: false, maxWaitTimeInMs: 200 })
  const letters: DeadLetter[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic: DEAD_LETTER, fromBeginning: true })
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]))
        letters.push({ headers, key: message.key?.toString() ?? null, value: message.value })
      },
    })
    const deadline = Date.now() + 30_000
    while (letters.length < count && Date.now() < deadline) await sleep(200)
    await sleep(500)
  } finally {
    await consumer.disconnect()
  }
  return letters
}

/** Expected point identity: series, time, database and fields. */
interface ExpectedPoint { seriesKey: string; timeNs: bigint; database: string; fields: string }

const pointId = (p: { seriesKey: string; timeNs: bigint; database: string }): string => `${p.database}|${p.seriesKey}|${p.timeNs}`
const fieldsJson = (fields: Array<{ name: string; value: unknown }>): string => JSON.stringify(fields, (_key, value: unknown) => typeof value === 'bigint' ? `${value}n` : value)

function assertExactlyOnce(written: WrittenPoint[], expected: ExpectedPoint[]): void {
  const counts = new Map<string, number>()
  for (const point of written) counts.set(pointId(point), (counts.get(pointId(point)) ?? 0) + 1)
  const duplicates = [...counts].filter(([, count]) => count > 1)
  assert.deepEqual(duplicates, [], 'no point is written twice')
  const expectedIds = new Set(expected.map(pointId))
  const missing = expected.filter(p => !counts.has(pointId(p)))
  assert.deepEqual(missing.slice(0, 5).map(pointId), [], `${missing.length} expected points missing`)
  const unexpected = written.filter(p => !expectedIds.has(pointId(p)))
  assert.deepEqual(unexpected.slice(0, 5).map(pointId), [], 'no point that was not written')
  const byId = new Map(written.map(p => [pointId(p), p]))
  for (const point of expected) assert.equal(byId.get(pointId(point))!.fields, point.fields, `fields of ${pointId(point)}`)
  for (const point of written) assert.equal(point.partition, partitionForSeriesKey(point.seriesKey, PARTITIONS), `partition of ${point.seriesKey}`)
}

/** Within a series, points that came from one source partition appear in source offset order (and so in time order here). */
function assertOrderPerSeries(written: WrittenPoint[]): void {
  const last = new Map<string, { offset: bigint; timeNs: bigint }>()
  for (const point of written) {
    const stream = `${point.database}|${point.seriesKey}|${point.originPartition}`
    const previous = last.get(stream)
    const offset = BigInt(point.originOffset)
    if (previous) {
      assert.ok(offset >= previous.offset, `${stream}: source offset ${offset} after ${previous.offset}`)
      assert.ok(point.timeNs > previous.timeNs, `${stream}: time ${point.timeNs} after ${previous.timeNs}`)
    }
    last.set(stream, { offset, timeNs: point.timeNs })
  }
}

/** Sum of the source group's committed offsets on sluice.ingest. */
async function committedOffsets(): Promise<bigint> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const [topic] = await admin.fetchOffsets({ groupId: 'sluice.source', topics: [INGEST] })
    return (topic?.partitions ?? []).reduce((sum, p) => sum + (Number(p.offset) > 0 ? BigInt(p.offset) : 0n), 0n)
  } finally {
    await admin.disconnect()
  }
}

// ---- the inputs ----

const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
const kafkajsCodec = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD }
const BASE_S = 1_700_000_000n
const line = (measurement: string, host: string, i: number): string => `${measurement},host=${host} v=${i}i,f=${i}.5 ${(BASE_S + BigInt(i)) * 1_000_000_000n}`
const lineExpected = (measurement: string, host: string, i: number, database = 'telegraf'): ExpectedPoint => ({
  seriesKey: `${measurement},host=${host}`, timeNs: (BASE_S + BigInt(i)) * 1_000_000_000n, database, fields: fieldsJson([{ name: 'v', value: BigInt(i) }, { name: 'f', value: i + 0.5 }]),
})

async function kcat(args: string[], input: string): Promise<void> {
  const result = await run('kcat', ['-b', broker.bootstrap, '-P', '-t', INGEST, ...args], { input, timeoutMs: 60_000 })
  assert.equal(result.code, 0, `kcat ${args.join(' ')}: ${result.stderr}`)
}

const avroBatch = (measurement: string, i: number): IngestBatch => ({
  tenant: 'acme', database: 'plant', measurement, seriesKey: 'ignored', tags: [{ key: 'line', value: 'a b' }],
  points: [{ timeNs: (BASE_S + BigInt(i)) * 1_000_000_000n, fields: [{ name: 'temp', value: i + 0.25 }, { name: 'state', value: `s${i}` }] }],
  source: null, receivedAtNs: 1n, idempotencyKey: null,
})
const avroExpected = (measurement: string, i: number): ExpectedPoint => ({
  seriesKey: `${measurement},line=a\\ b`, timeNs: (BASE_S + BigInt(i)) * 1_000_000_000n, database: 'plant', fields: fieldsJson([{ name: 'temp', value: i + 0.25 }, { name: 'state', value: `s${i}` }]),
})

test('line protocol, JSON and Avro from kcat and kafkajs, every codec, keyed and not: each point once, on its key\'s partition, in order', async () => {
  const source = await startSource()
  const expected: ExpectedPoint[] = []
  try {
    for (const codec of codecs) {
      const z = codec === 'none' ? [] : ['-z', codec]
      // kcat as Telegraf's outputs.kafka sends it: one metric per message, unkeyed and keyed by host (routing_tag).
      await kcat([...z], Array.from({ length: 10 }, (_, i) => line(`kc_${codec}`, `h${i % 3}`, i)).join('\n') + '\n')
      for (let i = 0; i < 10; i++) expected.push(lineExpected(`kc_${codec}`, `h${i % 3}`, i))
      await kcat([...z, '-K', '|'], Array.from({ length: 10 }, (_, i) => `h${i % 2}|${line(`kck_${codec}`, `h${i % 2}`, i)}`).join('\n') + '\n')
      for (let i = 0; i < 10; i++) expected.push(lineExpected(`kck_${codec}`, `h${i % 2}`, i))
      // Several metrics per message, a database header.
      await kcat([...z, '-D', '~', '-H', 'sluice-database=kcatdb'], [0, 5].map(start => Array.from({ length: 5 }, (_, j) => line(`kcm_${codec}`, 'm', start + j)).join('\n')).join('~'))
      for (let i = 0; i < 10; i++) expected.push(lineExpected(`kcm_${codec}`, 'm', i, 'kcatdb'))
      // kafkajs: Telegraf JSON (single metrics keyed and not, a batch with content-type) and Avro.
      const producer = kafka.producer()
      await producer.connect()
      const json = (i: number): string => JSON.stringify({ fields: { v: i + 0.5 }, name: `js_${codec}`, tags: { host: `h${i % 2}` }, timestamp: Number(BASE_S) + i })
      const messages = [
        ...Array.from({ length: 6 }, (_, i) => ({ key: i % 2 === 0 ? `h${i % 2}` : null, value: json(i) })),
        { value: JSON.stringify({ metrics: [6, 7].map(i => JSON.parse(json(i))) }), headers: { 'content-type': 'application/json' } },
        { value: frame(1, encode(ingestRecordType, { batch: avroBatch(`av_${codec}`, 0), command: null })) },
        { value: frame(2, encode(ingestBatchType, avroBatch(`av_${codec}`, 1))) },
        { value: frame(3, encode(ingestBatchV1Type, (({ idempotencyKey: _, ...v1 }) => v1)(avroBatch(`av_${codec}`, 2)))), headers: { 'content-type': 'application/avro' } },
      ]
      await producer.send({ topic: INGEST, compression: kafkajsCodec[codec], messages })
      await producer.disconnect()
      for (let i = 0; i < 8; i++) expected.push({ seriesKey: `js_${codec},host=h${i % 2}`, timeNs: (BASE_S + BigInt(i)) * 1_000_000_000n, database: 'telegraf', fields: fieldsJson([{ name: 'v', value: i + 0.5 }]) })
      for (let i = 0; i < 3; i++) expected.push(avroExpected(`av_${codec}`, i))
    }
    const written = await readWritten(points => new Set(points.map(pointId)).size >= expected.length)
    assertExactlyOnce(written, expected)
    assertOrderPerSeries(written)
    // Telegraf retries arrive as duplicates: the same point again is written again (an upsert downstream absorbs it).
    await kcat([], line('kc_none', 'h0', 0) + '\n')
    const withRetry = await readWritten(points => points.length > written.length)
    assert.equal(withRetry.filter(p => p.seriesKey === 'kc_none,host=h0' && p.timeNs === expected[0]!.timeNs).length, 2)
  } finally {
    await stopSource(source, 'SIGTERM')
  }
})

test('bad records go to sluice.deadletter with reason, source offset and original bytes; the partition keeps flowing', async () => {
  const source = await startSource()
  try {
    const producer = kafka.producer()
    await producer.connect()
    const bad = [
      { key: 'flow', value: 'this is not line protocol' },
      { key: 'flow', value: '{"metrics":[{"name":"m","fields":{"v":1}}' },
      { key: 'flow', value: frame(999, Buffer.from([1, 2, 3])) },
      { key: 'flow', value: 'dl_partial v=1 1700000000000000000\ndl_partial v= 1700000000000000001' },
      { key: 'flow', value: 'x', headers: { 'content-type': 'application/xml' } },
    ]
    const sent = await producer.send({ topic: INGEST, compression: CompressionTypes.ZSTD, messages: [...bad, { key: 'flow', value: 'dl_after v=1 1700000000000000000' }] })
    await producer.disconnect()
    const partition = sent[0]!.partition
    const letters = (await readDeadLetters(bad.length)).filter(letter => letter.key === 'flow')
    assert.equal(letters.length, bad.length, 'every bad record is dead-lettered once')
    for (const [index, letter] of letters.entries()) {
      const original = bad[index]!
      assert.deepEqual(letter.value, Buffer.isBuffer(original.value) ? original.value : Buffer.from(original.value), 'the original bytes')
      assert.equal(letter.headers[DeadLetterHeader.TOPIC], INGEST)
      assert.equal(letter.headers[DeadLetterHeader.PARTITION], String(partition))
      assert.match(letter.headers[DeadLetterHeader.OFFSET]!, /^\d+$/)
      assert.ok(letter.headers[DeadLetterHeader.REASON]!.length > 0)
    }
    const offsets = letters.map(letter => BigInt(letter.headers[DeadLetterHeader.OFFSET]!))
    assert.deepEqual(offsets, [...offsets].sort((a, b) => (a < b ? -1 : 1)), 'in source order')
    assert.match(letters[0]!.headers[DeadLetterHeader.REASON]!, /1 line rejected \(0 points written\): line 1: /)
    assert.match(letters[1]!.headers[DeadLetterHeader.REASON]!, /invalid JSON at byte \d+/)
    assert.match(letters[2]!.headers[DeadLetterHeader.REASON]!, /999/)
    assert.equal(letters[3]!.headers[DeadLetterHeader.PARTIAL], 'true')
    assert.match(letters[3]!.headers[DeadLetterHeader.REASON]!, /line 2: /)
    assert.match(letters[4]!.headers[DeadLetterHeader.REASON]!, /unsupported content-type "application\/xml"/)
    assert.equal(letters[4]!.headers['content-type'], 'application/xml', 'original headers are kept')
    const written = await readWritten(points => points.some(p => p.seriesKey === 'dl_after'))
    assert.ok(written.some(p => p.seriesKey === 'dl_after'), 'the record after the bad ones got through')
    assert.equal(written.filter(p => p.seriesKey === 'dl_partial').length, 1, 'the good line of a partial record is written')
  } finally {
    await stopSource(source, 'SIGTERM')
  }
})

test('on assignment the source fences a previous owner at once: its open transaction is aborted, not waited out', async () => {
  // A zombie owner of partition 0: same transactional id, an open transaction holding a raw record,
  // and a transaction timeout far longer than the test waits.
  const zombie = kafka.producer({ transactionalId: 'sluice-source-0', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 120_000 })
  await zombie.connect()
  const open = await zombie.transaction()
  await open.send({ topic: INGEST, messages: [{ partition: 0, value: 'zombie,host=z v=1 1700000000000000000' }] })
  const source = await startSource()
  try {
    const producer = kafka.producer()
    await producer.connect()
    await producer.send({ topic: INGEST, messages: [{ partition: 0, value: 'after_zombie,host=x v=1 1700000000000000000' }] })
    await producer.disconnect()
    const started = Date.now()
    const written = await readWritten(points => points.some(p => p.seriesKey === 'after_zombie,host=x'), 30_000)
    assert.ok(written.some(p => p.seriesKey === 'after_zombie,host=x'), 'the record behind the zombie transaction was re-keyed')
    assert.ok(Date.now() - started < 20_000, 'well before the zombie transaction would time out')
    assert.ok(!written.some(p => p.seriesKey.startsWith('zombie')), 'the zombie record was aborted, never converted')
    await assert.rejects(open.commit(), 'the zombie is fenced')
  } finally {
    await zombie.disconnect().catch(() => undefined)
    await stopSource(source, 'SIGTERM')
  }
})

/** Produces `total` keyed line protocol messages (LZ4) in small sends, recording what each point must be. */
function streamLines(measurement: string, total: number, expected: ExpectedPoint[]): { done: Promise<void>; produced(): number } {
  const BATCH = 50
  const HOSTS = 10
  let produced = 0
  const done = (async () => {
    const producer = kafka.producer()
    await producer.connect()
    try {
      while (produced < total) {
        const messages = Array.from({ length: BATCH }, (_, j) => ({ key: `k${(produced + j) % HOSTS}`, value: line(measurement, `c${(produced + j) % HOSTS}`, produced + j) }))
        await producer.send({ topic: INGEST, compression: CompressionTypes.LZ4, messages })
        for (let j = 0; j < BATCH; j++) expected.push(lineExpected(measurement, `c${(produced + j) % HOSTS}`, produced + j))
        produced += BATCH
        await sleep(60)
      }
    } finally {
      await producer.disconnect()
    }
  })()
  return { done, produced: () => produced }
}

/** Waits until the source group's committed offsets moved `records` past `baseline`. */
async function committedPast(baseline: bigint, records: bigint): Promise<void> {
  const deadline = Date.now() + 30_000
  while ((await committedOffsets()) - baseline < records && Date.now() < deadline) await sleep(50)
}

test('kill -9 of the source mid-stream, then a restart: no point lost or duplicated, order kept', async () => {
  const MESSAGES = 4000
  const baseline = await committedOffsets()
  let source = await startSource(25)
  const expected: ExpectedPoint[] = []
  const stream = streamLines('crash', MESSAGES, expected)
  try {
    // Kill once the source has committed some transactions of this stream, while more is coming.
    await committedPast(baseline, 300n)
    await stopSource(source, 'SIGKILL')
    const killedAfter = stream.produced()
    await sleep(500)
    source = await startSource(25)
    await stream.done
    assert.ok(killedAfter < MESSAGES, 'the kill happened mid-stream')
    const written = (await readWritten(points => points.filter(p => p.seriesKey.startsWith('crash,')).length >= MESSAGES, 120_000)).filter(p => p.seriesKey.startsWith('crash,'))
    assertExactlyOnce(written, expected)
    assertOrderPerSeries(written)
  } finally {
    await stream.done.catch(() => undefined)
    await stopSource(source, 'SIGTERM')
  }
})

test('two sources share the partitions; kill -9 of one moves its partitions to the other without loss or duplicates', async () => {
  const MESSAGES = 3000
  const baseline = await committedOffsets()
  const first = await startSource(25)
  const second = await startSource(25)
  const expected: ExpectedPoint[] = []
  const stream = streamLines('pair', MESSAGES, expected)
  try {
    await committedPast(baseline, 300n)
    await stopSource(first, 'SIGKILL')
    assert.ok(stream.produced() < MESSAGES, 'the kill happened mid-stream')
    await stream.done
    const written = (await readWritten(points => points.filter(p => p.seriesKey.startsWith('pair,')).length >= MESSAGES, 120_000)).filter(p => p.seriesKey.startsWith('pair,'))
    assertExactlyOnce(written, expected)
    assertOrderPerSeries(written)
    assert.match(second.logs(), /"event":"assignment","partitions":\[[0-3],[0-3],[0-3],[0-3]\]/, 'the survivor took every partition')
  } finally {
    await stream.done.catch(() => undefined)
    await stopSource(first, 'SIGKILL')
    await stopSource(second, 'SIGTERM')
  }
})
