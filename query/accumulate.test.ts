import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { FieldType, type Column } from '../sinks/index.ts'
import { computeStats } from '../sinks/segments/encoding/block.ts'
import { ExactIntegerSum, FieldAccumulator, Fold, foldOf } from './accumulate.ts'

test('an accumulator keeping some folds answers those aggregates as one keeping all, and refuses the others', () => {
  const aggregates = ['count', 'sum', 'avg', 'min', 'max', 'spread', 'first', 'last'] as const
  fc.assert(fc.property(fc.integer({ min: 0, max: Fold.ALL }), fc.array(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 8 }), (folds, runs) => {
    const full = new FieldAccumulator(FieldType.INTEGER)
    const some = new FieldAccumulator(FieldType.INTEGER, folds)
    let timeNs = 0n
    for (const values of runs) {
      const column: Column = { type: FieldType.INTEGER, times: BigInt64Array.from(values, () => (timeNs += 10n)), values: BigInt64Array.from(values, BigInt) }
      const start = values.length > 2 ? 1 : 0
      full.addRun(column, start, values.length)
      some.addRun(column, start, values.length)
    }
    for (const fn of aggregates) {
      if ((folds & foldOf(fn)) === foldOf(fn)) assert.deepEqual(some.result(fn), full.result(fn), fn)
      else assert.throws(() => some.result(fn), /does not keep it/, fn)
    }
  }))
})

test('integer sums stay exact past 2^53, over runs of small and of large values', () => {
  const value = fc.oneof(fc.bigInt({ min: -(2n ** 52n), max: 2n ** 52n }), fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), fc.constantFrom(2n ** 53n - 1n, -(2n ** 53n) + 1n))
  fc.assert(fc.property(fc.array(fc.array(value, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 30 }), (runs) => {
    const accumulator = new FieldAccumulator(FieldType.INTEGER, Fold.SUM)
    let expected = 0n
    let timeNs = 0n
    for (const values of runs) {
      const column: Column = { type: FieldType.INTEGER, times: BigInt64Array.from(values, () => (timeNs += 10n)), values: BigInt64Array.from(values) }
      accumulator.addRun(column, 0, values.length)
      for (const v of values) expected += v
    }
    assert.equal(accumulator.result('sum'), expected)
    assert.equal(accumulator.integerSum(), expected)
  }))
})

test('ExactIntegerSum: float64 parts and bigint parts in any order give the exact total and its mean', () => {
  const part = fc.oneof(
    fc.record({ small: fc.constant(true), sum: fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }) }),
    fc.record({ small: fc.constant(false), sum: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n }) }),
  )
  fc.assert(fc.property(fc.array(part, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 1000 }), (parts, count) => {
    const sum = new ExactIntegerSum()
    let expected = 0n
    for (const { small, sum: s } of parts) {
      if (small) sum.addSmall(s as number)
      else sum.add(s as bigint)
      expected += BigInt(s)
    }
    assert.equal(sum.total(), expected)
    assert.equal(sum.mean(count), Number(expected) / count)
  }))
})

test('block statistics fed in any order answer the kept folds as the blocks\' points do', () => {
  const aggregates = ['count', 'sum', 'avg', 'min', 'max', 'spread', 'first', 'last'] as const
  const blocks = fc.array(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 8 })
  fc.assert(fc.property(fc.integer({ min: 0, max: Fold.ALL }), fc.constantFrom(FieldType.INTEGER, FieldType.FLOAT), blocks, fc.integer(), (folds, type, runs, seed) => {
    const points = new FieldAccumulator(type)
    const stats = new FieldAccumulator(type, folds)
    let timeNs = 0n
    const columns: Column[] = runs.map(values => ({
      type,
      times: BigInt64Array.from(values, () => (timeNs += 10n)),
      values: type === FieldType.INTEGER ? BigInt64Array.from(values, BigInt) : Float64Array.from(values, v => v / 8),
    }))
    for (const column of columns) points.addRun(column, 0, column.times.length)
    const order = columns.map((_, i) => i).sort((a, b) => ((a * 7919 + seed) % 13) - ((b * 7919 + seed) % 13))
    for (const i of order) {
      assert.ok(FieldAccumulator.statsSuffice(type, computeStats(columns[i]!), false, folds))
      stats.addStats(computeStats(columns[i]!))
    }
    for (const fn of aggregates) {
      if ((folds & foldOf(fn)) === foldOf(fn)) assert.deepEqual(stats.result(fn), points.result(fn), fn)
    }
  }))
})
