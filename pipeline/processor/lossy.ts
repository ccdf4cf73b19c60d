// Lossy compression in the master: one filter per (tenant, database, series, field) from
// pipeline/transforms, fed the points of each ingest batch in log order. A batch's points come out
// with the fields the filters dropped removed; a point a filter held back and later decides to keep
// (swinging door) comes out as an extra point at its own, earlier time, holding just that field,
// before the point that released it (an upsert at that time, merged per field by the replicas).
//
// Decisions depend only on the points and their order in the log, never on the wall clock, so a
// master that takes a partition over (restoring the filters from sluice.state) decides exactly as
// the previous one would have: a held point stays held until a later point of its series decides.
//
// Settings: the config file's are the base; a SET_CODEC command (ALTER TABLE ... CODEC, through the
// log) overrides them per (tenant, database, measurement, field) from its log position on. At that
// position every filter of the field is flushed (its held point, if any, is written then, as an
// upsert before the command's changelog entry), and the filter continues under the new settings
// from the last kept point, counters kept: the new band or door applies from the next point.
// CODEC(DEFAULT) drops the field's filters (and their state). The override is stored in
// sluice.state too (key ["codec", tenant, database, measurement, field], value the command's ingest
// record as it came), before the filters' states of that transaction, so a master restoring the
// partition applies it before it restores any filter. A DROP (DROP_DATABASE, DROP_TABLE,
// DROP_FIELDS) deletes the filters and overrides of its scope, here and in sluice.state: a field
// written again starts afresh, its first point kept, never measured against a point the DROP deleted.

import {
  compressorStateType, decode, decodeIngestRecord, encodeFramed, unframe,
  type CompressorState, type Field, type FieldValue, type IngestBatch, type IngestCommand, type Point, type SeriesUpsert, type Tag,
} from '../../schemas/index.ts'
import {
  createFilter, CompressionReport, Decision, fieldValueLike, isCompressible, numberOf, parseCodecSpec, resolveCompression,
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

/** The sluice.state key of a codec override: five elements, where a filter's key has four. */
export function codecKey(tenant: string, database: string, measurement: string, field: string): string {
  return JSON.stringify(['codec', tenant, database, measurement, field])
}

/** The tags of a canonical series key (`m,k=v,...`, `,` `=` and space escaped with a backslash). */
export function tagsOfSeriesKey(seriesKey: string): Tag[] {
  const parts: string[] = []
  let current = ''
  for (let i = 0; i < seriesKey.length; i++) {
    const char = seriesKey[i]!
    if (char === '\\' && i + 1 < seriesKey.length && ',= '.includes(seriesKey[i + 1]!)) {
      current += '\\' + seriesKey[++i]
      continue
    }
    if (char === ',') { parts.push(current); current = ''; continue }
    current += char
  }
  parts.push(current)
  const unescape = (text: string): string => text.replace(/\\([,= ])/g, '$1')
  return parts.slice(1).map(part => {
    const equals = part.search(/(?<!\\)=/)
    return { key: unescape(part.slice(0, equals)), value: unescape(part.slice(equals + 1)) }
  })
}

/** A value of the field's type (as the catalog named it) for rebuilding a held point from its double. */
function sampleOfType(fieldType: string | null): FieldValue {
  return fieldType === 'integer' ? 0n : fieldType === 'unsigned' ? { unsigned: 0n } : 0
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
  /** Filters by series (JSON of tenant, database, series key), then by field. */
  private readonly series = new Map<string, Map<string, FieldFilter>>()
  /** Settings by tenant, database and measurement, then by field. */
  private readonly settings = new Map<string, Map<string, CompressionSettings>>()
  private readonly changed = new Set<FieldFilter>()
  /** Held points a restored state released (its settings changed), per series, written with the series' next batch. */
  private readonly released = new Map<string, Point[]>()
  /** SET_CODEC overrides by codecKey. */
  private readonly overrides = new Map<string, CompressionSettings>()
  /** "tenant\0database" of every override: those databases are looked at even without a config entry. */
  private readonly overriddenDatabases = new Set<string>()
  /** State records to write with the next transaction besides the filters': codec overrides, deleted filters. */
  private readonly pending: StateRecord[] = []

  constructor(private readonly options: LossyCompressionOptions) {}

  /** Whether anything is compressed: a config entry, or any codec override received through the log. */
  get enabled(): boolean {
    return this.options.config.databases.size > 0 || this.overrides.size > 0
  }

  /** The settings a field of a series would get now: its override, else the config file's. */
  codecOf(tenant: string, database: string, measurement: string, field: string): CompressionSettings {
    return this.overrides.get(codecKey(tenant, database, measurement, field)) ?? resolveCompression(this.options.config, database, measurement, field)
  }

  apply(batch: IngestBatch): Point[] {
    if (!this.options.config.databases.has(batch.database) && !this.overriddenDatabases.has(`${batch.tenant}\u0000${batch.database}`)) return batch.points
    const seriesId = JSON.stringify([batch.tenant, batch.database, batch.seriesKey])
    const out: Point[] = this.released.get(seriesId) ?? []
    this.released.delete(seriesId)
    let filters = this.series.get(seriesId)
    if (!filters) this.series.set(seriesId, filters = new Map())
    const settings = this.settingsOf(batch.tenant, batch.database, batch.measurement)
    for (const point of batch.points) {
      const kept: Field[] = []
      let released: Map<bigint, Field[]> | undefined
      for (const field of point.fields) {
        let entry = filters.get(field.name)
        if (!entry) {
          const fieldSettings = settings.get(field.name) ?? this.resolve(settings, batch.tenant, batch.database, batch.measurement, field.name)
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
    const records: StateRecord[] = this.pending.splice(0)
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
    if (text.startsWith('["codec",')) return this.restoreCodec(text, value)
    if (value === null) {
      const [tenant, database, seriesKey, field] = JSON.parse(text) as string[]
      this.series.get(JSON.stringify([tenant, database, seriesKey]))?.delete(field!)
      return
    }
    const state: CompressorState = decode(compressorStateType, unframe(value).payload)
    const measurement = measurementOfSeriesKey(state.seriesKey)
    const perField = this.settingsOf(state.tenant, state.database, measurement)
    const settings = perField.get(state.field) ?? this.resolve(perField, state.tenant, state.database, measurement, state.field)
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

  /**
   * A SET_CODEC at its log position (`record`: the ingest record as it came, kept in sluice.state):
   * the override is set, and every filter of the field in this partition is flushed and continues
   * under the new settings. Returns the held points the flush released, one upsert per series, to
   * be written before the command's changelog entry. Other commands change nothing here. Throws
   * (changing nothing) when a codec does not parse.
   */
  command(command: IngestCommand, record: Buffer): SeriesUpsert[] {
    if (command.kind === 'DROP_DATABASE' || command.kind === 'DROP_TABLE' || command.kind === 'DROP_FIELDS') {
      this.forget(command)
      return []
    }
    if (command.kind !== 'SET_CODEC') return []
    // Every codec parsed before anything changes: a bad one (TransformError) leaves the state as it was.
    const changes = (command.codecs ?? []).map(change => ({ ...change, settings: parseCodecSpec(change.codec) }))
    const flushed = new Map<string, SeriesUpsert>()
    for (const change of changes) {
      const settings = change.settings
      this.setOverride(command.tenant, command.database, command.measurement, change.field, settings)
      this.pending.push({ key: codecKey(command.tenant, command.database, command.measurement, change.field), value: record })
      for (const [seriesId, filters] of this.series) {
        const entry = filters.get(change.field)
        if (!entry || entry.tenant !== command.tenant || entry.database !== command.database || entry.measurement !== command.measurement) continue
        if (entry.filter.flush() & Decision.EMIT_HELD) {
          const value = entry.filter.emittedRaw ?? fieldValueLike(entry.filter.emittedValue, sampleOfType(change.fieldType))
          let upsert = flushed.get(seriesId)
          if (!upsert) {
            upsert = { tenant: entry.tenant, database: entry.database, measurement: entry.measurement, seriesKey: entry.seriesKey, tags: tagsOfSeriesKey(entry.seriesKey), points: [], pointsIn: 0 }
            flushed.set(seriesId, upsert)
          }
          upsert.points.push({ timeNs: entry.filter.emittedTimeNs, fields: [{ name: change.field, value }] })
        }
        this.switchFilter(filters, entry, settings)
      }
    }
    return [...flushed.values()]
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

  /** A flushed filter under new settings: off drops it (and its state), otherwise it continues from its last kept point. */
  private switchFilter(filters: Map<string, FieldFilter>, entry: FieldFilter, settings: CompressionSettings): void {
    this.changed.delete(entry)
    if (settings.algorithm === 'off') {
      filters.delete(entry.field)
      this.pending.push({ key: entry.key, value: null })
      return
    }
    const state = entry.filter.toState({ tenant: entry.tenant, database: entry.database, seriesKey: entry.seriesKey, field: entry.field })
    const next = this.newFilter(entry.tenant, entry.database, entry.measurement, entry.seriesKey, entry.field, settings)
    // After the flush nothing is held: the new filter starts from the last kept point, with the counters.
    if (state) next.filter.restore(state)
    filters.set(entry.field, next)
    this.changed.add(next)
  }

  private setOverride(tenant: string, database: string, measurement: string, field: string, settings: CompressionSettings): void {
    this.overrides.set(codecKey(tenant, database, measurement, field), settings)
    this.overriddenDatabases.add(`${tenant}\u0000${database}`)
    this.settings.delete(`${tenant}\u0000${database}\u0000${measurement}`)
  }

  /**
   * A DROP at its log position: the filters of its scope (held points included: the DROP deletes
   * them) and its codec overrides are deleted, with a null record for each in sluice.state.
   */
  private forget(command: IngestCommand): void {
    const columns = command.columns ?? []
    const inScope = (tenant: string, database: string, measurement: string, field: string): boolean =>
      tenant === command.tenant && database === command.database && (command.kind === 'DROP_DATABASE' ||
        (measurement === command.measurement && (command.kind === 'DROP_TABLE' || columns.includes(field))))
    for (const [seriesId, filters] of this.series) {
      for (const entry of [...filters.values()]) {
        if (!inScope(entry.tenant, entry.database, entry.measurement, entry.field)) continue
        filters.delete(entry.field)
        this.changed.delete(entry)
        this.pending.push({ key: entry.key, value: null })
      }
      const [tenant, database, seriesKey] = JSON.parse(seriesId) as string[]
      const released = this.released.get(seriesId)
      if (!released) continue
      const measurement = measurementOfSeriesKey(seriesKey!)
      const kept = released.map(point => ({ ...point, fields: point.fields.filter(field => !inScope(tenant!, database!, measurement, field.name)) })).filter(point => point.fields.length > 0)
      if (kept.length > 0) this.released.set(seriesId, kept)
      else this.released.delete(seriesId)
    }
    for (const key of [...this.overrides.keys()]) {
      const [, tenant, database, measurement, field] = JSON.parse(key) as string[]
      if (!inScope(tenant!, database!, measurement!, field!)) continue
      this.overrides.delete(key)
      this.settings.delete(`${tenant}\u0000${database}\u0000${measurement}`)
      this.pending.push({ key, value: null })
    }
  }

  /** A codec override read back from sluice.state: set, no flush (the filters' states after it were written flushed); null: a DROP deleted it. */
  private restoreCodec(key: string, value: Buffer | null): void {
    const [, tenant, database, measurement, field] = JSON.parse(key) as string[]
    if (value === null) {
      this.overrides.delete(key)
      this.settings.delete(`${tenant}\u0000${database}\u0000${measurement}`)
      return
    }
    const command = decodeIngestRecord(unframe(value).payload).command
    const change = command?.codecs?.find(entry => entry.field === field)
    if (!command || !change) return
    this.setOverride(tenant!, database!, measurement!, field!, parseCodecSpec(change.codec))
  }

  /** Settings already resolved for fields of (tenant, database, measurement). */
  private settingsOf(tenant: string, database: string, measurement: string): Map<string, CompressionSettings> {
    const key = `${tenant}\u0000${database}\u0000${measurement}`
    let settings = this.settings.get(key)
    if (!settings) this.settings.set(key, settings = new Map())
    return settings
  }

  private resolve(settings: Map<string, CompressionSettings>, tenant: string, database: string, measurement: string, field: string): CompressionSettings {
    const resolved = this.codecOf(tenant, database, measurement, field)
    settings.set(field, resolved)
    return resolved
  }

  private newFilter(tenant: string, database: string, measurement: string, seriesKey: string, field: string, settings: CompressionSettings): FieldFilter {
    return { key: stateKey(tenant, database, seriesKey, field), filter: createFilter<FieldValue>(settings), tenant, database, measurement, seriesKey, field }
  }
}
