// Nothing is lost when the bridge or Kafka dies: a Mosquitto of the test's own with the lossless
// settings of docs/mqtt.md, an mqtt.js publisher that keeps publishing QoS 1 throughout, and
// (1) the bridge killed -9 and restarted, (2) the Kafka broker killed -9 and restarted. Every
// published point is then in sluice.ingest, counted as distinct (series, time) pairs: a message
// the bridge wrote but had not acknowledged comes again and collapses into the same point.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import mqtt, { type MqttClient } from 'mqtt'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { kafkaClient, sleep } from './support/kafka.ts'
import { readIngestedPoints, startBridgeProcess, startMosquitto, writeBridgeConfig, type BridgeProcess, type IngestedPoint, type MosquittoProcess } from './support/mqtt.ts'

const id = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`
const database = `mqtt_crash_${id.replace(/-/g, '_')}`
const T0 = 1_700_000_000_000_000_000n
let broker: BrokerProcess
let mosquitto: MosquittoProcess
let bridge: BridgeProcess
let config: string

before(async () => {
  broker = await startBrokerProcess()
  mosquitto = await startMosquitto()
  config = writeBridgeConfig({
    clientId: `sluice-crash-bridge-${id}`,
    database,
    subscriptions: [{ topic: 'crash/+run/+device', format: 'line-protocol' }],
  })
  bridge = await startBridgeProcess({ config, kafka: broker.bootstrap, mqtt: mosquitto.url })
})

after(async () => {
  await bridge?.stop()
  await broker?.stop()
  await mosquitto?.stop()
})

/** Publishes `count` QoS 1 messages, one point each, a few at a time so the run spans the fault; resolves when every PUBACK came. */
async function publish(client: MqttClient, run: string, count: number, onProgress: (sent: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < count; i++) {
    await client.publishAsync(`crash/${run}/d${i % 5}`, `m,run=${run} v=${i}i ${T0 + BigInt(i)}`, { qos: 1 })
    if (i % 25 === 24) {
      await onProgress(i + 1)
      await sleep(20)
    }
  }
}

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting ${timeoutMs} ms for ${what}`)
    await sleep(100)
  }
}

const ofRun = (points: Map<string, IngestedPoint>, run: string): IngestedPoint[] => [...points.values()].filter(point => point.database === database && point.seriesKey.includes(`run=${run}`))

async function expectAll(run: string, count: number, logs: () => string): Promise<void> {
  const points = ofRun(await readIngestedPoints(kafkaClient(broker.bootstrap), all => ofRun(all, run).length >= count, 45_000), run)
  const missing = Array.from({ length: count }, (_, i) => i).filter(i => !points.some(point => point.timeNs === T0 + BigInt(i)))
  assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${count} points missing\n${logs().slice(-3000)}`)
  assert.equal(points.length, count)
  for (const point of points) assert.equal(point.fields.v, point.timeNs - T0)
}

test('kill -9 of the bridge while a publisher keeps publishing QoS 1: after a restart every point arrives', async () => {
  const count = 1_500
  const client = await mqtt.connectAsync(mosquitto.url, { clientId: `crash-pub-${id}`, clean: true })
  let killedAt = -1
  try {
    await publish(client, 'kill', count, async sent => {
      if (sent === 500) {
        await bridge.kill()
        killedAt = sent
      }
      if (sent === 800) bridge = await startBridgeProcess({ config, kafka: broker.bootstrap, mqtt: mosquitto.url })
    })
  } finally {
    await client.endAsync()
  }
  assert.equal(killedAt, 500)
  assert.match(bridge.logs(), /"sessionPresent":true/, 'the restarted bridge found its session')
  await expectAll('kill', count, () => bridge.logs())
})

test('kill -9 of the Kafka broker while publishing: the bridge retries without acknowledging, and after a restart nothing is lost', async () => {
  const count = 1_000
  const client = await mqtt.connectAsync(mosquitto.url, { clientId: `crash-pub2-${id}`, clean: true })
  try {
    await publish(client, 'kafka', count, async sent => {
      if (sent === 300) await broker.kill()
      if (sent === 600) {
        // Keep Kafka down until the bridge has failed a write: a short outage can end inside
        // kafkajs's own retries, and then the bridge's retry path would go untested.
        await waitFor(() => /mqtt_write_failed/.test(bridge.logs()), 60_000, 'the bridge to report a failed Kafka write')
        broker = await broker.restart()
      }
    })
  } finally {
    await client.endAsync()
  }
  await expectAll('kafka', count, () => bridge.logs())
  assert.match(bridge.logs(), /mqtt_write_failed/, 'the bridge saw Kafka fail and retried')
})
