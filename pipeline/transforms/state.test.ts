// Filters through the Avro CompressorState record: what is written, and resuming from it.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compressorStateType, decode, encode, type CompressorState } from '../../schemas/index.ts'
import { DeadbandFilter } from './deadband.ts'
import { Decision } from './decision.ts'
import type { LossyFilter } from './filter.ts'
import { createFilter } from './create-filter.ts'
import type { CompressionSettings } from './settings.ts'
import { SwingingDoorFilter } from './swinging-door.ts'
import { drive, pairs, type InputPoint } from './testing/drive.ts'

const identity = { tenant: 'cnosdb', database: 'plant', seriesKey: 'boiler,unit=1', field: 'temp' }

function viaAvro(filter: LossyFilter, settings: CompressionSettings): LossyFilter {
  const state = filter.toState(identity)
  assert.ok(state)
  const resumed = createFilter(settings)
  assert.equal(resumed.restore(decode(compressorStateType, encode(compressorStateType, state))), Decision.NONE)
  return resumed
}

describe('CompressorState', () => {
  it('is null before the first point', () => {
    assert.equal(new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 }).toState(identity), null)
  })

  it('swinging door: lastKept is the pivot, lastSeen the held point, slopes the open door', () => {
    const filter = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 })
    drive(filter, [[0, 0], [1, 1], [2, 2]])
    const state = filter.toState(identity)
    assert.deepEqual(state, {
      ...identity, algorithm: 'SWINGING_DOOR',
      lastKept: { timeNs: 0n, value: 0 }, lastSeen: { timeNs: 2n, value: 2 }, slopes: { upper: 1.5, lower: 0.5 },
      pointsIn: 3n, pointsKept: 1n, maxErrorSeen: 0,
    } satisfies CompressorState)
    assert.equal(filter.flush(), Decision.EMIT_HELD)
    const flushed = filter.toState(identity)!
    assert.deepEqual([flushed.lastKept, flushed.lastSeen, flushed.slopes], [{ timeNs: 2n, value: 2 }, null, null])
  })

  it('deadband: lastSeen is the held (last dropped) point, no slopes', () => {
    const filter = new DeadbandFilter({ algorithm: 'deadband', band: 1 })
    drive(filter, [[0, 0], [1, 0.5]])
    const state = filter.toState(identity)!
    assert.deepEqual([state.algorithm, state.lastKept, state.lastSeen, state.slopes], ['DEADBAND', { timeNs: 0n, value: 0 }, { timeNs: 1n, value: 0.5 }, null])
  })

  for (const settings of [{ algorithm: 'sdt', deviation: 1 }, { algorithm: 'deadband', band: 1 }] as const) {
    it(`${settings.algorithm}: splitting anywhere and resuming from Avro gives the same writes (the docs example)`, () => {
      const points: InputPoint[] = [[0, 0], [1, 1], [2, 2], [3, 2.5], [4, 1], [5, 0], [6, 3], [7, 3.1], [8, 2.9]]
      const whole = drive(createFilter(settings), points, { flush: true })
      for (let split = 1; split < points.length; split++) {
        const first = createFilter(settings)
        const before = drive(first, points.slice(0, split))
        const after = drive(viaAvro(first, settings), points.slice(split), { flush: true })
        assert.deepEqual(pairs([...before.written, ...after.written]), pairs(whole.written), `split at ${split}`)
      }
    })
  }

  it('a state written by another algorithm emits its held point on restore, so nothing is lost', () => {
    const deadband = new DeadbandFilter({ algorithm: 'deadband', band: 1 })
    drive(deadband, [[0, 0], [1, 0.5]])
    const sdt = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 })
    assert.equal(sdt.restore(deadband.toState(identity)!), Decision.EMIT_HELD)
    assert.deepEqual([sdt.emittedTimeNs, sdt.emittedValue, sdt.emittedRaw], [1n, 0.5, undefined])
    assert.equal(sdt.hasHeld, false)
    assert.equal(sdt.pointsKept, 2)
  })

  it('an unknown algorithm read as NONE restores into a filter that keeps everything', () => {
    const keepAll = createFilter({ algorithm: 'off' })
    const state: CompressorState = { ...identity, algorithm: 'NONE', lastKept: { timeNs: 5n, value: 1 }, lastSeen: null, slopes: null, pointsIn: 3n, pointsKept: 3n, maxErrorSeen: 0 }
    assert.equal(keepAll.restore(state), Decision.NONE)
    assert.equal(keepAll.offer(4n, 1), Decision.KEEP | Decision.BYPASS)
    assert.equal(keepAll.offer(6n, 1), Decision.KEEP)
  })

  it('refuses a state that cannot be resumed, naming the series and field', () => {
    const bad: CompressorState = { ...identity, algorithm: 'DEADBAND', lastKept: { timeNs: 5n, value: 1 }, lastSeen: { timeNs: 4n, value: 1 }, slopes: null, pointsIn: 3n, pointsKept: 2n, maxErrorSeen: 0 }
    assert.throws(() => new DeadbandFilter({ algorithm: 'deadband', band: 1 }).restore(bad), (error: Error & { code?: string }) =>
      error.code === 'SLUICE_ERR_COMPRESSOR_STATE' && error.message.includes('boiler,unit=1 temp'))
  })

  it('a lastSeen at lastKept\'s time means nothing is held', () => {
    const sdt = new SwingingDoorFilter({ algorithm: 'sdt', deviation: 1 })
    const state: CompressorState = { ...identity, algorithm: 'SWINGING_DOOR', lastKept: { timeNs: 5n, value: 1 }, lastSeen: { timeNs: 5n, value: 1 }, slopes: null, pointsIn: 1n, pointsKept: 1n, maxErrorSeen: 0 }
    assert.equal(sdt.restore(state), Decision.NONE)
    assert.equal(sdt.hasHeld, false)
    assert.equal(sdt.offer(5n, 9), Decision.KEEP | Decision.BYPASS)
    assert.equal(sdt.offer(6n, 9), Decision.NONE)
  })

  it('counters survive the round trip', () => {
    const filter = new DeadbandFilter({ algorithm: 'deadband', band: 1 })
    drive(filter, [[0, 0], [1, 0.5], [2, 3], [3, 3.25]])
    const resumed = viaAvro(filter, { algorithm: 'deadband', band: 1 })
    assert.deepEqual([resumed.pointsIn, resumed.pointsKept, resumed.maxError], [4, 2, 0.5])
  })
})
