// The bridge configuration: one typed object, validated once at start against a schema that
// rejects unknown keys, with messages that name the setting (`subscriptions[2].json.time.format`).
// The file is JSON. YAML is not parsed (no YAML library is a dependency and a hand-written one is
// not trivial); since YAML 1.2 is a superset of JSON, a bridge.yaml written in JSON syntax is read.

import { readFileSync } from 'node:fs'
import { parsePrecision, type PrecisionUnit } from '../ingest/index.ts'
import { MqttBridgeError, MqttErrorCode } from './errors.ts'
import { mqttLimits, type MqttLimits } from './limits.ts'
import { NameTemplate, TopicTemplate } from './topic-template.ts'

export const PayloadFormat = { LINE_PROTOCOL: 'line-protocol', JSON: 'json', NUMBER: 'number', SPARKPLUG: 'sparkplug' } as const
export type PayloadFormatValue = (typeof PayloadFormat)[keyof typeof PayloadFormat]

/** Units of a JSON time value: seconds, milliseconds, microseconds, nanoseconds since the epoch, or RFC 3339 text. */
export const TimeFormat = { S: 's', MS: 'ms', US: 'us', NS: 'ns', RFC3339: 'rfc3339' } as const
export type TimeFormatValue = (typeof TimeFormat)[keyof typeof TimeFormat]

export const ValueType = { FLOAT: 'float', INTEGER: 'integer', STRING: 'string', BOOLEAN: 'boolean' } as const
export type ValueTypeValue = (typeof ValueType)[keyof typeof ValueType]

/** A path into a JSON document: object keys and array indexes, as parsed from "data.values[0].v". */
export type JsonPath = ReadonlyArray<string | number>

export interface JsonField {
  name: string
  path: JsonPath
  /** The field type to write; when absent: numbers float, strings string, booleans boolean. */
  type: ValueTypeValue | undefined
}

export interface JsonMapping {
  fields: JsonField[]
  tags: Array<{ name: string; path: JsonPath }>
  time: { path: JsonPath; format: TimeFormatValue } | undefined
}

export type PayloadSettings =
  | { format: 'line-protocol'; precision: PrecisionUnit }
  | { format: 'json'; json: JsonMapping }
  | { format: 'number'; field: string; type: 'float' | 'integer' }
  /** requestRebirth: on a metric alias no birth declared, send the edge node the Rebirth command (NCMD "Node Control/Rebirth"). */
  | { format: 'sparkplug'; requestRebirth: boolean }

export interface Subscription {
  /** Index in the config, for messages. */
  index: number
  topic: TopicTemplate
  qos: 0 | 1
  database: NameTemplate
  /** Required except for line protocol (whose lines name their measurement); overrides the lines' when set. */
  measurement: NameTemplate | undefined
  /** Kept levels that become tags: every named level the measurement and database do not use. */
  tagLevels: Array<{ name: string; index: number }>
  staticTags: Array<[string, string]>
  /** Tag holding the whole topic, if any. */
  topicTag: string | undefined
  payload: PayloadSettings
}

export interface BridgeConfig {
  /** mqtt://host:port (mqtts://, ws:// as mqtt.js takes them). */
  url: string
  /** Fixed client id: the broker keeps the session (subscriptions, queued QoS 1 messages) under it. */
  clientId: string
  username: string | undefined
  password: string | undefined
  /** 4 = MQTT 3.1.1 (default), 5 = MQTT 5. */
  protocolVersion: 4 | 5
  keepaliveSeconds: number
  /** MQTT 5 only: how long the broker keeps the session after a disconnect. Default 7 days. */
  sessionExpirySeconds: number
  /** Tenant of every point; undefined: the node's default tenant (standalone: "default"). */
  tenant: string | undefined
  deadLetterTopic: string
  subscriptions: Subscription[]
  limits: MqttLimits
}

const DEFAULTS = {
  clientId: 'sluice-mqtt-bridge',
  protocolVersion: 4,
  keepaliveSeconds: 30,
  sessionExpirySeconds: 7 * 24 * 3600,
  deadLetterTopic: 'sluice.deadletter',
} as const

function fail(message: string): never {
  throw new MqttBridgeError(MqttErrorCode.CONFIG, `bridge config: ${message}`)
}

type Json = Record<string, unknown>

function object(value: unknown, where: string, allowed: readonly string[]): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${where} must be an object`)
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) fail(`${where}: unknown setting "${key}" (known: ${allowed.join(', ')})`)
  }
  return value as Json
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${where} must be a non-empty string`)
  return value
}

function optionalText(value: unknown, where: string): string | undefined {
  return value === undefined ? undefined : text(value, where)
}

function integer(value: unknown, where: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(`${where} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`)
  return value
}

function oneOf<T extends string>(value: unknown, where: string, known: readonly T[]): T {
  if (typeof value !== 'string' || !known.includes(value as T)) fail(`${where} must be one of ${known.join(', ')}, not ${JSON.stringify(value)}`)
  return value as T
}

/** "data.values[0].v" → ["data", "values", 0, "v"]. A key holding "." or "[" is written as ["a.b"]. */
export function parseJsonPath(path: string, where: string): JsonPath {
  const out: Array<string | number> = []
  const token = /\[(\d+)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[\]]+)/gy
  let match: RegExpExecArray | null
  let at = 0
  while (at < path.length && (match = token.exec(path)) !== null) {
    if (match[1] !== undefined) out.push(Number(match[1]))
    else if (match[2] !== undefined) out.push(match[2].replace(/\\(.)/g, '$1'))
    else out.push(match[3]!)
    at = token.lastIndex
  }
  if (path.length === 0 || at !== path.length) fail(`${where}: "${path}" is not a JSON path (use keys and indexes such as data.values[0].v)`)
  return out
}

const SUBSCRIPTION_KEYS = ['topic', 'qos', 'database', 'measurement', 'tags', 'topicTag', 'format', 'lineProtocol', 'json', 'number', 'sparkplug'] as const

function payloadSettings(raw: Json, where: string): PayloadSettings {
  const format = oneOf(raw.format ?? PayloadFormat.LINE_PROTOCOL, `${where}.format`, Object.values(PayloadFormat))
  for (const other of ['lineProtocol', 'json', 'number', 'sparkplug'] as const) {
    const owner = other === 'lineProtocol' ? PayloadFormat.LINE_PROTOCOL : other
    if (raw[other] !== undefined && owner !== format) fail(`${where}.${other} is only for format "${owner}", and this subscription's format is "${format}"`)
  }
  switch (format) {
    case PayloadFormat.LINE_PROTOCOL: {
      const settings = object(raw.lineProtocol ?? {}, `${where}.lineProtocol`, ['precision'])
      let precision: PrecisionUnit
      try {
        precision = parsePrecision(settings.precision === undefined ? undefined : String(settings.precision))
      } catch {
        fail(`${where}.lineProtocol.precision must be ns, us, ms, s, m or h, not ${JSON.stringify(settings.precision)}`)
      }
      return { format, precision }
    }
    case PayloadFormat.NUMBER: {
      const settings = object(raw.number ?? {}, `${where}.number`, ['field', 'type'])
      return { format, field: optionalText(settings.field, `${where}.number.field`) ?? 'value', type: oneOf(settings.type ?? 'float', `${where}.number.type`, ['float', 'integer'] as const) }
    }
    case PayloadFormat.JSON:
      return { format, json: jsonMapping(raw.json, `${where}.json`) }
    case PayloadFormat.SPARKPLUG: {
      const settings = object(raw.sparkplug ?? {}, `${where}.sparkplug`, ['requestRebirth'])
      if (settings.requestRebirth !== undefined && typeof settings.requestRebirth !== 'boolean') fail(`${where}.sparkplug.requestRebirth must be true or false`)
      return { format, requestRebirth: settings.requestRebirth === true }
    }
  }
}

function jsonMapping(value: unknown, where: string): JsonMapping {
  const raw = object(value, where, ['fields', 'tags', 'time'])
  const fieldsRaw = object(raw.fields, `${where}.fields`, Object.keys(raw.fields ?? {}))
  const fields: JsonField[] = Object.entries(fieldsRaw).map(([name, spec]) => {
    const at = `${where}.fields.${name}`
    if (typeof spec === 'string') return { name, path: parseJsonPath(spec, at), type: undefined }
    const settings = object(spec, at, ['path', 'type'])
    return { name, path: parseJsonPath(text(settings.path, `${at}.path`), `${at}.path`), type: settings.type === undefined ? undefined : oneOf(settings.type, `${at}.type`, Object.values(ValueType)) }
  })
  if (fields.length === 0) fail(`${where}.fields must name at least one field ({"name": "path"})`)
  const tagsRaw = object(raw.tags ?? {}, `${where}.tags`, Object.keys(raw.tags ?? {}))
  const tags = Object.entries(tagsRaw).map(([name, path]) => ({ name, path: parseJsonPath(text(path, `${where}.tags.${name}`), `${where}.tags.${name}`) }))
  let time: JsonMapping['time']
  if (raw.time !== undefined) {
    const settings = object(raw.time, `${where}.time`, ['path', 'format'])
    time = { path: parseJsonPath(text(settings.path, `${where}.time.path`), `${where}.time.path`), format: oneOf(settings.format, `${where}.time.format`, Object.values(TimeFormat)) }
  }
  return { fields, tags, time }
}

function subscription(value: unknown, index: number, defaultDatabase: string | undefined): Subscription {
  const where = `subscriptions[${index}]`
  const raw = object(value, where, SUBSCRIPTION_KEYS)
  const topic = new TopicTemplate(text(raw.topic, `${where}.topic`))
  const payload = payloadSettings(raw, where)
  const databaseText = optionalText(raw.database, `${where}.database`) ?? defaultDatabase
  if (databaseText === undefined) fail(`${where}.database is required (or set "database" at the top level)`)
  const database = new NameTemplate(databaseText, topic, `${where}.database`)
  const measurementText = optionalText(raw.measurement, `${where}.measurement`) ?? (payload.format === PayloadFormat.SPARKPLUG ? 'sparkplug' : undefined)
  if (measurementText === undefined && payload.format !== PayloadFormat.LINE_PROTOCOL) fail(`${where}.measurement is required for format "${payload.format}"`)
  const measurement = measurementText === undefined ? undefined : new NameTemplate(measurementText, topic, `${where}.measurement`)
  const used = new Set([...database.references, ...(measurement?.references ?? [])])
  const tagLevels = topic.names.flatMap((name, i) => used.has(name) ? [] : [{ name, index: i }])
  const staticTags = Object.entries(object(raw.tags ?? {}, `${where}.tags`, Object.keys(raw.tags ?? {}))).map(([key, tagValue]): [string, string] => [key, text(tagValue, `${where}.tags.${key}`)])
  const qos = integer(raw.qos ?? 1, `${where}.qos`, 0, 1) as 0 | 1
  return { index, topic, qos, database, measurement, tagLevels, staticTags, topicTag: optionalText(raw.topicTag, `${where}.topicTag`), payload }
}

const TOP_KEYS = ['mqtt', 'clientId', 'username', 'password', 'protocolVersion', 'keepaliveSeconds', 'sessionExpirySeconds', 'tenant', 'database', 'deadLetterTopic', 'subscriptions', 'limits'] as const

/** Validates a parsed config document; `url` (the --mqtt flag) wins over the file's "mqtt". */
export function parseBridgeConfig(document: unknown, overrides: { url?: string } = {}): BridgeConfig {
  const raw = object(document, 'the config', TOP_KEYS)
  const url = overrides.url ?? optionalText(raw.mqtt, 'mqtt') ?? 'mqtt://127.0.0.1:1883'
  if (!/^(mqtts?|wss?|tcp|ssl):\/\//.test(url)) fail(`mqtt must be a URL such as mqtt://127.0.0.1:1883, not "${url}"`)
  if (!Array.isArray(raw.subscriptions) || raw.subscriptions.length === 0) fail('subscriptions must be a non-empty array')
  const defaultDatabase = optionalText(raw.database, 'database')
  const subscriptions = raw.subscriptions.map((entry, index) => subscription(entry, index, defaultDatabase))
  const limitsRaw = object(raw.limits ?? {}, 'limits', Object.keys(mqttLimits))
  const limits = { ...mqttLimits } as MqttLimits
  for (const [name, value] of Object.entries(limitsRaw)) limits[name as keyof MqttLimits] = integer(value, `limits.${name}`, 1)
  return {
    url,
    clientId: optionalText(raw.clientId, 'clientId') ?? DEFAULTS.clientId,
    username: optionalText(raw.username, 'username'),
    password: optionalText(raw.password, 'password'),
    protocolVersion: integer(raw.protocolVersion ?? DEFAULTS.protocolVersion, 'protocolVersion', 4, 5) as 4 | 5,
    keepaliveSeconds: integer(raw.keepaliveSeconds ?? DEFAULTS.keepaliveSeconds, 'keepaliveSeconds', 1, 65_535),
    sessionExpirySeconds: integer(raw.sessionExpirySeconds ?? DEFAULTS.sessionExpirySeconds, 'sessionExpirySeconds', 1, 0xffff_ffff),
    tenant: optionalText(raw.tenant, 'tenant'),
    deadLetterTopic: optionalText(raw.deadLetterTopic, 'deadLetterTopic') ?? DEFAULTS.deadLetterTopic,
    subscriptions,
    limits,
  }
}

/** Reads and validates a config file (JSON). */
export function loadBridgeConfig(path: string, overrides: { url?: string } = {}): BridgeConfig {
  let textContent: string
  try {
    textContent = readFileSync(path, 'utf8')
  } catch (error) {
    fail(`cannot read ${path}: ${(error as Error).message}`)
  }
  let document: unknown
  try {
    document = JSON.parse(textContent)
  } catch (error) {
    fail(`${path} is not JSON (${(error as Error).message}); the bridge reads JSON only, which is also valid YAML, so write bridge.yaml in JSON syntax (docs/mqtt.md)`)
  }
  return parseBridgeConfig(document, overrides)
}
