// JSON payloads with a field mapping: each configured field, tag and the time are read from a path
// into the document. A document that is an array gives one point per element.

import { parseTimestamp } from '../../lib/time/rfc3339.ts'
import { FieldType } from '../ingest/index.ts'
import { TimeFormat, ValueType, type JsonMapping, type JsonPath, type TimeFormatValue } from './config.ts'
import { MqttBridgeError, MqttErrorCode } from './errors.ts'
import type { DecodedField, DecodedPoint } from './points.ts'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const unitExponent: Readonly<Record<Exclude<TimeFormatValue, 'rfc3339'>, number>> = { s: 9, ms: 6, us: 3, ns: 0 }

const payloadError = (reason: string): MqttBridgeError => new MqttBridgeError(MqttErrorCode.PAYLOAD, reason)

export function pathText(path: JsonPath): string {
  return path.map((part, i) => typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`).join('')
}

function lookup(document: unknown, path: JsonPath): unknown {
  let at = document
  for (const part of path) {
    if (typeof part === 'number') {
      if (!Array.isArray(at)) return undefined
      at = at[part]
    } else {
      if (typeof at !== 'object' || at === null || Array.isArray(at)) return undefined
      at = Object.hasOwn(at, part) ? (at as Record<string, unknown>)[part] : undefined
    }
  }
  return at
}

/**
 * A decimal number (JSON number text or a string: digits, optional fraction and exponent) times
 * 10^exponent, truncated toward zero, exactly; undefined when `text` is not such a number.
 */
export function scaleDecimal(text: string, exponent: number): bigint | undefined {
  const match = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/.exec(text.trim())
  if (!match) return undefined
  const [, sign, whole, fraction = '', power = '0'] = match
  const shift = exponent + Number(power) - fraction.length
  let value = BigInt(whole! + fraction)
  value = shift >= 0 ? value * 10n ** BigInt(shift) : value / 10n ** BigInt(-shift)
  return sign === '-' ? -value : value
}

/** A JSON time value in `format` as nanoseconds since the epoch. */
export function timeToNs(value: unknown, format: TimeFormatValue, where: string): bigint {
  let ns: bigint | undefined | null
  if (format === TimeFormat.RFC3339) {
    if (typeof value !== 'string') throw payloadError(`${where}: an RFC 3339 time must be a string, not ${JSON.stringify(value)}`)
    ns = parseTimestamp(value)
    if (ns === null) throw payloadError(`${where}: "${value}" is not an RFC 3339 time (such as 2024-05-01T12:00:00.5Z)`)
  } else {
    if (typeof value === 'number' && Number.isFinite(value)) ns = scaleDecimal(String(value), unitExponent[format])
    else if (typeof value === 'string') ns = scaleDecimal(value, unitExponent[format])
    if (ns === undefined || ns === null) throw payloadError(`${where}: ${JSON.stringify(value)} is not a number of ${format} since the epoch`)
  }
  if (ns < INT64_MIN + 2n || ns > INT64_MAX - 1n) throw payloadError(`${where}: ${JSON.stringify(value)} is outside the nanosecond range of a 64-bit timestamp`)
  return ns
}

function fieldOf(name: string, type: JsonMapping['fields'][number]['type'], value: unknown, where: string): DecodedField | undefined {
  if (value === undefined || value === null) return undefined
  switch (type ?? (typeof value === 'number' ? ValueType.FLOAT : typeof value === 'boolean' ? ValueType.BOOLEAN : typeof value === 'string' ? ValueType.STRING : undefined)) {
    case ValueType.FLOAT:
      if (typeof value !== 'number') throw payloadError(`${where}: field "${name}" is float, and ${JSON.stringify(value)} is not a number`)
      return { name, type: FieldType.Float, value }
    case ValueType.INTEGER: {
      const integer = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value)
        : typeof value === 'string' && /^[+-]?\d{1,19}$/.test(value) ? BigInt(value) : undefined
      if (integer === undefined || integer < INT64_MIN || integer > INT64_MAX) throw payloadError(`${where}: field "${name}" is integer, and ${JSON.stringify(value)} is not a 64-bit integer (give large ones as strings)`)
      return { name, type: FieldType.Integer, value: integer }
    }
    case ValueType.STRING:
      if (typeof value !== 'string') throw payloadError(`${where}: field "${name}" is string, and ${JSON.stringify(value)} is not a string`)
      return { name, type: FieldType.String, value }
    case ValueType.BOOLEAN:
      if (typeof value !== 'boolean') throw payloadError(`${where}: field "${name}" is boolean, and ${JSON.stringify(value)} is not true or false`)
      return { name, type: FieldType.Boolean, value }
    default:
      throw payloadError(`${where}: field "${name}" is ${Array.isArray(value) ? 'an array' : 'an object'}; map a path to a number, string or boolean`)
  }
}

export interface JsonPoints {
  points: DecodedPoint[]
  /** Elements refused, each with its reason. */
  refused: string[]
}

/** The points of a JSON payload. Throws when it is not JSON; a bad element is refused alone. */
export function decodeJsonPayload(payload: Buffer, mapping: JsonMapping, measurement: string, tags: ReadonlyArray<[string, string]>, receivedAtNs: bigint): JsonPoints {
  let document: unknown
  try {
    document = JSON.parse(payload.toString('utf8'))
  } catch (error) {
    throw payloadError(`not JSON: ${(error as Error).message}`)
  }
  const elements = Array.isArray(document) ? document : [document]
  const points: DecodedPoint[] = []
  const refused: string[] = []
  elements.forEach((element, i) => {
    const where = Array.isArray(document) ? `element ${i}` : 'payload'
    try {
      points.push(pointOf(element, mapping, measurement, tags, receivedAtNs, where))
    } catch (error) {
      if (!(error instanceof MqttBridgeError)) throw error
      refused.push(error.message)
    }
  })
  return { points, refused }
}

function pointOf(element: unknown, mapping: JsonMapping, measurement: string, tags: ReadonlyArray<[string, string]>, receivedAtNs: bigint, where: string): DecodedPoint {
  const fields: DecodedField[] = []
  for (const field of mapping.fields) {
    const decoded = fieldOf(field.name, field.type, lookup(element, field.path), `${where}, ${pathText(field.path)}`)
    if (decoded) fields.push(decoded)
  }
  if (fields.length === 0) throw payloadError(`${where}: none of the field paths (${mapping.fields.map(field => pathText(field.path)).join(', ')}) holds a value`)
  const pointTags: Array<[string, string]> = []
  for (const tag of mapping.tags) {
    const value = lookup(element, tag.path)
    if (value === undefined || value === null) continue
    if (typeof value === 'object') throw payloadError(`${where}, ${pathText(tag.path)}: tag "${tag.name}" must be a string, number or boolean`)
    pointTags.push([tag.name, String(value)])
  }
  let timeNs = receivedAtNs
  if (mapping.time) {
    const value = lookup(element, mapping.time.path)
    if (value === undefined || value === null) throw payloadError(`${where}: no time at ${pathText(mapping.time.path)}`)
    timeNs = timeToNs(value, mapping.time.format, `${where}, ${pathText(mapping.time.path)}`)
  }
  const merged = new Map(pointTags)
  for (const [key, value] of tags) merged.set(key, value)
  return { measurement, tags: [...merged], fields, timeNs }
}

/** A plain number payload ("21.5", "-3") as one field; the time is the arrival time. */
export function decodeNumberPayload(payload: Buffer, field: string, type: 'float' | 'integer', measurement: string, tags: ReadonlyArray<[string, string]>, receivedAtNs: bigint): DecodedPoint {
  const text = payload.toString('utf8').trim()
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text
  if (type === 'integer') {
    if (!/^[+-]?\d{1,19}$/.test(text)) throw payloadError(`"${shown}" is not an integer`)
    const value = BigInt(text)
    if (value < INT64_MIN || value > INT64_MAX) throw payloadError(`"${shown}" is outside the 64-bit integer range`)
    return { measurement, tags: [...tags], fields: [{ name: field, type: FieldType.Integer, value }], timeNs: receivedAtNs }
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw payloadError(`"${shown}" is not a number`)
  const value = Number(text)
  if (!Number.isFinite(value)) throw payloadError(`"${shown}" is out of the float range`)
  return { measurement, tags: [...tags], fields: [{ name: field, type: FieldType.Float, value }], timeNs: receivedAtNs }
}
