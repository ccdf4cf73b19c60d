// Produce (key 0), versions 3-7 (magic-2 batches only): field tables from brief Appendix A.
// `records` is the raw RecordBatch blob; broker/record/batch.ts validates it.

import { defineApi, type Fields } from '../schema.ts'

export interface ProducePartitionData {
  index: number
  records: Buffer | null
}

export interface ProduceTopicData {
  name: string
  partitionData: ProducePartitionData[]
}

export interface ProduceRequest {
  transactionalId: string | null
  acks: number
  timeoutMs: number
  topicData: ProduceTopicData[]
}

export interface ProducePartitionResponse {
  index: number
  errorCode: number
  baseOffset: bigint
  logAppendTimeMs: bigint
  /** v5+. */
  logStartOffset?: bigint
}

export interface ProduceTopicResponse {
  name: string
  partitionResponses: ProducePartitionResponse[]
}

export interface ProduceResponse {
  responses: ProduceTopicResponse[]
  throttleTimeMs: number
}

const topicData: Fields = [
  ['name', 'string'],
  ['partitionData', { array: [['index', 'int32'], ['records', 'records']] }],
]

const partitionResponsesV3: Fields = [
  ['index', 'int32'], ['errorCode', 'int16'], ['baseOffset', 'int64'], ['logAppendTimeMs', 'int64'],
]

const partitionResponsesV5: Fields = [
  ['index', 'int32'], ['errorCode', 'int16'], ['baseOffset', 'int64'], ['logAppendTimeMs', 'int64'],
  ['logStartOffset', 'int64'],
]

export const produceApi = defineApi<ProduceRequest, ProduceResponse>({
  key: 0,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 7,
  flexibleFrom: 9,
  requests: [
    [3, [['transactionalId', 'string?'], ['acks', 'int16'], ['timeoutMs', 'int32'], ['topicData', { array: topicData }]]],
  ],
  responses: [
    [3, [
      ['responses', { array: [['name', 'string'], ['partitionResponses', { array: partitionResponsesV3 }]] }],
      ['throttleTimeMs', 'int32'],
    ]],
    [5, [
      ['responses', { array: [['name', 'string'], ['partitionResponses', { array: partitionResponsesV5 }]] }],
      ['throttleTimeMs', 'int32'],
    ]],
  ],
})
