// Named maximums of the transforms layer, each with its reason.

/**
 * Largest minimum or maximum interval accepted: 2^53 ns (about 104 days). The filters subtract
 * times as doubles, exact below 2^53, so a longer interval could not be compared to the nanosecond.
 */
export const MAX_INTERVAL_LIMIT_NS = 2n ** 53n

/**
 * Most vertices per side of the convex hulls an SDT filter keeps of one segment's dropped points,
 * to compute that segment's exact max error. Noisy signals need a handful; only a long, smooth,
 * densely sampled curve comes near. Past it the rest of the segment goes unmeasured (the error
 * bound still holds); the memory per filter stays under 2 × 4096 × 16 bytes.
 */
export const ERROR_HULL_MAX_VERTICES = 4096
