// The row filter of a WHERE, decided for a series' rows at once into a mask over their times: the
// top-level AND's `field <op> constant` comparisons run as tight loops over each field's typed
// array (no object or closure per row), and only the rows they leave are handed to the compiled
// rest of the condition (OR, LIKE, CASE, time inside OR...) one by one.

import { type Column, FieldType } from '../sinks/index.ts'
import { compileExpression, type CompiledExpr, type Expr } from './functions.ts'
import type { ColumnTypeName, Value } from './result.ts'

type Comparison = '=' | '!=' | '<' | '<=' | '>' | '>='

/** field <op> constant, or field IN (constants), over the field's own values. */
export type VectorTest =
  | { field: string; op: Comparison; value: number | bigint | string }
  | { field: string; op: 'in'; values: Set<number | bigint | string> }

export interface RowFilter {
  /** The whole condition, compiled (its columns: what the rows must read). */
  compiled: CompiledExpr
  vector: VectorTest[]
  /** What the vector tests leave, per row; null when they are the whole condition. */
  rest: CompiledExpr | null
}

const FLIPPED: Readonly<Record<Comparison, Comparison>> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' }
const COMPARISONS: readonly string[] = ['=', '!=', '<', '<=', '>', '>=']

function conjuncts(expr: Expr): Expr[] {
  return expr.kind === 'binary' && expr.op === 'AND' ? [...conjuncts(expr.left), ...conjuncts(expr.right)] : [expr]
}

/** The constants of `field IN (...)` as the field's values hold them (integers as bigint, floats as number), or null. */
function inValues(part: Extract<Expr, { kind: 'in' }>, type: ColumnTypeName | undefined): Set<number | bigint | string> | null {
  const values = new Set<number | bigint | string>()
  for (const value of part.values) {
    if (value.kind !== 'literal' || value.type !== undefined || value.value === null) return null
    const v = value.value
    if (type === 'float' && (typeof v === 'number' || typeof v === 'bigint')) values.add(Number(v))
    else if ((type === 'integer' || type === 'unsigned') && typeof v === 'bigint') values.add(v)
    else if ((type === 'integer' || type === 'unsigned') && typeof v === 'number') { if (Number.isInteger(v)) values.add(BigInt(v)) } else if (type === 'string' && typeof v === 'string') values.add(v)
    else return null
  }
  return values
}

/** Vector tests for `part` when it compares a field of a fitting type with constants, else null. */
function vectorTests(part: Expr, fieldType: (name: string) => ColumnTypeName | undefined): VectorTest[] | null {
  if (part.kind === 'in' && !part.negate && part.operand.kind === 'column') {
    const values = inValues(part, fieldType(part.operand.name))
    return values ? [{ field: part.operand.name, op: 'in', values }] : null
  }
  if (part.kind === 'between' && !part.negate) {
    const low = vectorTests({ kind: 'binary', op: '>=', left: part.operand, right: part.low, sql: part.sql }, fieldType)
    const high = vectorTests({ kind: 'binary', op: '<=', left: part.operand, right: part.high, sql: part.sql }, fieldType)
    return low && high ? [...low, ...high] : null
  }
  const test = vectorTest(part, fieldType)
  return test ? [test] : null
}

/** A vector test for `part` when it compares a field of a fitting type with a constant, else null. */
function vectorTest(part: Expr, fieldType: (name: string) => ColumnTypeName | undefined): VectorTest | null {
  if (part.kind !== 'binary' || !COMPARISONS.includes(part.op)) return null
  let op = part.op as Comparison
  let column = part.left
  let constant = part.right
  if (column.kind === 'literal') { [column, constant] = [constant, column]; op = FLIPPED[op] }
  if (column.kind !== 'column' || constant.kind !== 'literal' || constant.type !== undefined) return null
  const type = fieldType(column.name)
  const value = constant.value
  if (type === undefined || value === null) return null
  const numeric = type === 'float' || type === 'integer' || type === 'unsigned'
  if (numeric && (typeof value === 'number' || typeof value === 'bigint')) return { field: column.name, op, value }
  if (type === 'string' && typeof value === 'string') return { field: column.name, op, value }
  if (type === 'boolean' && typeof value === 'boolean' && (op === '=' || op === '!=')) return { field: column.name, op, value: value ? 1 : 0 }
  return null
}

/** Splits a (type-checked) WHERE row condition into vector tests and the rest. */
export function planRowFilter(expr: Expr, compiled: CompiledExpr, columnType: (name: string) => ColumnTypeName, fieldType: (name: string) => ColumnTypeName | undefined): RowFilter {
  const vector: VectorTest[] = []
  const rest: Expr[] = []
  for (const part of conjuncts(expr)) {
    const tests = vectorTests(part, fieldType)
    if (tests) vector.push(...tests)
    else rest.push(part)
  }
  const remaining = rest.reduce<Expr | null>((all, part) => (all === null ? part : { kind: 'binary', op: 'AND', left: all, right: part, sql: 'AND' }), null)
  return { compiled, vector, rest: remaining === null ? null : compileExpression(remaining, columnType) }
}

function comparator(op: Comparison): (a: number | bigint | string, b: number | bigint | string) => boolean {
  // Loose equality compares a bigint with a number by value; NaN is unequal to everything, as in SQL expressions here.
  switch (op) {
    case '=': return (a, b) => a == b // eslint-disable-line eqeqeq
    case '!=': return (a, b) => a != b // eslint-disable-line eqeqeq
    case '<': return (a, b) => a < b
    case '<=': return (a, b) => a <= b
    case '>': return (a, b) => a > b
    default: return (a, b) => a >= b
  }
}

/** Clears mask[i] where the test fails or the field has no value at times[i] (the column's times are a subset of `times`). */
function applyVector(test: VectorTest, column: Column | undefined, times: BigInt64Array, mask: Uint8Array): void {
  const hit = new Uint8Array(times.length)
  if (column && test.op === 'in') {
    const values = column.values as ArrayLike<number | bigint | string>
    let i = 0
    for (let j = 0; j < column.times.length; j++) {
      const t = column.times[j]!
      while (times[i]! < t) i++
      if (test.values.has(values[j]!)) hit[i] = 1
    }
  } else if (column && test.op !== 'in') {
    const compare = comparator(test.op)
    const values = column.values as ArrayLike<number | bigint | string>
    // A float column against an integer constant compares numbers (no bigint per point).
    const value = column.type === FieldType.FLOAT && typeof test.value === 'bigint' ? Number(test.value) : test.value
    let i = 0
    for (let j = 0; j < column.times.length; j++) {
      const t = column.times[j]!
      while (times[i]! < t) i++
      if (compare(values[j]!, value)) hit[i] = 1
    }
  }
  for (let i = 0; i < mask.length; i++) mask[i] = mask[i]! & hit[i]!
}

/**
 * The rows of one series passing the filter (1 in the mask over `times`, the union of the
 * columns' times). `tag` gives a tag's value ('' when the series lacks it) or undefined for a field.
 */
export function filterMask(filter: RowFilter, times: BigInt64Array, columns: Map<string, Column>, tag: (name: string) => Value | undefined): Uint8Array {
  const mask = new Uint8Array(times.length).fill(1)
  for (const test of filter.vector) applyVector(test, columns.get(test.field), times, mask)
  if (filter.rest === null) return mask
  // Per column, the index of its first point at or after the row's time: rows are visited in time order.
  const cursors = new Map<string, number>([...columns.keys()].map((name) => [name, 0]))
  const row = {
    timeNs: 0n as bigint | null,
    column: (name: string): Value => {
      const tagValue = tag(name)
      if (tagValue !== undefined) return tagValue
      const column = columns.get(name)
      if (column === undefined) return null
      let at = cursors.get(name)!
      while (at < column.times.length && column.times[at]! < row.timeNs!) at++
      cursors.set(name, at)
      if (at >= column.times.length || column.times[at] !== row.timeNs) return null
      const value = (column.values as ArrayLike<number | bigint | string>)[at]!
      return column.type === FieldType.BOOLEAN ? value !== 0 : value
    },
  }
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue
    row.timeNs = times[i]!
    if (filter.rest.evaluate(row) !== true) mask[i] = 0
  }
  return mask
}
