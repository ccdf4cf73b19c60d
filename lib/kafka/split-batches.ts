// Splitting what one transaction sends into produce requests the broker accepts: a broker refuses a
// record batch above its max.message.bytes (1 MiB by default, on Kafka and the embedded broker)
// with MESSAGE_TOO_LARGE, and a consume-transform-produce loop that retries the same chunk would
// fail on it forever. Requests are sent one after another inside the transaction, so each
// partition keeps its order.

import type { Message, TopicMessages } from 'kafkajs'

/** Keys, values and headers of one (topic, partition) per request: under the 1 MiB default with room for batch overhead. */
export const DEFAULT_MAX_PARTITION_BATCH_BYTES = 900_000
/** What a record adds to its batch beyond its key, value and headers (attributes, varints, offsets). */
const RECORD_OVERHEAD_BYTES = 24

function length(value: Message['value'] | Message['key'] | undefined): number {
  if (value === null || value === undefined) return 0
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length
}

/** A record's approximate size in its batch. */
export function messageBytes(message: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + length(message.key) + length(message.value)
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    bytes += Buffer.byteLength(name)
    for (const item of Array.isArray(value) ? value : [value]) bytes += length(item as Buffer | string | undefined)
  }
  return bytes
}

/**
 * `topicMessages` as successive sendBatch payloads in which no (topic, partition) holds more than
 * `maxBytes`; a single record larger than that goes alone (the broker then names it). One payload
 * when everything fits.
 */
export function splitTopicMessages(topicMessages: readonly TopicMessages[], maxBytes = DEFAULT_MAX_PARTITION_BATCH_BYTES): TopicMessages[][] {
  const requests: TopicMessages[][] = []
  let current = new Map<string, Message[]>()
  let used = new Map<string, number>()
  for (const { topic, messages } of topicMessages) {
    for (const message of messages) {
      const where = `${topic}\u0000${message.partition ?? -1}`
      const bytes = messageBytes(message)
      const before = used.get(where) ?? 0
      if (before > 0 && before + bytes > maxBytes) {
        requests.push([...current].map(([name, list]) => ({ topic: name, messages: list })))
        current = new Map()
        used = new Map()
      }
      let list = current.get(topic)
      if (!list) current.set(topic, list = [])
      list.push(message)
      used.set(where, (used.get(where) ?? 0) + bytes)
    }
  }
  if (current.size > 0) requests.push([...current].map(([name, list]) => ({ topic: name, messages: list })))
  return requests
}
