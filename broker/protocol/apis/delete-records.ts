// DeleteRecords (key 21), versions 0-1 (identical layouts; v2 is flexible): field tables from
// Kafka 3.7's DeleteRecordsRequest.json / DeleteRecordsResponse.json (not in brief Appendix A).

import { defineApi } from '../schema.ts'

export interface DeleteRecordsPartition {
  partitionIndex: number
  /** Delete every record below this offset; -1 = the high watermark. */
  offset: bigint
}

export interface DeleteRecordsTopic {
  name: string
  partitions: DeleteRecordsPartition[]
}

export interface DeleteRecordsRequest {
  topics: DeleteRecordsTopic[]
  timeoutMs: number
}

export interface DeleteRecordsPartitionResult {
  partitionIndex: number
  lowWatermark: bigint
  errorCode: number
}

export interface DeleteRecordsTopicResult {
  name: string
  partitions: DeleteRecordsPartitionResult[]
}

export interface DeleteRecordsResponse {
  throttleTimeMs: number
  topics: DeleteRecordsTopicResult[]
}

export const deleteRecordsApi = defineApi<DeleteRecordsRequest, DeleteRecordsResponse>({
  key: 21,
  name: 'DeleteRecords',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 2,
  requests: [
    [0, [
      ['topics', { array: [
        ['name', 'string'],
        ['partitions', { array: [['partitionIndex', 'int32'], ['offset', 'int64']] }],
      ] }],
      ['timeoutMs', 'int32'],
    ]],
  ],
  responses: [
    [0, [
      ['throttleTimeMs', 'int32'],
      ['topics', { array: [
        ['name', 'string'],
        ['partitions', { array: [['partitionIndex', 'int32'], ['lowWatermark', 'int64'], ['errorCode', 'int16']] }],
      ] }],
    ]],
  ],
})
