// The MQTT bridge end to end against the machine's Mosquitto on 127.0.0.1:1883: `sluice
// mqtt-bridge` as a process, the embedded broker as a process, publishers nobody here wrote
// (mosquitto_pub) and mqtt.js. Every point of every payload format is counted in sluice.ingest;
// bad payloads are in sluice.deadletter with their MQTT topic and reason; messages published while
// the bridge is down arrive once it is back (persistent session).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import mqtt from 'mqtt'
import sparkplugPayload from 'sparkplug-payload'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { kafkaClient } from './support/kafka.ts'
import { run } from './support/run.ts'
import { forgetSession, readDeadLetters, readIngestedPoints, startBridgeProcess, SYSTEM_MQTT_URL, writeBridgeConfig, type BridgeProcess, type IngestedPoint } from './support/mqtt.ts'

const id = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`
const prefix = `sluice-it-${id}`
const group = `G-${id}`
const database = `mqtt_it_${id.replace(/-/g, '_')}`
const T0 = 1_700_000_000_000_000_000n
let broker: BrokerProcess
let bridge: BridgeProcess
let config: string

before(async () => {
  broker = await startBrokerProcess()
  config = writeBridgeConfig({
    clientId: `sluice-it-bridge-${id}`,
    database,
    subscriptions: [
      { topic: `${prefix}/factory/+site/+line/+sensor`, measurement: '{sensor}', format: 'number' },
      { topic: `${prefix}/lp/+device`, format: 'line-protocol' },
      { topic: `${prefix}/json/+device`, format: 'json', measurement: 'env', json: { fields: { temp: 'data.t', hum: { path: 'data.h', type: 'integer' } }, time: { path: 'ts', format: 'ms' } } },
      { topic: `spBv1.0/${group}/#`, format: 'sparkplug', measurement: 'plc', sparkplug: { requestRebirth: true } },
    ],
  })
  bridge = await startBridgeProcess({ config, kafka: broker.bootstrap, mqtt: SYSTEM_MQTT_URL })
})

after(async () => {
  const code = await bridge?.stop()
  await broker?.stop()
  for (const clientId of [`sluice-it-bridge-${id}`, `sluice-it-bridge-v5-${id}`]) await forgetSession(SYSTEM_MQTT_URL, clientId)
  assert.equal(code, 0, `the bridge exits 0 on SIGTERM:\n${bridge?.logs().slice(-3000)}`)
})

const mosquittoPub = async (topic: string, lines: string[]): Promise<void> => {
  const result = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-i', `pub-${id}-${Math.random().toString(36).slice(2, 6)}`, '-t', topic, '-l'], { input: `${lines.join('\n')}\n`, timeoutMs: 30_000 })
  assert.equal(result.code, 0, result.stderr)
}

const ofDatabase = (points: Map<string, IngestedPoint>): IngestedPoint[] => [...points.values()].filter(point => point.database === database)

test('mosquitto_pub and mqtt.js messages of every format land in sluice.ingest; bad ones are dead-lettered with topic and reason', async () => {
  const sparkplug = sparkplugPayload.get('spBv1.0')!
  // 200 line protocol messages, one point each, own timestamps.
  await mosquittoPub(`${prefix}/lp/dev1`, Array.from({ length: 200 }, (_, i) => `cpu,host=h${i % 4} usage=${i} ${T0 + BigInt(i)}`))
  // 100 plain numbers: one point each at its arrival time.
  await mosquittoPub(`${prefix}/factory/berlin/l1/temp`, Array.from({ length: 100 }, (_, i) => `${i}.5`))
  await mosquittoPub(`${prefix}/factory/berlin/l1/temp`, ['warm'])
  // The same field as the numbers above, as an integer: refused by the catalog HTTP writes share, the good point of the message written.
  const conflictPub = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', `${prefix}/lp/conflict`, '-m', 'temp,line=l1,site=berlin value=5i 1\ncpu,host=h0 usage=-1 1'])
  assert.equal(conflictPub.code, 0, conflictPub.stderr)
  const client = await mqtt.connectAsync(SYSTEM_MQTT_URL, { clientId: `pub-js-${id}`, clean: true })
  try {
    for (let i = 0; i < 50; i++) {
      await client.publishAsync(`${prefix}/json/d${i % 2}`, JSON.stringify({ data: { t: i / 2, h: i }, ts: 1_700_000_000_000 + i }), { qos: 1 })
    }
    await client.publishAsync(`${prefix}/json/d0`, '{"data": {"t": ', { qos: 1 })
    await client.publishAsync(`spBv1.0/${group}/DBIRTH/E1/D1`, Buffer.from(sparkplug.encodePayload({
      timestamp: 1_700_000_000_000, seq: 0, metrics: [{ name: 'Temp', alias: 1, type: 'Double', value: 20 }, { name: 'Count', alias: 2, type: 'Int64', value: 0 }],
    })), { qos: 1 })
    for (let i = 1; i <= 20; i++) {
      await client.publishAsync(`spBv1.0/${group}/DDATA/E1/D1`, Buffer.from(sparkplug.encodePayload({
        timestamp: 1_700_000_000_000 + i, seq: i, metrics: [{ alias: 1, type: 'Double', value: 20 + i / 4 }, { alias: 2, type: 'Int64', value: i }],
      })), { qos: 1 })
    }
  } finally {
    await client.endAsync()
  }

  const expected = 200 + 1 + 100 + 50 + 21
  const kafka = kafkaClient(broker.bootstrap)
  const points = ofDatabase(await readIngestedPoints(kafka, all => ofDatabase(all).length >= expected))
  assert.equal(points.length, expected, `distinct points in sluice.ingest\n${bridge.logs().slice(-2000)}`)
  const lp = points.filter(point => point.seriesKey.startsWith('cpu,') && point.timeNs !== 1n)
  assert.deepEqual(lp.map(point => Number(point.timeNs - T0)).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i))
  for (const point of lp) assert.equal(point.fields.usage, Number(point.timeNs - T0), 'usage is the line number')
  assert.ok(lp.every(point => point.seriesKey.includes('device=dev1')), 'the topic level is a tag')
  const temps = points.filter(point => point.seriesKey === 'temp,line=l1,site=berlin').map(point => point.fields.value).sort((a, b) => Number(a) - Number(b))
  assert.deepEqual(temps, Array.from({ length: 100 }, (_, i) => i + 0.5))
  const env = points.filter(point => point.seriesKey.startsWith('env,'))
  assert.deepEqual(env.map(point => point.fields.hum).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 50 }, (_, i) => BigInt(i)))
  const plc = points.filter(point => point.seriesKey === 'plc,device_id=D1,edge_node_id=E1,group_id=' + group)
  assert.equal(plc.length, 21)
  assert.deepEqual(plc.map(point => point.fields.Count).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 21 }, (_, i) => BigInt(i)), 'data messages by alias carry the birth names')

  assert.deepEqual(points.filter(point => point.timeNs === 1n).map(point => [point.seriesKey, point.fields.usage]), [['cpu,device=conflict,host=h0', -1]])
  const letters = await readDeadLetters(kafka, prefix, found => found.length >= 3)
  assert.equal(letters.length, 3, JSON.stringify(letters))
  const conflict = letters.find(letter => letter.key === `${prefix}/lp/conflict`)!
  assert.equal(conflict.headers['sluice-deadletter-code'], 'SLUICE_ERR_FIELD_TYPE_CONFLICT')
  assert.equal(conflict.headers['sluice-deadletter-partial'], 'true')
  assert.match(conflict.headers['sluice-deadletter-reason']!, /integer.*float|float.*integer/)
  const warm = letters.find(letter => letter.value === 'warm')!
  assert.equal(warm.headers['sluice-mqtt-topic'], `${prefix}/factory/berlin/l1/temp`)
  assert.equal(warm.headers['sluice-deadletter-code'], 'SLUICE_ERR_MQTT_PAYLOAD')
  assert.match(warm.headers['sluice-deadletter-reason']!, /"warm" is not a number/)
  const json = letters.find(letter => letter.key === `${prefix}/json/d0`)!
  assert.match(json.headers['sluice-deadletter-reason']!, /not JSON/)
})

test('messages published while the bridge is stopped arrive when it is back (persistent session, QoS 1)', async () => {
  assert.equal(await bridge.stop(), 0)
  const T1 = T0 + 1_000_000n
  await mosquittoPub(`${prefix}/lp/dev2`, Array.from({ length: 300 }, (_, i) => `offline,host=h${i % 3} v=${i} ${T1 + BigInt(i)}`))
  bridge = await startBridgeProcess({ config, kafka: broker.bootstrap, mqtt: SYSTEM_MQTT_URL })
  const kafka = kafkaClient(broker.bootstrap)
  const offline = (all: Map<string, IngestedPoint>): IngestedPoint[] => ofDatabase(all).filter(point => point.seriesKey.startsWith('offline,'))
  const points = offline(await readIngestedPoints(kafka, all => offline(all).length >= 300))
  assert.equal(points.length, 300, bridge.logs().slice(-2000))
  assert.deepEqual(points.map(point => Number(point.timeNs - T1)).sort((a, b) => a - b), Array.from({ length: 300 }, (_, i) => i))
})

test('MQTT 5: the session (with its expiry interval) keeps messages for a stopped bridge, and PUBACKs end their redelivery', async () => {
  const v5config = writeBridgeConfig({
    clientId: `sluice-it-bridge-v5-${id}`, protocolVersion: 5, sessionExpirySeconds: 600, database,
    subscriptions: [{ topic: `${prefix}/v5/+device`, format: 'line-protocol' }],
  })
  const T2 = T0 + 2_000_000n
  const lines = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => `five v=${from + i} ${T2 + BigInt(from + i)}`)
  let v5 = await startBridgeProcess({ config: v5config, kafka: broker.bootstrap, mqtt: SYSTEM_MQTT_URL })
  try {
    const publish = async (batch: string[]): Promise<void> => {
      const result = await run('mosquitto_pub', ['-V', 'mqttv5', '-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', `${prefix}/v5/x`, '-l'], { input: `${batch.join('\n')}\n`, timeoutMs: 30_000 })
      assert.equal(result.code, 0, result.stderr)
    }
    await publish(lines(0, 100))
    const kafka = kafkaClient(broker.bootstrap)
    const five = (all: Map<string, IngestedPoint>): IngestedPoint[] => ofDatabase(all).filter(point => point.seriesKey === 'five,device=x')
    assert.equal(five(await readIngestedPoints(kafka, all => five(all).length >= 100)).length, 100, v5.logs().slice(-2000))
    assert.equal(await v5.stop(), 0)
    assert.match(v5.logs(), /"messagesAcknowledged":100/, 'every message was acknowledged before the stop')
    await publish(lines(100, 100))
    v5 = await startBridgeProcess({ config: v5config, kafka: broker.bootstrap, mqtt: SYSTEM_MQTT_URL })
    const points = five(await readIngestedPoints(kafka, all => five(all).length >= 200))
    assert.deepEqual(points.map(point => Number(point.timeNs - T2)).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i))
    assert.match(v5.logs(), /"sessionPresent":true/)
  } finally {
    assert.equal(await v5.stop(), 0)
  }
  assert.match(v5.logs(), /"messagesReceived":100,/, 'the restarted bridge got only the 100 published while it was away: the first 100 were acknowledged')
})

test('Sparkplug B: data by an alias no birth declared is dead-lettered and the edge node is asked to rebirth; after its birth the data lands', async () => {
  const sparkplug = sparkplugPayload.get('spBv1.0')!
  const commands: Array<{ topic: string; metrics: Array<{ name?: string | null; value?: unknown }> }> = []
  const edge = await mqtt.connectAsync(SYSTEM_MQTT_URL, { clientId: `edge-${id}`, clean: true })
  try {
    await edge.subscribeAsync(`spBv1.0/${group}/NCMD/E9`, { qos: 1 })
    edge.on('message', (topic, payload) => commands.push({ topic, metrics: (sparkplug.decodePayload(payload).metrics ?? []) as Array<{ name?: string | null; value?: unknown }> }))
    const data = (seq: number): Buffer => Buffer.from(sparkplug.encodePayload({ timestamp: 1_700_000_100_000 + seq, seq, metrics: [{ alias: 7, type: 'Float', value: seq }] }))
    await edge.publishAsync(`spBv1.0/${group}/NDATA/E9`, data(1), { qos: 1 })
    const kafka = kafkaClient(broker.bootstrap)
    const letters = await readDeadLetters(kafka, `spBv1.0/${group}/NDATA/E9`, found => found.length >= 1)
    assert.equal(letters[0]?.headers['sluice-deadletter-code'], 'SLUICE_ERR_MQTT_SPARKPLUG_ALIAS', JSON.stringify(letters))
    const deadline = Date.now() + 10_000
    while (commands.length === 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
    assert.deepEqual(commands.map(command => [command.topic, command.metrics.map(metric => [metric.name, metric.value])]), [[`spBv1.0/${group}/NCMD/E9`, [['Node Control/Rebirth', true]]]])
    await edge.publishAsync(`spBv1.0/${group}/NBIRTH/E9`, Buffer.from(sparkplug.encodePayload({ timestamp: 1_700_000_100_000, seq: 0, metrics: [{ name: 'Flow', alias: 7, type: 'Float', value: 0 }] })), { qos: 1 })
    await edge.publishAsync(`spBv1.0/${group}/NDATA/E9`, data(2), { qos: 1 })
    const node = (all: Map<string, IngestedPoint>): IngestedPoint[] => ofDatabase(all).filter(point => point.seriesKey === `plc,edge_node_id=E9,group_id=${group}`)
    const points = node(await readIngestedPoints(kafka, all => node(all).length >= 2))
    assert.deepEqual(points.map(point => [point.timeNs, point.fields.Flow]).sort((a, b) => Number(a[0]) - Number(b[0])), [[1_700_000_100_000_000_000n, 0], [1_700_000_100_002_000_000n, 2]])
  } finally {
    await edge.endAsync()
  }
})
