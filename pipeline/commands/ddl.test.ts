import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CommandError } from './errors.ts'
import { codecCommand, isDdlSql, parseDdl } from './ddl.ts'

test('CREATE TABLE in CnosDB form: types, codecs, TAGS anywhere in the list, quoted names, IF NOT EXISTS', () => {
  const statement = parseDdl('create table if not exists "my ""m""" (TAGS(host, "re gion"), f1 DOUBLE CODEC(SDT(0.5, 1s, 10m)), f2 bigint unsigned codec ( deadband(5%) ), f3 STRING, f4 BOOL);')
  assert.equal(statement.kind, 'CREATE_TABLE')
  if (statement.kind !== 'CREATE_TABLE') return
  assert.equal(statement.measurement, 'my "m"')
  assert.equal(statement.ifNotExists, true)
  assert.deepEqual(statement.tags, ['host', 're gion'])
  assert.deepEqual(statement.fields.map(f => [f.name, f.type, f.codec]), [
    ['f1', 'float', { algorithm: 'sdt', deviation: 0.5, minIntervalNs: 1_000_000_000n, maxIntervalNs: 600_000_000_000n }],
    ['f2', 'unsigned', { algorithm: 'deadband', band: 0.05, relative: true }],
    ['f3', 'string', undefined],
    ['f4', 'boolean', undefined],
  ])
  assert.ok(isDdlSql('  ALTER TABLE m ADD FIELD f DOUBLE') && isDdlSql('CREATE\nTABLE x (a DOUBLE)') && !isDdlSql('CREATE DATABASE x'))
})

test('ALTER TABLE: SET CODEC (COLUMN optional) and ADD FIELD', () => {
  assert.deepEqual(parseDdl('ALTER TABLE m ALTER COLUMN f SET CODEC(DEFAULT)'), { kind: 'SET_CODEC', measurement: 'm', fields: [{ name: 'f', codec: { algorithm: 'off' }, at: 27 }] })
  assert.deepEqual(parseDdl('ALTER TABLE m ADD FIELD g BIGINT'), { kind: 'ADD_FIELD', measurement: 'm', fields: [{ name: 'g', type: 'integer', at: 24 }] })
})

test('errors name the offset in the statement', () => {
  const fails = (sql: string, message: RegExp): void => {
    assert.throws(() => parseDdl(sql), (error: unknown) => error instanceof CommandError && error.code === 'syntax' && message.test(error.message), sql)
  }
  fails('CREATE TABLE m (a DOUBLE CODEC(SDT(0)))', /field "a": the deviation must be a finite number > 0, got 0 at offset 35/)
  fails('CREATE TABLE m (a DOUBLE CODEC(SDT(1)), TAGS(h), TAGS(k))', /TAGS\(\.\.\.\) appears twice at offset 49/)
  fails('CREATE TABLE m (TAGS(h))', /at least one field/)
  fails('CREATE TABLE m (a DOUBLE CODEC(SDT(1)', /unclosed CODEC\( of field "a" at offset 25/)
  fails('CREATE TABLE (a DOUBLE)', /expected a table name at offset 13/)
  fails('ALTER TABLE m ALTER f CODEC(SDT(1))', /expected SET after ALTER f .* at offset 22/)
  fails('ALTER TABLE m ADD COLUMN t', /expected FIELD or TAG after ADD .* at offset 18/)
  fails('DROP TABLE IF m', /expected EXISTS after IF at offset 14/)
  fails('CREATE TABLE "m (a DOUBLE)', /unterminated quoted table name at offset 13/)
})

test('codecCommand: canonical CODEC text per field, or none', () => {
  const command = codecCommand({ tenant: 't', database: 'd', nowNs: 5n, commandId: 'c' }, 'm', [{ name: 'f', type: 'float', codec: { algorithm: 'deadband', band: 0.05, relative: true, maxIntervalNs: 60_000_000_000n } }])
  assert.deepEqual(command?.codecs, [{ field: 'f', fieldType: 'float', codec: 'CODEC(DEADBAND(5%, 0, 1m))' }])
  assert.equal(command?.kind, 'SET_CODEC')
  assert.equal(codecCommand({ tenant: 't', database: 'd', nowNs: 5n }, 'm', []), null)
})
