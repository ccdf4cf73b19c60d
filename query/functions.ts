// Scalar functions of a select list: date_part/extract, to_timestamp*, and the ST_* geometry
// functions. An expression is checked once against the table (types, arity) and compiled to a
// closure evaluated per row; a null argument gives null. Constants (now(), literals) are folded
// at parse time. docs/query.md lists each function with its definition.

import { QueryError, QueryErrorCode } from './errors.ts'
import {
  asBinaryHex, asText, contains, disjoint, equals, geodesicArea, geodesicDistanceOf, geodesicLength, intersects,
  parseGeometry, planarArea, planarDistance, planarLength, shapeOf, singlePoint, within, type Shape,
} from './geo.ts'
import type { ColumnTypeName, Value } from './result.ts'
import { parseTimestamp } from './time.ts'
import { compileOperator, type BinaryOperator } from './operators.ts'

export type Expr =
  | { kind: 'column'; name: string }
  /** bytes: a bytea literal ('\x0101...'::bytea), its value the hex digits. type: when not the value's own (a timestamp constant). */
  | { kind: 'literal'; value: Value; bytes?: boolean; type?: ColumnTypeName }
  | { kind: 'call'; fn: string; args: Expr[]; sql: string }
  /** Arithmetic (+ - * / %), comparison (= != < <= > >=), AND, OR, LIKE, ILIKE, || (operators.ts). */
  | { kind: 'binary'; op: BinaryOperator; left: Expr; right: Expr; sql: string }
  | { kind: 'unary'; op: '-' | 'NOT'; operand: Expr; sql: string }
  | { kind: 'case'; whens: { when: Expr; then: Expr }[]; otherwise: Expr | null; sql: string }
  | { kind: 'in'; operand: Expr; values: Expr[]; negate: boolean; sql: string }
  | { kind: 'between'; operand: Expr; low: Expr; high: Expr; negate: boolean; sql: string }
  | { kind: 'is-null'; operand: Expr; negate: boolean; sql: string }

/** What a row offers an expression: its time and its columns by name. */
export interface RowContext {
  timeNs: bigint | null
  column(name: string): Value
}

export interface CompiledExpr {
  type: ColumnTypeName
  /** Columns the expression reads (besides time). */
  columns: string[]
  evaluate(row: RowContext): Value
}

type Evaluate = (args: Value[]) => Value

interface ScalarFunction {
  minArgs: number
  maxArgs: number
  /** The result type from the argument types; throws on a type it does not take. */
  type(argTypes: ColumnTypeName[], sql: string, args: Expr[]): ColumnTypeName
  evaluate: Evaluate
  /** An evaluation specialised to the argument types, when they change the meaning (to_timestamp of a timestamp). */
  bind?(argTypes: ColumnTypeName[]): Evaluate
  /** Called with null arguments too (concat skips them); by default a null argument gives null. */
  takesNull?: boolean
}

const typeMismatch = (message: string): QueryError => new QueryError(QueryErrorCode.TYPE_MISMATCH, message)
const badValue = (message: string): QueryError => new QueryError(QueryErrorCode.BAD_VALUE, message)

const NS_PER_SECOND = 1_000_000_000n
const NUMERIC: readonly ColumnTypeName[] = ['float', 'integer', 'unsigned']

// ---- date and time ----

const DATE_PARTS = ['year', 'quarter', 'month', 'week', 'day', 'dow', 'doy', 'hour', 'minute', 'second', 'millisecond', 'microsecond', 'nanosecond', 'epoch'] as const
type DatePart = (typeof DATE_PARTS)[number]
const DATE_PART_ALIASES: Readonly<Record<string, DatePart>> = {
  years: 'year', months: 'month', weeks: 'week', days: 'day', hours: 'hour', minutes: 'minute', seconds: 'second',
  milliseconds: 'millisecond', microseconds: 'microsecond', nanoseconds: 'nanosecond', dayofweek: 'dow', dayofyear: 'doy',
}

export function datePartOf(text: string, sql: string): DatePart {
  const unit = text.toLowerCase()
  const part = (DATE_PARTS as readonly string[]).includes(unit) ? unit as DatePart : DATE_PART_ALIASES[unit]
  if (part === undefined) throw badValue(`${sql}: unknown date part '${text}'; use one of ${DATE_PARTS.join(', ')}`)
  return part
}

/** A field of a UTC timestamp, as a float (DataFusion's date_part answers Float64). */
export function datePart(part: DatePart, timeNs: bigint): number {
  const floorMs = timeNs >= 0n ? timeNs / 1_000_000n : -((-timeNs + 999_999n) / 1_000_000n)
  const date = new Date(Number(floorMs))
  const nanosOfSecond = Number(((timeNs % NS_PER_SECOND) + NS_PER_SECOND) % NS_PER_SECOND)
  const second = date.getUTCSeconds()
  switch (part) {
    case 'year': return date.getUTCFullYear()
    case 'quarter': return Math.floor(date.getUTCMonth() / 3) + 1
    case 'month': return date.getUTCMonth() + 1
    case 'week': return isoWeek(date)
    case 'day': return date.getUTCDate()
    case 'dow': return date.getUTCDay()
    case 'doy': return Math.floor((Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()) - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000) + 1
    case 'hour': return date.getUTCHours()
    case 'minute': return date.getUTCMinutes()
    case 'second': return second
    case 'millisecond': return second * 1000 + Math.floor(nanosOfSecond / 1e6)
    case 'microsecond': return second * 1e6 + Math.floor(nanosOfSecond / 1e3)
    case 'nanosecond': return second * 1e9 + nanosOfSecond
    case 'epoch': return Number(timeNs) / 1e9
  }
}

function isoWeek(date: Date): number {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()))
  const weekday = day.getUTCDay() || 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday)
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1)
  return Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7)
}

const MIN_TIME_NS = -(2n ** 63n)
const MAX_TIME_NS = 2n ** 63n - 1n

function inTimeRange(timeNs: bigint, fn: string, value: Value): bigint {
  if (timeNs < MIN_TIME_NS || timeNs > MAX_TIME_NS) throw badValue(`${fn}(${String(value)}): outside the timestamp range (64-bit nanoseconds, years 1677 to 2262)`)
  return timeNs
}

/** to_timestamp*: a number of units since the epoch (fractions kept to the nanosecond) or an RFC 3339 string. */
function toTimestamp(unitNs: bigint, fn: string): Evaluate {
  return ([value]) => {
    if (value === null) return null
    if (typeof value === 'bigint') return inTimeRange(value * unitNs, fn, value)
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw badValue(`${fn}(${value}): not a finite number`)
      const whole = Math.trunc(value)
      return inTimeRange(BigInt(whole) * unitNs + BigInt(Math.round((value - whole) * Number(unitNs))), fn, value)
    }
    if (typeof value === 'string') {
      const parsed = parseTimestamp(value)
      if (parsed === null) throw badValue(`${fn}('${value}'): not an RFC 3339 timestamp`)
      return parsed
    }
    throw typeMismatch(`${fn}: takes a number or an RFC 3339 string, got ${typeof value}`)
  }
}

const toTimestampFunction = (unitNs: bigint, fn: string): ScalarFunction => ({
  minArgs: 1, maxArgs: 1,
  type: ([t], sql) => {
    if (!NUMERIC.includes(t!) && t !== 'string' && t !== 'timestamp') throw typeMismatch(`${sql}: takes a number of ${fn === 'to_timestamp' ? 'seconds' : 'units'} or a string, not ${t}`)
    return 'timestamp'
  },
  evaluate: toTimestamp(unitNs, fn),
  // A timestamp is already one: returned as it is, not read as a count of units.
  bind: ([t]) => (t === 'timestamp' ? ([value]) => value! : toTimestamp(unitNs, fn)),
})

// ---- geometry ----

function geometryArgs(sql: string, types: ColumnTypeName[], count: number): void {
  for (let i = 0; i < count; i++) {
    if (types[i] !== 'string') throw typeMismatch(`${sql}: argument ${i + 1} must be a geometry (a WKT or hex WKB string), not ${types[i]}`)
  }
}

const shapeArg = (value: Value, fn: string): Shape => shapeOf(parseGeometry(value as string, fn))

function spheroidFlag(sql: string, types: ColumnTypeName[], args: Expr[], at: number): void {
  if (types.length <= at) return
  const arg = args[at]!
  if (types[at] !== 'boolean' || arg.kind !== 'literal') throw typeMismatch(`${sql}: argument ${at + 1} (use_spheroid) must be true or false`)
}

const geometryFunction = (geometries: 1 | 2, result: ColumnTypeName, evaluate: Evaluate, optionalFlag = false): ScalarFunction => ({
  minArgs: geometries, maxArgs: geometries + (optionalFlag ? 1 : 0),
  type: (types, sql, args) => {
    geometryArgs(sql, types, geometries)
    if (optionalFlag) spheroidFlag(sql, types, args, geometries)
    return result
  },
  evaluate,
})

const predicate = (fn: string, test: (a: Shape, b: Shape) => boolean): ScalarFunction =>
  geometryFunction(2, 'boolean', ([a, b]) => test(shapeArg(a!, fn), shapeArg(b!, fn)))

export const SCALAR_FUNCTIONS: Readonly<Record<string, ScalarFunction>> = {
  date_part: {
    minArgs: 2, maxArgs: 2,
    type: (types, sql, args) => {
      if (args[0]!.kind !== 'literal' || types[0] !== 'string') throw badValue(`${sql}: the part must be a constant string, e.g. date_part('hour', time)`)
      datePartOf(String(args[0]!.value), sql)
      if (types[1] !== 'timestamp') throw typeMismatch(`${sql}: the second argument must be a timestamp (time or to_timestamp(...)), not ${types[1]}`)
      return 'float'
    },
    evaluate: ([unit, time]) => (time === null ? null : datePart(datePartOf(String(unit), 'date_part'), time as bigint)),
  },
  to_timestamp: toTimestampFunction(NS_PER_SECOND, 'to_timestamp'),
  to_timestamp_seconds: toTimestampFunction(NS_PER_SECOND, 'to_timestamp_seconds'),
  to_timestamp_millis: toTimestampFunction(1_000_000n, 'to_timestamp_millis'),
  to_timestamp_micros: toTimestampFunction(1_000n, 'to_timestamp_micros'),
  to_timestamp_nanos: toTimestampFunction(1n, 'to_timestamp_nanos'),
  st_geomfromtext: geometryFunction(1, 'string', ([g]) => asText(parseGeometry(g as string, 'ST_GeomFromText'))),
  st_geomfromwkb: geometryFunction(1, 'string', ([g]) => asText(parseGeometry(g as string, 'ST_GeomFromWKB'))),
  st_astext: geometryFunction(1, 'string', ([g]) => asText(parseGeometry(g as string, 'ST_AsText'))),
  st_asbinary: geometryFunction(1, 'string', ([g]) => asBinaryHex(parseGeometry(g as string, 'ST_AsBinary'))),
  st_distance: geometryFunction(2, 'float', ([a, b, spheroid]) => (spheroid === true
    ? geodesicDistanceOf(shapeArg(a!, 'ST_Distance'), shapeArg(b!, 'ST_Distance'), 'ST_Distance(..., true)')
    : planarDistance(shapeArg(a!, 'ST_Distance'), shapeArg(b!, 'ST_Distance'))), true),
  st_distancespheroid: geometryFunction(2, 'float', ([a, b]) => geodesicDistanceOf(shapeArg(a!, 'ST_DistanceSpheroid'), shapeArg(b!, 'ST_DistanceSpheroid'), 'ST_DistanceSpheroid')),
  st_area: geometryFunction(1, 'float', ([g, spheroid]) => (spheroid === true ? geodesicArea(shapeArg(g!, 'ST_Area'), 'ST_Area') : planarArea(shapeArg(g!, 'ST_Area'))), true),
  st_areaspheroid: geometryFunction(1, 'float', ([g]) => geodesicArea(shapeArg(g!, 'ST_AreaSpheroid'))),
  st_length: geometryFunction(1, 'float', ([g, spheroid]) => (spheroid === true ? geodesicLength(shapeArg(g!, 'ST_Length'), 'ST_Length') : planarLength(shapeArg(g!, 'ST_Length'))), true),
  st_lengthspheroid: geometryFunction(1, 'float', ([g]) => geodesicLength(shapeArg(g!, 'ST_LengthSpheroid'))),
  st_x: geometryFunction(1, 'float', ([g]) => singlePoint(shapeArg(g!, 'ST_X'), 'ST_X')[0]),
  st_y: geometryFunction(1, 'float', ([g]) => singlePoint(shapeArg(g!, 'ST_Y'), 'ST_Y')[1]),
  st_equals: predicate('ST_Equals', equals),
  st_contains: predicate('ST_Contains', contains),
  st_within: predicate('ST_Within', within),
  st_intersects: predicate('ST_Intersects', intersects),
  st_disjoint: predicate('ST_Disjoint', disjoint),
}

// ---- mathematics and strings ----

const numericArgs = (sql: string, types: ColumnTypeName[]): void => {
  types.forEach((t, i) => { if (!NUMERIC.includes(t)) throw typeMismatch(`${sql}: argument ${i + 1} must be a number, not ${t}`) })
}

/** abs keeps an integer's type; the others answer a float as DataFusion's math functions. */
const mathFunction = (apply: (x: number) => number, keepsIntegers = false): ScalarFunction => ({
  minArgs: 1, maxArgs: 1,
  type: (types, sql) => { numericArgs(sql, types); return keepsIntegers && types[0] !== 'float' ? types[0]! : 'float' },
  evaluate: ([x]) => (typeof x === 'bigint' && keepsIntegers ? (x < 0n ? -x : x) : apply(Number(x))),
})

/** round(x) or round(x, digits): half away from zero, as PostgreSQL and DataFusion. */
function roundTo(x: number, digits: number): number {
  const scale = 10 ** digits
  const scaled = Math.abs(x) * scale
  const rounded = Math.round(scaled) / scale
  return x < 0 ? -rounded : rounded
}

const stringFunction = (apply: (text: string) => Value, result: ColumnTypeName): ScalarFunction => ({
  minArgs: 1, maxArgs: 1,
  type: ([t], sql) => { if (t !== 'string') throw typeMismatch(`${sql}: takes a string, not ${t}`); return result },
  evaluate: ([text]) => apply(text as string),
})

Object.assign(SCALAR_FUNCTIONS as Record<string, ScalarFunction>, {
  abs: mathFunction(Math.abs, true),
  floor: mathFunction(Math.floor),
  ceil: mathFunction(Math.ceil),
  ceiling: mathFunction(Math.ceil),
  sqrt: mathFunction((x) => (x < 0 ? NaN : Math.sqrt(x))),
  ln: mathFunction(Math.log),
  log10: mathFunction(Math.log10),
  exp: mathFunction(Math.exp),
  round: {
    minArgs: 1, maxArgs: 2,
    type: (types, sql, args) => {
      numericArgs(sql, types)
      if (types.length === 2 && (types[1] !== 'integer' || args[1]!.kind !== 'literal')) throw typeMismatch(`${sql}: the digits must be a whole-number constant`)
      return 'float'
    },
    evaluate: ([x, digits]) => roundTo(Number(x), digits === undefined ? 0 : Number(digits)),
  },
  power: {
    minArgs: 2, maxArgs: 2,
    type: (types, sql) => { numericArgs(sql, types); return 'float' },
    evaluate: ([x, y]) => Number(x) ** Number(y),
  },
  pow: { minArgs: 2, maxArgs: 2, type: (types: ColumnTypeName[], sql: string) => { numericArgs(sql, types); return 'float' }, evaluate: ([x, y]: Value[]) => Number(x) ** Number(y) },
  lower: stringFunction((t) => t.toLowerCase(), 'string'),
  upper: stringFunction((t) => t.toUpperCase(), 'string'),
  // Characters (code points), as PostgreSQL's length and character_length.
  length: stringFunction((t) => BigInt([...t].length), 'integer'),
  char_length: stringFunction((t) => BigInt([...t].length), 'integer'),
  character_length: stringFunction((t) => BigInt([...t].length), 'integer'),
  concat: {
    minArgs: 1, maxArgs: 64, takesNull: true,
    type: () => 'string',
    evaluate: (values: Value[]) => values.map((v) => (v === null ? '' : textOf(v))).join(''),
  },
} satisfies Record<string, ScalarFunction>)

/** A value as text, for concat and ||: floats as JavaScript writes them, booleans true/false. */
export function textOf(value: Value): string {
  return String(value)
}

/**
 * The result type of a call. A NULL constant has no type of its own: it takes the first type the
 * function accepts there (the call then answers null, but has a type for its column).
 */
function callType(fn: ScalarFunction, argTypes: ColumnTypeName[], expr: Extract<Expr, { kind: 'call' }>): ColumnTypeName {
  const nulls = expr.args.map((arg) => arg.kind === 'literal' && arg.value === null)
  if (!nulls.includes(true)) return fn.type(argTypes, expr.sql, expr.args)
  for (const candidate of ['float', 'string', 'timestamp', 'boolean', 'integer'] as const) {
    try {
      return fn.type(argTypes.map((t, i) => (nulls[i] ? candidate : t)), expr.sql, expr.args)
    } catch {
      // Not this type: try the next.
    }
  }
  return fn.type(argTypes, expr.sql, expr.args)
}

export function isScalarFunction(name: string): boolean {
  return Object.hasOwn(SCALAR_FUNCTIONS, name)
}

function literalType(value: Value): ColumnTypeName {
  switch (typeof value) {
    case 'bigint': return 'integer'
    case 'number': return 'float'
    case 'boolean': return 'boolean'
    case 'string': return 'string'
    default: return 'string'
  }
}

/**
 * Checks an expression against the columns' types and compiles it. `columnType` gives a column's
 * type or throws (unknown column, or a column the context does not allow).
 */
export function compileExpression(expr: Expr, columnType: (name: string) => ColumnTypeName): CompiledExpr {
  const columns = new Set<string>()
  const compiled = compile(expr, columnType, columns)
  return { ...compiled, columns: [...columns] }
}

function compile(expr: Expr, columnType: (name: string) => ColumnTypeName, columns: Set<string>): Omit<CompiledExpr, 'columns'> {
  switch (expr.kind) {
    case 'literal': {
      const value = expr.value
      return { type: expr.type ?? literalType(value), evaluate: () => value }
    }
    case 'binary': case 'unary': case 'case': case 'in': case 'between': case 'is-null':
      return compileOperator(expr, (inner) => compile(inner, columnType, columns))
    case 'column': {
      const type = columnType(expr.name)
      if (expr.name === 'time') return { type, evaluate: (row) => row.timeNs }
      columns.add(expr.name)
      const name = expr.name
      return { type, evaluate: (row) => row.column(name) }
    }
    case 'call': {
      const fn = SCALAR_FUNCTIONS[expr.fn]
      if (!fn) throw new QueryError(QueryErrorCode.UNSUPPORTED, `function ${expr.fn}() is not supported here (${expr.sql})`)
      if (expr.args.length < fn.minArgs || expr.args.length > fn.maxArgs) {
        const wanted = fn.minArgs === fn.maxArgs ? `${fn.minArgs}` : `${fn.minArgs} to ${fn.maxArgs}`
        throw new QueryError(QueryErrorCode.UNSUPPORTED, `${expr.sql}: ${expr.fn} takes ${wanted} argument${fn.maxArgs === 1 ? '' : 's'}, got ${expr.args.length}`)
      }
      const args = expr.args.map((arg) => compile(arg, columnType, columns))
      const argTypes = args.map((a) => a.type)
      const type = callType(fn, argTypes, expr)
      const evaluate = fn.bind ? fn.bind(argTypes) : fn.evaluate
      return {
        type,
        evaluate: (row) => {
          const values = args.map((a) => a.evaluate(row))
          if (!fn.takesNull) for (let i = 0; i < values.length; i++) if (values[i] === null) return null
          return evaluate(values)
        },
      }
    }
  }
}
