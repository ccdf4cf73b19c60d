// The shape every lossy filter of one (series, field) shares: the per-point call, held points,
// flush and tick, counters, and the round trip through the Avro CompressorState record.
//
// The per-point call allocates nothing: time comes in as the caller's bigint (kept by reference,
// never computed with), the value as a number, and the answer is a Decision bit set. Times are
// subtracted exactly as doubles by splitting each bigint into two 32-bit words through one shared
// scratch buffer: BigInt arithmetic would allocate a BigInt per point.

import { CompressionAlgorithm, type CompressionAlgorithmValue, type CompressorState, type DoorSlopes } from '../../schemas/index.ts'
import { Decision } from './decision.ts'
import { TransformError, TransformErrorCode } from './errors.ts'
import { HIGH_WORD, LOW_WORD } from '../../lib/bytes/endianness.ts'

/** Counters of one filter, cumulative since its state began (they travel in CompressorState). */
export interface FilterCounters {
  /** Points offered, bypassing ones included. */
  readonly pointsIn: number
  /** Points written: kept, bypassing, and held points emitted. */
  readonly pointsKept: number
  /** Largest deviation of a dropped point from what a reader reconstructs, in value units (0 if none). */
  readonly maxError: number
}

/** What identifies a filter's state record in sluice.state (the caller's key). */
export interface StateIdentity {
  readonly tenant: string
  readonly database: string
  readonly seriesKey: string
  readonly field: string
}

export interface LossyFilter<Raw = unknown> extends FilterCounters {
  readonly algorithm: CompressionAlgorithmValue
  /**
   * Offers the next point of this (series, field). `value` is the field's value as a number
   * (Number(bigint) for integer fields); `raw` is whatever the caller wants back if this point is
   * held and later emitted (typically the original field value), kept by reference.
   * Returns Decision flags: KEEP (write this point), EMIT_HELD (first write the held point, see
   * emittedTimeNs/emittedValue/emittedRaw), BYPASS (with KEEP: out of order or not finite), or NONE.
   */
  offer(timeNs: bigint, value: number, raw?: Raw): number
  /** Ends the stream here: emits the held point, if any (EMIT_HELD), and makes it the last kept one. */
  flush(): number
  /** Emits the held point (EMIT_HELD) if the maximum interval has passed at `nowNs` since the last kept point. */
  tick(nowNs: bigint): number
  /** True while a point is held back (it will be written or dropped by a later call). */
  readonly hasHeld: boolean
  /** The point emitted by the last call that returned EMIT_HELD; valid until the next call. */
  readonly emittedTimeNs: bigint
  readonly emittedValue: number
  /** The `raw` given with the emitted point; undefined when the point came from a restored state. */
  readonly emittedRaw: Raw | undefined
  /** The Avro state record, or null before the first point. Allocates; call once per batch, not per point. */
  toState(identity: StateIdentity): CompressorState | null
  /**
   * Continues from a state record. Returns EMIT_HELD when the record was written by another
   * algorithm and held a point: that point is emitted (as by flush) so nothing is lost; NONE otherwise.
   */
  restore(state: CompressorState): number
}

const timeScratch = new BigInt64Array(1)
const timeWords = new Uint32Array(timeScratch.buffer)
const TWO_POW_32 = 4294967296

function stateError(state: CompressorState, message: string): TransformError {
  return new TransformError(TransformErrorCode.COMPRESSOR_STATE, `compressor state of ${state.seriesKey} ${state.field}: ${message}`,
    { seriesKey: state.seriesKey, field: state.field })
}

/** Filters that keep a pivot (the last kept point) and at most one held point. */
export abstract class PivotFilter<Raw = unknown> implements LossyFilter<Raw> {
  abstract readonly algorithm: CompressionAlgorithmValue

  pointsIn = 0
  pointsKept = 0
  maxError = 0

  emittedTimeNs = 0n
  emittedValue = 0
  emittedRaw: Raw | undefined = undefined

  protected started = false
  protected keptTimeNs = 0n
  protected keptValue = 0
  private keptHighWord = 0
  private keptLowWord = 0

  hasHeld = false
  protected heldTimeNs = 0n
  protected heldValue = 0
  protected heldRaw: Raw | undefined = undefined
  /** Time of the held point after the kept one, ns (double, exact below 2^53). */
  protected heldDtNs = 0

  // The point being decided, in fields rather than arguments: V8 boxes a double passed to (or
  // returned from) a call it does not inline, and a double field is updated in place.
  /** Value of the point being decided. */
  protected currentValue = 0
  /** Its time since the kept point, ns (set by measure). */
  protected sinceKeptNs = 0

  constructor(protected readonly minIntervalNs: number, protected readonly maxIntervalNs: number) {}

  /**
   * Each filter implements offer itself, beginning with `admit`: one shared offer calling an abstract
   * decide would be a polymorphic call, never inlined, and V8 boxes every double passed through it.
   */
  abstract offer(timeNs: bigint, value: number, raw?: Raw): number

  /**
   * The part of offer every filter shares: counts the point and returns KEEP for the first point,
   * KEEP | BYPASS for one out of order or not finite, or NONE when the filter must decide (then
   * currentValue and sinceKeptNs describe the point).
   */
  protected admit(timeNs: bigint, value: number): number {
    this.pointsIn++
    this.currentValue = value
    if (!Number.isFinite(value) || (this.started && timeNs <= (this.hasHeld ? this.heldTimeNs : this.keptTimeNs))) {
      this.pointsKept++
      return Decision.KEEP | Decision.BYPASS
    }
    if (!this.started) {
      this.started = true
      this.keepCurrent(timeNs)
      this.pointsKept++
      return Decision.KEEP
    }
    this.measure(timeNs)
    return Decision.NONE
  }

  flush(): number {
    return this.hasHeld ? this.emitHeld() : Decision.NONE
  }

  tick(nowNs: bigint): number {
    if (!this.hasHeld) return Decision.NONE
    this.measure(nowNs)
    return this.sinceKeptNs < this.maxIntervalNs ? Decision.NONE : this.emitHeld()
  }

  /** The held point is dropped for good: account for its error, forget it. */
  protected abstract dropHeld(): void
  /** The held point is about to become the kept one (account for the segment it closes). */
  protected abstract beforeEmitHeld(): void
  /** The kept point changed. */
  protected onKept(): void {}

  /** Sets sinceKeptNs to the time from the kept point to `timeNs`, exact while below 2^53 ns, without allocating. */
  protected measure(timeNs: bigint): void {
    timeScratch[0] = timeNs
    this.sinceKeptNs = ((timeWords[HIGH_WORD]! | 0) - this.keptHighWord) * TWO_POW_32 + (timeWords[LOW_WORD]! - this.keptLowWord)
  }

  private setKeptTime(timeNs: bigint): void {
    this.keptTimeNs = timeNs
    timeScratch[0] = timeNs
    this.keptHighWord = timeWords[HIGH_WORD]! | 0
    this.keptLowWord = timeWords[LOW_WORD]!
  }

  /** The current point becomes the kept one. */
  protected keepCurrent(timeNs: bigint): void {
    this.keptValue = this.currentValue
    this.setKeptTime(timeNs)
    this.onKept()
  }

  /** The current point becomes the held one (measure must have run for it). */
  protected holdCurrent(timeNs: bigint, raw: Raw | undefined): void {
    this.hasHeld = true
    this.heldTimeNs = timeNs
    this.heldValue = this.currentValue
    this.heldRaw = raw
    this.heldDtNs = this.sinceKeptNs
  }

  protected emitHeld(): number {
    this.beforeEmitHeld()
    this.emittedTimeNs = this.heldTimeNs
    this.emittedValue = this.heldValue
    this.emittedRaw = this.heldRaw
    this.hasHeld = false
    this.heldRaw = undefined
    this.keptValue = this.heldValue
    this.setKeptTime(this.heldTimeNs)
    this.onKept()
    this.pointsKept++
    return Decision.EMIT_HELD
  }

  protected doorSlopes(): DoorSlopes | null {
    return null
  }

  /** Sets up the held point's extra state (door, error) after a restore. */
  protected abstract restoreHeld(state: CompressorState): void

  toState(identity: StateIdentity): CompressorState | null {
    if (!this.started) return null
    return {
      tenant: identity.tenant,
      database: identity.database,
      seriesKey: identity.seriesKey,
      field: identity.field,
      algorithm: this.algorithm,
      lastKept: { timeNs: this.keptTimeNs, value: this.keptValue },
      lastSeen: this.hasHeld ? { timeNs: this.heldTimeNs, value: this.heldValue } : null,
      slopes: this.hasHeld ? this.doorSlopes() : null,
      pointsIn: BigInt(this.pointsIn),
      pointsKept: BigInt(this.pointsKept),
      maxErrorSeen: this.maxError,
    }
  }

  restore(state: CompressorState): number {
    const { lastKept, lastSeen } = state
    if (!Number.isFinite(lastKept.value)) throw stateError(state, `lastKept.value is ${lastKept.value}`)
    if (lastSeen !== null && lastSeen.timeNs < lastKept.timeNs) throw stateError(state, `lastSeen (${lastSeen.timeNs}) is before lastKept (${lastKept.timeNs})`)
    if (lastSeen !== null && !Number.isFinite(lastSeen.value)) throw stateError(state, `lastSeen.value is ${lastSeen.value}`)
    if (state.pointsKept > state.pointsIn || state.pointsKept < 1n) throw stateError(state, `pointsKept ${state.pointsKept} with pointsIn ${state.pointsIn}`)
    this.started = true
    this.pointsIn = Number(state.pointsIn)
    this.pointsKept = Number(state.pointsKept)
    this.maxError = state.maxErrorSeen
    this.hasHeld = false
    this.heldRaw = undefined
    this.currentValue = lastKept.value
    this.keepCurrent(lastKept.timeNs)
    // lastSeen at lastKept's time (or null) means nothing is held; later means it is the held point.
    if (lastSeen === null || lastSeen.timeNs === lastKept.timeNs) return Decision.NONE
    this.currentValue = lastSeen.value
    this.measure(lastSeen.timeNs)
    this.holdCurrent(lastSeen.timeNs, undefined)
    if (state.algorithm !== this.algorithm) return this.emitHeld()
    this.restoreHeld(state)
    return Decision.NONE
  }
}

/** Keeps every point: compression off, or a state whose algorithm is unknown (algorithm NONE loses nothing). */
export class KeepAllFilter<Raw = unknown> extends PivotFilter<Raw> {
  readonly algorithm = CompressionAlgorithm.NONE

  constructor() {
    super(0, Number.POSITIVE_INFINITY)
  }

  offer(timeNs: bigint, value: number): number {
    const admitted = this.admit(timeNs, value)
    if (admitted !== Decision.NONE) return admitted
    this.keepCurrent(timeNs)
    this.pointsKept++
    return Decision.KEEP
  }

  protected dropHeld(): void {}
  protected beforeEmitHeld(): void {}
  protected restoreHeld(): void {}
}
