// Shared by the integration/http-*.test.ts files: read everything in sluice.ingest (read_committed)
// and decode Sluice's records into points, so a test can check that each point arrived exactly once.
//
// "Everything": after the writes under test, one end marker is produced to every partition; since
// the writes were acknowledged (committed) before, each partition's marker comes after all of them,
// and reading until every partition's marker was seen reads all of them, with no timing involved.

import '../lib/kafka/aborted-filter.ts' // before kafkajs loads: read_committed drops every aborted record
import { randomUUID } from 'node:crypto'
import kafkajs from 'kafkajs'
import { Redis } from 'ioredis'
import { registerLz4Codec } from '../lib/kafka/lz4-codec.ts'
import { decodeIngestRecord, unframe } from '../schemas/index.ts'
import { kafkaClient } from './support/kafka.ts'

export const INGEST_TOPIC = 'sluice.ingest'

export interface IngestedPoint {
  partition: number
  offset: string
  key: string
  tenant: string
  database: string
  seriesKey: string
  timeNs: bigint
  fields: Record<string, unknown>
  idempotencyKey: string | null
  /** The record's sluice-format and traceparent headers. */
  format: string | undefined
  traceparent: string | undefined
}

/** Reads sluice.ingest to its end (as of this call) with read_committed; returns every point of Sluice's records. */
export async function readIngest(bootstrap: string, options: { timeoutMs?: number } = {}): Promise<IngestedPoint[]> {
  registerLz4Codec() // nodes compress sluice.ingest with LZ4 by default
  const kafka = kafkaClient(bootstrap)
  const admin = kafka.admin()
  await admin.connect()
  const partitions = (await admin.fetchTopicMetadata({ topics: [INGEST_TOPIC] })).topics[0]!.partitions.map(p => p.partitionId)
  await admin.disconnect()
  const marker = `END-${randomUUID()}`
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner })
  await producer.connect()
  await producer.send({ topic: INGEST_TOPIC, acks: -1, messages: partitions.map(partition => ({ partition, value: marker, headers: { 'sluice-test-marker': 'true' } })) })
  await producer.disconnect()

  const consumer = kafka.consumer({ groupId: `reader-${randomUUID()}`, readUncommitted: false, maxWaitTimeInMs: 200, sessionTimeout: 10_000, heartbeatInterval: 500 })
  const points: IngestedPoint[] = []
  const ended = new Set<number>()
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [INGEST_TOPIC], fromBeginning: true })
    let finish!: () => void
    const done = new Promise<void>(resolve => { finish = resolve })
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = message.value
        if (!value) return
        if (message.headers?.['sluice-test-marker'] !== undefined) {
          if (value.toString() === marker) ended.add(partition)
          if (ended.size === partitions.length) finish()
          return
        }
        if (message.headers?.['sluice-format']?.toString() !== 'ingest-record') return // raw records of outside producers
        const batch = decodeIngestRecord(unframe(value).payload).batch
        if (!batch) return
        for (const point of batch.points) {
          points.push({
            partition, offset: message.offset, key: message.key?.toString() ?? '', tenant: batch.tenant, database: batch.database,
            seriesKey: batch.seriesKey, timeNs: point.timeNs, fields: Object.fromEntries(point.fields.map(f => [f.name, f.value])),
            idempotencyKey: batch.idempotencyKey,
            format: message.headers?.['sluice-format']?.toString(), traceparent: message.headers?.traceparent?.toString(),
          })
        }
      },
    })
    const timeoutMs = options.timeoutMs ?? 60_000
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([done.then(() => false), new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(true), timeoutMs) })])
    clearTimeout(timer)
    if (timedOut) throw new Error(`sluice.ingest: end markers seen on ${ended.size} of ${partitions.length} partitions after ${timeoutMs} ms`)
  } finally {
    await consumer.disconnect()
  }
  return points
}

/** A name unique to this test run, so state left in the shared Redis by other runs never matters. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`
}

/** Point identity for exactly-once checks. */
export const pointId = (point: Pick<IngestedPoint, 'database' | 'seriesKey' | 'timeNs'>): string => `${point.database}|${point.seriesKey}|${point.timeNs}`

/** How many times each point identity occurs among `points` restricted to `database`. */
export function countByPoint(points: readonly IngestedPoint[], database: string): Map<string, number> {
  const counts = new Map<string, number>()
  for (const point of points) {
    if (point.database !== database) continue
    const id = pointId(point)
    counts.set(id, (counts.get(id) ?? 0) + 1)
  }
  return counts
}

/** Deletes what the tests left in the shared Redis under these tenants (databases, field types, Idempotency-Keys). */
export async function forgetTenants(tenants: readonly string[], redisUrl = 'redis://127.0.0.1:6379'): Promise<void> {
  const redis = new Redis(redisUrl)
  try {
    for (const tenant of tenants) {
      const name = encodeURIComponent(tenant)
      const keys = [`sluice:databases:${name}`, `sluice:ttl:${name}`, `sluice:generation:${name}`]
      for (const pattern of [`sluice:fields:${name}:*`, `sluice:tags:${name}:*`, `sluice:idem:${name}:*`]) {
        let cursor = '0'
        do {
          const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
          cursor = next
          keys.push(...found)
        } while (cursor !== '0')
      }
      await redis.del(...keys)
    }
  } finally {
    redis.disconnect()
  }
}
