// ListOffsets (brief §4.1): -1 (latest) → HW, or LSO under read_committed; -2 (earliest) → the log
// start; t ≥ 0 → the first batch whose max timestamp reaches t, or offset -1 and timestamp -1.
// v0 answers in the old style, an array holding the one offset.

import { listOffsetsApi, type ListOffsetsResponse } from '../../protocol/apis/list-offsets.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import type { PartitionLog } from '../../log/partition-log.ts'
import { route } from '../context.ts'

const LATEST = -1n
const EARLIEST = -2n

type PartitionResponse = ListOffsetsResponse['topics'][number]['partitions'][number]

export const listOffsetsRoute = route(listOffsetsApi, (request, context, broker) => ({
  throttleTimeMs: 0,
  topics: request.topics.map(topic => ({
    name: topic.name,
    partitions: topic.partitions.map((p): PartitionResponse => {
      const log = broker.logs.partition(topic.name, p.partitionIndex)
      if (!log) return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, timestamp: -1n, offset: -1n, oldStyleOffsets: [] }
      const found = lookup(log, p.timestamp, request.isolationLevel === 1 ? 1 : 0)
      const oldStyleOffsets = context.apiVersion === 0 && found.offset >= 0n && (p.maxNumOffsets ?? 1) > 0 ? [found.offset] : []
      return { partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE, timestamp: found.timestamp, offset: found.offset, oldStyleOffsets }
    }),
  })),
}))

function lookup(log: PartitionLog, timestamp: bigint, isolation: 0 | 1): { offset: bigint; timestamp: bigint } {
  if (timestamp === LATEST) return { offset: isolation === 1 ? log.lastStableOffset : log.highWatermark, timestamp: -1n }
  if (timestamp === EARLIEST) return { offset: log.logStartOffset, timestamp: -1n }
  if (timestamp < 0n) return { offset: -1n, timestamp: -1n }
  return log.offsetForTimestamp(timestamp, isolation) ?? { offset: -1n, timestamp: -1n }
}
