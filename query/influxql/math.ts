// Arithmetic over aggregates in the select list (`mean("bytes") * 8`, `max("a") - min("a")`, Grafana's
// math()), as InfluxDB 1.x evaluates it: each call is computed and filled on its own, then the
// expression is applied per row. Integers stay exact through +, - and * (and %); / gives a float;
// division (and %) by zero gives 0; a null operand gives null. The column is named after its calls
// (max_min) unless aliased.

import { QueryError, QueryErrorCode } from '../errors.ts'
import type { Value } from '../result.ts'
import type { Expr } from './ast.ts'

export type Evaluate = (calls: Value[]) => Value

const OPERATORS = new Set(['+', '-', '*', '/', '%'])

/** Compiles `expr`; `call` registers an aggregate call and returns its index among the row's calls. */
export function compileMath(expr: Expr, call: (expr: Extract<Expr, { kind: 'call' }>) => number): Evaluate {
  switch (expr.kind) {
    case 'call': {
      const index = call(expr)
      return (calls) => calls[index]!
    }
    case 'number': {
      const value: Value = expr.integer ? BigInt(expr.text) : expr.value
      return () => value
    }
    case 'binary': {
      if (!OPERATORS.has(expr.op)) break
      const left = compileMath(expr.left, call)
      const right = compileMath(expr.right, call)
      const op = expr.op
      return (calls) => apply(op, left(calls), right(calls))
    }
  }
  throw new QueryError(QueryErrorCode.UNSUPPORTED, 'SELECT: arithmetic takes aggregates (mean("usage")) and numbers with +, -, *, / and %')
}

function apply(op: string, a: Value, b: Value): Value {
  if (a === null || b === null) return null
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    switch (op) {
      case '+': return a + b
      case '-': return a - b
      case '*': return a * b
      case '%': return b === 0n ? 0n : a % b
      default: return b === 0n ? 0 : Number(a) / Number(b)
    }
  }
  if ((typeof a !== 'number' && typeof a !== 'bigint') || (typeof b !== 'number' && typeof b !== 'bigint')) return null
  const [x, y] = [Number(a), Number(b)]
  switch (op) {
    case '+': return x + y
    case '-': return x - y
    case '*': return x * y
    case '%': return y === 0 ? 0 : x % y
    default: return y === 0 ? 0 : x / y
  }
}

/** Whether an expression holds an aggregate call (so it is computed per window, not per point). */
export function hasCall(expr: Expr): boolean {
  if (expr.kind === 'call') return true
  return expr.kind === 'binary' && (hasCall(expr.left) || hasCall(expr.right))
}
