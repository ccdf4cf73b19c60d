// How /api/v1/sql answers a query: the query layer's columns and rows rendered as CnosDB's JSON
// (an array of objects, one per row, keys in column order) or as CSV (a header line, then rows)
// by Accept. Times are RFC 3339 in UTC with the nanoseconds kept; 64-bit integers are written as
// exact JSON numbers. The route depends on this shape only, not on the query layer (layering).

/** A value of a result row: time and 64-bit integers as bigint, floats as number, null when missing. */
export type QueryValue = bigint | number | boolean | string | null

export interface QueryAnswer {
  columns: ReadonlyArray<{ name: string; type: string }>
  rows: ReadonlyArray<ReadonlyArray<QueryValue>>
}

/** Runs a statement that is not a command (SELECT, SHOW TABLES, DESCRIBE) for a tenant and database. */
export type QueryFunction = (sql: string, context: { tenant: string; database: string }) => Promise<QueryAnswer>

export const ResultFormat = { JSON: 'json', CSV: 'csv' } as const
export type ResultFormatValue = (typeof ResultFormat)[keyof typeof ResultFormat]

/** CSV when the client asks for text/csv (before any JSON type); JSON otherwise, also for * / *. */
export function resultFormat(accept: string | undefined): ResultFormatValue {
  if (!accept) return ResultFormat.JSON
  for (const part of accept.split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase()
    if (type === 'text/csv') return ResultFormat.CSV
    if (type === 'application/json') return ResultFormat.JSON
  }
  return ResultFormat.JSON
}

/** RFC 3339 UTC; the fraction keeps the digits it needs, up to nanoseconds. */
export function formatTimeNs(timeNs: bigint): string {
  let seconds = timeNs / 1_000_000_000n
  let nanos = timeNs % 1_000_000_000n
  if (nanos < 0n) { nanos += 1_000_000_000n; seconds -= 1n }
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19)
  if (nanos === 0n) return `${base}Z`
  return `${base}.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}Z`
}

function jsonValue(value: QueryValue, type: string): string {
  if (value === null) return 'null'
  if (typeof value === 'bigint') return type === 'timestamp' ? `"${formatTimeNs(value)}"` : value.toString()
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
  return JSON.stringify(value)
}

export function renderJson(answer: QueryAnswer): string {
  const keys = answer.columns.map((c) => JSON.stringify(c.name) + ':')
  const types = answer.columns.map((c) => c.type)
  const rows: string[] = []
  for (const row of answer.rows) {
    let text = '{'
    for (let i = 0; i < keys.length; i++) text += (i > 0 ? ',' : '') + keys[i] + jsonValue(row[i] ?? null, types[i]!)
    rows.push(text + '}')
  }
  return '[' + rows.join(',') + ']'
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

function csvValue(value: QueryValue, type: string): string {
  if (value === null) return ''
  if (typeof value === 'bigint') return type === 'timestamp' ? formatTimeNs(value) : value.toString()
  return csvField(String(value))
}

export function renderCsv(answer: QueryAnswer): string {
  const types = answer.columns.map((c) => c.type)
  let text = answer.columns.map((c) => csvField(c.name)).join(',') + '\n'
  for (const row of answer.rows) text += row.map((v, i) => csvValue(v, types[i]!)).join(',') + '\n'
  return text
}
