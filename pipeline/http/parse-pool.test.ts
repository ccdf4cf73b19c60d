// The parse worker pool: results equal parsing on the calling thread; a crashed or stuck worker fails
// its requests with WORKER_FAILED (never a hang) and is replaced, so the next request succeeds.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { lineProtocolLimits, parseLineProtocol, toIngestRecords } from '../ingest/index.ts'
import { joinBody } from './body.ts'
import { encodeBody, unpackRecords, type EncodeRequest } from './encode-body.ts'
import { HttpApiError, HttpErrorCode } from './errors.ts'
import { ParsePool } from './parse-pool.ts'

const faultyWorker = new URL('./testing/faulty-parse-worker.mjs', import.meta.url)
const BODY = 'cpu,host=a,region=eu usage=1.5,idle=2i 10\ncpu,host=b usage=2.5,idle=3i 20\nmem,host=a free=3u,ok=true,note="x y" 30\nbad line\n'

function request(text: string, overrides: Partial<EncodeRequest> = {}): EncodeRequest {
  return {
    body: Buffer.from(text), precision: 'ns', receivedAtNs: 1_000n, limits: lineProtocolLimits(), maxErrorsReported: 10,
    tenant: 't', database: 'd', partitions: 4, schemaId: 1, idempotencyKey: null, encodeAroundErrors: true, ...overrides,
  }
}

const soon = (): number => Date.now() + 5_000

describe('encodeBody', () => {
  it('encodes the same records as toIngestRecords, and reports claims, tag keys and line errors', () => {
    const result = encodeBody(request(BODY))
    assert.equal(result.kind, 'encoded')
    if (result.kind !== 'encoded') return
    const batch = parseLineProtocol(Buffer.from(BODY), { nowNs: 1_000n, maxErrorsReported: 10 })
    const expected = toIngestRecords(batch, { tenant: 't', database: 'd', partitions: 4, source: 'http', receivedAtNs: 1_000n, idempotencyKey: null, schemaId: 1 })
    batch.release()
    assert.deepEqual(unpackRecords(result.records!).map(r => [r.partition, r.key.toString(), r.value.toString('hex')]), expected.map(r => [r.partition, r.key.toString(), r.value.toString('hex')]))
    assert.equal(result.pointCount, 3)
    assert.equal(result.rejectedLineCount, 1)
    assert.equal(result.parseErrors[0]!.line, 4)
    assert.equal(result.parseErrors[0]!.text, 'bad line')
    assert.deepEqual([result.fieldClaims.measurements, result.fieldClaims.fields, [...result.fieldClaims.types]], [
      ['cpu', 'cpu', 'mem', 'mem', 'mem'], ['usage', 'idle', 'free', 'ok', 'note'], [1, 2, 3, 5, 4],
    ])
    assert.deepEqual([result.tagKeys.measurements, result.tagKeys.keys], [['cpu', 'cpu', 'mem'], ['host', 'region', 'host']])
  })

  it('joins a body\'s chunks in a buffer it reuses, and nothing it returns points into that buffer', () => {
    const chunksOf = (text: string, size: number): Buffer[] => {
      const bytes = Buffer.from(text)
      return Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => Buffer.from(bytes.subarray(i * size, (i + 1) * size)))
    }
    const snapshot = (result: ReturnType<typeof encodeBody>): unknown => result.kind === 'encoded'
      ? [unpackRecords(result.records!).map(r => [r.partition, r.key.toString('hex'), r.value.toString('hex')]), result.parseErrors, result.fieldClaims.measurements, [...result.fieldClaims.types]]
      : result.kind
    const first = encodeBody(request('', { body: chunksOf(BODY, 7) }))
    assert.deepEqual(snapshot(first), snapshot(encodeBody(request(BODY))))
    const before = JSON.stringify(snapshot(first))
    encodeBody(request('', { body: chunksOf('zzz,host=q other=9 1\n'.repeat(20), 5) }))
    assert.equal(JSON.stringify(snapshot(first)), before, 'the first body\'s results outlive the next body joined in the same buffer')
  })

  it('lists every type a field is sent with, so the main thread sees the conflict', () => {
    const result = encodeBody(request('m v=1\nm v="a"\nm v=2'))
    assert.equal(result.kind, 'encoded')
    if (result.kind === 'encoded') assert.deepEqual([...result.fieldClaims.types], [1, 4])
  })

  it('encodes nothing for a body with errors when the dialect writes nothing around them', () => {
    const result = encodeBody(request(BODY, { encodeAroundErrors: false }))
    assert.equal(result.kind === 'encoded' && result.records, null)
  })

  it('answers a body over a limit as refused, with the limit error', () => {
    const result = encodeBody(request('m v=1\n', { limits: lineProtocolLimits({ maxBodyBytes: 3 }) }))
    assert.equal(result.kind, 'refused')
    if (result.kind === 'refused') assert.equal(result.code, 'SLUICE_ERR_LIMIT_EXCEEDED')
  })
})

describe('ParsePool', () => {
  const pools: ParsePool[] = []
  const pool = (options: ConstructorParameters<typeof ParsePool>[0]): ParsePool => {
    const made = new ParsePool(options)
    pools.push(made)
    return made
  }
  after(() => Promise.all(pools.map(p => p.close())))

  it('answers what encodeBody answers here, transferring the body and handing it back', async () => {
    const workers = pool({ size: 2 })
    const body = Buffer.from(new ArrayBuffer(BODY.length))
    body.write(BODY)
    const result = await workers.encode(request(BODY, { body }), soon())
    assert.equal(body.byteLength, 0, 'a body that owns its buffer is transferred, not copied')
    const here = encodeBody(request(BODY))
    assert.equal(result.kind, 'encoded')
    if (result.kind !== 'encoded' || here.kind !== 'encoded') return
    assert.equal(joinBody(result.body instanceof Uint8Array ? [result.body] : result.body).toString(), BODY)
    assert.deepEqual(unpackRecords(result.records!), unpackRecords(here.records!))
    assert.deepEqual(result.parseErrors, here.parseErrors)
  })

  it('takes a body as its chunks (split anywhere, in a line or a character), transferring each and joining them on the worker', async () => {
    const workers = pool({ size: 2 })
    const text = `${BODY}héllo,k=v f="é" 5\n`
    const bytes = Buffer.from(text)
    const here = encodeBody(request(text))
    for (const cuts of [[1], [7, 8, 30], [bytes.indexOf('é') + 1], [bytes.length - 1]]) {
      const bounds = [0, ...cuts, bytes.length]
      const chunks = bounds.slice(1).map((end, i) => {
        const chunk = Buffer.from(new ArrayBuffer(end - bounds[i]!))
        bytes.copy(chunk, 0, bounds[i]!, end)
        return chunk
      })
      const result = await workers.encode(request('', { body: chunks }), soon())
      assert.ok(chunks.every(chunk => chunk.byteLength === 0), 'every chunk that owns its buffer is transferred, not copied')
      assert.equal(result.kind, 'encoded')
      if (result.kind !== 'encoded' || here.kind !== 'encoded') return
      assert.ok(Array.isArray(result.body) && joinBody(result.body).equals(bytes), 'the chunks are handed back')
      assert.deepEqual(unpackRecords(result.records!), unpackRecords(here.records!))
      assert.deepEqual([result.pointCount, result.rejectedLineCount, result.parseErrors], [here.pointCount, here.rejectedLineCount, here.parseErrors])
    }
    const empty = await workers.encode(request('', { body: [] }), soon())
    assert.equal(empty.kind === 'encoded' && empty.pointCount, 0)
  })

  it('copies a body that shares its buffer (a pooled Buffer), leaving the neighbours intact', async () => {
    const workers = pool({ size: 1 })
    const body = Buffer.from('m v=1') // from Node's shared pool
    assert.notEqual(body.byteLength, body.buffer.byteLength)
    const result = await workers.encode(request('', { body }), soon())
    assert.equal(result.kind, 'encoded')
    assert.equal(body.toString(), 'm v=1')
  })

  it('fails the requests of a crashed worker with WORKER_FAILED (500) and replaces the worker', async () => {
    const workers = pool({ size: 1, workerUrl: faultyWorker })
    const crashed = workers.encode(request('CRASH v=1'), soon())
    await assert.rejects(crashed, (error: unknown) => error instanceof HttpApiError && error.code === HttpErrorCode.WORKER_FAILED && /exited with code 3/.test(error.message))
    assert.equal(workers.restarts, 1)
    const next = await workers.encode(request('m v=1'), soon())
    assert.equal(next.kind === 'encoded' && next.pointCount, 1)
  })

  it('fails a request whose worker does not answer by the deadline, and replaces the stuck worker', async () => {
    const workers = pool({ size: 1, workerUrl: faultyWorker })
    await workers.ready()
    const started = Date.now()
    await assert.rejects(workers.encode(request('HANG v=1'), Date.now() + 300), (error: unknown) => error instanceof HttpApiError && error.code === HttpErrorCode.WORKER_FAILED)
    assert.ok(Date.now() - started < 4_000, 'answered at the deadline, not hung')
    const next = await workers.encode(request('m v=1'), soon())
    assert.equal(next.kind === 'encoded' && next.pointCount, 1)
  })

  it('a worker that cannot start fails requests at once and is respawned with a backoff, not in a loop', async () => {
    const workers = pool({ size: 1, workerUrl: new URL('./testing/no-such-worker.mjs', import.meta.url) })
    await assert.rejects(workers.ready(), (error: unknown) => error instanceof HttpApiError && error.code === HttpErrorCode.WORKER_FAILED)
    await assert.rejects(workers.encode(request('m v=1'), soon()), (error: unknown) => error instanceof HttpApiError && error.code === HttpErrorCode.WORKER_FAILED)
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.ok(workers.restarts <= 4, `respawned ${workers.restarts} times in 300 ms`)
  })

  it('refuses a body that would overfill the queue with OVERLOADED', async () => {
    const workers = pool({ size: 1, maxQueuedBodyBytes: 10, workerUrl: faultyWorker })
    const stuck = workers.encode(request('HANG v=1'), Date.now() + 1_000).catch(error => error)
    await assert.rejects(workers.encode(request('m v=1,w=2'), soon()), (error: unknown) => error instanceof HttpApiError && error.code === HttpErrorCode.OVERLOADED)
    assert.equal((await stuck).code, HttpErrorCode.WORKER_FAILED)
  })
})
