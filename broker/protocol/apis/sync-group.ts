// SyncGroup (key 14), versions 0-3: field tables from brief Appendix A. v1 adds the throttle
// time, v3 static membership (groupInstanceId).

import { defineApi, type Fields } from '../schema.ts'

export interface SyncGroupAssignment {
  memberId: string
  assignment: Buffer
}

export interface SyncGroupRequest {
  groupId: string
  generationId: number
  memberId: string
  /** v3+. */
  groupInstanceId?: string | null
  assignments: SyncGroupAssignment[]
}

export interface SyncGroupResponse {
  /** v1+. */
  throttleTimeMs?: number
  errorCode: number
  assignment: Buffer
}

const assignments: Fields = [['memberId', 'string'], ['assignment', 'bytes']]

export const syncGroupApi = defineApi<SyncGroupRequest, SyncGroupResponse>({
  key: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 4,
  requests: [
    [0, [['groupId', 'string'], ['generationId', 'int32'], ['memberId', 'string'], ['assignments', { array: assignments }]]],
    [3, [
      ['groupId', 'string'], ['generationId', 'int32'], ['memberId', 'string'], ['groupInstanceId', 'string?'],
      ['assignments', { array: assignments }],
    ]],
  ],
  responses: [
    [0, [['errorCode', 'int16'], ['assignment', 'bytes']]],
    [1, [['throttleTimeMs', 'int32'], ['errorCode', 'int16'], ['assignment', 'bytes']]],
  ],
})
