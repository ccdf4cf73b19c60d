// The select list of an InfluxQL SELECT checked against a measurement's tags and fields: raw fields
// and tags (with * expanded), aggregate calls (fn(*) and fn(/re/) expanded per field), transformations
// of an aggregate (derivative(mean("x"), 1s)) and arithmetic over those. Names follow InfluxDB: the
// function's name, fn_field for expansions, the calls joined by _ for arithmetic, _1, _2 for repeats.

import { FIELD_TYPE_NAMES, FieldType, type FieldTypeCode } from '../../sinks/index.ts'
import { QueryError, QueryErrorCode } from '../errors.ts'
import type { TableSchema } from '../plan.ts'
import type { Expr, SelectStatement } from './ast.ts'
import { compileMath, hasCall, type Evaluate } from './math.ts'
import { INFLUXQL_AGGREGATES, SELECTORS, type InfluxqlAggregate } from './reduce.ts'
import { TRANSFORMS, extraWindows, type TransformName, type TransformSpec } from './transform.ts'

/**
 * percent: percentile's second argument (0 for the others); extraWindows: windows before the range
 * a transformation of this call looks back on (0 for a plain call).
 */
export type AggregateColumn = { kind: 'aggregate'; fn: InfluxqlAggregate; field: string; type: FieldTypeCode; percent: number; extraWindows: number; name: string }

/** A transformation of one aggregate's windows (transform.ts). */
export type TransformColumn = { kind: 'transform'; spec: TransformSpec; call: AggregateColumn; name: string }

/** What computes one value per window: an aggregate or a transformation of one. */
export type CallColumn = AggregateColumn | TransformColumn

export type ColumnPlan =
  | { kind: 'field'; field: string; name: string }
  | { kind: 'tag'; key: string; name: string }
  | CallColumn
  /** Arithmetic over calls (math.ts). */
  | { kind: 'math'; calls: CallColumn[]; evaluate: Evaluate; name: string }

const unsupported = (message: string): QueryError => new QueryError(QueryErrorCode.UNSUPPORTED, message)

/** Aggregates that need numbers (min and max too: InfluxDB 1.x has no min/max of strings or booleans). */
const NUMERIC_ONLY: ReadonlySet<string> = new Set(['sum', 'mean', 'spread', 'min', 'max', 'median', 'mode', 'stddev', 'percentile'])

export function planColumns(statement: SelectStatement, schema: TableSchema, groupKeys: string[]): ColumnPlan[] {
  const columns: ColumnPlan[] = []
  const isTag = (name: string, cast: string | null): boolean => cast === 'tag' || (cast !== 'field' && schema.tags.includes(name) && !schema.fields.has(name))
  for (const { expr, alias } of statement.fields) {
    if (expr.kind === 'wildcard') {
      const names = [...schema.fields.keys(), ...schema.tags.filter((t) => !groupKeys.includes(t) && !schema.fields.has(t))].sort()
      for (const name of names) columns.push(isTag(name, null) ? { kind: 'tag', key: name, name } : { kind: 'field', field: name, name })
      continue
    }
    if (expr.kind === 'ident') {
      if (expr.name.toLowerCase() === 'time') continue
      columns.push(isTag(expr.name, expr.cast) ? { kind: 'tag', key: expr.name, name: alias ?? expr.name } : { kind: 'field', field: expr.name, name: alias ?? expr.name })
      continue
    }
    if (expr.kind === 'call') {
      if ((TRANSFORMS as readonly string[]).includes(expr.name)) columns.push(transformColumn(expr, alias, schema))
      else columns.push(...aggregateColumns(expr, alias, schema))
      continue
    }
    if (expr.kind === 'binary' && hasCall(expr)) {
      const mathCalls: CallColumn[] = []
      const evaluate = compileMath(expr, (call) => {
        if ((TRANSFORMS as readonly string[]).includes(call.name)) return mathCalls.push(transformColumn(call, null, schema)) - 1
        const [column, more] = aggregateColumns(call, null, schema)
        if (column === undefined || more !== undefined) throw unsupported(`${call.name}(...) in arithmetic takes one field, not * or /regex/`)
        return mathCalls.push(column) - 1
      })
      columns.push({ kind: 'math', calls: mathCalls, evaluate, name: alias ?? mathCalls.map((c) => (c.kind === 'transform' ? c.spec.fn : c.fn)).join('_') })
      continue
    }
    throw unsupported('SELECT: select fields, tags, * or aggregates of a field (mean("usage")), with arithmetic on aggregates only')
  }
  const aggregates = columns.filter((c) => c.kind === 'aggregate' || c.kind === 'transform' || c.kind === 'math').length
  // One selector may bring the fields and tags of the point it picks (SELECT max("v"), "host").
  const selector = aggregates === 1 && columns.some((c) => c.kind === 'aggregate' && SELECTORS.has(c.fn))
  if (aggregates > 0 && aggregates < columns.length && !selector) throw unsupported('mixing aggregate and non-aggregate queries is not supported')
  if (columns.length === 0 || (aggregates === 0 && !columns.some((c) => c.kind === 'field'))) throw unsupported('statement must have at least one field in select clause')
  // InfluxDB names repeated columns name_1, name_2, ...
  const seen = new Map<string, number>()
  for (const column of columns) {
    const n = seen.get(column.name) ?? 0
    seen.set(column.name, n + 1)
    if (n > 0) column.name = `${column.name}_${n}`
  }
  return columns
}

function aggregateColumns(expr: Extract<Expr, { kind: 'call' }>, alias: string | null, schema: TableSchema): AggregateColumn[] {
  const fn = expr.name as InfluxqlAggregate
  if (!(INFLUXQL_AGGREGATES as readonly string[]).includes(fn)) {
    throw unsupported(`unsupported function ${expr.name}(): Sluice's InfluxQL has ${[...INFLUXQL_AGGREGATES, ...TRANSFORMS].join(', ')}`)
  }
  const arity = fn === 'percentile' ? 2 : 1
  if (expr.args.length !== arity) throw unsupported(fn === 'percentile' ? 'write percentile("field", N) with N from 0 to 100' : `${fn}() takes one field, got ${expr.args.length} arguments`)
  const arg = expr.args[0]!
  let percent = 0
  if (fn === 'percentile') {
    const n = expr.args[1]!
    if (n.kind !== 'number' || n.value < 0 || n.value > 100) throw unsupported('percentile("field", N): N is a number from 0 to 100')
    percent = n.value
  }
  const check = (field: string, type: FieldTypeCode): void => {
    if (NUMERIC_ONLY.has(fn) && (type === FieldType.STRING || type === FieldType.BOOLEAN)) {
      throw new QueryError(QueryErrorCode.TYPE_MISMATCH, `${fn}("${field}"): "${field}" is a ${FIELD_TYPE_NAMES[type]} field; ${fn}() takes numbers`)
    }
  }
  if (arg.kind === 'ident') {
    const type = schema.fields.get(arg.name)
    // A tag or unknown name has no points: the column stays empty, as in InfluxDB.
    if (type === undefined) return [{ kind: 'aggregate', fn, field: arg.name, type: FieldType.FLOAT, percent, extraWindows: 0, name: alias ?? fn }]
    check(arg.name, type)
    return [{ kind: 'aggregate', fn, field: arg.name, type, percent, extraWindows: 0, name: alias ?? fn }]
  }
  if (arg.kind === 'wildcard' || arg.kind === 'regex') {
    const out: AggregateColumn[] = []
    for (const [field, type] of schema.fields) {
      if (arg.kind === 'regex' && !arg.regex.test(field)) continue
      if (NUMERIC_ONLY.has(fn) && (type === FieldType.STRING || type === FieldType.BOOLEAN)) continue
      out.push({ kind: 'aggregate', fn, field, type, percent, extraWindows: 0, name: `${alias ?? fn}_${field}` })
    }
    return out
  }
  if (arg.kind === 'call' && arg.name === 'distinct') throw unsupported(`${fn}(distinct(...)) is not supported`)
  throw unsupported(`${fn}(...): aggregate a field ("usage"), * or /regex/`)
}

/** derivative(mean("x")[, 1s]), non_negative_derivative, difference, non_negative_difference, moving_average(mean("x"), N), cumulative_sum. */
function transformColumn(expr: Extract<Expr, { kind: 'call' }>, alias: string | null, schema: TableSchema): TransformColumn {
  const fn = expr.name as TransformName
  const inner = expr.args[0]
  if (inner?.kind !== 'call' || (TRANSFORMS as readonly string[]).includes(inner.name)) {
    throw unsupported(`${fn}() of raw points is not supported; transform an aggregate with GROUP BY time, e.g. ${fn}(mean("value")${fn === 'moving_average' ? ', 3' : ''})`)
  }
  const [call, more] = aggregateColumns(inner, null, schema)
  if (call === undefined || more !== undefined) throw unsupported(`${fn}(${inner.name}(...)) takes one field, not * or /regex/`)
  const spec: TransformSpec = { fn, unitNs: null, count: 0 }
  const argument = expr.args[1]
  if (fn === 'moving_average') {
    if (argument?.kind !== 'number' || !argument.integer || argument.value < 2 || expr.args.length !== 2) throw unsupported('write moving_average(mean("field"), N) with a whole N of 2 or more')
    spec.count = argument.value
  } else if (fn === 'derivative' || fn === 'non_negative_derivative') {
    if (expr.args.length > 2 || (argument !== undefined && (argument.kind !== 'duration' || argument.ns <= 0n))) throw unsupported(`write ${fn}(mean("field")[, unit]) with a duration unit such as 1s`)
    spec.unitNs = argument?.kind === 'duration' ? argument.ns : null
  } else if (expr.args.length !== 1) {
    throw unsupported(`${fn}() takes one aggregate, e.g. ${fn}(max("value"))`)
  }
  return { kind: 'transform', spec, call: { ...call, extraWindows: extraWindows(spec) }, name: alias ?? fn }
}
