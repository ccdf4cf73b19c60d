// The compression report: per database/measurement/field sums over series.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CompressionReport } from './report.ts'

describe('CompressionReport', () => {
  it('sums points over series, takes the largest error, and computes the ratio', () => {
    const report = new CompressionReport()
    report.add('plant', 'boiler', 'temp', { pointsIn: 100, pointsKept: 10, maxError: 0.2 })
    report.add('plant', 'boiler', 'temp', { pointsIn: 50, pointsKept: 20, maxError: 0.4 })
    report.add('plant', 'boiler', 'flow', { pointsIn: 0, pointsKept: 0, maxError: 0 })
    report.add('lab', 'a', 'x', { pointsIn: 4, pointsKept: 4, maxError: 0 })
    assert.deepEqual(report.rows(), [
      { database: 'lab', measurement: 'a', field: 'x', series: 1, pointsIn: 4, pointsKept: 4, compressionRatio: 1, maxError: 0 },
      { database: 'plant', measurement: 'boiler', field: 'flow', series: 1, pointsIn: 0, pointsKept: 0, compressionRatio: null, maxError: 0 },
      { database: 'plant', measurement: 'boiler', field: 'temp', series: 2, pointsIn: 150, pointsKept: 30, compressionRatio: 5, maxError: 0.4 },
    ])
    assert.doesNotThrow(() => JSON.stringify(report.rows()))
  })
})
