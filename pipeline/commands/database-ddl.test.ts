// Database DDL parsing: CnosDB's forms, the TTL's spellings, and refusals that name the option.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { databaseCommand, isDatabaseSql, parseDatabaseSql } from './database-ddl.ts'

const DAY_NS = 86_400_000_000_000n

test('parses CREATE, ALTER, DROP and DESCRIBE DATABASE', () => {
  assert.deepEqual(parseDatabaseSql("create database if not exists weather with ttl '7d';"), { kind: 'CREATE_DATABASE', database: 'weather', ifNotExists: true, ttlNs: 7n * DAY_NS })
  assert.deepEqual(parseDatabaseSql('CREATE DATABASE my-db.v2'), { kind: 'CREATE_DATABASE', database: 'my-db.v2', ifNotExists: false, ttlNs: undefined })
  assert.deepEqual(parseDatabaseSql('CREATE DATABASE "a ""b"" c" WITH TTL = 90m'), { kind: 'CREATE_DATABASE', database: 'a "b" c', ifNotExists: false, ttlNs: 90n * 60_000_000_000n })
  assert.deepEqual(parseDatabaseSql("CREATE DATABASE w WITH TTL 'INF'"), { kind: 'CREATE_DATABASE', database: 'w', ifNotExists: false, ttlNs: null })
  assert.deepEqual(parseDatabaseSql('ALTER DATABASE w SET TTL none'), { kind: 'ALTER_DATABASE', database: 'w', ttlNs: null })
  assert.deepEqual(parseDatabaseSql("ALTER DATABASE w SET TTL '36h'"), { kind: 'ALTER_DATABASE', database: 'w', ttlNs: 36n * 3_600_000_000_000n })
  assert.deepEqual(parseDatabaseSql('DROP DATABASE IF EXISTS w'), { kind: 'DROP_DATABASE', database: 'w', ifExists: true })
  assert.deepEqual(parseDatabaseSql('desc database w'), { kind: 'DESCRIBE_DATABASE', database: 'w' })
  assert.equal(isDatabaseSql('  Drop  Database x'), true)
  assert.equal(isDatabaseSql('DROP TABLE x'), false)
})

test('refuses options Sluice does not take, naming them', () => {
  const fails = (sql: string, code: string, message: RegExp): void => {
    assert.throws(() => parseDatabaseSql(sql), (error: { code?: string; message: string }) => error.code === code && message.test(error.message), sql)
  }
  fails("CREATE DATABASE w WITH TTL '7d', SHARD 4", 'unsupported', /^database option SHARD is not supported: /)
  fails("CREATE DATABASE w WITH TTL '7d' COLOUR 'red'", 'syntax', /^unknown database option COLOUR \(Sluice takes TTL\) at offset 32/)
  fails("CREATE DATABASE w WITH TTL '7 days'", 'syntax', /^TTL '7 days': /)
  fails('ALTER DATABASE w SET TTL 0s', 'syntax', /a time to live must be longer than 0/)
  fails('DROP DATABASE IF w', 'syntax', /expected EXISTS after IF/)
  fails('DESCRIBE DATABASE w extra', 'syntax', /unexpected text after the statement/)
})

test('a TTL change and a DROP become commands over the whole database', () => {
  const context = { tenant: 't', database: 'w', nowNs: 5n, commandId: 'c' }
  assert.deepEqual(databaseCommand(context, { kind: 'SET_DATABASE_TTL', ttlNs: DAY_NS }), {
    commandId: 'c', tenant: 't', database: 'w', measurement: '', kind: 'SET_DATABASE_TTL', where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null },
    set: [], issuedAtNs: 5n, expressions: null, codecs: null, ttlNs: DAY_NS, columns: null,
  })
  const drop = databaseCommand(context, { kind: 'DROP_FIELDS', measurement: 'm', columns: ['f'] })
  assert.deepEqual([drop.kind, drop.measurement, drop.columns, drop.ttlNs], ['DROP_FIELDS', 'm', ['f'], null])
})
