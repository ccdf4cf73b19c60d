// POST /api/v1/sql for table and database DDL and expression UPDATEs, in-process: CREATE TABLE
// declares field types in the catalog (a later write of another type is refused) and sends its
// codecs as one SET_CODEC command; ALTER TABLE ... SET CODEC / ADD FIELD / ADD TAG / DROP; DROP
// TABLE; CREATE / ALTER / DROP / DESCRIBE DATABASE with TTL; errors name the part at fault.

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

async function setup(store = new MemoryControlStore()): Promise<{ app: FastifyInstance; commands: IngestCommand[] }> {
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

async function sql(app: FastifyInstance, statement: string, database = 'plant'): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await app.inject({ method: 'POST', url: `/api/v1/sql?db=${database}`, payload: statement })
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
      ['ALTER TABLE m RENAME COLUMN temp TO t', 422, /RENAME COLUMN is not supported/],
      ['ALTER TABLE m DROP host', 422, /"host" of table "m" is a tag: dropping a tag is not supported/],
      ['ALTER TABLE m DROP nope', 404, /field "nope" not found in table "m"/],
      ['ALTER TABLE m ADD TAG temp', 422, /"temp" of table "m" is a field, not a tag/],
      ['ALTER TABLE m REMOVE temp', 400, /expected ALTER <field> SET CODEC\(\.\.\.\), ADD FIELD <field> <type>, ADD TAG <tag> or DROP <field> at offset 14/],
      ['DROP TABLE nope', 404, /table "nope" not found/],
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

async function write(app: FastifyInstance, body: string, database = 'plant'): Promise<{ status: number; body: string }> {
  const response = await app.inject({ method: 'POST', url: `/api/v1/write?db=${database}`, payload: body })
  return { status: response.statusCode, body: response.body }
}

describe('POST /api/v1/sql table DDL: ADD TAG, DROP <field>, DROP TABLE', () => {
  it('ADD TAG declares a tag; DROP <field> sends DROP_FIELDS and forgets the type; DROP TABLE sends DROP_TABLE and forgets the table', async () => {
    const { app, commands } = await setup()
    assert.equal((await write(app, 'm,host=a temp=1.5,state="on" 1')).status, 204)
    assert.equal((await sql(app, 'ALTER TABLE m ADD TAG region')).status, 200)
    assert.equal((await sql(app, "DELETE FROM m WHERE region = 'x'")).status, 200, 'region is known as a tag')
    commands.length = 0
    const dropped = await sql(app, 'ALTER TABLE m DROP temp')
    assert.equal(dropped.status, 200, JSON.stringify(dropped.body))
    assert.deepEqual({ kind: commands[0]!.kind, measurement: commands[0]!.measurement, columns: commands[0]!.columns }, { kind: 'DROP_FIELDS', measurement: 'm', columns: ['temp'] })
    assert.deepEqual(dropped.body.positions, [{ partition: 0, offset: '5' }, { partition: 1, offset: '7' }])
    assert.equal((await write(app, 'm,host=a temp="now a string" 2')).status, 204, 'the type was forgotten')
    const table = await sql(app, 'DROP TABLE m')
    assert.equal(table.status, 200, JSON.stringify(table.body))
    assert.deepEqual({ kind: commands[1]!.kind, measurement: commands[1]!.measurement }, { kind: 'DROP_TABLE', measurement: 'm' })
    assert.equal((await sql(app, 'DROP TABLE m')).status, 404)
    assert.deepEqual((await sql(app, 'DROP TABLE IF EXISTS m')).body.dropped, false)
    assert.equal(commands.length, 2)
    assert.equal((await write(app, 'm,host=a state=1i 3')).status, 204, 'every type of the table was forgotten')
  })
})

describe('POST /api/v1/sql database DDL', () => {
  it('CREATE DATABASE WITH TTL sends SET_DATABASE_TTL and records it; ALTER DATABASE changes it; DESCRIBE DATABASE shows it', async () => {
    const { app, commands } = await setup()
    const created = await sql(app, "CREATE DATABASE weather WITH TTL '7d'")
    assert.equal(created.status, 200, JSON.stringify(created.body))
    assert.deepEqual({ kind: commands[0]!.kind, database: commands[0]!.database, measurement: commands[0]!.measurement, ttlNs: commands[0]!.ttlNs }, { kind: 'SET_DATABASE_TTL', database: 'weather', measurement: '', ttlNs: 604_800_000_000_000n })
    assert.deepEqual((await sql(app, 'DESCRIBE DATABASE weather')).body, { database: 'weather', ttl: '7d', ttl_ns: '604800000000000' })
    assert.equal((await sql(app, "CREATE DATABASE IF NOT EXISTS weather WITH TTL '1d'")).body.created, false)
    assert.equal((await sql(app, 'CREATE DATABASE weather')).status, 200, 'CREATE DATABASE without options is idempotent')
    assert.equal(commands.length, 1, 'nothing changed, no command')
    const conflict = await sql(app, "CREATE DATABASE weather WITH TTL '1d'")
    assert.equal(conflict.status, 422)
    assert.match(String(conflict.body.error_message), /exists with TTL 7d; change it with ALTER DATABASE weather SET TTL/)
    assert.equal((await sql(app, "alter database weather set ttl '36h'")).status, 200)
    assert.equal(commands.at(-1)!.ttlNs, 129_600_000_000_000n)
    assert.equal((await sql(app, 'DESC DATABASE weather')).body.ttl, '36h')
    assert.equal((await sql(app, 'ALTER DATABASE weather SET TTL INF')).status, 200)
    assert.equal(commands.at(-1)!.ttlNs, null)
    assert.deepEqual((await sql(app, 'DESCRIBE DATABASE weather')).body, { database: 'weather', ttl: 'INF', ttl_ns: null })
    assert.equal((await sql(app, 'CREATE DATABASE "my db"')).status, 200)
    assert.equal((await sql(app, 'DESCRIBE DATABASE "my db"')).body.ttl, 'INF')
  })

  it('DROP DATABASE sends DROP_DATABASE and the catalog forgets it on every node; a write then recreates it with new types', async () => {
    const shared = new MemoryControlStore()
    const first = await setup(shared)
    const second = await setup(shared)
    assert.equal((await write(first.app, 'air,station=a temperature=20.5 1')).status, 204)
    assert.equal((await write(second.app, 'air,station=a temperature=21.5 2')).status, 204, 'the second node caches the type too')
    const dropped = await sql(first.app, 'DROP DATABASE plant')
    assert.equal(dropped.status, 200, JSON.stringify(dropped.body))
    assert.equal(first.commands[0]!.kind, 'DROP_DATABASE')
    assert.equal(dropped.body.command_id, first.commands[0]!.commandId)
    assert.equal((await sql(second.app, 'DESCRIBE DATABASE plant')).status, 404)
    assert.equal((await sql(second.app, 'DROP DATABASE plant')).status, 404)
    assert.deepEqual((await sql(second.app, 'DROP DATABASE IF EXISTS plant')).body, { command_id: null, kind: 'DROP_DATABASE', database: 'plant', dropped: false, positions: [] })
    assert.equal(first.commands.length + second.commands.length, 1)
    // These nodes do not create databases on a first write: the second node sees the DROP at once.
    const refused = await write(second.app, 'air,station=a temperature=1i 3')
    assert.equal(refused.status, 404, refused.body)
    assert.equal((await sql(second.app, 'CREATE DATABASE plant')).status, 200)
    assert.equal((await write(second.app, 'air,station=a temperature="warm" 3')).status, 204, 'the old type is forgotten on the node that cached it')
    assert.equal((await write(first.app, 'air,station=a temperature=2.5 4')).status, 400, 'and the new one holds on every node')
  })

  it('refuses bad options and durations with the option named', async () => {
    const { app, commands } = await setup()
    const cases: Array<[string, number, RegExp]> = [
      ["CREATE DATABASE w WITH TTL '10'", 400, /TTL '10': duration "10" needs a unit \(ns, us, ms, s, m, h or d\) at offset 27/],
      ["CREATE DATABASE w WITH TTL 'ten days'", 400, /TTL 'ten days': expected a duration/],
      ["CREATE DATABASE w WITH TTL '0s'", 400, /TTL '0s': a time to live must be longer than 0/],
      ['CREATE DATABASE w WITH TTL', 400, /TTL: expected a duration such as '7d', or INF/],
      ["CREATE DATABASE w WITH SHARD 6 TTL '7d'", 422, /database option SHARD is not supported: .*partitions of sluice\.ingest/],
      ["CREATE DATABASE w WITH VNODE_DURATION '1d'", 422, /database option VNODE_DURATION is not supported/],
      ['CREATE DATABASE w WITH REPLICA 3', 422, /database option REPLICA is not supported: every node/],
      ["CREATE DATABASE w WITH PRECISION 'ms'", 422, /database option PRECISION is not supported/],
      ["CREATE DATABASE w WITH COLOUR 'red'", 400, /unknown database option COLOUR \(Sluice takes TTL\) at offset 23/],
      ["ALTER DATABASE plant SET REPLICA 2", 422, /database option REPLICA is not supported/],
      ["ALTER DATABASE plant TTL '1d'", 400, /expected SET after ALTER DATABASE plant/],
      ["ALTER DATABASE nope SET TTL '1d'", 404, /database not found: "nope"/],
      ["DROP DATABASE plant AFTER '3d'", 422, /DROP DATABASE \.\.\. AFTER is not supported/],
      ['DESCRIBE DATABASE nope', 404, /database not found: "nope"/],
    ]
    for (const [statement, status, message] of cases) {
      const answer = await sql(app, statement)
      assert.equal(answer.status, status, `${statement}: ${JSON.stringify(answer.body)}`)
      assert.match(String(answer.body.error_message), message, statement)
    }
    assert.equal(commands.length, 0)
    assert.equal((await sql(app, 'DESCRIBE DATABASE w')).status, 404, 'nothing was created')
  })
})
