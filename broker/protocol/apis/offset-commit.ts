// OffsetCommit (key 8), versions 0-7: field tables from brief Appendix A. v1 carries a per-partition
// commit timestamp, v2-v4 a retention time; Kafka 3.7 names the generation field
// GenerationIdOrMemberEpoch, kept here as `generationId` (classic groups only).

import { defineApi, type Fields } from '../schema.ts'

export interface OffsetCommitRequestPartition {
  partitionIndex: number
  committedOffset: bigint
  /** v6+. */
  committedLeaderEpoch?: number
  /** v1 only. */
  commitTimestamp?: bigint
  committedMetadata: string | null
}

export interface OffsetCommitRequestTopic {
  name: string
  partitions: OffsetCommitRequestPartition[]
}

export interface OffsetCommitRequest {
  groupId: string
  /** v1+. */
  generationId?: number
  /** v1+. */
  memberId?: string
  /** v7+. */
  groupInstanceId?: string | null
  /** v2-v4. */
  retentionTimeMs?: bigint
  topics: OffsetCommitRequestTopic[]
}

export interface OffsetCommitResponsePartition {
  partitionIndex: number
  errorCode: number
}

export interface OffsetCommitResponseTopic {
  name: string
  partitions: OffsetCommitResponsePartition[]
}

export interface OffsetCommitResponse {
  /** v3+. */
  throttleTimeMs?: number
  topics: OffsetCommitResponseTopic[]
}

const topicsOf = (partitions: Fields): Fields => [['name', 'string'], ['partitions', { array: partitions }]]

const partitionsV0: Fields = [['partitionIndex', 'int32'], ['committedOffset', 'int64'], ['committedMetadata', 'string?']]
const partitionsV1: Fields = [
  ['partitionIndex', 'int32'], ['committedOffset', 'int64'], ['commitTimestamp', 'int64'], ['committedMetadata', 'string?'],
]
const partitionsV6: Fields = [
  ['partitionIndex', 'int32'], ['committedOffset', 'int64'], ['committedLeaderEpoch', 'int32'], ['committedMetadata', 'string?'],
]
const member: Fields = [['groupId', 'string'], ['generationId', 'int32'], ['memberId', 'string']]
const responseTopics: Fields = topicsOf([['partitionIndex', 'int32'], ['errorCode', 'int16']])

export const offsetCommitApi = defineApi<OffsetCommitRequest, OffsetCommitResponse>({
  key: 8,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 7,
  flexibleFrom: 8,
  requests: [
    [0, [['groupId', 'string'], ['topics', { array: topicsOf(partitionsV0) }]]],
    [1, [...member, ['topics', { array: topicsOf(partitionsV1) }]]],
    [2, [...member, ['retentionTimeMs', 'int64'], ['topics', { array: topicsOf(partitionsV0) }]]],
    [5, [...member, ['topics', { array: topicsOf(partitionsV0) }]]],
    [6, [...member, ['topics', { array: topicsOf(partitionsV6) }]]],
    [7, [...member, ['groupInstanceId', 'string?'], ['topics', { array: topicsOf(partitionsV6) }]]],
  ],
  responses: [
    [0, [['topics', { array: responseTopics }]]],
    [3, [['throttleTimeMs', 'int32'], ['topics', { array: responseTopics }]]],
  ],
})
