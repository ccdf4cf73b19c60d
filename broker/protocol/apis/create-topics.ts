// CreateTopics (key 19), versions 0-4: field tables from brief Appendix A. v1 adds validateOnly
// and per-topic error messages, v2 the throttle time; v3-v4 only change semantics.

import { defineApi, type Fields } from '../schema.ts'

export interface CreatableReplicaAssignment {
  partitionIndex: number
  brokerIds: number[]
}

export interface CreatableTopicConfig {
  name: string
  value: string | null
}

export interface CreatableTopic {
  name: string
  /** -1 = broker default (v4+ semantics; the layout is the same in every version). */
  numPartitions: number
  replicationFactor: number
  assignments: CreatableReplicaAssignment[]
  configs: CreatableTopicConfig[]
}

export interface CreateTopicsRequest {
  topics: CreatableTopic[]
  timeoutMs: number
  /** v1+. */
  validateOnly?: boolean
}

export interface CreatableTopicResult {
  name: string
  errorCode: number
  /** v1+. */
  errorMessage?: string | null
}

export interface CreateTopicsResponse {
  /** v2+. */
  throttleTimeMs?: number
  topics: CreatableTopicResult[]
}

const topics: Fields = [
  ['name', 'string'],
  ['numPartitions', 'int32'],
  ['replicationFactor', 'int16'],
  ['assignments', { array: [['partitionIndex', 'int32'], ['brokerIds', { array: 'int32' }]] }],
  ['configs', { array: [['name', 'string'], ['value', 'string?']] }],
]
const resultsV1: Fields = [['name', 'string'], ['errorCode', 'int16'], ['errorMessage', 'string?']]

export const createTopicsApi = defineApi<CreateTopicsRequest, CreateTopicsResponse>({
  key: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 5,
  requests: [
    [0, [['topics', { array: topics }], ['timeoutMs', 'int32']]],
    [1, [['topics', { array: topics }], ['timeoutMs', 'int32'], ['validateOnly', 'bool']]],
  ],
  responses: [
    [0, [['topics', { array: [['name', 'string'], ['errorCode', 'int16']] }]]],
    [1, [['topics', { array: resultsV1 }]]],
    [2, [['throttleTimeMs', 'int32'], ['topics', { array: resultsV1 }]]],
  ],
})
