// Deadband against hand-computed examples of its definition (docs/lossy-compression.md).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFilter } from './create-filter.ts'
import { fieldValueLike, isCompressible, numberOf } from './field-values.ts'
import { DeadbandFilter } from './deadband.ts'
import { Decision } from './decision.ts'
import { drive, pairs } from './testing/drive.ts'

const { NONE, KEEP, EMIT_HELD, BYPASS } = Decision

describe('deadband (PI exception test)', () => {
  it('keeps a point that leaves the band around the last kept value: the worked example of the docs', () => {
    const filter = new DeadbandFilter({ algorithm: 'deadband', band: 1 })
    const { written, decisions } = drive(filter, [[0, 10], [1, 10.5], [2, 11.2], [3, 10.4], [4, 10.4], [5, 9.3], [6, 9.5]], { flush: true })
    assert.deepEqual(decisions, [KEEP, NONE, KEEP, NONE, NONE, KEEP, NONE])
    assert.deepEqual(pairs(written), [[0, 10], [2, 11.2], [5, 9.3], [6, 9.5]])
    assert.equal(written.at(-1)!.how, 'flush')
    assert.equal(filter.pointsIn, 7)
    assert.equal(filter.pointsKept, 4)
    assert.ok(Math.abs(filter.maxError - 0.8) < 1e-9, `maxError ${filter.maxError}`)
  })

  it('a point exactly on the band edge is dropped (strictly greater leaves it)', () => {
    const { written } = drive(new DeadbandFilter({ algorithm: 'deadband', band: 0.5 }), [[0, 1], [1, 1.5], [2, 0.5], [3, 1.75]])
    assert.deepEqual(pairs(written), [[0, 1], [3, 1.75]])
  })

  it('relative band: a fraction of |last kept value|; around 0 every change is kept', () => {
    const filter = new DeadbandFilter({ algorithm: 'deadband', band: 0.05, relative: true })
    const { written } = drive(filter, [[0, 100], [1, 104], [2, 106], [3, 101], [4, 100.6]])
    assert.deepEqual(pairs(written), [[0, 100], [2, 106], [4, 100.6]]) // band 5, then 5.3
    const atZero = drive(new DeadbandFilter({ algorithm: 'deadband', band: 0.05, relative: true }), [[0, 0], [1, 0], [2, 0.001]])
    assert.deepEqual(pairs(atZero.written), [[0, 0], [2, 0.001]])
  })

  it('min interval: nothing is kept sooner; max interval: a point that late is kept whatever its value', () => {
    const filter = new DeadbandFilter({ algorithm: 'deadband', band: 1, minIntervalNs: 10n, maxIntervalNs: 100n })
    const { written, decisions } = drive(filter, [[0, 0], [5, 5], [10, 5], [50, 5.5], [109, 5.5], [110, 5.2]])
    assert.deepEqual(decisions, [KEEP, NONE, KEEP, NONE, NONE, KEEP])
    assert.deepEqual(pairs(written), [[0, 0], [10, 5], [110, 5.2]])
    assert.equal(filter.maxError, 5) // (5, 5) was dropped by the min interval
  })

  it('tick emits the held (last seen) point once the max interval has passed since the last kept one', () => {
    const filter = new DeadbandFilter({ algorithm: 'deadband', band: 1, maxIntervalNs: 100n })
    drive(filter, [[0, 0], [10, 0.5], [20, 0.25]])
    assert.equal(filter.tick(99n), NONE)
    assert.equal(filter.tick(100n), EMIT_HELD)
    assert.deepEqual([filter.emittedTimeNs, filter.emittedValue, filter.emittedRaw], [20n, 0.25, 0.25])
    assert.equal(filter.pointsKept, 2)
    assert.equal(filter.maxError, 0.5) // (10, 0.5) is dropped for good
  })

  it('a point older than or equal in time to the last seen bypasses, state unchanged', () => {
    const filter = new DeadbandFilter({ algorithm: 'deadband', band: 1 })
    const { written, decisions } = drive(filter, [[0, 0], [10, 0.5], [10, 50], [3, -50], [11, 0.9], [12, 1.2]])
    assert.deepEqual(decisions, [KEEP, NONE, KEEP | BYPASS, KEEP | BYPASS, NONE, KEEP])
    assert.deepEqual(pairs(written), [[0, 0], [10, 50], [3, -50], [12, 1.2]])
  })

  it('integers are compared as numbers; the held raw value is handed back untouched', () => {
    const filter = new DeadbandFilter<bigint>({ algorithm: 'deadband', band: 2 })
    assert.equal(filter.offer(0n, 100, 100n), KEEP)
    assert.equal(filter.offer(1n, 102, 102n), NONE)
    assert.equal(filter.offer(2n, 103, 103n), KEEP)
    assert.equal(filter.offer(3n, 104, 104n), NONE)
    assert.equal(filter.flush(), EMIT_HELD)
    assert.equal(filter.emittedRaw, 104n)
    assert.equal(typeof filter.emittedRaw, 'bigint')
  })

  it('the first point is kept even when it is the only one; flush then has nothing to emit', () => {
    const filter = new DeadbandFilter({ algorithm: 'deadband', band: 1 })
    assert.equal(filter.offer(5n, 1), KEEP)
    assert.equal(filter.flush(), NONE)
  })

  it('rejects a band ≤ 0 and max interval below min interval', () => {
    assert.throws(() => new DeadbandFilter({ algorithm: 'deadband', band: -1 }), { code: 'SLUICE_ERR_COMPRESSION_CONFIG' })
    assert.throws(() => new DeadbandFilter({ algorithm: 'deadband', band: 1, minIntervalNs: 10n, maxIntervalNs: 5n }), /maxIntervalNs/)
  })
})

describe('createFilter and field types', () => {
  it('booleans and strings are never compressed; numbers, integers and unsigned integers are', () => {
    assert.equal(isCompressible(true), false)
    assert.equal(isCompressible('on'), false)
    assert.equal(isCompressible(1.5), true)
    assert.equal(isCompressible(5n), true)
    assert.equal(isCompressible({ unsigned: 5n }), true)
  })

  it('numberOf compares integers as numbers; fieldValueLike rebuilds a restored held value in the field\'s type', () => {
    assert.equal(numberOf(7n), 7)
    assert.equal(numberOf({ unsigned: 2n ** 40n }), 2 ** 40)
    assert.equal(numberOf(1.25), 1.25)
    assert.throws(() => numberOf('x'), TypeError)
    assert.equal(fieldValueLike(42, 1n), 42n)
    assert.deepEqual(fieldValueLike(42, { unsigned: 0n }), { unsigned: 42n })
    assert.equal(fieldValueLike(0.5, 2.5), 0.5)
    assert.throws(() => fieldValueLike(1, true), TypeError)
  })

  it("'off' keeps every point and still counts", () => {
    const filter = createFilter({ algorithm: 'off' })
    const { written } = drive(filter, [[0, 1], [1, 1], [2, 1]], { flush: true })
    assert.equal(written.length, 3)
    assert.equal(filter.algorithm, 'NONE')
    assert.equal(filter.pointsKept, 3)
  })
})
