// POST|GET /query: the sliver of InfluxDB 1.x's query endpoint that writers need. Telegraf's v1 output
// sends `CREATE DATABASE "telegraf"` at start-up and after a "database not found" answer, and the
// influx CLI sends the DDL section of an import file here. Supported: CREATE DATABASE <name> [WITH ...]
// (the WITH clause is accepted and ignored) and SHOW DATABASES. Anything else is answered 400, like
// InfluxDB answers a statement it cannot parse; queries go to SQL (POST /api/v1/sql) instead.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { mayAccess, parseCredentials } from './auth.ts'
import { queryString, sendError, type HttpApiOptions } from './context.ts'
import { Dialect, HttpApiError, HttpErrorCode } from './errors.ts'

export type Statement =
  | { kind: 'create-database'; database: string }
  | { kind: 'show-databases' }

/** Longest `q` accepted: DDL is short; this is not a query engine. */
const MAX_QUERY_CHARS = 65_536

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
  const handler = (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => handleQuery(options, request, reply)
  const schema = { querystring: { type: 'object', properties: { q: { type: 'string' }, db: { type: 'string' }, u: { type: 'string' }, p: { type: 'string' } } } }
  app.get('/query', { config: { dialect: Dialect.INFLUX1 }, schema }, handler)
  app.post('/query', { config: { dialect: Dialect.INFLUX1 }, schema }, handler)
}

async function handleQuery(options: HttpApiOptions, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  try {
    const form = formParameters(request.body)
    const q = queryString(request.query, 'q') ?? form.get('q') ?? ''
    const query = { ...Object.fromEntries(form), ...(request.query as Record<string, unknown>) }
    const access = options.authorizer.authenticate(parseCredentials(query, request.headers.authorization), undefined, Dialect.INFLUX1)
    const statements = parseStatements(q)
    const results = []
    for (let id = 0; id < statements.length; id++) {
      const statement = statements[id]!
      if (statement.kind === 'create-database') {
        options.authorizer.authorize(access, statement.database, 'write')
        await options.catalog.createDatabase(access.tenant, statement.database)
        results.push({ statement_id: id })
      } else {
        const visible = (await options.catalog.listDatabases(access.tenant)).filter(database => mayAccess(access, database, 'read') || mayAccess(access, database, 'write'))
        results.push({ statement_id: id, series: [{ name: 'databases', columns: ['name'], values: visible.map(name => [name]) }] })
      }
    }
    return reply.code(200).send({ results })
  } catch (error) {
    return sendError(request, reply, error, options.limits.retryAfterSeconds)
  }
}
