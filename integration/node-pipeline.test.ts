// A node end to end: HTTP writes reach the committed changelog through the node's own master, each
// point once; UPDATE and DELETE over /api/v1/sql are refused or accepted precisely, and an accepted
// one is in the changelog of every partition at the position its answer named.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'
import { kafkaClient } from './support/kafka.ts'
import { readChangelog } from './support/ingest.ts'

const PARTITIONS = 3
const tenant = uniqueName('it_pipeline')
let broker: BrokerProcess
let node: NodeProcess

before(async () => {
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', String(PARTITIONS), '--default-tenant', tenant] })
})

after(async () => {
  assert.equal(await node?.stop(), 0, 'the node exits 0 on SIGTERM')
  await broker?.stop()
  await forgetTenants([tenant])
})

const sql = (statement: string, db = 'weather'): Promise<Response> =>
  fetch(`${node.url}/api/v1/sql?db=${db}`, { method: 'POST', body: statement })

test('HTTP writes reach the committed changelog once each; commands are checked and placed on every partition', async () => {
  const lines = Array.from({ length: 300 }, (_, i) => `air,station=s${i % 7},region=r${i % 2} pressure=${i}.5,visibility=${i}i ${1_700_000_000_000_000_000n + BigInt(i)}`)
  for (let i = 0; i < lines.length; i += 100) {
    const answer = await fetch(`${node.url}/write?db=weather`, { method: 'POST', body: lines.slice(i, i + 100).join('\n') })
    assert.equal(answer.status, 204, await answer.text())
  }

  // Refusals name their reason; nothing reaches Kafka.
  const refusals: Array<[string, number, RegExp]> = [
    ["UPDATE air SET station = 'x', pressure = 1 WHERE true", 422, /tags and fields cannot be updated in the same statement/],
    ['UPDATE air SET pressure = sqrt(pressure) WHERE true', 422, /the function sqrt\(\)/],
    ["UPDATE air SET pressure = 'high' WHERE true", 422, /pressure\W+ is float/],
    ['DELETE FROM air WHERE pressure > 3', 422, /tags and time only/],
    ['DELETE FROM water WHERE true', 404, /water\W+ not found/],
    ['DELETE FROM air WHERE humidity = 1', 422, /humidity\W+ not found/],
    ['DELETE FROM', 400, /syntax/i],
    ['SELECT * FROM air JOIN water ON true', 422, /joins/],
  ]
  for (const [statement, status, message] of refusals) {
    const answer = await sql(statement)
    const body = await answer.text()
    assert.equal(answer.status, status, `${statement}: ${body}`)
    assert.match(body, message, statement)
  }
  assert.equal((await sql('DELETE FROM air WHERE true', 'nowhere')).status, 404, 'a table is known per database')

  const accepted = await sql("DELETE FROM air WHERE station IN ('s1', 's2') AND time < '2030-01-01T00:00:00Z'")
  const answer = await accepted.json() as { command_id: string; kind: string; table: string; positions: Array<{ partition: number; offset: string }> }
  assert.equal(accepted.status, 200, JSON.stringify(answer))
  assert.equal(answer.kind, 'DELETE')
  assert.deepEqual(answer.positions.map(position => position.partition), [0, 1, 2])

  const changelog = await readChangelog(kafkaClient(broker.bootstrap), read => {
    const points = read.reduce((sum, { entry }) => sum + (entry.upsert?.points.length ?? 0), 0)
    const commands = read.filter(({ entry }) => entry.command?.commandId === answer.command_id).length
    return points >= lines.length && commands >= PARTITIONS
  })
  const upserts = changelog.filter(({ entry }) => entry.upsert?.database === 'weather')
  const pressures = upserts.flatMap(({ entry }) => entry.upsert!.points.map(point => point.fields.find(field => field.name === 'pressure')!.value)).sort((a, b) => Number(a) - Number(b))
  assert.deepEqual(pressures, lines.map((_, i) => i + 0.5), 'every point once')
  for (const position of answer.positions) {
    const entry = changelog.find(({ entry }) => entry.command?.commandId === answer.command_id && entry.ingestPartition === position.partition)
    assert.ok(entry, `partition ${position.partition} has the command`)
    assert.equal(String(entry.entry.ingestOffset), position.offset, 'at the position the answer named')
    assert.deepEqual(entry.entry.command!.where.tags.map(match => ({ ...match })), [{ key: 'station', values: ['s1', 's2'] }])
  }
})
