// Conformance with the Python clients on Debian's python3: confluent-kafka's exactly-once loop
// with an aborted transaction readers never see (brief §7.2), kafka-python's produce, group
// consume and commit (brief §7.4), and kafka-python reading the LZ4 frames Sluice writes.

import '../lib/kafka/aborted-filter.ts' // before kafkajs loads: read_committed drops every aborted record
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import kafkajs from 'kafkajs'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { debianPython, run } from './support/run.ts'
import { kafkaClient } from './support/kafka.ts'
import { registerLz4Codec } from '../lib/kafka/lz4-codec.ts'

const { CompressionTypes } = kafkajs

const clients = resolve(import.meta.dirname, 'clients')
let broker: BrokerProcess

before(async () => { broker = await startBrokerProcess() })
after(async () => { await broker.stop() })

test('confluent-kafka: exactly-once consume-transform-produce, and an aborted transaction stays invisible', async () => {
  const result = await run(debianPython, [resolve(clients, 'confluent_eos.py'), broker.bootstrap, 'py-in', 'py-out'], { timeoutMs: 120_000 })
  assert.equal(result.code, 0, result.stderr)
  const { out, committed } = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { out: string[]; committed: number }
  assert.deepEqual([...out].sort(), Array.from({ length: 10 }, (_, i) => `out-${i}`).sort())
  assert.ok(!out.includes('ABORTED'))
  assert.equal(committed, 10, 'the group committed the end of the input inside the transactions')
})

test('kafka-python: version probe, produce, group consume and commit', async () => {
  const result = await run(debianPython, [resolve(clients, 'kafka_python_smoke.py'), broker.bootstrap, 'kpy'], { timeoutMs: 60_000 })
  assert.equal(result.code, 0, result.stderr)
  const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { api_version: number[]; offsets: number[]; values: string[]; committed: Record<string, number> }
  assert.deepEqual(report.api_version, [2, 3, 0], 'kafka-python infers 2.3 from Fetch v11')
  assert.deepEqual(report.offsets, [0, 0, 1, 1, 2])
  assert.deepEqual(report.values, ['v0', 'v1', 'v2', 'v3', 'v4'])
  assert.deepEqual(report.committed, { 0: 3, 1: 2 })
})

test('kafka-python (python-lz4) decodes the LZ4 frames Sluice writes (each declares its content size)', async () => {
  registerLz4Codec()
  const values = Array.from({ length: 2_000 }, (_, i) => `sluice-lz4-${i}-${'y'.repeat(i % 70)}`)
  const producer = kafkaClient(broker.bootstrap).producer()
  await producer.connect()
  try {
    await producer.send({ topic: 'kpy-sluice-lz4', compression: CompressionTypes.LZ4, messages: values.map(value => ({ value })) })
  } finally {
    await producer.disconnect()
  }
  const result = await run(debianPython, [resolve(clients, 'kafka_python_read.py'), broker.bootstrap, 'kpy-sluice-lz4'], { timeoutMs: 60_000 })
  assert.equal(result.code, 0, result.stderr)
  assert.deepEqual((JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { values: string[] }).values, values)
})
