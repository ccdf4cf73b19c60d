// `sluice sql "SELECT ..."`: a small client of POST /api/v1/sql. It prints the answer as an
// aligned table (default), CSV or JSON, and exits 1 with the server's message on an error.
//
//   npx sluice sql "SELECT host, max(usage) FROM cpu GROUP BY host" --db metrics
//   host  max(usage)
//   ----  ----------
//   h1    1.5
//   h2    2.5
//   (2 rows)

import { parseArgs } from 'node:util'
import { UsageError } from './errors.ts'

export const SQL_FORMATS = ['table', 'csv', 'json'] as const
type SqlFormat = (typeof SQL_FORMATS)[number]

export interface SqlIo {
  stdout: (text: string) => void
  stderr: (text: string) => void
}

const defaultIo: SqlIo = { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) }

/** Runs one statement; resolves to the exit code (0, or 1 when the node refused it or could not be reached). */
export async function runSql(args: string[], env: NodeJS.ProcessEnv = process.env, io: SqlIo = defaultIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      node: { type: 'string', default: 'http://127.0.0.1:8086' },
      db: { type: 'string', default: 'public' },
      tenant: { type: 'string' },
      format: { type: 'string', default: 'table' },
      token: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length !== 1) throw new UsageError('sql takes one statement in quotes, e.g. sluice sql "SHOW TABLES" --db metrics')
  const format = values.format as SqlFormat
  if (!SQL_FORMATS.includes(format)) throw new UsageError(`--format must be ${SQL_FORMATS.join(', ')}, not "${values.format}"`)
  const url = new URL('/api/v1/sql', values.node)
  url.searchParams.set('db', values.db)
  if (values.tenant) url.searchParams.set('tenant', values.tenant)
  const token = values.token ?? env.SLUICE_TOKEN
  const headers: Record<string, string> = { 'Content-Type': 'text/plain', Accept: format === 'csv' ? 'text/csv' : 'application/json' }
  if (token) headers.Authorization = `Token ${token}`
  let response: Response
  try {
    response = await fetch(url, { method: 'POST', headers, body: positionals[0]! })
  } catch (error) {
    io.stderr(`sluice sql: cannot reach ${values.node}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}\n`)
    return 1
  }
  const text = await response.text()
  if (!response.ok) {
    io.stderr(`sluice sql: ${response.status} ${errorMessage(text)}\n`)
    return 1
  }
  if (format !== 'table') {
    io.stdout(text.endsWith('\n') ? text : text + '\n')
    return 0
  }
  const answer = JSON.parse(text) as unknown
  io.stdout(Array.isArray(answer) ? renderTable(answer as Record<string, unknown>[]) : JSON.stringify(answer, null, 2) + '\n')
  return 0
}

/** The server's error_message (with line and column when it has them), else the body as it came. */
function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error_code?: string; error_message?: string; error?: string }
    return parsed.error_message ?? parsed.error ?? body
  } catch {
    return body
  }
}

/**
 * Rows as an aligned table: a header of column names (from the first row's keys, which every row
 * shares), a rule, one line per row with numbers right-aligned, and the row count. Nulls print as
 * NULL, so they differ from an empty string.
 */
export function renderTable(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(0 rows)\n'
  const names = Object.keys(rows[0]!)
  const cells = rows.map((row) => names.map((name) => cellText(row[name])))
  const numeric = names.map((name) => rows.every((row) => row[name] === null || typeof row[name] === 'number'))
  const widths = names.map((name, c) => Math.max(width(name), ...cells.map((line) => width(line[c]!))))
  const pad = (text: string, c: number): string => {
    const fill = ' '.repeat(widths[c]! - width(text))
    return numeric[c] ? fill + text : text + fill
  }
  const line = (texts: string[]): string => texts.map(pad).join('  ').trimEnd() + '\n'
  let out = line(names) + line(widths.map((w) => '-'.repeat(w)))
  for (const row of cells) out += line(row)
  return out + `(${rows.length} row${rows.length === 1 ? '' : 's'})\n`
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'string') return value.replace(/[\r\n\t]/g, ' ')
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/** Display width in code points (no East Asian width table: close enough for an aligned terminal table). */
function width(text: string): number {
  return [...text].length
}
