// lib/kafka/coordinator-lookup.ts against the broker process: a kafkajs transactional producer
// looks its coordinators up once (the transaction's, and the group's for sendOffsets), then sends
// its transactional requests straight to the broker, and every transaction still commits. A
// broker restarted under it (kill -9) is found again.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import '../lib/kafka/coordinator-lookup.ts'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { consumeUntil, kafkaClient } from './support/kafka.ts'

let broker: BrokerProcess

before(async () => { broker = await startBrokerProcess() })
after(async () => { await broker.stop() })

test('a transactional producer finds its coordinators once, and its transactions commit', async () => {
  const kafka = kafkaClient(broker.bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'lookup-out', numPartitions: 2 }, { topic: 'lookup-in', numPartitions: 1 }] })
  const producer = kafka.producer({ transactionalId: 'lookup-1', idempotent: true, maxInFlightRequests: 1 })
  const requests: string[] = []
  producer.on(producer.events.REQUEST, (event: { payload: { apiName: string } }) => { requests.push(event.payload.apiName) })
  await producer.connect()
  for (let n = 0; n < 6; n++) {
    const transaction = await producer.transaction()
    await transaction.send({ topic: 'lookup-out', messages: [{ value: `v${n}`, partition: n % 2 }] })
    await transaction.sendOffsets({ consumerGroupId: 'lookup-g', topics: [{ topic: 'lookup-in', partitions: [{ partition: 0, offset: String(n + 1) }] }] })
    if (n === 3) await transaction.abort()
    else await transaction.commit()
  }
  const count = (api: string): number => requests.filter(name => name === api).length
  assert.equal(count('EndTxn'), 6)
  assert.equal(count('TxnOffsetCommit'), 6)
  // FindCoordinator, which kafkajs names GroupCoordinator. kafkajs alone sends one before InitProducerId
  // and before each AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit and EndTxn (25 here).
  assert.equal(count('GroupCoordinator'), 2, `the transaction's coordinator and the group's, once each: ${JSON.stringify(requests)}`)
  const offsets = await admin.fetchOffsets({ groupId: 'lookup-g', topics: ['lookup-in'] })
  assert.equal(offsets[0]!.partitions[0]!.offset, '6', 'the last committed transaction\'s offsets')
  const read = await consumeUntil(kafka, 'lookup-out', { until: r => r.length >= 5, timeoutMs: 8_000 })
  assert.deepEqual(read.map(r => r.value).sort(), ['v0', 'v1', 'v2', 'v4', 'v5'], 'the aborted one stays invisible')

  // The broker killed and started again on the same port and data: the next transactions reach it.
  await broker.kill()
  broker = await broker.restart()
  for (let n = 6; n < 8; n++) {
    const transaction = await producer.transaction()
    await transaction.send({ topic: 'lookup-out', messages: [{ value: `v${n}`, partition: 0 }] })
    await transaction.commit()
  }
  const again = await consumeUntil(kafka, 'lookup-out', { until: r => r.length >= 7, timeoutMs: 8_000 })
  assert.deepEqual(again.map(r => r.value).sort(), ['v0', 'v1', 'v2', 'v4', 'v5', 'v6', 'v7'])
  await producer.disconnect()
  await admin.disconnect()
})
