// SHOW MEASUREMENTS, TAG KEYS, TAG VALUES, FIELD KEYS, SERIES and RETENTION POLICIES over the
// series of one database, in InfluxDB 1.x's shapes: one answer series per measurement (named after
// it), rows sorted. WHERE filters series by tags, as in SELECT.

import { FIELD_TYPE_NAMES, type PartitionStore, type SeriesListing } from '../../sinks/index.ts'
import type { KeyMatch, ShowCommon, Source, Statement } from './ast.ts'
import { analyzeWhere, type TagLookup } from './condition.ts'
import type { OutputSeries } from './select.ts'

type ShowStatement = Extract<Statement, ShowCommon>

function lookupOf(series: SeriesListing): TagLookup {
  return (key) => series.tags.find((t) => t.key === key)?.value ?? ''
}

function matches(match: KeyMatch, value: string): boolean {
  const hit = match.op === 'in' ? match.keys.includes(value) : match.regex.test(value)
  return hit !== match.negate
}

function sourceMatches(sources: Source[], measurement: string): boolean {
  if (sources.length === 0) return true
  return sources.some((s) => (s.regex ? s.regex.test(measurement) : s.name === measurement))
}

/** Every visible series of the database matching the statement's sources and WHERE, by measurement. */
function seriesByMeasurement(statement: ShowStatement, stores: PartitionStore[], tenant: string, database: string, nowNs: bigint): Map<string, SeriesListing[]> {
  const out = new Map<string, SeriesListing[]>()
  const all: SeriesListing[] = []
  for (const store of stores) all.push(...store.listSeries({ tenant, database }))
  for (const series of all) {
    if (!sourceMatches(statement.sources, series.measurement)) continue
    if (statement.condition !== null) {
      const isField = (name: string): boolean => series.fields.some((f) => f.name === name) && !series.tags.some((t) => t.key === name)
      const where = analyzeWhere(statement.condition, nowNs, isField)
      if (where.predicate !== null && !where.predicate(lookupOf(series))) continue
    }
    const list = out.get(series.measurement) ?? []
    list.push(series)
    out.set(series.measurement, list)
  }
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function cut<T>(rows: T[], statement: ShowCommon): T[] {
  return rows.slice(statement.offset, statement.limit > 0 ? statement.offset + statement.limit : undefined)
}

function sortedRows(rows: string[][]): string[][] {
  return rows.sort((a, b) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1
    return 0
  })
}

export function executeShow(statement: ShowStatement, stores: PartitionStore[], tenant: string, database: string, nowNs: bigint): OutputSeries[] {
  const byMeasurement = seriesByMeasurement(statement, stores, tenant, database, nowNs)
  const perMeasurement = (columns: string[], rowsOf: (series: SeriesListing[]) => string[][]): OutputSeries[] => {
    const out: OutputSeries[] = []
    for (const [name, series] of byMeasurement) {
      const rows = cut(sortedRows(rowsOf(series)), statement)
      if (rows.length > 0) out.push({ name, tags: null, columns, values: rows })
    }
    return out
  }
  switch (statement.kind) {
    case 'show-measurements': {
      const names = [...byMeasurement.keys()].filter((m) => statement.measurement === null || matches(statement.measurement, m))
      const rows = cut(names.map((m) => [m]), statement)
      return rows.length === 0 ? [] : [{ name: 'measurements', tags: null, columns: ['name'], values: rows }]
    }
    case 'show-tag-keys':
      return perMeasurement(['tagKey'], (series) => [...new Set(series.flatMap((s) => s.tags.map((t) => t.key)))].map((k) => [k]))
    case 'show-tag-values':
      return perMeasurement(['key', 'value'], (series) => {
        const pairs = new Set<string>()
        for (const s of series) for (const tag of s.tags) if (matches(statement.key, tag.key)) pairs.add(JSON.stringify([tag.key, tag.value]))
        return [...pairs].map((p) => JSON.parse(p) as string[])
      })
    case 'show-field-keys':
      return perMeasurement(['fieldKey', 'fieldType'], (series) => {
        const fields = new Map<string, string>()
        for (const s of series) for (const field of s.fields) if (!fields.has(field.name)) fields.set(field.name, FIELD_TYPE_NAMES[field.type])
        return [...fields].map(([name, type]) => [name, type])
      })
    case 'show-series': {
      const keys = [...byMeasurement.values()].flat().map((s) => [[s.measurement, ...[...s.tags].sort((a, b) => (a.key < b.key ? -1 : 1)).map((t) => `${t.key}=${t.value}`)].join(',')])
      const rows = cut(sortedRows(keys), statement)
      return rows.length === 0 ? [] : [{ name: '', tags: null, columns: ['key'], values: rows }]
    }
  }
}
