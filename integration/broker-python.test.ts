// Conformance with the Python clients on Debian's python3: confluent-kafka's exactly-once loop
// with an aborted transaction readers never see (brief §7.2), and kafka-python's produce, group
// consume and commit (brief §7.4).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { debianPython, run } from './support/run.ts'

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
