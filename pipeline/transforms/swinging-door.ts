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

  protected decide(timeNs: bigint, value: number, raw: Raw | undefined, dtNs: number): number {
    let decision: number = Decision.NONE
    if (this.hasHeld && dtNs >= this.maxIntervalNs) {
      // Maximum interval: the held point is kept if the minimum interval allows, else dropped (and
      // the current point, now as far from the kept one as the maximum interval, is kept below).
      if (this.heldDtNs >= this.minIntervalNs) {
        decision = this.emitHeld()
        dtNs = this.sinceKeptNs(timeNs)
      } else {
        this.dropHeld()
      }
    }
    if (!this.hasHeld) {
      if (dtNs >= this.maxIntervalNs) return decision | this.keepCurrent(timeNs, value, dtNs)
      this.hold(timeNs, value, raw, dtNs)
      this.openDoor(value, dtNs)
      return decision
    }
    const slope = (value - this.keptValue) / dtNs
    if ((slope >= this.lower && slope <= this.upper) || dtNs < this.minIntervalNs) {
      // The line from the kept point to this one stays within the deviation of every point since,
      // or no decision may be taken before the minimum interval: the held point is dropped.
      this.dropHeld()
      this.narrow(value, dtNs)
      this.hold(timeNs, value, raw, dtNs)
      return Decision.NONE
    }
    if (this.heldDtNs >= this.minIntervalNs) {
      decision = this.emitHeld()
      dtNs = this.sinceKeptNs(timeNs)
      this.hold(timeNs, value, raw, dtNs)
      this.openDoor(value, dtNs)
      return decision
    }
    // The door closed inside the minimum interval and the held point may not be kept: keep this one.
    this.dropHeld()
    return this.keepCurrent(timeNs, value, dtNs)
  }

  private keepCurrent(timeNs: bigint, value: number, dtNs: number): number {
    this.closeSegment((value - this.keptValue) / dtNs)
    this.setKept(timeNs, value)
    return Decision.KEEP
  }

  private openDoor(value: number, dtNs: number): void {
    this.upper = (value + this.deviation - this.keptValue) / dtNs
    this.lower = (value - this.deviation - this.keptValue) / dtNs
  }

  private narrow(value: number, dtNs: number): void {
    const upper = (value + this.deviation - this.keptValue) / dtNs
    const lower = (value - this.deviation - this.keptValue) / dtNs
    if (upper < this.upper) this.upper = upper
    if (lower > this.lower) this.lower = lower
  }

  /** The segment from the kept point ends with slope `slope`: fold its dropped points' error in. */
  private closeSegment(slope: number): void {
    if (this.dropped.isEmpty) return
    const error = this.dropped.maxDeviation(slope)
    if (error > this.maxError) this.maxError = error
    this.dropped.reset()
  }

  protected dropHeld(): void {
    this.dropped.add(this.heldDtNs, this.heldValue - this.keptValue)
    this.hasHeld = false
    this.heldRaw = undefined
  }

  protected beforeEmitHeld(): void {
    this.closeSegment((this.heldValue - this.keptValue) / this.heldDtNs)
  }

  protected override onKept(): void {
    this.upper = Number.POSITIVE_INFINITY
    this.lower = Number.NEGATIVE_INFINITY
  }

  protected override doorSlopes(): DoorSlopes {
    return { upper: this.upper, lower: this.lower }
  }

  protected restoreHeld(state: CompressorState): void {
    if (state.slopes !== null) {
      this.upper = state.slopes.upper
      this.lower = state.slopes.lower
    } else {
      this.openDoor(this.heldValue, this.heldDtNs)
    }
  }
}
