// Swinging door trending, as PI's compression test: the door hinges at the last kept point A, the
// newest point is held back as the snapshot S, and S is kept when the slope from A to the next point
// leaves the door, so every dropped point lies within the deviation of the line between the kept
// points around it. Chosen over IoTDB's variant, which tests the feasible-slope interval including
// the new point's own band and can drop points up to twice the deviation away from that line.
// Definition, min/max interval rules, edge cases and a worked example: docs/lossy-compression.md.

import { CompressionAlgorithm, type CompressorState, type DoorSlopes } from '../../schemas/index.ts'
import { Decision } from './decision.ts'
import { ErrorHull } from './error-hull.ts'
import { PivotFilter } from './filter.ts'
import { intervalsOf, validateSettings, type SdtSettings } from './settings.ts'

export class SwingingDoorFilter<Raw = unknown> extends PivotFilter<Raw> {
  readonly algorithm = CompressionAlgorithm.SWINGING_DOOR
  private readonly deviation: number
  /** The door, as slopes from the kept point in value units per ns; lower > upper once it has closed. */
  private upper = Number.POSITIVE_INFINITY
  private lower = Number.NEGATIVE_INFINITY
  /** The points dropped since the kept point, for the exact error of the segment when it closes. */
  private readonly dropped = new ErrorHull()

  constructor(settings: SdtSettings) {
    validateSettings(settings)
    const { minIntervalNs, maxIntervalNs } = intervalsOf(settings)
    super(minIntervalNs, maxIntervalNs)
    this.deviation = settings.deviation
  }

  offer(timeNs: bigint, value: number, raw?: Raw): number {
    const admitted = this.admit(timeNs, value)
    if (admitted !== Decision.NONE) return admitted
    let decision: number = Decision.NONE
    if (this.hasHeld && this.sinceKeptNs >= this.maxIntervalNs) {
      // Maximum interval: the held point is kept if the minimum interval allows, else dropped (and
      // the current point, now as far from the kept one as the maximum interval, is kept below).
      if (this.heldDtNs >= this.minIntervalNs) {
        decision = this.emitHeld()
        this.measure(timeNs)
      } else {
        this.dropHeld()
      }
    }
    if (!this.hasHeld) {
      if (this.sinceKeptNs >= this.maxIntervalNs) return decision | this.keepCurrentPoint(timeNs)
      this.holdCurrent(timeNs, raw)
      this.openDoor()
      return decision
    }
    const slope = (value - this.keptValue) / this.sinceKeptNs
    if ((slope >= this.lower && slope <= this.upper) || this.sinceKeptNs < this.minIntervalNs) {
      // The line from the kept point to this one stays within the deviation of every point since,
      // or no decision may be taken before the minimum interval: the held point is dropped.
      this.dropHeld()
      this.narrow()
      this.holdCurrent(timeNs, raw)
      return Decision.NONE
    }
    if (this.heldDtNs >= this.minIntervalNs) {
      decision = this.emitHeld()
      this.measure(timeNs)
      this.holdCurrent(timeNs, raw)
      this.openDoor()
      return decision
    }
    // The door closed inside the minimum interval and the held point may not be kept: keep this one.
    this.dropHeld()
    return this.keepCurrentPoint(timeNs)
  }

  private keepCurrentPoint(timeNs: bigint): number {
    this.closeSegment(false)
    this.keepCurrent(timeNs)
    this.pointsKept++
    return Decision.KEEP
  }

  /** The door through the current point alone: slopes from the kept point to its value ± deviation. */
  private openDoor(): void {
    this.upper = (this.currentValue + this.deviation - this.keptValue) / this.sinceKeptNs
    this.lower = (this.currentValue - this.deviation - this.keptValue) / this.sinceKeptNs
  }

  /** Narrows the door so the current point is within the deviation of every line through it. */
  private narrow(): void {
    const upper = (this.currentValue + this.deviation - this.keptValue) / this.sinceKeptNs
    const lower = (this.currentValue - this.deviation - this.keptValue) / this.sinceKeptNs
    if (upper < this.upper) this.upper = upper
    if (lower > this.lower) this.lower = lower
  }

  /** The segment from the kept point ends at the held point (or the current one): fold its dropped points' error in. */
  private closeSegment(atHeld: boolean): void {
    if (this.dropped.isEmpty) return
    const slope = atHeld ? (this.heldValue - this.keptValue) / this.heldDtNs : (this.currentValue - this.keptValue) / this.sinceKeptNs
    const error = this.dropped.maxDeviation(slope)
    if (error > this.maxError) this.maxError = error
    this.dropped.reset()
  }

  protected dropHeld(): void {
    const point = this.dropped.point
    point[0] = this.heldDtNs
    point[1] = this.heldValue - this.keptValue
    this.dropped.add()
    this.hasHeld = false
    this.heldRaw = undefined
  }

  protected beforeEmitHeld(): void {
    this.closeSegment(true)
  }

  protected override onKept(): void {
    this.upper = Number.POSITIVE_INFINITY
    this.lower = Number.NEGATIVE_INFINITY
    this.dropped.reset() // already folded in by closeSegment, except on restore
  }

  protected override doorSlopes(): DoorSlopes {
    return { upper: this.upper, lower: this.lower }
  }

  protected restoreHeld(state: CompressorState): void {
    if (state.slopes !== null) {
      this.upper = state.slopes.upper
      this.lower = state.slopes.lower
    } else {
      this.openDoor() // restore() has just made the held point the current one
    }
  }
}
