// Auth on a real node (`--auth`), with tokens made by `sluice token create` in its data directory:
// 401 without or with unknown credentials, 403 for databases and permissions a token lacks and across
// tenants, every credential form clients use (u/p, Basic, Token, Bearer, the influx CLI's), revocation
// without restart, and in sluice.ingest only what was allowed, under the token's tenant.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { forgetTenants, readIngest, uniqueName } from './http-helpers.ts'
import { run } from './support/run.ts'

let broker: BrokerProcess
let node: NodeProcess
const acmeTenant = uniqueName('acme')
const globexTenant = uniqueName('globex')
const db = uniqueName('metrics')
let writer: string
let reader: string
let globex: string

before(async () => {
  broker = await startBrokerProcess()
  node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--auth'] })
  writer = node.createToken({ tenant: acmeTenant, databases: [db], permissions: ['write'], id: 'acme-writer' })
  reader = node.createToken({ tenant: acmeTenant, databases: ['*'], permissions: ['read'], id: 'acme-reader' })
  globex = node.createToken({ tenant: globexTenant, databases: ['*'], permissions: ['read', 'write'], id: 'globex-all' })
})

after(async () => {
  await node?.stop()
  await broker?.stop()
  await forgetTenants([acmeTenant, globexTenant])
})

const post = (path: string, body: string, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${node.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers } })
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

test('401 without or with unknown credentials; 403 for what a token does not grant and across tenants', async () => {
  const none = await post(`/write?db=${db}`, 'm v=1 1')
  assert.equal(none.status, 401)
  assert.equal(none.headers.get('www-authenticate'), 'Basic realm="InfluxDB"')
  assert.equal((await post(`/api/v2/write?bucket=${db}`, 'm v=1 1', { authorization: 'Token sluice_not-a-token' })).status, 401)
  assert.equal((await post(`/write?db=${db}&u=x&p=wrong`, 'm v=1 1')).status, 401)
  assert.equal((await post(`/api/v1/write?db=${db}`, 'm v=1 1', { authorization: basic('acme', 'wrong') })).status, 401)

  const otherDb = await post(`/write?db=elsewhere`, 'm v=1 1', { authorization: `Token ${writer}` })
  assert.equal(otherDb.status, 403)
  assert.match(((await otherDb.json()) as { error: string }).error, /not authorized to write database "elsewhere"/)
  assert.equal((await post(`/write?db=${db}`, 'm v=1 1', { authorization: `Token ${reader}` })).status, 403, 'read-only token')
  const crossOrg = await post(`/api/v2/write?org=${acmeTenant}&bucket=${db}`, 'm v=1 1', { authorization: `Token ${globex}` })
  assert.equal(crossOrg.status, 403)
  assert.equal(((await crossOrg.json()) as { code: string }).code, 'forbidden')
  assert.equal((await post(`/api/v1/write?tenant=${acmeTenant}&db=${db}`, 'm v=1 1', { authorization: `Bearer ${globex}` })).status, 403)
  assert.equal((await post(`/query?q=CREATE+DATABASE+other`, '', { authorization: `Token ${writer}` })).status, 403)
})

test('every credential form writes into the token\'s tenant; the influx CLI authenticates; only allowed points land', async () => {
  assert.equal((await post(`/write?db=${db}&u=acme&p=${writer}`, 'auth,via=query v=1 1')).status, 204)
  assert.equal((await post(`/write?db=${db}`, 'auth,via=basic v=1 2', { authorization: basic('acme', writer) })).status, 204)
  assert.equal((await post(`/api/v2/write?org=${acmeTenant}&bucket=${db}`, 'auth,via=token v=1 3', { authorization: `Token ${writer}` })).status, 204)
  assert.equal((await post(`/api/v1/write?db=${db}`, 'auth,via=bearer v=1 4', { authorization: `Bearer ${writer}` })).status, 204)
  assert.equal((await post(`/write?db=${db}`, 'auth,via=globex v=1 5', { authorization: `Token ${globex}` })).status, 204, 'same database name, other tenant')

  const file = join(node.dataDir, 'auth-import.txt')
  writeFileSync(file, ['# DML', `# CONTEXT-DATABASE: ${db}`, 'auth,via=cli v=1 6', ''].join('\n'))
  const cli = await run('influx', ['-host', '127.0.0.1', '-port', String(node.port), '-username', 'acme', '-password', writer, '-import', `-path=${file}`, '-precision=s'])
  assert.equal(cli.code, 0, cli.stderr)
  assert.match(cli.stderr + cli.stdout, /Processed 1 inserts/)
  const refused = await run('influx', ['-host', '127.0.0.1', '-port', String(node.port), '-username', 'acme', '-password', 'wrong', '-import', `-path=${file}`, '-precision=s'])
  assert.notEqual(refused.code, 0, 'the CLI fails with a wrong password')

  const points = (await readIngest(broker.bootstrap)).filter(p => p.database === db)
  const byTenant = (tenant: string): string[] => points.filter(p => p.tenant === tenant).map(p => p.seriesKey).sort()
  assert.deepEqual(byTenant(acmeTenant), ['auth,via=basic', 'auth,via=bearer', 'auth,via=cli', 'auth,via=query', 'auth,via=token'])
  assert.deepEqual(byTenant(globexTenant), ['auth,via=globex'])
  assert.equal(points.length, 6, 'nothing refused was written')
})

test('a revoked token is refused without restarting the node', async () => {
  const temporary = node.createToken({ tenant: acmeTenant, databases: [db], permissions: ['write'], id: 'temporary' })
  assert.equal((await post(`/write?db=${db}`, 'rev v=1 1', { authorization: `Token ${temporary}` })).status, 204)
  const revoke = spawnSync(process.execPath, ['bin/sluice.js', 'token', 'revoke', 'temporary', '--data-dir', node.dataDir], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' })
  assert.equal(revoke.status, 0, revoke.stderr)
  let status = 0
  // The node re-reads the file at most once a second: poll, bounded, without asserting on time.
  for (let attempt = 0; attempt < 50 && status !== 401; attempt++) {
    status = (await post(`/write?db=${db}`, 'rev v=1 2', { authorization: `Token ${temporary}` })).status
    if (status !== 401) await new Promise(resolve => setTimeout(resolve, 200))
  }
  assert.equal(status, 401)
  const list = spawnSync(process.execPath, ['bin/sluice.js', 'token', 'list', '--data-dir', node.dataDir], { cwd: join(import.meta.dirname, '..'), encoding: 'utf8' })
  assert.deepEqual(list.stdout.trim().split('\n').map(line => line.split('\t')[0]), ['acme-writer', 'acme-reader', 'globex-all'])
  assert.ok(!list.stdout.includes(writer), 'secrets are never listed')
})
