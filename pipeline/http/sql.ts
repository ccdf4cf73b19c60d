// POST /api/v1/sql (CnosDB's SQL endpoint): UPDATE and DELETE, and codec DDL (CREATE TABLE,
// ALTER TABLE ... CODEC / ADD FIELD: handleDdl). The statement is checked
// against the measurement's columns as the write path recorded them, turned into an IngestCommand
// and put on every partition of sluice.ingest in one transaction (pipeline/commands). The answer
// names the command and its position on each partition, so a client can wait until replicas have
// applied it. Database DDL (CREATE / ALTER / DROP / DESCRIBE DATABASE: handleDatabaseDdl) changes the
// catalog, and a TTL or a DROP also enters the log as a command. Other statements (SELECT, SHOW, DESCRIBE, EXPLAIN) go to the injected query
// function (the query layer over this node's stores; docs/query.md) with read permission, answered
// as JSON rows, CSV or NDJSON by Accept, in chunks when large; a syntax error's line and column are
// fields of the error body. Without a query function they are answered 501.
//
//   curl -XPOST 'http://127.0.0.1:8086/api/v1/sql?db=weather' --data-binary "DELETE FROM air WHERE station = 'a'"
//   → 200 {"command_id":"…","kind":"DELETE","table":"air","positions":[{"partition":0,"offset":"42"},…]}
//   curl -XPOST 'http://127.0.0.1:8086/api/v1/sql?db=weather' --data-binary "SELECT max(temperature) FROM air"
//   → 200 [{"max(temperature)":21.5}]
//   curl -XPOST 'http://127.0.0.1:8086/api/v1/sql?db=weather' --data-urlencode "q=SELECT max(temperature) FROM air" -G
//   → the same (the statement in q= when the body is empty)

import { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import {
  checkCodecType, codecCommand, CommandError, commandTable, databaseCommand, isCommandSql, isDatabaseSql, isDdlSql, parseCommandSql, parseDatabaseSql, parseDdl,
  type ColumnType, type CommandPosition, type DatabaseStatement, type DdlStatement, type MeasurementColumns,
} from '../commands/index.ts'
import { FieldType, fieldTypeNames, type FieldTypeValue } from '../ingest/index.ts'
import { formatDuration, type CompressionSettings } from '../transforms/index.ts'
import type { IngestCommand } from '../../schemas/index.ts'
import { mayAccess, parseCredentials } from './auth.ts'
import { queryString, sendError, wallClockNs, type HttpApiOptions } from './context.ts'
import { Dialect, errorResponse, HttpApiError, HttpErrorCode } from './errors.ts'
import { RESULT_CONTENT_TYPES, renderChunks, renderCsv, renderJsonBytes, renderNdjson, resultFormat, STREAM_CHUNK_ROWS, type QueryFunction } from './sql-result.ts'

export type { QueryFunction }

/** Where commands go: a transactional writer to every partition of sluice.ingest. */
export interface CommandSink {
  submit(command: IngestCommand): Promise<CommandPosition[]>
}

/** Longest statement accepted, in characters. */
const MAX_SQL_CHARS = 64 * 1024

export function registerSqlRoutes(app: FastifyInstance, options: HttpApiOptions): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_SQL_CHARS * 4 }, (_request, body, done) => done(null, body))
  app.post('/api/v1/sql', { config: { dialect: Dialect.CNOSDB } }, (request, reply) => handleSql(options, request, reply))
}

async function handleSql(options: HttpApiOptions, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  try {
    // The statement is the body or, when the body is empty, the q parameter (as InfluxDB's /query takes it).
    const body = typeof request.body === 'string' ? request.body.trim() : ''
    const sql = body.length > 0 ? body : (queryString(request.query, 'q') ?? '').trim()
    if (sql.length === 0) throw new HttpApiError(HttpErrorCode.BAD_PARAMETER, 'no SQL statement: send it as the request body or as the q parameter')
    const requestedTenant = queryString(request.query, 'tenant')
    const database = queryString(request.query, 'db') || 'public'
    const access = options.authorizer.authenticate(parseCredentials(request.query as Record<string, unknown>, request.headers.authorization), requestedTenant || undefined, Dialect.CNOSDB)
    if (isDatabaseSql(sql)) {
      const statement = parseDatabaseSql(sql)
      options.authorizer.authorize(access, statement.database, statement.kind === 'DESCRIBE_DATABASE' ? 'read' : 'write')
      return reply.code(200).send(await handleDatabaseDdl(options, access.tenant, statement))
    }
    if (isDdlSql(sql)) {
      options.authorizer.authorize(access, database, 'write')
      await options.catalog.requireDatabase(access.tenant, database)
      return reply.code(200).send(await handleDdl(options, access.tenant, database, parseDdl(sql)))
    }
    if (!isCommandSql(sql)) {
      options.authorizer.authorize(access, database, 'read')
      if (!options.query) throw new HttpApiError(HttpErrorCode.NOT_IMPLEMENTED, 'this node answers no queries (it runs without a replica); only UPDATE and DELETE are taken')
      const visible = (name: string): boolean => mayAccess(access, name, 'read') || mayAccess(access, name, 'write')
      const answer = await options.query(sql, { tenant: access.tenant, database }, { visible })
      const format = resultFormat(request.headers.accept)
      reply.code(200).type(RESULT_CONTENT_TYPES[format])
      if (answer.rows.length <= STREAM_CHUNK_ROWS) return reply.send(format === 'csv' ? renderCsv(answer) : format === 'ndjson' ? renderNdjson(answer) : renderJsonBytes(answer))
      // A large answer is written chunk by chunk (Transfer-Encoding: chunked), never as one string.
      return reply.send(Readable.from(renderChunks(answer, format)))
    }
    options.authorizer.authorize(access, database, 'write')
    if (!options.commands) throw new HttpApiError(HttpErrorCode.NOT_IMPLEMENTED, 'this node takes no commands (no command writer configured)')
    await options.catalog.requireDatabase(access.tenant, database)
    const table = commandTable(sql)
    const stored = await options.catalog.measurementColumns(access.tenant, database, table)
    const columns: MeasurementColumns | undefined = stored
      ? { tags: new Set(stored.tags), fields: new Map([...stored.fields].map(([name, type]) => [name, fieldTypeNames[type] as ColumnType])) }
      : undefined
    const command = parseCommandSql(sql, { tenant: access.tenant, database, nowNs: (options.nowNs ?? wallClockNs)(), columns: name => (name === table ? columns : undefined) })
    let positions: CommandPosition[]
    try {
      positions = await options.commands.submit(command)
    } catch (error) {
      throw new HttpApiError(HttpErrorCode.KAFKA_UNAVAILABLE, `the command was not written to Kafka: ${(error as Error).message}`, { cause: error })
    }
    return reply.code(200).send({ command_id: command.commandId, kind: command.kind, table, positions })
  } catch (error) {
    const line = (error as { line?: unknown } | null)?.line
    const column = (error as { column?: unknown } | null)?.column
    if (typeof line === 'number' && typeof column === 'number') {
      // A syntax error's position, also as fields of the body: {error_code, error_message, line, column}.
      const { status, headers, body } = errorResponse(toApiError(error) as HttpApiError, Dialect.CNOSDB, options.limits.retryAfterSeconds)
      return reply.code(status).headers(headers).send({ ...body, line, column })
    }
    return sendError(request, reply, toApiError(error), options.limits.retryAfterSeconds)
  }
}

/**
 * Database DDL. The catalog (Redis) says which databases exist and their TTL, for SHOW and DESCRIBE;
 * the stores learn a TTL or a DROP from the log: the command goes on every ingest partition first,
 * then the catalog changes (a failed Kafka write changes nothing). A write after a DROP recreates
 * the database, empty, as InfluxDB does; being later in the log, its points survive the DROP.
 */
async function handleDatabaseDdl(options: HttpApiOptions, tenant: string, statement: DatabaseStatement): Promise<Record<string, unknown>> {
  const { database } = statement
  const ttl = await options.catalog.databaseTtl(tenant, database)
  const notFound = (): HttpApiError => new HttpApiError(HttpErrorCode.DATABASE_NOT_FOUND, `database not found: "${database}"`)
  switch (statement.kind) {
    case 'DESCRIBE_DATABASE':
      if (ttl === undefined) throw notFound()
      return { database, ttl: ttl === null ? 'INF' : formatDuration(ttl), ttl_ns: ttl === null ? null : ttl.toString() }
    case 'CREATE_DATABASE': {
      if (ttl !== undefined && !statement.ifNotExists && statement.ttlNs !== undefined && statement.ttlNs !== ttl) {
        throw new HttpApiError(HttpErrorCode.SQL_UNSUPPORTED, `database "${database}" exists with TTL ${ttl === null ? 'INF' : formatDuration(ttl)}; change it with ALTER DATABASE ${database} SET TTL '...'`)
      }
      if (ttl !== undefined && statement.ifNotExists) return { command_id: null, kind: 'CREATE_DATABASE', database, created: false, positions: [] }
      const command = statement.ttlNs === undefined || (ttl ?? null) === statement.ttlNs ? null : databaseCommand({ tenant, database, nowNs: nowNs(options) }, { kind: 'SET_DATABASE_TTL', ttlNs: statement.ttlNs })
      const positions = command ? await submit(options, command) : []
      await options.catalog.createDatabase(tenant, database)
      if (statement.ttlNs !== undefined) await options.catalog.setDatabaseTtl(tenant, database, statement.ttlNs)
      return { command_id: command?.commandId ?? null, kind: 'CREATE_DATABASE', database, created: ttl === undefined, positions }
    }
    case 'ALTER_DATABASE': {
      if (ttl === undefined) throw notFound()
      const command = databaseCommand({ tenant, database, nowNs: nowNs(options) }, { kind: 'SET_DATABASE_TTL', ttlNs: statement.ttlNs })
      const positions = await submit(options, command)
      await options.catalog.setDatabaseTtl(tenant, database, statement.ttlNs)
      return { command_id: command.commandId, kind: 'ALTER_DATABASE', database, ttl: statement.ttlNs === null ? 'INF' : formatDuration(statement.ttlNs), positions }
    }
    case 'DROP_DATABASE': {
      if (ttl === undefined && statement.ifExists) return { command_id: null, kind: 'DROP_DATABASE', database, dropped: false, positions: [] }
      if (ttl === undefined) throw notFound()
      const command = databaseCommand({ tenant, database, nowNs: nowNs(options) }, { kind: 'DROP_DATABASE' })
      const positions = await submit(options, command)
      await options.catalog.dropDatabase(tenant, database)
      return { command_id: command.commandId, kind: 'DROP_DATABASE', database, dropped: true, positions }
    }
  }
}

const nowNs = (options: HttpApiOptions): bigint => (options.nowNs ?? wallClockNs)()

/** Puts a command on every ingest partition; a Kafka failure is a retriable 503 that changed nothing. */
async function submit(options: HttpApiOptions, command: IngestCommand): Promise<CommandPosition[]> {
  if (!options.commands) throw new HttpApiError(HttpErrorCode.NOT_IMPLEMENTED, 'this node takes no commands (no command writer configured)')
  try {
    return await options.commands.submit(command)
  } catch (error) {
    throw new HttpApiError(HttpErrorCode.KAFKA_UNAVAILABLE, `the ${command.kind} command was not written to Kafka: ${(error as Error).message}`, { cause: error })
  }
}

const FIELD_TYPE_OF: Readonly<Record<ColumnType, FieldTypeValue>> = {
  float: FieldType.Float, integer: FieldType.Integer, unsigned: FieldType.Unsigned, boolean: FieldType.Boolean, string: FieldType.String,
}

/**
 * CREATE TABLE and ALTER TABLE ... ADD FIELD / ADD TAG declare columns in the catalog (a field's type
 * as a first write would claim it; an existing table must agree); fields with a CODEC clause, and
 * ALTER ... SET CODEC, become one SET_CODEC command on every ingest partition (docs/sql-commands.md).
 * DROP TABLE and ALTER TABLE ... DROP <field> become DROP_TABLE / DROP_FIELDS commands, then the
 * catalog forgets the columns on every node (dropTable).
 */
async function handleDdl(options: HttpApiOptions, tenant: string, database: string, statement: DdlStatement): Promise<Record<string, unknown>> {
  const table = statement.measurement
  const stored = await options.catalog.measurementColumns(tenant, database, table)
  const storedType = (field: string): ColumnType | undefined => {
    const code = stored?.fields.get(field)
    return code === undefined ? undefined : fieldTypeNames[code] as ColumnType
  }
  if (statement.kind === 'DROP_TABLE' && !stored && statement.ifExists) return { command_id: null, kind: statement.kind, table, dropped: false, positions: [] }
  if (statement.kind !== 'CREATE_TABLE' && !stored) throw new HttpApiError(HttpErrorCode.TABLE_NOT_FOUND, `table "${table}" not found in database "${database}"`)
  if (statement.kind === 'DROP_TABLE' || statement.kind === 'DROP_COLUMN') return dropTableColumns(options, tenant, database, statement, stored!)
  if (statement.kind === 'ADD_TAG') {
    const tag = statement.tags[0]
    if (storedType(tag) !== undefined) throw new HttpApiError(HttpErrorCode.SQL_UNSUPPORTED, `column "${tag}" of table "${table}" is a field, not a tag`)
    await options.catalog.declareColumns(tenant, database, table, [tag], [])
    return { command_id: null, kind: statement.kind, table, positions: [] }
  }
  const codecs: Array<{ name: string; type: ColumnType | null; codec: CompressionSettings }> = []
  for (const field of statement.fields) {
    if (stored?.tags.includes(field.name)) throw new HttpApiError(HttpErrorCode.SQL_UNSUPPORTED, `column "${field.name}" of table "${table}" is a tag, not a field`)
    const type = field.type ?? storedType(field.name)
    if (type === undefined) throw new HttpApiError(HttpErrorCode.TABLE_NOT_FOUND, `field "${field.name}" not found in table "${table}"`)
    const existing = storedType(field.name)
    if (existing !== undefined && existing !== type) throw new HttpApiError(HttpErrorCode.FIELD_TYPE_CONFLICT, `field "${field.name}" of table "${table}" is already ${existing}, not ${type}`)
    if (field.codec) {
      checkCodecType(field.name, type, field.codec)
      codecs.push({ name: field.name, type, codec: field.codec })
    }
  }
  if (statement.kind === 'CREATE_TABLE') {
    for (const tag of statement.tags) {
      if (storedType(tag) !== undefined) throw new HttpApiError(HttpErrorCode.SQL_UNSUPPORTED, `column "${tag}" of table "${table}" is a field, not a tag`)
    }
  }
  if (statement.kind !== 'SET_CODEC') {
    const declared = statement.fields.map(field => ({ field: field.name, type: FIELD_TYPE_OF[field.type!] }))
    const now = await options.catalog.declareColumns(tenant, database, table, statement.kind === 'CREATE_TABLE' ? statement.tags : [], declared)
    now.forEach((type, i) => {
      if (type !== declared[i]!.type) throw new HttpApiError(HttpErrorCode.FIELD_TYPE_CONFLICT, `field "${declared[i]!.field}" of table "${table}" is already ${fieldTypeNames[type]}, not ${fieldTypeNames[declared[i]!.type]}`)
    })
  }
  const command = codecCommand({ tenant, database, nowNs: (options.nowNs ?? wallClockNs)() }, table, codecs)
  if (!command) return { command_id: null, kind: statement.kind, table, positions: [] }
  if (!options.commands) throw new HttpApiError(HttpErrorCode.NOT_IMPLEMENTED, 'this node takes no commands (no command writer configured)')
  let positions: CommandPosition[]
  try {
    positions = await options.commands.submit(command)
  } catch (error) {
    throw new HttpApiError(HttpErrorCode.KAFKA_UNAVAILABLE, `the codec change was not written to Kafka: ${(error as Error).message}`, { cause: error })
  }
  return { command_id: command.commandId, kind: statement.kind, table, codecs: command.codecs, positions }
}

/** DROP TABLE (every point, every column) and ALTER TABLE ... DROP <field> (its values and type) through the log, then the catalog. */
async function dropTableColumns(options: HttpApiOptions, tenant: string, database: string,
  statement: Extract<DdlStatement, { kind: 'DROP_TABLE' | 'DROP_COLUMN' }>, stored: { tags: string[]; fields: Map<string, FieldTypeValue> }): Promise<Record<string, unknown>> {
  const table = statement.measurement
  const context = { tenant, database, nowNs: nowNs(options) }
  if (statement.kind === 'DROP_TABLE') {
    const command = databaseCommand(context, { kind: 'DROP_TABLE', measurement: table })
    const positions = await submit(options, command)
    await options.catalog.dropColumns(tenant, database, table, null)
    return { command_id: command.commandId, kind: statement.kind, table, dropped: true, positions }
  }
  const column = statement.column
  if (stored.tags.includes(column)) {
    throw new HttpApiError(HttpErrorCode.SQL_UNSUPPORTED, `column "${column}" of table "${table}" is a tag: dropping a tag is not supported (the series with and without it would merge); DELETE FROM ${table} WHERE ${column} = '...' deletes their points`)
  }
  if (!stored.fields.has(column)) throw new HttpApiError(HttpErrorCode.TABLE_NOT_FOUND, `field "${column}" not found in table "${table}"`)
  const command = databaseCommand(context, { kind: 'DROP_FIELDS', measurement: table, columns: [column] })
  const positions = await submit(options, command)
  await options.catalog.dropColumns(tenant, database, table, [column])
  return { command_id: command.commandId, kind: statement.kind, table, columns: [column], positions }
}

/** Codes of the query layer's errors (query/errors.ts), matched by value: pipeline does not import query. */
const QUERY_ERROR_STATUS: Readonly<Record<string, HttpApiError['code']>> = {
  SLUICE_ERR_QUERY_SYNTAX: HttpErrorCode.QUERY,
  SLUICE_ERR_QUERY_UNKNOWN_TABLE: HttpErrorCode.TABLE_NOT_FOUND,
  SLUICE_ERR_QUERY_UNKNOWN_COLUMN: HttpErrorCode.TABLE_NOT_FOUND,
  SLUICE_ERR_QUERY_UNSUPPORTED: HttpErrorCode.SQL_UNSUPPORTED,
  SLUICE_ERR_QUERY_TYPE_MISMATCH: HttpErrorCode.SQL_UNSUPPORTED,
  SLUICE_ERR_QUERY_BAD_VALUE: HttpErrorCode.SQL_UNSUPPORTED,
  SLUICE_ERR_QUERY_LIMIT_EXCEEDED: HttpErrorCode.SQL_UNSUPPORTED,
}

function toApiError(error: unknown): unknown {
  const queryCode = (error as { code?: unknown } | null)?.code
  if (error instanceof Error && typeof queryCode === 'string' && QUERY_ERROR_STATUS[queryCode]) {
    return new HttpApiError(QUERY_ERROR_STATUS[queryCode]!, error.message, { headers: { 'X-Sluice-Query-Error-Code': queryCode } })
  }
  if (!(error instanceof CommandError)) return error
  switch (error.code) {
    case 'syntax': return new HttpApiError(HttpErrorCode.QUERY, error.message)
    case 'unknown_table': return new HttpApiError(HttpErrorCode.TABLE_NOT_FOUND, error.message)
    default: return new HttpApiError(HttpErrorCode.SQL_UNSUPPORTED, error.message)
  }
}
