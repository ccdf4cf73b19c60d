// Gap filling for time_window_gapfill and date_bin_gapfill: the bucket starts of a time range, and
// the two strategies of a filled column, interpolate (linear in time between the nearest non-null
// neighbours) and locf (last observation carried forward), as CnosDB (DataFusion's gapfill).

import { QueryError, QueryErrorCode } from './errors.ts'
import { QUERY_LIMITS } from './limits.ts'
import type { BucketSpec, FillMode } from './parse.ts'
import type { Value } from './result.ts'
import { bucketStartNs, firstWindowStartNs } from './time.ts'

/** Every bucket start with a bucket meeting [fromNs, toNs): the first holds fromNs, the last starts before toNs. */
export function bucketStartsInRange(bucket: BucketSpec, fromNs: bigint, toNs: bigint): bigint[] {
  const step = bucket.slideNs ?? bucket.intervalNs
  const first = bucket.slideNs
    ? firstWindowStartNs(fromNs, bucket.intervalNs, bucket.slideNs, bucket.originNs)
    : bucketStartNs(fromNs, bucket.intervalNs, bucket.originNs)
  if (toNs <= first) return []
  const count = (toNs - 1n - first) / step + 1n
  const most = Math.min(QUERY_LIMITS.maxBucketsPerGroup, QUERY_LIMITS.maxResultRows)
  if (count > BigInt(most)) {
    throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `${bucket.sql}: the time range holds ${count} buckets per group; at most ${most} are filled`)
  }
  const starts: bigint[] = []
  for (let at = first; at < toNs; at += step) starts.push(at)
  return starts
}

/** Fills the nulls of one group's column, its values in bucket order (`buckets` ascending). */
export function fillGaps(values: Value[], buckets: bigint[], mode: FillMode): void {
  if (mode === 'locf') {
    let last: Value = null
    for (let i = 0; i < values.length; i++) {
      if (values[i] === null) values[i] = last
      else last = values[i]!
    }
    return
  }
  let previous = -1
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null) continue
    if (previous >= 0 && i - previous > 1) interpolateBetween(values, buckets, previous, i)
    previous = i
  }
}

/** Linear in bucket time between the non-null values at `from` and `to`; integers and times are rounded. */
function interpolateBetween(values: Value[], buckets: bigint[], from: number, to: number): void {
  const a = values[from]!
  const b = values[to]!
  const span = Number(buckets[to]! - buckets[from]!)
  for (let i = from + 1; i < to; i++) {
    const fraction = Number(buckets[i]! - buckets[from]!) / span
    if (typeof a === 'bigint' && typeof b === 'bigint') values[i] = a + BigInt(Math.round(Number(b - a) * fraction))
    else values[i] = Number(a) + (Number(b) - Number(a)) * fraction
  }
}
