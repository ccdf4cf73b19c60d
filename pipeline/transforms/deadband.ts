// Deadband, as PI's exception test (ExcDev, ExcMin, ExcMax) without PI's "send the previous event
// too" rule: a reader here holds the last kept value until the next one, so that extra point would
// add nothing to what it reconstructs. Definition, edge cases and a worked example:
// docs/lossy-compression.md.

import { CompressionAlgorithm, type CompressorState } from '../../schemas/index.ts'
import { Decision } from './decision.ts'
import { PivotFilter } from './filter.ts'
import { intervalsOf, validateSettings, type DeadbandSettings } from './settings.ts'

export class DeadbandFilter<Raw = unknown> extends PivotFilter<Raw> {
  readonly algorithm = CompressionAlgorithm.DEADBAND
  private readonly band: number
  private readonly relative: boolean
  /** The band around the current kept value (relative bands scale with it). */
  private bandNow = 0
  /** |held − kept|: the held point's error if it ends up dropped. */
  private heldError = 0

  constructor(settings: DeadbandSettings) {
    validateSettings(settings)
    const { minIntervalNs, maxIntervalNs } = intervalsOf(settings)
    super(minIntervalNs, maxIntervalNs)
    this.band = settings.band
    this.relative = settings.relative ?? false
  }

  offer(timeNs: bigint, value: number, raw?: Raw): number {
    const admitted = this.admit(timeNs, value)
    if (admitted !== Decision.NONE) return admitted
    const dtNs = this.sinceKeptNs
    if (this.hasHeld) this.dropHeld()
    if (dtNs >= this.minIntervalNs && (dtNs >= this.maxIntervalNs || Math.abs(value - this.keptValue) > this.bandNow)) {
      this.keepCurrent(timeNs)
      this.pointsKept++
      return Decision.KEEP
    }
    this.holdCurrent(timeNs, raw)
    this.heldError = Math.abs(value - this.keptValue)
    return Decision.NONE
  }

  protected dropHeld(): void {
    if (this.heldError > this.maxError) this.maxError = this.heldError
    this.hasHeld = false
    this.heldRaw = undefined
  }

  protected beforeEmitHeld(): void {}

  protected override onKept(): void {
    this.bandNow = this.relative ? this.band * Math.abs(this.keptValue) : this.band
  }

  protected restoreHeld(_state: CompressorState): void {
    this.heldError = Math.abs(this.heldValue - this.keptValue)
  }
}
