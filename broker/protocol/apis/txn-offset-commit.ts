// TxnOffsetCommit (key 28), versions 0-2 (v3 is flexible and KIP-447): field tables from brief
// Appendix A. v2 adds each partition's committedLeaderEpoch.

import { defineApi, type Fields } from '../schema.ts'

export interface TxnOffsetCommitRequestPartition {
  partitionIndex: number
  committedOffset: bigint
  /** v2+. */
  committedLeaderEpoch?: number
  committedMetadata: string | null
}

export interface TxnOffsetCommitRequestTopic {
  name: string
  partitions: TxnOffsetCommitRequestPartition[]
}

export interface TxnOffsetCommitRequest {
  transactionalId: string
  groupId: string
  producerId: bigint
  producerEpoch: number
  topics: TxnOffsetCommitRequestTopic[]
}

export interface TxnOffsetCommitResponsePartition {
  partitionIndex: number
  errorCode: number
}

export interface TxnOffsetCommitResponseTopic {
  name: string
  partitions: TxnOffsetCommitResponsePartition[]
}

export interface TxnOffsetCommitResponse {
  throttleTimeMs: number
  topics: TxnOffsetCommitResponseTopic[]
}

const head: Fields = [['transactionalId', 'string'], ['groupId', 'string'], ['producerId', 'int64'], ['producerEpoch', 'int16']]
const partitionsV0: Fields = [['partitionIndex', 'int32'], ['committedOffset', 'int64'], ['committedMetadata', 'string?']]
const partitionsV2: Fields = [
  ['partitionIndex', 'int32'], ['committedOffset', 'int64'], ['committedLeaderEpoch', 'int32'], ['committedMetadata', 'string?'],
]
const topicsOf = (partitions: Fields): Fields => [['name', 'string'], ['partitions', { array: partitions }]]

export const txnOffsetCommitApi = defineApi<TxnOffsetCommitRequest, TxnOffsetCommitResponse>({
  key: 28,
  name: 'TxnOffsetCommit',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 3,
  requests: [
    [0, [...head, ['topics', { array: topicsOf(partitionsV0) }]]],
    [2, [...head, ['topics', { array: topicsOf(partitionsV2) }]]],
  ],
  responses: [
    [0, [['throttleTimeMs', 'int32'], ['topics', { array: topicsOf([['partitionIndex', 'int32'], ['errorCode', 'int16']]) }]]],
  ],
})
