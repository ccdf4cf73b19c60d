// Fetch (brief §3.5, §4.1): whole stored batches per partition below HW (read_uncommitted) or LSO
// (read_committed), within the response and partition byte limits, the first batch of the first
// partition with data always included (KIP-74). Long-polls until minBytes have gathered, maxWaitMs
// passes, or the connection closes; any partition moving (HW or LSO) triggers a new look.

import type { FetchRequest, FetchResponse } from '../../protocol/apis/fetch.ts'
import { fetchApi } from '../../protocol/apis/fetch.ts'
import { ErrorCode, KafkaError } from '../../protocol/errors.ts'
import { route, type BrokerParts } from '../context.ts'
import { connectionClosed, onConnectionClosed } from './connection-closed.ts'

type PartitionResponse = FetchResponse['responses'][number]['partitions'][number]

/** Kafka answers an empty fetch with an empty record set, never null (librdkafka rejects a -1 size). */
const NO_RECORDS = Buffer.alloc(0)

export const fetchRoute = route(fetchApi, async (request, context, broker) => {
  const isolation: 0 | 1 = request.isolationLevel === 1 ? 1 : 0
  const minBytes = Math.max(request.minBytes, 1)
  const deadlineMs = Date.now() + Math.max(request.maxWaitMs, 0)
  for (;;) {
    const answer = collect(request, isolation, broker)
    const remainingMs = deadlineMs - Date.now()
    if (answer.bytes >= minBytes || answer.failed || remainingMs <= 0 || connectionClosed(context.closed)) {
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses: answer.responses }
    }
    await nextChange(request, broker, remainingMs, context.closed)
  }
})

function collect(request: FetchRequest, isolation: 0 | 1, broker: BrokerParts): { responses: FetchResponse['responses']; bytes: number; failed: boolean } {
  let budget = request.maxBytes > 0 ? request.maxBytes : Number.MAX_SAFE_INTEGER
  let bytes = 0
  let failed = false
  const responses = request.topics.map(topic => ({
    topic: topic.topic,
    partitions: topic.partitions.map((p): PartitionResponse => {
      const response: PartitionResponse = {
        partitionIndex: p.partition, errorCode: ErrorCode.NONE, highWatermark: -1n, lastStableOffset: -1n, logStartOffset: -1n,
        abortedTransactions: null, preferredReadReplica: -1, records: NO_RECORDS,
      }
      const log = broker.logs.partition(topic.topic, p.partition)
      if (!log) {
        response.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        failed = true
        return response
      }
      try {
        // Later partitions read within what is left of the response budget; the log always
        // returns one whole batch, which only the first partition with data may keep if too big.
        const read = log.read(p.fetchOffset, Math.min(p.partitionMaxBytes, budget), isolation)
        const records = read.records && (bytes === 0 || read.records.length <= budget) ? read.records : null
        response.highWatermark = read.highWatermark
        response.lastStableOffset = read.lastStableOffset
        response.logStartOffset = read.logStartOffset
        response.abortedTransactions = read.abortedTransactions
        response.records = records ?? NO_RECORDS
        bytes += records?.length ?? 0
        budget = Math.max(budget - (records?.length ?? 0), 0)
      } catch (error) {
        if (!(error instanceof KafkaError)) throw error
        response.errorCode = error.code
        response.highWatermark = log.highWatermark
        response.lastStableOffset = log.lastStableOffset
        response.logStartOffset = log.logStartOffset
        failed = true
      }
      return response
    }),
  }))
  return { responses, bytes, failed }
}

/** Resolves when any requested partition's HW or LSO moves, `waitMs` passes, or the connection closes. */
function nextChange(request: FetchRequest, broker: BrokerParts, waitMs: number, closed: Promise<void>): Promise<void> {
  return new Promise(resolve => {
    const unsubscribers: Array<() => void> = []
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      for (const unsubscribe of unsubscribers) unsubscribe()
      resolve()
    }
    const timer = setTimeout(finish, waitMs)
    for (const topic of request.topics) {
      for (const p of topic.partitions) {
        const log = broker.logs.partition(topic.topic, p.partition)
        if (log) unsubscribers.push(log.onChange(finish))
      }
    }
    unsubscribers.push(onConnectionClosed(closed, finish))
  })
}
