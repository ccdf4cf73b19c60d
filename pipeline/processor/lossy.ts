// Lossy compression in the master: one filter per (tenant, database, series, field) from
// pipeline/transforms, fed the points of each ingest batch in log order. A batch's points come out
// with the fields the filters dropped removed; a point a filter held back and later decides to keep
// (swinging door) comes out as an extra point at its own, earlier time, holding just that field,
// before the point that released it (an upsert at that time, merged per field by the replicas).
//
// Decisions depend only on the points and their order in the log, never on the wall clock, so a
// master that takes a partition over (restoring the filters from sluice.state) decides exactly as
// the previous one would have: a held point stays held until a later point of its series decides.

import {
  compressorStateType, decode, encodeFramed, unframe,
  type CompressorState, type Field, type FieldValue, type IngestBatch, type Point,
} from '../../schemas/index.ts'
import {
  createFilter, CompressionReport, Decision, fieldValueLike, isCompressible, numberOf, resolveCompression,
  type CompressionConfig, type CompressionReportRow, type CompressionSettings, type FilterCounters, type LossyFilter,
} from '../transforms/index.ts'
import type { SeriesCompression, StateRecord } from './compression.ts'

interface FieldFilter {
  /** Its sluice.state key (stateKey). */
  key: string
  filter: LossyFilter<FieldValue>
  tenant: string
  database: string
  measurement: string
  seriesKey: string
  field: string
}

/** The sluice.state key of a (tenant, database, series, field): fixed JSON, compaction compares bytes. */
export function stateKey(tenant: string, database: string, seriesKey: string, field: string): string {
  return JSON.stringify([tenant, database, seriesKey, field])
}

/** The measurement of a canonical series key: up to the first unescaped comma, unescaped. */
export function measurementOfSeriesKey(seriesKey: string): string {
  let measurement = ''
  for (let i = 0; i < seriesKey.length; i++) {
    const char = seriesKey[i]!
    if (char === '\\' && i + 1 < seriesKey.length && (seriesKey[i + 1] === ',' || seriesKey[i + 1] === ' ')) {
      measurement += seriesKey[++i]
      continue
    }
    if (char === ',') break
    measurement += char
  }
  return measurement
}

export interface LossyCompressionOptions {
  config: CompressionConfig
  /** Registry id of sluice.state-value. */
  stateSchemaId: number
}

export class LossyCompression implements SeriesCompression {
  readonly enabled: boolean
  /** Filters by series (JSON of tenant, database, series key), then by field. */
  private readonly series = new Map<string, Map<string, FieldFilter>>()
  /** Settings by database and measurement, then by field. */
  private readonly settings = new Map<string, Map<string, CompressionSettings>>()
  private readonly changed = new Set<FieldFilter>()
  /** Held points a restored state released (its settings changed), per series, written with the series' next batch. */
  private readonly released = new Map<string, Point[]>()

  constructor(private readonly options: LossyCompressionOptions) {
    this.enabled = options.config.databases.size > 0
  }

  apply(batch: IngestBatch): Point[] {
    if (!this.options.config.databases.has(batch.database)) return batch.points
    const seriesId = JSON.stringify([batch.tenant, batch.database, batch.seriesKey])
    const out: Point[] = this.released.get(seriesId) ?? []
    this.released.delete(seriesId)
    let filters = this.series.get(seriesId)
    if (!filters) this.series.set(seriesId, filters = new Map())
    const settings = this.settingsOf(batch.database, batch.measurement)
    for (const point of batch.points) {
      const kept: Field[] = []
      let released: Map<bigint, Field[]> | undefined
      for (const field of point.fields) {
        let entry = filters.get(field.name)
        if (!entry) {
          const fieldSettings = settings.get(field.name) ?? this.resolve(settings, batch.database, batch.measurement, field.name)
          if (fieldSettings.algorithm === 'off' || !isCompressible(field.value)) {
            kept.push(field)
            continue
          }
          entry = this.newFilter(batch.tenant, batch.database, batch.measurement, batch.seriesKey, field.name, fieldSettings)
          filters.set(field.name, entry)
        } else if (!isCompressible(field.value)) {
          kept.push(field)
          continue
        }
        const decision = entry.filter.offer(point.timeNs, numberOf(field.value), field.value)
        this.changed.add(entry)
        if (decision & Decision.EMIT_HELD) {
          const at = entry.filter.emittedTimeNs
          const raw = entry.filter.emittedRaw ?? fieldValueLike(entry.filter.emittedValue, field.value)
          released ??= new Map()
          const fields = released.get(at) ?? []
          fields.push({ name: field.name, value: raw })
          released.set(at, fields)
        }
        if (decision & Decision.KEEP) kept.push(field)
      }
      if (released) for (const [timeNs, fields] of released) out.push({ timeNs, fields })
      if (kept.length > 0) out.push(kept.length === point.fields.length ? point : { timeNs: point.timeNs, fields: kept })
    }
    return out
  }

  takeChanges(): StateRecord[] {
    const records: StateRecord[] = []
    for (const entry of this.changed) {
      const key = entry.key
      const state = entry.filter.toState({ tenant: entry.tenant, database: entry.database, seriesKey: entry.seriesKey, field: entry.field })
      if (state) records.push({ key, value: encodeFramed(compressorStateType, this.options.stateSchemaId, state) })
    }
    this.changed.clear()
    return records
  }

  restore(key: Buffer, value: Buffer | null): void {
    const text = key.toString('utf8')
    if (value === null) {
      const [tenant, database, seriesKey, field] = JSON.parse(text) as string[]
      this.series.get(JSON.stringify([tenant, database, seriesKey]))?.delete(field!)
      return
    }
    const state: CompressorState = decode(compressorStateType, unframe(value).payload)
    const measurement = measurementOfSeriesKey(state.seriesKey)
    const perField = this.settingsOf(state.database, measurement)
    const settings = perField.get(state.field) ?? this.resolve(perField, state.database, measurement, state.field)
    const entry = this.newFilter(state.tenant, state.database, measurement, state.seriesKey, state.field, settings)
    // A state written under other settings releases its held point, written with the series' next
    // batch. Its raw value did not travel in the state: it is written as a float.
    const seriesId = JSON.stringify([state.tenant, state.database, state.seriesKey])
    if (entry.filter.restore(state) & Decision.EMIT_HELD) {
      const points = this.released.get(seriesId) ?? []
      points.push({ timeNs: entry.filter.emittedTimeNs, fields: [{ name: state.field, value: entry.filter.emittedValue }] })
      this.released.set(seriesId, points)
    }
    let filters = this.series.get(seriesId)
    if (!filters) this.series.set(seriesId, filters = new Map())
    filters.set(state.field, entry)
  }

  /** Points in, kept and the largest error, per database, measurement and field, over this partition's filters. */
  report(): CompressionReportRow[] {
    const report = new CompressionReport()
    for (const filter of this.filters()) report.add(filter.database, filter.measurement, filter.field, filter.counters)
    return report.rows()
  }

  /** Every (series, field) filter with its counters, for reports that span partitions. */
  *filters(): Iterable<{ tenant: string; database: string; measurement: string; field: string; counters: FilterCounters }> {
    for (const filters of this.series.values()) for (const entry of filters.values()) yield { tenant: entry.tenant, database: entry.database, measurement: entry.measurement, field: entry.field, counters: entry.filter }
  }

  /** Settings already resolved for fields of (database, measurement). */
  private settingsOf(database: string, measurement: string): Map<string, CompressionSettings> {
    const key = `${database}\u0000${measurement}`
    let settings = this.settings.get(key)
    if (!settings) this.settings.set(key, settings = new Map())
    return settings
  }

  private resolve(settings: Map<string, CompressionSettings>, database: string, measurement: string, field: string): CompressionSettings {
    const resolved = resolveCompression(this.options.config, database, measurement, field)
    settings.set(field, resolved)
    return resolved
  }

  private newFilter(tenant: string, database: string, measurement: string, seriesKey: string, field: string, settings: CompressionSettings): FieldFilter {
    return { key: stateKey(tenant, database, seriesKey, field), filter: createFilter<FieldValue>(settings), tenant, database, measurement, seriesKey, field }
  }
}
