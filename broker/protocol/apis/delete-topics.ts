// DeleteTopics (key 20), versions 0-3: field tables from brief Appendix A. v1 adds the throttle
// time; v2-v3 only change semantics.

import { defineApi, type Fields } from '../schema.ts'

export interface DeleteTopicsRequest {
  topicNames: string[]
  timeoutMs: number
}

export interface DeletableTopicResult {
  name: string
  errorCode: number
}

export interface DeleteTopicsResponse {
  /** v1+. */
  throttleTimeMs?: number
  responses: DeletableTopicResult[]
}

const responses: Fields = [['name', 'string'], ['errorCode', 'int16']]

export const deleteTopicsApi = defineApi<DeleteTopicsRequest, DeleteTopicsResponse>({
  key: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 4,
  requests: [
    [0, [['topicNames', { array: 'string' }], ['timeoutMs', 'int32']]],
  ],
  responses: [
    [0, [['responses', { array: responses }]]],
    [1, [['throttleTimeMs', 'int32'], ['responses', { array: responses }]]],
  ],
})
