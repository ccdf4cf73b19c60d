// POST|GET /query: InfluxDB 1.x's query endpoint. With an InfluxQL function (the query layer over
// this node's stores, query/influxql; docs/influxql.md) it answers SELECT, SHOW and CREATE DATABASE
// as InfluxDB does, for Grafana's InfluxDB data source and the influx CLI: the route authenticates,
// owns the catalog (SHOW DATABASES, CREATE DATABASE, "database not found") and the permissions, and
// sends the function's JSON. Without one (a node with no replica) it keeps the sliver writers need:
// Telegraf's v1 output sends `CREATE DATABASE "telegraf"` at start-up and after a "database not
// found" answer, the influx CLI sends the DDL of an import file; CREATE DATABASE <name> [WITH ...]
// (WITH ignored) and SHOW DATABASES are answered, anything else 400.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { mayAccess, parseCredentials, type Access } from './auth.ts'
import { queryString, sendError, type HttpApiOptions } from './context.ts'
import { DatabaseListCache } from './database-list.ts'
import { Dialect, HttpApiError, HttpErrorCode } from './errors.ts'

export type Statement =
  | { kind: 'create-database'; database: string }
  | { kind: 'show-databases' }

/** Longest `q` accepted, as the query layer's longest statement. */
const MAX_QUERY_CHARS = 65_536

/** What the InfluxQL function gets besides `q`: the caller, the parameters and the route's catalog. */
export interface InfluxqlRequest {
  tenant: string
  /** The db parameter; null when absent. */
  database: string | null
  /** The epoch parameter; null when absent (RFC 3339 times). */
  epoch: string | null
  /** Databases the caller may read or write (SHOW DATABASES), as the catalog lists them now. */
  databases(): Promise<string[]>
  /**
   * Whether the database exists and the caller may read or write it: from a list up to a second old
   * when that names it, else from the catalog (database-list.ts).
   */
  hasDatabase(name: string): Promise<boolean>
  /** Creates a database; throws FORBIDDEN without the write permission. */
  createDatabase(name: string): Promise<void>
  /** Throws FORBIDDEN without the read permission. */
  authorizeRead(database: string): void
}

/**
 * Runs InfluxQL statements and returns InfluxDB's JSON answer ({"results":[...]}). Throws an error with
 * a query-layer code (SLUICE_ERR_QUERY_SYNTAX, ...) when the request as a whole is refused.
 */
export type InfluxqlFunction = (q: string, request: InfluxqlRequest) => Promise<string>

function queryError(message: string): HttpApiError {
  return new HttpApiError(HttpErrorCode.QUERY, `error parsing query: ${message}`)
}

/** Splits `q` into statements and words, honouring "double-quoted" identifiers and 'strings'. */
function tokenize(text: string): string[][] {
  const statements: string[][] = []
  let words: string[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === ';') { statements.push(words); words = []; i++; continue }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue }
    if (c === '"' || c === "'") {
      let value = ''
      let j = i + 1
      for (; j < text.length && text[j] !== c; j++) {
        if (text[j] === '\\' && j + 1 < text.length) j++
        value += text[j]
      }
      if (j >= text.length) throw queryError(`unterminated quoted identifier at ${i + 1}`)
      words.push(c + value) // the quote marks a quoted word
      i = j + 1
      continue
    }
    let j = i
    while (j < text.length && !' \t\n\r;"\''.includes(text[j]!)) j++
    words.push(text.slice(i, j))
    i = j
  }
  statements.push(words)
  return statements.filter(statement => statement.length > 0)
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

function identifier(word: string | undefined): string {
  if (word === undefined) throw queryError('found EOF, expected identifier')
  if (word.startsWith('"')) return word.slice(1)
  if (word.startsWith("'")) throw queryError(`found ${word.slice(1)}, expected identifier (use double quotes)`)
  if (!IDENTIFIER.test(word)) throw queryError(`found ${word}, expected identifier`)
  return word
}

export function parseStatements(q: string): Statement[] {
  if (q.length > MAX_QUERY_CHARS) throw queryError(`query longer than ${MAX_QUERY_CHARS} characters`)
  const statements = tokenize(q).map((words): Statement => {
    const head = words.slice(0, 2).map(word => word.toUpperCase()).join(' ')
    if (head === 'CREATE DATABASE') {
      const database = identifier(words[2])
      if (words.length > 3 && words[3]!.toUpperCase() !== 'WITH') throw queryError(`found ${words[3]}, expected WITH or ;`)
      if (database.length === 0) throw queryError('database name must not be empty')
      return { kind: 'create-database', database }
    }
    if (head === 'SHOW DATABASES' && words.length === 2) return { kind: 'show-databases' }
    throw queryError(`"${words.join(' ').slice(0, 100)}" is not supported: /query answers only CREATE DATABASE and SHOW DATABASES (query with POST /api/v1/sql)`)
  })
  if (statements.length === 0) throw new HttpApiError(HttpErrorCode.QUERY, 'missing required parameter "q"')
  return statements
}

function formParameters(body: unknown): URLSearchParams {
  return typeof body === 'string' ? new URLSearchParams(body) : new URLSearchParams()
}

export function registerQueryRoutes(app: FastifyInstance, options: HttpApiOptions): void {
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_QUERY_CHARS * 4 }, (_request, body, done) => done(null, body))
  const databaseList = new DatabaseListCache((tenant) => options.catalog.listDatabases(tenant))
  const handler = (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => handleQuery(options, databaseList, request, reply)
  const schema = { querystring: { type: 'object', properties: { q: { type: 'string' }, db: { type: 'string' }, epoch: { type: 'string' }, u: { type: 'string' }, p: { type: 'string' } } } }
  app.get('/query', { config: { dialect: Dialect.INFLUX1 }, schema }, handler)
  app.post('/query', { config: { dialect: Dialect.INFLUX1 }, schema }, handler)
}

async function handleQuery(options: HttpApiOptions, databaseList: DatabaseListCache, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  try {
    const form = formParameters(request.body)
    const q = queryString(request.query, 'q') ?? form.get('q') ?? ''
    const query = { ...Object.fromEntries(form), ...(request.query as Record<string, unknown>) }
    const access = options.authorizer.authenticate(parseCredentials(query, request.headers.authorization), undefined, Dialect.INFLUX1)
    if (options.influxql) return await answerInfluxql(options, options.influxql, databaseList, reply, q, query, access)
    const statements = parseStatements(q)
    const results = []
    for (let id = 0; id < statements.length; id++) {
      const statement = statements[id]!
      if (statement.kind === 'create-database') {
        options.authorizer.authorize(access, statement.database, 'write')
        await options.catalog.createDatabase(access.tenant, statement.database)
        results.push({ statement_id: id })
      } else {
        const visible = await visibleDatabases(options, access)
        results.push({ statement_id: id, series: [{ name: 'databases', columns: ['name'], values: visible.map(name => [name]) }] })
      }
    }
    return reply.code(200).send({ results })
  } catch (error) {
    return sendError(request, reply, error, options.limits.retryAfterSeconds)
  }
}

async function visibleDatabases(options: HttpApiOptions, access: Access): Promise<string[]> {
  return (await options.catalog.listDatabases(access.tenant)).filter(database => mayAccess(access, database, 'read') || mayAccess(access, database, 'write'))
}

/** Query-layer codes (matched by value: pipeline does not import query) → the /query error code. */
const INFLUXQL_REFUSALS: ReadonlySet<string> = new Set(['SLUICE_ERR_QUERY_SYNTAX', 'SLUICE_ERR_QUERY_BAD_VALUE', 'SLUICE_ERR_QUERY_LIMIT_EXCEEDED', 'SLUICE_ERR_QUERY_UNSUPPORTED'])

async function answerInfluxql(options: HttpApiOptions, influxql: InfluxqlFunction, databaseList: DatabaseListCache, reply: FastifyReply, q: string, query: Record<string, unknown>, access: Access): Promise<FastifyReply> {
  const parameter = (name: string): string | null => queryString(query, name) || null
  let body: string
  try {
    body = await influxql(q, {
      tenant: access.tenant,
      database: parameter('db'),
      epoch: parameter('epoch'),
      databases: () => visibleDatabases(options, access),
      hasDatabase: async (name) => (mayAccess(access, name, 'read') || mayAccess(access, name, 'write')) && await databaseList.has(access.tenant, name),
      createDatabase: async (name) => {
        options.authorizer.authorize(access, name, 'write')
        await options.catalog.createDatabase(access.tenant, name)
      },
      authorizeRead: (database) => options.authorizer.authorize(access, database, 'read'),
    })
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    if (error instanceof Error && typeof code === 'string' && INFLUXQL_REFUSALS.has(code)) {
      throw new HttpApiError(HttpErrorCode.QUERY, error.message, { headers: { 'X-Sluice-Query-Error-Code': code } })
    }
    throw error
  }
  return reply.code(200).type('application/json').send(body)
}
