// Request bodies of the write endpoints: taken as raw bytes whatever the Content-Type (Telegraf sends
// text/plain, the influx CLI none, curl application/x-www-form-urlencoded), size-limited before and
// after gunzip, so a small gzip bomb cannot expand past maxBodyBytes.

import { gunzip } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { HttpApiError, HttpErrorCode } from './errors.ts'

const EMPTY = Buffer.alloc(0)

/** In the calling plugin's context only: every content type is read as a Buffer of at most maxBodyBytes. */
export function acceptRawBodies(app: FastifyInstance, maxBodyBytes: number): void {
  // The influx CLI (1.6) sends `Content-Type:` with an empty value, which fastify refuses (415)
  // although it reads a body without the header: treat empty as absent.
  app.addHook('onRequest', async request => {
    if (request.headers['content-type'] === '') delete request.headers['content-type']
  })
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) => done(null, body))
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

/** The body as received (a Buffer, or empty). */
export function rawBody(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : EMPTY
}

/** The body as sent, decompressed per Content-Encoding (gzip or identity). */
export async function decodeBody(body: unknown, contentEncoding: string | undefined, maxBodyBytes: number): Promise<Buffer> {
  const raw = rawBody(body)
  if (bodyEncodingOf(contentEncoding) === 'identity' || raw.length === 0) return raw
  return gunzipLimited(raw, maxBodyBytes)
}
