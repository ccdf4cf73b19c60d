// OffsetFetch (key 9), versions 0-5 (v6+ is flexible, so the broker caps at 5): field tables from
// brief Appendix A. v2+ accepts topics = null (all committed offsets of the group).

import { defineApi, type Fields } from '../schema.ts'

export interface OffsetFetchRequestTopic {
  name: string
  partitionIndexes: number[]
}

export interface OffsetFetchRequest {
  groupId: string
  /** Null (v2+) asks for every partition the group has committed. */
  topics: OffsetFetchRequestTopic[] | null
}

export interface OffsetFetchResponsePartition {
  partitionIndex: number
  committedOffset: bigint
  /** v5+. */
  committedLeaderEpoch?: number
  metadata: string | null
  errorCode: number
}

export interface OffsetFetchResponseTopic {
  name: string
  partitions: OffsetFetchResponsePartition[]
}

export interface OffsetFetchResponse {
  /** v3+. */
  throttleTimeMs?: number
  topics: OffsetFetchResponseTopic[]
  /** v2+. */
  errorCode?: number
}

const requestTopic: Fields = [['name', 'string'], ['partitionIndexes', { array: 'int32' }]]

const partitionsV0: Fields = [
  ['partitionIndex', 'int32'], ['committedOffset', 'int64'], ['metadata', 'string?'], ['errorCode', 'int16'],
]
const partitionsV5: Fields = [
  ['partitionIndex', 'int32'], ['committedOffset', 'int64'], ['committedLeaderEpoch', 'int32'], ['metadata', 'string?'],
  ['errorCode', 'int16'],
]
const topicsOf = (partitions: Fields): Fields => [['name', 'string'], ['partitions', { array: partitions }]]

export const offsetFetchApi = defineApi<OffsetFetchRequest, OffsetFetchResponse>({
  key: 9,
  name: 'OffsetFetch',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 6,
  requests: [
    [0, [['groupId', 'string'], ['topics', { array: requestTopic }]]],
    [2, [['groupId', 'string'], ['topics', { array: requestTopic, nullable: true }]]],
  ],
  responses: [
    [0, [['topics', { array: topicsOf(partitionsV0) }]]],
    [2, [['topics', { array: topicsOf(partitionsV0) }], ['errorCode', 'int16']]],
    [3, [['throttleTimeMs', 'int32'], ['topics', { array: topicsOf(partitionsV0) }], ['errorCode', 'int16']]],
    [5, [['throttleTimeMs', 'int32'], ['topics', { array: topicsOf(partitionsV5) }], ['errorCode', 'int16']]],
  ],
})
