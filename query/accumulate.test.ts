import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { FieldType, type Column } from '../sinks/index.ts'
import { FieldAccumulator } from './accumulate.ts'

test('an accumulator that folds no values answers count, first and last as one that does', () => {
  fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 8 }), (runs) => {
    const full = new FieldAccumulator(FieldType.INTEGER)
    const ends = new FieldAccumulator(FieldType.INTEGER, false)
    let timeNs = 0n
    for (const values of runs) {
      const column: Column = { type: FieldType.INTEGER, times: BigInt64Array.from(values, () => (timeNs += 10n)), values: BigInt64Array.from(values, BigInt) }
      const start = values.length > 2 ? 1 : 0
      full.addRun(column, start, values.length)
      ends.addRun(column, start, values.length)
    }
    for (const fn of ['count', 'first', 'last'] as const) assert.deepEqual(ends.result(fn), full.result(fn), fn)
    assert.equal(ends.result('sum'), 0n, 'it kept no sum: the aggregation asks it for none')
  }))
})
