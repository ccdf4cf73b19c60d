// InfluxDB 1.x's JSON answer, written as text so 64-bit integers stay exact: per statement
// {"statement_id":n,"series":[{"name":..,"tags":{..},"columns":[..],"values":[[..]]}]} or
// {"statement_id":n,"error":".."}. Times are RFC 3339 (nanosecond fraction trimmed) or, with
// epoch=ns|u|µ|ms|s|m|h, integers in that unit (truncated).

import { formatTimestamp } from '../../lib/time/rfc3339.ts'
import { QueryError, QueryErrorCode } from '../errors.ts'
import type { Value } from '../result.ts'
import type { OutputSeries } from './select.ts'

const EPOCH_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n, n: 1n, u: 1_000n, µ: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n,
}

/** The epoch parameter as ns per unit, or null for RFC 3339 times. */
export function epochUnit(epoch: string | null | undefined): bigint | null {
  if (epoch === null || epoch === undefined || epoch === '') return null
  const unit = EPOCH_UNITS[epoch]
  if (unit === undefined) throw new QueryError(QueryErrorCode.BAD_VALUE, `epoch=${epoch}: use ns, u, µ, ms, s, m or h`)
  return unit
}

function valueText(value: Value): string {
  if (value === null) return 'null'
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null'
  return JSON.stringify(value)
}

function timeText(timeNs: bigint, unit: bigint | null): string {
  return unit === null ? `"${formatTimestamp(timeNs)}"` : (timeNs / unit).toString()
}

export function renderSeries(series: OutputSeries, unit: bigint | null, timeColumn: boolean): string {
  let text = '{'
  if (series.name !== '') text += `"name":${JSON.stringify(series.name)},`
  if (series.tags !== null) text += `"tags":{${series.tags.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}},`
  text += `"columns":${JSON.stringify(series.columns)},"values":[`
  // Appended piece by piece (V8 joins them without copying): no array or join per row.
  const rows = series.values
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!
    text += r === 0 ? '[' : ',['
    for (let i = 0; i < row.length; i++) {
      if (i > 0) text += ','
      text += i === 0 && timeColumn ? timeText(row[0] as bigint, unit) : valueText(row[i]!)
    }
    text += ']'
  }
  return text + ']}'
}

export type StatementResult =
  /** timeColumn: the first column is a time (SELECT), formatted by epoch. */
  | { series: OutputSeries[]; timeColumn: boolean }
  | { error: string }

export function renderResults(results: StatementResult[], unit: bigint | null): string {
  const parts = results.map((result, id) => {
    if ('error' in result) return `{"statement_id":${id},"error":${JSON.stringify(result.error)}}`
    if (result.series.length === 0) return `{"statement_id":${id}}`
    const series = result.series.map((s) => renderSeries(s, unit, result.timeColumn))
    return `{"statement_id":${id},"series":[${series.join(',')}]}`
  })
  return `{"results":[${parts.join(',')}]}`
}
