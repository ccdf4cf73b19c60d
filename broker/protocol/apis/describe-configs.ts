// DescribeConfigs (key 32), versions 0-2: field tables from brief Appendix A. v0 answers isDefault
// per entry; v1+ replaces it with configSource and adds synonyms; v2 only changes semantics.

import { defineApi, type Fields } from '../schema.ts'

export interface DescribeConfigsResource {
  /** 2 = topic, 4 = broker. */
  resourceType: number
  resourceName: string
  /** Null = every key. */
  configurationKeys: string[] | null
}

export interface DescribeConfigsRequest {
  resources: DescribeConfigsResource[]
  /** v1+. */
  includeSynonyms?: boolean
}

export interface DescribeConfigsSynonym {
  name: string
  value: string | null
  source: number
}

export interface DescribeConfigsResourceResult {
  name: string
  value: string | null
  readOnly: boolean
  /** v0 only. */
  isDefault?: boolean
  /** v1+. */
  configSource?: number
  isSensitive: boolean
  /** v1+. */
  synonyms?: DescribeConfigsSynonym[]
}

export interface DescribeConfigsResult {
  errorCode: number
  errorMessage: string | null
  resourceType: number
  resourceName: string
  configs: DescribeConfigsResourceResult[]
}

export interface DescribeConfigsResponse {
  throttleTimeMs: number
  results: DescribeConfigsResult[]
}

const resources: Fields = [
  ['resourceType', 'int8'], ['resourceName', 'string'], ['configurationKeys', { array: 'string', nullable: true }],
]
const configsV0: Fields = [
  ['name', 'string'], ['value', 'string?'], ['readOnly', 'bool'], ['isDefault', 'bool'], ['isSensitive', 'bool'],
]
const configsV1: Fields = [
  ['name', 'string'], ['value', 'string?'], ['readOnly', 'bool'], ['configSource', 'int8'], ['isSensitive', 'bool'],
  ['synonyms', { array: [['name', 'string'], ['value', 'string?'], ['source', 'int8']] }],
]
const resultsOf = (configs: Fields): Fields => [
  ['errorCode', 'int16'], ['errorMessage', 'string?'], ['resourceType', 'int8'], ['resourceName', 'string'],
  ['configs', { array: configs }],
]

export const describeConfigsApi = defineApi<DescribeConfigsRequest, DescribeConfigsResponse>({
  key: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 2,
  flexibleFrom: 4,
  requests: [
    [0, [['resources', { array: resources }]]],
    [1, [['resources', { array: resources }], ['includeSynonyms', 'bool']]],
  ],
  responses: [
    [0, [['throttleTimeMs', 'int32'], ['results', { array: resultsOf(configsV0) }]]],
    [1, [['throttleTimeMs', 'int32'], ['results', { array: resultsOf(configsV1) }]]],
  ],
})
