// Writing Sluice ingest records the way the HTTP API does (parse line protocol, one Avro
// IngestRecord per series, keyed and partitioned by series key, header sluice-format), and reading
// the committed changelog back, for integration tests of the processor and the replicas.

import type { Kafka, Producer } from 'kafkajs'
import { parseLineProtocol, toIngestRecords } from '../../pipeline/ingest/index.ts'
import { sluiceRecordHeaders } from '../../pipeline/source/record-format.ts'
import { changelogEntryType, decode, unframe, type ChangelogEntry } from '../../schemas/index.ts'
import { consumeUntil } from './kafka.ts'

export const INGEST_TOPIC = 'sluice.ingest'
export const CHANGELOG_TOPIC = 'sluice.changelog'

/** Creates sluice.ingest with `partitions` partitions, as the first node would. */
export async function createIngestTopic(kafka: Kafka, partitions: number): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    await admin.createTopics({ topics: [{ topic: INGEST_TOPIC, numPartitions: partitions }] })
  } finally {
    await admin.disconnect()
  }
}

/** An idempotent producer, connected, as the tests write Sluice ingest records with. */
export async function connectIngestProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  return producer
}

/** Sends `lines` (line protocol, ns timestamps) as Sluice ingest records; returns how many records were sent. */
export async function sendLines(producer: Producer, lines: string[], options: { partitions: number; database?: string }): Promise<number> {
  const batch = parseLineProtocol(Buffer.from(lines.join('\n')), { nowNs: BigInt(Date.now()) * 1_000_000n })
  if (batch.errors.length > 0) throw new Error(`bad test lines: ${JSON.stringify(batch.errors)}`)
  const records = toIngestRecords(batch, { tenant: 'default', database: options.database ?? 'db', partitions: options.partitions, source: 'test', receivedAtNs: 1n })
  await producer.send({
    topic: INGEST_TOPIC,
    acks: -1,
    messages: records.map(record => ({ partition: record.partition, key: record.key, value: record.value, headers: { ...sluiceRecordHeaders } })),
  })
  return records.length
}

export interface ChangelogRead {
  partition: number
  offset: string
  entry: ChangelogEntry
}

/** Reads sluice.changelog with read_committed until `until` holds or the deadline passes. */
export async function readChangelog(kafka: Kafka, until: (entries: ChangelogRead[]) => boolean, timeoutMs = 30_000): Promise<ChangelogRead[]> {
  const entries: ChangelogRead[] = []
  await consumeUntil(kafka, CHANGELOG_TOPIC, {
    timeoutMs,
    raw: true,
    until: records => {
      const record = records[records.length - 1]!
      entries.push({ partition: record.partition, offset: record.offset, entry: decode(changelogEntryType, unframe(record.rawValue!).payload) })
      return until(entries)
    },
  })
  return entries
}
