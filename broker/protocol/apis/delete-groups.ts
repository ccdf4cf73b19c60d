// DeleteGroups (key 42), versions 0-1 (identical layouts): field tables from brief Appendix A.
// `groupsNames` is Kafka's own spelling.

import { defineApi } from '../schema.ts'

export interface DeleteGroupsRequest {
  groupsNames: string[]
}

export interface DeletableGroupResult {
  groupId: string
  errorCode: number
}

export interface DeleteGroupsResponse {
  throttleTimeMs: number
  results: DeletableGroupResult[]
}

export const deleteGroupsApi = defineApi<DeleteGroupsRequest, DeleteGroupsResponse>({
  key: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 2,
  requests: [
    [0, [['groupsNames', { array: 'string' }]]],
  ],
  responses: [
    [0, [['throttleTimeMs', 'int32'], ['results', { array: [['groupId', 'string'], ['errorCode', 'int16']] }]]],
  ],
})
