// The influx CLI (Debian's influxdb-client, InfluxDB 1.6) against a node's v1 API, with auth on:
// CREATE DATABASE, -import of a file, INSERT, then SELECT and SHOW through -execute (InfluxQL on
// /query), asserting what the CLI prints.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'
import { run, type RunResult } from './support/run.ts'

const tenant = uniqueName('it_influxcli')
let broker: BrokerProcess
let node: NodeProcess
let token: string

before(async () => {
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', '2', '--default-tenant', tenant, '--auth', '--no-auto-create-databases', '--replica-flush-interval-ms', '200'] })
  token = node.createToken({ tenant, databases: ['*'], permissions: ['read', 'write'] })
})

after(async () => {
  assert.equal(await node?.stop(), 0, 'the node exits 0 on SIGTERM')
  await broker?.stop()
  await forgetTenants([tenant])
})

/** The CLI as a user runs it: the token as password (any user name). */
const influx = (args: string[]): Promise<RunResult> =>
  run('influx', ['-host', '127.0.0.1', '-port', String(node.port), '-username', 'cli', '-password', token, ...args], { timeoutMs: 30_000 })

/** Runs an -execute until its output holds `expected` (the replica applies writes a moment after they are acknowledged). */
async function executeUntil(args: string[], expected: string, timeoutMs = 30_000): Promise<RunResult> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const result = await influx(args)
    if (result.code === 0 && result.stdout.includes(expected)) return result
    if (Date.now() > deadline) throw new Error(`influx ${args.join(' ')} never printed ${JSON.stringify(expected)}; last: code ${result.code}\n${result.stdout}\n${result.stderr}`)
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}

test('influx CLI: CREATE DATABASE, -import, INSERT, then SELECT and SHOW through -execute', async () => {
  const db = uniqueName('cli')
  // The node may take up to a second to read the new token: the first command retries until it is in.
  const created = await executeUntil(['-execute', `CREATE DATABASE ${db}`], '')
  assert.equal(created.stderr, '')
  const databases = await influx(['-execute', 'SHOW DATABASES', '-format', 'csv'])
  assert.equal(databases.code, 0, databases.stderr)
  assert.ok(databases.stdout.split('\n').includes(`databases,${db}`), databases.stdout)

  const file = join(node.dataDir, 'telegraf-import.txt')
  const lines = Array.from({ length: 300 }, (_, i) => `cpu,host=h${i % 3} usage_idle=${i}.5,ticks=${i}i ${1_700_000_000 + i}`)
  writeFileSync(file, ['# DML', `# CONTEXT-DATABASE: ${db}`, ...lines, ''].join('\n'))
  const imported = await influx(['-import', `-path=${file}`, '-precision=s'])
  assert.equal(imported.code, 0, imported.stderr)
  assert.match(imported.stdout + imported.stderr, /Processed 300 inserts/)
  assert.match(imported.stdout + imported.stderr, /Failed 0 inserts/)

  const inserted = await influx(['-database', db, '-precision', 's', '-execute', 'INSERT cpu,host=h9 usage_idle=99.5,ticks=9000i 1700001000'])
  assert.equal(inserted.code, 0, inserted.stderr)

  const counted = await executeUntil(['-database', db, '-format', 'csv', '-execute', 'SELECT count(usage_idle) FROM cpu'], 'cpu,0,301')
  assert.equal(counted.stdout, 'name,time,count\ncpu,0,301\n')

  const perHost = await influx(['-database', db, '-format', 'csv', '-execute', 'SELECT max(ticks) FROM cpu GROUP BY host'])
  assert.equal(perHost.code, 0, perHost.stderr)
  // max() is a selector: the time is the point's (InfluxDB 1.x does the same); the CLI repeats the CSV header per series.
  assert.equal(perHost.stdout, [
    'name,tags,time,max', 'cpu,host=h0,1700000297000000000,297', 'name,tags,time,max', 'cpu,host=h1,1700000298000000000,298',
    'name,tags,time,max', 'cpu,host=h2,1700000299000000000,299', 'name,tags,time,max', 'cpu,host=h9,1700001000000000000,9000', '',
  ].join('\n'))

  const raw = await influx(['-database', db, '-precision', 'rfc3339', '-execute', "SELECT usage_idle, ticks FROM cpu WHERE host = 'h9'"])
  assert.equal(raw.code, 0, raw.stderr)
  assert.equal(raw.stdout, [
    'name: cpu',
    'time                 usage_idle ticks',
    '----                 ---------- -----',
    '2023-11-14T22:30:00Z 99.5       9000',
    '',
  ].join('\n'))

  const tags = await influx(['-database', db, '-format', 'csv', '-execute', 'SHOW TAG VALUES FROM cpu WITH KEY = "host"'])
  assert.equal(tags.stdout, 'name,key,value\ncpu,host,h0\ncpu,host,h1\ncpu,host,h2\ncpu,host,h9\n')

  const refused = await influx(['-database', db, '-execute', 'SELECT FROM cpu'])
  assert.match(refused.stdout + refused.stderr, /error parsing query/)
})

test('influx CLI with a wrong password: the node answers 401 and the CLI says so', async () => {
  const result = await run('influx', ['-host', '127.0.0.1', '-port', String(node.port), '-username', 'cli', '-password', 'not-a-token', '-execute', 'SHOW DATABASES'], { timeoutMs: 30_000 })
  assert.notEqual(result.code, 0)
  assert.match(result.stdout + result.stderr, /authorization failed|unable to parse authentication credentials|401/i)
})
