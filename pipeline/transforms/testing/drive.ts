// Test helper: runs points through a filter the way the processor would, and collects what it writes.

import { Decision } from '../decision.ts'
import type { LossyFilter } from '../filter.ts'

export interface Written {
  timeNs: bigint
  value: number
  /** 'first'/'kept': the offered point; 'emitted': a held point written later; 'bypass': out of order or not finite; 'flush'/'tick'. */
  how: 'kept' | 'emitted' | 'bypass' | 'flush' | 'tick'
}

export type InputPoint = readonly [timeNs: bigint | number, value: number]

/** Collects the writes a decision asks for. */
export function collect(filter: LossyFilter, decision: number, timeNs: bigint, value: number, out: Written[], how: Written['how'] = 'emitted'): void {
  if ((decision & Decision.EMIT_HELD) !== 0) out.push({ timeNs: filter.emittedTimeNs, value: filter.emittedValue, how })
  if ((decision & Decision.KEEP) !== 0) out.push({ timeNs, value, how: (decision & Decision.BYPASS) !== 0 ? 'bypass' : 'kept' })
}

/** Offers every point in order, then flushes if asked; returns the writes and each offer's decision. */
export function drive(filter: LossyFilter, points: readonly InputPoint[], options: { flush?: boolean } = {}): { written: Written[]; decisions: number[] } {
  const written: Written[] = []
  const decisions: number[] = []
  for (const [t, v] of points) {
    const timeNs = BigInt(t)
    const decision = filter.offer(timeNs, v, v)
    decisions.push(decision)
    collect(filter, decision, timeNs, v, written)
  }
  if (options.flush) {
    const decision = filter.flush()
    if (decision !== Decision.NONE) written.push({ timeNs: filter.emittedTimeNs, value: filter.emittedValue, how: 'flush' })
  }
  return { written, decisions }
}

/** [time as number, value] of the writes, for compact assertions. */
export function pairs(written: readonly Written[]): Array<[number, number]> {
  return written.map((w) => [Number(w.timeNs), w.value])
}
