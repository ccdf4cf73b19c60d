// How /api/v1/sql answers a query: the query layer's columns and rows rendered as CnosDB's JSON
// (an array of objects, one per row, keys in column order), as CSV (a header line, then rows) or
// as NDJSON (one object per line) by Accept. A large answer is rendered and written in chunks of
// rows (renderChunks), so the reply never holds its whole text at once. Times are RFC 3339 in UTC with the nanoseconds kept; 64-bit integers are written as
// exact JSON numbers. The route depends on this shape only, not on the query layer (layering).

import { formatTimestamp } from '../../lib/time/rfc3339.ts'

/** A value of a result row: time and 64-bit integers as bigint, floats as number, null when missing. */
export type QueryValue = bigint | number | boolean | string | null

export interface QueryAnswer {
  columns: ReadonlyArray<{ name: string; type: string }>
  rows: ReadonlyArray<ReadonlyArray<QueryValue>>
}

/**
 * Runs a statement that is not a command (SELECT, SHOW, DESCRIBE, EXPLAIN) for a tenant and
 * database. `visible` says which databases the caller may see (SHOW DATABASES lists only those).
 */
export type QueryFunction = (sql: string, context: { tenant: string; database: string }, caller?: { visible: (database: string) => boolean }) => Promise<QueryAnswer>

export const ResultFormat = { JSON: 'json', CSV: 'csv', NDJSON: 'ndjson' } as const
export type ResultFormatValue = (typeof ResultFormat)[keyof typeof ResultFormat]

/** The content type of each format. */
export const RESULT_CONTENT_TYPES: Readonly<Record<ResultFormatValue, string>> = {
  json: 'application/json; charset=utf-8', csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8',
}

/** CSV for text/csv, NDJSON for application/x-ndjson (the first such type named wins); JSON otherwise, also for * / *. */
export function resultFormat(accept: string | undefined): ResultFormatValue {
  if (!accept) return ResultFormat.JSON
  for (const part of accept.split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase()
    if (type === 'text/csv') return ResultFormat.CSV
    if (type === 'application/x-ndjson' || type === 'application/jsonlines' || type === 'application/jsonl') return ResultFormat.NDJSON
    if (type === 'application/json') return ResultFormat.JSON
  }
  return ResultFormat.JSON
}

export function renderJson(answer: QueryAnswer): string {
  return renderJsonBytes(answer).toString('utf8')
}

/**
 * renderJson's text as UTF-8. Rows are joined as strings (V8 joins the pieces without copying
 * them) and written into one growing buffer about half a kilobyte at a time: writing each value
 * with Buffer#write took twice as long on 300 rows of floats, and encoding the whole answer as one
 * string of thousands of pieces spent most of its time flattening them (`npm run bench:sql-render`).
 */
export function renderJsonBytes(answer: QueryAnswer): Buffer {
  return jsonRowBytes(answer, 0, answer.rows.length, '[', ',', ']')
}

/**
 * Rows [start, end) as JSON objects between `open` and `close`, `separator` between rows, in
 * UTF-8. Repeated string values (a group's tag) are escaped once, repeated times (a bucket's)
 * formatted once.
 */
function jsonRowBytes(answer: QueryAnswer, start: number, end: number, open: string, separator: string, close: string): Buffer {
  const keys = answer.columns.map((c, i) => (i === 0 ? '{' : ',') + JSON.stringify(c.name) + ':')
  const timestamps = answer.columns.map((c) => c.type === 'timestamp')
  const width = keys.length
  const escaped = new Map<string, string>()
  const times = new Map<bigint, string>()
  const sink = new Utf8Sink()
  let sized = false
  let text = open
  for (let r = start; r < end; r++) {
    const row = answer.rows[r]!
    if (text.length >= SINK_PIECE_CHARS) {
      sink.write(text)
      text = ''
      // The first rows say how large the rest will be: one buffer of about that size, not a doubling per step.
      if (!sized) { sink.reserve(Math.ceil((sink.size() / (r - start)) * (end - start) * 1.05) + 16); sized = true }
    }
    if (r > start) text += separator
    for (let i = 0; i < width; i++) {
      text += keys[i]!
      const value = row[i] ?? null
      if (typeof value === 'number') text += Number.isFinite(value) ? String(value) : 'null'
      else if (typeof value === 'bigint' && timestamps[i]) {
        let time = times.get(value)
        if (time === undefined) { time = `"${formatTimestamp(value)}"`; if (times.size < 4096) times.set(value, time) }
        text += time
      } else if (typeof value === 'bigint') text += value.toString()
      else if (typeof value === 'string') {
        let quoted = escaped.get(value)
        if (quoted === undefined) { quoted = JSON.stringify(value); if (escaped.size < 4096) escaped.set(value, quoted) }
        text += quoted
      } else if (value === null) text += 'null'
      else text += value ? 'true' : 'false'
    }
    text += '}'
  }
  // An answer of one piece (a count, a few rows) is encoded as it is: Buffer.from takes small ones
  // from Node's shared pool, where the sink would allocate a buffer of its own for every request.
  if (sink.size() === 0) return Buffer.from(text + close, 'utf8')
  sink.write(text + close)
  return sink.bytes()
}

/** Characters of row text gathered before they are written into the answer's buffer. */
const SINK_PIECE_CHARS = 512

/** The sink's first buffer, allocated at its first write (not for answers of one piece). */
const FIRST_SINK_BYTES = 4096
const NO_BYTES = Buffer.alloc(0)

/** Text written as UTF-8 into one buffer that doubles when the next piece might not fit. */
class Utf8Sink {
  private buffer = NO_BYTES
  private length = 0

  write(text: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8 (a surrogate pair, two units, is 4).
    const needed = this.length + 3 * text.length
    if (needed > this.buffer.length) this.reserve(Math.max(needed, 2 * this.buffer.length, FIRST_SINK_BYTES))
    this.length += this.buffer.write(text, this.length, 'utf8')
  }

  /** Room for `bytes` in all, in one buffer. */
  reserve(bytes: number): void {
    if (bytes <= this.buffer.length) return
    const grown = Buffer.allocUnsafe(bytes)
    this.buffer.copy(grown, 0, 0, this.length)
    this.buffer = grown
  }

  size(): number {
    return this.length
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.length)
  }
}

/** NDJSON: one JSON object per row, each line ended by \n; no rows, no bytes. */
export function renderNdjson(answer: QueryAnswer): Buffer {
  return answer.rows.length === 0 ? Buffer.alloc(0) : jsonRowBytes(answer, 0, answer.rows.length, '', '\n', '\n')
}

/** Rows per chunk of a streamed answer. */
export const STREAM_CHUNK_ROWS = 10_000

/**
 * The answer's text in the chunks a reply writes one after another (JSON: `[`, rows, `]`; CSV:
 * the header, then rows; NDJSON: rows), `chunkRows` rows at a time: what renderJson, renderCsv
 * and renderNdjson give at once, without building the whole text.
 */
export function* renderChunks(answer: QueryAnswer, format: ResultFormatValue, chunkRows = STREAM_CHUNK_ROWS): Generator<string | Buffer> {
  const total = answer.rows.length
  if (format === ResultFormat.CSV) yield answer.columns.map((c) => csvField(c.name)).join(',') + '\n'
  if (format === ResultFormat.JSON && total === 0) { yield '[]'; return }
  for (let start = 0; start < total; start += chunkRows) {
    const end = Math.min(total, start + chunkRows)
    if (format === ResultFormat.CSV) {
      const types = answer.columns.map((c) => c.type)
      let text = ''
      for (let r = start; r < end; r++) text += answer.rows[r]!.map((v, i) => csvValue(v, types[i]!)).join(',') + '\n'
      yield text
      continue
    }
    if (format === ResultFormat.NDJSON) yield jsonRowBytes(answer, start, end, '', '\n', '\n')
    else yield jsonRowBytes(answer, start, end, start === 0 ? '[' : ',', ',', end === total ? ']' : '')
  }
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

function csvValue(value: QueryValue, type: string): string {
  if (value === null) return ''
  if (typeof value === 'bigint') return type === 'timestamp' ? formatTimestamp(value) : value.toString()
  return csvField(String(value))
}

export function renderCsv(answer: QueryAnswer): string {
  const types = answer.columns.map((c) => c.type)
  let text = answer.columns.map((c) => csvField(c.name)).join(',') + '\n'
  for (const row of answer.rows) text += row.map((v, i) => csvValue(v, types[i]!)).join(',') + '\n'
  return text
}
