// The series of one parsed body, numbered in order of first appearance: the per-batch dictionaries
// ParsedBatch exposes (series keys, their measurement ids, their tags in one run per series), shared
// by the line protocol and JSON parsers.

import type { SeriesKeyOk } from './series-key.ts'

export class SeriesDictionary {
  readonly seriesKeys: string[] = []
  readonly seriesKeyBytes: number[] = []
  readonly seriesMeasurement: number[] = []
  /** Series s has tags [seriesTagStart[s], seriesTagStart[s + 1]). */
  readonly seriesTagStart: number[] = [0]
  readonly tagKeys: string[] = []
  readonly tagValues: string[] = []
  readonly measurements: string[] = []
  private readonly measurementIdByName = new Map<string, number>()

  /** Adds a series not seen before; returns its id. */
  add(parsed: SeriesKeyOk): number {
    const id = this.seriesKeys.length
    this.seriesKeys.push(parsed.key)
    this.seriesKeyBytes.push(parsed.keyBytes)
    let measurement = this.measurementIdByName.get(parsed.measurement)
    if (measurement === undefined) {
      measurement = this.measurements.length
      this.measurementIdByName.set(parsed.measurement, measurement)
      this.measurements.push(parsed.measurement)
    }
    this.seriesMeasurement.push(measurement)
    for (let t = 0; t < parsed.tagKeys.length; t++) {
      this.tagKeys.push(parsed.tagKeys[t]!)
      this.tagValues.push(parsed.tagValues[t]!)
    }
    this.seriesTagStart.push(this.tagKeys.length)
    return id
  }
}
