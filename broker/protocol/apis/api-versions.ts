// ApiVersions (key 18): v0-v2 plain, v3 flexible (librdkafka's first request). The response
// header is always v0, even for v3 (KIP-511).

import { defineApi } from '../schema.ts'

export interface ApiVersionsRequest {
  clientSoftwareName?: string
  clientSoftwareVersion?: string
}

export interface ApiVersionsResponse {
  errorCode: number
  apiKeys: Array<{ apiKey: number; minVersion: number; maxVersion: number }>
  throttleTimeMs?: number
}

const apiKeys = { array: [['apiKey', 'int16'], ['minVersion', 'int16'], ['maxVersion', 'int16']] } as const

export const apiVersionsApi = defineApi<ApiVersionsRequest, ApiVersionsResponse>({
  key: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFrom: 3,
  requests: [
    [0, []],
    [3, [['clientSoftwareName', 'string'], ['clientSoftwareVersion', 'string']]],
  ],
  responses: [
    [0, [['errorCode', 'int16'], ['apiKeys', apiKeys]]],
    [1, [['errorCode', 'int16'], ['apiKeys', apiKeys], ['throttleTimeMs', 'int32']]],
  ],
})
