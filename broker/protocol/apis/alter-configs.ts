// AlterConfigs (key 33), versions 0-1 (identical layouts; v2 is flexible): field tables from
// Kafka 3.7's AlterConfigsRequest.json / AlterConfigsResponse.json (not in brief Appendix A).

import { defineApi } from '../schema.ts'

export interface AlterableConfig {
  name: string
  value: string | null
}

export interface AlterConfigsResource {
  resourceType: number
  resourceName: string
  configs: AlterableConfig[]
}

export interface AlterConfigsRequest {
  resources: AlterConfigsResource[]
  validateOnly: boolean
}

export interface AlterConfigsResourceResponse {
  errorCode: number
  errorMessage: string | null
  resourceType: number
  resourceName: string
}

export interface AlterConfigsResponse {
  throttleTimeMs: number
  responses: AlterConfigsResourceResponse[]
}

export const alterConfigsApi = defineApi<AlterConfigsRequest, AlterConfigsResponse>({
  key: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  flexibleFrom: 2,
  requests: [
    [0, [
      ['resources', { array: [
        ['resourceType', 'int8'],
        ['resourceName', 'string'],
        ['configs', { array: [['name', 'string'], ['value', 'string?']] }],
      ] }],
      ['validateOnly', 'bool'],
    ]],
  ],
  responses: [
    [0, [
      ['throttleTimeMs', 'int32'],
      ['responses', { array: [
        ['errorCode', 'int16'], ['errorMessage', 'string?'], ['resourceType', 'int8'], ['resourceName', 'string'],
      ] }],
    ]],
  ],
})
