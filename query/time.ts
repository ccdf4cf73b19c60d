// Time constants of SQL: RFC 3339 timestamps with up to nanosecond fractions, integer nanoseconds,
// and durations ('1 minute', '10s', INTERVAL '1 hour 30 minutes'). Date.parse stops at
// milliseconds, so fractions are read here. Months and years have no fixed length and are refused.

import { QueryError, QueryErrorCode } from './errors.ts'

export { parseTimestamp } from '../lib/time/rfc3339.ts'

const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n, nanosecond: 1n, nanoseconds: 1n,
  us: 1_000n, µs: 1_000n, microsecond: 1_000n, microseconds: 1_000n,
  ms: 1_000_000n, millisecond: 1_000_000n, milliseconds: 1_000_000n,
  s: 1_000_000_000n, sec: 1_000_000_000n, secs: 1_000_000_000n, second: 1_000_000_000n, seconds: 1_000_000_000n,
  m: 60_000_000_000n, min: 60_000_000_000n, mins: 60_000_000_000n, minute: 60_000_000_000n, minutes: 60_000_000_000n,
  h: 3_600_000_000_000n, hour: 3_600_000_000_000n, hours: 3_600_000_000_000n,
  d: 86_400_000_000_000n, day: 86_400_000_000_000n, days: 86_400_000_000_000n,
  w: 604_800_000_000_000n, week: 604_800_000_000_000n, weeks: 604_800_000_000_000n,
}

/** The length of a duration like '1 minute', '90s', '1h30m' or '2 hours 5 minutes', in ns (> 0). */
export function parseDurationNs(text: string): bigint {
  const parts = text.trim().toLowerCase().match(/(\d+)\s*([a-zµ]+)/g)
  const rest = text.trim().toLowerCase().replace(/(\d+)\s*([a-zµ]+)/g, '').trim()
  if (!parts || rest !== '') throw new QueryError(QueryErrorCode.BAD_VALUE, `'${text}' is not a duration; write e.g. '1 minute', '10s' or '1h30m'`)
  let total = 0n
  for (const part of parts) {
    const [, amount, unit] = /(\d+)\s*([a-zµ]+)/.exec(part)!
    const scale = UNIT_NS[unit!]
    if (scale === undefined) {
      const why = unit!.startsWith('mon') || unit!.startsWith('y') ? ' (months and years have no fixed length)' : ''
      throw new QueryError(QueryErrorCode.BAD_VALUE, `unit '${unit}' of duration '${text}' is not supported${why}; use ns, us, ms, s, m, h, d or w`)
    }
    total += BigInt(amount!) * scale
  }
  if (total <= 0n) throw new QueryError(QueryErrorCode.BAD_VALUE, `duration '${text}' must be longer than zero`)
  return total
}

/** Start of the bucket of width `intervalNs` aligned on `originNs` holding `timeNs` (floor, also before the origin). */
export function bucketStartNs(timeNs: bigint, intervalNs: bigint, originNs: bigint): bigint {
  const offset = (timeNs - originNs) % intervalNs
  return timeNs - (offset < 0n ? offset + intervalNs : offset)
}

/** The earliest start of a hopping window (every `slideNs` from `originNs`, `intervalNs` long) that holds `timeNs`. */
export function firstWindowStartNs(timeNs: bigint, intervalNs: bigint, slideNs: bigint, originNs: bigint): bigint {
  return bucketStartNs(timeNs - intervalNs, slideNs, originNs) + slideNs
}
