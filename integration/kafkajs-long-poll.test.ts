// A kafkajs consumer parked in a long-polled Fetch, against the broker as a separate process: the
// fetch waits far longer than this test may run, so records reach the consumer only if the broker
// wakes the parked fetch when they land, and, for a read_committed reader, not before the commit
// marker moves the last stable offset. Assertions are on the order of events, never on time.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Consumer } from 'kafkajs'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { kafkaClient } from './support/kafka.ts'

/** Ten minutes: a fetch that ended on its own would leave this test timed out long before. */
const PARKED_MS = 600_000
let broker: BrokerProcess

before(async () => { broker = await startBrokerProcess() })
after(async () => { assert.equal(await broker.stop(), 0, 'SIGTERM exits cleanly') })

interface Parked {
  consumer: Consumer
  /** Fetch starts, fetch ends and messages, in order, plus whatever the test adds. */
  events: string[]
  fetchesStarted(): number
  /** Resolves when a fetch starts after `count` have. */
  fetchStarted(count: number): Promise<void>
  /** Resolves with the first message's value. */
  firstMessage: Promise<string>
}

async function parkedConsumer(bootstrap: string, topic: string): Promise<Parked> {
  const consumer = kafkaClient(bootstrap).consumer({
    groupId: `parked-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: PARKED_MS, sessionTimeout: 60_000, heartbeatInterval: 3_000,
  })
  const events: string[] = []
  let started = 0
  const startWaiters: Array<{ count: number; resolve: () => void }> = []
  consumer.on(consumer.events.FETCH_START, () => {
    started++
    events.push(`fetch ${started} start`)
    for (const waiter of startWaiters.filter(w => started > w.count)) waiter.resolve()
  })
  consumer.on(consumer.events.FETCH, () => { events.push(`fetch ${started} end`) })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  let deliver!: (value: string) => void
  const firstMessage = new Promise<string>(resolve => { deliver = resolve })
  await consumer.run({
    eachMessage: async ({ message }) => {
      const value = message.value?.toString() ?? ''
      events.push(`message ${value} after fetch ${started} start`)
      deliver(value)
    },
  })
  return {
    consumer, events, firstMessage,
    fetchesStarted: () => started,
    fetchStarted: count => new Promise(resolve => { if (started > count) resolve(); else startWaiters.push({ count, resolve }) }),
  }
}

/** Disconnecting waits for the parked fetch to end: a last record ends it. */
async function disconnect(parked: Parked, wake: () => Promise<unknown>): Promise<void> {
  const stopped = parked.consumer.disconnect()
  await wake()
  await stopped
}

/** One admin round trip to the broker: by its end the fetch sent before it has reached the broker too. */
async function roundTrip(bootstrap: string, topic: string): Promise<void> {
  const admin = kafkaClient(bootstrap).admin()
  await admin.connect()
  await admin.fetchTopicOffsets(topic)
  await admin.disconnect()
}

/** Creates `topic`, then a consumer of it whose first fetch is parked at the broker; returns it and that fetch's number. */
async function parkedOn(topic: string): Promise<{ parked: Parked; parkedFetch: number }> {
  const admin = kafkaClient(broker.bootstrap).admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
  await admin.disconnect()
  const parked = await parkedConsumer(broker.bootstrap, topic)
  await parked.fetchStarted(0)
  await roundTrip(broker.bootstrap, topic)
  return { parked, parkedFetch: parked.fetchesStarted() }
}

test('a fetch parked for ten minutes returns a produced record in its own response', async () => {
  const topic = 'long-poll-plain'
  const producer = kafkaClient(broker.bootstrap).producer()
  await producer.connect()
  const { parked, parkedFetch: fetchesBeforeProduce } = await parkedOn(topic)
  try {
    parked.events.push('produce')
    await producer.send({ topic, messages: [{ value: 'woken' }] })
    assert.equal(await parked.firstMessage, 'woken')
    assert.ok(parked.events.indexOf(`fetch ${fetchesBeforeProduce} start`) < parked.events.indexOf('produce'))
    assert.ok(parked.events.includes(`message woken after fetch ${fetchesBeforeProduce} start`),
      `the fetch waiting when the record was produced carried it: ${parked.events.join(', ')}`)
  } finally {
    await disconnect(parked, () => producer.send({ topic, messages: [{ value: 'last' }] }))
    await producer.disconnect()
  }
})

test('a read_committed fetch stays parked through a transaction\'s records and returns them once committed', async () => {
  const topic = 'long-poll-committed'
  const producer = kafkaClient(broker.bootstrap).producer({ transactionalId: 'long-poll-txn', idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  const { parked, parkedFetch: fetchesBeforeProduce } = await parkedOn(topic)
  try {
    const transaction = await producer.transaction()
    await transaction.send({ topic, messages: [{ value: 'committed' }] })
    await roundTrip(broker.bootstrap, topic)
    assert.ok(!parked.events.some(event => event.startsWith('message')), `nothing is read before the commit: ${parked.events.join(', ')}`)
    assert.equal(parked.fetchesStarted(), fetchesBeforeProduce, 'the open transaction\'s records did not end the parked fetch')
    parked.events.push('commit')
    await transaction.commit()
    assert.equal(await parked.firstMessage, 'committed')
    assert.ok(parked.events.indexOf('commit') < parked.events.indexOf(`message committed after fetch ${fetchesBeforeProduce} start`),
      `the fetch parked before the transaction carried its records after the commit: ${parked.events.join(', ')}`)
  } finally {
    await disconnect(parked, async () => {
      const last = await producer.transaction()
      await last.send({ topic, messages: [{ value: 'last' }] })
      await last.commit()
    })
    await producer.disconnect()
  }
})
