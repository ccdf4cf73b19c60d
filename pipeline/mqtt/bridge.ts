// The MQTT bridge: subscribes with QoS 1 on a persistent session (fixed client id, clean=false) and
// acknowledges each message to the MQTT broker (PUBACK) only after its points are in sluice.ingest,
// or its dead letter in sluice.deadletter. Nothing is acknowledged that Kafka has not taken, so a
// crash or a Kafka outage leaves the message with the broker, which sends it again.
//
// Batching: mqtt.js hands messages over one at a time and sends the PUBACK when handleMessage's
// callback is called without an error; the next message is read only after that. Waiting there for
// Kafka would make one transaction per message. Instead handleMessage calls back with DEFERRED_ACK,
// which makes mqtt.js go on without sending the PUBACK, and the bridge sends each PUBACK itself, in
// arrival order (MQTT 3.1.1 section 4.6), once the transaction holding the message committed. Messages
// arriving while one transaction is in flight form the next one (up to maxMessagesPerWrite).
// mqtt.js has no public call to send a PUBACK; `sendPuback` below uses its internal _sendPacket,
// checked at start so a changed mqtt.js fails loudly instead of never acknowledging.
//
// A PUBACK belongs to its connection: messages received before a disconnect are never acknowledged
// on the next one (the broker sends them again with the session), and while their write fails they
// are dropped, not retried. Retries otherwise go on with backoff, never dropping a message.

import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt'
import { toIngestRecords, type IngestRecordOut, type LineProtocolLimits } from '../ingest/index.ts'
import type { RecordSink, WriteCatalog } from '../http/index.ts'
import type { Kafka, Message } from 'kafkajs'
import type { BridgeConfig } from './config.ts'
import { MessageDecoder, isRefusal, type DecodedMessage } from './decode.ts'
import { DeadLetterWriter, deadLetterMessage } from './dead-letters.ts'
import { MqttErrorCode, type Rejection } from './errors.ts'
import { parseSparkplugTopic, rebirthCommand } from './sparkplug.ts'
import { endSpan, headersOfSpan, startSendSpan } from '../../lib/telemetry/index.ts'

/** Where the sink writes (the span's messaging.destination.name). */
const INGEST_TOPIC_NAME = 'sluice.ingest'

export interface MqttBridgeOptions {
  config: BridgeConfig
  /** Where points go: the node's TransactionalKafkaWriter (shared with HTTP writes) or the bridge's own. */
  sink: RecordSink
  catalog: WriteCatalog
  /** For dead letters. */
  kafka: Kafka
  ingestPartitions: number
  ingestSchemaId: number
  /** Tenant of the points when the config names none (a node passes its default tenant). Default "default". */
  defaultTenant?: string
  lineProtocolLimits?: LineProtocolLimits
  log: (event: Record<string, unknown>) => void
}

export interface MqttBridgeStats {
  messagesReceived: number
  /** Messages whose PUBACK was sent. */
  messagesAcknowledged: number
  messagesDeadLettered: number
  pointsWritten: number
  /** Failed attempts to land a batch (each retried). */
  writeFailures: number
  connects: number
}

export interface MqttBridge {
  stats(): MqttBridgeStats
  /** Resolves on the first CONNACK. */
  connected(): Promise<void>
  stop(): Promise<void>
}

/** The error handleMessage calls back with so that mqtt.js moves on without a PUBACK. */
const DEFERRED_ACK = Object.freeze(new Error('PUBACK deferred until Kafka acknowledged the message'))

interface Pending {
  topic: string
  payload: Buffer
  qos: number
  messageId: number | undefined
  /** The connection it arrived on. */
  generation: number
  receivedAtNs: bigint
  decoded: DecodedMessage | undefined
  records: IngestRecordOut[] | undefined
  rejection: Rejection | undefined
  /** Points of its records. */
  points: number
  format: string
}

type SendPacket = (packet: { cmd: 'puback'; messageId: number }, callback?: (error?: Error) => void) => void

/** A strictly increasing wall clock in ns: two messages never share an arrival time in one bridge. */
function arrivalClock(): () => bigint {
  let last = 0n
  return () => {
    const now = BigInt(Date.now()) * 1_000_000n
    last = now > last ? now : last + 1n
    return last
  }
}

export async function startMqttBridge(options: MqttBridgeOptions): Promise<MqttBridge> {
  const deadLetters = new DeadLetterWriter(options.kafka, options.config.deadLetterTopic)
  await deadLetters.ensureTopic()
  const bridge = new Bridge(options, deadLetters)
  bridge.start()
  return bridge
}

class Bridge implements MqttBridge {
  private readonly config: BridgeConfig
  private readonly decoder: MessageDecoder
  private readonly queue: Pending[] = []
  private readonly held: Array<() => void> = []
  private readonly clock = arrivalClock()
  private readonly counters: MqttBridgeStats = { messagesReceived: 0, messagesAcknowledged: 0, messagesDeadLettered: 0, pointsWritten: 0, writeFailures: 0, connects: 0 }
  private client!: MqttClient
  private generation = 0
  private stopping = false
  private wakeup: (() => void) | undefined
  private loop: Promise<void> | undefined
  private firstConnect!: Promise<void>
  private cancelSleep: (() => void) | undefined
  /** When each Sparkplug edge node was last sent a Rebirth command, ms. */
  private readonly rebirthRequested = new Map<string, number>()

  constructor(private readonly options: MqttBridgeOptions, private readonly deadLetters: DeadLetterWriter) {
    this.config = options.config
    this.decoder = new MessageDecoder(options.config, options.lineProtocolLimits)
  }

  start(): void {
    const config = this.config
    this.client = mqtt.connect(config.url, {
      clientId: config.clientId,
      clean: false,
      protocolVersion: config.protocolVersion,
      keepalive: config.keepaliveSeconds,
      reconnectPeriod: 1_000,
      connectTimeout: 10_000,
      resubscribe: false,
      ...(config.username !== undefined ? { username: config.username } : {}),
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...(config.protocolVersion === 5 ? { properties: { sessionExpiryInterval: config.sessionExpirySeconds, receiveMaximum: Math.min(65_535, config.limits.maxPendingMessages) } } : {}),
    })
    if (typeof (this.client as unknown as { _sendPacket?: unknown })._sendPacket !== 'function') {
      throw new Error('mqtt.js has no _sendPacket: this version cannot send deferred PUBACKs (pipeline/mqtt/bridge.ts)')
    }
    this.client.handleMessage = (packet, callback) => this.receive(packet, callback)
    this.firstConnect = new Promise(resolve => this.client.once('connect', () => resolve()))
    this.client.on('connect', connack => {
      this.counters.connects++
      this.options.log({ level: 'info', event: 'mqtt_connected', url: config.url, clientId: config.clientId, sessionPresent: connack.sessionPresent })
      this.subscribe()
    })
    this.client.on('close', () => { this.generation++ })
    this.client.on('offline', () => this.options.log({ level: 'warn', event: 'mqtt_offline', url: config.url }))
    this.client.on('error', error => this.options.log({ level: 'warn', event: 'mqtt_error', url: config.url, error: error.message }))
    this.loop = this.run()
  }

  /** Every subscription on every connect: a broker that lost the session (restart without persistence) gets them back. */
  private subscribe(): void {
    const topics: Record<string, { qos: 0 | 1; rh?: number }> = {}
    for (const subscription of this.config.subscriptions) {
      // MQTT 5: retained messages only for new subscriptions, not again on every reconnect.
      topics[subscription.topic.filter] = { qos: subscription.qos, ...(this.config.protocolVersion === 5 ? { rh: 1 } : {}) }
    }
    this.client.subscribe(topics, (error, granted) => {
      if (error) return this.options.log({ level: 'warn', event: 'mqtt_subscribe_failed', error: error.message })
      const refused = (granted ?? []).filter(grant => grant.qos === 128)
      this.options.log({ level: refused.length > 0 ? 'error' : 'info', event: 'mqtt_subscribed', topics: (granted ?? []).map(grant => `${grant.topic} qos ${grant.qos}`) })
    })
  }

  private receive(packet: IPublishPacket, callback: (error?: Error) => void): void {
    this.counters.messagesReceived++
    this.queue.push({
      topic: packet.topic, payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), qos: packet.qos,
      messageId: packet.messageId, generation: this.generation, receivedAtNs: this.clock(),
      decoded: undefined, records: undefined, rejection: undefined, points: 0, format: 'unknown',
    })
    this.wakeup?.()
    const proceed = (): void => callback(packet.qos === 1 ? DEFERRED_ACK : undefined)
    // Past the limit the connection is not read until acknowledgements catch up.
    if (this.queue.length >= this.config.limits.maxPendingMessages) this.held.push(proceed)
    else proceed()
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (this.queue.length === 0) {
        await new Promise<void>(resolve => { this.wakeup = resolve })
        this.wakeup = undefined
        continue
      }
      const group = this.queue.slice(0, this.config.limits.maxMessagesPerWrite)
      const landed = await this.land(group)
      this.queue.splice(0, group.length)
      for (const pending of group) this.releaseBatch(pending)
      this.acknowledge(landed)
      while (this.held.length > 0 && this.queue.length < this.config.limits.maxPendingMessages) this.held.shift()!()
    }
  }

  /**
   * Writes the group until it is in Kafka; returns what landed. Between attempts, QoS 1 messages of
   * an earlier connection leave the group (the broker sends them again on this one); when the
   * bridge stops, the group is given up unacknowledged.
   */
  private async land(group: Pending[]): Promise<Pending[]> {
    let delayMs = this.config.limits.initialRetryDelayMs
    for (;;) {
      try {
        await this.write(group)
        return group
      } catch (error) {
        this.counters.writeFailures++
        const live = group.filter(pending => pending.qos !== 1 || pending.generation === this.generation)
        this.options.log({ level: 'warn', event: 'mqtt_write_failed', messages: group.length, left: group.length - live.length, retryInMs: delayMs, error: (error as Error).message })
        group = live
        if (group.length === 0 || this.stopping) return []
        await this.sleep(delayMs)
        if (this.stopping) return []
        delayMs = Math.min(delayMs * 2, this.config.limits.maxRetryDelayMs)
      }
    }
  }

  private async write(group: Pending[]): Promise<void> {
    const records: IngestRecordOut[] = []
    const letters: Message[] = []
    for (const pending of group) {
      await this.prepare(pending)
      if (pending.records) {
        for (const record of pending.records) records.push(record)
      }
      if (pending.rejection) letters.push(deadLetterMessage(pending, pending.rejection, this.config.clientId, this.config.limits.maxReasonChars))
    }
    // The delivery's span: its traceparent rides on the records, so the master's transaction span links to it.
    const span = startSendSpan({ tracerName: 'sluice-mqtt', topic: INGEST_TOPIC_NAME, records: records.length, attributes: { 'sluice.mqtt.messages': group.length, 'sluice.mqtt.dead_letters': letters.length } })
    try {
      await Promise.all([
        records.length > 0 ? this.options.sink.write(records, Date.now() + this.config.limits.writeTimeoutMs, headersOfSpan(span)) : undefined,
        this.deadLetters.write(letters),
      ])
    } catch (error) {
      endSpan(span, error)
      throw error
    }
    endSpan(span)
    this.counters.messagesDeadLettered += letters.length
    for (const pending of group) this.counters.pointsWritten += pending.points
  }

  /** Decodes (once) and encodes a message's records; a refusal becomes its dead letter. Throws only what a retry may fix. */
  private async prepare(pending: Pending): Promise<void> {
    if (pending.records !== undefined || pending.rejection !== undefined) return
    if (pending.decoded === undefined) {
      try {
        pending.decoded = this.decoder.decode(pending.topic, pending.payload, pending.receivedAtNs)
        pending.format = pending.decoded.subscription.payload.format
      } catch (error) {
        if (!isRefusal(error)) throw error
        pending.rejection = { code: error.code, reason: error.message, partial: false }
        if (error.code === MqttErrorCode.SPARKPLUG_ALIAS) this.requestRebirth(pending.topic)
        return
      }
      if (pending.decoded.refusedCode === MqttErrorCode.SPARKPLUG_ALIAS && pending.decoded.refused.length > 0) this.requestRebirth(pending.topic)
    }
    const decoded = pending.decoded
    if (decoded.batch === null) {
      pending.records = []
      return
    }
    const tenant = this.config.tenant ?? this.options.defaultTenant ?? 'default'
    try {
      await this.options.catalog.requireDatabase(tenant, decoded.database)
      const check = await this.options.catalog.checkFieldTypes(tenant, decoded.database, decoded.batch)
      const refused = [...decoded.refused, ...check.errors.map(error => error.reason)]
      pending.records = toIngestRecords(decoded.batch, {
        tenant, database: decoded.database, partitions: this.options.ingestPartitions, source: 'mqtt',
        receivedAtNs: pending.receivedAtNs, schemaId: this.options.ingestSchemaId, accepted: check.accepted,
      })
      pending.points = check.acceptedCount
      if (refused.length > 0) {
        const code = check.errors.length > 0 && decoded.refused.length === 0 ? check.errors[0]!.code : decoded.refusedCode
        pending.rejection = { code, reason: refused.join('; '), partial: check.acceptedCount > 0 }
      }
    } catch (error) {
      if ((error as { retriable?: unknown }).retriable !== false || !(error instanceof Error)) throw error
      pending.rejection = { code: String((error as { code?: unknown }).code ?? 'SLUICE_ERR_INTERNAL'), reason: error.message, partial: false }
    }
    this.releaseBatch(pending)
  }

  /** Asks the edge node of a Sparkplug message to publish its births again, when its subscription says so (QoS 0, rate-limited). */
  private requestRebirth(topic: string): void {
    const { subscription } = this.decoder.route(topic)
    if (subscription.payload.format !== 'sparkplug' || !subscription.payload.requestRebirth) return
    const where = parseSparkplugTopic(topic)
    const edge = `${where.group}/${where.edgeNode}`
    const nowMs = Date.now()
    if (nowMs - (this.rebirthRequested.get(edge) ?? -Infinity) < this.config.limits.minRebirthIntervalMs) return
    if (this.rebirthRequested.size >= this.config.limits.maxSparkplugDevices) this.rebirthRequested.clear()
    this.rebirthRequested.set(edge, nowMs)
    const command = rebirthCommand(where, nowMs)
    this.client.publish(command.topic, command.payload, { qos: 0 })
    this.options.log({ level: 'info', event: 'sparkplug_rebirth_requested', topic: command.topic })
  }

  private releaseBatch(pending: Pending): void {
    const batch = pending.decoded?.batch
    if (batch && !batch.released) batch.release()
  }

  /** PUBACKs in arrival order, for messages of the current connection only. */
  private acknowledge(group: Pending[]): void {
    const send = (this.client as unknown as { _sendPacket: SendPacket })._sendPacket.bind(this.client)
    for (const pending of group) {
      if (pending.qos !== 1 || pending.messageId === undefined) continue
      if (pending.generation !== this.generation || !this.client.connected) continue
      send({ cmd: 'puback', messageId: pending.messageId })
      this.counters.messagesAcknowledged++
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(done, ms)
      function done(): void { clearTimeout(timer); resolve() }
      this.cancelSleep = done
    })
  }

  stats(): MqttBridgeStats {
    return { ...this.counters }
  }

  connected(): Promise<void> {
    return this.firstConnect
  }

  /** Stops reading, lets the batch in flight finish (one attempt), sends its PUBACKs, disconnects. */
  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.cancelSleep?.()
    this.wakeup?.()
    await this.loop
    for (const pending of this.queue) this.releaseBatch(pending)
    for (const proceed of this.held.splice(0)) proceed()
    await this.client.endAsync()
    await this.deadLetters.close()
    this.options.log({ level: 'info', event: 'mqtt_bridge_stopped', ...this.counters })
  }
}
