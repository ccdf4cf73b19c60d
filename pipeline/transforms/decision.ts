// What a lossy filter tells its caller after each call: bit flags in a small integer, so the
// per-point call returns a number and allocates nothing.

export const Decision = {
  /** Nothing to write: the point is held (it may still be written later) or dropped. */
  NONE: 0,
  /** Write the point just offered, as is. */
  KEEP: 1,
  /**
   * Write the previously held point first (it is older than the current one): its time, value and
   * raw value are in the filter's `emittedTimeNs`, `emittedValue`, `emittedRaw` until the next call.
   */
  EMIT_HELD: 2,
  /** Informational, always together with KEEP: the point bypassed the filter (out of order, or not finite). */
  BYPASS: 4,
} as const

export type DecisionFlag = (typeof Decision)[keyof typeof Decision]

/** True when `decision` says to write the point just offered. */
export function keepsCurrent(decision: number): boolean {
  return (decision & Decision.KEEP) !== 0
}

/** True when `decision` says to write the held point (before the current one). */
export function emitsHeld(decision: number): boolean {
  return (decision & Decision.EMIT_HELD) !== 0
}
