// The selection and merge under median, percentile and the time-ordered aggregates, checked
// against sorting on random inputs (duplicates and many series included).

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { FieldType } from '../sinks/index.ts'
import { ValueCollector, percentileOf, select } from './collect.ts'

test('select gives the k-th smallest, as a sort would', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: -5, max: 5 }).map((x) => x / 2), { minLength: 1, maxLength: 300 }), fc.nat(), (values, seed) => {
    const k = seed % values.length
    const sorted = Float64Array.from(values).sort()
    assert.equal(select(Float64Array.from(values), k), sorted[k])
  }), { numRuns: 500 })
  // Already sorted and all-equal inputs, where a naive pivot degrades.
  const ramp = Float64Array.from({ length: 100_000 }, (_, i) => i)
  assert.equal(select(ramp, 77_777), 77_777)
  assert.equal(select(new Float64Array(100_000).fill(3), 50_000), 3)
})

test('percentileOf is linear interpolation between closest ranks', () => {
  fc.assert(fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0, max: 1, noNaN: true }), (values, p) => {
    const sorted = [...values].sort((a, b) => a - b)
    const h = (sorted.length - 1) * p
    const low = Math.floor(h)
    const expected = sorted[low]! + (h - low) * (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!)
    const actual = percentileOf(Float64Array.from(values), p)!
    assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${actual} vs ${expected}`)
  }), { numRuns: 500 })
  assert.equal(percentileOf(new Float64Array(0), 0.5), null)
})

test('timeOrder merges the series runs into time order, the series read first winning ties', () => {
  fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 30 }), { minLength: 1, maxLength: 9 }), (series) => {
    const collector = new ValueCollector(FieldType.FLOAT)
    const all: { time: bigint; index: number }[] = []
    series.forEach((times, s) => {
      const sorted = [...times].sort((a, b) => a - b).map(BigInt)
      if (sorted.length === 0) return
      for (const time of sorted) all.push({ time, index: all.length })
      collector.addRun({ type: FieldType.FLOAT, times: BigInt64Array.from(sorted), values: new Float64Array(sorted.length) }, 0, sorted.length, s)
    })
    const expected = [...all].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : a.index - b.index)).map((e) => e.index)
    assert.deepEqual([...collector.timeOrder()], expected)
  }), { numRuns: 300 })
})
