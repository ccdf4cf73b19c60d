// POST /api/v1/sql for queries, in-process: the injected query function gets the statement with
// the tenant and database, after a read permission check; its answer is rendered as JSON rows or
// CSV by Accept; query errors keep their code and get the status of their kind; no function, 501.

import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import fc from 'fast-check'
import { lineProtocolLimits } from '../ingest/index.ts'
import { Authorizer } from './auth.ts'
import { WriteCatalog } from './catalog.ts'
import { MemoryControlStore } from './control-store.ts'
import { IdempotencyKeys } from './idempotency.ts'
import { httpLimits } from './limits.ts'
import { httpApi } from './plugin.ts'
import { formatTimestamp } from '../../lib/time/rfc3339.ts'
import { renderChunks, renderJson, renderJsonBytes, renderNdjson, type QueryAnswer, type QueryFunction, type QueryValue } from './sql-result.ts'
import { createToken, TokenDirectory } from './tokens.ts'

const ANSWER: QueryAnswer = {
  columns: [{ name: 'time', type: 'timestamp' }, { name: 'host', type: 'string' }, { name: 'usage', type: 'float' }, { name: 'n', type: 'integer' }, { name: 'up', type: 'boolean' }],
  rows: [
    [1_700_000_000_000_000_000n, 'a', 1.5, 9_007_199_254_740_993n, true],
    [1_700_000_000_123_456_789n, 'b,"c"', null, -1n, false],
  ],
}

async function setup(query: QueryFunction | undefined, auth = false): Promise<{ app: FastifyInstance; reader: string; writer: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-sql-query-'))
  const tokensFile = join(dir, 'tokens.json')
  const reader = createToken(tokensFile, { tenant: 'acme', permissions: ['read'], databases: ['metrics'], id: 'reader' }).secret
  const writer = createToken(tokensFile, { tenant: 'acme', permissions: ['write'], databases: ['metrics'], id: 'writer' }).secret
  const store = new MemoryControlStore()
  const limits = httpLimits()
  const app = Fastify()
  await app.register(httpApi, {
    sink: { write: async () => {}, close: async () => {} },
    catalog: new WriteCatalog(store, { autoCreateDatabases: false }),
    authorizer: new Authorizer({ enabled: auth, defaultTenant: 'default', tokens: new TokenDirectory(tokensFile) }),
    idempotency: new IdempotencyKeys(store, limits),
    ingestPartitions: 1,
    ingestSchemaId: 1,
    limits,
    lineProtocolLimits: lineProtocolLimits(),
    sluiceVersion: '0.1.0-test',
    nodeId: 'node-t',
    ...(query ? { query } : {}),
  })
  return { app, reader, writer }
}

describe('POST /api/v1/sql queries', () => {
  it('passes statement, tenant and database; answers JSON rows with exact integers and RFC 3339 times', async () => {
    const calls: Array<[string, { tenant: string; database: string }]> = []
    const { app } = await setup(async (sql, context) => { calls.push([sql, context]); return ANSWER })
    const response = await app.inject({ method: 'POST', url: '/api/v1/sql?db=metrics', payload: 'SELECT * FROM cpu' })
    assert.equal(response.statusCode, 200, response.body)
    assert.match(String(response.headers['content-type']), /^application\/json/)
    assert.deepEqual(calls, [['SELECT * FROM cpu', { tenant: 'default', database: 'metrics' }]])
    assert.equal(response.body, '[{"time":"2023-11-14T22:13:20Z","host":"a","usage":1.5,"n":9007199254740993,"up":true},'
      + '{"time":"2023-11-14T22:13:20.123456789Z","host":"b,\\"c\\"","usage":null,"n":-1,"up":false}]')
  })

  it('takes the statement from q= when the body is empty; with neither, a 400 that says where to put it', async () => {
    const calls: string[] = []
    const { app } = await setup(async (sql) => { calls.push(sql); return ANSWER })
    const response = await app.inject({ method: 'POST', url: `/api/v1/sql?db=metrics&q=${encodeURIComponent('SELECT * FROM cpu')}` })
    assert.equal(response.statusCode, 200, response.body)
    const both = await app.inject({ method: 'POST', url: `/api/v1/sql?db=metrics&q=${encodeURIComponent('SELECT 1 FROM other')}`, payload: 'SELECT * FROM mem' })
    assert.equal(both.statusCode, 200, both.body)
    assert.deepEqual(calls, ['SELECT * FROM cpu', 'SELECT * FROM mem'], 'the body wins over q=')
    const neither = await app.inject({ method: 'POST', url: '/api/v1/sql?db=metrics' })
    assert.equal(neither.statusCode, 400)
    assert.match(neither.json().error_message, /request body or as the q parameter/)
  })

  it('answers CSV for Accept: text/csv', async () => {
    const { app } = await setup(async () => ANSWER)
    const response = await app.inject({ method: 'POST', url: '/api/v1/sql?db=metrics', payload: 'SELECT * FROM cpu', headers: { accept: 'text/csv' } })
    assert.equal(response.statusCode, 200)
    assert.match(String(response.headers['content-type']), /^text\/csv/)
    assert.equal(response.body, 'time,host,usage,n,up\n2023-11-14T22:13:20Z,a,1.5,9007199254740993,true\n2023-11-14T22:13:20.123456789Z,"b,""c""",,-1,false\n')
  })

  it('maps query errors by code: syntax 400, unknown table 404, unsupported 422, keeping the message', async () => {
    const failing = (code: string, message: string): QueryFunction => async () => { throw Object.assign(new Error(message), { name: 'QueryError', code }) }
    const cases: Array<[string, number, string]> = [
      ['SLUICE_ERR_QUERY_SYNTAX', 400, 'SLUICE_ERR_QUERY'],
      ['SLUICE_ERR_QUERY_UNKNOWN_TABLE', 404, 'SLUICE_ERR_TABLE_NOT_FOUND'],
      ['SLUICE_ERR_QUERY_UNSUPPORTED', 422, 'SLUICE_ERR_SQL_UNSUPPORTED'],
    ]
    for (const [code, status, httpCode] of cases) {
      const { app } = await setup(failing(code, `refused: ${code}`))
      const response = await app.inject({ method: 'POST', url: '/api/v1/sql?db=metrics', payload: 'SELECT 1' })
      assert.equal(response.statusCode, status, code)
      assert.deepEqual(response.json(), { error_code: httpCode, error_message: `refused: ${code}` })
      assert.equal(response.headers['x-sluice-query-error-code'], code)
    }
  })

  it('needs read permission; without a query function answers 501', async () => {
    const { app, reader, writer } = await setup(async () => ANSWER, true)
    const denied = await app.inject({ method: 'POST', url: '/api/v1/sql?db=metrics', payload: 'SELECT * FROM cpu', headers: { authorization: `Token ${writer}` } })
    assert.equal(denied.statusCode, 403, denied.body)
    const allowed = await app.inject({ method: 'POST', url: '/api/v1/sql?db=metrics', payload: 'SELECT * FROM cpu', headers: { authorization: `Token ${reader}` } })
    assert.equal(allowed.statusCode, 200, allowed.body)
    const none = await setup(undefined)
    const unimplemented = await none.app.inject({ method: 'POST', url: '/api/v1/sql?db=metrics', payload: 'SELECT * FROM cpu' })
    assert.equal(unimplemented.statusCode, 501)
  })

  it('formats times before the epoch and at whole seconds', () => {
    assert.equal(formatTimestamp(0n), '1970-01-01T00:00:00Z')
    assert.equal(formatTimestamp(-1n), '1969-12-31T23:59:59.999999999Z')
    assert.equal(formatTimestamp(1_500_000n), '1970-01-01T00:00:00.0015Z')
  })

  it('formats any time as Date does, also seconds that share a slot of its cache of recent seconds', () => {
    const reference = (timeNs: bigint): string => {
      const ms = timeNs / 1_000_000n - (timeNs % 1_000_000n < 0n ? 1n : 0n)
      const nanos = ((timeNs % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n
      const base = new Date(Number(ms)).toISOString().slice(0, 19)
      return nanos === 0n ? `${base}Z` : `${base}.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}Z`
    }
    const times: bigint[] = []
    for (let i = 0; i < 2_000; i++) {
      const seconds = BigInt(Math.floor((Math.random() - 0.3) * 4e9))
      times.push(seconds * 1_000_000_000n + (i % 3 === 0 ? 0n : BigInt(Math.floor(Math.random() * 1e9))))
    }
    // Seconds 1,024 apart land in the same slot: each must evict, never return, the other's text.
    for (let k = 0; k < 8; k++) times.push(1_700_000_000_000_000_000n + BigInt(k * 1024) * 1_000_000_000n)
    for (const timeNs of [...times, ...times.reverse()]) assert.equal(formatTimestamp(timeNs), reference(timeNs), String(timeNs))
  })

  it('renders JSON and NDJSON whole or in chunks to the same bytes, escaping as JSON.stringify does', () => {
    const rows: QueryValue[][] = [
      ['a "quoted"\nline', 1_000_000_001n, 1.5, true], ['ünï', -5n, Number.NaN, false], [null, 0n, 2, null], ['a "quoted"\nline', 1_000_000_001n, -0.25, true],
    ]
    const answer: QueryAnswer = { columns: [{ name: 'h"ost', type: 'string' }, { name: 'time', type: 'timestamp' }, { name: 'v', type: 'float' }, { name: 'ok', type: 'boolean' }], rows }
    const objects = rows.map(([host, time, v, ok]) => ({ 'h"ost': host, time: time === null ? null : formatTimestamp(time as bigint), v: Number.isFinite(v) ? v : null, ok }))
    const json = renderJson(answer)
    assert.deepEqual(JSON.parse(json), objects)
    assert.equal(json, JSON.stringify(objects))
    const joined = (format: 'json' | 'ndjson'): string => Buffer.concat([...renderChunks(answer, format, 3)].map((c) => Buffer.from(c))).toString()
    assert.equal(joined('json'), json)
    assert.equal(joined('ndjson'), renderNdjson(answer).toString())
    assert.equal(renderNdjson(answer).toString(), objects.map((o) => JSON.stringify(o)).join('\n') + '\n')
    assert.equal(renderJson({ columns: answer.columns, rows: [] }), '[]')
    assert.equal([...renderChunks({ columns: answer.columns, rows: [] }, 'json')].join(''), '[]')
  })

  it('gives every answer bytes of its own, one piece or many: a later answer never changes an earlier one', () => {
    const answerOf = (rows: number, value: string): QueryAnswer => ({ columns: [{ name: 'v', type: 'string' }], rows: Array.from({ length: rows }, () => [value]) })
    const rendered = [answerOf(1, 'a'), answerOf(300, 'b'), answerOf(1, 'c'), answerOf(300, 'd')].map((answer) => ({ answer, bytes: renderJsonBytes(answer) }))
    for (const { answer, bytes } of rendered) assert.equal(bytes.toString(), JSON.stringify(answer.rows.map(([v]) => ({ v }))))
  })

  it('renders any answer, long or short, in any Unicode, to the UTF-8 bytes of JSON.stringify', () => {
    const text = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ minLength: 4_000, maxLength: 9_000 }))
    const row = fc.tuple(fc.option(text), fc.option(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n })), fc.option(fc.double()), fc.option(fc.boolean()))
    fc.assert(fc.property(fc.array(row, { maxLength: 400 }), (rows) => {
      const answer: QueryAnswer = { columns: [{ name: 's', type: 'string' }, { name: 'time', type: 'timestamp' }, { name: 'v', type: 'float' }, { name: 'ok', type: 'boolean' }], rows }
      const objects = rows.map(([s, time, v, ok]) => ({ s, time: time === null ? null : formatTimestamp(time), v: v === null || Number.isFinite(v) ? v : null, ok }))
      const expected = Buffer.from(JSON.stringify(objects))
      assert.ok(renderJsonBytes(answer).equals(expected))
      assert.ok(Buffer.concat([...renderChunks(answer, 'json', 7)].map((c) => Buffer.from(c))).equals(expected))
    }), { numRuns: 150 })
  })
})
