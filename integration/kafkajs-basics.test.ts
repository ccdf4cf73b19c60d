// kafkajs 2.2.4 against the broker as a separate process: admin, produce/consume, compression,
// batch boundaries, and an idempotent retry after a lost acknowledgement (brief §7.3 A, B, J).

import '../lib/kafka/aborted-filter.ts' // before kafkajs loads: read_committed drops every aborted record
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import kafkajs from 'kafkajs'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { consumeUntil, kafkaClient } from './support/kafka.ts'
import { startFaultyProxy } from './support/faulty-proxy.ts'
import { registerLz4Codec } from '../lib/kafka/lz4-codec.ts'

const { CompressionTypes } = kafkajs
let broker: BrokerProcess

before(async () => { broker = await startBrokerProcess() })
after(async () => { assert.equal(await broker.stop(), 0, 'SIGTERM exits cleanly') })

test('admin creates topics (explicit and -1 defaults) and metadata names this broker as controller', async () => {
  const admin = kafkaClient(broker.bootstrap).admin()
  await admin.connect()
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic: 'a-three', numPartitions: 3, replicationFactor: 1 }, { topic: 'a-default' }] }), true)
    const metadata = await admin.fetchTopicMetadata({ topics: ['a-three', 'a-default'] })
    const byName = new Map(metadata.topics.map(t => [t.name, t]))
    assert.equal(byName.get('a-three')!.partitions.length, 3)
    assert.equal(byName.get('a-default')!.partitions.length, 1)
    for (const partition of byName.get('a-three')!.partitions) {
      assert.equal(partition.leader, 0)
      assert.deepEqual(partition.replicas, [0])
      assert.deepEqual(partition.isr, [0])
    }
    const cluster = await admin.describeCluster()
    assert.equal(cluster.controller, 0)
    assert.deepEqual(cluster.brokers.map(b => `${b.host}:${b.port}`), [broker.bootstrap])
    await assert.rejects(admin.createTopics({ topics: [{ topic: 'a-rf', replicationFactor: 3 }] }),
      (error: { errors?: Array<{ type?: string }> }) => error.errors?.[0]?.type === 'INVALID_REPLICATION_FACTOR')
    assert.equal(await admin.createTopics({ topics: [{ topic: 'a-three', numPartitions: 3 }] }), false, 'existing topic is not created again')
    await admin.createPartitions({ topicPartitions: [{ topic: 'a-default', count: 4 }] })
    const grown = await admin.fetchTopicMetadata({ topics: ['a-default'] })
    assert.equal(grown.topics[0]!.partitions.length, 4)
    await admin.deleteTopics({ topics: ['a-default'] })
    assert.ok(!(await admin.listTopics()).includes('a-default'))
  } finally {
    await admin.disconnect()
  }
})

test('produce then consume keeps keys, values, headers and order within a partition', async () => {
  const kafka = kafkaClient(broker.bootstrap)
  const producer = kafka.producer()
  await producer.connect()
  const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}`, headers: { n: String(i) } }))
  await producer.send({ topic: 'plain', messages: messages.slice(0, 250) })
  await producer.send({ topic: 'plain', messages: messages.slice(250) })
  await producer.disconnect()
  const read = await consumeUntil(kafka, 'plain', { until: records => records.length >= 500 })
  assert.equal(read.length, 500)
  assert.deepEqual(read.map(r => r.value), messages.map(m => m.value))
  assert.deepEqual(read.map(r => Number(r.offset)), messages.map((_, i) => i))
})

test('gzip and LZ4 batches are stored verbatim and read back by kafkajs', async () => {
  registerLz4Codec()
  const kafka = kafkaClient(broker.bootstrap)
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: 'compressed', compression: CompressionTypes.GZIP, messages: [{ value: 'gzip-1' }, { value: 'gzip-2' }] })
  await producer.send({ topic: 'compressed', compression: CompressionTypes.LZ4, messages: [{ value: 'lz4-1' }, { value: 'lz4-2' }] })
  await producer.disconnect()
  const read = await consumeUntil(kafka, 'compressed', { until: records => records.length >= 4 })
  assert.deepEqual(read.map(r => r.value), ['gzip-1', 'gzip-2', 'lz4-1', 'lz4-2'])
})

test('fetching from the middle of a batch, and with maxBytes below one batch, still progresses', async () => {
  const kafka = kafkaClient(broker.bootstrap)
  const producer = kafka.producer()
  await producer.connect()
  const big = 'x'.repeat(2_000)
  await producer.send({ topic: 'batches', messages: Array.from({ length: 10 }, (_, i) => ({ value: `${i}:${big}` })) })
  await producer.disconnect()
  const consumer = kafka.consumer({ groupId: 'mid-batch', maxBytesPerPartition: 100, maxBytes: 100, maxWaitTimeInMs: 100 })
  await consumer.connect()
  await consumer.subscribe({ topics: ['batches'] })
  const offsets: number[] = []
  let finish!: () => void
  const done = new Promise<void>(resolve => { finish = resolve })
  await consumer.run({ eachMessage: async ({ message }) => { offsets.push(Number(message.offset)); if (offsets.length === 6) finish() } })
  consumer.seek({ topic: 'batches', partition: 0, offset: '4' })
  await Promise.race([done, new Promise(resolve => setTimeout(resolve, 15_000).unref())])
  await consumer.disconnect()
  assert.deepEqual(offsets.slice(0, 6), [4, 5, 6, 7, 8, 9])
})

test('an idempotent retry after a lost acknowledgement is stored once', async () => {
  const proxyBroker = await startBrokerProcess()
  const proxy = await startFaultyProxy({ host: '127.0.0.1', port: proxyBroker.port })
  // The broker advertises the proxy, so every connection kafkajs makes goes through it.
  const advertised = await proxyBroker.restartWith(['--advertised-port', String(proxy.port)])
  try {
    const kafka = kafkaClient(`127.0.0.1:${proxy.port}`)
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    await producer.send({ topic: 'idem', messages: [{ value: 'first' }] })
    proxy.dropNextResponse(0) // the next Produce response never reaches the client
    await producer.send({ topic: 'idem', messages: [{ value: 'retried' }] })
    await producer.send({ topic: 'idem', messages: [{ value: 'last' }] })
    await producer.disconnect()
    assert.equal(proxy.droppedCount(), 1, 'one acknowledgement was lost on the way')
    const read = await consumeUntil(kafka, 'idem', { until: records => records.length >= 3, timeoutMs: 5_000 })
    assert.deepEqual(read.map(r => r.value), ['first', 'retried', 'last'])
    assert.deepEqual(read.map(r => r.offset), ['0', '1', '2'])
  } finally {
    await proxy.close()
    await advertised.stop()
  }
})
