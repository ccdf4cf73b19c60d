// The exact largest deviation of the dropped points of one swinging-door segment from the line a
// reader draws between the segment's two kept points, in O(hull) memory instead of O(points).
//
// A dropped point is (b, a) = (time since the segment's first kept point, value minus its value);
// the reader's line through the origin has slope k, and the point's error is |a − k·b|. The largest
// a − k·b over a set of points is reached on its upper convex hull, the smallest on its lower hull,
// and points arrive with increasing b, so Andrew's monotone chain keeps both hulls in amortised O(1)
// per point. Storage grows by doubling (rare, never per point) up to a named limit.

import { ERROR_HULL_MAX_VERTICES } from './limits.ts'

const INITIAL_VERTICES = 8
/** No storage yet: a filter pays for its hulls when it first drops a point. */
const EMPTY = new Float64Array(0)
/** The point being added. One for all hulls: it is written just before add() and read at once. */
const POINT = new Float64Array(2)

/** Both hulls of the dropped points of one segment; each chain is [b0, a0, b1, a1, …]. */
export class ErrorHull {
  /** The point to add, [b, a]: written by the caller before add(), so no double crosses a call. */
  readonly point = POINT
  private upper: Float64Array = EMPTY
  private lower: Float64Array = EMPTY
  private upperSize = 0
  private lowerSize = 0

  /** Adds `point` (set it first) to both hulls. */
  add(): void {
    const b = this.point[0]!, a = this.point[1]!
    // Upper hull: pop the last vertex while it is not strictly above the line from the one before it to (b, a).
    const upper = this.upper
    let size = this.upperSize
    while (size >= 2 && (upper[2 * size - 2]! - upper[2 * size - 4]!) * (a - upper[2 * size - 3]!) -
      (upper[2 * size - 1]! - upper[2 * size - 3]!) * (b - upper[2 * size - 4]!) >= 0) size--
    if (size < ERROR_HULL_MAX_VERTICES) {
      if (2 * size + 2 > upper.length) this.upper = grow(upper)
      this.upper[2 * size] = b
      this.upper[2 * size + 1] = a
      size++
    }
    this.upperSize = size
    // Lower hull: the mirror image.
    const lower = this.lower
    size = this.lowerSize
    while (size >= 2 && (lower[2 * size - 2]! - lower[2 * size - 4]!) * (a - lower[2 * size - 3]!) -
      (lower[2 * size - 1]! - lower[2 * size - 3]!) * (b - lower[2 * size - 4]!) <= 0) size--
    if (size < ERROR_HULL_MAX_VERTICES) {
      if (2 * size + 2 > lower.length) this.lower = grow(lower)
      this.lower[2 * size] = b
      this.lower[2 * size + 1] = a
      size++
    }
    this.lowerSize = size
  }

  /** Largest |a − k·b| over the points added since the last reset (0 if none). */
  maxDeviation(k: number): number {
    let best = 0
    for (let i = 0; i < this.upperSize; i++) best = Math.max(best, this.upper[2 * i + 1]! - k * this.upper[2 * i]!)
    for (let i = 0; i < this.lowerSize; i++) best = Math.max(best, k * this.lower[2 * i]! - this.lower[2 * i + 1]!)
    return best
  }

  reset(): void {
    this.upperSize = 0
    this.lowerSize = 0
  }

  get isEmpty(): boolean {
    return this.upperSize === 0
  }
}

/** Twice the room (rare: a hull this long means a smooth curve with many points per segment). */
function grow(coords: Float64Array): Float64Array {
  const grown = new Float64Array(Math.max(2 * INITIAL_VERTICES, coords.length * 2))
  grown.set(coords)
  return grown
}
