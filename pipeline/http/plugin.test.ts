// The HTTP API in-process (fastify inject) with an in-memory control store and a record sink that
// keeps what it was given: routing, parameters, auth, status mapping per dialect, partial writes,
// Idempotency-Key, gzip and size limits, /query, /ping and /health.

import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { after, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { decodeIngestRecord, unframe, type IngestBatch } from '../../schemas/index.ts'
import { lineProtocolLimits, type IngestRecordOut } from '../ingest/index.ts'
import { Authorizer } from './auth.ts'
import { WriteCatalog } from './catalog.ts'
import { MemoryControlStore } from './control-store.ts'
import { HttpApiError, HttpErrorCode } from './errors.ts'
import { IdempotencyKeys } from './idempotency.ts'
import type { PartitionSection, RecordSectionFormat, RecordSink } from './kafka-writer.ts'
import { createRequire } from 'node:module'
import { registerLz4Codec } from '../../lib/kafka/lz4-codec.ts'
import { frameRecordBatch, RecordBatchCodec } from '../../lib/kafka/record-batch.ts'
import { httpLimits, type HttpLimits } from './limits.ts'
import { ParsePool } from './parse-pool.ts'
import { httpApi } from './plugin.ts'
import { createToken, TokenDirectory } from './tokens.ts'

const require = createRequire(import.meta.url)
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{ records: Array<{ key: Buffer; value: Buffer; headers: Record<string, Buffer> }> }>
const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown

/** Sections as the Kafka writer would send them, read back with kafkajs: the records and the write's headers. */
async function recordsOfSections(sections: readonly PartitionSection[]): Promise<{ records: IngestRecordOut[]; headers: Record<string, string> | undefined }> {
  registerLz4Codec()
  const records: IngestRecordOut[] = []
  let headers: Record<string, string> | undefined
  for (const { partition, section } of sections) {
    const batch = await decodeBatch(new KafkajsDecoder(frameRecordBatch(section, { producerId: 1n, producerEpoch: 0, baseSequence: 0, transactional: true, timestampMs: 0 })))
    for (const record of batch.records) {
      records.push({ partition, key: record.key, value: record.value })
      const own = Object.entries(record.headers).map(([key, value]) => [key, value.toString()] as const)
      headers = own.length === 0 ? undefined : Object.fromEntries(own)
    }
  }
  return { records, headers }
}

class MemorySink implements RecordSink {
  readonly records: IngestRecordOut[] = []
  /** With parse workers, the sink takes LZ4 sections (headers: none of its own), as the node's Kafka writer does. */
  readonly sectionFormat: RecordSectionFormat | undefined = process.env.SLUICE_TEST_PARSE_WORKERS === '1' ? { codec: RecordBatchCodec.LZ4, maxSectionRecordBytes: 900_000, headers: {} } : undefined
  readonly writeSections = this.sectionFormat === undefined ? undefined : async (sections: readonly PartitionSection[], deadlineMs: number): Promise<void> => {
    const { records, headers } = await recordsOfSections(sections)
    return this.write(records, deadlineMs, headers)
  }
  readonly headers: Array<Readonly<Record<string, string>> | undefined> = []
  failing = false
  writes = 0
  /** While set, writes wait for it. */
  gate: Promise<void> | undefined

  async write(records: readonly IngestRecordOut[], _deadlineMs: number, headers?: Readonly<Record<string, string>>): Promise<void> {
    this.writes++
    this.headers.push(headers)
    if (this.gate) await this.gate
    if (this.failing) throw new HttpApiError(HttpErrorCode.KAFKA_UNAVAILABLE, 'Kafka is down; nothing was written')
    this.records.push(...records)
  }

  async close(): Promise<void> {}

  points(): Array<IngestBatch['points'][number] & { seriesKey: string; tenant: string; database: string }> {
    return this.records.flatMap(record => {
      const batch = decodeIngestRecord(unframe(record.value).payload).batch!
      return batch.points.map(point => ({ ...point, seriesKey: batch.seriesKey, tenant: batch.tenant, database: batch.database }))
    })
  }
}

// plugin.parse-workers.test.ts runs this file again with bodies parsed on a worker pool.
const parsePool = process.env.SLUICE_TEST_PARSE_WORKERS === '1' ? new ParsePool({ size: 2 }) : undefined
await parsePool?.ready()
after(() => parsePool?.close())

interface Setup {
  app: FastifyInstance
  sink: MemorySink
  store: MemoryControlStore
  tokens: { writer: string; reader: string; other: string }
}

async function setup(options: { auth?: boolean; autoCreateDatabases?: boolean; limits?: Partial<HttpLimits>; parsePool?: ParsePool } = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-http-'))
  const tokensFile = join(dir, 'tokens.json')
  const writer = createToken(tokensFile, { tenant: 'acme', permissions: ['write'], databases: ['metrics'], id: 'writer' }).secret
  const reader = createToken(tokensFile, { tenant: 'acme', permissions: ['read'], databases: ['*'], id: 'reader' }).secret
  const other = createToken(tokensFile, { tenant: 'globex', permissions: ['read', 'write'], databases: ['*'], id: 'other' }).secret
  const store = new MemoryControlStore()
  const sink = new MemorySink()
  const limits = httpLimits({ writeTimeoutMs: 2_000, ...options.limits })
  const app = Fastify()
  await app.register(httpApi, {
    sink,
    catalog: new WriteCatalog(store, { autoCreateDatabases: options.autoCreateDatabases ?? true }),
    authorizer: new Authorizer({ enabled: options.auth ?? false, defaultTenant: 'default', tokens: new TokenDirectory(tokensFile) }),
    idempotency: new IdempotencyKeys(store, limits),
    ingestPartitions: 4,
    ingestSchemaId: 1,
    limits,
    lineProtocolLimits: lineProtocolLimits(),
    sluiceVersion: '0.1.0-test',
    nodeId: 'node-t',
    nowNs: () => 1_000_000_000_000_000_000n,
    ...(options.parsePool ?? parsePool ? { parsePool: options.parsePool ?? parsePool } : {}),
  })
  return { app, sink, store, tokens: { writer, reader, other } }
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

describe('write endpoints', () => {
  it('/write: 204 after the sink has every point, in the default tenant, nanosecond timestamps', async () => {
    const { app, sink } = await setup()
    const response = await app.inject({ method: 'POST', url: '/write?db=metrics', payload: 'cpu,host=a v=1 10\ncpu,host=b v=2,n=2i 20\nmem free=3u' })
    assert.equal(response.statusCode, 204)
    assert.equal(response.headers['x-influxdb-version'], '1.8.10')
    const points = sink.points()
    assert.deepEqual(points.map(p => [p.tenant, p.database, p.seriesKey, p.timeNs]), [
      ['default', 'metrics', 'cpu,host=a', 10n], ['default', 'metrics', 'cpu,host=b', 20n], ['default', 'metrics', 'mem', 1_000_000_000_000_000_000n],
    ])
  })

  it('applies precision per dialect and refuses unknown precisions with 400', async () => {
    const { app, sink } = await setup()
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=d&precision=s', payload: 'm v=1 5' })).statusCode, 204)
    assert.equal((await app.inject({ method: 'POST', url: '/api/v2/write?bucket=d&precision=ms', payload: 'm v=1 5' })).statusCode, 204)
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/write?db=d&precision=us', payload: 'm v=1 5' })).statusCode, 204)
    assert.deepEqual(sink.points().map(p => p.timeNs), [5_000_000_000n, 5_000_000n, 5_000n])
    const v1 = await app.inject({ method: 'POST', url: '/write?db=d&precision=xx', payload: 'm v=1' })
    assert.equal(v1.statusCode, 400)
    assert.match(v1.json().error, /invalid precision "xx"/)
    const v2 = await app.inject({ method: 'POST', url: '/api/v2/write?bucket=d&precision=h', payload: 'm v=1' })
    assert.equal(v2.statusCode, 400)
    assert.equal(v2.json().code, 'invalid')
    assert.equal(v2.headers['x-platform-error-code'], 'invalid')
  })

  it('requires db on /write and bucket on /api/v2/write; takes db/rp buckets', async () => {
    const { app, sink } = await setup()
    const noDb = await app.inject({ method: 'POST', url: '/write', payload: 'm v=1' })
    assert.equal(noDb.statusCode, 400)
    assert.deepEqual(noDb.json(), { error: 'database is required' })
    assert.equal((await app.inject({ method: 'POST', url: '/api/v2/write?org=o', payload: 'm v=1' })).statusCode, 400)
    assert.equal((await app.inject({ method: 'POST', url: '/api/v2/write?org=o&bucket=telegraf/autogen', payload: 'm v=1' })).statusCode, 204)
    assert.deepEqual(sink.points().map(p => [p.tenant, p.database]), [['o', 'telegraf']])
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=d&consistency=most', payload: 'm v=1' })).statusCode, 400)
  })

  it('/write writes the good lines and answers 400 partial write naming every bad line', async () => {
    const { app, sink } = await setup()
    const response = await app.inject({ method: 'POST', url: '/write?db=d', payload: 'm v=1 1\nm v= 2\nm v=3 3\nm,t= v=4 4' })
    assert.equal(response.statusCode, 400)
    const body = response.json()
    assert.match(body.error, /^partial write: unable to parse 'm v= 2': .*\(line 2, column \d+\)\nunable to parse 'm,t= v=4 4': .*\(line 4, column \d+\) dropped=2$/)
    assert.deepEqual(body.lines.map((l: { line: number }) => l.line), [2, 4])
    assert.deepEqual(sink.points().map(p => p.timeNs), [1n, 3n])
    assert.equal(response.headers['x-sluice-error-code'], 'SLUICE_ERR_LINE_PROTOCOL')
  })

  it('/api/v2/write and /api/v1/write write nothing when a line does not parse', async () => {
    const { app, sink } = await setup()
    const v2 = await app.inject({ method: 'POST', url: '/api/v2/write?bucket=d', payload: 'm v=1 1\nm v=x 2' })
    assert.equal(v2.statusCode, 400)
    assert.match(v2.json().message, /line 2/)
    const cnos = await app.inject({ method: 'POST', url: '/api/v1/write?db=d', payload: 'm v=1 1\nbad' })
    assert.equal(cnos.statusCode, 400)
    assert.equal(cnos.json().error_code, 'SLUICE_ERR_LINE_PROTOCOL')
    assert.equal(cnos.json().lines[0].line, 2)
    assert.equal(sink.writes, 0)
  })

  it('refuses field type conflicts across requests: 400 partial on /write, 422 on v2, all-or-nothing on /api/v1/write', async () => {
    const { app, sink } = await setup()
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=d', payload: 'm v=1 1' })).statusCode, 204)
    const v1 = await app.inject({ method: 'POST', url: '/write?db=d', payload: 'm v="s" 2\nm w=1 3' })
    assert.equal(v1.statusCode, 400)
    assert.match(v1.json().error, /^partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float \(line 1\) dropped=1$/)
    const v2 = await app.inject({ method: 'POST', url: '/api/v2/write?bucket=d', payload: 'm v=1i 4\nm w=2 5' })
    assert.equal(v2.statusCode, 422)
    assert.equal(v2.json().code, 'unprocessable entity')
    const cnos = await app.inject({ method: 'POST', url: '/api/v1/write?db=d', payload: 'm w=9 6\nm v=true 7' })
    assert.equal(cnos.statusCode, 400)
    assert.equal(cnos.json().error_code, 'SLUICE_ERR_FIELD_TYPE_CONFLICT')
    assert.deepEqual(sink.points().map(p => p.timeNs), [1n, 3n, 5n])
    // Another database has its own types.
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=e', payload: 'm v="s" 8' })).statusCode, 204)
  })

  it('refuses the later points of a field sent with two types in one body, writing the others', async () => {
    const { app, sink } = await setup()
    const v1 = await app.inject({ method: 'POST', url: '/write?db=d', payload: 'm v=1 1\nm v="s" 2\nm v=3 3\nn a=1i,a=2 4' })
    assert.equal(v1.statusCode, 400)
    assert.match(v1.json().error, /field type conflict: input field "v" on measurement "m" is type string, already exists as type float \(line 2\)/)
    assert.match(v1.json().error, /input field "a" on measurement "n" is type float, already exists as type integer \(line 4\)/)
    assert.deepEqual(sink.points().map(p => p.timeNs), [1n, 3n])
  })

  it('answers 503 with Retry-After on /write and /api/v2/write when Kafka fails, and stores nothing', async () => {
    const { app, sink } = await setup()
    sink.failing = true
    for (const url of ['/write?db=d', '/api/v2/write?bucket=d', '/api/v1/write?db=d']) {
      const response = await app.inject({ method: 'POST', url, payload: 'm v=1' })
      assert.equal(response.statusCode, 503, url)
      assert.equal(response.headers['retry-after'], '5', url)
    }
    assert.equal(sink.records.length, 0)
  })

  it('maps a full queue to 503 on /write and 429 on /api/v2/write', async () => {
    const { app, sink } = await setup()
    sink.write = async () => { throw new HttpApiError(HttpErrorCode.OVERLOADED, 'write queue full') }
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=d', payload: 'm v=1' })).statusCode, 503)
    const v2 = await app.inject({ method: 'POST', url: '/api/v2/write?bucket=d', payload: 'm v=1' })
    assert.equal(v2.statusCode, 429)
    assert.equal(v2.headers['retry-after'], '5')
  })

  it('reads gzip bodies, refuses corrupt gzip with 400 and other encodings with 415', async () => {
    const { app, sink } = await setup()
    const gz = await app.inject({ method: 'POST', url: '/write?db=d', headers: { 'content-encoding': 'gzip' }, payload: gzipSync('m v=1 1\nm v=2 2') })
    assert.equal(gz.statusCode, 204)
    assert.equal(sink.points().length, 2)
    const corrupt = await app.inject({ method: 'POST', url: '/write?db=d', headers: { 'content-encoding': 'gzip' }, payload: Buffer.from('not gzip at all') })
    assert.equal(corrupt.statusCode, 400)
    assert.equal(corrupt.headers['x-sluice-error-code'], 'SLUICE_ERR_BAD_ENCODING')
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=d', headers: { 'content-encoding': 'br' }, payload: 'x' })).statusCode, 415)
  })

  it('answers 413 for a body over maxBodyBytes, sent plain or expanding past it under gzip', async () => {
    const { app, sink } = await setup({ limits: { maxBodyBytes: 1000 } })
    const big = 'm v=1\n'.repeat(400)
    const plain = await app.inject({ method: 'POST', url: '/write?db=d', headers: { 'content-type': 'text/plain' }, payload: big })
    assert.equal(plain.statusCode, 413)
    assert.equal(plain.headers['x-sluice-error-code'], 'SLUICE_ERR_BODY_TOO_LARGE')
    const bomb = gzipSync(big)
    assert.ok(bomb.length < 1000)
    const zipped = await app.inject({ method: 'POST', url: '/api/v2/write?bucket=d', headers: { 'content-encoding': 'gzip' }, payload: bomb })
    assert.equal(zipped.statusCode, 413)
    assert.equal(zipped.json().code, 'request too large')
    assert.equal(sink.writes, 0)
  })

  it('answers 404 for an unknown database when databases are not created on first write', async () => {
    const { app, store } = await setup({ autoCreateDatabases: false })
    const response = await app.inject({ method: 'POST', url: '/write?db=nope', payload: 'm v=1' })
    assert.equal(response.statusCode, 404)
    assert.deepEqual(response.json(), { error: 'database not found: "nope"' })
    // The database check runs beside the parse; its answer still comes before the body's.
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=nope', payload: 'bad\nm v=1 1\nm v=2i 2\n' })).statusCode, 404)
    await store.createDatabase('default', 'nope')
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=nope', payload: 'm v=1' })).statusCode, 204)
  })

  it('carries the request\'s traceparent into its records\' headers', async () => {
    const { app, sink } = await setup()
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=d', headers: { traceparent }, payload: 'm v=1' })).statusCode, 204)
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=d', payload: 'm v=2' })).statusCode, 204)
    assert.deepEqual(sink.headers, [{ traceparent }, undefined])
  })

  it('reads a body sent with an empty Content-Type header, as the influx CLI sends it', async () => {
    const { app, sink } = await setup()
    const response = await app.inject({ method: 'POST', url: '/write?db=d&rp=autogen&consistency=all&precision=s', headers: { 'content-type': '' }, payload: 'm v=1 7\n\nm v=2 8\n' })
    assert.equal(response.statusCode, 204)
    assert.deepEqual(sink.points().map(p => p.timeNs), [7_000_000_000n, 8_000_000_000n])
  })

  it('answers an empty body 204 without writing', async () => {
    const { app, sink } = await setup()
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=d', payload: '' })).statusCode, 204)
    assert.equal(sink.records.length, 0)
  })

  it('answers 503 when the control store is down', async () => {
    const { app, store } = await setup()
    store.unavailable = true
    const response = await app.inject({ method: 'POST', url: '/write?db=d', payload: 'm v=1' })
    assert.equal(response.statusCode, 503)
    assert.equal(response.headers['x-sluice-error-code'], 'SLUICE_ERR_CONTROL_STORE_UNAVAILABLE')
  })
})

describe('parse worker failure', () => {
  it('a crashed worker fails its request with 500 WORKER_FAILED and writes nothing; the next request is written', async () => {
    const pool = new ParsePool({ size: 1, workerUrl: new URL('./testing/faulty-parse-worker.mjs', import.meta.url) })
    await pool.ready()
    try {
      // A replacement worker loads its TypeScript before it answers: seconds on a busy machine.
      const { app, sink } = await setup({ parsePool: pool, limits: { writeTimeoutMs: 30_000 } })
      const crashed = await app.inject({ method: 'POST', url: '/write?db=d', payload: 'CRASH v=1 1' })
      assert.equal(crashed.statusCode, 500)
      assert.equal(crashed.headers['x-sluice-error-code'], 'SLUICE_ERR_WORKER_FAILED')
      assert.match(crashed.json().error, /parse worker exited .*nothing was written/)
      assert.equal(sink.writes, 0)
      assert.equal((await app.inject({ method: 'POST', url: '/write?db=d', payload: 'm v=1 2' })).statusCode, 204)
      assert.deepEqual(sink.points().map(p => p.timeNs), [2n])
      assert.equal(pool.restarts, 1)
    } finally {
      await pool.close()
    }
  })
})

describe('auth', () => {
  it('with auth on: 401 without or with a wrong token (Basic challenge on /write), 204 with a good one in each form', async () => {
    const { app, tokens, sink } = await setup({ auth: true })
    const none = await app.inject({ method: 'POST', url: '/write?db=metrics', payload: 'm v=1' })
    assert.equal(none.statusCode, 401)
    assert.equal(none.headers['www-authenticate'], 'Basic realm="InfluxDB"')
    assert.equal((await app.inject({ method: 'POST', url: '/api/v2/write?bucket=metrics', headers: { authorization: 'Token nope' }, payload: 'm v=1' })).statusCode, 401)
    assert.equal((await app.inject({ method: 'POST', url: `/write?db=metrics&u=x&p=${tokens.writer}`, payload: 'm v=1 1' })).statusCode, 204)
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=metrics', headers: { authorization: basic('acme', tokens.writer) }, payload: 'm v=1 2' })).statusCode, 204)
    assert.equal((await app.inject({ method: 'POST', url: '/api/v2/write?org=acme&bucket=metrics', headers: { authorization: `Token ${tokens.writer}` }, payload: 'm v=1 3' })).statusCode, 204)
    assert.equal((await app.inject({ method: 'POST', url: '/api/v1/write?db=metrics', headers: { authorization: `Bearer ${tokens.writer}` }, payload: 'm v=1 4' })).statusCode, 204)
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=metrics', headers: { authorization: `Token user:${tokens.writer}` }, payload: 'm v=1 5' })).statusCode, 204)
    assert.deepEqual(sink.points().map(p => [p.tenant, p.timeNs]), [['acme', 1n], ['acme', 2n], ['acme', 3n], ['acme', 4n], ['acme', 5n]])
  })

  it('403 for a database the token does not grant, for a read-only token, and across tenants', async () => {
    const { app, tokens, sink } = await setup({ auth: true })
    const otherDb = await app.inject({ method: 'POST', url: '/write?db=logs', headers: { authorization: `Token ${tokens.writer}` }, payload: 'm v=1' })
    assert.equal(otherDb.statusCode, 403)
    assert.match(otherDb.json().error, /not authorized to write database "logs"/)
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=metrics', headers: { authorization: `Token ${tokens.reader}` }, payload: 'm v=1' })).statusCode, 403)
    const crossOrg = await app.inject({ method: 'POST', url: '/api/v2/write?org=acme&bucket=metrics', headers: { authorization: `Token ${tokens.other}` }, payload: 'm v=1' })
    assert.equal(crossOrg.statusCode, 403)
    assert.equal(crossOrg.json().code, 'forbidden')
    const crossTenant = await app.inject({ method: 'POST', url: '/api/v1/write?tenant=acme&db=metrics', headers: { authorization: `Token ${tokens.other}` }, payload: 'm v=1' })
    assert.equal(crossTenant.statusCode, 403)
    assert.equal(sink.writes, 0)
  })

  it('a token of another tenant writes into its own tenant, never into the other', async () => {
    const { app, tokens, sink } = await setup({ auth: true })
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=metrics', headers: { authorization: `Token ${tokens.other}` }, payload: 'm v=1 1' })).statusCode, 204)
    assert.deepEqual(sink.points().map(p => p.tenant), ['globex'])
  })
})

describe('Idempotency-Key', () => {
  it('replays a completed write without writing again, per tenant, and refuses reuse for another body', async () => {
    const { app, sink } = await setup()
    const request = { method: 'POST' as const, url: '/write?db=d', headers: { 'idempotency-key': 'k-1' }, payload: 'm v=1 1' }
    assert.equal((await app.inject(request)).statusCode, 204)
    const replay = await app.inject(request)
    assert.equal(replay.statusCode, 204)
    assert.equal(replay.headers['idempotent-replayed'], 'true')
    assert.equal(sink.writes, 1)
    const reused = await app.inject({ ...request, payload: 'm v=2 2' })
    assert.equal(reused.statusCode, 422)
    assert.equal(reused.headers['x-sluice-error-code'], 'SLUICE_ERR_IDEMPOTENCY_KEY_REUSED')
    // The same key in another tenant is another key.
    assert.equal((await app.inject({ ...request, url: '/api/v1/write?tenant=t2&db=d' })).statusCode, 204)
    assert.equal(sink.writes, 2)
  })

  it('replays a partial write\'s 400 with its body', async () => {
    const { app, sink } = await setup()
    const request = { method: 'POST' as const, url: '/write?db=d', headers: { 'idempotency-key': 'k-2' }, payload: 'm v=1 1\nbad' }
    const first = await app.inject(request)
    assert.equal(first.statusCode, 400)
    const second = await app.inject(request)
    assert.equal(second.statusCode, 400)
    assert.deepEqual(second.json(), first.json())
    assert.equal(sink.points().length, 1)
  })

  it('lets a retry write after a 503 (the claim is released)', async () => {
    const { app, sink } = await setup()
    const request = { method: 'POST' as const, url: '/write?db=d', headers: { 'idempotency-key': 'k-3' }, payload: 'm v=1 1' }
    sink.failing = true
    assert.equal((await app.inject(request)).statusCode, 503)
    sink.failing = false
    assert.equal((await app.inject(request)).statusCode, 204)
    assert.equal(sink.points().length, 1)
  })

  it('of two concurrent requests with one key, exactly one writes; the other replays its answer', async () => {
    const { app, sink } = await setup()
    let open!: () => void
    sink.gate = new Promise(resolve => { open = resolve })
    const request = { method: 'POST' as const, url: '/api/v2/write?bucket=d', headers: { 'idempotency-key': 'k-4' }, payload: 'm v=1 1' }
    const first = app.inject(request)
    const second = app.inject(request)
    setTimeout(() => open(), 200)
    const answers = await Promise.all([first, second])
    assert.deepEqual(answers.map(a => a.statusCode), [204, 204])
    assert.equal(sink.writes, 1)
    assert.equal(sink.points().length, 1)
    assert.equal(answers.filter(a => a.headers['idempotent-replayed'] === 'true').length, 1)
  })

  it('refuses a malformed key with 400', async () => {
    const { app } = await setup()
    const response = await app.inject({ method: 'POST', url: '/write?db=d', headers: { 'idempotency-key': 'x'.repeat(300) }, payload: 'm v=1' })
    assert.equal(response.statusCode, 400)
  })
})

describe('/query, /ping, /health', () => {
  it('CREATE DATABASE and SHOW DATABASES as InfluxDB 1.x answers them, by query string or form body', async () => {
    const { app } = await setup({ autoCreateDatabases: false })
    const create = await app.inject({ method: 'POST', url: '/query', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'q=' + encodeURIComponent('CREATE DATABASE "telegraf"') })
    assert.equal(create.statusCode, 200)
    assert.deepEqual(create.json(), { results: [{ statement_id: 0 }] })
    assert.equal((await app.inject({ method: 'POST', url: '/write?db=telegraf', payload: 'm v=1' })).statusCode, 204)
    const show = await app.inject({ method: 'GET', url: '/query?q=' + encodeURIComponent('create database other WITH DURATION 1d; SHOW DATABASES') })
    assert.deepEqual(show.json(), { results: [{ statement_id: 0 }, { statement_id: 1, series: [{ name: 'databases', columns: ['name'], values: [['other'], ['telegraf']] }] }] })
    const select = await app.inject({ method: 'GET', url: '/query?q=SELECT%20*%20FROM%20m' })
    assert.equal(select.statusCode, 400)
    assert.match(select.json().error, /^error parsing query: .*not supported/)
  })

  it('/query honours tokens: CREATE needs write on the database, SHOW lists what the token may see', async () => {
    const { app, tokens } = await setup({ auth: true, autoCreateDatabases: false })
    assert.equal((await app.inject({ method: 'POST', url: '/query?q=CREATE+DATABASE+metrics' })).statusCode, 401)
    assert.equal((await app.inject({ method: 'POST', url: `/query?q=CREATE+DATABASE+logs&u=a&p=${tokens.writer}` })).statusCode, 403)
    assert.equal((await app.inject({ method: 'POST', url: `/query?q=CREATE+DATABASE+metrics&u=a&p=${tokens.writer}` })).statusCode, 200)
    const globex = await app.inject({ method: 'GET', url: `/query?q=SHOW+DATABASES&u=a&p=${tokens.other}` })
    assert.deepEqual(globex.json().results[0].series[0].values, [])
    const acme = await app.inject({ method: 'GET', url: `/query?q=SHOW+DATABASES&u=a&p=${tokens.reader}` })
    assert.deepEqual(acme.json().results[0].series[0].values, [['metrics']])
  })

  it('/ping answers 204 with the version headers, 200 {version} when verbose; HEAD too', async () => {
    const { app } = await setup()
    const ping = await app.inject({ method: 'GET', url: '/ping' })
    assert.equal(ping.statusCode, 204)
    assert.equal(ping.headers['x-influxdb-version'], '1.8.10')
    assert.equal(ping.headers['x-influxdb-build'], 'OSS')
    const refused = await app.inject({ method: 'POST', url: '/write?db=metrics', payload: 'cpu v=' })
    assert.deepEqual([refused.statusCode, refused.headers['x-influxdb-version'], refused.headers['x-influxdb-build']], [400, '1.8.10', 'OSS'], 'errors carry them too')
    assert.equal((await app.inject({ method: 'HEAD', url: '/ping' })).statusCode, 204)
    const verbose = await app.inject({ method: 'GET', url: '/ping?verbose=true' })
    assert.deepEqual([verbose.statusCode, verbose.json()], [200, { version: '1.8.10' }])
  })

  it('/health passes with no failing checks', async () => {
    const { app } = await setup()
    const health = await app.inject({ method: 'GET', url: '/health' })
    assert.equal(health.statusCode, 200)
    assert.equal(health.json().status, 'pass')
  })
})
