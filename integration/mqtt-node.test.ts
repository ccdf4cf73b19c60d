// The bridge inside a node (`sluice node --mqtt-bridge`), read back through SQL: points published
// with mosquitto_pub to the machine's Mosquitto go through the node's own write path (its
// transactional writer and catalog), the master and the replica, and SELECT over /api/v1/sql
// returns exactly them. Each message is published twice: the second copy is the same
// (series, time) and collapses into the first (upsert), as a redelivered message does.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'
import { eventually } from './support/kafka.ts'
import { forgetSession, SYSTEM_MQTT_URL, writeBridgeConfig } from './support/mqtt.ts'
import { run } from './support/run.ts'

// 2 lines x 200 points x 2 copies = 800 messages: under the 1,000 a default Mosquitto queues per client
// (max_queued_messages), past which it drops messages for a slow subscriber (docs/mqtt.md).
const POINTS = 200
const T0 = 1_700_000_000_000_000_000n
const tenant = uniqueName('it_mqtt_node')
const topic = `sluice-it-node-${tenant}/plant/+line`
let broker: BrokerProcess
let node: NodeProcess

before(async () => {
  broker = await startBrokerProcess()
  const config = writeBridgeConfig({
    mqtt: SYSTEM_MQTT_URL,
    clientId: `sluice-it-node-${tenant}`,
    database: 'plant', // no tenant: the node's --default-tenant
    subscriptions: [{ topic, measurement: 'power', format: 'json', json: { fields: { kw: 'kw' }, time: { path: 't', format: 'rfc3339' } } }],
  })
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', '2', '--default-tenant', tenant, '--replica-flush-interval-ms', '300', '--mqtt-bridge', config] })
})

after(async () => {
  assert.equal(await node?.stop(), 0, 'the node exits 0 on SIGTERM')
  await broker?.stop()
  await forgetTenants([tenant])
  await forgetSession(SYSTEM_MQTT_URL, `sluice-it-node-${tenant}`)
})

const sql = async (statement: string): Promise<{ status: number; rows: unknown }> => {
  const answer = await fetch(`${node.url}/api/v1/sql?db=plant`, { method: 'POST', body: statement, headers: { accept: 'application/json' } })
  const body = await answer.text()
  return { status: answer.status, rows: answer.status === 200 ? JSON.parse(body) : body }
}

test('a node with --mqtt-bridge writes what Mosquitto delivers, and SQL reads every point once', async () => {
  const lines = Array.from({ length: POINTS }, (_, i) => {
    const time = new Date(Number((T0 + BigInt(i) * 1_000_000_000n) / 1_000_000n)).toISOString()
    return JSON.stringify({ kw: i * 0.5, t: time })
  })
  for (const line of ['l1', 'l2']) {
    const published = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', topic.replace('+line', line), '-l'], { input: `${[...lines, ...lines].join('\n')}\n`, timeoutMs: 30_000 })
    assert.equal(published.code, 0, published.stderr)
  }
  const sum = Array.from({ length: POINTS }, (_, i) => i * 0.5).reduce((a, b) => a + b, 0)
  const expected = [{ line: 'l1', n: POINTS, s: sum }, { line: 'l2', n: POINTS, s: sum }]
  let last: { status: number; rows: unknown } = { status: 0, rows: null }
  const arrived = await eventually(async () => {
    last = await sql('SELECT line, count(kw) AS n, sum(kw) AS s FROM power GROUP BY line ORDER BY line')
    return last.status === 200 && JSON.stringify(last.rows) === JSON.stringify(expected)
  }, 40_000, 250)
  assert.ok(arrived, `SQL answered ${last.status} ${JSON.stringify(last.rows)}, expected ${JSON.stringify(expected)}\n${node.logs().slice(-3000)}`)
  const first = await sql(`SELECT time, kw FROM power WHERE line = 'l2' ORDER BY time LIMIT 2`)
  assert.deepEqual(first.rows, [{ time: '2023-11-14T22:13:20Z', kw: 0 }, { time: '2023-11-14T22:13:21Z', kw: 0.5 }])
})
