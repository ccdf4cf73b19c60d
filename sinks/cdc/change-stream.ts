// One subscriber's change stream: reads sluice.changelog (read_committed) from a resume token,
// keeps the entries its filter wants, and writes each event as a server-sent event whose id is the
// token just after it. kafkajs has no manual assignment, so the stream joins a consumer group of
// its own (it is the only member: it gets every partition), seeks each partition to the token on
// every assignment, commits nothing, and deletes the group when it ends.

import { requireAbortedFilter } from '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { randomBytes } from 'node:crypto'
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import { fetchWaitMs } from '../../lib/kafka/long-poll.ts'
import { decodeEntry } from './cdc-loop.ts'
import { eventsOf } from './events.ts'
import { entryMatches, type ChangeFilter } from './filter.ts'
import { cdcEventJson } from './json.ts'
import type { ResumeToken } from './resume-token.ts'

export const CHANGES_GROUP_PREFIX = 'sluice.changes.'
const CHANGELOG_TOPIC = 'sluice.changelog'

/** Where the stream's text goes; resolves once the receiver can take more (backpressure). */
export interface StreamSink {
  write(text: string): Promise<void>
}

export interface ChangeStreamOptions {
  kafka: Kafka
  admin: Admin
  nodeId: string
  version: string
  filter: ChangeFilter
  token: ResumeToken
  sink: StreamSink
  /** Called once if reading fails (the route ends the response). */
  onError(error: Error): void
}

/** Text written to the sink at once rather than per event. */
const WRITE_CHUNK_CHARS = 64 * 1024

export class ChangeStream {
  readonly groupId: string
  private consumer: Consumer | undefined
  private stopped = false
  private failed = false

  constructor(private readonly options: ChangeStreamOptions) {
    this.groupId = `${CHANGES_GROUP_PREFIX}${options.nodeId}.${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  }

  /** The position as of the events written so far (an SSE id). */
  get token(): string {
    return this.options.token.toString()
  }

  async start(): Promise<void> {
    const { kafka, token } = this.options
    requireAbortedFilter() // read_committed must drop every aborted record (aborted-filter.ts)
    const consumer = kafka.consumer({ groupId: this.groupId, readUncommitted: false, maxWaitTimeInMs: fetchWaitMs(1_000), sessionTimeout: 10_000, heartbeatInterval: 1_000, retry: { retries: 5 } })
    this.consumer = consumer
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const partition of payload.memberAssignment[CHANGELOG_TOPIC] ?? []) {
        if (partition < token.partitions) consumer.seek({ topic: CHANGELOG_TOPIC, partition, offset: token.position(partition).offset.toString() })
      }
    })
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(payload.error)
    })
    await consumer.connect()
    await consumer.subscribe({ topic: CHANGELOG_TOPIC, fromBeginning: true })
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, partitionsConsumedConcurrently: 1, eachBatch: payload => this.onBatch(payload) })
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.consumer?.disconnect().catch(() => {})
    // The group held no offsets; leaving it behind would only clutter the broker's group list.
    await this.options.admin.deleteGroups([this.groupId]).catch(() => {})
  }

  private fail(error: Error): void {
    if (this.failed || this.stopped) return
    this.failed = true
    this.options.onError(error)
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { token, filter, sink } = this.options
    const partition = batch.partition
    if (batch.topic !== CHANGELOG_TOPIC || partition >= token.partitions) return
    const nowMs = BigInt(Date.now())
    let text = ''
    try {
      for (const message of batch.messages) {
        if (this.stopped || !isRunning() || isStale()) break
        const offset = BigInt(message.offset)
        const position = token.position(partition)
        if (offset < position.offset) continue
        const entry = decodeEntry(message, partition, offset)
        const fromIndex = offset === position.offset ? position.index : 0
        const events = entryMatches(entry, filter)
          ? eventsOf(entry, message.key?.toString('utf8') ?? '', { partition, offset, timestampMs: BigInt(message.timestamp) }, { version: this.options.version, nowMs }, fromIndex)
          : []
        if (events.length === 0) token.skipEntry(partition, offset)
        for (const event of events) {
          token.advance(partition, offset, event.source.index)
          text += `id: ${token.toString()}\ndata: ${cdcEventJson(event)}\n\n`
          if (text.length >= WRITE_CHUNK_CHARS) {
            await sink.write(text)
            text = ''
          }
        }
        resolveOffset(message.offset)
      }
      if (text.length > 0) await sink.write(text)
      await heartbeat()
    } catch (error) {
      this.fail(error as Error)
      throw error
    }
  }
}
