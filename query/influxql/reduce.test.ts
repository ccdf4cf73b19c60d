import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FieldType } from '../../sinks/index.ts'
import { Cell } from './reduce.ts'

function integerColumn(values: bigint[]) {
  return { type: FieldType.INTEGER, times: BigInt64Array.from(values.map((_, i) => BigInt(i))), values: BigInt64Array.from(values) }
}

test('a sums-only cell sums integers exactly across the float64 limit, as a full cell does', () => {
  const near = 2n ** 52n
  const runs = [[near, near, 5n], [near, 1n], [-3n, 7n, near * 2n], [2n ** 62n, -(2n ** 62n)], [9n]]
  const sumsOnly = new Cell(FieldType.INTEGER, false, true)
  const full = new Cell(FieldType.INTEGER)
  let expected = 0n
  let count = 0
  for (const values of runs) {
    const column = integerColumn(values)
    sumsOnly.add(column, 0, values.length)
    full.add(column, 0, values.length)
    for (const value of values) expected += value
    count += values.length
  }
  assert.equal(sumsOnly.result('sum'), expected)
  assert.equal(full.result('sum'), expected)
  assert.equal(sumsOnly.result('mean'), Number(expected) / count)
  assert.equal(sumsOnly.result('count'), BigInt(count))
})

test('a sums-only cell of small integers gives their sum and mean', () => {
  const cell = new Cell(FieldType.INTEGER, false, true)
  cell.add(integerColumn([40n, 41n, 45n, 50n, 52n, 47n]), 0, 6)
  cell.add(integerColumn([1n, 2n, 3n]), 1, 3)
  assert.equal(cell.result('sum'), 280n)
  assert.equal(cell.result('mean'), 280 / 8)
})
