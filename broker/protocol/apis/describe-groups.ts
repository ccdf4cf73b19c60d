// DescribeGroups (key 15), versions 0-4: field tables from brief Appendix A. v3 adds authorized
// operations, v4 each member's groupInstanceId.

import { defineApi, type Fields } from '../schema.ts'

export interface DescribeGroupsRequest {
  groups: string[]
  /** v3+. */
  includeAuthorizedOperations?: boolean
}

export interface DescribedGroupMember {
  memberId: string
  /** v4+. */
  groupInstanceId?: string | null
  clientId: string
  clientHost: string
  memberMetadata: Buffer
  memberAssignment: Buffer
}

export interface DescribedGroup {
  errorCode: number
  groupId: string
  groupState: string
  protocolType: string
  protocolData: string
  members: DescribedGroupMember[]
  /** v3+. */
  authorizedOperations?: number
}

export interface DescribeGroupsResponse {
  /** v1+. */
  throttleTimeMs?: number
  groups: DescribedGroup[]
}

const membersV0: Fields = [
  ['memberId', 'string'], ['clientId', 'string'], ['clientHost', 'string'],
  ['memberMetadata', 'bytes'], ['memberAssignment', 'bytes'],
]
const membersV4: Fields = [
  ['memberId', 'string'], ['groupInstanceId', 'string?'], ['clientId', 'string'], ['clientHost', 'string'],
  ['memberMetadata', 'bytes'], ['memberAssignment', 'bytes'],
]
const groupHead: Fields = [
  ['errorCode', 'int16'], ['groupId', 'string'], ['groupState', 'string'], ['protocolType', 'string'], ['protocolData', 'string'],
]
const groupsV0: Fields = [...groupHead, ['members', { array: membersV0 }]]
const groupsV3: Fields = [...groupHead, ['members', { array: membersV0 }], ['authorizedOperations', 'int32']]
const groupsV4: Fields = [...groupHead, ['members', { array: membersV4 }], ['authorizedOperations', 'int32']]

export const describeGroupsApi = defineApi<DescribeGroupsRequest, DescribeGroupsResponse>({
  key: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 5,
  requests: [
    [0, [['groups', { array: 'string' }]]],
    [3, [['groups', { array: 'string' }], ['includeAuthorizedOperations', 'bool']]],
  ],
  responses: [
    [0, [['groups', { array: groupsV0 }]]],
    [1, [['throttleTimeMs', 'int32'], ['groups', { array: groupsV0 }]]],
    [3, [['throttleTimeMs', 'int32'], ['groups', { array: groupsV3 }]]],
    [4, [['throttleTimeMs', 'int32'], ['groups', { array: groupsV4 }]]],
  ],
})
