// The /query statement parser: what Telegraf and the influx CLI send, and what is refused.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseStatements } from './query.ts'

describe('parseStatements', () => {
  it('reads CREATE DATABASE (quoted, bare, with WITH ..., any case) and SHOW DATABASES', () => {
    assert.deepEqual(parseStatements('CREATE DATABASE "telegraf"'), [{ kind: 'create-database', database: 'telegraf' }])
    assert.deepEqual(parseStatements('create database pirates\n'), [{ kind: 'create-database', database: 'pirates' }])
    assert.deepEqual(parseStatements('CREATE DATABASE "my \\"db\\"" WITH DURATION 1d REPLICATION 1; show databases;'), [
      { kind: 'create-database', database: 'my "db"' }, { kind: 'show-databases' },
    ])
  })

  it('refuses other statements, bad identifiers and empty queries with SLUICE_ERR_QUERY', () => {
    for (const q of ['SELECT * FROM cpu', 'CREATE DATABASE', 'CREATE DATABASE 1abc', "CREATE DATABASE 'x'", 'CREATE DATABASE x y', 'CREATE DATABASE "unterminated', '', ' ; ', 'SHOW DATABASES x']) {
      assert.throws(() => parseStatements(q), { code: 'SLUICE_ERR_QUERY' }, q)
    }
  })
})
