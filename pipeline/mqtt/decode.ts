// From one MQTT message to a parsed batch of points: find the subscription whose topic template
// matches, resolve database, measurement and topic tags, decode the payload in the subscription's
// format, and parse the points with pipeline/ingest's line protocol parser (points.ts says why).

import { IngestError, parseLineProtocol, type LineProtocolLimits, type ParsedBatch, type PrecisionUnit } from '../ingest/index.ts'
import { PayloadFormat, type BridgeConfig, type Subscription } from './config.ts'
import { MqttBridgeError, MqttErrorCode, type MqttErrorCodeValue } from './errors.ts'
import { decodeJsonPayload, decodeNumberPayload } from './json-payload.ts'
import { mergeTags, toLineProtocol, type DecodedPoint } from './points.ts'
import { SparkplugDecoder } from './sparkplug.ts'

export interface DecodedMessage {
  subscription: Subscription
  database: string
  /** The points to write; null when the message carries none by design (Sparkplug NDEATH, STATE...). The caller releases it. */
  batch: ParsedBatch | null
  /** Lines, elements or metrics of the payload that were refused, with reasons. */
  refused: string[]
  /** The code of the refusals (the first kind seen). */
  refusedCode: string
}

const topicError = (reason: string): MqttBridgeError => new MqttBridgeError(MqttErrorCode.TOPIC, reason)

export class MessageDecoder {
  private readonly sparkplug: SparkplugDecoder

  constructor(private readonly config: Pick<BridgeConfig, 'subscriptions' | 'limits'>, private readonly lineLimits?: LineProtocolLimits) {
    this.sparkplug = new SparkplugDecoder(config.limits)
  }

  /** The first subscription (in config order) whose template matches `topic`, with its kept levels. */
  route(topic: string): { subscription: Subscription; captured: string[] } {
    for (const subscription of this.config.subscriptions) {
      const captured = subscription.topic.match(topic)
      if (captured) return { subscription, captured }
    }
    throw new MqttBridgeError(MqttErrorCode.NO_ROUTE, `no subscription's topic template matches "${topic}"`)
  }

  /** Throws MqttBridgeError or IngestError when the whole message is refused. */
  decode(topic: string, payload: Buffer, receivedAtNs: bigint): DecodedMessage {
    if (payload.length > this.config.limits.maxPayloadBytes) {
      throw new MqttBridgeError(MqttErrorCode.PAYLOAD, `payload of ${payload.length} bytes is over maxPayloadBytes = ${this.config.limits.maxPayloadBytes}`)
    }
    const { subscription, captured } = this.route(topic)
    const database = subscription.database.resolve(captured)
    if (database.length === 0) throw topicError(`database "${subscription.database.text}" is empty for topic "${topic}"`)
    const measurement = subscription.measurement?.resolve(captured)
    if (measurement !== undefined && measurement.length === 0) throw topicError(`measurement "${subscription.measurement!.text}" is empty for topic "${topic}"`)
    const tags: Array<[string, string]> = subscription.tagLevels.map(level => [level.name, captured[level.index]!])
    tags.push(...subscription.staticTags)
    if (subscription.topicTag !== undefined) tags.push([subscription.topicTag, topic])
    const settings = subscription.payload
    const base = { subscription, database }
    switch (settings.format) {
      case PayloadFormat.LINE_PROTOCOL:
        return { ...base, ...this.lineProtocol(payload, settings.precision, measurement, tags, receivedAtNs) }
      case PayloadFormat.NUMBER:
        return { ...base, ...this.finish([decodeNumberPayload(payload, settings.field, settings.type, measurement!, tags, receivedAtNs)], [], MqttErrorCode.PAYLOAD) }
      case PayloadFormat.JSON: {
        const { points, refused } = decodeJsonPayload(payload, settings.json, measurement!, tags, receivedAtNs)
        return { ...base, ...this.finish(points, refused, MqttErrorCode.PAYLOAD) }
      }
      case PayloadFormat.SPARKPLUG: {
        const { points, refused, unknownAliases } = this.sparkplug.decode(topic, payload, measurement!, tags, receivedAtNs)
        if (points.length === 0 && refused.length === 0) return { ...base, batch: null, refused, refusedCode: MqttErrorCode.PAYLOAD }
        return { ...base, ...this.finish(points, refused, unknownAliases > 0 ? MqttErrorCode.SPARKPLUG_ALIAS : MqttErrorCode.PAYLOAD) }
      }
    }
  }

  /** Parses decoded points; refusals of points and lines add to `refused`; throws when no point is left. */
  private finish(points: DecodedPoint[], refused: string[], refusedCode: string): { batch: ParsedBatch; refused: string[]; refusedCode: string } {
    const text = toLineProtocol(points)
    refused.push(...text.refused)
    const batch = this.parse(text.body, 0n, 'ns', refused)
    if (batch.pointCount === 0) {
      batch.release()
      throw new MqttBridgeError(refused.length > 0 ? refusedCode as MqttErrorCodeValue : MqttErrorCode.NO_POINTS, refused.length > 0 ? refused.join('; ') : 'the payload holds no point')
    }
    return { batch, refused, refusedCode }
  }

  /** Parses line protocol; the reasons of rejected lines are added to `refused`. */
  private parse(body: Buffer, receivedAtNs: bigint, precision: PrecisionUnit, refused: string[]): ParsedBatch {
    const batch = parseLineProtocol(body, { nowNs: receivedAtNs, precision, ...(this.lineLimits ? { limits: this.lineLimits } : {}) })
    for (const error of batch.errors) refused.push(`line ${error.line}${error.column === undefined ? '' : `, column ${error.column}`}: ${error.reason}`)
    if (batch.rejectedLineCount > batch.errors.length) refused.push(`and ${batch.rejectedLineCount - batch.errors.length} more lines`)
    return batch
  }

  /** Line protocol as sent, or rewritten with the topic's tags and measurement when the subscription gives any. */
  private lineProtocol(payload: Buffer, precision: PrecisionUnit, measurement: string | undefined, tags: Array<[string, string]>, receivedAtNs: bigint): { batch: ParsedBatch; refused: string[]; refusedCode: string } {
    const refused: string[] = []
    const batch = this.parse(payload, receivedAtNs, precision, refused)
    if (batch.pointCount === 0 || (measurement === undefined && tags.length === 0)) {
      if (batch.pointCount > 0) return { batch, refused, refusedCode: MqttErrorCode.PAYLOAD }
      batch.release()
      throw new MqttBridgeError(refused.length > 0 ? MqttErrorCode.PAYLOAD : MqttErrorCode.NO_POINTS, refused.length > 0 ? refused.join('; ') : 'the payload holds no point')
    }
    const points: DecodedPoint[] = []
    try {
      for (const view of batch.points()) {
        points.push({
          measurement: measurement ?? view.measurement,
          tags: mergeTags(view.tags, tags),
          fields: view.fields.map(field => ({ name: field.key, type: field.type, value: field.value })),
          timeNs: view.timestampNs,
        })
      }
    } finally {
      batch.release()
    }
    return this.finish(points, refused, MqttErrorCode.PAYLOAD)
  }
}

/** Whether an error refuses the message for good (dead letter) rather than failing for now (retry). */
export function isRefusal(error: unknown): error is MqttBridgeError | IngestError {
  return error instanceof MqttBridgeError || error instanceof IngestError
}
