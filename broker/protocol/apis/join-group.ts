// JoinGroup (key 11), versions 0-5: field tables from brief Appendix A. v1 adds the rebalance
// timeout, v2 the throttle time, v5 static membership (groupInstanceId).

import { defineApi, type Fields } from '../schema.ts'

export interface JoinGroupProtocol {
  name: string
  metadata: Buffer
}

export interface JoinGroupRequest {
  groupId: string
  sessionTimeoutMs: number
  /** v1+ (v0 uses the session timeout). */
  rebalanceTimeoutMs?: number
  memberId: string
  /** v5+. */
  groupInstanceId?: string | null
  protocolType: string
  protocols: JoinGroupProtocol[]
}

export interface JoinGroupMember {
  memberId: string
  /** v5+. */
  groupInstanceId?: string | null
  metadata: Buffer
}

export interface JoinGroupResponse {
  /** v2+. */
  throttleTimeMs?: number
  errorCode: number
  generationId: number
  protocolName: string
  leader: string
  memberId: string
  members: JoinGroupMember[]
}

const protocols: Fields = [['name', 'string'], ['metadata', 'bytes']]
const membersV0: Fields = [['memberId', 'string'], ['metadata', 'bytes']]
const membersV5: Fields = [['memberId', 'string'], ['groupInstanceId', 'string?'], ['metadata', 'bytes']]
const resultHead: Fields = [
  ['errorCode', 'int16'], ['generationId', 'int32'], ['protocolName', 'string'], ['leader', 'string'], ['memberId', 'string'],
]

export const joinGroupApi = defineApi<JoinGroupRequest, JoinGroupResponse>({
  key: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFrom: 6,
  requests: [
    [0, [
      ['groupId', 'string'], ['sessionTimeoutMs', 'int32'], ['memberId', 'string'],
      ['protocolType', 'string'], ['protocols', { array: protocols }],
    ]],
    [1, [
      ['groupId', 'string'], ['sessionTimeoutMs', 'int32'], ['rebalanceTimeoutMs', 'int32'], ['memberId', 'string'],
      ['protocolType', 'string'], ['protocols', { array: protocols }],
    ]],
    [5, [
      ['groupId', 'string'], ['sessionTimeoutMs', 'int32'], ['rebalanceTimeoutMs', 'int32'], ['memberId', 'string'],
      ['groupInstanceId', 'string?'], ['protocolType', 'string'], ['protocols', { array: protocols }],
    ]],
  ],
  responses: [
    [0, [...resultHead, ['members', { array: membersV0 }]]],
    [2, [['throttleTimeMs', 'int32'], ...resultHead, ['members', { array: membersV0 }]]],
    [5, [['throttleTimeMs', 'int32'], ...resultHead, ['members', { array: membersV5 }]]],
  ],
})
