// FindCoordinator (key 10), versions 0-2: field tables from brief Appendix A. v0 has no key type
// (always a group); librdkafka requires v0 to be advertised before it will use consumer groups.

import { defineApi } from '../schema.ts'

export interface FindCoordinatorRequest {
  key: string
  /** v1+: 0 = group, 1 = transaction. */
  keyType?: number
}

export interface FindCoordinatorResponse {
  /** v1+. */
  throttleTimeMs?: number
  errorCode: number
  /** v1+. */
  errorMessage?: string | null
  nodeId: number
  host: string
  port: number
}

export const findCoordinatorApi = defineApi<FindCoordinatorRequest, FindCoordinatorResponse>({
  key: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 3,
  requests: [
    [0, [['key', 'string']]],
    [1, [['key', 'string'], ['keyType', 'int8']]],
  ],
  responses: [
    [0, [['errorCode', 'int16'], ['nodeId', 'int32'], ['host', 'string'], ['port', 'int32']]],
    [1, [
      ['throttleTimeMs', 'int32'], ['errorCode', 'int16'], ['errorMessage', 'string?'],
      ['nodeId', 'int32'], ['host', 'string'], ['port', 'int32'],
    ]],
  ],
})
