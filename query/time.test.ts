import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { bucketStartNs, forEachTumblingRun, parseDurationNs, parseTimestamp } from './time.ts'
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

/** The runs by the definition: each time's bucket start, grouped where consecutive times share it. */
function runsByDefinition(times: bigint[], intervalNs: bigint, originNs: bigint): Array<[bigint, number, number]> {
  const runs: Array<[bigint, number, number]> = []
  times.forEach((time, i) => {
    const bucketNs = bucketStartNs(time, intervalNs, originNs)
    const last = runs.at(-1)
    if (last !== undefined && last[0] === bucketNs) last[2] = i + 1
    else runs.push([bucketNs, i, i + 1])
  })
  return runs
}

function tumblingRuns(times: BigInt64Array, count: number, intervalNs: bigint, originNs: bigint): Array<[bigint, number, number]> {
  const runs: Array<[bigint, number, number]> = []
  forEachTumblingRun(times, count, intervalNs, originNs, (bucketNs, start, end) => runs.push([bucketNs, start, end]))
  return runs
}

test('tumbling bucket runs: the same runs as each time\'s bucket start, word path and wide-span path alike', () => {
  const base = 1_451_606_400_000_000_000n
  // Word path: around 2016, before 1970, across 2^32 ns word boundaries, with repeated times.
  const near = [base, base + 1n, base + 59_999_999_999n, base + 60_000_000_000n, base + 60_000_000_000n, base + 185_000_000_000n]
  assert.deepEqual(tumblingRuns(BigInt64Array.from(near), near.length, 60_000_000_000n, 0n), runsByDefinition(near, 60_000_000_000n, 0n))
  const negative = [-10n, -7n, -1n, 0n, 3n, 4_294_967_295n, 4_294_967_296n, 4_294_967_297n]
  assert.deepEqual(tumblingRuns(BigInt64Array.from(negative), negative.length, 3n, 1n), runsByDefinition(negative, 3n, 1n))
  // Wide-span path: a chunk spanning more than 2^53 ns, and an interval that long.
  const wide = [-(2n ** 62n), 0n, 2n ** 54n, 2n ** 62n]
  assert.deepEqual(tumblingRuns(BigInt64Array.from(wide), wide.length, 2n ** 50n, 5n), runsByDefinition(wide, 2n ** 50n, 5n))
  assert.deepEqual(tumblingRuns(BigInt64Array.from(near), near.length, 2n ** 60n, 0n), [[2n ** 60n, 0, near.length]])
  // Only the first `count` times, from a view into a larger buffer.
  const view = new BigInt64Array(BigInt64Array.from([0n, ...near, 0n]).buffer, 8, near.length)
  assert.deepEqual(tumblingRuns(view, 3, 60_000_000_000n, 0n), runsByDefinition(near.slice(0, 3), 60_000_000_000n, 0n))
  assert.deepEqual(tumblingRuns(new BigInt64Array(0), 0, 1n, 0n), [])

  fc.assert(fc.property(
    fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }),
    fc.array(fc.bigInt({ min: 0n, max: 2n ** 40n }), { minLength: 1, maxLength: 60 }),
    fc.bigInt({ min: 1n, max: 2n ** 41n }),
    fc.bigInt({ min: -(2n ** 45n), max: 2n ** 45n }),
    (start, steps, intervalNs, originNs) => {
      const times: bigint[] = []
      let time = start
      for (const step of steps) times.push(time += step % 3n === 0n ? 0n : step)
      assert.deepEqual(tumblingRuns(BigInt64Array.from(times), times.length, intervalNs, originNs), runsByDefinition(times, intervalNs, originNs))
    },
  ), { numRuns: 500 })
})
