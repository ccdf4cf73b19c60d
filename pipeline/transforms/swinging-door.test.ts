// Swinging door trending against hand-computed examples of its definition (docs/lossy-compression.md).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Decision } from './decision.ts'
import { SwingingDoorFilter } from './swinging-door.ts'
import { drive, pairs } from './testing/drive.ts'

const { NONE, KEEP, EMIT_HELD, BYPASS } = Decision

describe('swinging door trending (PI compression test)', () => {
  it('keeps the held point when the door closes: the worked example of the docs', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 })
    const { written, decisions } = drive(filter, [[0, 0], [1, 1], [2, 2], [3, 2.5], [4, 1], [5, 0], [6, 3]], { flush: true })
    assert.deepEqual(decisions, [KEEP, NONE, NONE, NONE, EMIT_HELD, NONE, EMIT_HELD])
    assert.deepEqual(pairs(written), [[0, 0], [3, 2.5], [5, 0], [6, 3]])
    assert.deepEqual(written.map((w) => w.how), ['kept', 'emitted', 'emitted', 'flush'])
    assert.equal(filter.pointsIn, 7)
    assert.equal(filter.pointsKept, 4)
    // Dropped (1,1), (2,2) against the line (0,0)→(3,2.5); (4,1) against (3,2.5)→(5,0).
    assert.ok(Math.abs(filter.maxError - 1 / 3) < 1e-12, `maxError ${filter.maxError}`)
  })

  it("keeps the point IoTDB's variant would drop 1.45 away from the reader's line (the reason for PI's test)", () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 })
    const { written } = drive(filter, [[0, 0], [1, 1], [2, -0.9], [3, 5]], { flush: true })
    assert.deepEqual(pairs(written), [[0, 0], [1, 1], [2, -0.9], [3, 5]])
    assert.equal(filter.maxError, 0)
  })

  it('keeps the first point, holds the second, and keeps a straight line at its two ends only', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 0.01 })
    const line = Array.from({ length: 100 }, (_, i) => [i * 1_000, 3 * i] as const)
    const { written } = drive(filter, line, { flush: true })
    assert.deepEqual(pairs(written), [[0, 0], [99_000, 297]])
    assert.equal(filter.maxError, 0)
  })

  it('a point exactly on the door edge is inside (the door is closed interval)', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 })
    // Door after (1,0): slopes [-1, 1]; (2,2) has slope 1 from (0,0): inside, (1,0) is dropped at error 1.
    const { written } = drive(filter, [[0, 0], [1, 0], [2, 2]], { flush: true })
    assert.deepEqual(pairs(written), [[0, 0], [2, 2]])
    assert.equal(filter.maxError, 1)
  })

  it('min interval: no decision inside it; when the door closed there, the first point after it is kept', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1, minIntervalNs: 3n, maxIntervalNs: 10n })
    const { written, decisions } = drive(filter, [[0, 0], [1, 5], [2, -5], [3, 0]])
    assert.deepEqual(decisions, [KEEP, NONE, NONE, KEEP])
    assert.deepEqual(pairs(written), [[0, 0], [3, 0]])
    assert.equal(filter.maxError, 5) // forced by the min interval, and reported
  })

  it('max interval: the held point is kept if the min interval allows, else the current point is', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1, minIntervalNs: 3n, maxIntervalNs: 10n })
    const { written, decisions } = drive(filter, [[3, 0], [4, 1], [13, 1], [14, 1], [20, 1.5], [23, 1.5], [40, 2]])
    assert.deepEqual(decisions, [KEEP, NONE, KEEP, NONE, NONE, EMIT_HELD, EMIT_HELD | KEEP])
    assert.deepEqual(pairs(written), [[3, 0], [13, 1], [20, 1.5], [23, 1.5], [40, 2]])
    assert.ok(Math.abs(filter.maxError - 0.9) < 1e-12)
  })

  it('a point older than or equal in time to the last seen bypasses, state unchanged', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 })
    const { written, decisions } = drive(filter, [[0, 0], [10, 1], [5, 100], [10, -100], [20, 2]], { flush: true })
    assert.deepEqual(decisions, [KEEP, NONE, KEEP | BYPASS, KEEP | BYPASS, NONE])
    assert.deepEqual(pairs(written), [[0, 0], [5, 100], [10, -100], [20, 2]])
    assert.equal(filter.pointsIn, 5)
    assert.equal(filter.pointsKept, 4)
  })

  it('NaN and infinities bypass (kept, state unchanged)', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 })
    const { written } = drive(filter, [[0, 0], [1, Number.NaN], [2, Number.POSITIVE_INFINITY], [3, 0.5]], { flush: true })
    assert.deepEqual(written.map((w) => w.how), ['kept', 'bypass', 'bypass', 'flush'])
  })

  it('a non-finite first point bypasses and does not start the filter', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 })
    const { decisions } = drive(filter, [[0, Number.NaN], [1, 5], [2, 5.5]])
    assert.deepEqual(decisions, [KEEP | BYPASS, KEEP, NONE])
    assert.equal(filter.toState({ tenant: 't', database: 'd', seriesKey: 's', field: 'f' })!.lastKept.value, 5)
  })

  it('tick emits the held point once the max interval has passed since the last kept point', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1, maxIntervalNs: 100n })
    drive(filter, [[0, 0], [10, 0.5]])
    assert.equal(filter.tick(99n), NONE)
    assert.equal(filter.tick(100n), EMIT_HELD)
    assert.deepEqual([filter.emittedTimeNs, filter.emittedValue], [10n, 0.5])
    assert.equal(filter.hasHeld, false)
    assert.equal(filter.tick(1_000n), NONE) // nothing held any more
    assert.equal(filter.flush(), NONE)
  })

  it('hands back the raw value of a held point (integers are written as given, never as the double)', () => {
    const filter = new SwingingDoorFilter<bigint>({ algorithm: 'sdt', deviation: 10 })
    const big = 2n ** 60n + 1n
    filter.offer(0n, 0, 0n)
    filter.offer(1n, Number(big), big)
    assert.equal(filter.flush(), EMIT_HELD)
    assert.equal(filter.emittedRaw, big)
  })

  it('rejects a deviation ≤ 0', () => {
    assert.throws(() => new SwingingDoorFilter({ algorithm: 'sdt', deviation: 0 }), { code: 'SLUICE_ERR_COMPRESSION_CONFIG' })
  })

  it('subtracts nanosecond timestamps exactly around the Unix epoch of today', () => {
    const base = 1_764_400_000_000_000_001n
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 0.5 })
    // A line of slope 1 per ns: any error in the subtraction would close the door.
    const { written } = drive(filter, Array.from({ length: 50 }, (_, i) => [base + BigInt(i), i] as const), { flush: true })
    assert.deepEqual(written.map((w) => w.timeNs), [base, base + 49n])
  })
})
