// UPDATE and DELETE statements → sluice.IngestCommand, the form in which they enter sluice.ingest
// and reach every replica at the same log position. Parsed with node-sql-parser (PostgreSQL
// dialect); this file only decides what Sluice supports and says why the rest is refused. An UPDATE
// of constants is UPDATE_FIELDS; one with any computed value is UPDATE_EXPRESSIONS (expression.ts).
// The supported forms, and where they differ from CnosDB, are in docs/sql-commands.md.

import { randomUUID } from 'node:crypto'
import { sqlParser as parser, POSTGRESQL as DIALECT } from '../../lib/sql/parser.ts'
import type { Field, FieldExpression, FieldValue, IngestCommand, Predicate, TagMatch } from '../../schemas/index.ts'
import { parseTimestamp as parseTimeLiteral } from '../../lib/time/rfc3339.ts'
import { CommandError, CommandErrorCode } from './errors.ts'
import { fieldExpressionText, type SqlNode } from './expression.ts'

export type ColumnType = 'float' | 'integer' | 'unsigned' | 'string' | 'boolean'

/** What the catalog knows of a measurement: its tag keys and its fields with their types. */
export interface MeasurementColumns {
  tags: ReadonlySet<string>
  fields: ReadonlyMap<string, ColumnType>
}

export interface CommandContext {
  tenant: string
  database: string
  nowNs: bigint
  /** The measurement's columns, or undefined when the database has no such measurement. */
  columns(measurement: string): MeasurementColumns | undefined
  commandId?: string
}

export { CommandError, CommandErrorCode, type CommandErrorCodeValue } from './errors.ts'

// The parts of node-sql-parser's AST this file reads (it ships loose types).
interface Node {
  type: string
  value?: unknown
  operator?: string
  left?: Node
  right?: Node
  column?: string | { expr: { value: string } }
  table?: string | null
  [key: string]: unknown
}

interface Assignment {
  column: string | { expr: { value: string } }
  value: Node
}

/** Is the statement one this module handles (as opposed to a query)? */
export function isCommandSql(sql: string): boolean {
  return /^\s*(update|delete)\b/i.test(sql)
}

function statementOf(sql: string): Node {
  let ast: Node | Node[]
  try {
    ast = parser.astify(sql, DIALECT) as unknown as Node | Node[]
  } catch (error) {
    throw new CommandError(CommandErrorCode.SYNTAX, `SQL syntax error: ${(error as Error).message}`)
  }
  const statements = Array.isArray(ast) ? ast : [ast]
  if (statements.length !== 1) throw new CommandError(CommandErrorCode.UNSUPPORTED, `one statement per request, got ${statements.length}`)
  return statements[0]!
}

/** The table an UPDATE or DELETE names (so a caller can look its columns up before parseCommandSql). */
export function commandTable(sql: string): string {
  const tables = statementOf(sql).table as Array<{ table: string }> | null
  if (!tables || tables.length !== 1) throw new CommandError(CommandErrorCode.UNSUPPORTED, 'exactly one table per statement')
  return tables[0]!.table
}

export function parseCommandSql(sql: string, context: CommandContext): IngestCommand {
  const statement = statementOf(sql)
  if (statement.type === 'update') return updateCommand(statement, context)
  if (statement.type === 'delete') return deleteCommand(statement, context)
  throw new CommandError(CommandErrorCode.UNSUPPORTED, `${statement.type.toUpperCase()} is not a command; only UPDATE and DELETE are`)
}

function measurementOf(statement: Node, context: CommandContext): { measurement: string; columns: MeasurementColumns } {
  const tables = statement.table as Array<{ table: string }> | null
  if (!tables || tables.length !== 1) throw new CommandError(CommandErrorCode.UNSUPPORTED, 'exactly one table per statement')
  if (statement.from && (statement.from as unknown[]).length > 1) throw new CommandError(CommandErrorCode.UNSUPPORTED, 'FROM/USING with other tables is not supported')
  if (statement.returning) throw new CommandError(CommandErrorCode.UNSUPPORTED, 'RETURNING is not supported')
  const measurement = tables[0]!.table
  const columns = context.columns(measurement)
  if (!columns) throw new CommandError(CommandErrorCode.UNKNOWN_TABLE, `table "${measurement}" not found in database "${context.database}"`)
  return { measurement, columns }
}

function updateCommand(statement: Node, context: CommandContext): IngestCommand {
  const { measurement, columns } = measurementOf(statement, context)
  if (!statement.where) {
    throw new CommandError(CommandErrorCode.UNSUPPORTED, 'UPDATE without WHERE would rewrite the whole table; add a WHERE clause (WHERE true to mean it)')
  }
  const assignments = statement.set as Assignment[]
  const targets = assignments.map(assignment => columnName(assignment.column))
  if (new Set(targets).size !== targets.length) throw new CommandError(CommandErrorCode.UNSUPPORTED, 'a column is assigned twice')
  if (targets.includes('time')) throw new CommandError(CommandErrorCode.UNSUPPORTED, 'the time column cannot be updated')
  for (const target of targets) {
    if (!columns.tags.has(target) && !columns.fields.has(target)) throw new CommandError(CommandErrorCode.UNKNOWN_COLUMN, `column "${target}" not found in table "${measurement}"`)
  }
  const tagTargets = targets.filter(target => columns.tags.has(target))
  if (tagTargets.length > 0 && tagTargets.length < targets.length) {
    throw new CommandError(CommandErrorCode.UNSUPPORTED, 'tags and fields cannot be updated in the same statement; send one UPDATE for the tags and one for the fields')
  }
  const updatesTags = tagTargets.length > 0
  const where = predicateOf(statement.where as Node, columns, measurement, updatesTags ? 'UPDATE of tags' : 'UPDATE')
  if (updatesTags && (where.fromNs !== null || where.toNs !== null || where.fieldPredicate !== null)) {
    throw new CommandError(CommandErrorCode.UNSUPPORTED, 'an UPDATE of tags renames whole series: its WHERE may use tags only, not time or fields')
  }
  if (updatesTags) {
    const set: Field[] = assignments.map((assignment, i) => ({ name: targets[i]!, value: tagValue(assignment.value, targets[i]!) }))
    return command(context, measurement, 'UPDATE_TAGS', where, set)
  }
  if (assignments.every(assignment => literalOf(assignment.value) !== undefined)) {
    const set: Field[] = assignments.map((assignment, i) => ({ name: targets[i]!, value: fieldValue(assignment.value, targets[i]!, columns.fields.get(targets[i]!)!) }))
    return command(context, measurement, 'UPDATE_FIELDS', where, set)
  }
  // Some value is computed from the point's fields: every assignment travels as an expression.
  const expressions: FieldExpression[] = assignments.map((assignment, i) => {
    const name = targets[i]!
    const type = columns.fields.get(name)!
    if (literalOf(assignment.value) !== undefined) fieldValue(assignment.value, name, type) // a constant is checked as in UPDATE_FIELDS
    return { name, type, expression: fieldExpressionText(assignment.value as SqlNode, name, type, columns, node => sqlOf(node as Node)) }
  })
  return { ...command(context, measurement, 'UPDATE_EXPRESSIONS', where, []), expressions }
}

function deleteCommand(statement: Node, context: CommandContext): IngestCommand {
  const { measurement, columns } = measurementOf(statement, context)
  const where = statement.where
    ? predicateOf(statement.where as Node, columns, measurement, 'DELETE')
    : { tags: [], fromNs: null, toNs: null, fieldPredicate: null }
  if (where.fieldPredicate !== null) {
    throw new CommandError(CommandErrorCode.UNSUPPORTED, `DELETE filters on tags and time only, not on fields (${where.fieldPredicate})`)
  }
  return command(context, measurement, 'DELETE', where, [])
}

function command(context: CommandContext, measurement: string, kind: IngestCommand['kind'], where: Predicate, set: Field[]): IngestCommand {
  return {
    commandId: context.commandId ?? randomUUID(),
    tenant: context.tenant,
    database: context.database,
    measurement,
    kind,
    where,
    set,
    issuedAtNs: context.nowNs,
  }
}

function columnName(column: Node['column']): string {
  if (typeof column === 'string') return column
  if (column && typeof column === 'object' && typeof column.expr?.value === 'string') return column.expr.value
  throw new CommandError(CommandErrorCode.UNSUPPORTED, 'unsupported column reference')
}

/** The top-level AND chain of a WHERE clause. */
function conjuncts(node: Node): Node[] {
  if (node.type === 'binary_expr' && node.operator === 'AND') return [...conjuncts(node.left!), ...conjuncts(node.right!)]
  return [node]
}

function predicateOf(where: Node, columns: MeasurementColumns, measurement: string, statement: string): Predicate {
  const tags = new Map<string, string[]>()
  let fromNs: bigint | null = null
  let toNs: bigint | null = null
  const fieldParts: string[] = []
  const lower = (bound: bigint): void => { fromNs = fromNs === null || bound > fromNs ? bound : fromNs }
  const upper = (bound: bigint): void => { toNs = toNs === null || bound < toNs ? bound : toNs }

  for (const part of conjuncts(where)) {
    if (part.type === 'bool' && part.value === true) continue
    if (part.type === 'binary_expr' && part.operator === 'OR') {
      throw new CommandError(CommandErrorCode.UNSUPPORTED, `${statement}: OR is not supported in WHERE; for several values of one tag use IN (...)`)
    }
    if (part.type !== 'binary_expr' || part.left?.type !== 'column_ref') {
      throw new CommandError(CommandErrorCode.UNSUPPORTED, `${statement}: unsupported condition ${sqlOf(part)}; use column <op> constant, joined with AND`)
    }
    const name = columnName(part.left.column)
    const operator = part.operator!
    if (name === 'time') {
      const bounds = timeBounds(operator, part.right!)
      if (bounds.from !== null) lower(bounds.from)
      if (bounds.to !== null) upper(bounds.to)
    } else if (columns.tags.has(name)) {
      const values = tagValues(operator, part.right!, name)
      const previous = tags.get(name)
      tags.set(name, previous ? previous.filter(value => values.includes(value)) : values)
    } else if (columns.fields.has(name)) {
      const literal = literalOf(part.right!)
      if (!['=', '!=', '<>', '<', '<=', '>', '>='].includes(operator) || literal === undefined) {
        throw new CommandError(CommandErrorCode.UNSUPPORTED, `${statement}: a field condition must be <field> <comparison> <constant>, not ${sqlOf(part)}`)
      }
      fieldParts.push(fieldCondition(name, operator, literal))
    } else {
      throw new CommandError(CommandErrorCode.UNKNOWN_COLUMN, `column "${name}" not found in table "${measurement}"`)
    }
  }
  const tagMatches: TagMatch[] = [...tags].map(([key, values]) => ({ key, values }))
  for (const match of tagMatches) {
    if (match.values.length === 0) throw new CommandError(CommandErrorCode.BAD_VALUE, `${statement}: the conditions on tag "${match.key}" exclude each other`)
  }
  return { tags: tagMatches, fromNs, toNs, fieldPredicate: fieldParts.length > 0 ? fieldParts.join(' AND ') : null }
}

/**
 * One condition of `fieldPredicate`, in the small grammar replicas evaluate (docs/sql-commands.md):
 * "<field>" <op> <literal>, op one of = != < <= > >=, literal a number, true/false or a
 * single-quoted string ('' escapes a quote); conditions joined with " AND ".
 */
function fieldCondition(field: string, operator: string, literal: string | boolean | { text: string }): string {
  const value = typeof literal === 'object' ? `'${literal.text.replaceAll("'", "''")}'` : String(literal)
  return `"${field.replaceAll('"', '""')}" ${operator === '<>' ? '!=' : operator} ${value}`
}

function timeBounds(operator: string, right: Node): { from: bigint | null; to: bigint | null } {
  if (operator === 'BETWEEN') {
    const [low, high] = (right.value as Node[])
    return { from: timeOf(low!), to: timeOf(high!) + 1n }
  }
  const at = timeOf(right)
  switch (operator) {
    case '>=': return { from: at, to: null }
    case '>': return { from: at + 1n, to: null }
    case '<': return { from: null, to: at }
    case '<=': return { from: null, to: at + 1n }
    case '=': return { from: at, to: at + 1n }
    default: throw new CommandError(CommandErrorCode.UNSUPPORTED, `time ${operator} is not supported; use =, <, <=, >, >= or BETWEEN`)
  }
}

function timeOf(node: Node): bigint {
  if (node.type === 'number' || node.type === 'bigint') {
    const text = String(node.value)
    if (!/^-?\d+$/.test(text)) throw new CommandError(CommandErrorCode.BAD_VALUE, `time ${text}: give integer nanoseconds or an RFC 3339 string`)
    return BigInt(text)
  }
  if (node.type === 'single_quote_string' || node.type === 'string') {
    const parsed = parseTimeLiteral(stringOf(node))
    if (parsed === null) throw new CommandError(CommandErrorCode.BAD_VALUE, `time '${String(node.value)}' is not an RFC 3339 timestamp (e.g. 2023-01-14T16:03:00Z)`)
    return parsed
  }
  throw new CommandError(CommandErrorCode.UNSUPPORTED, `time must be compared with a constant, not ${sqlOf(node)}`)
}

function tagValues(operator: string, right: Node, tag: string): string[] {
  if (operator === '=') return [tagValue(right, tag)]
  if (operator === 'IN') return (right.value as Node[]).map(node => tagValue(node, tag))
  throw new CommandError(CommandErrorCode.UNSUPPORTED, `tag "${tag}": only = and IN (...) are supported, not ${operator}`)
}

/** node-sql-parser keeps the SQL escape of a quote ('') in a string's value. */
function stringOf(node: Node): string {
  return String(node.value).replaceAll("''", "'")
}

function tagValue(node: Node, tag: string): string {
  if (node.type === 'single_quote_string' || node.type === 'string') return stringOf(node)
  if (node.type === 'null') return ''
  throw new CommandError(CommandErrorCode.BAD_VALUE, `tag "${tag}": tag values are strings in single quotes, not ${sqlOf(node)}`)
}

function fieldValue(node: Node, field: string, type: ColumnType): FieldValue {
  const literal = literalOf(node)
  if (literal === undefined) {
    throw new CommandError(CommandErrorCode.UNSUPPORTED, `field "${field}": only constant values can be assigned, not ${sqlOf(node)}`)
  }
  const wrong = (): CommandError => new CommandError(CommandErrorCode.BAD_VALUE, `field "${field}" is ${type}; ${sqlOf(node)} is not a ${type} value`)
  switch (type) {
    case 'float':
      if (typeof literal !== 'string' || !/^-?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(literal)) throw wrong()
      return Number(literal)
    case 'integer':
      if (typeof literal !== 'string' || !/^-?\d+$/.test(literal)) throw wrong()
      return checkedBigInt(BigInt(literal), -(2n ** 63n), 2n ** 63n - 1n, wrong)
    case 'unsigned':
      if (typeof literal !== 'string' || !/^\d+$/.test(literal)) throw wrong()
      return { unsigned: checkedBigInt(BigInt(literal), 0n, 2n ** 64n - 1n, wrong) }
    case 'boolean':
      if (typeof literal !== 'boolean') throw wrong()
      return literal
    case 'string':
      if (typeof literal !== 'object') throw wrong()
      return literal.text
  }
}

function checkedBigInt(value: bigint, min: bigint, max: bigint, wrong: () => CommandError): bigint {
  if (value < min || value > max) throw wrong()
  return value
}

/** A number as its source text, a boolean, or a string as { text }; undefined if not a constant. */
function literalOf(node: Node): string | boolean | { text: string } | undefined {
  if (node.type === 'number' || node.type === 'bigint') return String(node.value)
  if (node.type === 'bool') return node.value === true
  if (node.type === 'single_quote_string' || node.type === 'string') return { text: stringOf(node) }
  if (node.type === 'unary_expr' && node.operator === '-') {
    const inner = literalOf((node as { expr?: Node }).expr ?? { type: '' })
    return typeof inner === 'string' ? (inner.startsWith('-') ? inner.slice(1) : `-${inner}`) : undefined
  }
  return undefined
}

function sqlOf(node: Node): string {
  try {
    return parser.exprToSQL(node as never, DIALECT)
  } catch {
    return `<${node.type}>`
  }
}
