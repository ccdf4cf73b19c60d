// ListOffsets (key 2), versions 0-3: field tables from brief Appendix A. v0 answers with the
// old-style offsets array; v1+ with one (timestamp, offset) pair; v2+ carries the isolation level.

import { defineApi, type Fields } from '../schema.ts'

export interface ListOffsetsPartition {
  partitionIndex: number
  timestamp: bigint
  /** v0 only. */
  maxNumOffsets?: number
}

export interface ListOffsetsTopic {
  name: string
  partitions: ListOffsetsPartition[]
}

export interface ListOffsetsRequest {
  replicaId: number
  /** v2+. */
  isolationLevel?: number
  topics: ListOffsetsTopic[]
}

export interface ListOffsetsPartitionResponse {
  partitionIndex: number
  errorCode: number
  /** v0 only. */
  oldStyleOffsets?: bigint[]
  /** v1+. */
  timestamp?: bigint
  /** v1+. */
  offset?: bigint
}

export interface ListOffsetsTopicResponse {
  name: string
  partitions: ListOffsetsPartitionResponse[]
}

export interface ListOffsetsResponse {
  /** v2+. */
  throttleTimeMs?: number
  topics: ListOffsetsTopicResponse[]
}

const topicsOf = (partitions: Fields): Fields => [['name', 'string'], ['partitions', { array: partitions }]]

const partitionsV0: Fields = [['partitionIndex', 'int32'], ['timestamp', 'int64'], ['maxNumOffsets', 'int32']]
const partitionsV1: Fields = [['partitionIndex', 'int32'], ['timestamp', 'int64']]
const partitionResponsesV0: Fields = [['partitionIndex', 'int32'], ['errorCode', 'int16'], ['oldStyleOffsets', { array: 'int64' }]]
const partitionResponsesV1: Fields = [
  ['partitionIndex', 'int32'], ['errorCode', 'int16'], ['timestamp', 'int64'], ['offset', 'int64'],
]

export const listOffsetsApi = defineApi<ListOffsetsRequest, ListOffsetsResponse>({
  key: 2,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 6,
  requests: [
    [0, [['replicaId', 'int32'], ['topics', { array: topicsOf(partitionsV0) }]]],
    [1, [['replicaId', 'int32'], ['topics', { array: topicsOf(partitionsV1) }]]],
    [2, [['replicaId', 'int32'], ['isolationLevel', 'int8'], ['topics', { array: topicsOf(partitionsV1) }]]],
  ],
  responses: [
    [0, [['topics', { array: topicsOf(partitionResponsesV0) }]]],
    [1, [['topics', { array: topicsOf(partitionResponsesV1) }]]],
    [2, [['throttleTimeMs', 'int32'], ['topics', { array: topicsOf(partitionResponsesV1) }]]],
  ],
})
