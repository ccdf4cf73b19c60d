// Heartbeat (key 12), versions 0-3: field tables from brief Appendix A. v1 adds the throttle
// time, v3 static membership (groupInstanceId).

import { defineApi } from '../schema.ts'

export interface HeartbeatRequest {
  groupId: string
  generationId: number
  memberId: string
  /** v3+. */
  groupInstanceId?: string | null
}

export interface HeartbeatResponse {
  /** v1+. */
  throttleTimeMs?: number
  errorCode: number
}

export const heartbeatApi = defineApi<HeartbeatRequest, HeartbeatResponse>({
  key: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 4,
  requests: [
    [0, [['groupId', 'string'], ['generationId', 'int32'], ['memberId', 'string']]],
    [3, [['groupId', 'string'], ['generationId', 'int32'], ['memberId', 'string'], ['groupInstanceId', 'string?']]],
  ],
  responses: [
    [0, [['errorCode', 'int16']]],
    [1, [['throttleTimeMs', 'int32'], ['errorCode', 'int16']]],
  ],
})
