// Telegraf's four routes into Sluice, with exactly what Telegraf sends (telegraf master b2726314,
// 1.40.0-dev, see docs/telegraf.md): outputs.influxdb → /write, outputs.influxdb_v2 → /api/v2/write,
// outputs.http (influx serializer) → /api/v1/write, and outputs.kafka (influx and json serializers)
// → sluice.ingest through the Kafka source. Telegraf cannot be installed here, so its requests are
// written byte for byte over a raw socket as Go's net/http writes them (header order, chunked
// bodies, gzip, Basic and Token auth), its Kafka messages sent as its sarama producer sends them
// (one message per metric, the routing tag as key, sarama's FNV-1a partitioner, each codec), and
// each answer is fed to a port of the output's own reaction code, so every test asserts what
// Telegraf would do: keep, drop, retry, create the database, split the batch or wait Retry-After.

import '../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { gzipSync } from 'node:zlib'
import kafkajs from 'kafkajs'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { registerKafkaCodecs } from '../pipeline/source/index.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'
import { kafkaClient } from './support/kafka.ts'

/** What Telegraf 1.40 built with Go 1.26 sends as User-Agent (internal.ProductToken()). */
const USER_AGENT = 'Telegraf/1.40.0 Go/1.26.0'
const PARTITIONS = 4
const MAX_BODY_BYTES = 200_000
const RETRY_AFTER_SECONDS = 2
const T0 = 1_764_000_000_000_000_000n // ns; Telegraf's metric times are whole seconds at the default precision
const SECOND = 1_000_000_000n

const tenant = uniqueName('it_telegraf')
/** Database of raw Kafka records without a sluice-database header (the node's --kafka-source-database). */
const kafkaDb = uniqueName('tg_kafka')
let broker: BrokerProcess
let node: NodeProcess
/** The token Telegraf is configured with: password of outputs.influxdb and outputs.http, token of outputs.influxdb_v2. */
let token: string

before(async () => {
  broker = await startBrokerProcess()
  // Auth on and no databases created by writes: the strictest setting, where Telegraf's CREATE
  // DATABASE matters. One producer and a queue of one byte, so a stalled Kafka fills it at once.
  node = await startNodeProcess({
    kafka: broker.bootstrap,
    args: [
      '--partitions', String(PARTITIONS), '--default-tenant', tenant, '--auth', '--no-auto-create-databases',
      '--kafka-source', '--kafka-source-database', kafkaDb, '--replica-flush-interval-ms', '200', '--producers', '1',
      '--limit', `maxBodyBytes=${MAX_BODY_BYTES}`, '--limit', 'maxQueuedRecordBytes=1', '--limit', `retryAfterSeconds=${RETRY_AFTER_SECONDS}`,
      '--limit', 'writeTimeoutMs=4000',
    ],
  })
  token = node.createToken({ tenant, databases: ['*'], permissions: ['read', 'write'] })
  // The node re-reads its token file within a second.
  const deadline = Date.now() + 10_000
  while ((await createDatabaseAsTelegrafV1(kafkaDb)).status !== 200) {
    assert.ok(Date.now() < deadline, 'the node took the new token')
    await new Promise(resolve => setTimeout(resolve, 200))
  }
})

after(async () => {
  broker?.child.kill('SIGCONT')
  assert.equal(await node?.stop(), 0, 'the node exits 0 on SIGTERM')
  await broker?.stop()
  await forgetTenants([tenant])
})

// ---------------------------------------------------------------------------------------------
// HTTP as Go's net/http writes it

interface GoRequest {
  method: 'POST' | 'GET'
  /** Path and query, as url.Values.Encode() orders them (sorted keys). */
  target: string
  /** Headers other than Host, User-Agent, Content-Length, Transfer-Encoding; Go writes them sorted by name. */
  headers: Record<string, string>
  body: Buffer
  /** Go sends a body of unknown length (an io.Pipe, a NopCloser) chunked, a bytes.Buffer with Content-Length. */
  chunked: boolean
  userAgent?: string
}

interface GoResponse {
  status: number
  headers: Map<string, string>
  body: Buffer
}

/**
 * Writes the request as net/http's Request.write does: request line, Host, User-Agent, the length
 * (Content-Length or Transfer-Encoding: chunked), the other headers sorted by name, then the
 * transport's own Accept-Encoding: gzip. Reads one response (Content-Length or chunked).
 */
function goHttp(request: GoRequest): Promise<GoResponse> {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, `Host: 127.0.0.1:${node.port}`, `User-Agent: ${request.userAgent ?? USER_AGENT}`]
  if (request.chunked) lines.push('Transfer-Encoding: chunked')
  else if (request.body.length > 0 || request.method === 'POST') lines.push(`Content-Length: ${request.body.length}`)
  for (const name of Object.keys(request.headers).sort()) lines.push(`${name}: ${request.headers[name]}`)
  lines.push('Accept-Encoding: gzip', '', '')
  const parts: Buffer[] = [Buffer.from(lines.join('\r\n'), 'latin1')]
  if (request.chunked) {
    // Go's chunkedWriter writes one chunk per Write; io.Copy from a gzip pipe writes pieces of a few KiB.
    for (let at = 0; at < request.body.length; at += 4096) {
      const chunk = request.body.subarray(at, at + 4096)
      parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'))
    }
    parts.push(Buffer.from('0\r\n\r\n'))
  } else {
    parts.push(request.body)
  }
  return new Promise((resolve, reject) => {
    const socket = connect(node.port, '127.0.0.1')
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer to ${request.method} ${request.target}`)) }, 30_000)
    socket.on('error', error => { clearTimeout(timer); reject(error) })
    socket.on('data', chunk => {
      received = Buffer.concat([received, chunk])
      const response = parseResponse(received)
      if (response) { clearTimeout(timer); socket.destroy(); resolve(response) }
    })
    // The server may answer before the whole body is sent (a body over the limit): ignore EPIPE then.
    socket.write(Buffer.concat(parts), () => {})
  })
}

/** One HTTP/1.1 response from the bytes received so far, or undefined if incomplete. */
function parseResponse(bytes: Buffer): GoResponse | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n')
  if (headEnd < 0) return undefined
  const [statusLine, ...headerLines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n')
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine!)![1])
  const headers = new Map<string, string>()
  for (const line of headerLines) {
    const colon = line.indexOf(':')
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
  }
  const rest = bytes.subarray(headEnd + 4)
  if (status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) }
  if (headers.get('transfer-encoding') === 'chunked') {
    const chunks: Buffer[] = []
    let at = 0
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', at)
      if (lineEnd < 0) return undefined
      const size = parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16)
      if (size === 0) return { status, headers, body: Buffer.concat(chunks) }
      if (rest.length < lineEnd + 2 + size + 2) return undefined
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size))
      at = lineEnd + 2 + size + 2
    }
  }
  const length = Number(headers.get('content-length') ?? 0)
  return rest.length >= length ? { status, headers, body: rest.subarray(0, length) } : undefined
}

const basicAuth = (username: string, password: string): string => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`

// ---------------------------------------------------------------------------------------------
// What Telegraf does with an answer: ports of the outputs' reaction code (b2726314)

type Reaction =
  | { kind: 'accepted' }
  | { kind: 'dropped'; why: string }
  | { kind: 'retry'; why: string }
  | { kind: 'create-database-then-retry' }
  | { kind: 'split' }
  | { kind: 'throttled'; retryAfterMs: number }

/** Go's json.Valid on the body (validateResponse): an invalid body becomes an APIError, which is retried. */
function goJsonValid(body: Buffer): boolean {
  try { JSON.parse(body.toString('utf8')); return true } catch { return false }
}

/**
 * plugins/outputs/influxdb/http.go writeBatch plus influxdb.go Write: 204 accepted; a body that is
 * not JSON retried; "database not found" → CREATE DATABASE and retry (or, with
 * skip_database_creation, not retried); any other 4xx dropped; 5xx dropped only for the known
 * partial-write texts, otherwise retried (Retry-After is not read).
 */
function telegrafV1Reaction(response: GoResponse, options: { skipDatabaseCreation?: boolean } = {}): Reaction {
  if (response.status === 204) return { kind: 'accepted' }
  if (response.body.length > 0 && !goJsonValid(response.body)) return { kind: 'retry', why: 'response body is not JSON' }
  let desc = ''
  try {
    const parsed = JSON.parse(response.body.toString('utf8') || 'null') as { error?: unknown } | null
    if (parsed !== null && typeof parsed === 'object' && typeof parsed.error === 'string') desc = parsed.error
  } catch { /* empty body */ }
  if (desc.includes('database not found')) return options.skipDatabaseCreation ? { kind: 'dropped', why: 'database not found, skip_database_creation' } : { kind: 'create-database-then-retry' }
  if (String(response.status)[0] === '4') return { kind: 'dropped', why: `${response.status}: ${desc}` }
  for (const text of ['retention policy not found', 'hinted handoff queue not empty', 'points beyond retention policy', 'partial write', 'unable to parse']) {
    if (desc.includes(text)) return { kind: 'dropped', why: text }
  }
  return { kind: 'retry', why: `${response.status}: ${desc}` }
}

/** plugins/outputs/influxdb_v2/http.go writeBatch and getRetryDuration. */
function telegrafV2Reaction(response: GoResponse, retryCount: number): Reaction {
  if ([200, 201, 202, 204, 206, 207, 208].includes(response.status)) return { kind: 'accepted' }
  switch (response.status) {
    case 413: return { kind: 'split' }
    case 400: case 422: case 406: return { kind: 'dropped', why: String(response.status) }
    case 401: case 403: return { kind: 'retry', why: 'unauthorized' }
    case 429: case 503: case 502: case 504: {
      const backoffSeconds = Math.min(retryCount ** 2 / 40, 60)
      const header = response.headers.get('retry-after')
      let retryAfterSeconds = 0
      if (header !== undefined && header.length > 0) {
        retryAfterSeconds = Number.isFinite(Number(header)) ? Number(header) : 10
        retryAfterSeconds = Math.min(retryAfterSeconds, 600)
      }
      return { kind: 'throttled', retryAfterMs: Math.max(backoffSeconds, retryAfterSeconds) * 1000 }
    }
  }
  if (String(response.status)[0] === '4') return { kind: 'dropped', why: String(response.status) }
  return { kind: 'retry', why: String(response.status) }
}

/** plugins/outputs/http/http.go writeMetric: any non-2xx is retried unless listed in non_retryable_statuscodes. */
function telegrafHttpReaction(response: GoResponse, nonRetryableStatusCodes: readonly number[] = []): Reaction {
  if (response.status >= 200 && response.status < 300) return { kind: 'accepted' }
  if (nonRetryableStatusCodes.includes(response.status)) return { kind: 'dropped', why: `non-retryable ${response.status}` }
  return { kind: 'retry', why: String(response.status) }
}

// ---------------------------------------------------------------------------------------------
// The requests of each output

/** Telegraf's influx serializer: one line per metric, each ending in "\n" (tags sorted, as a Telegraf metric keeps them). */
function cpuLines(count: number, offset = 0): string[] {
  return Array.from({ length: count }, (_, k) => {
    const i = k + offset
    return `cpu,cpu=cpu${i % 4},host=tg-${i % 3} usage_idle=${(i % 100) + 0.5},usage_user=${i % 7}.25,ticks=${i}i ${T0 + BigInt(i) * SECOND}\n`
  })
}

/** outputs.influxdb connecting (skip_database_creation = false): POST /query, a form, Basic auth with username/password. */
function createDatabaseAsTelegrafV1(database: string): Promise<GoResponse> {
  // fmt.Sprintf(`CREATE DATABASE "%s"`, escapeIdentifier.Replace(database)), url.Values{"q": …}.Encode()
  const form = `q=${encodeURIComponent(`CREATE DATABASE "${database}"`).replace(/%20/g, '+')}`
  return goHttp({
    method: 'POST', target: '/query', chunked: false, body: Buffer.from(form),
    headers: { Authorization: basicAuth('telegraf', token), 'Content-Type': 'application/x-www-form-urlencoded' },
  })
}

/** outputs.influxdb's writeBatch: /write?db= (no precision: ns), gzip by default, the body streamed through an io.Pipe (chunked). */
function writeAsTelegrafV1(database: string, lines: readonly string[], options: { gzip?: boolean; password?: string } = {}): Promise<GoResponse> {
  const gzip = options.gzip ?? true
  const body = Buffer.from(lines.join(''))
  return goHttp({
    method: 'POST', target: `/write?db=${encodeURIComponent(database)}`, chunked: true, body: gzip ? gzipSync(body) : body,
    headers: { Authorization: basicAuth('telegraf', options.password ?? token), ...(gzip ? { 'Content-Encoding': 'gzip' } : {}), 'Content-Type': 'text/plain; charset=utf-8' },
  })
}

/** outputs.influxdb_v2's writeBatch: /api/v2/write?bucket=&org= (sorted), Token auth, gzip by default, a NopCloser body (chunked). */
function writeAsTelegrafV2(bucket: string, lines: readonly string[], secret = token): Promise<GoResponse> {
  return goHttp({
    method: 'POST', target: `/api/v2/write?bucket=${encodeURIComponent(bucket)}&org=${encodeURIComponent(tenant)}`, chunked: true,
    body: gzipSync(Buffer.from(lines.join(''))),
    headers: { Authorization: `Token ${secret}`, 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain; charset=utf-8' },
  })
}

/** outputs.http with data_format = "influx", use_batch_format = true, content_encoding = "identity": a bytes.Buffer body (Content-Length). */
function writeAsTelegrafHttp(database: string, lines: readonly string[]): Promise<GoResponse> {
  return goHttp({
    method: 'POST', target: `/api/v1/write?db=${encodeURIComponent(database)}`, chunked: false, body: Buffer.from(lines.join('')),
    headers: { Authorization: basicAuth('telegraf', token), 'Content-Type': 'text/plain; charset=utf-8' },
  })
}

async function sql<Row>(database: string, statement: string): Promise<{ status: number; rows: Row[]; text: string }> {
  const answer = await fetch(`${node.url}/api/v1/sql?db=${encodeURIComponent(database)}`, { method: 'POST', body: statement, headers: { authorization: `Token ${token}`, accept: 'application/json' } })
  const text = await answer.text()
  return { status: answer.status, rows: answer.status === 200 ? JSON.parse(text) as Row[] : [], text }
}

/** Polls a SQL query until `done` holds for its rows (the replica applies what Kafka took a little later). */
async function rowsOnceApplied<Row>(database: string, statement: string, done: (rows: Row[]) => boolean, timeoutMs = 30_000): Promise<Row[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const answer = await sql<Row>(database, statement)
    if (answer.status === 200 && done(answer.rows)) return answer.rows
    if (Date.now() > deadline) throw new Error(`${statement}: not there after ${timeoutMs} ms; last answer ${answer.status} ${answer.text.slice(0, 500)}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** The number of rows of a measurement once at least `want` are applied (more would be duplicates). */
const count = async (database: string, measurement: string, want: number): Promise<number> =>
  (await rowsOnceApplied<{ n: number }>(database, `SELECT count(*) AS n FROM ${measurement}`, rows => rows[0] !== undefined && rows[0].n >= want))[0]!.n

/** Rows once there are `want` of them. */
const rowsWhen = <Row>(database: string, statement: string, want: number): Promise<Row[]> => rowsOnceApplied<Row>(database, statement, rows => rows.length >= want)

// ---------------------------------------------------------------------------------------------

describe('outputs.influxdb (v1): /write', () => {
  it('connects with CREATE DATABASE, then a gzip batch of metric_batch_size lines is 204 and lands whole', async () => {
    const db = uniqueName('tg_v1')
    const created = await createDatabaseAsTelegrafV1(db)
    assert.equal(created.status, 200, created.body.toString())
    const results = JSON.parse(created.body.toString()) as { results: Array<{ error?: string }> }
    assert.equal(results.results[0]!.error, undefined, 'no error in the results: Telegraf marks the database created')
    const write = await writeAsTelegrafV1(db, cpuLines(1000))
    assert.deepEqual(telegrafV1Reaction(write), { kind: 'accepted' })
    assert.equal(await count(db, 'cpu', 1000), 1000)
    const [row] = await rowsWhen<{ host: string; cpu: string; usage_idle: number; usage_user: number; ticks: number }>(db, `SELECT host, cpu, usage_idle, usage_user, ticks FROM cpu WHERE time = ${T0 + 42n * SECOND}`, 1)
    assert.deepEqual(row, { host: 'tg-0', cpu: 'cpu2', usage_idle: 42.5, usage_user: 0.25, ticks: 42 })
    const identity = await writeAsTelegrafV1(db, cpuLines(10, 1000), { gzip: false })
    assert.deepEqual(telegrafV1Reaction(identity), { kind: 'accepted' }, 'content_encoding = "identity" too')
  })

  it('a field type conflict is 400 "partial write" with a JSON body: Telegraf drops the batch, the other points are written', async () => {
    const db = uniqueName('tg_v1_conflict')
    await createDatabaseAsTelegrafV1(db)
    assert.deepEqual(telegrafV1Reaction(await writeAsTelegrafV1(db, ['weather,host=a temp=21.5 1000000000\n'])), { kind: 'accepted' })
    const answer = await writeAsTelegrafV1(db, ['weather,host=a temp="warm" 2000000000\n', 'weather,host=b temp=19 3000000000\n'])
    assert.equal(answer.status, 400)
    assert.match(JSON.parse(answer.body.toString()).error, /^partial write: field type conflict: .*dropped=1$/)
    assert.deepEqual(telegrafV1Reaction(answer), { kind: 'dropped', why: `400: ${JSON.parse(answer.body.toString()).error}` })
    const rows = await rowsWhen<{ host: string; temp: number }>(db, 'SELECT host, temp FROM weather ORDER BY host', 2)
    assert.deepEqual(rows, [{ host: 'a', temp: 21.5 }, { host: 'b', temp: 19 }])
  })

  it('an unknown database: 404 "database not found" → CREATE DATABASE → the retry is 204; with skip_database_creation the batch is dropped, not retried forever', async () => {
    const db = uniqueName('tg_v1_missing')
    const first = await writeAsTelegrafV1(db, cpuLines(5))
    assert.equal(first.status, 404)
    assert.deepEqual(telegrafV1Reaction(first), { kind: 'create-database-then-retry' })
    assert.deepEqual(telegrafV1Reaction(first, { skipDatabaseCreation: true }), { kind: 'dropped', why: 'database not found, skip_database_creation' })
    assert.equal((await createDatabaseAsTelegrafV1(db)).status, 200)
    assert.deepEqual(telegrafV1Reaction(await writeAsTelegrafV1(db, cpuLines(5))), { kind: 'accepted' })
    assert.equal(await count(db, 'cpu', 5), 5)
  })

  it('a body over maxBodyBytes (once gunzipped, or streamed plain) is 413 with a JSON body: dropped, not retried', async () => {
    const db = uniqueName('tg_v1_large')
    await createDatabaseAsTelegrafV1(db)
    const lines = cpuLines(4000)
    assert.ok(lines.join('').length > MAX_BODY_BYTES && gzipSync(lines.join('')).length < MAX_BODY_BYTES)
    for (const gzip of [true, false]) {
      const answer = await writeAsTelegrafV1(db, lines, { gzip })
      assert.equal(answer.status, 413, `gzip ${gzip}`)
      assert.ok(goJsonValid(answer.body), 'a body Go\'s json.Valid accepts: otherwise Telegraf would retry the batch forever')
      assert.equal(telegrafV1Reaction(answer).kind, 'dropped')
    }
  })
})

describe('a wrong token', () => {
  it('is 401 with a JSON body: outputs.influxdb drops the batch, outputs.influxdb_v2 keeps it and retries', async () => {
    const v1 = await writeAsTelegrafV1(kafkaDb, cpuLines(3), { password: 'sluice_wrong' })
    assert.equal(v1.status, 401)
    assert.equal(telegrafV1Reaction(v1).kind, 'dropped')
    const v2 = await writeAsTelegrafV2(kafkaDb, cpuLines(3), 'sluice_wrong')
    assert.equal(v2.status, 401)
    assert.equal(telegrafV2Reaction(v2, 0).kind, 'retry')
  })
})

describe('outputs.influxdb_v2: /api/v2/write', () => {
  it('a gzip batch with Token auth is 204 and lands', async () => {
    const db = uniqueName('tg_v2')
    await createDatabaseAsTelegrafV1(db)
    assert.deepEqual(telegrafV2Reaction(await writeAsTelegrafV2(db, cpuLines(1000)), 0), { kind: 'accepted' })
    assert.equal(await count(db, 'cpu', 1000), 1000)
  })

  it('a field type conflict is 422: dropped; the other points are written', async () => {
    const db = uniqueName('tg_v2_conflict')
    await createDatabaseAsTelegrafV1(db)
    await writeAsTelegrafV2(db, ['disk,host=a used=1i 1000000000\n'])
    const answer = await writeAsTelegrafV2(db, ['disk,host=a used="full" 2000000000\n', 'disk,host=b used=7i 3000000000\n'])
    assert.equal(answer.status, 422)
    assert.deepEqual(telegrafV2Reaction(answer, 0), { kind: 'dropped', why: '422' })
    assert.deepEqual(await rowsWhen(db, 'SELECT host, used FROM disk ORDER BY time', 2), [{ host: 'a', used: 1 }, { host: 'b', used: 7 }])
  })

  it('413 makes Telegraf split the batch in halves until each fits: every point lands once', async () => {
    const db = uniqueName('tg_v2_split')
    await createDatabaseAsTelegrafV1(db)
    const answers: number[] = []
    // splitAndWrite: halves, serialized and sent one after the other, split again on 413.
    const send = async (lines: string[]): Promise<void> => {
      const answer = await writeAsTelegrafV2(db, lines)
      answers.push(answer.status)
      const reaction = telegrafV2Reaction(answer, 0)
      if (reaction.kind === 'split' && lines.length > 1) {
        const half = Math.ceil(lines.length / 2)
        await send(lines.slice(0, half))
        await send(lines.slice(half))
        return
      }
      assert.deepEqual(reaction, { kind: 'accepted' })
    }
    await send(cpuLines(5000))
    assert.equal(answers[0], 413)
    assert.ok(answers.filter(status => status === 204).length >= 2)
    assert.equal(await count(db, 'cpu', 5000), 5000)
  })

  it('an unknown bucket is 404: dropped (create the database first, or run with auto-create)', async () => {
    const answer = await writeAsTelegrafV2(uniqueName('tg_v2_missing'), cpuLines(3))
    assert.equal(answer.status, 404)
    assert.deepEqual(telegrafV2Reaction(answer, 0), { kind: 'dropped', why: '404' })
  })
})

describe('outputs.http with data_format = "influx": /api/v1/write', () => {
  it('a batch is 204 and lands', async () => {
    const db = uniqueName('tg_http')
    await createDatabaseAsTelegrafV1(db)
    assert.deepEqual(telegrafHttpReaction(await writeAsTelegrafHttp(db, cpuLines(500))), { kind: 'accepted' })
    assert.equal(await count(db, 'cpu', 500), 500)
  })

  it('a type conflict is 400 and nothing is written: retried forever unless non_retryable_statuscodes lists 400', async () => {
    const db = uniqueName('tg_http_conflict')
    await createDatabaseAsTelegrafV1(db)
    await writeAsTelegrafHttp(db, ['mem,host=a free=1i 1000000000\n'])
    const answer = await writeAsTelegrafHttp(db, ['mem,host=a free="lots" 2000000000\n', 'mem,host=b free=2i 3000000000\n'])
    assert.equal(answer.status, 400)
    assert.deepEqual(telegrafHttpReaction(answer), { kind: 'retry', why: '400' })
    assert.deepEqual(telegrafHttpReaction(answer, [400, 413, 422]), { kind: 'dropped', why: 'non-retryable 400' })
    assert.deepEqual(await rowsWhen(db, 'SELECT host, free FROM mem', 1), [{ host: 'a', free: 1 }])
  })
})

// ---------------------------------------------------------------------------------------------
// outputs.kafka: sarama's SyncProducer, one message per metric

/** sarama's default HashPartitioner: FNV-1a 32 of the key, as int32, modulo, negated when negative; no key: random. */
function saramaPartition(key: Buffer | null, partitions: number): number {
  if (key === null) return Math.floor(Math.random() * partitions)
  let hash = 0x811c9dc5
  for (const byte of key) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0
  const partition = (hash | 0) % partitions
  return partition < 0 ? -partition : partition
}

interface TelegrafMetric {
  name: string
  tags: Record<string, string>
  /** Go's types: float64 as number, int64 as bigint, string, bool. */
  fields: Record<string, number | bigint | string | boolean>
  timeNs: bigint
}

/** Sends metrics as outputs.kafka does: value = the serializer's bytes, key = routing_tag's value, timestamp = metric time, headers from [outputs.kafka.headers]. */
async function sendAsTelegrafKafka(metrics: readonly TelegrafMetric[], serialize: (metric: TelegrafMetric) => string, options: { compression: number; routingTag?: string; headers?: Record<string, string> }): Promise<void> {
  const kafka = kafkaClient(broker.bootstrap, { clientId: 'Telegraf' })
  const producer = kafka.producer({ idempotent: false, createPartitioner: () => ({ partitionMetadata, message }) => saramaPartition(message.key === null || message.key === undefined ? null : Buffer.from(message.key), partitionMetadata.length) })
  await producer.connect()
  try {
    await producer.send({
      topic: 'sluice.ingest', acks: -1, compression: options.compression,
      messages: metrics.map(metric => {
        const key = options.routingTag === undefined ? undefined : metric.tags[options.routingTag]
        return { value: serialize(metric), timestamp: String(metric.timeNs / 1_000_000n), ...(key !== undefined ? { key } : {}), ...(options.headers ? { headers: options.headers } : {}) }
      }),
    })
  } finally {
    await producer.disconnect()
  }
}

const escapeTag = (text: string): string => text.replace(/[,= ]/g, match => `\\${match}`)
const fieldText = (value: number | bigint | string | boolean): string =>
  typeof value === 'bigint' ? `${value}i` : typeof value === 'string' ? `"${value.replace(/["\\]/g, match => `\\${match}`)}"` : String(value)

/** The influx serializer (ints with i, strings quoted) with its trailing newline. */
function influxLine(metric: TelegrafMetric): string {
  const tags = Object.keys(metric.tags).sort().map(key => `,${escapeTag(key)}=${escapeTag(metric.tags[key]!)}`).join('')
  const fields = Object.entries(metric.fields).map(([key, value]) => `${escapeTag(key)}=${fieldText(value)}`).join(',')
  return `${metric.name}${tags} ${fields} ${metric.timeNs}\n`
}

/** The json serializer: Go's json.Marshal of a map (keys sorted: fields, name, tags, timestamp), timestamp in json_timestamp_units, then "\n". */
function telegrafJson(units: bigint) {
  return (metric: TelegrafMetric): string => {
    const object = (record: Record<string, unknown>): string =>
      `{${Object.keys(record).sort().map(key => `${JSON.stringify(key)}:${typeof record[key] === 'bigint' ? String(record[key]) : JSON.stringify(record[key])}`).join(',')}}`
    return `{"fields":${object(metric.fields)},"name":${JSON.stringify(metric.name)},"tags":${object(metric.tags)},"timestamp":${metric.timeNs / units}}\n`
  }
}

function netMetrics(count: number, name: string): TelegrafMetric[] {
  return Array.from({ length: count }, (_, i) => ({
    name, tags: { host: `edge-${i % 5}`, interface: `eth${i % 2}` },
    fields: { bytes_recv: BigInt(i * 1500), err_count: BigInt(i % 3), up: i % 4 !== 0 }, timeNs: T0 + BigInt(i) * SECOND,
  }))
}

describe('outputs.kafka: sluice.ingest through the Kafka source', () => {
  before(() => registerKafkaCodecs())

  it('data_format = "influx", routing_tag = "host", with every compression_codec (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd): every metric lands once', async () => {
    const codecs = [kafkajs.CompressionTypes.None, kafkajs.CompressionTypes.GZIP, kafkajs.CompressionTypes.Snappy, kafkajs.CompressionTypes.LZ4, kafkajs.CompressionTypes.ZSTD]
    for (const [index, compression] of codecs.entries()) {
      await sendAsTelegrafKafka(netMetrics(40, `net_${index}`), influxLine, { compression, routingTag: 'host' })
    }
    for (const index of codecs.keys()) assert.equal(await count(kafkaDb, `net_${index}`, 40), 40, `codec ${index}`)
    const rows = await rowsWhen<Record<string, unknown>>(kafkaDb, `SELECT host, interface, bytes_recv, err_count, up FROM net_3 WHERE time = ${T0 + 7n * SECOND}`, 1)
    assert.deepEqual(rows, [{ host: 'edge-2', interface: 'eth1', bytes_recv: 10500, err_count: 1, up: true }])
  })

  it('max_retry resends (non-idempotent sarama) collapse: the same messages twice leave one point each', async () => {
    const metrics = netMetrics(30, 'net_dup')
    await sendAsTelegrafKafka(metrics, influxLine, { compression: kafkajs.CompressionTypes.None, routingTag: 'host' })
    await sendAsTelegrafKafka(metrics, influxLine, { compression: kafkajs.CompressionTypes.None, routingTag: 'host' })
    // A third send with a marker metric: once it is applied, both copies before it on each key's partition are too.
    await sendAsTelegrafKafka(netMetrics(5, 'net_dup_marker'), influxLine, { compression: kafkajs.CompressionTypes.None, routingTag: 'host' })
    await count(kafkaDb, 'net_dup_marker', 5)
    assert.equal(await count(kafkaDb, 'net_dup', 30), 30)
  })

  it('data_format = "json" (json_timestamp_units = "1s", no key) and, with Telegraf 1.39\'s [outputs.kafka.headers], "1ms" into a named database', async () => {
    await sendAsTelegrafKafka(netMetrics(20, 'net_json'), telegrafJson(SECOND), { compression: kafkajs.CompressionTypes.GZIP })
    assert.equal(await count(kafkaDb, 'net_json', 20), 20)
    const jsonDb = uniqueName('tg_kafka_json')
    await createDatabaseAsTelegrafV1(jsonDb)
    const millis = netMetrics(20, 'net_json_ms').map(metric => ({ ...metric, timeNs: metric.timeNs + 123_000_000n }))
    await sendAsTelegrafKafka(millis, telegrafJson(1_000_000n), { compression: kafkajs.CompressionTypes.Snappy, routingTag: 'host', headers: { 'sluice-database': jsonDb, 'sluice-json-timestamp-units': '1ms' } })
    assert.equal(await count(jsonDb, 'net_json_ms', 20), 20)
    const rows = await rowsWhen<Record<string, unknown>>(jsonDb, `SELECT host, bytes_recv, up FROM net_json_ms WHERE time = ${T0 + 3n * SECOND + 123_000_000n}`, 1)
    assert.deepEqual(rows, [{ host: 'edge-3', bytes_recv: 4500, up: true }], 'milliseconds kept; JSON numbers are floats, as Telegraf\'s json parser reads them')
  })
})

// Last: it stalls the broker.
describe('overload: Kafka stalls, the write queue fills', () => {
  it('503 + Retry-After on /write and /api/v1/write, 429 + Retry-After on /api/v2/write: every output keeps the batch and retries', async () => {
    const db = uniqueName('tg_overload')
    await createDatabaseAsTelegrafV1(db)
    broker.child.kill('SIGSTOP')
    try {
      // The first write takes the (only) producer and hangs in its transaction, the second waits in
      // the queue until its writeTimeoutMs; writes arriving meanwhile find the queue full.
      const pending = [writeAsTelegrafV1(db, cpuLines(10))]
      await new Promise(resolve => setTimeout(resolve, 500))
      pending.push(writeAsTelegrafV1(db, cpuLines(10, 10)))
      await new Promise(resolve => setTimeout(resolve, 500))
      const [v1, v2, http] = await Promise.all([writeAsTelegrafV1(db, cpuLines(10, 20)), writeAsTelegrafV2(db, cpuLines(10, 30)), writeAsTelegrafHttp(db, cpuLines(10, 40))])
      assert.deepEqual([v1.status, v2.status, http.status], [503, 429, 503])
      for (const answer of [v1, v2, http]) {
        assert.equal(answer.headers.get('retry-after'), String(RETRY_AFTER_SECONDS))
        assert.equal(answer.headers.get('x-sluice-error-code'), 'SLUICE_ERR_OVERLOADED')
      }
      assert.equal(telegrafV1Reaction(v1).kind, 'retry', 'v1 retries 5xx (it ignores Retry-After)')
      assert.deepEqual(telegrafV2Reaction(v2, 1), { kind: 'throttled', retryAfterMs: RETRY_AFTER_SECONDS * 1000 })
      assert.equal(telegrafHttpReaction(http, [400, 413, 422]).kind, 'retry')
      broker.child.kill('SIGCONT')
      for (const answer of await Promise.all(pending)) assert.ok([204, 503].includes(answer.status), `the stalled writes end: ${answer.status}`)
    } finally {
      broker.child.kill('SIGCONT')
    }
    // Telegraf's retry, once Kafka answers again.
    const deadline = Date.now() + 30_000
    let retried = await writeAsTelegrafV1(db, cpuLines(10, 20))
    while (retried.status !== 204 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 500))
      retried = await writeAsTelegrafV1(db, cpuLines(10, 20))
    }
    assert.deepEqual(telegrafV1Reaction(retried), { kind: 'accepted' })
  })
})
