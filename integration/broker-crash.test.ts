// Durability of the broker process: kill -9 during a produce and commit load, then restart on the
// same data directory; every acknowledged record, committed offset and committed transaction is
// there, and a transaction left open by the crash is aborted (brief §7.3 I; issue "Durability").

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { consumeUntil, kafkaClient, sleep } from './support/kafka.ts'

test('kill -9 under load loses no acknowledged record, committed offset or committed transaction', async t => {
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
  const dangling = kafka.producer({ transactionalId: 'crash-tx-open', idempotent: true, maxInFlightRequests: 1, transactionTimeout: 8_000 })
  await dangling.connect()
  const open = await dangling.transaction()
  await open.send({ topic: 'crash-tx', messages: [{ value: 'tx-open-at-crash' }] })

  // Load, recorded only once the broker confirmed it: values acknowledged with acks=all by two
  // idempotent producers, and transactions that each write one record and commit a group offset.
  const acknowledged = new Set<string>()
  const committedValues = new Set<string>()
  let inFlightValue: string | null = null
  let lastCommitted = 0
  let stop = false
  const loadClients: { disconnect(): Promise<void> }[] = []
  const producing = [0, 1].map(async worker => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    loadClients.push(producer)
    await producer.connect()
    for (let batch = 0; !stop; batch++) {
      const values = Array.from({ length: 20 }, (_, i) => `w${worker}-${batch}-${i}`)
      try {
        await producer.send({ topic: 'crash', acks: -1, messages: values.map(value => ({ key: value, value })) })
      } catch { return }
      for (const value of values) acknowledged.add(value)
    }
  })
  const committing = (async () => {
    const producer = kafka.producer({ transactionalId: 'crash-tx-load', idempotent: true, maxInFlightRequests: 1 })
    loadClients.push(producer)
    await producer.connect()
    for (let offset = 1; !stop; offset++) {
      inFlightValue = `t-${offset}`
      try {
        const transaction = await producer.transaction()
        await transaction.send({ topic: 'crash-tx-load', messages: [{ value: inFlightValue }] })
        await transaction.sendOffsets({ consumerGroupId: 'crash-g', topics: [{ topic: 'crash', partitions: [{ partition: 0, offset: String(offset) }] }] })
        await transaction.commit()
      } catch { return }
      committedValues.add(inFlightValue)
      lastCommitted = offset
    }
  })()

  await sleep(3_000)
  await broker.kill()
  stop = true
  const settled = await Promise.race([
    Promise.allSettled([...producing, committing]).then(() => true),
    new Promise<boolean>(resolve => setTimeout(resolve, 60_000, false).unref()),
  ])
  assert.ok(settled, 'the clients gave up within a minute of the crash')
  assert.ok(acknowledged.size > 200, `load ran: ${acknowledged.size} acknowledged`)
  assert.ok(lastCommitted > 3, `transactions ran: ${lastCommitted} committed`)
  t.diagnostic(`at the crash: ${acknowledged.size} records acknowledged, ${lastCommitted} transactions committed`)
  for (const client of [admin, committer, dangling, ...loadClients]) await client.disconnect().catch(() => {})

  broker = await broker.restart()
  try {
    const after = kafkaClient(broker.bootstrap)
    const present = new Set<string>()
    let found = 0
    const read = await consumeUntil(after, 'crash', {
      readUncommitted: true,
      timeoutMs: 30_000,
      until: records => {
        const value = records[records.length - 1]!.value!
        if (!present.has(value)) { present.add(value); if (acknowledged.has(value)) found++ }
        return found === acknowledged.size
      },
    })
    const missing = [...acknowledged].filter(value => !present.has(value))
    assert.deepEqual(missing.slice(0, 10), [], `every acknowledged record survived (${missing.length} missing)`)
    assert.equal(read.length, present.size, 'no record stored twice')

    const committedRead = await consumeUntil(after, 'crash-tx-load', {
      timeoutMs: 20_000,
      until: records => records.length >= committedValues.size,
    })
    const readValues = committedRead.map(r => r.value!)
    assert.deepEqual(readValues.filter(v => committedValues.has(v)), [...committedValues], 'every committed transaction survived, in order')
    assert.deepEqual(readValues.filter(v => !committedValues.has(v) && v !== inFlightValue), [], 'no uncommitted transaction became visible')

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
