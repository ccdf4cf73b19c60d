// The schema registry kept in the compacted `_schemas` topic, shared by every node.
//
// Reading: a read_committed consumer replays the topic from the start into the registry
// (applyRecord is idempotent) and then follows it, so writes made on any node reach every node.
//
// Writing: each write is one Kafka transaction under the transactional id
// `sluice-schema-registry`. Before the registry computes a write (ids, versions), the store opens
// a fresh transactional producer, whose InitProducerId fences whichever node wrote last and
// aborts anything it left open, commits a NOOP record and replays the topic up to it. So a write
// is computed from the whole topic, and a node that computed from a stale state can no longer
// commit: its producer was fenced by the newer writer. Schema writes are rare; two transactions
// and a connection per write are cheap.

import { requireAbortedFilter } from '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import kafkajs, { type Admin, type Consumer, type Kafka, type Producer } from 'kafkajs'
import { randomUUID } from 'node:crypto'
import { MAX_FETCH_WAIT_MS } from '../../lib/kafka/long-poll.ts'
import { restartWhenKafkajsGivesUp, type ConsumerRestartOptions } from '../../lib/kafka/consumer-restart.ts'
import { SCHEMAS_TOPIC, SchemaRegistry, type SchemaStore, type SchemaTopicRecord } from '../../schemas/index.ts'

const { CompressionTypes } = kafkajs

export const REGISTRY_TRANSACTIONAL_ID = 'sluice-schema-registry'
/** Confluent's own no-op key: the registry ignores it on replay. */
const NOOP_KEY = '{"keytype":"NOOP","magic":0}'

export interface KafkaSchemaRegistryOptions {
  kafka: Kafka
  /** Names this node's reader group, `sluice-registry-<nodeId>-<random>`. */
  nodeId: string
  topic?: string
  /** How long opening, or a write, may wait to replay the topic to its end. */
  catchUpTimeoutMs?: number
  /** Told about `_schemas` records the registry could not apply (they are skipped). */
  onBadRecord?: (error: Error, where: { partition: number; offset: string }) => void
  /** Told when the consumer is started again after a crash kafkajs does not restart (consumer-restart.ts). */
  onRestart?: ConsumerRestartOptions['log']
}

export interface KafkaSchemaRegistry {
  registry: SchemaRegistry
  /** Resolves once every record up to the topic's current end has been applied here. */
  catchUp(): Promise<void>
  close(): Promise<void>
}

export async function openKafkaSchemaRegistry(options: KafkaSchemaRegistryOptions): Promise<KafkaSchemaRegistry> {
  const store = new KafkaSchemaStore(options)
  await store.open()
  return { registry: store.registry, catchUp: () => store.catchUp(), close: () => store.close() }
}

class KafkaSchemaStore implements SchemaStore {
  readonly registry: SchemaRegistry
  private readonly topic: string
  private readonly timeoutMs: number
  private readonly admin: Admin
  private readonly consumer: Consumer
  private producer: Producer | null = null
  /** The next offset the reader will apply: every record below it is in the registry. */
  private position = 0n
  private closing = false
  private cancelRestart: () => Promise<void> = async () => {}
  private waiters: Array<{ target: bigint; resolve: () => void }> = []

  constructor(private readonly options: KafkaSchemaRegistryOptions) {
    this.topic = options.topic ?? SCHEMAS_TOPIC
    this.timeoutMs = options.catchUpTimeoutMs ?? 30_000
    this.registry = new SchemaRegistry({ store: this })
    this.admin = options.kafka.admin()
    requireAbortedFilter() // read_committed must drop every aborted record (aborted-filter.ts)
    this.consumer = options.kafka.consumer({
      groupId: `sluice-registry-${options.nodeId}-${randomUUID().slice(0, 8)}`,
      readUncommitted: false,
      maxWaitTimeInMs: MAX_FETCH_WAIT_MS, // below kafkajs's default heartbeat interval, 3 s
    })
  }

  async open(): Promise<void> {
    await this.admin.connect()
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: this.topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }],
    })
    // Emitted after each batch is applied, and also for fetches that held only transaction
    // markers (which never reach eachBatch); lastOffset counts the markers.
    this.consumer.on(this.consumer.events.END_BATCH_PROCESS, ({ payload }) => this.advance(BigInt(payload.lastOffset) + 1n))
    this.cancelRestart = restartWhenKafkajsGivesUp(this.consumer, () => this.runConsumer(), {
      stopped: () => this.closing,
      log: fields => this.options.onRestart?.(fields),
    })
    await this.runConsumer()
    await this.catchUp()
  }

  /** Replays the topic into the registry and follows it (again after a crash kafkajs does not restart). */
  private async runConsumer(): Promise<void> {
    await this.consumer.connect()
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true })
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) {
          try {
            this.registry.applyRecord(message.key ?? Buffer.alloc(0), message.value)
          } catch (error) {
            this.options.onBadRecord?.(error as Error, { partition: batch.partition, offset: message.offset })
          }
        }
      },
    })
  }

  async catchUp(): Promise<void> {
    const [end] = await this.admin.fetchTopicOffsets(this.topic) // the last stable offset
    await this.reach(BigInt(end!.high))
  }

  async beforeWrite(): Promise<void> {
    await this.producer?.disconnect().catch(() => {})
    this.producer = null
    const producer = this.options.kafka.producer({ transactionalId: REGISTRY_TRANSACTIONAL_ID, idempotent: true, maxInFlightRequests: 1 })
    await producer.connect() // InitProducerId: fences the previous writer, aborts what it left open
    this.producer = producer
    // The last stable offset may still sit below a transaction another writer committed just
    // before being fenced (its markers not yet written). A NOOP record committed now lies after
    // everything before it; a read_committed reader passes it only once all of that is resolved.
    const transaction = await producer.transaction()
    const [sent] = await transaction.send({ topic: this.topic, acks: -1, messages: [{ key: NOOP_KEY, value: null }] })
    await transaction.commit()
    await this.reach(BigInt(sent!.baseOffset!) + 1n)
  }

  /** Resolves once every record below `target` has been applied here. */
  private async reach(target: bigint): Promise<void> {
    if (this.position >= target) return
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      new Promise<void>(resolve => this.waiters.push({ target, resolve })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.topic}: replay did not reach offset ${target} within ${this.timeoutMs} ms (at ${this.position})`)), this.timeoutMs)
      }),
    ]).finally(() => clearTimeout(timer))
  }

  async append(records: readonly SchemaTopicRecord[]): Promise<void> {
    const producer = this.producer
    if (!producer) throw new Error('schema store: append without beforeWrite')
    this.producer = null // the next write starts a new producer, fencing this one
    try {
      const transaction = await producer.transaction()
      try {
        await transaction.send({
          topic: this.topic,
          acks: -1,
          compression: CompressionTypes.None,
          messages: records.map(record => ({ key: record.key, value: record.value })),
        })
        await transaction.commit()
      } catch (error) {
        await transaction.abort().catch(() => {})
        throw error
      }
    } finally {
      await producer.disconnect().catch(() => {})
    }
  }

  async close(): Promise<void> {
    this.closing = true
    await this.cancelRestart()
    await this.producer?.disconnect().catch(() => {})
    await this.consumer.disconnect()
    await this.admin.disconnect()
    for (const waiter of this.waiters) waiter.resolve()
    this.waiters = []
  }

  private advance(position: bigint): void {
    if (position <= this.position) return
    this.position = position
    const ready = this.waiters.filter(waiter => waiter.target <= position)
    this.waiters = this.waiters.filter(waiter => waiter.target > position)
    for (const waiter of ready) waiter.resolve()
  }
}
