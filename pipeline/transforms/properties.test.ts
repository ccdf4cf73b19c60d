// Property tests (fast-check) of both filters on random and real-looking signals: random walk, sine
// plus noise, steps, integer counters; irregular timestamps near today's epoch; out-of-order points.
// Each property is checked against the definitions in docs/lossy-compression.md, not the code.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { compressorStateType, decode, encode } from '../../schemas/index.ts'
import { createFilter } from './create-filter.ts'
import { Decision } from './decision.ts'
import type { LossyFilter } from './filter.ts'
import type { DeadbandSettings, SdtSettings } from './settings.ts'
import { collect, type Written } from './testing/drive.ts'

const EPOCH_NS = 1_764_400_000_000_000_000n

type Kind = 'walk' | 'sine' | 'steps' | 'counter'

interface Step {
  dtNs: number
  x: number
  late: number
}

interface Signal {
  kind: Kind
  points: Array<{ timeNs: bigint; value: number; raw: { index: number } }>
}

const stepArb = fc.record({
  dtNs: fc.oneof(fc.integer({ min: 1, max: 2_000 }), fc.integer({ min: 1, max: 2_000_000_000 }), fc.constant(1_000_000)),
  x: fc.double({ min: -1, max: 1, noNaN: true }),
  late: fc.integer({ min: 0, max: 15 }),
})

function buildSignal(kind: Kind, steps: Step[], allowLate: boolean): Signal {
  let timeNs = EPOCH_NS
  let elapsedNs = 0
  let value = kind === 'counter' ? 2 ** 40 : 0
  const points: Signal['points'] = []
  steps.forEach((step, index) => {
    let pointTimeNs: bigint
    if (allowLate && step.late === 0 && index > 0) {
      pointTimeNs = timeNs - BigInt(Math.floor(Math.abs(step.x) * 3_000_000_000)) // older than or equal to the last seen
    } else {
      timeNs += BigInt(step.dtNs)
      elapsedNs += step.dtNs
      pointTimeNs = timeNs
    }
    switch (kind) {
      case 'walk': value += step.x * 3; break
      case 'sine': value = 10 * Math.sin((2 * Math.PI * elapsedNs) / 5e9) + step.x * 0.3; break
      case 'steps': if (step.late === 7) value = Math.round(step.x * 100); break
      case 'counter': value += Math.floor((step.x + 1) * 500); break
    }
    // Now and then a value that is not finite (other sources than line protocol may send one).
    points.push({ timeNs: pointTimeNs, value: allowLate && step.late === 3 && step.x > 0.9 ? Number.NaN : value, raw: { index } })
  })
  return { kind, points }
}

const signalArb = (allowLate: boolean): fc.Arbitrary<Signal> =>
  fc.tuple(fc.constantFrom<Kind>('walk', 'sine', 'steps', 'counter'), fc.array(stepArb, { minLength: 1, maxLength: 250 }))
    .map(([kind, steps]) => buildSignal(kind, steps, allowLate))

const intervalsArb = fc.oneof(
  fc.constant({}),
  fc.record({ minIntervalNs: fc.bigInt({ min: 0n, max: 300_000_000n }) }),
  fc.tuple(fc.bigInt({ min: 0n, max: 300_000_000n }), fc.bigInt({ min: 1n, max: 5_000_000_000n }))
    .map(([minIntervalNs, extra]) => ({ minIntervalNs, maxIntervalNs: minIntervalNs + extra })),
)

const sdtArb: fc.Arbitrary<SdtSettings> = fc.tuple(fc.constantFrom(0.01, 0.1, 0.5, 1, 5, 40), intervalsArb)
  .map(([deviation, intervals]) => ({ algorithm: 'sdt', deviation, ...intervals }))

const deadbandArb: fc.Arbitrary<DeadbandSettings> = fc.tuple(fc.constantFrom(0.01, 0.5, 1, 5, 40), fc.boolean(), intervalsArb)
  .map(([band, relative, intervals]) => relative
    ? { algorithm: 'deadband', band: band / 100, relative: true, ...intervals }
    : { algorithm: 'deadband', band, ...intervals })

const settingsArb = fc.oneof(sdtArb, deadbandArb)

interface Run {
  written: Written[]
  /** The raw value handed back with each write (the offered point's, or emittedRaw). */
  raws: unknown[]
  filter: LossyFilter
}

/** Runs the signal through fresh filters, handing over through Avro CompressorState before each index in `splits`. */
function run(settings: SdtSettings | DeadbandSettings, signal: Signal, splits: ReadonlySet<number> = new Set(), tickEvery = 0): Run {
  let filter = createFilter(settings)
  const written: Written[] = []
  const raws: unknown[] = []
  signal.points.forEach((point, index) => {
    if (tickEvery > 0 && index % tickEvery === 0 && filter.tick(point.timeNs) !== Decision.NONE) {
      // The processor's tick at log time: the time of the record being processed.
      written.push({ timeNs: filter.emittedTimeNs, value: filter.emittedValue, how: 'tick' })
      raws.push(filter.emittedRaw)
    }
    if (splits.has(index)) {
      const state = filter.toState({ tenant: 't', database: 'd', seriesKey: 's', field: 'f' })
      filter = createFilter(settings)
      if (state) assert.equal(filter.restore(decode(compressorStateType, encode(compressorStateType, state))), Decision.NONE)
    }
    const decision = filter.offer(point.timeNs, point.value, point.raw)
    if ((decision & Decision.EMIT_HELD) !== 0) raws.push(filter.emittedRaw)
    if ((decision & Decision.KEEP) !== 0) raws.push(point.raw)
    collect(filter, decision, point.timeNs, point.value, written)
  })
  if (filter.flush() !== Decision.NONE) {
    written.push({ timeNs: filter.emittedTimeNs, value: filter.emittedValue, how: 'flush' })
    raws.push(filter.emittedRaw)
  }
  return { written, raws, filter }
}

/** The in-order, finite points of a signal (time after every earlier one): the ones the filter decides on. */
function inOrder(signal: Signal): Signal['points'] {
  let lastNs: bigint | undefined
  return signal.points.filter((p) => {
    if (!Number.isFinite(p.value) || (lastNs !== undefined && p.timeNs <= lastNs)) return false
    lastNs = p.timeNs
    return true
  })
}

interface Segment {
  dropped: Signal['points'][number]
  before: Written
  after: Written | undefined
}

/** Each dropped in-order point with the kept points around it. */
function droppedPoints(signal: Signal, written: readonly Written[]): Segment[] {
  const kept = written.filter((w) => w.how !== 'bypass')
  const keptTimes = new Set(kept.map((w) => w.timeNs))
  const segments: Segment[] = []
  let k = 0
  for (const point of inOrder(signal)) {
    while (k + 1 < kept.length && kept[k + 1]!.timeNs <= point.timeNs) k++
    if (!keptTimes.has(point.timeNs)) segments.push({ dropped: point, before: kept[k]!, after: kept[k + 1] })
  }
  return segments
}

function sdtError(segment: Segment): number {
  const { dropped, before, after } = segment
  assert.ok(after, `dropped point at ${dropped.timeNs} has no kept point after it, though the stream was flushed`)
  const fraction = Number(dropped.timeNs - before.timeNs) / Number(after.timeNs - before.timeNs)
  return Math.abs(dropped.value - (before.value + (after.value - before.value) * fraction))
}

function tolerance(...values: number[]): number {
  return 1e-12 * (1 + values.reduce((sum, v) => sum + Math.abs(v), 0))
}

const RUNS = { numRuns: 300 }

describe('lossy compression properties', () => {
  it('the first point is always kept, kept values are the offered ones untouched, counters add up', () => {
    fc.assert(fc.property(settingsArb, signalArb(true), (settings, signal) => {
      const { written, raws, filter } = run(settings, signal)
      assert.deepEqual([written[0]!.timeNs, written[0]!.value], [signal.points[0]!.timeNs, signal.points[0]!.value])
      const firstFinite = signal.points.find((p) => Number.isFinite(p.value))
      if (firstFinite) assert.ok(written.some((w) => w.timeNs === firstFinite.timeNs && w.value === firstFinite.value), 'first finite point kept')
      written.forEach((w, i) => {
        const source = signal.points[(raws[i] as { index: number }).index]!
        assert.equal(w.timeNs, source.timeNs)
        assert.ok(Object.is(w.value, source.value))
      })
      assert.equal(filter.pointsIn, signal.points.length)
      assert.equal(filter.pointsKept, written.length)
    }), RUNS)
  })

  it('swinging door: every dropped point lies within the deviation of the line between the kept points around it', () => {
    fc.assert(fc.property(sdtArb, signalArb(true), (settings, signal) => {
      const { written, filter } = run(settings, signal)
      const minIntervalNs = settings.minIntervalNs ?? 0n
      let observed = 0
      for (const segment of droppedPoints(signal, written)) {
        const error = sdtError(segment)
        observed = Math.max(observed, error)
        if (segment.dropped.timeNs - segment.before.timeNs < minIntervalNs) continue // the min interval forced it (documented)
        const { before, after, dropped } = segment
        assert.ok(error <= settings.deviation + tolerance(before.value, after!.value, dropped.value),
          `${signal.kind}: point at +${dropped.timeNs - EPOCH_NS} off by ${error} > ${settings.deviation}`)
      }
      const scale = Math.max(0, ...inOrder(signal).map((p) => Math.abs(p.value)))
      assert.ok(Math.abs(filter.maxError - observed) <= 1e-9 * (1 + scale), `reported max error ${filter.maxError}, observed ${observed}`)
    }), RUNS)
  })

  it('deadband: every dropped point lies within the band of the last kept point', () => {
    fc.assert(fc.property(deadbandArb, signalArb(true), (settings, signal) => {
      const { written, filter } = run(settings, signal)
      const minIntervalNs = settings.minIntervalNs ?? 0n
      let observed = 0
      for (const { dropped, before } of droppedPoints(signal, written)) {
        const error = Math.abs(dropped.value - before.value)
        observed = Math.max(observed, error)
        if (dropped.timeNs - before.timeNs < minIntervalNs) continue
        const band = settings.relative ? settings.band * Math.abs(before.value) : settings.band
        assert.ok(error <= band + tolerance(before.value, dropped.value), `${signal.kind}: off by ${error} > band ${band}`)
      }
      assert.equal(filter.maxError, observed)
    }), RUNS)
  })

  it('min and max interval: kept points at least min apart (but the flushed last one); no point dropped max or more after a kept one', () => {
    fc.assert(fc.property(settingsArb, signalArb(true), (settings, signal) => {
      const { written } = run(settings, signal)
      const kept = written.filter((w) => w.how !== 'bypass')
      for (let i = 1; i < kept.length; i++) {
        if (kept[i]!.how === 'flush') continue
        assert.ok(kept[i]!.timeNs - kept[i - 1]!.timeNs >= (settings.minIntervalNs ?? 0n), 'kept closer than the min interval')
      }
      if (settings.maxIntervalNs === undefined) return
      for (const { dropped, before } of droppedPoints(signal, written)) {
        assert.ok(dropped.timeNs - before.timeNs < settings.maxIntervalNs, `dropped ${dropped.timeNs - before.timeNs} ns after a kept point`)
      }
    }), RUNS)
  })

  it('splitting the stream anywhere, through Avro CompressorState, gives exactly the writes of one uninterrupted run', () => {
    fc.assert(fc.property(settingsArb, signalArb(true), fc.array(fc.nat(), { maxLength: 5 }), (settings, signal, cuts) => {
      const whole = run(settings, signal)
      const split = run(settings, signal, new Set(cuts.map((c) => c % signal.points.length)))
      assert.deepEqual(split.written, whole.written)
      const everywhere = run(settings, signal, new Set(signal.points.keys()))
      assert.deepEqual(everywhere.written, whole.written, 'handing over before every point')
      // Before its first finite point a filter has no state, so bypassed points before it are not counted across a handover (documented).
      if (!Number.isFinite(signal.points[0]!.value)) return
      assert.equal(everywhere.filter.pointsKept, whole.filter.pointsKept)
      assert.equal(split.filter.pointsIn, whole.filter.pointsIn)
      assert.equal(split.filter.pointsKept, whole.filter.pointsKept)
      if (settings.algorithm === 'deadband') assert.equal(split.filter.maxError, whole.filter.maxError)
      else assert.ok(split.filter.maxError <= whole.filter.maxError) // the open segment's dropped points are not in the state
    }), RUNS)
  })

  it('ticks at log time keep the bounds, and a handover anywhere still gives the same writes', () => {
    fc.assert(fc.property(settingsArb, signalArb(true), fc.integer({ min: 1, max: 20 }), fc.nat(), (settings, signal, tickEvery, cut) => {
      const whole = run(settings, signal, new Set(), tickEvery)
      const split = run(settings, signal, new Set([cut % signal.points.length]), tickEvery)
      assert.deepEqual(split.written, whole.written)
      const minIntervalNs = settings.minIntervalNs ?? 0n
      for (const segment of droppedPoints(signal, whole.written)) {
        if (segment.dropped.timeNs - segment.before.timeNs < minIntervalNs) continue
        const { before, after, dropped } = segment
        const error = settings.algorithm === 'sdt' ? sdtError(segment) : Math.abs(dropped.value - before.value)
        const bound = settings.algorithm === 'sdt' ? settings.deviation
          : settings.relative ? settings.band * Math.abs(before.value) : settings.band
        assert.ok(error <= bound + tolerance(before.value, after?.value ?? 0, dropped.value), `off by ${error} > ${bound}`)
      }
    }), { numRuns: 150 })
  })

  it('after a handover, only a held point from the state comes back without its raw value, and with its exact value', () => {
    fc.assert(fc.property(settingsArb, signalArb(true), fc.nat(), (settings, signal, cut) => {
      const split = run(settings, signal, new Set([cut % signal.points.length]))
      const valueAt = new Map(inOrder(signal).map((p) => [p.timeNs, p.value]))
      split.raws.forEach((raw, i) => {
        const w = split.written[i]!
        if (raw !== undefined) return
        assert.ok(w.how === 'emitted' || w.how === 'flush', `a ${w.how} write without its raw value`)
        assert.equal(w.value, valueAt.get(w.timeNs))
      })
    }), { numRuns: 100 })
  })
})
