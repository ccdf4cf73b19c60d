// Per database / measurement / field compression counters, as plain data the HTTP and SQL layers
// can serialise. Built on demand from the filters' cumulative counters (which travel in
// CompressorState), so a report never double-counts and survives a change of master.

import type { FilterCounters } from './filter.ts'

export interface CompressionReportRow {
  readonly database: string
  readonly measurement: string
  readonly field: string
  /** Filters (series) that contributed. */
  readonly series: number
  readonly pointsIn: number
  readonly pointsKept: number
  /** pointsIn / pointsKept (≥ 1; 5 means five points in for each one kept); null when nothing was kept. */
  readonly compressionRatio: number | null
  /** Largest deviation of a dropped point from what a reader reconstructs, over all series, in value units. */
  readonly maxError: number
}

interface Totals {
  database: string
  measurement: string
  field: string
  series: number
  pointsIn: number
  pointsKept: number
  maxError: number
}

export class CompressionReport {
  private readonly totals = new Map<string, Totals>()

  /** Adds one filter's counters (one series of this field). */
  add(database: string, measurement: string, field: string, counters: FilterCounters): void {
    const key = JSON.stringify([database, measurement, field])
    let totals = this.totals.get(key)
    if (!totals) this.totals.set(key, (totals = { database, measurement, field, series: 0, pointsIn: 0, pointsKept: 0, maxError: 0 }))
    totals.series++
    totals.pointsIn += counters.pointsIn
    totals.pointsKept += counters.pointsKept
    if (counters.maxError > totals.maxError) totals.maxError = counters.maxError
  }

  /** One row per (database, measurement, field), sorted by those names. */
  rows(): CompressionReportRow[] {
    return [...this.totals.values()]
      .sort((a, b) => compare(a.database, b.database) || compare(a.measurement, b.measurement) || compare(a.field, b.field))
      .map((t) => ({ ...t, compressionRatio: t.pointsKept === 0 ? null : t.pointsIn / t.pointsKept }))
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
