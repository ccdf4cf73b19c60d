// Request bodies of the write endpoints: taken as raw bytes whatever the Content-Type (Telegraf sends
// text/plain, the influx CLI none, curl application/x-www-form-urlencoded), size-limited before and
// after gunzip, so a small gzip bomb cannot expand past maxBodyBytes.

import { gunzip } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { HttpApiError, HttpErrorCode } from './errors.ts'

const EMPTY = Buffer.alloc(0)

/**
 * A write body as its chunks arrived. Kept apart rather than joined here: a parse worker joins them
 * on its own thread (joinBody), and the chunks move to it by transfer, not copy, since each owns its
 * memory (Node's HTTP parser copies every body piece out of the socket's read buffer, and nothing else
 * holds them once the request stream has emitted them). Joining them on this thread was a copy of
 * every body (fastify's raw body parser: 0.18 s of a node's main thread in bench:e2e).
 */
export class ReceivedBody {
  constructor(readonly chunks: readonly Buffer[], readonly byteLength: number) {}
}

/** In the calling plugin's context only: every content type is read as a ReceivedBody of at most maxBodyBytes. */
export function acceptRawBodies(app: FastifyInstance, maxBodyBytes: number): void {
  // The influx CLI (1.6) sends `Content-Type:` with an empty value, which fastify refuses (415)
  // although it reads a body without the header: treat empty as absent.
  app.addHook('onRequest', async request => {
    if (request.headers['content-type'] === '') delete request.headers['content-type']
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { bodyLimit: maxBodyBytes }, (request, payload, done) => receiveBody(payload, request.headers['content-length'], maxBodyBytes, done))
}

const bodyTooLarge = (maxBodyBytes: number): HttpApiError =>
  new HttpApiError(HttpErrorCode.BODY_TOO_LARGE, `Request Entity Too Large: the body is larger than maxBodyBytes = ${maxBodyBytes} bytes`)

/** Collects the chunks of `payload`, refusing more than maxBodyBytes (413) and a length other than Content-Length (400). */
export function receiveBody(payload: NodeJS.ReadableStream, contentLengthHeader: string | undefined, maxBodyBytes: number, done: (error: Error | null, body?: ReceivedBody) => void): void {
  const contentLength = contentLengthHeader === undefined ? Number.NaN : Number(contentLengthHeader)
  if (contentLength > maxBodyBytes) return done(bodyTooLarge(maxBodyBytes))
  const chunks: Buffer[] = []
  let byteLength = 0
  const stop = (): void => {
    payload.removeListener('data', onData)
    payload.removeListener('end', onEnd)
    payload.removeListener('error', onError)
  }
  const onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    byteLength += bytes.length
    if (byteLength > maxBodyBytes) {
      stop()
      return done(bodyTooLarge(maxBodyBytes))
    }
    chunks.push(bytes)
  }
  const onEnd = (): void => {
    stop()
    if (!Number.isNaN(contentLength) && byteLength !== contentLength) {
      return done(new HttpApiError(HttpErrorCode.BAD_PARAMETER, `the body has ${byteLength} bytes, its Content-Length says ${contentLength}`))
    }
    done(null, new ReceivedBody(chunks, byteLength))
  }
  const onError = (error: Error): void => {
    stop()
    done(new HttpApiError(HttpErrorCode.BAD_PARAMETER, `the body could not be read: ${error.message}`, { cause: error }))
  }
  payload.on('data', onData)
  payload.on('end', onEnd)
  payload.on('error', onError)
  payload.resume()
}

/** Chunks as one buffer: the only chunk itself, or a copy of them all. */
export function joinBody(chunks: readonly Uint8Array[]): Buffer {
  if (chunks.length === 1) return Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength)
  return Buffer.concat(chunks)
}

/** The answer to a gzip body that does not decompress within maxBodyBytes (on this thread or a parse worker). */
export function gunzipFailure(error: Error, maxBodyBytes: number): HttpApiError {
  if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || error instanceof RangeError) {
    return new HttpApiError(HttpErrorCode.BODY_TOO_LARGE, `Request Entity Too Large: the body decompresses to more than maxBodyBytes = ${maxBodyBytes} bytes`)
  }
  return new HttpApiError(HttpErrorCode.BAD_ENCODING, `unable to decompress the gzip body: ${error.message}`, { cause: error })
}

function gunzipLimited(body: Buffer, maxBodyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: maxBodyBytes }, (error, result) => (error ? reject(gunzipFailure(error, maxBodyBytes)) : resolve(result)))
  })
}

export type BodyEncoding = 'identity' | 'gzip'

/** The body's Content-Encoding, of those Sluice reads; UNSUPPORTED_ENCODING for others. */
export function bodyEncodingOf(contentEncoding: string | undefined): BodyEncoding {
  const encoding = (contentEncoding ?? '').trim().toLowerCase()
  if (encoding === '' || encoding === 'identity') return 'identity'
  if (encoding === 'gzip' || encoding === 'x-gzip') return 'gzip'
  throw new HttpApiError(HttpErrorCode.UNSUPPORTED_ENCODING, `unsupported Content-Encoding "${contentEncoding}" (use gzip or identity)`)
}

/** The body as received, in one buffer (empty when there is none). */
export function rawBody(body: unknown): Buffer {
  if (body instanceof ReceivedBody) return body.chunks.length === 0 ? EMPTY : joinBody(body.chunks)
  return Buffer.isBuffer(body) ? body : EMPTY
}

/** The body's chunks as received, for a parse worker to join (none when there is no body). */
export function bodyChunks(body: unknown): readonly Buffer[] {
  if (body instanceof ReceivedBody) return body.chunks
  return Buffer.isBuffer(body) && body.length > 0 ? [body] : []
}

/** The body as sent, decompressed per Content-Encoding (gzip or identity). */
export async function decodeBody(body: unknown, contentEncoding: string | undefined, maxBodyBytes: number): Promise<Buffer> {
  const raw = rawBody(body)
  if (bodyEncodingOf(contentEncoding) === 'identity' || raw.length === 0) return raw
  return gunzipLimited(raw, maxBodyBytes)
}
