// Sparkplug B payloads (topic spBv1.0/<group>/<type>/<edge node>[/<device>]), decoded with Eclipse
// Tahu's codec (sparkplug-payload). NBIRTH/DBIRTH declare each metric's name, alias and type and
// carry first values; NDATA/DDATA carry values, often under the alias alone, so the bridge keeps
// each edge node's and device's aliases from its latest birth. A metric becomes a field named by
// the metric name; metrics of one message with the same timestamp share a point. Tags: group_id,
// edge_node_id and device_id (device messages). NDEATH, DDEATH, NCMD, DCMD and STATE carry no points.

import sparkplugPayload from 'sparkplug-payload'
import { FieldType } from '../ingest/index.ts'
import { MqttBridgeError, MqttErrorCode } from './errors.ts'
import type { DecodedField, DecodedPoint } from './points.ts'

export const SPARKPLUG_NAMESPACE = 'spBv1.0'

const codec = sparkplugPayload.get(SPARKPLUG_NAMESPACE)!
type Payload = ReturnType<typeof codec.decodePayload>
type Metric = NonNullable<Payload['metrics']>[number]
interface LongLike { low: number; high: number }

const payloadError = (reason: string): MqttBridgeError => new MqttBridgeError(MqttErrorCode.PAYLOAD, reason)

function toBigInt(value: unknown): bigint | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value)
  if (typeof value === 'bigint') return value
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const long = value as LongLike
    return (BigInt(long.high >>> 0) << 32n) | BigInt(long.low >>> 0)
  }
  return undefined
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  const big = toBigInt(value)
  return big === undefined ? undefined : Number(big)
}

/** A metric's value as a field, or a reason it cannot be one (undefined for a null value). */
function fieldOf(name: string, type: string, value: unknown): DecodedField | string | undefined {
  if (value === null || value === undefined) return undefined
  switch (type) {
    case 'Int8': case 'Int16': case 'Int32': case 'UInt8': case 'UInt16': case 'UInt32': {
      const integer = toBigInt(value)
      return integer === undefined ? `${type} value ${String(value)} is not an integer` : { name, type: FieldType.Integer, value: type.startsWith('Int') ? BigInt.asIntN(32, integer) : BigInt.asUintN(32, integer) }
    }
    case 'Int64': case 'DateTime': {
      const integer = toBigInt(value)
      return integer === undefined ? `${type} value is not an integer` : { name, type: FieldType.Integer, value: BigInt.asIntN(64, integer) }
    }
    case 'UInt64': {
      const integer = toBigInt(value)
      return integer === undefined ? 'UInt64 value is not an integer' : { name, type: FieldType.Unsigned, value: BigInt.asUintN(64, integer) }
    }
    case 'Float': case 'Double': {
      const float = toNumber(value)
      return float === undefined || !Number.isFinite(float) ? `${type} value ${String(value)} is not a finite number` : { name, type: FieldType.Float, value: float }
    }
    case 'Boolean': return typeof value === 'boolean' ? { name, type: FieldType.Boolean, value } : 'Boolean value is not true or false'
    case 'String': case 'Text': case 'UUID': return typeof value === 'string' ? { name, type: FieldType.String, value } : `${type} value is not a string`
    default: return `type ${type} is not written (only numbers, booleans and strings are)`
  }
}

export interface SparkplugTopic {
  group: string
  messageType: string
  edgeNode: string
  device: string | undefined
}

export function parseSparkplugTopic(topic: string): SparkplugTopic {
  const parts = topic.split('/')
  if (parts[0] !== SPARKPLUG_NAMESPACE || parts.length < 4 || parts.length > 5 || parts.some(part => part.length === 0)) {
    throw new MqttBridgeError(MqttErrorCode.TOPIC, `"${topic}" is not a Sparkplug B topic (${SPARKPLUG_NAMESPACE}/<group>/<message type>/<edge node>[/<device>])`)
  }
  return { group: parts[1]!, messageType: parts[2]!, edgeNode: parts[3]!, device: parts[4] }
}

/** The NCMD asking an edge node to publish its births again (Sparkplug B "Node Control/Rebirth"). */
export function rebirthCommand(topic: SparkplugTopic, nowMs: number): { topic: string; payload: Buffer } {
  return {
    topic: `${SPARKPLUG_NAMESPACE}/${topic.group}/NCMD/${topic.edgeNode}`,
    payload: Buffer.from(codec.encodePayload({ timestamp: nowMs, metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] })),
  }
}

export interface SparkplugPoints {
  points: DecodedPoint[]
  /** Metrics refused, each with its reason. */
  refused: string[]
  /** Refused for an unknown alias only (the edge node should be asked to rebirth). */
  unknownAliases: number
}

interface KnownMetric { name: string; type: string }

/** The aliases every edge node and device declared in its latest birth. */
export class SparkplugDecoder {
  private readonly births = new Map<string, Map<string, KnownMetric>>()

  constructor(private readonly limits: { maxSparkplugAliases: number; maxSparkplugDevices: number }) {}

  decode(topic: string, payload: Buffer, measurement: string, tags: ReadonlyArray<[string, string]>, receivedAtNs: bigint): SparkplugPoints {
    // A host application's STATE (spBv1.0/STATE/<host id>) has no edge node level.
    if (topic.startsWith(`${SPARKPLUG_NAMESPACE}/STATE/`)) return { points: [], refused: [], unknownAliases: 0 }
    const where = parseSparkplugTopic(topic)
    const isBirth = where.messageType === 'NBIRTH' || where.messageType === 'DBIRTH'
    if (!isBirth && where.messageType !== 'NDATA' && where.messageType !== 'DDATA') return { points: [], refused: [], unknownAliases: 0 }
    if ((where.messageType[0] === 'D') !== (where.device !== undefined)) throw new MqttBridgeError(MqttErrorCode.TOPIC, `${where.messageType} on "${topic}": device messages and only they name a device`)
    let decoded: Payload
    try {
      decoded = codec.decodePayload(payload)
    } catch (error) {
      throw payloadError(`not a Sparkplug B payload: ${(error as Error).message}`)
    }
    const key = `${where.group}/${where.edgeNode}/${where.device ?? ''}`
    if (isBirth) this.startBirth(key, where)
    const known = this.births.get(key)
    const refused: string[] = []
    let unknownAliases = 0
    const byTime = new Map<bigint, DecodedField[]>()
    const payloadTimeMs = toBigInt(decoded.timestamp)
    ;(decoded.metrics ?? []).forEach((metric: Metric, i: number) => {
      const alias = toBigInt(metric.alias)
      let name = metric.name ?? undefined
      let type = metric.type as string | undefined
      if (isBirth && name !== undefined && alias !== undefined) this.remember(key, String(alias), { name, type: String(type) })
      if (name === undefined || name.length === 0) {
        const declared = alias === undefined ? undefined : known?.get(String(alias))
        if (declared === undefined) {
          unknownAliases++
          refused.push(`metric ${i}: alias ${alias ?? '(none)'} was declared by no birth certificate of ${key.replace(/\/$/, '')}`)
          return
        }
        name = declared.name
        type ??= declared.type
      }
      const field = fieldOf(name, String(type), metric.isNull ? null : metric.value)
      if (typeof field === 'string') refused.push(`metric ${i} "${name}": ${field}`)
      if (typeof field !== 'object') return
      const timeMs = toBigInt(metric.timestamp) ?? payloadTimeMs
      const timeNs = timeMs === undefined ? receivedAtNs : timeMs * 1_000_000n
      let fields = byTime.get(timeNs)
      if (!fields) byTime.set(timeNs, fields = [])
      const earlier = fields.findIndex(other => other.name === name)
      if (earlier >= 0) fields[earlier] = field
      else fields.push(field)
    })
    const pointTags: Array<[string, string]> = [['group_id', where.group], ['edge_node_id', where.edgeNode]]
    if (where.device !== undefined) pointTags.push(['device_id', where.device])
    const merged = new Map(pointTags)
    for (const [tagKey, value] of tags) merged.set(tagKey, value)
    const points = [...byTime].map(([timeNs, fields]) => ({ measurement, tags: [...merged], fields, timeNs }))
    return { points, refused, unknownAliases }
  }

  /** A birth replaces what was known: NBIRTH for the node and its devices, DBIRTH for the device. */
  private startBirth(key: string, where: SparkplugTopic): void {
    if (where.device === undefined) {
      const prefix = `${where.group}/${where.edgeNode}/`
      for (const known of [...this.births.keys()]) if (known.startsWith(prefix)) this.births.delete(known)
    }
    this.births.delete(key)
    if (this.births.size >= this.limits.maxSparkplugDevices) this.births.delete(this.births.keys().next().value!)
    this.births.set(key, new Map())
  }

  private remember(key: string, alias: string, metric: KnownMetric): void {
    const known = this.births.get(key)!
    if (known.size < this.limits.maxSparkplugAliases) known.set(alias, metric)
  }
}
