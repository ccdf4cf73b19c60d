// Write bodies as received: kept as their chunks (not joined on the request thread), refused over
// maxBodyBytes (413) or at a length other than Content-Length (400), over a real socket as well.

import assert from 'node:assert/strict'
import { request } from 'node:http'
import { PassThrough } from 'node:stream'
import { describe, it } from 'node:test'
import Fastify from 'fastify'
import { acceptRawBodies, bodyChunks, rawBody, receiveBody, ReceivedBody } from './body.ts'
import { HttpApiError, HttpErrorCode } from './errors.ts'

function receive(chunks: Array<Buffer | string>, contentLength: string | undefined, maxBodyBytes: number, fail?: Error): Promise<ReceivedBody> {
  const stream = new PassThrough()
  const received = new Promise<ReceivedBody>((resolve, reject) => receiveBody(stream, contentLength, maxBodyBytes, (error, body) => (error ? reject(error) : resolve(body!))))
  for (const chunk of chunks) stream.write(chunk)
  if (fail) stream.destroy(fail)
  else stream.end()
  return received
}

const codeOf = (expected: string) => (error: unknown): boolean => error instanceof HttpApiError && error.code === expected

describe('receiveBody', () => {
  it('keeps the chunks as they came and joins them only when asked', async () => {
    const chunks = [Buffer.from('m v=1 1\n'), Buffer.from('m v=2'), Buffer.from(' 2\n')]
    const body = await receive(chunks, '16', 100)
    assert.equal(body.byteLength, 16)
    assert.ok(body.chunks.length > 1)
    assert.equal(rawBody(body).toString(), 'm v=1 1\nm v=2 2\n')
    assert.deepEqual(bodyChunks(body), body.chunks)
    const one = await receive([chunks[0]!], undefined, 100)
    const joined = rawBody(one)
    assert.ok(joined.buffer === chunks[0]!.buffer && joined.byteOffset === chunks[0]!.byteOffset && joined.length === 8, 'a body of one chunk is not copied')
  })

  it('refuses a body over maxBodyBytes with 413, by its Content-Length or as it arrives', async () => {
    await assert.rejects(receive(['x'], '101', 100), codeOf(HttpErrorCode.BODY_TOO_LARGE))
    await assert.rejects(receive(['x'.repeat(60), 'x'.repeat(41)], undefined, 100), codeOf(HttpErrorCode.BODY_TOO_LARGE))
    assert.equal((await receive(['x'.repeat(60), 'x'.repeat(40)], undefined, 100)).byteLength, 100)
  })

  it('refuses a body whose length differs from its Content-Length, and a stream that fails, with 400', async () => {
    await assert.rejects(receive(['abc'], '4', 100), (error: unknown) => codeOf(HttpErrorCode.BAD_PARAMETER)(error) && /3 bytes.*Content-Length says 4/.test((error as Error).message))
    await assert.rejects(receive(['abc'], undefined, 100, new Error('aborted')), (error: unknown) => codeOf(HttpErrorCode.BAD_PARAMETER)(error) && /aborted/.test((error as Error).message))
  })

  it('over a socket, a large body arrives in chunks that each own their memory (so a parse worker can take them by transfer)', async () => {
    const app = Fastify()
    let seen: ReceivedBody | undefined
    await app.register(async scope => {
      acceptRawBodies(scope, 4_000_000)
      scope.post('/write', async req => {
        seen = req.body as ReceivedBody
        return 'ok'
      })
    })
    await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const sent = Buffer.alloc(1_000_000)
      for (let i = 0; i < sent.length; i++) sent[i] = i % 251
      const port = (app.server.address() as { port: number }).port
      await new Promise<void>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/write', headers: { 'content-type': 'text/plain' } }, res => {
          res.resume()
          res.on('end', resolve)
        })
        req.on('error', reject)
        req.end(sent)
      })
      assert.ok(seen instanceof ReceivedBody)
      assert.ok(seen.chunks.length > 1, `${seen.chunks.length} chunks`)
      for (const chunk of seen.chunks) assert.ok(chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength, 'a chunk owns its ArrayBuffer')
      assert.ok(rawBody(seen).equals(sent))
    } finally {
      await app.close()
    }
  })
})
