// Query results (rows as objects, keys in column order, as POST /api/v1/sql answers JSON) as a
// table and as time series: the time column on x; each numeric column a series, split by the
// values of the string (tag) columns.

import { h, table } from './dom.js'
import { parseTime } from './format.js'

const MAX_SERIES = 12
const MAX_TABLE_ROWS = 2000

export function columnsOf(rows) {
  const columns = []
  const seen = new Set()
  for (const row of rows) for (const key of Object.keys(row)) if (!seen.has(key)) { seen.add(key); columns.push(key) }
  return columns
}

function cellText(value) {
  if (value === null || value === undefined) return ''
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

export function resultTable(rows, attributes = {}) {
  const columns = columnsOf(rows)
  const shown = rows.slice(0, MAX_TABLE_ROWS)
  const numeric = new Set(columns.filter(c => rows.every(r => r[c] === null || r[c] === undefined || typeof r[c] === 'number')))
  return h('div', {},
    table(columns.map(c => ({ label: c, num: numeric.has(c) })), shown.map(row => columns.map(c => cellText(row[c]))), attributes),
    rows.length > shown.length ? h('p', { class: 'muted' }, `the first ${shown.length} of ${rows.length} rows are shown`) : null)
}

/** The series to chart, or { reason } why the rows are no time series. */
export function timeSeries(rows) {
  const columns = columnsOf(rows)
  const isTime = column => rows.some(r => r[column] !== null && r[column] !== undefined) &&
    rows.every(r => r[column] === null || r[column] === undefined || !Number.isNaN(parseTime(r[column])))
  const timeColumn = columns.includes('time') && isTime('time') ? 'time' : columns.find(isTime)
  if (timeColumn === undefined) return { reason: 'no time column to chart (select time, or a time bucket such as date_bin)' }
  const numeric = columns.filter(c => c !== timeColumn && rows.some(r => typeof r[c] === 'number') && rows.every(r => r[c] === null || r[c] === undefined || typeof r[c] === 'number'))
  if (numeric.length === 0) return { reason: 'no numeric column to chart' }
  const groups = columns.filter(c => c !== timeColumn && !numeric.includes(c) && rows.every(r => r[c] === null || r[c] === undefined || typeof r[c] === 'string'))
  const series = new Map()
  for (const row of rows) {
    const t = parseTime(row[timeColumn])
    const group = groups.map(g => `${g}=${row[g] ?? ''}`).join(',')
    for (const column of numeric) {
      const name = group ? `${column} {${group}}` : column
      let points = series.get(name)
      if (!points) {
        if (series.size >= MAX_SERIES) continue
        points = []
        series.set(name, points)
      }
      points.push([t, row[column] ?? null])
    }
  }
  return { timeColumn, series: [...series].map(([name, points]) => ({ name, points })), truncated: series.size >= MAX_SERIES }
}
