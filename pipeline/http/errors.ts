// Error codes of the HTTP API and the one place they become HTTP statuses and bodies. Every refusal
// carries a SLUICE_ERR_ code (also sent as the X-Sluice-Error-Code header), a status chosen per
// endpoint family (the InfluxDB 1.x, InfluxDB 2.x and CnosDB dialects answer differently where their
// clients react differently, see docs/http-api.md), and whether a retry may succeed.

export const HttpErrorCode = {
  /** A required parameter is missing or malformed (db, bucket, consistency). */
  BAD_PARAMETER: 'SLUICE_ERR_BAD_PARAMETER',
  /** The precision parameter is not one the endpoint knows. */
  INVALID_PRECISION: 'SLUICE_ERR_INVALID_PRECISION',
  /** Lines of the body could not be parsed; the body lists them with line numbers. */
  LINE_PROTOCOL: 'SLUICE_ERR_LINE_PROTOCOL',
  /** Points sent a field with another type than the one it already has. */
  FIELD_TYPE_CONFLICT: 'SLUICE_ERR_FIELD_TYPE_CONFLICT',
  /** The gzip body could not be decompressed. */
  BAD_ENCODING: 'SLUICE_ERR_BAD_ENCODING',
  /** A Content-Encoding other than gzip or identity. */
  UNSUPPORTED_ENCODING: 'SLUICE_ERR_UNSUPPORTED_ENCODING',
  /** No credentials, or credentials that match no token. */
  UNAUTHORIZED: 'SLUICE_ERR_UNAUTHORIZED',
  /** A valid token without the permission (another tenant, another database, read-only). */
  FORBIDDEN: 'SLUICE_ERR_FORBIDDEN',
  /** The database does not exist and databases are not created on first write. */
  DATABASE_NOT_FOUND: 'SLUICE_ERR_DATABASE_NOT_FOUND',
  /** Body over maxBodyBytes, compressed or decompressed. */
  BODY_TOO_LARGE: 'SLUICE_ERR_BODY_TOO_LARGE',
  /** Idempotency-Key malformed (empty, too long). */
  BAD_IDEMPOTENCY_KEY: 'SLUICE_ERR_BAD_IDEMPOTENCY_KEY',
  /** Idempotency-Key already used for a different request. */
  IDEMPOTENCY_KEY_REUSED: 'SLUICE_ERR_IDEMPOTENCY_KEY_REUSED',
  /** Another request with this Idempotency-Key is still in progress. */
  IDEMPOTENCY_IN_PROGRESS: 'SLUICE_ERR_IDEMPOTENCY_IN_PROGRESS',
  /** The write queue of this node is full (maxQueuedRecordBytes). */
  OVERLOADED: 'SLUICE_ERR_OVERLOADED',
  /** Kafka did not take the records (down, slow past writeTimeoutMs, transaction aborted): nothing was written. */
  KAFKA_UNAVAILABLE: 'SLUICE_ERR_KAFKA_UNAVAILABLE',
  /** A query reached a node whose replica is still catching up with the changelog: ask another node, or retry. */
  REPLICA_CATCHING_UP: 'SLUICE_ERR_REPLICA_CATCHING_UP',
  /** Redis (databases, field types, Idempotency-Key) did not answer. */
  CONTROL_STORE_UNAVAILABLE: 'SLUICE_ERR_CONTROL_STORE_UNAVAILABLE',
  /** /query got a statement it cannot parse or does not support. */
  QUERY: 'SLUICE_ERR_QUERY',
  /** /api/v1/sql: an UPDATE or DELETE in a form Sluice refuses (docs/sql-commands.md), or a value of the wrong type. */
  SQL_UNSUPPORTED: 'SLUICE_ERR_SQL_UNSUPPORTED',
  /** /api/v1/sql: the statement names a table (measurement) or column no write ever created. */
  TABLE_NOT_FOUND: 'SLUICE_ERR_TABLE_NOT_FOUND',
  /** A feature that is not built yet (SELECT over /api/v1/sql before the query layer). */
  NOT_IMPLEMENTED: 'SLUICE_ERR_NOT_IMPLEMENTED',
  /** No such route or method. */
  NOT_FOUND: 'SLUICE_ERR_NOT_FOUND',
  /** A parse worker thread crashed or missed the write deadline while holding the request: nothing was written. */
  WORKER_FAILED: 'SLUICE_ERR_WORKER_FAILED',
  /** A bug: anything not foreseen above. */
  INTERNAL: 'SLUICE_ERR_INTERNAL',
} as const

export type HttpErrorCodeValue = (typeof HttpErrorCode)[keyof typeof HttpErrorCode]

/** The endpoint families, each with its clients' error conventions. */
export const Dialect = {
  /** InfluxDB 1.x: /write, /query, /ping. `{"error": "..."}` + X-Influxdb-Error. */
  INFLUX1: 'influx1',
  /** InfluxDB 2.x: /api/v2/write. `{"code": "...", "message": "..."}` + X-Platform-Error-Code. */
  INFLUX2: 'influx2',
  /** CnosDB: /api/v1/write. `{"error_code": "SLUICE_ERR_...", "error_message": "..."}`. */
  CNOSDB: 'cnosdb',
} as const

export type DialectValue = (typeof Dialect)[keyof typeof Dialect]

interface ErrorRule {
  status: number
  retriable: boolean
  /** A different status for some dialects. */
  byDialect?: Partial<Record<DialectValue, number>>
}

/**
 * Code → status. InfluxDB 2.x answers type conflicts 422 (Telegraf v2 drops the batch, as with 400);
 * queue-full is 429 on /api/v2/write (Telegraf v2 backs off by Retry-After) but 503 on /write, since
 * Telegraf's v1 output drops any 4xx batch, 429 included, and retries 5xx.
 */
const rules: Readonly<Record<HttpErrorCodeValue, ErrorRule>> = Object.freeze({
  SLUICE_ERR_BAD_PARAMETER: { status: 400, retriable: false },
  SLUICE_ERR_INVALID_PRECISION: { status: 400, retriable: false },
  SLUICE_ERR_LINE_PROTOCOL: { status: 400, retriable: false },
  SLUICE_ERR_FIELD_TYPE_CONFLICT: { status: 400, retriable: false, byDialect: { influx2: 422 } },
  SLUICE_ERR_BAD_ENCODING: { status: 400, retriable: false },
  SLUICE_ERR_UNSUPPORTED_ENCODING: { status: 415, retriable: false },
  SLUICE_ERR_UNAUTHORIZED: { status: 401, retriable: false },
  SLUICE_ERR_FORBIDDEN: { status: 403, retriable: false },
  SLUICE_ERR_DATABASE_NOT_FOUND: { status: 404, retriable: false },
  SLUICE_ERR_BODY_TOO_LARGE: { status: 413, retriable: false },
  SLUICE_ERR_BAD_IDEMPOTENCY_KEY: { status: 400, retriable: false },
  SLUICE_ERR_IDEMPOTENCY_KEY_REUSED: { status: 422, retriable: false },
  SLUICE_ERR_IDEMPOTENCY_IN_PROGRESS: { status: 409, retriable: true, byDialect: { influx1: 503 } },
  SLUICE_ERR_OVERLOADED: { status: 503, retriable: true, byDialect: { influx2: 429 } },
  SLUICE_ERR_KAFKA_UNAVAILABLE: { status: 503, retriable: true },
  SLUICE_ERR_CONTROL_STORE_UNAVAILABLE: { status: 503, retriable: true },
  SLUICE_ERR_REPLICA_CATCHING_UP: { status: 503, retriable: true },
  SLUICE_ERR_QUERY: { status: 400, retriable: false },
  SLUICE_ERR_SQL_UNSUPPORTED: { status: 422, retriable: false },
  SLUICE_ERR_TABLE_NOT_FOUND: { status: 404, retriable: false },
  SLUICE_ERR_NOT_IMPLEMENTED: { status: 501, retriable: false },
  SLUICE_ERR_NOT_FOUND: { status: 404, retriable: false },
  SLUICE_ERR_WORKER_FAILED: { status: 500, retriable: true },
  SLUICE_ERR_INTERNAL: { status: 500, retriable: false },
})

/** InfluxDB 2.x's error code strings ("invalid", "unauthorized", ...) by status. */
const influx2Codes: Readonly<Record<number, string>> = Object.freeze({
  400: 'invalid', 401: 'unauthorized', 403: 'forbidden', 404: 'not found', 409: 'conflict', 413: 'request too large',
  415: 'unsupported media type', 422: 'unprocessable entity', 429: 'too many requests', 500: 'internal error', 501: 'not implemented', 503: 'unavailable',
})

/** One rejected line, as reported to the client. */
export interface ReportedLineError {
  line: number
  column?: number
  reason: string
  code: string
  /** The line's text (InfluxDB's "unable to parse '<line>'"), cut at 256 bytes. */
  text?: string
}

export class HttpApiError extends Error {
  readonly code: HttpErrorCodeValue
  readonly retriable: boolean
  /** Rejected lines, for LINE_PROTOCOL and FIELD_TYPE_CONFLICT. */
  readonly lines: readonly ReportedLineError[]
  /** Points written despite the error (a partial write), so that an answer can say so. */
  readonly written: number
  /** Extra response headers (WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>

  constructor(code: HttpErrorCodeValue, message: string, details: { lines?: readonly ReportedLineError[]; written?: number; headers?: Record<string, string>; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.name = 'HttpApiError'
    this.code = code
    this.retriable = rules[code].retriable
    this.lines = details.lines ?? []
    this.written = details.written ?? 0
    this.headers = details.headers ?? {}
  }
}

export function isHttpApiError(error: unknown): error is HttpApiError {
  return error instanceof HttpApiError
}

/** The status a code gets on an endpoint of `dialect`. */
export function statusFor(code: HttpErrorCodeValue, dialect: DialectValue): number {
  const rule = rules[code]
  return rule.byDialect?.[dialect] ?? rule.status
}

export interface ErrorResponse {
  status: number
  headers: Record<string, string>
  body: Record<string, unknown>
}

const MAX_ERROR_HEADER_CHARS = 1024

/** Header values must be ISO-8859-1 without line breaks; InfluxDB caps X-Influxdb-Error at 1024 chars. */
function headerText(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.slice(0, MAX_ERROR_HEADER_CHARS).replace(/[^\x20-\x7e]/g, ' ')
}

/** The full answer to an error on an endpoint of `dialect`: status, headers and JSON body. */
export function errorResponse(error: HttpApiError, dialect: DialectValue, retryAfterSeconds: number): ErrorResponse {
  const status = statusFor(error.code, dialect)
  const headers: Record<string, string> = { 'X-Sluice-Error-Code': error.code, ...error.headers }
  if (status === 503 || status === 429 || (status === 409 && error.retriable)) headers['Retry-After'] = String(retryAfterSeconds)
  const lines = error.lines.length > 0 ? { lines: error.lines } : {}
  switch (dialect) {
    case Dialect.INFLUX1:
      headers['X-Influxdb-Error'] = headerText(error.message)
      return { status, headers, body: { error: error.message, ...lines } }
    case Dialect.INFLUX2: {
      const code = influx2Codes[status] ?? 'internal error'
      headers['X-Platform-Error-Code'] = code
      return { status, headers, body: { code, message: error.message, ...lines } }
    }
    case Dialect.CNOSDB:
      return { status, headers, body: { error_code: error.code, error_message: error.message, ...lines } }
  }
}

/** Any thrown value as an HttpApiError (unknown ones become INTERNAL, keeping the cause for the log). */
export function toHttpApiError(error: unknown): HttpApiError {
  if (error instanceof HttpApiError) return error
  const fastifyCode = (error as { code?: unknown })?.code
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') return new HttpApiError(HttpErrorCode.BODY_TOO_LARGE, 'Request Entity Too Large', { cause: error })
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new HttpApiError(HttpErrorCode.BAD_PARAMETER, (error as Error).message, { cause: error })
  const status = (error as { statusCode?: unknown })?.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new HttpApiError(HttpErrorCode.BAD_PARAMETER, (error as Error).message, { cause: error })
  }
  return new HttpApiError(HttpErrorCode.INTERNAL, 'internal error', { cause: error })
}
