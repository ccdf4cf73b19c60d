// Metadata (key 3), versions 0-8: field tables from brief Appendix A. v0's topic list is a plain
// array (empty = all topics); v1+ makes it nullable (null = all topics, empty = none).

import { defineApi, type Fields } from '../schema.ts'

export interface MetadataRequestTopic {
  name: string
}

export interface MetadataRequest {
  topics: MetadataRequestTopic[] | null
  /** v4+. */
  allowAutoTopicCreation?: boolean
  /** v8+. */
  includeClusterAuthorizedOperations?: boolean
  /** v8+. */
  includeTopicAuthorizedOperations?: boolean
}

export interface MetadataBroker {
  nodeId: number
  host: string
  port: number
  /** v1+. */
  rack?: string | null
}

export interface MetadataPartition {
  errorCode: number
  partitionIndex: number
  leaderId: number
  /** v7+. */
  leaderEpoch?: number
  replicaNodes: number[]
  isrNodes: number[]
  /** v5+. */
  offlineReplicas?: number[]
}

export interface MetadataTopic {
  errorCode: number
  name: string
  /** v1+. */
  isInternal?: boolean
  partitions: MetadataPartition[]
  /** v8+. */
  topicAuthorizedOperations?: number
}

export interface MetadataResponse {
  /** v3+. */
  throttleTimeMs?: number
  brokers: MetadataBroker[]
  /** v2+. */
  clusterId?: string | null
  /** v1+. */
  controllerId?: number
  topics: MetadataTopic[]
  /** v8+. */
  clusterAuthorizedOperations?: number
}

const requestTopic: Fields = [['name', 'string']]

const brokersV0: Fields = [['nodeId', 'int32'], ['host', 'string'], ['port', 'int32']]
const brokersV1: Fields = [['nodeId', 'int32'], ['host', 'string'], ['port', 'int32'], ['rack', 'string?']]

const partitionsV0: Fields = [
  ['errorCode', 'int16'], ['partitionIndex', 'int32'], ['leaderId', 'int32'],
  ['replicaNodes', { array: 'int32' }], ['isrNodes', { array: 'int32' }],
]
const partitionsV5: Fields = [...partitionsV0, ['offlineReplicas', { array: 'int32' }]]
const partitionsV7: Fields = [
  ['errorCode', 'int16'], ['partitionIndex', 'int32'], ['leaderId', 'int32'], ['leaderEpoch', 'int32'],
  ['replicaNodes', { array: 'int32' }], ['isrNodes', { array: 'int32' }], ['offlineReplicas', { array: 'int32' }],
]

const topicsV0: Fields = [['errorCode', 'int16'], ['name', 'string'], ['partitions', { array: partitionsV0 }]]
const topicsV1: Fields = [['errorCode', 'int16'], ['name', 'string'], ['isInternal', 'bool'], ['partitions', { array: partitionsV0 }]]
const topicsV5: Fields = [['errorCode', 'int16'], ['name', 'string'], ['isInternal', 'bool'], ['partitions', { array: partitionsV5 }]]
const topicsV7: Fields = [['errorCode', 'int16'], ['name', 'string'], ['isInternal', 'bool'], ['partitions', { array: partitionsV7 }]]
const topicsV8: Fields = [...topicsV7, ['topicAuthorizedOperations', 'int32']]

export const metadataApi = defineApi<MetadataRequest, MetadataResponse>({
  key: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 8,
  flexibleFrom: 9,
  requests: [
    [0, [['topics', { array: requestTopic }]]],
    [1, [['topics', { array: requestTopic, nullable: true }]]],
    [4, [['topics', { array: requestTopic, nullable: true }], ['allowAutoTopicCreation', 'bool']]],
    [8, [
      ['topics', { array: requestTopic, nullable: true }],
      ['allowAutoTopicCreation', 'bool'],
      ['includeClusterAuthorizedOperations', 'bool'],
      ['includeTopicAuthorizedOperations', 'bool'],
    ]],
  ],
  responses: [
    [0, [['brokers', { array: brokersV0 }], ['topics', { array: topicsV0 }]]],
    [1, [['brokers', { array: brokersV1 }], ['controllerId', 'int32'], ['topics', { array: topicsV1 }]]],
    [2, [['brokers', { array: brokersV1 }], ['clusterId', 'string?'], ['controllerId', 'int32'], ['topics', { array: topicsV1 }]]],
    [3, [
      ['throttleTimeMs', 'int32'], ['brokers', { array: brokersV1 }], ['clusterId', 'string?'], ['controllerId', 'int32'],
      ['topics', { array: topicsV1 }],
    ]],
    [5, [
      ['throttleTimeMs', 'int32'], ['brokers', { array: brokersV1 }], ['clusterId', 'string?'], ['controllerId', 'int32'],
      ['topics', { array: topicsV5 }],
    ]],
    [7, [
      ['throttleTimeMs', 'int32'], ['brokers', { array: brokersV1 }], ['clusterId', 'string?'], ['controllerId', 'int32'],
      ['topics', { array: topicsV7 }],
    ]],
    [8, [
      ['throttleTimeMs', 'int32'], ['brokers', { array: brokersV1 }], ['clusterId', 'string?'], ['controllerId', 'int32'],
      ['topics', { array: topicsV8 }],
      ['clusterAuthorizedOperations', 'int32'],
    ]],
  ],
})
