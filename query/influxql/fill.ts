// fill() of GROUP BY time windows, as InfluxDB 1.x's fill iterator does it per output series and
// per aggregate: every window from the range's first to its last (from the column's first point
// when the range has no lower bound) gets a row; a window without points gets null, a number, the
// previous window's value, or the straight line between its neighbours (linear, on window numbers,
// integers truncated). count() under fill(null) gets 0. Descending order walks the windows from the
// end, so "previous" is the later window, as in InfluxDB.

import { QueryError, QueryErrorCode } from '../errors.ts'
import { QUERY_LIMITS } from '../limits.ts'
import type { Value } from '../result.ts'
import type { Fill } from './ast.ts'

export interface FillSpec {
  fill: Fill
  intervalNs: bigint
  /** First window start; null: the window of the first point. */
  firstWindowNs: bigint | null
  /** Last window start. */
  lastWindowNs: bigint
  descending: boolean
}

/** points: [window start, value] ascending, values non-null. Returns the filled sequence in output order. */
export function fillWindows(points: Array<[bigint, Value]>, spec: FillSpec, integer: boolean, isCount: boolean): Array<[bigint, Value]> {
  const ordered = spec.descending ? [...points].reverse() : points
  if (spec.fill.kind === 'none' || points.length === 0) return ordered
  const first = spec.firstWindowNs ?? points[0]![0]
  const last = spec.lastWindowNs
  if (last < first) return ordered
  const windows = (last - first) / spec.intervalNs + 1n
  if (windows > BigInt(QUERY_LIMITS.maxResultRows)) {
    throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `GROUP BY time(...) makes ${windows} windows over this time range (at most ${QUERY_LIMITS.maxResultRows}); narrow the range, widen the interval or use fill(none)`)
  }
  const step = spec.descending ? -spec.intervalNs : spec.intervalNs
  const end = spec.descending ? first : last
  const out: Array<[bigint, Value]> = []
  let at = 0
  let previous: [bigint, Value] | null = null
  for (let window = spec.descending ? last : first; spec.descending ? window >= end : window <= end; window += step) {
    const point = ordered[at]
    if (point !== undefined && point[0] === window) {
      out.push(point)
      previous = point
      at++
      continue
    }
    out.push([window, filled(spec, window, previous, point ?? null, integer, isCount)])
  }
  return out
}

function filled(spec: FillSpec, window: bigint, previous: [bigint, Value] | null, next: [bigint, Value] | null, integer: boolean, isCount: boolean): Value {
  const fill = spec.fill
  switch (fill.kind) {
    case 'null': return isCount ? 0n : null
    case 'value': return integer ? BigInt(Math.trunc(fill.value)) : fill.value
    case 'previous': return previous === null ? null : previous[1]
    case 'linear': {
      if (previous === null || next === null) return null
      const x0 = previous[0] / spec.intervalNs
      const x1 = next[0] / spec.intervalNs
      const x = window / spec.intervalNs
      if (integer) {
        const slope = Number((next[1] as bigint) - (previous[1] as bigint)) / Number(x1 - x0)
        return BigInt(Math.trunc(slope * Number(x - x0) + Number(previous[1] as bigint)))
      }
      const slope = ((next[1] as number) - (previous[1] as number)) / Number(x1 - x0)
      return slope * Number(x - x0) + (previous[1] as number)
    }
    case 'none': return null
  }
}
