// The one error-to-status table, per dialect, and the answer shapes each dialect's clients read.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Dialect, errorResponse, HttpApiError, HttpErrorCode, statusFor, toHttpApiError } from './errors.ts'

describe('statusFor', () => {
  it('gives Telegraf\'s v1 output 5xx for everything retriable, and the v2 output 429/422 where InfluxDB 2.x uses them', () => {
    assert.equal(statusFor(HttpErrorCode.OVERLOADED, Dialect.INFLUX1), 503)
    assert.equal(statusFor(HttpErrorCode.OVERLOADED, Dialect.INFLUX2), 429)
    assert.equal(statusFor(HttpErrorCode.IDEMPOTENCY_IN_PROGRESS, Dialect.INFLUX1), 503)
    assert.equal(statusFor(HttpErrorCode.IDEMPOTENCY_IN_PROGRESS, Dialect.INFLUX2), 409)
    assert.equal(statusFor(HttpErrorCode.FIELD_TYPE_CONFLICT, Dialect.INFLUX1), 400)
    assert.equal(statusFor(HttpErrorCode.FIELD_TYPE_CONFLICT, Dialect.INFLUX2), 422)
    for (const dialect of Object.values(Dialect)) {
      assert.equal(statusFor(HttpErrorCode.KAFKA_UNAVAILABLE, dialect), 503)
      assert.equal(statusFor(HttpErrorCode.BODY_TOO_LARGE, dialect), 413)
      assert.equal(statusFor(HttpErrorCode.UNAUTHORIZED, dialect), 401)
      assert.equal(statusFor(HttpErrorCode.FORBIDDEN, dialect), 403)
      assert.equal(statusFor(HttpErrorCode.DATABASE_NOT_FOUND, dialect), 404)
    }
  })
})

describe('errorResponse', () => {
  const down = new HttpApiError(HttpErrorCode.KAFKA_UNAVAILABLE, 'Kafka did not commit\nthe write: ünïcode')

  it('renders each dialect\'s body and headers, with Retry-After on retriable answers', () => {
    const v1 = errorResponse(down, Dialect.INFLUX1, 7)
    assert.deepEqual(v1.body, { error: down.message })
    assert.equal(v1.headers['Retry-After'], '7')
    assert.equal(v1.headers['X-Influxdb-Error'], 'Kafka did not commit the write:  n code')
    assert.equal(v1.headers['X-Sluice-Error-Code'], 'SLUICE_ERR_KAFKA_UNAVAILABLE')
    const v2 = errorResponse(down, Dialect.INFLUX2, 7)
    assert.deepEqual(v2.body, { code: 'unavailable', message: down.message })
    assert.equal(v2.headers['X-Platform-Error-Code'], 'unavailable')
    const cnos = errorResponse(new HttpApiError(HttpErrorCode.LINE_PROTOCOL, 'bad', { lines: [{ line: 2, reason: 'r', code: 'SLUICE_ERR_LINE_PROTOCOL' }] }), Dialect.CNOSDB, 7)
    assert.deepEqual(cnos, { status: 400, headers: { 'X-Sluice-Error-Code': 'SLUICE_ERR_LINE_PROTOCOL' }, body: { error_code: 'SLUICE_ERR_LINE_PROTOCOL', error_message: 'bad', lines: [{ line: 2, reason: 'r', code: 'SLUICE_ERR_LINE_PROTOCOL' }] } })
  })

  it('turns fastify\'s body limit into 413 and anything unforeseen into a 500 that keeps its cause', () => {
    assert.equal(toHttpApiError(Object.assign(new Error('too large'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).code, HttpErrorCode.BODY_TOO_LARGE)
    const bug = new TypeError('x is undefined')
    const internal = toHttpApiError(bug)
    assert.equal(internal.code, HttpErrorCode.INTERNAL)
    assert.equal(internal.cause, bug)
    assert.equal(errorResponse(internal, Dialect.INFLUX1, 5).status, 500)
  })
})
