// Points decoded from an MQTT payload, and their line protocol text. The bridge writes every
// payload format as line protocol and parses it with pipeline/ingest's parser, so names, limits,
// field types and series keys follow exactly the rules of an HTTP write (as the Kafka source does
// for Avro records). MQTT messages carry a few points each; the per-point objects stay small.

import { FieldType, type FieldTypeValue } from '../ingest/index.ts'
import { MqttBridgeError, MqttErrorCode } from './errors.ts'

export interface DecodedField {
  name: string
  type: FieldTypeValue
  /** Float: number; Integer and Unsigned: bigint; String: string; Boolean: boolean. */
  value: number | bigint | string | boolean
}

export interface DecodedPoint {
  measurement: string
  tags: Array<[string, string]>
  fields: DecodedField[]
  timeNs: bigint
}

const payloadError = (reason: string): MqttBridgeError => new MqttBridgeError(MqttErrorCode.PAYLOAD, reason)

function checkName(name: string, what: string): void {
  if (name.length === 0) throw payloadError(`${what} is empty`)
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === 0x0a || c === 0x0d) throw payloadError(`${what} "${name.replace(/[\r\n]/g, '\\n')}" holds a line break`)
  }
}

const escapeMeasurement = (text: string): string => text.replace(/[, ]/g, '\\$&')
const escapeKey = (text: string): string => text.replace(/[,= ]/g, '\\$&')
const escapeString = (text: string): string => text.replace(/[\\"]/g, '\\$&')

function fieldText(field: DecodedField): string {
  switch (field.type) {
    case FieldType.Float: {
      const value = field.value as number
      if (!Number.isFinite(value)) throw payloadError(`field "${field.name}": ${value} is not a valid field value (NaN and infinities are refused)`)
      return String(value)
    }
    case FieldType.Integer: return `${field.value as bigint}i`
    case FieldType.Unsigned: return `${field.value as bigint}u`
    case FieldType.String: return `"${escapeString(field.value as string)}"`
    case FieldType.Boolean: return field.value ? 'true' : 'false'
  }
}

/** The points as line protocol, one line each, nanosecond timestamps; a point that cannot be written is refused alone. */
export function toLineProtocol(points: readonly DecodedPoint[]): { body: Buffer; refused: string[] } {
  const lines: string[] = []
  const refused: string[] = []
  points.forEach((point, i) => {
    try {
      lines.push(pointLine(point))
    } catch (error) {
      if (!(error instanceof MqttBridgeError)) throw error
      refused.push(points.length > 1 ? `point ${i + 1}: ${error.message}` : error.message)
    }
  })
  return { body: Buffer.from(lines.join('\n'), 'utf8'), refused }
}

function pointLine(point: DecodedPoint): string {
  checkName(point.measurement, 'measurement')
  let line = escapeMeasurement(point.measurement)
  for (const [key, value] of point.tags) {
    if (value.length === 0) continue // InfluxDB drops empty tags
    checkName(key, 'tag key')
    checkName(value, `tag "${key}"`)
    line += `,${escapeKey(key)}=${escapeKey(value)}`
  }
  if (point.fields.length === 0) throw payloadError(`a point of "${point.measurement}" has no field`)
  line += ' '
  point.fields.forEach((field, i) => {
    checkName(field.name, 'field key')
    line += `${i > 0 ? ',' : ''}${escapeKey(field.name)}=${fieldText(field)}`
  })
  return `${line} ${point.timeNs}`
}

/** Tags with later ones replacing earlier ones of the same key (topic tags win over payload tags). */
export function mergeTags(base: ReadonlyArray<[string, string]>, extra: ReadonlyArray<[string, string]>): Array<[string, string]> {
  if (extra.length === 0) return [...base]
  const merged = new Map(base)
  for (const [key, value] of extra) merged.set(key, value)
  return [...merged]
}
