// Operators of SQL expressions: arithmetic, comparison, AND/OR/NOT (three-valued: null is
// unknown), LIKE/ILIKE, IN, BETWEEN, IS [NOT] NULL, CASE and ||. Each is checked once against its
// operands' types (a mismatch names the expression) and compiled to a closure per row. Used by
// select lists, WHERE row filters and HAVING alike (functions.ts compiles the rest of a tree).

import { QueryError, QueryErrorCode } from './errors.ts'
import type { Expr } from './functions.ts'
import type { ColumnTypeName, Value } from './result.ts'
import { parseTimestamp } from './time.ts'

export type BinaryOperator =
  | '+' | '-' | '*' | '/' | '%' | '||'
  | '=' | '!=' | '<' | '<=' | '>' | '>='
  | 'AND' | 'OR' | 'LIKE' | 'NOT LIKE' | 'ILIKE' | 'NOT ILIKE'

export const BINARY_OPERATORS: readonly string[] = ['+', '-', '*', '/', '%', '||', '=', '!=', '<>', '<', '<=', '>', '>=', 'AND', 'OR', 'LIKE', 'NOT LIKE', 'ILIKE', 'NOT ILIKE']

interface RowLike { timeNs: bigint | null; column(name: string): Value }
export interface Compiled { type: ColumnTypeName; evaluate(row: RowLike): Value }
/** A compiled null literal has no type of its own: it takes the other operand's. */
type Child = (expr: Expr) => Compiled

const NUMERIC: readonly ColumnTypeName[] = ['float', 'integer', 'unsigned']
const typeMismatch = (message: string): QueryError => new QueryError(QueryErrorCode.TYPE_MISMATCH, message)

const isNullLiteral = (expr: Expr): boolean => expr.kind === 'literal' && expr.value === null

export function compileOperator(expr: Exclude<Expr, { kind: 'column' | 'literal' | 'call' }>, child: Child): Compiled {
  switch (expr.kind) {
    case 'binary': return binary(expr, child)
    case 'unary': return unary(expr, child)
    case 'case': return caseOf(expr, child)
    case 'in': return inList(expr, child)
    case 'between': {
      const low = comparison('>=', expr.operand, expr.low, expr.sql, child)
      const high = comparison('<=', expr.operand, expr.high, expr.sql, child)
      const both = and(low.evaluate, high.evaluate)
      return { type: 'boolean', evaluate: expr.negate ? (row) => not(both(row)) : both }
    }
    case 'is-null': {
      const operand = child(expr.operand)
      return { type: 'boolean', evaluate: expr.negate ? (row) => operand.evaluate(row) !== null : (row) => operand.evaluate(row) === null }
    }
  }
}

function not(value: Value): Value {
  return value === null ? null : !value
}

function and(a: Compiled['evaluate'], b: Compiled['evaluate']): Compiled['evaluate'] {
  return (row) => {
    const x = a(row)
    if (x === false) return false
    const y = b(row)
    if (y === false) return false
    return x === null || y === null ? null : true
  }
}

function or(a: Compiled['evaluate'], b: Compiled['evaluate']): Compiled['evaluate'] {
  return (row) => {
    const x = a(row)
    if (x === true) return true
    const y = b(row)
    if (y === true) return true
    return x === null || y === null ? null : false
  }
}

function requireBoolean(compiled: Compiled, expr: Expr, sql: string): void {
  if (compiled.type !== 'boolean' && !isNullLiteral(expr)) throw typeMismatch(`${sql}: ${sqlText(expr)} is ${compiled.type}, not a condition (boolean)`)
}

function sqlText(expr: Expr): string {
  // A hidden item's name (\u0000<n>:max(usage), \u0000order:usage) ends with what the user wrote.
  if (expr.kind === 'column') return expr.name.startsWith('\u0000') ? expr.name.slice(expr.name.indexOf(':') + 1) : expr.name
  if (expr.kind === 'literal') return typeof expr.value === 'string' ? `'${expr.value}'` : String(expr.value)
  return expr.sql
}

function binary(expr: Extract<Expr, { kind: 'binary' }>, child: Child): Compiled {
  const { op, sql } = expr
  switch (op) {
    case 'AND': case 'OR': {
      const left = child(expr.left)
      const right = child(expr.right)
      requireBoolean(left, expr.left, sql)
      requireBoolean(right, expr.right, sql)
      return { type: 'boolean', evaluate: op === 'AND' ? and(left.evaluate, right.evaluate) : or(left.evaluate, right.evaluate) }
    }
    case '=': case '!=': case '<': case '<=': case '>': case '>=':
      return comparison(op, expr.left, expr.right, sql, child)
    case 'LIKE': case 'NOT LIKE': case 'ILIKE': case 'NOT ILIKE':
      return like(expr, child)
    case '||': {
      const left = child(expr.left)
      const right = child(expr.right)
      return {
        type: 'string',
        evaluate: (row) => {
          const a = left.evaluate(row)
          const b = right.evaluate(row)
          return a === null || b === null ? null : String(a) + String(b)
        },
      }
    }
    default: return arithmetic(expr, child)
  }
}

/** Integer arithmetic stays exact (bigint) unless a float takes part; a division by zero is null. */
function arithmetic(expr: Extract<Expr, { kind: 'binary' }>, child: Child): Compiled {
  const { op, sql } = expr
  const left = child(expr.left)
  const right = child(expr.right)
  const lt = isNullLiteral(expr.left) ? right.type : left.type
  const rt = isNullLiteral(expr.right) ? left.type : right.type
  let type: ColumnTypeName
  if (lt === 'timestamp' && (rt === 'integer' || rt === 'unsigned') && (op === '+' || op === '-')) type = 'timestamp'
  else if (lt === 'timestamp' && rt === 'timestamp' && op === '-') type = 'integer'
  else if (NUMERIC.includes(lt) && NUMERIC.includes(rt)) type = lt === 'float' || rt === 'float' ? 'float' : lt === 'unsigned' && rt === 'unsigned' ? 'unsigned' : 'integer'
  else throw typeMismatch(`${sql}: ${op} takes numbers (or a timestamp ± integer nanoseconds), not ${lt} and ${rt}`)
  const float = type === 'float'
  const apply = float ? floatOp(op) : integerOp(op)
  return {
    type,
    evaluate: (row) => {
      const a = left.evaluate(row)
      if (a === null) return null
      const b = right.evaluate(row)
      if (b === null) return null
      return float ? (apply as (x: number, y: number) => Value)(Number(a), Number(b)) : (apply as (x: bigint, y: bigint) => Value)(BigInt(a as bigint), BigInt(b as bigint))
    },
  }
}

function floatOp(op: BinaryOperator): (a: number, b: number) => Value {
  switch (op) {
    case '+': return (a, b) => a + b
    case '-': return (a, b) => a - b
    case '*': return (a, b) => a * b
    case '/': return (a, b) => (b === 0 ? null : a / b)
    default: return (a, b) => (b === 0 ? null : a % b)
  }
}

/** Integer division truncates toward zero, as DataFusion's (and PostgreSQL's) integer /. */
function integerOp(op: BinaryOperator): (a: bigint, b: bigint) => Value {
  switch (op) {
    case '+': return (a, b) => a + b
    case '-': return (a, b) => a - b
    case '*': return (a, b) => a * b
    case '/': return (a, b) => (b === 0n ? null : a / b)
    default: return (a, b) => (b === 0n ? null : a % b)
  }
}

/** SQL order of two non-null values of comparable types (numbers of any kind compare by value). */
export function compareValues(a: Value, b: Value): number {
  if (typeof a === typeof b) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
}

function comparable(a: ColumnTypeName, b: ColumnTypeName): boolean {
  return a === b || (NUMERIC.includes(a) && NUMERIC.includes(b))
}

/**
 * A timestamp compared with a string constant reads it as RFC 3339, with an integer as
 * nanoseconds: `time > '2023-11-14T22:13:00Z'` anywhere in a condition.
 */
function asTimestamp(expr: Expr, compiled: Compiled, sql: string): Compiled {
  if (expr.kind !== 'literal') return compiled
  if (typeof expr.value === 'string') {
    const parsed = parseTimestamp(expr.value)
    if (parsed === null) throw new QueryError(QueryErrorCode.BAD_VALUE, `${sql}: time '${expr.value}' is not an RFC 3339 timestamp (e.g. 2023-01-14T16:03:00Z)`)
    return { type: 'timestamp', evaluate: () => parsed }
  }
  if (typeof expr.value === 'bigint') return { type: 'timestamp', evaluate: () => expr.value }
  return compiled
}

function comparison(op: '=' | '!=' | '<' | '<=' | '>' | '>=', leftExpr: Expr, rightExpr: Expr, sql: string, child: Child): Compiled {
  let left = child(leftExpr)
  let right = child(rightExpr)
  if (left.type === 'timestamp') right = asTimestamp(rightExpr, right, sql)
  if (right.type === 'timestamp') left = asTimestamp(leftExpr, left, sql)
  if (!isNullLiteral(leftExpr) && !isNullLiteral(rightExpr) && !comparable(left.type, right.type)) {
    throw typeMismatch(`${sql}: cannot compare ${sqlText(leftExpr)} (${left.type}) with ${sqlText(rightExpr)} (${right.type})`)
  }
  const test = comparisonTest(op)
  return {
    type: 'boolean',
    evaluate: (row) => {
      const a = left.evaluate(row)
      if (a === null) return null
      const b = right.evaluate(row)
      if (b === null) return null
      return test(compareValues(a, b), a, b)
    },
  }
}

function comparisonTest(op: string): (order: number, a: Value, b: Value) => boolean {
  // NaN is unequal to everything (and not ordered), as IEEE.
  const nan = (a: Value, b: Value): boolean => a !== a || b !== b
  switch (op) {
    case '=': return (o, a, b) => o === 0 && !nan(a, b)
    case '!=': return (o, a, b) => o !== 0 || nan(a, b)
    case '<': return (o) => o < 0
    case '<=': return (o, a, b) => o <= 0 && !nan(a, b)
    case '>': return (o) => o > 0
    default: return (o, a, b) => o >= 0 && !nan(a, b)
  }
}

/** A LIKE pattern as a regular expression: % any run, _ one character, \ escapes the next. */
export function likePattern(pattern: string, caseInsensitive: boolean): RegExp {
  let source = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]!)
    else if (c === '%') source += '[\\s\\S]*'
    else if (c === '_') source += '[\\s\\S]'
    else source += escapeRegExp(c)
  }
  return new RegExp(`^${source}$`, caseInsensitive ? 'iu' : 'u')
}

function escapeRegExp(c: string): string {
  // The syntax characters only: in unicode mode, escaping any other character is an error.
  return /[\\^$.*+?()[\]{}|/]/.test(c) ? `\\${c}` : c
}

function like(expr: Extract<Expr, { kind: 'binary' }>, child: Child): Compiled {
  const left = child(expr.left)
  const right = child(expr.right)
  for (const [side, compiled] of [[expr.left, left], [expr.right, right]] as const) {
    if (compiled.type !== 'string' && !isNullLiteral(side)) throw typeMismatch(`${expr.sql}: ${expr.op} takes strings (tags or string fields), not ${sqlText(side)} (${compiled.type})`)
  }
  const insensitive = expr.op.endsWith('ILIKE')
  const negate = expr.op.startsWith('NOT')
  const constant = expr.right.kind === 'literal' && typeof expr.right.value === 'string' ? likePattern(expr.right.value, insensitive) : null
  return {
    type: 'boolean',
    evaluate: (row) => {
      const text = left.evaluate(row)
      if (text === null) return null
      const pattern = constant ?? right.evaluate(row)
      if (pattern === null) return null
      const regex = pattern instanceof RegExp ? pattern : likePattern(String(pattern), insensitive)
      return regex.test(String(text)) !== negate
    },
  }
}

function unary(expr: Extract<Expr, { kind: 'unary' }>, child: Child): Compiled {
  const operand = child(expr.operand)
  if (expr.op === 'NOT') {
    requireBoolean(operand, expr.operand, expr.sql)
    return { type: 'boolean', evaluate: (row) => not(operand.evaluate(row)) }
  }
  if (!NUMERIC.includes(operand.type) && !isNullLiteral(expr.operand)) throw typeMismatch(`${expr.sql}: unary minus takes a number, not ${operand.type}`)
  const type = operand.type === 'unsigned' ? 'integer' : operand.type
  return {
    type,
    evaluate: (row) => {
      const v = operand.evaluate(row)
      if (v === null) return null
      return typeof v === 'bigint' ? -v : -(v as number)
    },
  }
}

function inList(expr: Extract<Expr, { kind: 'in' }>, child: Child): Compiled {
  const tests = expr.values.map((value) => comparison('=', expr.operand, value, expr.sql, child).evaluate)
  return {
    type: 'boolean',
    evaluate: (row) => {
      let unknown = false
      for (const test of tests) {
        const hit = test(row)
        if (hit === true) return !expr.negate
        if (hit === null) unknown = true
      }
      return unknown ? null : expr.negate
    },
  }
}

/** The result type of CASE: its branches' common type (numbers widen to float, integers stay integers). */
function commonType(types: ColumnTypeName[], sql: string): ColumnTypeName {
  if (types.length === 0) return 'string'
  if (types.every((t) => t === types[0])) return types[0]!
  if (types.every((t) => NUMERIC.includes(t))) return types.includes('float') ? 'float' : 'integer'
  throw typeMismatch(`${sql}: the branches have different types (${[...new Set(types)].join(', ')})`)
}

function caseOf(expr: Extract<Expr, { kind: 'case' }>, child: Child): Compiled {
  const whens = expr.whens.map(({ when, then }) => {
    const condition = child(when)
    requireBoolean(condition, when, expr.sql)
    return { when: condition.evaluate, then: child(then), thenExpr: then }
  })
  const otherwise = expr.otherwise ? child(expr.otherwise) : null
  const branches = [...whens.map((w) => ({ compiled: w.then, expr: w.thenExpr })), ...(otherwise && expr.otherwise ? [{ compiled: otherwise, expr: expr.otherwise }] : [])]
  const type = commonType(branches.filter((b) => !isNullLiteral(b.expr)).map((b) => b.compiled.type), expr.sql)
  const widen = type === 'float' ? (v: Value): Value => (v === null ? null : Number(v)) : (v: Value): Value => v
  return {
    type,
    evaluate: (row) => {
      for (const { when, then } of whens) if (when(row) === true) return widen(then.evaluate(row))
      return otherwise ? widen(otherwise.evaluate(row)) : null
    },
  }
}
