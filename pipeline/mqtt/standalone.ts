// `sluice mqtt-bridge`: the bridge as its own process. It composes what a node would hand it: a
// kafkajs client, sluice.ingest (created when missing, like a node does), the control store (Redis
// or memory) behind a WriteCatalog, the ingest schema id from the schema registry, and its own
// TransactionalKafkaWriter (transactional id `sluice-mqtt-<clientId>-0`), so its writes take the
// same path as HTTP writes.

import '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import kafkajs, { type Kafka } from 'kafkajs'
import { Redis } from 'ioredis'
import { defaultHttpLimits, MemoryControlStore, RedisControlStore, TransactionalKafkaWriter, WriteCatalog, type ControlStore } from '../http/index.ts'
import { openKafkaSchemaRegistry } from '../registry/kafka-store.ts'
import { topicValueSubjects } from '../../schemas/index.ts'
import { startMqttBridge, type MqttBridge } from './bridge.ts'
import type { BridgeConfig } from './config.ts'

const { Kafka: KafkaClient, logLevel } = kafkajs

export const INGEST_TOPIC = 'sluice.ingest'
const STARTUP_TIMEOUT_MS = 60_000

export interface StandaloneOptions {
  config: BridgeConfig
  kafkaBrokers: string[]
  /** Redis URL, or "memory". */
  redisUrl: string
  /** Partitions of sluice.ingest if the bridge creates it. */
  ingestPartitions: number
  autoCreateDatabases: boolean
  log: (event: Record<string, unknown>) => void
}

export interface StandaloneBridge {
  bridge: MqttBridge
  ingestPartitions: number
  close(): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

async function ingestPartitions(kafka: Kafka, options: StandaloneOptions): Promise<number> {
  const admin = kafka.admin()
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  try {
    for (;;) {
      try {
        await admin.connect()
        if (!(await admin.listTopics()).includes(INGEST_TOPIC)) {
          await admin.createTopics({ topics: [{ topic: INGEST_TOPIC, numPartitions: options.ingestPartitions }], waitForLeaders: true })
        }
        const partitions = (await admin.fetchTopicMetadata({ topics: [INGEST_TOPIC] })).topics[0]?.partitions.length ?? 0
        if (partitions < 1) throw new Error(`${INGEST_TOPIC} has no partitions`)
        return partitions
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`Kafka at ${options.kafkaBrokers.join(',')} did not answer within ${STARTUP_TIMEOUT_MS} ms: ${(error as Error).message}`)
        options.log({ level: 'warn', event: 'kafka_wait', error: (error as Error).message })
        await sleep(500)
      }
    }
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

async function controlStore(url: string): Promise<ControlStore> {
  if (url === 'memory') return new MemoryControlStore()
  // No offline queue: while Redis is down a check fails at once and the bridge retries the batch.
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 })
  redis.on('error', () => {})
  await redis.connect()
  return new RedisControlStore(redis)
}

/** Registers Sluice's value schemas as a node does (same order, so the same ids); returns sluice.ingest-value's. */
async function ingestSchemaId(kafka: Kafka, clientId: string): Promise<number> {
  const schemas = await openKafkaSchemaRegistry({ kafka, nodeId: `mqtt-${clientId}` })
  try {
    let id: number | undefined
    for (const [subject, type] of Object.entries(topicValueSubjects)) {
      const registered = await schemas.registry.register(subject, { schema: type.schema })
      if (subject === `${INGEST_TOPIC}-value`) id = registered.id
    }
    if (id === undefined) throw new Error(`no schema for ${INGEST_TOPIC}-value in topicValueSubjects`)
    return id
  } finally {
    await schemas.close()
  }
}

export async function startStandaloneBridge(options: StandaloneOptions): Promise<StandaloneBridge> {
  const { config } = options
  const kafka = new KafkaClient({
    clientId: `sluice-mqtt-${config.clientId}`,
    brokers: options.kafkaBrokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
  })
  const partitions = await ingestPartitions(kafka, options)
  const store = await controlStore(options.redisUrl)
  const schemaId = await ingestSchemaId(kafka, config.clientId)
  const logger = {
    info: (fields: object, message: string) => options.log({ level: 'info', message, ...fields }),
    warn: (fields: object, message: string) => options.log({ level: 'warn', message, ...fields }),
    error: (fields: object, message: string) => options.log({ level: 'error', message, ...fields }),
  }
  const limits = defaultHttpLimits
  const transactionalIdPrefix = `sluice-mqtt-${config.clientId}`
  const writer = new TransactionalKafkaWriter({
    kafka, topic: INGEST_TOPIC, transactionalIdPrefix, producers: 1,
    transactionTimeoutMs: limits.transactionTimeoutMs, maxQueuedRecordBytes: limits.maxQueuedRecordBytes,
    maxTransactionRecords: limits.maxTransactionRecords, maxTransactionBytes: limits.maxTransactionBytes,
    maxPartitionBatchBytes: limits.maxPartitionBatchBytes, logger,
  })
  // A bridge killed inside a transaction left it open; fencing aborts it now instead of at its timeout.
  await writer.start()
  const catalog = new WriteCatalog(store, { autoCreateDatabases: options.autoCreateDatabases })
  const bridge = await startMqttBridge({ config, sink: writer, catalog, kafka, ingestPartitions: partitions, ingestSchemaId: schemaId, log: options.log })
  return {
    bridge,
    ingestPartitions: partitions,
    async close() {
      await bridge.stop()
      await writer.close()
      await store.close()
    },
  }
}
