// The exact largest deviation of the dropped points of one swinging-door segment from the line a
// reader draws between the segment's two kept points, in O(hull) memory instead of O(points).
//
// A dropped point is (b, a) = (time since the segment's first kept point, value minus its value);
// the reader's line through the origin has slope k, and the point's error is |a − k·b|. The largest
// a − k·b over a set of points is reached on its upper convex hull, the smallest on its lower hull,
// and points arrive with increasing b, so Andrew's monotone chain keeps both hulls in amortised O(1)
// per point. Storage grows by doubling (rare, never per point) up to a named limit.

/** Most hull vertices kept per side; past it the segment's error is reported from the vertices kept so far. */
export const ERROR_HULL_MAX_VERTICES = 4096
const INITIAL_VERTICES = 4

class Chain {
  private coords: Float64Array = new Float64Array(0)
  size = 0

  constructor(private readonly upper: boolean) {}

  /** Adds point = [b, a] (passed in an array: a double argument to a call V8 does not inline is boxed); false when full. */
  add(point: Float64Array): boolean {
    const b = point[0]!, a = point[1]!
    let size = this.size
    const coords = this.coords
    while (size >= 2) {
      const b1 = coords[2 * size - 4]!, a1 = coords[2 * size - 3]!
      const b2 = coords[2 * size - 2]!, a2 = coords[2 * size - 1]!
      const cross = (b2 - b1) * (a - a1) - (a2 - a1) * (b - b1)
      // Upper hull turns clockwise (cross < 0); pop the middle vertex when it does not.
      if (this.upper ? cross >= 0 : cross <= 0) size--
      else break
    }
    if (2 * size + 2 > coords.length) {
      if (size >= ERROR_HULL_MAX_VERTICES) {
        this.size = size
        return false
      }
      const grown = new Float64Array(Math.max(2 * INITIAL_VERTICES, coords.length * 2))
      grown.set(coords.subarray(0, 2 * size))
      this.coords = grown
    }
    this.coords[2 * size] = b
    this.coords[2 * size + 1] = a
    this.size = size + 1
    return true
  }

  /** max (a − k·b) over the vertices (upper), or max (k·b − a) (lower); 0 when empty. */
  extreme(k: number): number {
    let best = 0
    const coords = this.coords
    for (let i = 0; i < this.size; i++) {
      const deviation = coords[2 * i + 1]! - k * coords[2 * i]!
      const signed = this.upper ? deviation : -deviation
      if (signed > best) best = signed
    }
    return best
  }
}

export class ErrorHull {
  private readonly upper = new Chain(true)
  private readonly lower = new Chain(false)
  /** The point to add, [b, a]: written by the caller before add(), so no double crosses a call. */
  readonly point = new Float64Array(2)
  /** Adds `point` (set it first). */
  add(): void {
    // A full chain ignores the point: the rest of the segment goes unmeasured (documented limit).
    this.upper.add(this.point)
    this.lower.add(this.point)
  }

  /** Largest |a − k·b| over the points added since the last reset (0 if none). */
  maxDeviation(k: number): number {
    return Math.max(this.upper.extreme(k), this.lower.extreme(k))
  }

  reset(): void {
    this.upper.size = 0
    this.lower.size = 0
  }

  get isEmpty(): boolean {
    return this.upper.size === 0
  }
}
