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
  // The table is drawn from CSV: it names the columns even without rows, and keeps 64-bit integers digit for digit.
  const headers: Record<string, string> = { 'Content-Type': 'text/plain', Accept: format === 'json' ? 'application/json' : 'text/csv' }
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
  const [names = [], ...rows] = parseCsv(text)
  io.stdout(renderTable(names, rows))
  return 0
}

/** RFC 4180 CSV as the node writes it: fields quoted when they hold , " or a line break. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++ } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') quoted = true
    else if (c === ',') { row.push(field); field = '' } else if (c === '\n') { row.push(field); rows.push(row); row = []; field = '' } else if (c !== '\r') field += c
  }
  if (field !== '' || row.length > 0) { row.push(field); rows.push(row) }
  return rows
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

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/

/**
 * An aligned table: the column names, a rule, one line per row (a column whose values are all
 * numbers right-aligned), and the row count. A missing value prints empty, as in the CSV.
 */
export function renderTable(names: string[], rows: string[][]): string {
  const cells = rows.map((row) => names.map((_, c) => (row[c] ?? '').replace(/[\r\n\t]/g, ' ')))
  const numeric = names.map((_, c) => cells.some((line) => line[c] !== '') && cells.every((line) => line[c] === '' || NUMBER.test(line[c]!)))
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

/** Display width in code points (no East Asian width table: close enough for an aligned terminal table). */
function width(text: string): number {
  return [...text].length
}
