// Timestamp precisions of the write APIs and their spellings: InfluxDB 1.x `/write` (n, u, ms, s, m, h),
// InfluxDB 2.x `/api/v2/write` (ns, us, ms, s), and the µs spelling of InfluxData's corpus.

import { IngestError, IngestErrorCode } from './errors.ts'

export const Precision = {
  Nanosecond: 'ns',
  Microsecond: 'us',
  Millisecond: 'ms',
  Second: 's',
  Minute: 'm',
  Hour: 'h',
} as const

export type PrecisionUnit = (typeof Precision)[keyof typeof Precision]

/** Nanoseconds per unit, as plain numbers (all exact: the largest is 3.6e12 < 2^53). */
export const nanosecondsPerUnit: Readonly<Record<PrecisionUnit, number>> = Object.freeze({
  ns: 1, us: 1_000, ms: 1_000_000, s: 1_000_000_000, m: 60_000_000_000, h: 3_600_000_000_000,
})

const spellings: Readonly<Record<string, PrecisionUnit>> = Object.freeze({
  '': 'ns', n: 'ns', ns: 'ns',
  u: 'us', us: 'us', 'µs': 'us', 'μs': 'us',
  ms: 'ms',
  s: 's',
  m: 'm',
  h: 'h',
})

/**
 * The unit for a `precision` query parameter; an empty or missing one means nanoseconds. An unknown
 * spelling is an error (as in InfluxDB ≥1.8 and 2.x), not a silent fallback to nanoseconds as in 1.6.
 */
export function parsePrecision(parameter: string | undefined | null): PrecisionUnit {
  const unit = spellings[parameter ?? '']
  if (unit === undefined) {
    throw new IngestError(IngestErrorCode.INVALID_PRECISION, `invalid precision "${String(parameter)}" (use ns, us, ms, s, m or h; n and u also work)`)
  }
  return unit
}
