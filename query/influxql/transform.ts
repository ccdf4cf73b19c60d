// InfluxQL's transformations of an aggregate's windows, as InfluxDB 1.x computes them with GROUP BY
// time: derivative, non_negative_derivative, difference, non_negative_difference, moving_average and
// cumulative_sum. The inner aggregate is computed and filled over the range widened by one window
// (all but cumulative_sum), its null windows are dropped, and the transformation runs over the rest
// in output order; it answers only where it has a value, and only inside the statement's windows.
// In a row another column makes, a transformation without a value there gets fill(<number>)'s number
// (else null).

import type { Value } from '../result.ts'

export const TRANSFORMS = ['derivative', 'non_negative_derivative', 'difference', 'non_negative_difference', 'moving_average', 'cumulative_sum'] as const
export type TransformName = (typeof TRANSFORMS)[number]

export interface TransformSpec {
  fn: TransformName
  /** derivative's unit; null: the GROUP BY time interval. */
  unitNs: bigint | null
  /** moving_average's window count. */
  count: number
}

/**
 * Windows before the range start a transformation reads (InfluxDB's "extra intervals"): one for all
 * but cumulative_sum, also for a moving average of more than two windows (its first values then fall
 * later than the range start, as in InfluxDB 1.6).
 */
export function extraWindows(spec: TransformSpec): number {
  return spec.fn === 'cumulative_sum' ? 0 : 1
}

/** points: the filled inner windows in output order. Returns the transformation's [time, value] pairs. */
export function transformWindows(spec: TransformSpec, points: Array<[bigint, Value]>, intervalNs: bigint, descending: boolean): Array<[bigint, Value]> {
  const present = points.filter(([, v]) => v !== null) as Array<[bigint, number | bigint]>
  const out: Array<[bigint, Value]> = []
  switch (spec.fn) {
    case 'derivative': case 'non_negative_derivative': {
      const unit = Number(spec.unitNs ?? intervalNs)
      for (let i = 1; i < present.length; i++) {
        const [time, value] = present[i]!
        const [previousTime, previous] = present[i - 1]!
        const elapsed = Number(descending ? previousTime - time : time - previousTime)
        const rate = (Number(value) - Number(previous)) / (elapsed / unit)
        if (spec.fn === 'derivative' || rate >= 0) out.push([time, rate])
      }
      return out
    }
    case 'difference': case 'non_negative_difference':
      for (let i = 1; i < present.length; i++) {
        const [time, value] = present[i]!
        const previous = present[i - 1]![1]
        const difference = typeof value === 'bigint' && typeof previous === 'bigint' ? value - previous : Number(value) - Number(previous)
        if (spec.fn === 'difference' || difference >= 0) out.push([time, difference])
      }
      return out
    case 'cumulative_sum': {
      let sum: number | bigint | null = null
      for (const [time, value] of present) {
        sum = sum === null ? value : typeof sum === 'bigint' && typeof value === 'bigint' ? sum + value : Number(sum) + Number(value)
        out.push([time, sum])
      }
      return out
    }
    case 'moving_average':
      for (let i = spec.count - 1; i < present.length; i++) {
        let sum = 0
        for (let j = i - spec.count + 1; j <= i; j++) sum += Number(present[j]![1])
        out.push([present[i]![0], sum / spec.count])
      }
      return out
  }
}
