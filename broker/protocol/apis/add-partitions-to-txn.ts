// AddPartitionsToTxn (key 24), versions 0-1 (identical layouts): field tables from brief Appendix A.
// Kafka 3.7 prefixes these fields with V3AndBelow; the prefixes are dropped here.

import { defineApi } from '../schema.ts'

export interface AddPartitionsToTxnTopic {
  name: string
  partitions: number[]
}

export interface AddPartitionsToTxnRequest {
  transactionalId: string
  producerId: bigint
  producerEpoch: number
  topics: AddPartitionsToTxnTopic[]
}

export interface AddPartitionsToTxnPartitionResult {
  partitionIndex: number
  partitionErrorCode: number
}

export interface AddPartitionsToTxnTopicResult {
  name: string
  resultsByPartition: AddPartitionsToTxnPartitionResult[]
}

export interface AddPartitionsToTxnResponse {
  throttleTimeMs: number
  /** ResultsByTopicV3AndBelow in Kafka 3.7. */
  results: AddPartitionsToTxnTopicResult[]
}

export const addPartitionsToTxnApi = defineApi<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>({
  key: 24,
  name: 'AddPartitionsToTxn',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 3,
  requests: [
    [0, [
      ['transactionalId', 'string'],
      ['producerId', 'int64'],
      ['producerEpoch', 'int16'],
      ['topics', { array: [['name', 'string'], ['partitions', { array: 'int32' }]] }],
    ]],
  ],
  responses: [
    [0, [
      ['throttleTimeMs', 'int32'],
      ['results', { array: [
        ['name', 'string'],
        ['resultsByPartition', { array: [['partitionIndex', 'int32'], ['partitionErrorCode', 'int16']] }],
      ] }],
    ]],
  ],
})
