// kafkajs helpers for integration tests: a quiet client, and collecting what a consumer reads.

import { requireAbortedFilter } from '../../lib/kafka/aborted-filter.ts' // before kafkajs loads
import kafkajs, { type Consumer, type KafkaConfig } from 'kafkajs'
import { registerLz4Codec } from '../../lib/kafka/lz4-codec.ts'

const { Kafka, logLevel } = kafkajs

/**
 * A client that reads Sluice's topics: their record batches are LZ4 (kafkajs ships only gzip), and
 * its read_committed consumers drop every aborted record (a test file that loaded kafkajs before
 * lib/kafka/aborted-filter.ts fails here).
 */
export function kafkaClient(bootstrap: string, overrides: Partial<KafkaConfig> = {}): InstanceType<typeof Kafka> {
  requireAbortedFilter()
  registerLz4Codec()
  return new Kafka({
    clientId: 'sluice-it',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
    ...overrides,
  })
}

export interface ConsumedRecord {
  topic: string
  partition: number
  offset: string
  key: string | null
  value: string | null
  /** The value's bytes, when the reader asked for `raw`. */
  rawValue?: Buffer | null
}

/**
 * Reads a topic from the beginning with a fresh group until `until` says enough (or the deadline
 * passes), then disconnects. Returns everything read, in arrival order.
 */
export async function consumeUntil(
  kafka: InstanceType<typeof Kafka>,
  topic: string,
  options: {
    groupId?: string; readUncommitted?: boolean; raw?: boolean; until: (records: ConsumedRecord[]) => boolean; timeoutMs?: number; sessionTimeout?: number
    /** Fetch size per partition: small ones make every fetch start where the last one stopped, inside transactions. */
    maxBytesPerPartition?: number
  },
): Promise<ConsumedRecord[]> {
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId ?? `reader-${Math.random().toString(36).slice(2)}`,
    readUncommitted: options.readUncommitted ?? false,
    sessionTimeout: options.sessionTimeout ?? 10_000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 200,
    ...(options.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: options.maxBytesPerPartition, maxBytes: options.maxBytesPerPartition }),
  })
  const records: ConsumedRecord[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    let finish!: () => void
    const done = new Promise<void>(resolve => { finish = resolve })
    await consumer.run({
      eachMessage: async ({ topic: from, partition, message }) => {
        records.push({ topic: from, partition, offset: message.offset, key: message.key?.toString() ?? null, value: message.value?.toString() ?? null, ...(options.raw ? { rawValue: message.value } : {}) })
        if (options.until(records)) finish()
      },
    })
    const timeoutMs = options.timeoutMs ?? 20_000
    let timer: NodeJS.Timeout | undefined
    await Promise.race([done, new Promise(resolve => { timer = setTimeout(resolve, timeoutMs) })])
    clearTimeout(timer)
  } finally {
    await consumer.disconnect()
  }
  return records
}

export const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

/** Polls `check` until it returns true or the deadline passes; returns whether it held. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(intervalMs)
  }
  return check()
}
