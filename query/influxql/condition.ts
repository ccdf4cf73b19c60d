// A WHERE clause split the way InfluxDB 1.x reads it: conditions on time (joined with AND) give
// the time range, the rest is a predicate on a series' tags (=, !=, =~, !~ joined with AND and OR;
// a missing tag has the value ''). Conditions on fields are refused: Sluice filters series by tags.

import { QueryError, QueryErrorCode } from '../errors.ts'
import { parseTimestamp } from '../time.ts'
import type { Expr } from './ast.ts'

/** Tags of a series, by key. */
export type TagLookup = (key: string) => string

export type TagPredicate = (tags: TagLookup) => boolean

export interface WhereParts {
  /** Inclusive; null = unbounded. */
  startNs: bigint | null
  /** Inclusive, as InfluxDB keeps it; null = unbounded. */
  endNs: bigint | null
  /** Null: every series. */
  predicate: TagPredicate | null
}

const unsupported = (message: string): QueryError => new QueryError(QueryErrorCode.UNSUPPORTED, message)

/** Whether an identifier names a field (refused in conditions) rather than a tag. */
export type IsField = (name: string) => boolean

export function analyzeWhere(condition: Expr | null, nowNs: bigint, isField: IsField): WhereParts {
  const parts: WhereParts = { startNs: null, endNs: null, predicate: null }
  if (condition === null) return parts
  parts.predicate = conjunct(condition, nowNs, isField, parts)
  return parts
}

/** Reads one AND-joined part: time bounds go into `parts`; the tag predicate is returned (null: always true). */
function conjunct(expr: Expr, nowNs: bigint, isField: IsField, parts: WhereParts): TagPredicate | null {
  if (expr.kind === 'binary' && expr.op === 'AND') {
    const left = conjunct(expr.left, nowNs, isField, parts)
    const right = conjunct(expr.right, nowNs, isField, parts)
    if (left === null) return right
    if (right === null) return left
    return (tags) => left(tags) && right(tags)
  }
  if (isTimeCondition(expr)) {
    timeBound(expr, nowNs, parts)
    return null
  }
  return tagPredicate(expr, isField)
}

function isTimeIdent(expr: Expr): boolean {
  return expr.kind === 'ident' && expr.name.toLowerCase() === 'time'
}

function isTimeCondition(expr: Expr): expr is Extract<Expr, { kind: 'binary' }> {
  return expr.kind === 'binary' && (isTimeIdent(expr.left) || isTimeIdent(expr.right))
}

const FLIPPED: Readonly<Record<string, string>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' }

function timeBound(expr: Extract<Expr, { kind: 'binary' }>, nowNs: bigint, parts: WhereParts): void {
  const timeOnLeft = isTimeIdent(expr.left)
  const op = FLIPPED[expr.op] === undefined ? undefined : timeOnLeft ? expr.op : FLIPPED[expr.op]
  if (op === undefined) throw unsupported(`time ${expr.op} ...: compare time with =, <, <=, > or >=`)
  const value = timeValue(timeOnLeft ? expr.right : expr.left, nowNs)
  const raise = (start: bigint): void => { if (parts.startNs === null || start > parts.startNs) parts.startNs = start }
  const lower = (end: bigint): void => { if (parts.endNs === null || end < parts.endNs) parts.endNs = end }
  switch (op) {
    case '>': raise(value + 1n); break
    case '>=': raise(value); break
    case '<': lower(value - 1n); break
    case '<=': lower(value); break
    case '=': raise(value); lower(value); break
  }
}

/**
 * Times of RFC 3339 literals by their node: a cached statement (parser.ts) is read again by every
 * request that repeats it, and parsing its times was a fifth of such a request's SELECT. A node's
 * value never changes (statements are frozen), so nothing here goes stale; entries go with their nodes.
 */
const PARSED_TIMES = new WeakMap<Expr, bigint>()

/** now(), an RFC 3339 string, integer ns, a duration since the epoch (1700000000000ms), and ± durations of those. */
export function timeValue(expr: Expr, nowNs: bigint): bigint {
  switch (expr.kind) {
    case 'call':
      if (expr.name === 'now' && expr.args.length === 0) return nowNs
      break
    case 'string': {
      const known = PARSED_TIMES.get(expr)
      if (known !== undefined) return known
      const parsed = parseTimestamp(expr.value)
      if (parsed === null) throw new QueryError(QueryErrorCode.BAD_VALUE, `invalid time '${expr.value}': write RFC 3339 (2023-11-14T22:13:20Z), integer ns or now() - 1h`)
      PARSED_TIMES.set(expr, parsed)
      return parsed
    }
    case 'number':
      if (expr.integer) return BigInt(expr.text)
      break
    case 'duration':
      return expr.ns
    case 'binary':
      if (expr.op === '+') return timeValue(expr.left, nowNs) + timeValue(expr.right, nowNs)
      if (expr.op === '-') return timeValue(expr.left, nowNs) - timeValue(expr.right, nowNs)
      break
  }
  throw unsupported('compare time with now(), an RFC 3339 string, integer nanoseconds or a duration since the epoch (1700000000000ms), optionally ± a duration')
}

function tagPredicate(expr: Expr, isField: IsField): TagPredicate | null {
  if (expr.kind === 'bool') return expr.value ? null : () => false
  if (expr.kind !== 'binary') throw unsupported('WHERE: write conditions like "tag" = \'value\', "tag" =~ /re/ or time >= now() - 1h')
  if (expr.op === 'AND' || expr.op === 'OR') {
    if (containsTime(expr)) throw unsupported('WHERE: conditions on time must be joined with AND, not OR')
    const left = tagPredicate(expr.left, isField) ?? (() => true)
    const right = tagPredicate(expr.right, isField) ?? (() => true)
    return expr.op === 'AND' ? (tags) => left(tags) && right(tags) : (tags) => left(tags) || right(tags)
  }
  let [key, value] = [expr.left, expr.right]
  if (key.kind !== 'ident' && value.kind === 'ident') [key, value] = [value, key]
  if (key.kind !== 'ident') throw unsupported('WHERE: compare a tag with a string or a regex')
  const name = key.name
  if (key.cast === 'field' || (key.cast !== 'tag' && isField(name))) {
    throw unsupported(`WHERE: "${name}" is a field; conditions on fields are not supported (filter on tags and time)`)
  }
  switch (expr.op) {
    case '=': case '!=': {
      if (value.kind !== 'string') throw unsupported(`WHERE "${name}" ${expr.op} ...: compare a tag with a 'string' (tag values are strings)`)
      const wanted = value.value
      return expr.op === '=' ? (tags) => tags(name) === wanted : (tags) => tags(name) !== wanted
    }
    case '=~': case '!~': {
      if (value.kind !== 'regex') throw unsupported(`WHERE "${name}" ${expr.op} ...: match a tag with a /regex/`)
      const regex = value.regex
      return expr.op === '=~' ? (tags) => regex.test(tags(name)) : (tags) => !regex.test(tags(name))
    }
    default:
      throw unsupported(`WHERE "${name}" ${expr.op} ...: tags take =, !=, =~ and !~`)
  }
}

function containsTime(expr: Expr): boolean {
  if (expr.kind !== 'binary') return isTimeIdent(expr)
  return isTimeIdent(expr.left) || isTimeIdent(expr.right) || containsTime(expr.left) || containsTime(expr.right)
}
