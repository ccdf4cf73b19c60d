// LeaveGroup (key 13), versions 0-3: field tables from brief Appendix A. v0-v2 name one member;
// v3 (KIP-345) a batch of members, each answered with its own error code.

import { defineApi } from '../schema.ts'

export interface LeaveGroupMember {
  memberId: string
  groupInstanceId: string | null
}

export interface LeaveGroupRequest {
  groupId: string
  /** v0-v2. */
  memberId?: string
  /** v3+. */
  members?: LeaveGroupMember[]
}

export interface LeaveGroupMemberResponse {
  memberId: string
  groupInstanceId: string | null
  errorCode: number
}

export interface LeaveGroupResponse {
  /** v1+. */
  throttleTimeMs?: number
  errorCode: number
  /** v3+. */
  members?: LeaveGroupMemberResponse[]
}

export const leaveGroupApi = defineApi<LeaveGroupRequest, LeaveGroupResponse>({
  key: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 4,
  requests: [
    [0, [['groupId', 'string'], ['memberId', 'string']]],
    [3, [['groupId', 'string'], ['members', { array: [['memberId', 'string'], ['groupInstanceId', 'string?']] }]]],
  ],
  responses: [
    [0, [['errorCode', 'int16']]],
    [1, [['throttleTimeMs', 'int32'], ['errorCode', 'int16']]],
    [3, [
      ['throttleTimeMs', 'int32'], ['errorCode', 'int16'],
      ['members', { array: [['memberId', 'string'], ['groupInstanceId', 'string?'], ['errorCode', 'int16']] }],
    ]],
  ],
})
