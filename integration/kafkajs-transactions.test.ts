// kafkajs 2.2.4 transactions against the broker process: commit, abort, sendOffsets, zombie
// fencing, a read_committed reader held at the last stable offset, and a transaction timeout
// (brief §7.3 C, D, E, F).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { consumeUntil, eventually, kafkaClient, sleep } from './support/kafka.ts'

let broker: BrokerProcess

before(async () => { broker = await startBrokerProcess() })
after(async () => { await broker.stop() })

test('committed and aborted transactions; sendOffsets becomes visible only at commit', async () => {
  const kafka = kafkaClient(broker.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'tx-c', numPartitions: 1 }, { topic: 'tx-in', numPartitions: 1 }] })
  const producer = kafka.producer({ transactionalId: 'tx-c-1', idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()

  const committed = await producer.transaction()
  await committed.send({ topic: 'tx-c', messages: [{ value: 'committed' }] })
  await committed.commit()

  const aborted = await producer.transaction()
  await aborted.send({ topic: 'tx-c', messages: [{ value: 'ABORTED' }] })
  await aborted.abort()

  const withOffsets = await producer.transaction()
  await withOffsets.send({ topic: 'tx-c', messages: [{ value: 'eos' }] })
  await withOffsets.sendOffsets({ consumerGroupId: 'probe-g', topics: [{ topic: 'tx-in', partitions: [{ partition: 0, offset: '1' }] }] })
  const before = await admin.fetchOffsets({ groupId: 'probe-g', topics: ['tx-in'] })
  assert.equal(before[0]!.partitions[0]!.offset, '-1', 'offsets inside an open transaction are invisible')
  await withOffsets.commit()
  const afterCommit = await admin.fetchOffsets({ groupId: 'probe-g', topics: ['tx-in'] })
  assert.equal(afterCommit[0]!.partitions[0]!.offset, '1')
  await producer.disconnect()

  const readCommitted = await consumeUntil(kafka, 'tx-c', { until: r => r.length >= 2, timeoutMs: 8_000 })
  assert.deepEqual(readCommitted.map(r => r.value), ['committed', 'eos'])
  const readUncommitted = await consumeUntil(kafka, 'tx-c', { readUncommitted: true, until: r => r.length >= 3, timeoutMs: 8_000 })
  assert.deepEqual(readUncommitted.map(r => r.value), ['committed', 'ABORTED', 'eos'])
  // Markers take offsets too: committed@0, marker@1, ABORTED@2, marker@3, eos@4.
  assert.deepEqual(readCommitted.map(r => r.offset), ['0', '4'])
  await admin.disconnect()
})

test('a zombie producer is fenced and its records never become visible', async () => {
  const kafka = kafkaClient(broker.bootstrap)
  const zombie = kafka.producer({ transactionalId: 'tx-z', idempotent: true, maxInFlightRequests: 1 })
  await zombie.connect()
  const zombieTxn = await zombie.transaction()
  await zombieTxn.send({ topic: 'tx-z', messages: [{ value: 'ZOMBIE-1' }] })

  const successor = kafka.producer({ transactionalId: 'tx-z', idempotent: true, maxInFlightRequests: 1 })
  await successor.connect()
  // kafkajs sends the transactional InitProducerId with the first transaction: that fences the
  // zombie and aborts its open one.
  const successorTxn = await successor.transaction()
  await successorTxn.send({ topic: 'tx-z', messages: [{ value: 'new-owner' }] })
  await successorTxn.commit()

  await assert.rejects(
    (async () => { await zombieTxn.send({ topic: 'tx-z', messages: [{ value: 'ZOMBIE-2' }] }); await zombieTxn.commit() })(),
    (error: { type?: string; name?: string }) => error.type === 'INVALID_PRODUCER_EPOCH' || /INVALID_PRODUCER_EPOCH|fenced|epoch/i.test(String((error as Error).message)),
  )
  await zombie.disconnect().catch(() => {})
  await successor.disconnect()
  const read = await consumeUntil(kafkaClient(broker.bootstrap), 'tx-z', { until: r => r.length >= 1, timeoutMs: 4_000 })
  assert.deepEqual(read.map(r => r.value), ['new-owner'])
})

test('a read_committed reader is held at the LSO until the open transaction ends', async () => {
  const kafka = kafkaClient(broker.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'tx-lso', numPartitions: 1 }] })
  const txProducer = kafka.producer({ transactionalId: 'tx-lso-1', idempotent: true, maxInFlightRequests: 1 })
  await txProducer.connect()
  const txn = await txProducer.transaction()
  await txn.send({ topic: 'tx-lso', messages: [{ value: 'in-txn' }] })
  const plain = kafka.producer()
  await plain.connect()
  await plain.send({ topic: 'tx-lso', messages: [{ value: 'after' }] })

  const committedEnd = await admin.fetchTopicOffsets('tx-lso') // ListOffsets v3, read_committed
  assert.equal(committedEnd[0]!.offset, '0', 'latest offset under read_committed is the LSO')
  assert.equal(committedEnd[0]!.high, '0')

  const seen: string[] = []
  const consumer = kafka.consumer({ groupId: 'lso-reader', maxWaitTimeInMs: 200 })
  await consumer.connect()
  await consumer.subscribe({ topics: ['tx-lso'], fromBeginning: true })
  await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value!.toString()) } })
  await sleep(3_000)
  assert.deepEqual(seen, [], 'nothing past the open transaction is delivered')
  await txn.commit()
  assert.ok(await eventually(() => seen.length >= 2, 10_000), `saw ${JSON.stringify(seen)}`)
  assert.deepEqual(seen, ['in-txn', 'after'])
  await consumer.disconnect()
  await plain.disconnect()
  await txProducer.disconnect()
  await admin.disconnect()
})

test('the broker aborts a transaction that outlives its timeout and fences its producer', async () => {
  const timeoutBroker = await startBrokerProcess({ args: ['--config', 'transactionAbortCheckIntervalMs=500'] })
  try {
    const kafka = kafkaClient(timeoutBroker.bootstrap)
    const producer = kafka.producer({ transactionalId: 'tx-timeout', transactionTimeout: 2_000, idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const txn = await producer.transaction()
    await txn.send({ topic: 'tx-t', messages: [{ value: 'abandoned' }] })
    const plain = kafka.producer()
    await plain.connect()
    await plain.send({ topic: 'tx-t', messages: [{ value: 'after-timeout' }] })
    await plain.disconnect()
    // The reader is held behind the open transaction until the broker aborts it.
    const read = await consumeUntil(kafkaClient(timeoutBroker.bootstrap), 'tx-t', { until: r => r.length >= 1, timeoutMs: 15_000 })
    assert.deepEqual(read.map(r => r.value), ['after-timeout'])
    await assert.rejects(txn.commit(), (error: Error & { type?: string }) => error.type === 'INVALID_PRODUCER_EPOCH' || /epoch|fenced/i.test(error.message))
    await producer.disconnect().catch(() => {})
  } finally {
    await timeoutBroker.stop()
  }
})

test('two producers interleave transactions that both abort: read_committed gets none of their records, one batch per fetch or many', async () => {
  const kafka = kafkaClient(broker.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'tx-two', numPartitions: 1 }] })
  await admin.disconnect()
  const producers = await Promise.all(['tx-two-a', 'tx-two-b'].map(async transactionalId => {
    const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    return producer
  }))
  const [a, b] = await Promise.all(producers.map(producer => producer.transaction()))
  for (let i = 0; i < 10; i++) {
    await a!.send({ topic: 'tx-two', messages: [{ value: `ABORTED-a-${i}` }] })
    await b!.send({ topic: 'tx-two', messages: [{ value: `ABORTED-b-${i}` }] })
  }
  await a!.abort()
  await b!.abort()
  const last = await producers[0]!.transaction()
  await last.send({ topic: 'tx-two', messages: [{ value: 'committed' }] })
  await last.commit()
  await Promise.all(producers.map(producer => producer.disconnect()))

  // A fetch of at most 64 bytes holds one batch: each starts inside both aborted transactions
  // (kafkajs 2.2.4's own filter delivered every record of b this way).
  for (const maxBytesPerPartition of [64, 1_048_576]) {
    const read = await consumeUntil(kafka, 'tx-two', { maxBytesPerPartition, until: records => records.some(r => r.value === 'committed'), timeoutMs: 15_000 })
    assert.deepEqual(read.map(r => r.value), ['committed'], `fetches of ${maxBytesPerPartition} bytes`)
  }
})
