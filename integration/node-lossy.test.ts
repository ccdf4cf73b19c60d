// Lossy compression through a whole node: settings from --lossy-compression, a smooth signal
// written over HTTP, the master keeping a fraction of it, the report over HTTP and over SQL
// (SHOW COMPRESSION), and the kept points queried back from the replica.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'
import { eventually } from './support/kafka.ts'

const tenant = uniqueName('it_lossy')
let broker: BrokerProcess
let node: NodeProcess

before(async () => {
  const settings = join(mkdtempSync(join(tmpdir(), 'sluice-lossy-')), 'lossy.json')
  writeFileSync(settings, JSON.stringify({ databases: { plant: { measurements: { boiler: { codec: 'SDT(0.5)' } } } } }))
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', '2', '--default-tenant', tenant, '--lossy-compression', settings] })
})

after(async () => {
  assert.equal(await node?.stop(), 0)
  await broker?.stop()
  await forgetTenants([tenant])
})

test('a node compresses what its settings say, reports it over HTTP and SQL, and serves the kept points', async () => {
  const points = 2_000
  const lines = Array.from({ length: points }, (_, i) => `boiler,unit=u${i % 2} temp=${(60 + 10 * Math.sin(i / 200)).toFixed(3)},state="on" ${1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_000n}`)
  for (let i = 0; i < points; i += 500) {
    const answer = await fetch(`${node.url}/write?db=plant`, { method: 'POST', body: lines.slice(i, i + 500).join('\n') })
    assert.equal(answer.status, 204, await answer.text())
  }

  let report: { fields: Array<{ measurement: string; field: string; pointsIn: number; pointsKept: number; maxError: number }> } = { fields: [] }
  assert.ok(await eventually(async () => {
    report = await (await fetch(`${node.url}/api/v1/compression`)).json() as typeof report
    return report.fields.reduce((sum, row) => sum + row.pointsIn, 0) === points
  }, 30_000), `the masters saw every point: ${JSON.stringify(report)}`)
  const temp = report.fields.find(row => row.field === 'temp')!
  assert.equal(report.fields.length, 1, 'only the float field is compressed; strings never are')
  assert.ok(temp.pointsKept < points / 4, `SDT(0.5) keeps a fraction of a smooth signal (${temp.pointsKept} of ${points})`)
  assert.ok(temp.maxError <= 0.5 + 1e-9, `every dropped point within the deviation (${temp.maxError})`)

  const sql = async (statement: string): Promise<Array<Record<string, unknown>>> => {
    const answer = await fetch(`${node.url}/api/v1/sql?db=plant`, { method: 'POST', body: statement })
    assert.equal(answer.status, 200, await answer.clone().text())
    return answer.json() as Promise<Array<Record<string, unknown>>>
  }
  const shown = await sql('SHOW COMPRESSION')
  assert.deepEqual(shown.map(row => [row.measurement, row.field, Number(row.points_in)]), [['boiler', 'temp', points]])

  // The replica holds the kept temperatures and every state value.
  let counts: Array<Record<string, unknown>> = []
  assert.ok(await eventually(async () => {
    counts = await sql('SELECT count(temp) AS temps, count(state) AS states FROM boiler')
    return Number(counts[0]?.states) === points
  }, 30_000), `the replica applied every point: ${JSON.stringify(counts)}`)
  const temps = Number(counts[0]!.temps)
  assert.ok(temps > 0 && temps <= temp.pointsKept, `the replica holds the kept temperatures and no more (${temps}; kept ${temp.pointsKept})`)
})
