// POST /api/v1/sql for codec DDL and expression UPDATEs, in-process: CREATE TABLE declares field
// types in the catalog (a later write of another type is refused) and sends its codecs as one
// SET_CODEC command; ALTER TABLE ... SET CODEC / ADD FIELD; errors name the part at fault.

import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import type { IngestCommand } from '../../schemas/index.ts'
import { lineProtocolLimits } from '../ingest/index.ts'
import { Authorizer } from './auth.ts'
import { WriteCatalog } from './catalog.ts'
import { MemoryControlStore } from './control-store.ts'
import { IdempotencyKeys } from './idempotency.ts'
import { httpLimits } from './limits.ts'
import { httpApi } from './plugin.ts'
import { TokenDirectory } from './tokens.ts'

async function setup(): Promise<{ app: FastifyInstance; commands: IngestCommand[] }> {
  const store = new MemoryControlStore()
  await store.createDatabase('default', 'plant')
  const limits = httpLimits()
  const commands: IngestCommand[] = []
  const app = Fastify()
  await app.register(httpApi, {
    sink: { write: async () => {}, close: async () => {} },
    catalog: new WriteCatalog(store, { autoCreateDatabases: false }),
    authorizer: new Authorizer({ enabled: false, defaultTenant: 'default', tokens: new TokenDirectory(join(mkdtempSync(join(tmpdir(), 'sluice-sql-ddl-')), 'tokens.json')) }),
    idempotency: new IdempotencyKeys(store, limits),
    ingestPartitions: 2,
    ingestSchemaId: 1,
    commands: { submit: async command => { commands.push(command); return [{ partition: 0, offset: '5' }, { partition: 1, offset: '7' }] } },
    limits,
    lineProtocolLimits: lineProtocolLimits(),
    sluiceVersion: '0.1.0-test',
    nodeId: 'node-t',
    nowNs: () => 42n,
  })
  return { app, commands }
}

async function sql(app: FastifyInstance, statement: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/sql?db=plant', payload: statement })
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown> }
}

describe('POST /api/v1/sql codec DDL', () => {
  it('CREATE TABLE declares types and tags, and sends the codecs as one SET_CODEC command', async () => {
    const { app, commands } = await setup()
    const created = await sql(app, 'CREATE TABLE boiler (f1 DOUBLE CODEC(SDT(0.5, 1s, 10m)), f2 BIGINT CODEC(deadband(2)), f3 STRING, n BIGINT UNSIGNED, TAGS(host, region));')
    assert.equal(created.status, 200, JSON.stringify(created.body))
    assert.deepEqual(created.body.positions, [{ partition: 0, offset: '5' }, { partition: 1, offset: '7' }])
    assert.equal(created.body.kind, 'CREATE_TABLE')
    assert.equal(commands.length, 1)
    assert.deepEqual({ ...commands[0]!, commandId: 'x' }, {
      commandId: 'x', tenant: 'default', database: 'plant', measurement: 'boiler', kind: 'SET_CODEC',
      where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null }, set: [], issuedAtNs: 42n, expressions: null,
      codecs: [{ field: 'f1', fieldType: 'float', codec: 'CODEC(SDT(0.5, 1s, 10m))' }, { field: 'f2', fieldType: 'integer', codec: 'CODEC(DEADBAND(2))' }],
    })
    // The declared type wins over a later write of another type.
    const write = await app.inject({ method: 'POST', url: '/api/v1/write?db=plant', payload: 'boiler,host=a f1="text" 1' })
    assert.equal(write.statusCode, 400, write.body)
    assert.match(write.body, /f1.*float|type conflict/)
    // The same table again is fine; another type for a field is refused naming it.
    assert.equal((await sql(app, 'CREATE TABLE IF NOT EXISTS boiler (f1 DOUBLE, TAGS(host))')).status, 200)
    const conflict = await sql(app, 'CREATE TABLE boiler (f1 BIGINT)')
    assert.equal(conflict.status, 400)
    assert.match(String(conflict.body.error_message), /field "f1" of table "boiler" is already float, not integer/)
    assert.equal(commands.length, 1, 'no codec, no command')
  })

  it('ALTER TABLE ... SET CODEC and ADD FIELD; DEFAULT is off', async () => {
    const { app, commands } = await setup()
    await sql(app, 'CREATE TABLE m (temp DOUBLE, state STRING, TAGS(host))')
    const altered = await sql(app, 'alter table m alter temp set codec(DEADBAND(5%, 0, 1m))')
    assert.equal(altered.status, 200, JSON.stringify(altered.body))
    assert.deepEqual(commands.at(-1)!.codecs, [{ field: 'temp', fieldType: 'float', codec: 'CODEC(DEADBAND(5%, 0, 1m))' }])
    assert.equal((await sql(app, 'ALTER TABLE m ALTER COLUMN state SET CODEC(DEFAULT)')).status, 200)
    assert.deepEqual(commands.at(-1)!.codecs, [{ field: 'state', fieldType: 'string', codec: 'CODEC(DEFAULT)' }])
    const added = await sql(app, 'ALTER TABLE m ADD FIELD level BIGINT CODEC(SDT(2))')
    assert.equal(added.status, 200, JSON.stringify(added.body))
    assert.deepEqual(commands.at(-1)!.codecs, [{ field: 'level', fieldType: 'integer', codec: 'CODEC(SDT(2))' }])
    assert.equal((await sql(app, 'ALTER TABLE m ALTER level SET CODEC(SDT(1))')).status, 200, 'an added field is known at once')
  })

  it('refuses bad statements with the part at fault', async () => {
    const { app, commands } = await setup()
    await sql(app, 'CREATE TABLE m (temp DOUBLE, state STRING, TAGS(host))')
    const cases: Array<[string, number, RegExp]> = [
      ['CREATE TABLE m2 (a DOUBLE CODEC(SDT(0.5, 10)))', 400, /field "a": duration "10" needs a unit \(ns, us, ms, s, m, h or d\) at offset 41 \("10\)\)\)"\)$/],
      ['CREATE TABLE m2 (a DECIMAL)', 400, /field "a": expected a type .* at offset 19/],
      ['CREATE TABLE m2 (a DOUBLE, a BIGINT)', 400, /column "a" is declared twice \(first at offset 17\) at offset 27/],
      ['CREATE TABLE m2 (a DOUBLE b BIGINT)', 400, /to close the column list .* at offset 26/],
      ['CREATE TABLE m2 (time DOUBLE)', 400, /"time" is the time column/],
      ['CREATE TABLE m2 (s STRING CODEC(SDT(1)))', 422, /field "s" is string: CODEC\(SDT\(1\)\) compresses numbers only/],
      ['ALTER TABLE m ALTER host SET CODEC(SDT(1))', 422, /"host" of table "m" is a tag/],
      ['ALTER TABLE m ALTER nope SET CODEC(SDT(1))', 404, /field "nope" not found in table "m"/],
      ['ALTER TABLE nope ALTER f SET CODEC(SDT(1))', 404, /table "nope" not found/],
      ['ALTER TABLE m DROP temp', 400, /expected ALTER <field> SET CODEC/],
      ['ALTER TABLE m ALTER temp SET CODEC(SDT(1)) extra', 400, /unexpected text after the statement at offset 43/],
      ['ALTER TABLE m ADD FIELD temp BIGINT', 400, /already float, not integer/],
    ]
    for (const [statement, status, message] of cases) {
      const answer = await sql(app, statement)
      assert.equal(answer.status, status, `${statement}: ${JSON.stringify(answer.body)}`)
      assert.match(String(answer.body.error_message), message, statement)
    }
    assert.equal(commands.length, 0)
  })

  it('an UPDATE with an expression becomes UPDATE_EXPRESSIONS with canonical text', async () => {
    const { app, commands } = await setup()
    await sql(app, 'CREATE TABLE m (temp DOUBLE, n BIGINT, TAGS(host))')
    const updated = await sql(app, "UPDATE m SET temp = temp * 1.8 + 32, n = n / 2 WHERE host = 'a'")
    assert.equal(updated.status, 200, JSON.stringify(updated.body))
    assert.equal(updated.body.kind, 'UPDATE_EXPRESSIONS')
    assert.deepEqual(commands.at(-1)!.expressions, [{ name: 'temp', type: 'float', expression: '(("temp" * 1.8) + 32)' }, { name: 'n', type: 'integer', expression: '("n" / 2)' }])
    const refused = await sql(app, 'UPDATE m SET n = n * 1.5 WHERE true')
    assert.equal(refused.status, 422)
    assert.match(String(refused.body.error_message), /field "n" = n \* 1\.5: 1\.5 is not an integer/)
  })
})
