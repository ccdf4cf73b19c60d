// CreatePartitions (key 37), versions 0-1 (identical layouts): field tables from brief Appendix A.
// `count` is the new total partition count; assignments null lets the broker place them.

import { defineApi } from '../schema.ts'

export interface CreatePartitionsAssignment {
  brokerIds: number[]
}

export interface CreatePartitionsTopic {
  name: string
  count: number
  assignments: CreatePartitionsAssignment[] | null
}

export interface CreatePartitionsRequest {
  topics: CreatePartitionsTopic[]
  timeoutMs: number
  validateOnly: boolean
}

export interface CreatePartitionsTopicResult {
  name: string
  errorCode: number
  errorMessage: string | null
}

export interface CreatePartitionsResponse {
  throttleTimeMs: number
  results: CreatePartitionsTopicResult[]
}

export const createPartitionsApi = defineApi<CreatePartitionsRequest, CreatePartitionsResponse>({
  key: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 2,
  requests: [
    [0, [
      ['topics', { array: [
        ['name', 'string'],
        ['count', 'int32'],
        ['assignments', { array: [['brokerIds', { array: 'int32' }]], nullable: true }],
      ] }],
      ['timeoutMs', 'int32'],
      ['validateOnly', 'bool'],
    ]],
  ],
  responses: [
    [0, [
      ['throttleTimeMs', 'int32'],
      ['results', { array: [['name', 'string'], ['errorCode', 'int16'], ['errorMessage', 'string?']] }],
    ]],
  ],
})
