import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bucketStartNs, parseDurationNs, parseTimestamp } from './time.ts'
import { QueryErrorCode, isQueryError } from './errors.ts'

test('timestamps: RFC 3339 with nanoseconds and offsets, dates alone; impossible dates refused', () => {
  assert.equal(parseTimestamp('1970-01-01T00:00:00Z'), 0n)
  assert.equal(parseTimestamp('2023-11-14T22:13:20.000000001Z'), 1_700_000_000_000_000_001n)
  assert.equal(parseTimestamp('2023-11-15 06:13:20+08:00'), 1_700_000_000_000_000_000n)
  assert.equal(parseTimestamp('2023-11-14'), 1_699_920_000_000_000_000n)
  assert.equal(parseTimestamp('2023-02-30T00:00:00Z'), null)
  assert.equal(parseTimestamp('yesterday'), null)
})

test('durations: short and long units, combined; months and zero refused', () => {
  assert.equal(parseDurationNs('1 minute'), 60_000_000_000n)
  assert.equal(parseDurationNs('1h30m'), 5_400_000_000_000n)
  assert.equal(parseDurationNs('2 hours 5 minutes'), 7_500_000_000_000n)
  assert.equal(parseDurationNs('250ms'), 250_000_000n)
  for (const text of ['1 month', '0s', 'soon', '5']) {
    assert.throws(() => parseDurationNs(text), (error: unknown) => isQueryError(error) && error.code === QueryErrorCode.BAD_VALUE, text)
  }
})

test('buckets floor towards minus infinity, from any origin', () => {
  assert.equal(bucketStartNs(125n, 60n, 0n), 120n)
  assert.equal(bucketStartNs(120n, 60n, 0n), 120n)
  assert.equal(bucketStartNs(-1n, 60n, 0n), -60n)
  assert.equal(bucketStartNs(125n, 60n, 10n), 70n)
  assert.equal(bucketStartNs(5n, 60n, 10n), -50n)
})
