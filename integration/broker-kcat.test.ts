// Conformance with librdkafka 2.0.2 through kcat (brief §7.1): feature negotiation, idempotent
// production of 100,000 records, transactional production, read_committed and group consumption,
// offsets by time, compressed batches stored verbatim, and the LZ4 frames Sluice itself writes.

import '../lib/kafka/aborted-filter.ts' // before kafkajs loads: read_committed drops every aborted record
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import kafkajs from 'kafkajs'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { run } from './support/run.ts'
import { kafkaClient } from './support/kafka.ts'
import { registerLz4Codec } from '../lib/kafka/lz4-codec.ts'
import { encodeRecordSection, RecordBatchCodec } from '../lib/kafka/record-batch.ts'
import { decompressLz4Frame } from '../lib/kafka/lz4-frame.ts'

const { CompressionTypes } = kafkajs

let broker: BrokerProcess
let B: string

before(async () => { broker = await startBrokerProcess(); B = broker.bootstrap })
after(async () => { await broker.stop() })

test('metadata names one broker as controller and librdkafka enables every feature Sluice needs', async () => {
  const listing = await run('kcat', ['-b', B, '-L', '-t', 'k1', '-J'])
  assert.equal(listing.code, 0, listing.stderr)
  const metadata = JSON.parse(listing.stdout) as { brokers: Array<{ id: number; name: string }>; topics: Array<{ topic: string; partitions: Array<{ leader: number; replicas: Array<{ id: number }>; isrs: Array<{ id: number }> }> }> }
  assert.deepEqual(metadata.brokers.map(b => b.id), [0])
  assert.equal(metadata.brokers[0]!.name, B)
  const features = await run('kcat', ['-b', B, '-d', 'feature,protocol', '-L'])
  for (const feature of ['MsgVer2', 'BrokerGroupCoordinator', 'BrokerBalancedConsumer', 'IdempotentProducer', 'OffsetTime']) {
    assert.match(features.stderr, new RegExp(`Enabling feature ${feature}`), `feature ${feature}`)
  }
})

test('idempotent production of 100,000 records has no duplicate and no gap', async () => {
  const input = Array.from({ length: 100_000 }, (_, i) => String(i + 1)).join('\n') + '\n'
  const produced = await run('kcat', ['-b', B, '-P', '-t', 'k-idem', '-X', 'enable.idempotence=true', '-X', 'linger.ms=1', '-X', 'batch.num.messages=100', '-X', 'acks=all'], { input, timeoutMs: 180_000 })
  assert.equal(produced.code, 0, produced.stderr)
  const consumed = await run('kcat', ['-b', B, '-C', '-t', 'k-idem', '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { timeoutMs: 120_000 })
  assert.equal(consumed.code, 0, consumed.stderr)
  const values = consumed.stdout.trim().split('\n').map(Number)
  assert.equal(values.length, 100_000, 'exactly 100,000 records')
  const sorted = [...values].sort((a, b) => a - b)
  assert.ok(sorted.every((value, index) => value === index + 1), 'no duplicate and no gap')
  assert.ok(values.every((value, index) => value === index + 1), 'in production order')
})

test('transactional production commits; read_committed and read_uncommitted both decode it', async () => {
  const produced = await run('kcat', ['-b', B, '-P', '-t', 'k-tx', '-X', 'transactional.id=kc-tx-1', '-m', '10'], { input: 'a\nb\n' })
  assert.equal(produced.code, 0, produced.stderr)
  assert.match(produced.stderr + produced.stdout, /Transaction successfully committed/)
  const committed = await run('kcat', ['-b', B, '-C', '-t', 'k-tx', '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%o %s\n'])
  assert.equal(committed.code, 0, committed.stderr)
  assert.deepEqual(committed.stdout.trim().split('\n'), ['0 a', '1 b'], 'the commit marker at offset 2 is not a record')
  // One partition per query: kcat keeps a single timestamp per partition.
  const latest = await run('kcat', ['-b', B, '-Q', '-t', 'k-tx:0:-1'])
  assert.equal(latest.code, 0, latest.stderr)
  assert.match(latest.stdout, /k-tx \[0\] offset 3/, 'latest is past the marker')
  const earliest = await run('kcat', ['-b', B, '-Q', '-t', 'k-tx:0:-2'])
  assert.match(earliest.stdout, /k-tx \[0\] offset 0/, 'earliest is 0')
})

test('a read_committed group consumer joins, consumes to the end and commits', async () => {
  await run('kcat', ['-b', B, '-P', '-t', 'k-group', '-K:'], { input: Array.from({ length: 50 }, (_, i) => `k${i}:v${i}`).join('\n') + '\n' })
  const consumed = await run('kcat', ['-b', B, '-G', 'kc-g1', 'k-group', '-X', 'isolation.level=read_committed', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%s\n'], { timeoutMs: 60_000 })
  assert.equal(consumed.code, 0, consumed.stderr)
  assert.deepEqual(consumed.stdout.trim().split('\n'), Array.from({ length: 50 }, (_, i) => `v${i}`))
  // The group committed on exit: a second run from the committed offsets finds nothing new.
  const again = await run('kcat', ['-b', B, '-G', 'kc-g1', 'k-group', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', '%s\n'], { timeoutMs: 60_000 })
  assert.equal(again.stdout.trim(), '')
})

test('offsets by timestamp', async () => {
  const before = Date.now() - 1
  await run('kcat', ['-b', B, '-P', '-t', 'k-time'], { input: 'x\ny\n' })
  const byTime = await run('kcat', ['-b', B, '-Q', '-t', `k-time:0:${before}`])
  assert.equal(byTime.code, 0, byTime.stderr)
  assert.match(byTime.stdout, /k-time \[0\] offset 0/)
  const future = await run('kcat', ['-b', B, '-Q', '-t', `k-time:0:${Date.now() + 3_600_000}`])
  assert.match(future.stdout, /k-time \[0\] offset -1/, 'no record at or after a future time')
})

test('gzip, snappy, lz4 and zstd batches are stored verbatim and decoded by the consumer', async () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    const produced = await run('kcat', ['-b', B, '-P', '-t', 'k-codecs', '-X', `compression.codec=${codec}`], { input: `${codec}-1\n${codec}-2\n` })
    assert.equal(produced.code, 0, `${codec}: ${produced.stderr}`)
  }
  const consumed = await run('kcat', ['-b', B, '-C', '-t', 'k-codecs', '-o', 'beginning', '-e', '-q', '-f', '%s\n'])
  assert.deepEqual(consumed.stdout.trim().split('\n'), ['gzip-1', 'gzip-2', 'snappy-1', 'snappy-2', 'lz4-1', 'lz4-2', 'zstd-1', 'zstd-2'])
})

test("librdkafka decodes the LZ4 frames Sluice writes (each declares its content size)", async () => {
  registerLz4Codec()
  const section = encodeRecordSection([{ key: null, value: Buffer.from('probe') }], [], RecordBatchCodec.LZ4)
  assert.equal(section.payload[4]! & 0x08, 0x08, 'the frame declares its content size')
  assert.ok(decompressLz4Frame(Buffer.from(section.payload)).length > 0)
  const values = Array.from({ length: 2_000 }, (_, i) => `sluice-lz4-${i}-${'x'.repeat(i % 50)}`)
  const producer = kafkaClient(B).producer()
  await producer.connect()
  try {
    await producer.send({ topic: 'k-sluice-lz4', compression: CompressionTypes.LZ4, messages: values.map(value => ({ value })) })
  } finally {
    await producer.disconnect()
  }
  const consumed = await run('kcat', ['-b', B, '-C', '-t', 'k-sluice-lz4', '-o', 'beginning', '-e', '-q', '-f', '%s\n'], { timeoutMs: 60_000 })
  assert.equal(consumed.code, 0, consumed.stderr)
  assert.deepEqual(consumed.stdout.trim().split('\n'), values)
})
