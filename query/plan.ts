// A parsed SELECT checked against the table's series: which names are tags and which fields (with
// their types), what each output column is, and whether the query aggregates. Errors here name the
// column or function at fault.

import type { TagMatch } from '../schemas/index.ts'
import { LruCache } from '../lib/cache/lru.ts'
import { FIELD_TYPE_NAMES, FieldType, type FieldTypeCode, type PartitionStore, type SeriesListing } from '../sinks/index.ts'
import { QueryError, QueryErrorCode } from './errors.ts'
import { collectedType, isCollected, type CollectedName } from './collect.ts'
import { planRowFilter, type RowFilter } from './filter.ts'
import { compileExpression, type CompiledExpr, type Expr } from './functions.ts'
import { HIDDEN_PREFIX, type AggregateName, type BucketSpec, type ColumnCondition, type FillMode, type SelectStatement } from './parse.ts'
import type { ColumnTypeName, ResultColumn } from './result.ts'

export interface TableSeries {
  store: PartitionStore
  series: SeriesListing
}

export interface TableSchema {
  table: string
  series: TableSeries[]
  /** Sorted. */
  tags: string[]
  /** Sorted by name. */
  fields: Map<string, FieldTypeCode>
}

export type Output =
  | { kind: 'time'; name: string }
  | { kind: 'tag'; key: string; name: string }
  | { kind: 'field'; field: string; type: FieldTypeCode; name: string }
  | { kind: 'bucket'; name: string }
  | {
    kind: 'aggregate'; fn: AggregateName | CollectedName; field: string | null; type: FieldTypeCode | null; name: string
    /** percentile's p, st_position_at's time; null for the others. */
    parameter?: number | bigint | null
    fill?: FillMode | null
    /** The result column's type, when it is not the field's (collected aggregates, spread). */
    resultType?: ColumnTypeName
  }
  | { kind: 'expression'; compiled: CompiledExpr; name: string }

export interface Plan {
  statement: SelectStatement
  /** The answer's columns, then the statement's hidden aggregates (dropped from the answer). */
  outputs: Output[]
  aggregate: boolean
  bucket: BucketSpec | null
  /** WHERE's =, !=, IN, NOT IN on tags (those on fields are in rowFilter). */
  tagConditions: ColumnCondition[]
  /** A WHERE part over tags only (OR, LIKE, NOT...): decided once per series. */
  seriesFilter: CompiledExpr | null
  /** A WHERE part reading fields or time beyond the pushed-down range: decided per row (a missing tag reads ''). */
  rowFilter: RowFilter | null
  /** HAVING over the aggregated row. */
  having: CompiledExpr | null
}

/** Every series of `table` across the stores (those matching `tags`, if given), and their tags and fields. */
export function tableSchema(stores: Iterable<PartitionStore>, tenant: string, database: string, table: string, tags?: TagMatch[]): TableSchema {
  const schema = listTable(stores, tenant, database, table, tags)
  if (!schema) throw new QueryError(QueryErrorCode.UNKNOWN_TABLE, `table "${table}" not found in database "${database}"`)
  return schema
}

/**
 * The schema a SELECT needs. Listing series costs a visibility check per (series, field) in the
 * store, so the WHERE's positive tag conditions narrow the listing first; the whole table is listed
 * when they match nothing, when SELECT * wants every column, or when the statement names a column
 * the matching series lack (to tell an unknown column from one only other series have).
 */
export function selectSchema(stores: PartitionStore[], tenant: string, database: string, statement: SelectStatement): TableSchema {
  const matches = narrowingOf(statement)
  if (matches.length > 0 && !statement.items.some((i) => i.kind === 'star')) {
    const narrowed = listTable(stores, tenant, database, statement.table, matches)
    if (narrowed && namesKnown(narrowed, statement)) return narrowed
  }
  return tableSchema(stores, tenant, database, statement.table)
}

/** The WHERE's positive tag conditions as listing matches, once per (cached, frozen) statement. */
const narrowings = new WeakMap<SelectStatement, TagMatch[]>()

function narrowingOf(statement: SelectStatement): TagMatch[] {
  let matches = narrowings.get(statement)
  if (matches === undefined) {
    matches = statement.conditions.filter((c) => !c.negate && c.refusal === null).map((c) => Object.freeze({ key: c.column, values: c.values }))
    narrowings.set(statement, Object.freeze(matches) as TagMatch[])
  }
  return matches
}

function namesKnown(schema: TableSchema, statement: SelectStatement): boolean {
  const known = (name: string): boolean => name === 'time' || schema.tags.includes(name) || schema.fields.has(name)
  for (const item of statement.items) {
    if (item.kind === 'column' && !known(item.column)) return false
    if (item.kind === 'aggregate' && item.field !== null && !known(item.field)) return false
    if (item.kind === 'expression' && !exprColumns(item.expr).every(known)) return false
  }
  const filterKnown = statement.filter === null || exprColumns(statement.filter).every(known)
  const havingKnown = statement.having === null || exprColumns(statement.having).every((c) => known(c) || statement.items.some((i) => i.kind !== 'star' && i.name === c))
  return filterKnown && havingKnown && statement.conditions.every((c) => known(c.column)) && statement.groupBy.every(known)
}

/**
 * Table schemas built from the stores' listings, kept while no store has applied an entry since
 * (store.ts listingVersion; never under a time to live): a dashboard's repeated query lists nothing
 * anew. Bounded by entries and by the series they hold.
 */
const keptSchemas = new LruCache<string, { stores: PartitionStore[]; versions: Array<bigint | null>; schema: TableSchema | null }>({ maxEntries: 256, maxWeight: 1_000_000 })

function listTable(stores: Iterable<PartitionStore>, tenant: string, database: string, table: string, matches?: TagMatch[]): TableSchema | null {
  const storeList = [...stores]
  const versions = storeList.map((store) => store.listingVersion(tenant, database))
  const key = JSON.stringify([tenant, database, table]) + (matches === undefined ? '' : matchesText(matches))
  const kept = keptSchemas.get(key)
  if (kept && !versions.includes(null) && sameItems(kept.stores, storeList) && sameItems(kept.versions, versions)) return kept.schema
  const listings = storeList.map((store) => store.listSeries({ tenant, database, measurement: table, ...(matches ? { tags: matches } : {}) }))
  const schema = schemaOf(table, storeList, listings)
  keptSchemas.set(key, { stores: storeList, versions, schema }, 1 + (schema?.series.length ?? 0))
  return schema
}

/**
 * Matches as JSON, once per frozen array: a repeated statement's are the same one (narrowingOf,
 * InfluxQL's tagMatchesOf). An array that is not frozen could change under its text: not kept.
 */
const matchTexts = new WeakMap<TagMatch[], string>()

function matchesText(matches: TagMatch[]): string {
  if (!Object.isFrozen(matches)) return JSON.stringify(matches)
  let text = matchTexts.get(matches)
  if (text === undefined) matchTexts.set(matches, text = JSON.stringify(matches))
  return text
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i])
}

function schemaOf(table: string, stores: PartitionStore[], listings: ReadonlyArray<readonly SeriesListing[]>): TableSchema | null {
  const series: TableSeries[] = []
  const tags = new Set<string>()
  const fields = new Map<string, FieldTypeCode>()
  stores.forEach((store, s) => {
    for (const listing of listings[s]!) {
      series.push({ store, series: listing })
      for (const tag of listing.tags) tags.add(tag.key)
      for (const field of listing.fields) {
        const known = fields.get(field.name)
        if (known !== undefined && known !== field.type) {
          throw new QueryError(QueryErrorCode.TYPE_MISMATCH,
            `field "${field.name}" of table "${table}" is ${FIELD_TYPE_NAMES[known]} in some series and ${FIELD_TYPE_NAMES[field.type]} in others`)
        }
        fields.set(field.name, field.type)
      }
    }
  })
  if (series.length === 0) return null
  return { table, series, tags: [...tags].sort(), fields: new Map([...fields].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) }
}

/** The columns an expression reads (time included), hidden aggregate references left out. */
export function exprColumns(expr: Expr): string[] {
  switch (expr.kind) {
    case 'column': return expr.name.startsWith(HIDDEN_PREFIX) ? [] : [expr.name]
    case 'literal': return []
    case 'call': return expr.args.flatMap(exprColumns)
    case 'binary': return [...exprColumns(expr.left), ...exprColumns(expr.right)]
    case 'unary': case 'is-null': return exprColumns(expr.operand)
    case 'in': return [...exprColumns(expr.operand), ...expr.values.flatMap(exprColumns)]
    case 'between': return [expr.operand, expr.low, expr.high].flatMap(exprColumns)
    case 'case': return [...expr.whens.flatMap((w) => [...exprColumns(w.when), ...exprColumns(w.then)]), ...(expr.otherwise ? exprColumns(expr.otherwise) : [])]
  }
}

export function typeName(type: FieldTypeCode): ColumnTypeName {
  return FIELD_TYPE_NAMES[type] as ColumnTypeName
}

function unknownColumn(schema: TableSchema, column: string): QueryError {
  return new QueryError(QueryErrorCode.UNKNOWN_COLUMN, `column "${column}" not found in table "${schema.table}"`)
}

/** The type of a column of the table (time, a tag or a field), or an unknown-column error. */
function tableColumnType(schema: TableSchema, column: string): ColumnTypeName {
  if (column === 'time') return 'timestamp'
  if (schema.tags.includes(column)) return 'string'
  const type = schema.fields.get(column)
  if (type === undefined) throw unknownColumn(schema, column)
  return typeName(type)
}

/** WHERE conditions on fields join the row filter (tag conditions stay series pruning); the filter splits by what it reads. */
function planFilter(statement: SelectStatement, schema: TableSchema): Pick<Plan, 'tagConditions' | 'seriesFilter' | 'rowFilter'> {
  let filter = statement.filter
  const tagConditions: ColumnCondition[] = []
  for (const condition of statement.conditions) {
    if (schema.tags.includes(condition.column)) {
      if (condition.refusal !== null) throw new QueryError(QueryErrorCode.UNSUPPORTED, condition.refusal)
      tagConditions.push(condition)
      continue
    }
    if (!schema.fields.has(condition.column)) throw unknownColumn(schema, condition.column)
    const expr = condition.expr!
    filter = filter === null ? expr : { kind: 'binary', op: 'AND', left: filter, right: expr, sql: condition.sql }
  }
  if (filter === null) return { tagConditions, seriesFilter: null, rowFilter: null }
  const columnType = (column: string): ColumnTypeName => tableColumnType(schema, column)
  const compiled = compileExpression(filter, columnType)
  if (compiled.type !== 'boolean') throw new QueryError(QueryErrorCode.TYPE_MISMATCH, `WHERE: the condition is ${compiled.type}, not boolean`)
  const perRow = exprColumns(filter).some((c) => c === 'time' || schema.fields.has(c))
  if (!perRow) return { tagConditions, seriesFilter: compiled, rowFilter: null }
  const fieldType = (column: string): ColumnTypeName | undefined => {
    const type = schema.fields.get(column)
    return type === undefined ? undefined : typeName(type)
  }
  return { tagConditions, seriesFilter: null, rowFilter: planRowFilter(filter, compiled, columnType, fieldType) }
}

export function planSelect(statement: SelectStatement, schema: TableSchema): Plan {
  const filters = planFilter(statement, schema)
  const aggregate = statement.bucket !== null || statement.groupBy.length > 0 || statement.items.some((i) => i.kind === 'aggregate')
  for (const key of statement.groupBy) {
    if (!schema.tags.includes(key)) {
      if (key === 'time' || schema.fields.has(key)) throw new QueryError(QueryErrorCode.UNSUPPORTED, `GROUP BY ${key}: group by tags and one time bucket (date_bin, time_window, date_trunc)`)
      throw unknownColumn(schema, key)
    }
  }
  const outputs: Output[] = []
  const expressions: number[] = []
  for (const item of statement.items) {
    switch (item.kind) {
      case 'star':
        if (aggregate) throw new QueryError(QueryErrorCode.UNSUPPORTED, 'SELECT * cannot be combined with aggregates or GROUP BY')
        outputs.push({ kind: 'time', name: 'time' })
        for (const key of schema.tags) outputs.push({ kind: 'tag', key, name: key })
        for (const [field, type] of schema.fields) outputs.push({ kind: 'field', field, type, name: field })
        break
      case 'column':
        outputs.push(columnOutput(item.column, item.name, schema, statement, aggregate))
        break
      case 'bucket':
        if (statement.bucket?.sql !== item.bucket.sql) {
          throw new QueryError(QueryErrorCode.UNSUPPORTED, `${item.bucket.sql} in the select list must also be in GROUP BY (by expression or alias)`)
        }
        outputs.push({ kind: 'bucket', name: item.name })
        break
      case 'aggregate': {
        const output = aggregateOutput(item.fn, item.field, item.name, schema, item.sql)
        outputs.push({ ...output, parameter: item.parameter ?? null, fill: item.fill ?? null })
        checkFill(output, item.fill ?? null, item.sql, statement)
        break
      }
      case 'expression':
        // Compiled below, once the aggregates it may read have outputs.
        expressions.push(outputs.length)
        outputs.push({ kind: 'expression', compiled: null as unknown as CompiledExpr, name: item.name })
        break
    }
  }
  const outputType = (name: string): ColumnTypeName | undefined => {
    const output = outputs.find((o) => o.name === name && o.kind !== 'expression')
    return output ? resultColumn(output).type : undefined
  }
  for (const index of expressions) {
    const item = statement.items.filter((i) => i.kind === 'expression').find((i) => i.name === outputs[index]!.name)!
    if (item.kind !== 'expression') continue
    const type = (column: string): ColumnTypeName => (column.startsWith(HIDDEN_PREFIX) ? outputType(column)! : expressionColumnType(column, item.sql, schema, statement, aggregate))
    outputs[index] = { kind: 'expression', compiled: compileExpression(item.expr, type), name: item.name }
  }
  let having: CompiledExpr | null = null
  if (statement.having !== null) {
    if (!aggregate) throw new QueryError(QueryErrorCode.UNSUPPORTED, 'HAVING needs aggregates or GROUP BY; filter rows with WHERE')
    having = compileExpression(statement.having, (column) => {
      const known = outputs.find((o) => o.name === column)
      if (known) return resultColumn(known).type
      return expressionColumnType(column, 'HAVING', schema, statement, aggregate)
    })
    if (having.type !== 'boolean') throw new QueryError(QueryErrorCode.TYPE_MISMATCH, `HAVING: the condition is ${having.type}, not boolean`)
  }
  if (statement.bucket?.gapfill && (statement.fromNs === null || statement.toNs === null)) {
    throw new QueryError(QueryErrorCode.UNSUPPORTED, `${statement.bucket.sql}: gap filling needs a time range with both ends in WHERE (time >= ... AND time < ...)`)
  }
  return { statement, outputs, aggregate, bucket: statement.bucket, ...filters, having }
}

function checkFill(output: Output, fill: FillMode | null, sql: string, statement: SelectStatement): void {
  if (fill === null || output.kind !== 'aggregate') return
  if (!statement.bucket?.gapfill) {
    throw new QueryError(QueryErrorCode.UNSUPPORTED, `${sql}: interpolate and locf fill the gaps of time_window_gapfill or date_bin_gapfill; group by one of them`)
  }
  const type = resultColumn(output).type
  if (fill === 'interpolate' && type !== 'float' && type !== 'integer' && type !== 'unsigned' && type !== 'timestamp') {
    throw new QueryError(QueryErrorCode.TYPE_MISMATCH, `${sql}: interpolate takes a numeric aggregate; this one is ${type} (use locf)`)
  }
}

/** A column of a scalar expression: any column in a raw query; in an aggregate, only the GROUP BY tags. */
function expressionColumnType(column: string, sql: string, schema: TableSchema, statement: SelectStatement, aggregate: boolean): ColumnTypeName {
  if (column !== 'time' && !schema.tags.includes(column) && !schema.fields.has(column)) throw unknownColumn(schema, column)
  if (aggregate && !statement.groupBy.includes(column)) {
    throw new QueryError(QueryErrorCode.UNSUPPORTED, `${sql}: with aggregates, an expression reads only GROUP BY tags, aggregates and constants; "${column}" is none of them`)
  }
  if (column === 'time') return 'timestamp'
  if (schema.tags.includes(column)) return 'string'
  const type = schema.fields.get(column)
  if (type === undefined) throw unknownColumn(schema, column)
  return typeName(type)
}

function columnOutput(column: string, name: string, schema: TableSchema, statement: SelectStatement, aggregate: boolean): Output {
  if (aggregate) {
    if (statement.groupBy.includes(column)) return { kind: 'tag', key: column, name }
    throw new QueryError(QueryErrorCode.UNSUPPORTED, `column "${column}" must appear in GROUP BY or be used in an aggregate function`)
  }
  if (column === 'time') return { kind: 'time', name }
  if (schema.tags.includes(column)) return { kind: 'tag', key: column, name }
  const type = schema.fields.get(column)
  if (type === undefined) throw unknownColumn(schema, column)
  return { kind: 'field', field: column, type, name }
}

type AggregateOutput = Extract<Output, { kind: 'aggregate' }>

function aggregateOutput(fn: AggregateName | CollectedName, field: string | null, name: string, schema: TableSchema, sql: string): AggregateOutput {
  if (field === null) return { kind: 'aggregate', fn, field, type: null, name }
  const type = schema.fields.get(field)
  if (type === undefined) {
    if (schema.tags.includes(field)) throw new QueryError(QueryErrorCode.UNSUPPORTED, `${fn}(${field}): "${field}" is a tag; aggregate a field`)
    throw unknownColumn(schema, field)
  }
  if (isCollected(fn)) return { kind: 'aggregate', fn, field, type, name, resultType: collectedType(fn, type, typeName(type), sql) }
  if ((fn === 'sum' || fn === 'avg' || fn === 'spread') && (type === FieldType.STRING || type === FieldType.BOOLEAN)) {
    throw new QueryError(QueryErrorCode.TYPE_MISMATCH, `${fn}(${field}): "${field}" is ${FIELD_TYPE_NAMES[type]}; ${fn} takes a numeric field`)
  }
  return { kind: 'aggregate', fn, field, type, name }
}

/** The result column of an output. */
export function resultColumn(output: Output): ResultColumn {
  switch (output.kind) {
    case 'time': case 'bucket': return { name: output.name, type: 'timestamp' }
    case 'tag': return { name: output.name, type: 'string' }
    case 'field': return { name: output.name, type: typeName(output.type) }
    case 'expression': return { name: output.name, type: output.compiled.type }
    case 'aggregate':
      if (output.resultType !== undefined) return { name: output.name, type: output.resultType }
      if (output.fn === 'count') return { name: output.name, type: 'integer' }
      if (output.fn === 'avg') return { name: output.name, type: 'float' }
      return { name: output.name, type: typeName(output.type!) }
  }
}

/** Does a series pass the WHERE tag conditions and the tag-only filter (a missing tag has the value "")? */
export function seriesMatches(series: SeriesListing, plan: Plan): boolean {
  for (const condition of plan.tagConditions) {
    let value = ''
    for (const tag of series.tags) if (tag.key === condition.column) { value = tag.value; break }
    if (condition.values.includes(value) === condition.negate) return false
  }
  if (plan.seriesFilter !== null) return plan.seriesFilter.evaluate({ timeNs: null, column: (name) => tagValue(series, name) ?? '' }) === true
  return true
}


export function tagValue(series: SeriesListing, key: string): string | null {
  for (const tag of series.tags) if (tag.key === key) return tag.value
  return null
}
