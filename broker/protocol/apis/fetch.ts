// Fetch (key 1), versions 4-11: field tables from brief Appendix A. v4 is librdkafka's MsgVer2
// gate; v7 adds fetch sessions (Sluice answers sessionId 0, i.e. no session); v11 adds rackId.

import { defineApi, type Fields } from '../schema.ts'

export interface FetchPartition {
  partition: number
  /** v9+. */
  currentLeaderEpoch?: number
  fetchOffset: bigint
  /** v5+ (the follower's log start offset; clients send -1). */
  logStartOffset?: bigint
  partitionMaxBytes: number
}

export interface FetchTopic {
  topic: string
  partitions: FetchPartition[]
}

export interface FetchForgottenTopic {
  topic: string
  partitions: number[]
}

export interface FetchRequest {
  replicaId: number
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  isolationLevel: number
  /** v7+. */
  sessionId?: number
  /** v7+. */
  sessionEpoch?: number
  topics: FetchTopic[]
  /** v7+. */
  forgottenTopicsData?: FetchForgottenTopic[]
  /** v11+. */
  rackId?: string
}

export interface FetchAbortedTransaction {
  producerId: bigint
  firstOffset: bigint
}

export interface FetchPartitionResponse {
  partitionIndex: number
  errorCode: number
  highWatermark: bigint
  lastStableOffset: bigint
  /** v5+. */
  logStartOffset?: bigint
  abortedTransactions: FetchAbortedTransaction[] | null
  /** v11+. */
  preferredReadReplica?: number
  records: Buffer | null
}

export interface FetchTopicResponse {
  topic: string
  partitions: FetchPartitionResponse[]
}

export interface FetchResponse {
  throttleTimeMs: number
  /** v7+. */
  errorCode?: number
  /** v7+. */
  sessionId?: number
  responses: FetchTopicResponse[]
}

const partitionsV4: Fields = [['partition', 'int32'], ['fetchOffset', 'int64'], ['partitionMaxBytes', 'int32']]
const partitionsV5: Fields = [
  ['partition', 'int32'], ['fetchOffset', 'int64'], ['logStartOffset', 'int64'], ['partitionMaxBytes', 'int32'],
]
const partitionsV9: Fields = [
  ['partition', 'int32'], ['currentLeaderEpoch', 'int32'], ['fetchOffset', 'int64'], ['logStartOffset', 'int64'],
  ['partitionMaxBytes', 'int32'],
]
const forgottenTopicsData: Fields = [['topic', 'string'], ['partitions', { array: 'int32' }]]
const aborted: Fields = [['producerId', 'int64'], ['firstOffset', 'int64']]

const requestHead: Fields = [
  ['replicaId', 'int32'], ['maxWaitMs', 'int32'], ['minBytes', 'int32'], ['maxBytes', 'int32'], ['isolationLevel', 'int8'],
]
const sessionFields: Fields = [['sessionId', 'int32'], ['sessionEpoch', 'int32']]

const partitionResponsesV4: Fields = [
  ['partitionIndex', 'int32'], ['errorCode', 'int16'], ['highWatermark', 'int64'], ['lastStableOffset', 'int64'],
  ['abortedTransactions', { array: aborted, nullable: true }],
  ['records', 'records'],
]
const partitionResponsesV5: Fields = [
  ['partitionIndex', 'int32'], ['errorCode', 'int16'], ['highWatermark', 'int64'], ['lastStableOffset', 'int64'],
  ['logStartOffset', 'int64'],
  ['abortedTransactions', { array: aborted, nullable: true }],
  ['records', 'records'],
]
const partitionResponsesV11: Fields = [
  ['partitionIndex', 'int32'], ['errorCode', 'int16'], ['highWatermark', 'int64'], ['lastStableOffset', 'int64'],
  ['logStartOffset', 'int64'],
  ['abortedTransactions', { array: aborted, nullable: true }],
  ['preferredReadReplica', 'int32'],
  ['records', 'records'],
]

const topicsOf = (partitions: Fields): Fields => [['topic', 'string'], ['partitions', { array: partitions }]]

export const fetchApi = defineApi<FetchRequest, FetchResponse>({
  key: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 11,
  flexibleFrom: 12,
  requests: [
    [4, [...requestHead, ['topics', { array: topicsOf(partitionsV4) }]]],
    [5, [...requestHead, ['topics', { array: topicsOf(partitionsV5) }]]],
    [7, [
      ...requestHead, ...sessionFields,
      ['topics', { array: topicsOf(partitionsV5) }],
      ['forgottenTopicsData', { array: forgottenTopicsData }],
    ]],
    [9, [
      ...requestHead, ...sessionFields,
      ['topics', { array: topicsOf(partitionsV9) }],
      ['forgottenTopicsData', { array: forgottenTopicsData }],
    ]],
    [11, [
      ...requestHead, ...sessionFields,
      ['topics', { array: topicsOf(partitionsV9) }],
      ['forgottenTopicsData', { array: forgottenTopicsData }],
      ['rackId', 'string'],
    ]],
  ],
  responses: [
    [4, [['throttleTimeMs', 'int32'], ['responses', { array: topicsOf(partitionResponsesV4) }]]],
    [5, [['throttleTimeMs', 'int32'], ['responses', { array: topicsOf(partitionResponsesV5) }]]],
    [7, [
      ['throttleTimeMs', 'int32'], ['errorCode', 'int16'], ['sessionId', 'int32'],
      ['responses', { array: topicsOf(partitionResponsesV5) }],
    ]],
    [11, [
      ['throttleTimeMs', 'int32'], ['errorCode', 'int16'], ['sessionId', 'int32'],
      ['responses', { array: topicsOf(partitionResponsesV11) }],
    ]],
  ],
})
