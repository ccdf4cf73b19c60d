// Which lossy compression applies to a field: the configuration type (per database, measurement and
// field), its JSON config-file form, and the resolver (field overrides measurement overrides
// database; off when nothing is configured).
//
// Config-file form (each setting is a CODEC spec string or an object):
//   { "databases": { "plant": {
//       "codec": "SDT(0.5, 1s, 10m)",
//       "measurements": { "boiler": {
//           "codec": { "algorithm": "deadband", "band": 2, "maxInterval": "1m" },
//           "fields": { "pressure": "DEADBAND(5%)", "status_code": "DEFAULT" } } } } } }
// Object keys: algorithm ("sdt" | "deadband" | "off"), deviation (sdt), band and relative (deadband),
// minInterval and maxInterval (a duration string such as "1s", or an integer number of nanoseconds).

import { parseCodecSpec, parseDuration } from './codec-clause.ts'
import { TransformError, TransformErrorCode } from './errors.ts'
import { validateSettings, type CompressionSettings } from './settings.ts'

export interface MeasurementCompression {
  /** Applies to every field of the measurement without its own setting. */
  readonly codec?: CompressionSettings
  readonly fields?: ReadonlyMap<string, CompressionSettings>
}

export interface DatabaseCompression {
  /** Applies to every field of the database without a measurement or field setting. */
  readonly codec?: CompressionSettings
  readonly measurements?: ReadonlyMap<string, MeasurementCompression>
}

export interface CompressionConfig {
  readonly databases: ReadonlyMap<string, DatabaseCompression>
}

export const COMPRESSION_OFF: CompressionSettings = Object.freeze({ algorithm: 'off' })

export const EMPTY_COMPRESSION_CONFIG: CompressionConfig = { databases: new Map() }

/** The settings of one field: the field's own, else its measurement's, else its database's, else off. */
export function resolveCompression(config: CompressionConfig, database: string, measurement: string, field: string): CompressionSettings {
  const db = config.databases.get(database)
  const m = db?.measurements?.get(measurement)
  return m?.fields?.get(field) ?? m?.codec ?? db?.codec ?? COMPRESSION_OFF
}

/**
 * A copy of `config` with one level set (as an ALTER ... CODEC would): a field when `field` is
 * given, else a measurement's default when `measurement` is given, else the database's default.
 * `settings` undefined removes that level's setting.
 */
export function withCompression(config: CompressionConfig, settings: CompressionSettings | undefined,
  database: string, measurement?: string, field?: string): CompressionConfig {
  if (settings !== undefined) validateSettings(settings)
  const databases = new Map(config.databases)
  const db = databases.get(database) ?? {}
  if (measurement === undefined) {
    databases.set(database, { ...db, codec: settings })
    return { databases }
  }
  const measurements = new Map(db.measurements)
  const m = measurements.get(measurement) ?? {}
  if (field === undefined) {
    measurements.set(measurement, { ...m, codec: settings })
  } else {
    const fields = new Map(m.fields)
    if (settings === undefined) fields.delete(field)
    else fields.set(field, settings)
    measurements.set(measurement, { ...m, fields })
  }
  databases.set(database, { ...db, measurements })
  return { databases }
}

function fail(path: string, message: string): never {
  throw new TransformError(TransformErrorCode.COMPRESSION_CONFIG, `${path}: ${message}`, { path })
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${path}.${key}`, `unknown key (expected ${allowed.join(', ')})`)
  }
}

function parseInterval(value: unknown, path: string): bigint | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) fail(path, `must be a duration string or a whole number of nanoseconds ≥ 0, got ${value}`)
    return BigInt(value)
  }
  if (typeof value !== 'string') fail(path, `must be a duration string such as "1s" or a number of nanoseconds, got ${typeof value}`)
  try {
    return parseDuration(value)
  } catch (error) {
    return fail(path, (error as Error).message)
  }
}

function withIntervals(value: Record<string, unknown>, path: string): { minIntervalNs?: bigint; maxIntervalNs?: bigint } {
  const minIntervalNs = parseInterval(value.minInterval, `${path}.minInterval`)
  const maxIntervalNs = parseInterval(value.maxInterval, `${path}.maxInterval`)
  return { ...(minIntervalNs !== undefined && { minIntervalNs }), ...(maxIntervalNs !== undefined && { maxIntervalNs }) }
}

/** One setting of the config file: a CODEC spec string ("SDT(0.5)") or an object. */
export function parseCompressionSettings(value: unknown, path = 'codec'): CompressionSettings {
  if (typeof value === 'string') {
    try {
      return parseCodecSpec(value)
    } catch (error) {
      return fail(path, (error as Error).message)
    }
  }
  if (!isObject(value)) return fail(path, `must be a CODEC string such as "SDT(0.5)" or an object, got ${Array.isArray(value) ? 'an array' : typeof value}`)
  let settings: CompressionSettings
  switch (value.algorithm) {
    case 'off':
      checkKeys(value, ['algorithm'], path)
      return { algorithm: 'off' }
    case 'sdt':
      checkKeys(value, ['algorithm', 'deviation', 'minInterval', 'maxInterval'], path)
      settings = { algorithm: 'sdt', deviation: value.deviation as number, ...withIntervals(value, path) }
      break
    case 'deadband':
      checkKeys(value, ['algorithm', 'band', 'relative', 'minInterval', 'maxInterval'], path)
      if (value.relative !== undefined && typeof value.relative !== 'boolean') fail(`${path}.relative`, `must be true or false, got ${typeof value.relative}`)
      settings = { algorithm: 'deadband', band: value.band as number, ...(value.relative === true && { relative: true }), ...withIntervals(value, path) }
      break
    default:
      return fail(`${path}.algorithm`, `must be "sdt", "deadband" or "off", got ${JSON.stringify(value.algorithm)}`)
  }
  return validateSettings(settings, path)
}

function parseMap<T>(value: unknown, path: string, parseEntry: (entry: unknown, path: string) => T): Map<string, T> {
  if (!isObject(value)) return fail(path, 'must be an object')
  const map = new Map<string, T>()
  for (const [name, entry] of Object.entries(value)) {
    if (name === '') fail(path, 'an empty name is not allowed')
    map.set(name, parseEntry(entry, `${path}.${name}`))
  }
  return map
}

function parseMeasurement(value: unknown, path: string): MeasurementCompression {
  if (!isObject(value)) return fail(path, 'must be an object with "codec" and/or "fields"')
  checkKeys(value, ['codec', 'fields'], path)
  return {
    ...(value.codec !== undefined && { codec: parseCompressionSettings(value.codec, `${path}.codec`) }),
    ...(value.fields !== undefined && { fields: parseMap(value.fields, `${path}.fields`, parseCompressionSettings) }),
  }
}

function parseDatabase(value: unknown, path: string): DatabaseCompression {
  if (!isObject(value)) return fail(path, 'must be an object with "codec" and/or "measurements"')
  checkKeys(value, ['codec', 'measurements'], path)
  return {
    ...(value.codec !== undefined && { codec: parseCompressionSettings(value.codec, `${path}.codec`) }),
    ...(value.measurements !== undefined && { measurements: parseMap(value.measurements, `${path}.measurements`, parseMeasurement) }),
  }
}

/** The "compression" section of the config file (already JSON-parsed). Throws SLUICE_ERR_COMPRESSION_CONFIG naming the path. */
export function parseCompressionConfig(value: unknown, path = 'compression'): CompressionConfig {
  if (value === undefined) return EMPTY_COMPRESSION_CONFIG
  if (!isObject(value)) return fail(path, 'must be an object with "databases"')
  checkKeys(value, ['databases'], path)
  return { databases: value.databases === undefined ? new Map() : parseMap(value.databases, `${path}.databases`, parseDatabase) }
}
