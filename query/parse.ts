// SQL text → a Statement: what the user asked, checked for the forms Sluice executes, before any
// store is read. Parsed with node-sql-parser (PostgreSQL dialect, as pipeline/commands); DESCRIBE,
// EXPLAIN and the SHOW forms that dialect does not parse (MEASUREMENTS, DATABASES, SERIES, TAG
// VALUES) are read here from their few words. WHERE is split into pushed-down time bounds, tag
// conditions and a row filter; expressions (operators.ts, functions.ts) are trees of Expr, with the
// aggregates inside them turned into hidden select items.
// Whether a column is a tag or a field is decided later, against the table's series (plan.ts).
// Parses are cached by text (statement-cache.ts), date-time literals templated out, and what is
// returned is deeply frozen: callers share it.

import { sqlParser as parser, POSTGRESQL as DIALECT } from '../lib/sql/parser.ts'
import { QueryError, QueryErrorCode } from './errors.ts'
import { QUERY_LIMITS } from './limits.ts'
import { frozenSize, StatementCache } from './statement-cache.ts'
import { parseDurationNs, parseTimestamp } from './time.ts'
import { COLLECTED_AGGREGATES, GAUGE_ACCESSORS, TRACK_FUNCTIONS, isCollected, type CollectedName } from './collect.ts'
import { isScalarFunction, type Expr } from './functions.ts'
import { BINARY_OPERATORS, type BinaryOperator } from './operators.ts'

export const AGGREGATES = ['count', 'sum', 'avg', 'min', 'max', 'first', 'last', 'spread'] as const
export type AggregateName = (typeof AGGREGATES)[number]
/** Gap filling of an aggregate column in a gapfill query: linear (interpolate) or last observation carried forward (locf). */
export type FillMode = 'interpolate' | 'locf'

/** A time bucket: date_bin(interval, time[, origin]), time_window(time, interval), date_trunc('unit', time). */
export interface BucketSpec {
  intervalNs: bigint
  originNs: bigint
  /** Hopping windows: windows start every slideNs (a point belongs to every window covering it); null = tumbling. */
  slideNs?: bigint | null
  /** time_window_gapfill / date_bin_gapfill: every bucket of the WHERE's time range gets a row. */
  gapfill?: boolean
  /** The expression as written back by the parser, to match GROUP BY and ORDER BY against it. */
  sql: string
}

export type SelectItem =
  | { kind: 'star' }
  | { kind: 'column'; column: string; name: string }
  | { kind: 'bucket'; bucket: BucketSpec; name: string }
  /**
   * field null: count(*). parameter: percentile's p, st_position_at's time (ns). fill: wrapped in
   * interpolate(...) or locf(...).
   */
  | { kind: 'aggregate'; fn: AggregateName | CollectedName; field: string | null; name: string; sql: string; parameter?: number | bigint | null; fill?: FillMode | null }
  /**
   * A scalar expression (operators, CASE, date_part, ST_*...), evaluated per row; in an aggregating
   * query over GROUP BY tags and aggregates, which are hidden items it reads by their names.
   */
  | { kind: 'expression'; expr: Expr; name: string; sql: string }

/** column IN values (negate: NOT IN); = and != are one-value forms. */
export interface ColumnCondition {
  column: string
  values: string[]
  negate: boolean
  sql: string
  /** Why this condition cannot filter a tag, or null. */
  refusal: string | null
  /** The condition as an expression: a row filter when the column turns out to be a field. */
  expr: Expr | null
}

export interface OrderKey {
  /** The output column ordered by. */
  name: string
  descending: boolean
}

export interface SelectStatement {
  kind: 'select'
  /** The table, or the subquery's alias when `source` is set. */
  table: string
  /** SELECT ... FROM (subquery): executed first into an in-memory table (subquery.ts). */
  source: SelectStatement | null
  /** The select list, then `hidden` aggregate items that expressions and HAVING read (not in the answer). */
  items: SelectItem[]
  hidden: number
  conditions: ColumnCondition[]
  /** The rest of WHERE (fields, OR, NOT, LIKE...), filtering rows; time bounds and tag conditions of its top-level AND are above. */
  filter: Expr | null
  having: Expr | null
  distinct: boolean
  /** Inclusive; null = unbounded. */
  fromNs: bigint | null
  /** Exclusive; null = unbounded. */
  toNs: bigint | null
  /** GROUP BY columns (tags); the bucket, if grouped by one, is in `bucket`. */
  groupBy: string[]
  bucket: BucketSpec | null
  orderBy: OrderKey[]
  limit: number | null
  offset: number
}

export type Statement =
  | { kind: 'show-tables'; columnName: string }
  | { kind: 'describe'; table: string }
  | { kind: 'show-databases' }
  /** SHOW SERIES [FROM t] [WHERE tag conditions]. */
  | { kind: 'show-series'; table: string | null; conditions: ColumnCondition[] }
  /** SHOW TAG VALUES [FROM t] WITH KEY = k | IN (...) [WHERE tag conditions]. */
  | { kind: 'show-tag-values'; table: string | null; keys: string[]; negate: boolean; conditions: ColumnCondition[] }
  | { kind: 'explain'; statement: SelectStatement; analyze: boolean }
  | SelectStatement

// The parts of node-sql-parser's AST read here (it ships loose types).
interface Node {
  type: string
  value?: unknown
  operator?: string
  left?: Node
  right?: Node
  expr?: Node
  name?: unknown
  args?: { type?: string; value?: Node[]; expr?: Node; distinct?: unknown }
  column?: unknown
  unit?: string
  [key: string]: unknown
}

const unsupported = (message: string): QueryError => new QueryError(QueryErrorCode.UNSUPPORTED, message)
const badValue = (message: string): QueryError => new QueryError(QueryErrorCode.BAD_VALUE, message)

/**
 * What one parse reads besides the text: the server time for now(), remembering whether it was
 * read (a statement that never read it is the same at any time, so it is cached whole; one that
 * did is rebuilt from its cached AST), and whether the caches are used at all.
 */
class Scope {
  nowRead = false

  constructor(private readonly timeNs: bigint, readonly cached: boolean) {}

  nowNs(): bigint {
    this.nowRead = true
    return this.timeNs
  }
}

/**
 * node-sql-parser's ASTs by statement text, with date-time literals templated out (astOf), and
 * whole statements that did not read now() by their text.
 */
const ASTS = new StatementCache<Node>(QUERY_LIMITS.statementCache)
const STATEMENTS = new StatementCache<Statement>(QUERY_LIMITS.statementCache)

/** The statement of `sql`, deeply frozen: it may be the cached one other queries get too. */
export function parseStatement(sql: string, nowNs: bigint): Statement {
  const cached = STATEMENTS.get(sql)
  if (cached !== undefined) return cached
  const scope = new Scope(nowNs, true)
  const statement = statementOf(sql, scope)
  const bytes = frozenSize(statement)
  if (!scope.nowRead) STATEMENTS.set(sql, statement, bytes)
  return statement
}

/** parseStatement without the caches: what a statement seen for the first time costs (benchmarks, tests). */
export function parseStatementUncached(sql: string, nowNs: bigint): Statement {
  return statementOf(sql, new Scope(nowNs, false))
}

/** Empties the statement caches (tests). */
export function clearStatementCaches(): void {
  ASTS.clear()
  STATEMENTS.clear()
}

/** How many statements and ASTs are cached, and their estimated bytes. */
export function statementCacheStats(): { statements: number; asts: number; bytes: number } {
  return { statements: STATEMENTS.size, asts: ASTS.size, bytes: STATEMENTS.bytes + ASTS.bytes }
}

function statementOf(sql: string, scope: Scope): Statement {
  if (sql.length > QUERY_LIMITS.maxSqlChars) {
    throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `the statement has ${sql.length} characters; at most ${QUERY_LIMITS.maxSqlChars} are read`)
  }
  const explain = /^\s*explain(\s+analyze)?\s+/i.exec(sql)
  if (explain) {
    const statement = statementOf(' '.repeat(explain[0].length) + sql.slice(explain[0].length), scope)
    if (statement.kind !== 'select') throw unsupported('EXPLAIN takes a SELECT')
    return { kind: 'explain', statement, analyze: explain[1] !== undefined }
  }
  const metadata = metadataStatement(sql, scope)
  if (metadata) return metadata
  const statement = astOf(sql, scope)
  if (statement.type === 'show' && statement.keyword === 'tables') return { kind: 'show-tables', columnName: 'table_name' }
  if (statement.type !== 'select') throw unsupported(`${statement.type.toUpperCase()} is not a query; only SELECT, SHOW and DESCRIBE TABLE are answered here`)
  return selectStatement(statement, scope)
}

/**
 * The one statement of `sql`, frozen. Dashboards move their absolute time ranges with every
 * refresh, so the AST is cached for the text with its date-time literals replaced by markers, and
 * the literals are put back into a copy of the cached AST (literalTemplate).
 */
function astOf(sql: string, scope: Scope): Node {
  if (!scope.cached) return parsedAst(sql).ast
  const templated = literalTemplate(sql)
  const key = templated?.template ?? sql
  let ast = ASTS.get(key)
  if (ast === undefined) {
    let bytes: number
    try {
      ({ ast, bytes } = parsedAst(key))
    } catch (error) {
      // The error names a line and column of the text sent, not of its template.
      if (templated !== null) parsedAst(sql)
      throw error
    }
    ASTS.set(key, ast, bytes)
  }
  return templated === null ? ast : withLiterals(ast, templated.literals) as Node
}

/**
 * node-sql-parser's AST of `sql`, frozen, and its estimated bytes; a syntax error names its line and
 * column (1-based, as node-sql-parser's location).
 */
function parsedAst(sql: string): { ast: Node; bytes: number } {
  let ast: Node | Node[]
  try {
    ast = parser.astify(sql, DIALECT) as unknown as Node | Node[]
  } catch (error) {
    const location = (error as { location?: { start?: { line?: number; column?: number } } }).location?.start
    const found = /but (.+) found\.?$/.exec((error as Error).message)?.[1]
    if (location?.line !== undefined && location.column !== undefined) {
      const what = found === undefined ? (error as Error).message : found === 'end of input' ? 'unexpected end of input' : `unexpected ${found}`
      throw new QueryError(QueryErrorCode.SYNTAX, `SQL syntax error at line ${location.line}, column ${location.column}: ${what}`, { line: location.line, column: location.column })
    }
    throw new QueryError(QueryErrorCode.SYNTAX, `SQL syntax error: ${(error as Error).message}`)
  }
  const statements = Array.isArray(ast) ? ast : [ast]
  if (statements.length !== 1) throw unsupported(`one statement per request, got ${statements.length}`)
  const statement = statements[0]!
  return { ast: statement, bytes: frozenSize(statement) }
}

/**
 * The content of a '...' literal templated out: a date or date-time. It holds no quote, comment
 * mark or newline, so replacing it cannot change how the rest of the text reads, whether or not the
 * parser sees it as a literal.
 */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$/
/** Starts a marker literal: '\u0001<index>'. No statement holding it is templated. */
const MARKER = '\u0001'

/**
 * `sql` with each '...' literal that holds a date-time (DATE_TIME) replaced by a numbered marker,
 * and the contents replaced; null when there are none, or when the text holds what this scan does
 * not follow as node-sql-parser does (a backslash, a dollar quote, the marker itself).
 */
function literalTemplate(sql: string): { template: string; literals: string[] } | null {
  if (!sql.includes("'") || /[\\$\u0001]/.test(sql)) return null
  const literals: string[] = []
  let template = ''
  let copied = 0
  let i = 0
  while (i < sql.length) {
    const c = sql[i]
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i)
      i = end < 0 ? sql.length : end
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2)
      if (end < 0) return null
      i = end + 2
    } else if (c === '"' || c === "'") {
      const end = closingQuote(sql, i)
      if (end < 0) return null
      const content = sql.slice(i + 1, end)
      // E'...', X'...', B'...' and the like are other kinds of literal.
      if (c === "'" && !/\w/.test(sql[i - 1] ?? ' ') && DATE_TIME.test(content)) {
        template += `${sql.slice(copied, i)}'${MARKER}${literals.length}'`
        literals.push(content)
        copied = end + 1
      }
      i = end + 1
    } else {
      i++
    }
  }
  return literals.length === 0 ? null : { template: template + sql.slice(copied), literals }
}

/** The index of the quote closing the one at `start` (a doubled quote is part of the text), or -1. */
function closingQuote(sql: string, start: number): number {
  const quote = sql[start]!
  for (let i = start + 1; ;) {
    const at = sql.indexOf(quote, i)
    if (at < 0 || sql[at + 1] !== quote) return at
    i = at + 2
  }
}

/** A copy of a frozen AST with its marker strings replaced by the literals, sharing every subtree without one. */
function withLiterals(value: unknown, literals: readonly string[]): unknown {
  if (typeof value === 'string') return value.startsWith(MARKER) ? literals[Number(value.slice(1))] ?? value : value
  if (value === null || typeof value !== 'object') return value
  let copy: Record<string, unknown> | unknown[] | null = null
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key]
    const replaced = withLiterals(child, literals)
    if (replaced === child) continue
    copy ??= Array.isArray(value) ? [...value] : { ...value }
    ;(copy as Record<string, unknown>)[key] = replaced
  }
  return copy === null ? value : Object.freeze(copy)
}

const SHOW_SERIES = /^show\s+series(?:\s+from\s+("(?:[^"]|"")+"|[^\s"]+))?(?:\s+where\s+([\s\S]+))?$/i
const SHOW_TAG_VALUES = /^show\s+tag\s+values(?:\s+from\s+("(?:[^"]|"")+"|[^\s"]+))?\s+with\s+key\s*(=|!=|<>|not\s+in|in)\s*(\([^)]*\)|"(?:[^"]|"")+"|[^\s"]+)(?:\s+where\s+([\s\S]+))?$/i

function unquote(name: string): string {
  return name.startsWith('"') && name.endsWith('"') && name.length >= 2 ? name.slice(1, -1).replaceAll('""', '"') : name
}

/** SHOW SERIES / TAG VALUES take tag conditions only (=, !=, IN, NOT IN, joined with AND). */
function tagConditions(where: string | undefined, what: string, scope: Scope): ColumnCondition[] {
  if (where === undefined) return []
  let ast: Node
  try {
    ast = astOf(`SELECT * FROM t WHERE ${where}`, scope)
  } catch (error) {
    // The position would be in the SELECT this WHERE was read as, not in the statement sent.
    if (error instanceof QueryError && error.code === QueryErrorCode.SYNTAX) throw new QueryError(QueryErrorCode.SYNTAX, `${what} ... WHERE ${where}: SQL syntax error: ${error.message.replace(/^SQL syntax error( at line \d+, column \d+)?: /, '')}`)
    throw error
  }
  const parsed = whereOf(ast.where as Node, scope)
  if (parsed.filter !== null || parsed.fromNs !== null || parsed.toNs !== null || parsed.conditions.some((c) => c.refusal !== null)) {
    throw unsupported(`${what} ... WHERE takes tag conditions (=, !=, IN, NOT IN) joined with AND`)
  }
  return parsed.conditions
}

/** SHOW TABLES | MEASUREMENTS | DATABASES | SERIES | TAG VALUES, DESCRIBE [TABLE] name, or null. */
function metadataStatement(sql: string, scope: Scope): Statement | null {
  const text = sql.trim().replace(/;\s*$/, '').trim()
  const words = text.split(/\s+/)
  const first = words[0]?.toLowerCase()
  if (first === 'show' && words.length === 2 && words[1]!.toLowerCase() === 'measurements') return { kind: 'show-tables', columnName: 'table_name' }
  if (first === 'show' && words.length === 2 && words[1]!.toLowerCase() === 'databases') return { kind: 'show-databases' }
  if (first === 'show' && words[1]?.toLowerCase() === 'series') {
    const match = SHOW_SERIES.exec(text)
    if (!match) throw unsupported('write SHOW SERIES [FROM <table>] [WHERE <tag conditions>]')
    return { kind: 'show-series', table: match[1] ? unquote(match[1]) : null, conditions: tagConditions(match[2], 'SHOW SERIES', scope) }
  }
  if (first === 'show' && words[1]?.toLowerCase() === 'tag') {
    const match = SHOW_TAG_VALUES.exec(text)
    if (!match) throw unsupported('write SHOW TAG VALUES [FROM <table>] WITH KEY = <tag> (or IN (...), !=, NOT IN) [WHERE <tag conditions>]')
    const op = match[2]!.toLowerCase().replace(/\s+/g, ' ')
    const list = match[3]!.startsWith('(') ? match[3]!.slice(1, -1).split(',').map((k) => k.trim()).filter((k) => k !== '') : [match[3]!]
    const keys = list.map((k) => unquote(k.startsWith("'") && k.endsWith("'") ? k.slice(1, -1) : k))
    return { kind: 'show-tag-values', table: match[1] ? unquote(match[1]) : null, keys, negate: op === '!=' || op === '<>' || op === 'not in', conditions: tagConditions(match[4], 'SHOW TAG VALUES', scope) }
  }
  if (first !== 'describe' && first !== 'desc') return null
  const rest = words.slice(1)
  if (rest[0]?.toLowerCase() === 'table') rest.shift()
  if (rest.length !== 1) throw unsupported('write DESCRIBE TABLE <name>')
  return { kind: 'describe', table: unquote(rest[0]!) }
}

function selectStatement(node: Node, scope: Scope): SelectStatement {
  refuseClauses(node)
  const from = node.from as Array<{ table?: string; expr?: { ast?: Node }; join?: unknown; as?: string | null }> | null
  if (!from || from.length === 0) throw unsupported('SELECT without FROM is not supported; name a table')
  if (from.length > 1 || from[0]!.join) throw unsupported('joins and several tables in FROM are not supported; query one table')
  let source: SelectStatement | null = null
  if (from[0]!.expr) {
    const inner = from[0]!.expr.ast
    if (!inner || inner.type !== 'select') throw unsupported('FROM takes a table or one (SELECT ...) subquery')
    source = selectStatement(inner, scope)
  }
  const table = source ? from[0]!.as ?? 'subquery' : from[0]!.table!
  const hidden = new HiddenAggregates(scope)
  const items = (node.columns as Array<{ expr: Node; as: string | null }>).map((c) => selectItem(c.expr, c.as, scope, hidden))
  const where = node.where ? whereOf(node.where as Node, scope) : { conditions: [], filter: null, fromNs: null, toNs: null }
  const having = node.having ? expressionOf(node.having as Node, scope, hidden) : null
  const { groupBy, bucket } = groupByOf(node, items, scope)
  const statement: SelectStatement = {
    kind: 'select', table, source, items: [...items, ...hidden.items], hidden: hidden.items.length, ...where, having,
    distinct: (node.distinct as { type: unknown } | null)?.type === 'DISTINCT', groupBy, bucket, orderBy: [], limit: null, offset: 0,
  }
  statement.orderBy = orderByOf(node, statement, hidden)
  Object.assign(statement, limitOf(node))
  return statement
}

function refuseClauses(node: Node): void {
  if (node.with) throw unsupported('WITH (common table expressions) is not supported')
  const distinct = (node.distinct as { type: unknown } | null)?.type
  if (distinct && distinct !== 'DISTINCT') throw unsupported(`SELECT ${String(distinct)} is not supported (DISTINCT is)`)
  if (node.window) throw unsupported('WINDOW clauses are not supported')
  if (node._next || node.set_op) throw unsupported('UNION, INTERSECT and EXCEPT are not supported')
  if ((node.into as { position?: unknown } | null)?.position) throw unsupported('SELECT INTO is not supported')
}

function identifier(node: Node): string | null {
  if (node.type !== 'column_ref') return null
  if (node.table) throw unsupported(`qualified column ${sqlOf(node)} is not supported; write the bare column name`)
  const column = node.column
  if (typeof column === 'string') return column
  const inner = (column as { expr?: { value?: unknown } } | undefined)?.expr?.value
  return typeof inner === 'string' ? inner : null
}

function functionName(node: Node): string | null {
  if (node.type === 'aggr_func') return String(node.name).toLowerCase()
  if (node.type !== 'function') return null
  const parts = (node.name as { name?: Array<{ value: string }> } | undefined)?.name
  return parts && parts.length === 1 ? parts[0]!.value.toLowerCase() : null
}

function argsOf(node: Node): Node[] {
  if (node.type === 'aggr_func') return node.args?.expr ? [node.args.expr] : []
  return node.args?.value ?? []
}

/**
 * Aggregates inside expressions (`max(usage) - min(usage)`, HAVING count(*) > 2): each becomes a
 * hidden select item named by a reference the expression reads like a column.
 */
class HiddenAggregates {
  readonly items: SelectItem[] = []

  constructor(private readonly scope: Scope) {}

  add(node: Node, fn: string): string {
    const item = fn === 'interpolate' || fn === 'locf' ? selectItem(node, null, this.scope, null) : aggregateItem(node, fn, null, this.scope)
    if (item.kind !== 'aggregate') throw unsupported(`${sqlOf(node)} is not an aggregate`)
    const existing = this.items.find((i) => i.kind === 'aggregate' && i.sql === item.sql)
    if (existing) return existing.kind === 'aggregate' ? existing.name : ''
    const name = `${HIDDEN_PREFIX}${this.items.length}:${item.sql}`
    this.items.push({ ...item, name })
    return name
  }
}

/** Names of hidden items start with a character no SQL identifier holds. */
export const HIDDEN_PREFIX = '\u0000'

function selectItem(expr: Node, alias: string | null, scope: Scope, hidden: HiddenAggregates | null): SelectItem {
  if (expr.type === 'column_ref' && expr.column === '*') {
    if (alias) throw unsupported('* cannot have an alias')
    return { kind: 'star' }
  }
  const column = identifier(expr)
  if (column !== null) return { kind: 'column', column, name: alias ?? column }
  const fn = functionName(expr)
  if (fn === null || fn === 'not') return expressionItem(expr, alias, scope, hidden)
  const bucket = bucketOf(expr, fn, scope)
  if (bucket) return { kind: 'bucket', bucket, name: alias ?? bucket.sql }
  if (fn === 'interpolate' || fn === 'locf') {
    const args = argsOf(expr)
    const inner = args[0]
    const innerFn = inner && args.length === 1 ? functionName(inner) : null
    if (!inner || innerFn === null || isScalarFunction(innerFn)) throw unsupported(`${sqlOf(expr)}: ${fn} takes one aggregate, e.g. ${fn}(avg(usage))`)
    const item = aggregateItem(inner, innerFn, null, scope)
    if (item.kind !== 'aggregate') throw unsupported(`${sqlOf(expr)}: ${fn} takes one aggregate`)
    const sql = `${fn}(${item.sql})`
    return { ...item, fill: fn, sql, name: alias ?? sql }
  }
  if (isScalarFunction(fn) || fn === 'now') return expressionItem(expr, alias, scope, hidden)
  // An aggregate whose arguments are expressions (max(usage * 2)) is refused by aggregateItem.
  return aggregateItem(expr, fn, alias, scope)
}

function expressionItem(expr: Node, alias: string | null, scope: Scope, hidden: HiddenAggregates | null): SelectItem {
  const sql = sqlOf(expr)
  return { kind: 'expression', expr: expressionOf(expr, scope, hidden), name: alias ?? sql, sql }
}

const OPERATOR_NAMES: Readonly<Record<string, BinaryOperator>> = { '<>': '!=' }

/**
 * An expression tree: columns, constants (now() and time arithmetic folded), operators, CASE and
 * function calls. Aggregates inside become hidden items when `hidden` is given (select lists and
 * HAVING), and are refused otherwise (WHERE).
 */
function expressionOf(node: Node, scope: Scope, hidden: HiddenAggregates | null = null): Expr {
  const column = identifier(node)
  if (column !== null) return { kind: 'column', name: column }
  const text = stringValue(node)
  if (text !== undefined) return { kind: 'literal', value: text }
  const sql = (): string => sqlOf(node)
  const sub = (inner: Node): Expr => expressionOf(inner, scope, hidden)
  switch (node.type) {
    case 'binary_expr': {
      const op = String(node.operator).toUpperCase()
      if ((op === '+' || op === '-') && node.right?.type === 'interval') {
        if (isTimeConstant({ type: 'binary_expr', right: node }, '=')) return { kind: 'literal', value: timeValue(node, scope), type: 'timestamp' }
        // time - INTERVAL '1 hour' over a column: timestamp ± integer nanoseconds.
        return { kind: 'binary', op: op as BinaryOperator, left: sub(node.left!), right: { kind: 'literal', value: durationOf(node.right) }, sql: sql() }
      }
      if (op === 'IS' || op === 'IS NOT') {
        if (node.right?.type !== 'null') throw unsupported(`${sql()}: IS takes NULL (IS NULL, IS NOT NULL)`)
        return { kind: 'is-null', operand: sub(node.left!), negate: op === 'IS NOT', sql: sql() }
      }
      if (op === 'IN' || op === 'NOT IN') {
        const values = node.right?.type === 'expr_list' ? (node.right.value as Node[]) : [node.right!]
        return { kind: 'in', operand: sub(node.left!), values: values.map(sub), negate: op === 'NOT IN', sql: sql() }
      }
      if (op === 'BETWEEN' || op === 'NOT BETWEEN') {
        const [low, high] = node.right!.value as Node[]
        return { kind: 'between', operand: sub(node.left!), low: sub(low!), high: sub(high!), negate: op === 'NOT BETWEEN', sql: sql() }
      }
      const name = OPERATOR_NAMES[op] ?? op
      if (!BINARY_OPERATORS.includes(name)) throw unsupported(`${sql()}: the operator ${op} is not supported`)
      return { kind: 'binary', op: name as BinaryOperator, left: sub(node.left!), right: sub(node.right!), sql: sql() }
    }
    case 'unary_expr': {
      const op = String(node.operator).toUpperCase()
      if (op === '-' && (node.expr?.type === 'number' || node.expr?.type === 'bigint')) {
        const raw = String(node.expr.value)
        return { kind: 'literal', value: /^-?\d+$/.test(raw) ? -BigInt(raw) : -Number(raw) }
      }
      if (op === '+') return sub(node.expr!)
      if (op !== '-' && op !== 'NOT') throw unsupported(`${sql()}: the operator ${op} is not supported`)
      return { kind: 'unary', op: op as '-' | 'NOT', operand: sub(node.expr!), sql: sql() }
    }
    case 'case': {
      const subject = node.expr ? sub(node.expr) : null
      const whens: { when: Expr; then: Expr }[] = []
      let otherwise: Expr | null = null
      for (const arm of node.args as unknown as Array<{ type: string; cond?: Node; result: Node }>) {
        if (arm.type === 'else') { otherwise = sub(arm.result); continue }
        const condition = sub(arm.cond!)
        const when: Expr = subject ? { kind: 'binary', op: '=', left: subject, right: condition, sql: sqlOf(arm.cond!) } : condition
        whens.push({ when, then: sub(arm.result) })
      }
      return { kind: 'case', whens, otherwise, sql: sql() }
    }
    case 'interval': throw unsupported(`${sql()}: an interval is taken only in time arithmetic (now() - INTERVAL '1 hour') and buckets`)
    case 'aggr_func': return aggregateReference(node, scope, hidden)
    case 'number': case 'bigint': {
      const raw = String(node.value)
      return { kind: 'literal', value: /^-?\d+$/.test(raw) ? BigInt(raw) : Number(raw) }
    }
    case 'bool': return { kind: 'literal', value: node.value === true }
    case 'null': return { kind: 'literal', value: null }
    case 'cast': {
      const target = (node.target as Array<{ dataType?: string }> | undefined)?.[0]?.dataType?.toLowerCase()
      const inner = node.expr ? stringValue(node.expr) : undefined
      if (target === 'bytea' && inner !== undefined) return { kind: 'literal', value: inner, bytes: true }
      throw unsupported(`${sqlOf(node)}: casts are not supported (only a '\\x...'::bytea literal)`)
    }
    case 'extract': {
      const args = node.args as unknown as { field: string; source: Node }
      const sql = sqlOf(node)
      return { kind: 'call', fn: 'date_part', args: [{ kind: 'literal', value: String(args.field).toLowerCase() }, expressionOf(args.source, scope)], sql }
    }
  }
  const fn = functionName(node)
  if (fn === 'now') {
    if (argsOf(node).length > 0) throw unsupported('now() takes no arguments')
    return { kind: 'call', fn: 'to_timestamp_nanos', args: [{ kind: 'literal', value: scope.nowNs() }], sql: 'now()' }
  }
  if (fn === 'not' && argsOf(node).length === 1) return { kind: 'unary', op: 'NOT', operand: sub(argsOf(node)[0]!), sql: sql() }
  if (fn !== null && isScalarFunction(fn)) return { kind: 'call', fn, args: argsOf(node).map(sub), sql: sqlOf(node) }
  if (fn !== null && (isCollected(fn) || (AGGREGATES as readonly string[]).includes(fn) || fn === 'mean' || fn === 'interpolate' || fn === 'locf')) return aggregateReference(node, scope, hidden)
  if (fn !== null && bucketOf(node, fn, scope)) throw unsupported(`${sql()}: a time bucket is a select item of its own (with GROUP BY), not part of an expression`)
  throw unsupported(`${sqlOf(node)} is not supported in an expression; use columns, constants, operators and the functions in docs/query.md`)
}

function aggregateReference(node: Node, scope: Scope, hidden: HiddenAggregates | null): Expr {
  if (!hidden) throw unsupported(`${sqlOf(node)}: aggregates are not allowed in WHERE; use HAVING`)
  return { kind: 'column', name: hidden.add(node, functionName(node)!) }
}

/** A column argument of an aggregate: its name, or an error naming the function. */
function fieldArgument(fn: string, arg: Node): string {
  const field = identifier(arg)
  if (field === null) throw unsupported(`${fn}(${sqlOf(arg)}): aggregate a column, not an expression`)
  if (field === 'time') throw unsupported(`${fn}(time) is not supported; aggregate a field`)
  return field
}

function requireTime(fn: string, arg: Node | undefined, shape: string): void {
  if (!arg || identifier(arg) !== 'time') throw unsupported(`${fn}: the first argument must be time; write ${shape}`)
}

/** median, mode, stddev, percentile, increase, irate, gauge_agg and its accessors, the track functions. */
function collectedItem(expr: Node, fn: CollectedName, alias: string | null, scope: Scope): SelectItem {
  if (expr.over) throw unsupported(`${fn}(...) OVER (...) (window functions) is not supported`)
  if (expr.args?.distinct) throw unsupported(`${fn}(DISTINCT ...) is not supported`)
  const args = argsOf(expr)
  const done = (field: string, sql: string, parameter: number | bigint | null = null): SelectItem =>
    ({ kind: 'aggregate', fn, field, name: alias ?? sql, sql, parameter, fill: null })
  if (GAUGE_ACCESSORS.includes(fn)) {
    const inner = args[0]
    if (args.length !== 1 || !inner || functionName(inner) !== 'gauge_agg') throw unsupported(`${fn}() takes a gauge: write ${fn}(gauge_agg(time, value))`)
    const field = gaugeField(inner)
    return done(field, `${fn}(gauge_agg(time, ${field}))`)
  }
  if (fn === 'gauge_agg') {
    const field = gaugeField(expr)
    return done(field, `gauge_agg(time, ${field})`)
  }
  if ((TRACK_FUNCTIONS as readonly string[]).includes(fn)) {
    const shape = fn === 'st_position_at' ? `${fn}(time, position, '2023-01-01T00:00:00Z')` : `${fn}(time, position)`
    if (args.length !== (fn === 'st_position_at' ? 3 : 2)) throw unsupported(`${sqlOf(expr)}: write ${shape}`)
    requireTime(fn, args[0], shape)
    const field = fieldArgument(fn, args[1]!)
    if (fn !== 'st_position_at') return done(field, `${fn}(time, ${field})`)
    const atNs = timeValue(args[2]!, scope)
    return done(field, `${fn}(time, ${field}, ${atNs})`, atNs)
  }
  if (fn === 'percentile') {
    if (args.length !== 2) throw unsupported(`${sqlOf(expr)}: write percentile(field, p) with p between 0 and 1`)
    const field = fieldArgument(fn, args[0]!)
    const p = Number(args[1]!.value)
    if (args[1]!.type !== 'number' || !(p >= 0 && p <= 1)) throw badValue(`${sqlOf(expr)}: p must be a number from 0 to 1 (0.9 is the 90th percentile; InfluxQL's PERCENTILE takes 0 to 100)`)
    return done(field, `percentile(${field}, ${p})`, p)
  }
  // increase(time, v) and irate(time, v) as CnosDB writes increase; the one-argument form means the same.
  let rest = args
  if ((fn === 'increase' || fn === 'irate') && args.length === 2) {
    requireTime(fn, args[0], `${fn}(time, field)`)
    rest = [args[1]!]
  }
  if (rest.length !== 1) throw unsupported(`${fn}() takes one column, got ${args.length} arguments`)
  const field = fieldArgument(fn, rest[0]!)
  return done(field, `${fn}(${field})`)
}

function gaugeField(node: Node): string {
  const args = argsOf(node)
  if (args.length !== 2) throw unsupported(`${sqlOf(node)}: write gauge_agg(time, value)`)
  requireTime('gauge_agg', args[0], 'gauge_agg(time, value)')
  return fieldArgument('gauge_agg', args[1]!)
}

function aggregateItem(expr: Node, fn: string, alias: string | null, scope: Scope): SelectItem {
  const name = fn === 'mean' ? 'avg' : fn
  if (isCollected(name)) return collectedItem(expr, name, alias, scope)
  if (!(AGGREGATES as readonly string[]).includes(name)) {
    throw unsupported(`function ${fn}() is not supported; aggregates are ${[...AGGREGATES, ...COLLECTED_AGGREGATES].join(', ')} (and mean), buckets date_bin, time_window, date_trunc and their _gapfill forms; docs/query.md lists the scalar functions`)
  }
  if (expr.args?.distinct) throw unsupported(`${fn}(DISTINCT ...) is not supported`)
  if (expr.over) throw unsupported(`${fn}(...) OVER (...) (window functions) is not supported`)
  let args = argsOf(expr)
  // first(time, v) and last(time, v) as CnosDB writes them; first(v) is taken to mean the same.
  if ((name === 'first' || name === 'last') && args.length === 2) {
    if (identifier(args[0]!) !== 'time') throw unsupported(`${fn}(${sqlOf(args[0]!)}, ...): the first argument must be time`)
    args = [args[1]!]
  }
  if (args.length !== 1) throw unsupported(`${fn}() takes one column${name === 'first' || name === 'last' ? ' (or time, column)' : ''}, got ${args.length} arguments`)
  const arg = args[0]!
  const star = arg.type === 'star' || (arg.type === 'column_ref' && arg.column === '*')
  if (star && name !== 'count') throw unsupported(`${fn}(*) is not supported; name a field`)
  const field = star ? null : identifier(arg)
  if (!star && field === null) throw unsupported(`${fn}(${sqlOf(arg)}): aggregate a column, not an expression`)
  if (field === 'time') throw unsupported(`${fn}(time) is not supported; aggregate a field`)
  const sql = `${name}(${field === null ? '*' : (name === 'first' || name === 'last') ? `time, ${field}` : field})`
  return { kind: 'aggregate', fn: name as AggregateName, field, name: alias ?? sql, sql, parameter: null, fill: null }
}

const TRUNC_UNITS: Readonly<Record<string, bigint>> = {
  second: 1_000_000_000n, minute: 60_000_000_000n, hour: 3_600_000_000_000n, day: 86_400_000_000_000n,
}

/** A time bucket expression, or null when `expr` is another function. */
function bucketOf(expr: Node, fn: string, scope: Scope): BucketSpec | null {
  const args = argsOf(expr)
  const sql = sqlOf(expr)
  const onTime = (arg: Node | undefined): void => {
    if (!arg || identifier(arg) !== 'time') throw unsupported(`${sql}: buckets are over the time column`)
  }
  switch (fn) {
    case 'date_bin': case 'date_bin_gapfill': {
      if (args.length < 2 || args.length > 3) throw unsupported(`${sql}: write ${fn}(INTERVAL '1 minute', time[, origin])`)
      onTime(args[1])
      return { intervalNs: durationOf(args[0]!), originNs: args[2] ? timeValue(args[2], scope) : 0n, slideNs: null, gapfill: fn === 'date_bin_gapfill', sql }
    }
    case 'time_window': case 'time_window_gapfill': {
      if (args.length !== 2 && args.length !== 3) throw unsupported(`${sql}: write ${fn}(time, INTERVAL '1 minute'[, slide])`)
      onTime(args[0])
      const intervalNs = durationOf(args[1]!)
      const slideNs = args[2] ? durationOf(args[2]) : null
      return { intervalNs, originNs: 0n, slideNs: slideNs === intervalNs ? null : slideNs, gapfill: fn === 'time_window_gapfill', sql }
    }
    case 'date_trunc': {
      if (args.length !== 2) throw unsupported(`${sql}: write date_trunc('hour', time)`)
      onTime(args[1])
      const unit = stringValue(args[0]!)?.toLowerCase()
      const intervalNs = unit === undefined ? undefined : TRUNC_UNITS[unit]
      if (intervalNs === undefined) throw unsupported(`${sql}: date_trunc units are ${Object.keys(TRUNC_UNITS).join(', ')}`)
      return { intervalNs, originNs: 0n, slideNs: null, gapfill: false, sql }
    }
    case 'time_bucket':
      throw unsupported(`${sql}: time_bucket is TimescaleDB's; CnosDB (and Sluice) spell it date_bin(INTERVAL '1 minute', time) or time_window(time, INTERVAL '1 minute')`)
    default:
      return null
  }
}

function stringValue(node: Node): string | undefined {
  if (node.type === 'single_quote_string' || node.type === 'string') return String(node.value).replaceAll("''", "'")
  return undefined
}

/** INTERVAL '1 minute', INTERVAL '1' HOUR, or a duration string '1m'. */
function durationOf(node: Node): bigint {
  if (node.type === 'interval') {
    const text = node.expr ? stringValue(node.expr) ?? String(node.expr.value) : ''
    return parseDurationNs(node.unit ? `${text} ${node.unit}` : text)
  }
  const text = stringValue(node)
  if (text !== undefined) return parseDurationNs(text)
  throw badValue(`${sqlOf(node)} is not an interval; write INTERVAL '1 minute'`)
}

/** A time constant: integer ns, an RFC 3339 string, now(), and ± INTERVAL of those. */
function timeValue(node: Node, scope: Scope): bigint {
  if (node.type === 'number' || node.type === 'bigint') {
    const text = String(node.value)
    if (!/^-?\d+$/.test(text)) throw badValue(`time ${text}: give integer nanoseconds or an RFC 3339 string`)
    return BigInt(text)
  }
  const text = stringValue(node)
  if (text !== undefined) {
    const parsed = parseTimestamp(text)
    if (parsed === null) throw badValue(`time '${text}' is not an RFC 3339 timestamp (e.g. 2023-01-14T16:03:00Z)`)
    return parsed
  }
  if (functionName(node) === 'now' && argsOf(node).length === 0) return scope.nowNs()
  if (node.type === 'binary_expr' && (node.operator === '+' || node.operator === '-')) {
    const base = timeValue(node.left!, scope)
    const delta = durationOf(node.right!)
    return node.operator === '+' ? base + delta : base - delta
  }
  throw unsupported(`time must be compared with a constant (ns, 'RFC 3339', now() - INTERVAL '1 hour'), not ${sqlOf(node)}`)
}

function conjuncts(node: Node): Node[] {
  if (node.type === 'binary_expr' && node.operator === 'AND') return [...conjuncts(node.left!), ...conjuncts(node.right!)]
  return [node]
}

const TIME_OPERATORS = ['BETWEEN', '>=', '>', '<', '<=', '=']
const TAG_OPERATORS = ['=', '!=', '<>', 'IN', 'NOT IN']

/**
 * WHERE split at its top-level AND: time bounds (pushed down to block pruning), tag conditions
 * (series pruning; kept with their expression in case the column is a field) and the rest, a row
 * filter expression.
 */
function whereOf(where: Node, scope: Scope): Pick<SelectStatement, 'conditions' | 'filter' | 'fromNs' | 'toNs'> {
  const conditions: ColumnCondition[] = []
  const rest: Expr[] = []
  let fromNs: bigint | null = null
  let toNs: bigint | null = null
  for (const part of conjuncts(where)) {
    if (part.type === 'bool' && part.value === true) continue
    const column = part.type === 'binary_expr' && part.left ? identifier(part.left) : null
    const operator = String(part.operator ?? '').toUpperCase()
    if (column === 'time' && TIME_OPERATORS.includes(operator) && isTimeConstant(part, operator)) {
      const [from, to] = timeBounds(part, scope)
      if (from !== null) fromNs = fromNs === null || from > fromNs ? from : fromNs
      if (to !== null) toNs = toNs === null || to < toNs ? to : toNs
      continue
    }
    if (column !== null && column !== 'time' && TAG_OPERATORS.includes(operator)) {
      conditions.push({ ...columnCondition(part, column), expr: expressionOf(part, scope) })
      continue
    }
    rest.push(expressionOf(part, scope))
  }
  const filter = rest.reduce<Expr | null>((all, part) => (all === null ? part : { kind: 'binary', op: 'AND', left: all, right: part, sql: `${exprSql(all)} AND ${exprSql(part)}` }), null)
  return { conditions, filter, fromNs, toNs }
}

function exprSql(expr: Expr): string {
  return expr.kind === 'column' ? expr.name : expr.kind === 'literal' ? String(expr.value) : expr.sql
}

/** Whether a time comparison's other side is a constant (ns, a string, now() ± INTERVAL), not a column. */
function isTimeConstant(part: Node, operator: string): boolean {
  const sides = operator === 'BETWEEN' ? (part.right!.value as Node[]) : [part.right!]
  const constant = (node: Node): boolean => node.type === 'number' || node.type === 'bigint' || stringValue(node) !== undefined
    || (functionName(node) === 'now' && argsOf(node).length === 0)
    || (node.type === 'binary_expr' && (node.operator === '+' || node.operator === '-') && constant(node.left!) && node.right!.type === 'interval')
  return sides.every(constant)
}

function timeBounds(part: Node, scope: Scope): [bigint | null, bigint | null] {
  const right = part.right!
  switch (part.operator) {
    case 'BETWEEN': {
      const [low, high] = right.value as Node[]
      return [timeValue(low!, scope), timeValue(high!, scope) + 1n]
    }
    case '>=': return [timeValue(right, scope), null]
    case '>': return [timeValue(right, scope) + 1n, null]
    case '<': return [null, timeValue(right, scope)]
    case '<=': return [null, timeValue(right, scope) + 1n]
    case '=': { const at = timeValue(right, scope); return [at, at + 1n] }
    default: throw unsupported(`WHERE: time ${part.operator} is not supported; use =, <, <=, >, >= or BETWEEN`)
  }
}

function columnCondition(part: Node, column: string): ColumnCondition {
  const sql = sqlOf(part)
  // Whether the column is a tag is known only against the table (plan.ts), so a form that suits
  // no tag condition is kept with its reason, and refused there with the right one.
  let refusal: string | null = null
  const constant = (node: Node): string => {
    const text = stringValue(node)
    if (text === undefined) refusal ??= `WHERE: ${sql}: compare with a string constant in single quotes (tag values are strings)`
    return text ?? ''
  }
  const list = (node: Node): string[] => (node.type === 'expr_list' ? (node.value as Node[]).map(constant) : [constant(node)])
  switch (part.operator) {
    case '=': return { column, values: [constant(part.right!)], negate: false, sql, refusal, expr: null }
    case '!=': case '<>': return { column, values: [constant(part.right!)], negate: true, sql, refusal, expr: null }
    case 'IN': return { column, values: list(part.right!), negate: false, sql, refusal, expr: null }
    case 'NOT IN': return { column, values: list(part.right!), negate: true, sql, refusal, expr: null }
    default: return { column, values: [], negate: false, sql, refusal: `WHERE: ${sql}: only =, !=, IN and NOT IN are supported on tags`, expr: null }
  }
}

function groupByOf(node: Node, items: SelectItem[], scope: Scope): { groupBy: string[]; bucket: BucketSpec | null } {
  const columns = (node.groupby as { columns?: Node[] } | null)?.columns ?? []
  const groupBy: string[] = []
  let bucket: BucketSpec | null = null
  const setBucket = (spec: BucketSpec): void => {
    if (bucket && bucket.sql !== spec.sql) throw unsupported('GROUP BY one time bucket at most')
    bucket = spec
  }
  for (const expr of columns) {
    if (expr.type === 'number') {
      const item = items[Number(expr.value) - 1]
      if (!item) throw unsupported(`GROUP BY ${String(expr.value)}: no such select item`)
      if (item.kind === 'bucket') setBucket(item.bucket)
      else if (item.kind === 'column') groupBy.push(item.column)
      else throw unsupported(`GROUP BY ${String(expr.value)}: group by a tag or a time bucket, not an aggregate or *`)
      continue
    }
    const target = expr
    const name = identifier(target)
    const aliased = name === null ? undefined : items.find((i) => i.kind === 'bucket' && i.name === name)
    if (aliased?.kind === 'bucket') { setBucket(aliased.bucket); continue }
    const expression = name === null ? undefined : items.find((i) => i.kind === 'expression' && i.name === name)
    if (expression?.kind === 'expression') throw unsupported(`GROUP BY ${name} (${expression.sql}): grouping by a function's value is not supported; group by tags and one time bucket`)
    if (name !== null) { groupBy.push(name); continue }
    const fn = functionName(target)
    const spec = fn === null ? null : bucketOf(target, fn, scope)
    if (!spec) throw unsupported(`GROUP BY ${sqlOf(target)} is not supported; group by tags and one time bucket`)
    setBucket(spec)
  }
  return { groupBy, bucket }
}

function outputName(item: SelectItem): string | null {
  return item.kind === 'star' ? null : item.name
}

function orderByOf(node: Node, statement: SelectStatement, hidden: HiddenAggregates): OrderKey[] {
  const keys = (node.orderby as Array<{ expr: Node; type: string | null }> | null) ?? []
  return keys.map(({ expr, type }) => {
    const descending = type === 'DESC'
    const name = identifier(expr)
    const names = statement.items.map(outputName)
    if (name !== null) {
      if (names.includes(name) || statement.items.some((i) => i.kind === 'star')) return { name, descending }
      const bucket = statement.items.find((i) => i.kind === 'bucket')
      if (name === 'time' && bucket) return { name: bucket.name, descending }
      // A column not in the select list (ORDER BY time, a tag or a field): read as a hidden item.
      const hidden = `${HIDDEN_PREFIX}order:${name}`
      if (!statement.items.some((i) => i.kind === 'column' && i.name === hidden)) {
        statement.items.push({ kind: 'column', column: name, name: hidden })
        statement.hidden++
      }
      return { name: hidden, descending }
    }
    const sql = sqlOf(expr)
    const item = statement.items.find((i) => (i.kind === 'bucket' && i.bucket.sql === sql) || (i.kind === 'aggregate' && i.sql === sql.toLowerCase()) || (i.kind === 'expression' && i.sql === sql))
    if (item && item.kind !== 'star') return { name: item.name, descending }
    if (expr.type === 'number') {
      const byPosition = statement.items[Number(expr.value) - 1]
      if (byPosition && byPosition.kind !== 'star') return { name: byPosition.name, descending }
    }
    // An aggregate not in the select list (ORDER BY max(usage) DESC): a hidden item.
    const fn = functionName(expr)
    if (fn !== null && (isCollected(fn) || (AGGREGATES as readonly string[]).includes(fn) || fn === 'mean')) {
      const before = hidden.items.length
      const name = hidden.add(expr, fn)
      if (hidden.items.length > before) { statement.items.push(hidden.items[hidden.items.length - 1]!); statement.hidden++ }
      return { name, descending }
    }
    throw unsupported(`ORDER BY ${sql}: order by a column of the select list, an alias or an aggregate`)
  })
}

function limitOf(node: Node): { limit: number | null; offset: number } {
  const limit = node.limit as { seperator?: string; value?: Node[] } | null
  const values = limit?.value ?? []
  const number = (n: Node | undefined, what: string): number => {
    const value = Number(n?.value)
    if (n?.type !== 'number' || !Number.isSafeInteger(value) || value < 0) throw badValue(`${what} must be a whole number ≥ 0`)
    return value
  }
  if (values.length === 0) return { limit: null, offset: 0 }
  if (values.length === 1) return { limit: number(values[0], 'LIMIT'), offset: 0 }
  // PostgreSQL: LIMIT n OFFSET m; MySQL's LIMIT m, n comes with a ',' separator.
  if (limit?.seperator === ',') return { limit: number(values[1], 'LIMIT'), offset: number(values[0], 'OFFSET') }
  return { limit: number(values[0], 'LIMIT'), offset: number(values[1], 'OFFSET') }
}

/** SQL written back from frozen (cached) AST nodes, which a repeated statement asks for again. */
const SQL_OF = new WeakMap<Node, string>()

function sqlOf(node: Node): string {
  let sql = SQL_OF.get(node)
  if (sql !== undefined) return sql
  try {
    sql = parser.exprToSQL(node as never, DIALECT)
  } catch {
    sql = `<${node.type}>`
  }
  if (Object.isFrozen(node)) SQL_OF.set(node, sql)
  return sql
}
