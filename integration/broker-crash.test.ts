// Durability of the broker process: kill -9 during a produce and commit load, then restart on the
// same data directory; every acknowledged record, committed offset and committed transaction is
// there, and a transaction left open by the crash is aborted (brief §7.3 I; issue "Durability").

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { consumeUntil, kafkaClient, sleep } from './support/kafka.ts'

test('kill -9 under load loses no acknowledged record, committed offset or committed transaction', async () => {
  let broker = await startBrokerProcess({ args: ['--config', 'transactionAbortCheckIntervalMs=500'] })
  const kafka = kafkaClient(broker.bootstrap, { retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 } })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'crash', numPartitions: 3 }, { topic: 'crash-tx', numPartitions: 1 }] })

  // A committed transaction and one left open when the broker dies.
  const committer = kafka.producer({ transactionalId: 'crash-tx-done', idempotent: true, maxInFlightRequests: 1 })
  await committer.connect()
  const done = await committer.transaction()
  await done.send({ topic: 'crash-tx', messages: [{ value: 'tx-committed' }] })
  await done.commit()
  const dangling = kafka.producer({ transactionalId: 'crash-tx-open', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 3_000 })
  await dangling.connect()
  const open = await dangling.transaction()
  await open.send({ topic: 'crash-tx', messages: [{ value: 'tx-open-at-crash' }] })

  // Load: acknowledged values and committed offsets, recorded only once the broker confirmed them.
  const acknowledged = new Set<string>()
  let lastCommitted = -1
  let stop = false
  const producers = await Promise.all([0, 1].map(async worker => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    return (async () => {
      for (let batch = 0; !stop; batch++) {
        const values = Array.from({ length: 20 }, (_, i) => `w${worker}-${batch}-${i}`)
        try {
          await producer.send({ topic: 'crash', acks: -1, messages: values.map(value => ({ key: value, value })) })
          for (const value of values) acknowledged.add(value)
        } catch { return }
      }
    })()
  }))
  const committing = (async () => {
    for (let offset = 1; !stop; offset++) {
      try {
        await admin.setOffsets({ groupId: 'crash-g', topic: 'crash', partitions: [{ partition: 0, offset: String(offset) }] })
        lastCommitted = offset
      } catch { return }
      await sleep(20)
    }
  })()

  await sleep(2_500)
  await broker.kill()
  stop = true
  await Promise.all([...producers, committing])
  assert.ok(acknowledged.size > 200, `load ran: ${acknowledged.size} acknowledged`)
  assert.ok(lastCommitted > 5, `commits ran: ${lastCommitted}`)
  for (const client of [admin, committer, dangling]) await client.disconnect().catch(() => {})

  broker = await broker.restart()
  try {
    const after = kafkaClient(broker.bootstrap)
    const read = await consumeUntil(after, 'crash', { readUncommitted: true, until: r => r.length >= acknowledged.size, timeoutMs: 20_000 })
    const present = new Set(read.map(r => r.value))
    const missing = [...acknowledged].filter(value => !present.has(value))
    assert.deepEqual(missing, [], 'every acknowledged record survived')
    assert.equal(read.length, present.size, 'no record stored twice')

    const restartedAdmin = after.admin()
    await restartedAdmin.connect()
    const offsets = await restartedAdmin.fetchOffsets({ groupId: 'crash-g', topics: ['crash'] })
    assert.ok(Number(offsets[0]!.partitions.find(p => p.partition === 0)!.offset) >= lastCommitted, 'committed offset survived')
    await restartedAdmin.disconnect()

    const transactional = await consumeUntil(after, 'crash-tx', { until: r => r.length >= 1, timeoutMs: 15_000 })
    assert.deepEqual(transactional.map(r => r.value), ['tx-committed'], 'the committed transaction survived; the open one never shows')
    const producer = after.producer()
    await producer.connect()
    await producer.send({ topic: 'crash-tx', messages: [{ value: 'after-restart' }] })
    await producer.disconnect()
    const unblocked = await consumeUntil(after, 'crash-tx', { until: r => r.length >= 2, timeoutMs: 20_000 })
    assert.deepEqual(unblocked.map(r => r.value), ['tx-committed', 'after-restart'], 'the open transaction was aborted by its timeout')
  } finally {
    assert.equal(await broker.stop(), 0)
  }
})

test('a clean SIGTERM restart keeps data, offsets and groups', async () => {
  let broker = await startBrokerProcess()
  const kafka = kafkaClient(broker.bootstrap)
  const producer = kafka.producer()
  await producer.connect()
  await producer.send({ topic: 'clean', messages: Array.from({ length: 100 }, (_, i) => ({ value: `c${i}` })) })
  await producer.disconnect()
  const first = await consumeUntil(kafka, 'clean', { groupId: 'clean-g', until: r => r.length >= 40 })
  assert.ok(first.length >= 40)
  assert.equal(await broker.stop(), 0)
  assert.match(broker.logs(), /broker stopped/)

  broker = await broker.restart()
  try {
    const admin = kafkaClient(broker.bootstrap).admin()
    await admin.connect()
    const committed = await admin.fetchOffsets({ groupId: 'clean-g', topics: ['clean'] })
    assert.ok(Number(committed[0]!.partitions[0]!.offset) > 0, 'group offset survived the restart')
    await admin.disconnect()
    const all = await consumeUntil(kafkaClient(broker.bootstrap), 'clean', { until: r => r.length >= 100 })
    assert.deepEqual(all.map(r => r.value), Array.from({ length: 100 }, (_, i) => `c${i}`))
  } finally {
    await broker.stop()
  }
})
