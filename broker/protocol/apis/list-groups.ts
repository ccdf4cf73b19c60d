// ListGroups (key 16), versions 0-2 (v3+ is flexible and v4 adds a state filter): field tables
// from brief Appendix A and ListGroupsRequest.json. The request body is empty in every version here.

import { defineApi, type Fields } from '../schema.ts'

/** Empty in v0-v2. */
export interface ListGroupsRequest {
  readonly [field: string]: never
}

export interface ListedGroup {
  groupId: string
  protocolType: string
}

export interface ListGroupsResponse {
  /** v1+. */
  throttleTimeMs?: number
  errorCode: number
  groups: ListedGroup[]
}

const groups: Fields = [['groupId', 'string'], ['protocolType', 'string']]

export const listGroupsApi = defineApi<ListGroupsRequest, ListGroupsResponse>({
  key: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 3,
  requests: [
    [0, []],
  ],
  responses: [
    [0, [['errorCode', 'int16'], ['groups', { array: groups }]]],
    [1, [['throttleTimeMs', 'int32'], ['errorCode', 'int16'], ['groups', { array: groups }]]],
  ],
})
