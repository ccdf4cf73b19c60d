// Time constants of SQL: RFC 3339 timestamps with up to nanosecond fractions, integer nanoseconds,
// and durations ('1 minute', '10s', INTERVAL '1 hour 30 minutes'). Date.parse stops at
// milliseconds, so fractions are read here. Months and years have no fixed length and are refused.

import { LITTLE_ENDIAN } from '../lib/bytes/endianness.ts'
import { lowerBound } from '../sinks/index.ts'
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

/** Spans at most this many ns are exact as a float64 offset (2^53 ns: 104 days). */
const EXACT_SPAN_NS = 2n ** 53n

/**
 * Calls `run` with each bucket's run [start, end) of `times[0, count)` (ascending), in order, for
 * tumbling buckets of `intervalNs` aligned on `originNs`. The times are read as two 32-bit words
 * each, as float64 offsets from the first bucket's start, while the chunk spans under 2^53 ns: no
 * BigInt per point, one compare per point; wider chunks take a binary search per bucket.
 */
export function forEachTumblingRun(times: BigInt64Array, count: number, intervalNs: bigint, originNs: bigint, run: (bucketNs: bigint, start: number, end: number) => void): void {
  if (count === 0) return
  const firstNs = bucketStartNs(times[0]!, intervalNs, originNs)
  if (!LITTLE_ENDIAN || times[count - 1]! - firstNs >= EXACT_SPAN_NS || intervalNs >= EXACT_SPAN_NS) {
    for (let start = 0; start < count;) {
      const bucketNs = bucketStartNs(times[start]!, intervalNs, originNs)
      const end = lowerBound(times, bucketNs + intervalNs, start + 1, count)
      run(bucketNs, start, end)
      start = end
    }
    return
  }
  const words = new Int32Array(times.buffer, times.byteOffset, 2 * count)
  const baseHigh = Number(firstNs >> 32n)
  const baseLow = Number(firstNs & 0xffffffffn)
  const interval = Number(intervalNs)
  let bucket = 0
  let bucketEnd = interval
  let start = 0
  for (let i = 1; i < count; i++) {
    const offset = (words[2 * i + 1]! - baseHigh) * 4294967296 + ((words[2 * i]! >>> 0) - baseLow)
    if (offset < bucketEnd) continue
    run(firstNs + BigInt(bucket) * intervalNs, start, i)
    start = i
    bucket = Math.floor(offset / interval)
    bucketEnd = (bucket + 1) * interval
  }
  run(firstNs + BigInt(bucket) * intervalNs, start, count)
}

/** The earliest start of a hopping window (every `slideNs` from `originNs`, `intervalNs` long) that holds `timeNs`. */
export function firstWindowStartNs(timeNs: bigint, intervalNs: bigint, slideNs: bigint, originNs: bigint): bigint {
  return bucketStartNs(timeNs - intervalNs, slideNs, originNs) + slideNs
}
