// Codec DDL and expression UPDATEs through a real node: CREATE TABLE declares the columns,
// ALTER TABLE ... SET CODEC(DEADBAND(10)) enters the log, and only the points written after it are
// compressed; a new node taking the partition over restores the codec from sluice.state and goes
// on dropping; CODEC(DEFAULT) flushes the held point and turns compression off; an UPDATE with
// expressions rewrites stored values. Everything is checked through SQL on the replica.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'
import { eventually } from './support/kafka.ts'

const tenant = uniqueName('it_codec')
const T0 = 1_700_000_000_000_000_000n
const SECOND = 1_000_000_000n
let broker: BrokerProcess
let node: NodeProcess | undefined

before(async () => {
  broker = await startBrokerProcess()
  node = await startNode()
})

after(async () => {
  if (node) assert.equal(await node.stop(), 0)
  await broker?.stop()
  await forgetTenants([tenant])
})

function startNode(): Promise<NodeProcess> {
  return startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', '1', '--default-tenant', tenant] })
}

async function sql(statement: string): Promise<Record<string, unknown>[] & Record<string, unknown>> {
  const answer = await fetch(`${node!.url}/api/v1/sql?db=plant`, { method: 'POST', body: statement })
  assert.equal(answer.status, 200, `${statement}: ${await answer.clone().text()}`)
  return answer.json() as Promise<Record<string, unknown>[] & Record<string, unknown>>
}

/** Points i in [from, to) of series unit=u0 at T0 + i s, temp = value(i), and a string written every time. */
async function write(from: number, to: number, value: (i: number) => number, withN = false): Promise<void> {
  const lines = []
  for (let i = from; i < to; i++) lines.push(`boiler,unit=u0 temp=${value(i)},state="on"${withN ? `,n=${i}i` : ''} ${T0 + BigInt(i) * SECOND}`)
  const answer = await fetch(`${node!.url}/api/v1/write?db=plant`, { method: 'POST', body: lines.join('\n') })
  assert.equal(answer.status, 204, await answer.text())
}

/** Waits until the replica holds `states` state values (every point written), then counts temperatures per range of i. */
async function tempCounts(states: number, ranges: Array<[number, number]>): Promise<number[]> {
  let seen: unknown
  assert.ok(await eventually(async () => {
    seen = (await sql('SELECT count(state) AS states FROM boiler'))[0]?.states
    return Number(seen) === states
  }, 30_000), `the replica applied every point (${String(seen)} of ${states} states)`)
  const counts: number[] = []
  for (const [from, to] of ranges) {
    const rows = await sql(`SELECT count(temp) AS temps FROM boiler WHERE time >= ${T0 + BigInt(from) * SECOND} AND time < ${T0 + BigInt(to) * SECOND}`)
    counts.push(Number(rows[0]!.temps))
  }
  return counts
}

test('a codec set by SQL applies from its log position on, survives a change of master, and DEFAULT turns it off with a flush', async () => {
  const created = await sql('CREATE TABLE boiler (temp DOUBLE, state STRING, n BIGINT, TAGS(unit))')
  assert.equal(created.kind, 'CREATE_TABLE')
  const refused = await fetch(`${node!.url}/api/v1/write?db=plant`, { method: 'POST', body: `boiler,unit=u0 n=1.5 ${T0}` })
  assert.equal(refused.status, 400, 'the declared type refuses a float for n')

  await write(0, 100, i => i, true) // no codec yet: every point kept
  const altered = await sql('ALTER TABLE boiler ALTER temp SET CODEC(DEADBAND(10))')
  assert.equal((altered.positions as unknown[]).length, 1)
  await write(100, 200, i => i) // kept: 100, 111, 122, ..., 199 (a step above 10 from the last kept)
  await write(200, 205, i => 199 + (i - 199) * 0.5) // within the band of 199: dropped, the last one held
  assert.deepEqual(await tempCounts(205, [[0, 100], [100, 200], [200, 205]]), [100, 10, 0])
  const shown = await sql('SHOW COMPRESSION')
  assert.deepEqual(shown.map(row => [row.field, Number(row.points_in), Number(row.points_kept), row.codec]), [['temp', 105, 10, 'CODEC(DEADBAND(10))']])

  // A new node masters the partition: the codec comes back from sluice.state, the held point too.
  assert.equal(await node!.stop(), 0)
  node = undefined
  node = await startNode()
  await write(205, 255, i => 201.5 + (i - 204) * 0.1) // still within 10 of 199: dropped
  assert.deepEqual(await tempCounts(255, [[200, 255]]), [0], 'the new master kept the codec')

  await sql('ALTER TABLE boiler ALTER temp SET CODEC(DEFAULT)') // flush: the held point (i = 254, 206.5) is written
  await write(255, 275, i => i)
  assert.deepEqual(await tempCounts(275, [[0, 100], [100, 200], [200, 255], [255, 275]]), [100, 10, 1, 20])
  const flushed = await sql(`SELECT max(temp) AS temp FROM boiler WHERE time >= ${T0 + 200n * SECOND} AND time < ${T0 + 255n * SECOND}`)
  assert.equal(Number(flushed[0]!.temp).toFixed(1), '206.5', `the last point held before the switch: ${JSON.stringify(flushed)}`)
})

test('an UPDATE with expressions rewrites the stored values of the matching points', async () => {
  const updated = await sql(`UPDATE boiler SET temp = temp * 2 + 1, n = (n - 1) * 3 WHERE unit = 'u0' AND time < ${T0 + 100n * SECOND}`)
  assert.equal(updated.kind, 'UPDATE_EXPRESSIONS')
  let rows: Record<string, unknown>[] = []
  assert.ok(await eventually(async () => {
    rows = await sql(`SELECT max(temp) AS hottest, min(temp) AS coldest, sum(n) AS total FROM boiler WHERE time < ${T0 + 100n * SECOND}`)
    return Number(rows[0]?.hottest) === 199
  }, 30_000), `the replica applied the UPDATE: ${JSON.stringify(rows)}`)
  assert.deepEqual([Number(rows[0]!.coldest), Number(rows[0]!.total)], [1, 3 * (4950 - 100)])
  const untouched = await sql(`SELECT max(temp) AS hottest FROM boiler WHERE time >= ${T0 + 100n * SECOND} AND time < ${T0 + 200n * SECOND}`)
  assert.equal(Number(untouched[0]!.hottest), 199, 'points outside the time range keep their values')
})
