// Dead letters of the bridge: a message it cannot take is written to the dead-letter topic (the
// Kafka source's, sluice.deadletter) with the original payload, the MQTT topic and the reason, and
// only then acknowledged to the MQTT broker. An idempotent producer with acks=all; the topic is
// created at start when it is missing (one partition, as the Kafka source creates it).

import '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs'
import { DeadLetterHeader } from '../source/index.ts'
import type { Rejection } from './errors.ts'

/** Headers of an MQTT dead letter besides the source's reason, code, partial and format headers. */
export const MqttDeadLetterHeader = {
  TOPIC: 'sluice-mqtt-topic',
  QOS: 'sluice-mqtt-qos',
  CLIENT_ID: 'sluice-mqtt-client-id',
  /** When the bridge received the message, ms since the epoch. */
  RECEIVED_AT: 'sluice-mqtt-received-at',
} as const

export interface DeadLetterSource {
  topic: string
  payload: Buffer
  qos: number
  receivedAtNs: bigint
  format: string
}

export function deadLetterMessage(message: DeadLetterSource, rejection: Rejection, clientId: string, maxReasonChars: number): Message {
  const reason = rejection.reason.length > maxReasonChars ? `${rejection.reason.slice(0, maxReasonChars)}…` : rejection.reason
  return {
    key: message.topic,
    value: message.payload,
    headers: {
      [DeadLetterHeader.REASON]: reason,
      [DeadLetterHeader.CODE]: rejection.code,
      [DeadLetterHeader.PARTIAL]: String(rejection.partial),
      [DeadLetterHeader.FORMAT]: `mqtt-${message.format}`,
      [MqttDeadLetterHeader.TOPIC]: message.topic,
      [MqttDeadLetterHeader.QOS]: String(message.qos),
      [MqttDeadLetterHeader.CLIENT_ID]: clientId,
      [MqttDeadLetterHeader.RECEIVED_AT]: String(message.receivedAtNs / 1_000_000n),
    },
  }
}

export class DeadLetterWriter {
  private producer: Producer | undefined

  constructor(private readonly kafka: Kafka, private readonly topic: string) {}

  /** Creates the topic if it is missing. */
  async ensureTopic(): Promise<void> {
    const admin = this.kafka.admin()
    await admin.connect()
    try {
      if ((await admin.listTopics()).includes(this.topic)) return
      await admin.createTopics({ topics: [{ topic: this.topic, numPartitions: 1 }], waitForLeaders: true })
    } finally {
      await admin.disconnect()
    }
  }

  /** Resolves once Kafka acknowledged every message (acks=all); a failure drops the producer for a fresh one next time. */
  async write(messages: Message[]): Promise<void> {
    if (messages.length === 0) return
    try {
      if (!this.producer) {
        const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: kafkajs.Partitioners.DefaultPartitioner })
        await producer.connect().catch(async error => { await producer.disconnect().catch(() => {}); throw error })
        this.producer = producer
      }
      await this.producer.send({ topic: this.topic, acks: -1, messages })
    } catch (error) {
      await this.close()
      throw error
    }
  }

  async close(): Promise<void> {
    const producer = this.producer
    this.producer = undefined
    await producer?.disconnect().catch(() => {})
  }
}
