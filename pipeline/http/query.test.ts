// /query: the statement parser of a node without an InfluxQL function (what Telegraf and the influx
// CLI send, and what is refused), and the route with one (parameters, errors, permissions).

import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { lineProtocolLimits } from '../ingest/index.ts'
import { Authorizer } from './auth.ts'
import { WriteCatalog } from './catalog.ts'
import { MemoryControlStore } from './control-store.ts'
import { IdempotencyKeys } from './idempotency.ts'
import { httpLimits } from './limits.ts'
import { httpApi } from './plugin.ts'
import { parseStatements, type InfluxqlFunction, type InfluxqlRequest } from './query.ts'
import { createToken, TokenDirectory } from './tokens.ts'

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

describe('/query with an InfluxQL function', () => {
  const setup = async (auth: boolean): Promise<{ app: FastifyInstance; store: MemoryControlStore; calls: Array<{ q: string; request: InfluxqlRequest }>; reader: string; writer: string }> => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-influxql-route-'))
    const tokensFile = join(dir, 'tokens.json')
    const reader = createToken(tokensFile, { tenant: 'acme', permissions: ['read'], databases: ['metrics'] }).secret
    const writer = createToken(tokensFile, { tenant: 'acme', permissions: ['read', 'write'], databases: ['*'] }).secret
    const store = new MemoryControlStore()
    const limits = httpLimits()
    const calls: Array<{ q: string; request: InfluxqlRequest }> = []
    // Stands in for query/influxql: runs the route's callbacks the statements name and reports them.
    const influxql: InfluxqlFunction = async (q, request) => {
      calls.push({ q, request })
      if (q === 'bad') throw Object.assign(new Error('error parsing query: found bad, expected SELECT at line 1, char 1'), { code: 'SLUICE_ERR_QUERY_SYNTAX' })
      if (q.startsWith('create ')) await request.createDatabase(q.slice(7))
      if (q.startsWith('read ')) request.authorizeRead(q.slice(5))
      if (q.startsWith('has ')) return JSON.stringify({ has: await request.hasDatabase(q.slice(4)) })
      return JSON.stringify({ results: [{ statement_id: 0, databases: await request.databases() }] })
    }
    const app = Fastify()
    await app.register(httpApi, {
      sink: { write: async () => {}, close: async () => {} },
      catalog: new WriteCatalog(store, { autoCreateDatabases: true }),
      authorizer: new Authorizer({ enabled: auth, defaultTenant: 'default', tokens: new TokenDirectory(tokensFile) }),
      idempotency: new IdempotencyKeys(store, limits), ingestPartitions: 1, ingestSchemaId: 1, limits,
      lineProtocolLimits: lineProtocolLimits(), sluiceVersion: '0.1.0-test', nodeId: 'node-t', influxql,
    })
    return { app, store, calls, reader, writer }
  }

  it('hands q, db and epoch from the query string or a form body to the function and sends its JSON', async () => {
    const { app, calls } = await setup(false)
    const get = await app.inject({ method: 'GET', url: `/query?db=metrics&epoch=ms&q=${encodeURIComponent('SELECT 1')}` })
    assert.equal(get.statusCode, 200)
    assert.match(get.headers['content-type'] as string, /^application\/json/)
    assert.deepEqual(JSON.parse(get.body), { results: [{ statement_id: 0, databases: [] }] })
    const post = await app.inject({ method: 'POST', url: '/query', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'db=other&q=SHOW+MEASUREMENTS' })
    assert.equal(post.statusCode, 200)
    assert.deepEqual(calls.map(({ q, request }) => [q, request.tenant, request.database, request.epoch]), [
      ['SELECT 1', 'default', 'metrics', 'ms'], ['SHOW MEASUREMENTS', 'default', 'other', null],
    ])
  })

  it('answers a refused query 400 with InfluxDB\'s error body and the query code', async () => {
    const { app } = await setup(false)
    const response = await app.inject({ method: 'GET', url: '/query?db=metrics&q=bad' })
    assert.equal(response.statusCode, 400)
    assert.deepEqual(JSON.parse(response.body), { error: 'error parsing query: found bad, expected SELECT at line 1, char 1' })
    assert.equal(response.headers['x-sluice-query-error-code'], 'SLUICE_ERR_QUERY_SYNTAX')
    assert.equal(response.headers['x-influxdb-error'], 'error parsing query: found bad, expected SELECT at line 1, char 1')
  })

  it('checks credentials, read permission per database and write permission for CREATE DATABASE', async () => {
    const { app, reader, writer } = await setup(true)
    const query = (q: string, token?: string): Promise<{ statusCode: number; body: string }> =>
      app.inject({ method: 'GET', url: `/query?db=metrics&q=${encodeURIComponent(q)}${token ? `&u=x&p=${token}` : ''}` })
    assert.equal((await query('read metrics')).statusCode, 401)
    assert.equal((await query('read metrics', reader)).statusCode, 200)
    assert.equal((await query('read other', reader)).statusCode, 403)
    assert.equal((await query('create fresh', reader)).statusCode, 403)
    assert.equal((await query('create fresh', writer)).statusCode, 200)
    assert.deepEqual(JSON.parse((await query('list', reader)).body), { results: [{ statement_id: 0, databases: [] }] })
    assert.deepEqual(JSON.parse((await query('list', writer)).body), { results: [{ statement_id: 0, databases: ['fresh'] }] })
    assert.deepEqual(JSON.parse((await query('has fresh', writer)).body), { has: true })
    assert.deepEqual(JSON.parse((await query('has fresh', reader)).body), { has: false }) // exists, but not the reader's
  })

  it('tells whether a database exists: one created on another node at once, one never created never', async () => {
    const { app, store } = await setup(false)
    const has = async (name: string): Promise<boolean> => (JSON.parse((await app.inject({ method: 'GET', url: `/query?q=${encodeURIComponent(`has ${name}`)}` })).body) as { has: boolean }).has
    assert.equal(await has('metrics'), false)
    await store.createDatabase('default', 'metrics') // as another node's CREATE DATABASE or first write would
    assert.equal(await has('metrics'), true)
    assert.equal(await has('metrics'), true)
    assert.equal(await has('other'), false)
    assert.equal((await app.inject({ method: 'GET', url: `/query?q=${encodeURIComponent('create other')}` })).statusCode, 200)
    assert.equal(await has('other'), true)
  })
})
