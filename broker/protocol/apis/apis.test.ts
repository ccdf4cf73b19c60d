// Tests for the API field tables: each advertised version's layout against the brief's Appendix A
// notation, encode → decode round trips of every version, hand-computed bytes, and truncation.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ProtocolDecodeError, Reader, Writer } from '../codec.ts'
import {
  decodeRequest, decodeResponse, encodeRequest, encodeResponse, isFlexible,
  type ApiDefinition, type FieldType, type Fields, type PrimitiveType,
} from '../schema.ts'
import { addOffsetsToTxnApi, type AddOffsetsToTxnRequest, type AddOffsetsToTxnResponse } from './add-offsets-to-txn.ts'
import { addPartitionsToTxnApi, type AddPartitionsToTxnRequest, type AddPartitionsToTxnResponse } from './add-partitions-to-txn.ts'
import { alterConfigsApi, type AlterConfigsRequest, type AlterConfigsResponse } from './alter-configs.ts'
import { apiVersionsApi, type ApiVersionsRequest, type ApiVersionsResponse } from './api-versions.ts'
import { createPartitionsApi, type CreatePartitionsRequest, type CreatePartitionsResponse } from './create-partitions.ts'
import { createTopicsApi, type CreateTopicsRequest, type CreateTopicsResponse } from './create-topics.ts'
import { deleteGroupsApi, type DeleteGroupsRequest, type DeleteGroupsResponse } from './delete-groups.ts'
import { deleteRecordsApi, type DeleteRecordsRequest, type DeleteRecordsResponse } from './delete-records.ts'
import { deleteTopicsApi, type DeleteTopicsRequest, type DeleteTopicsResponse } from './delete-topics.ts'
import { describeConfigsApi, type DescribeConfigsRequest, type DescribeConfigsResponse } from './describe-configs.ts'
import { describeGroupsApi, type DescribeGroupsRequest, type DescribeGroupsResponse } from './describe-groups.ts'
import { endTxnApi, type EndTxnRequest, type EndTxnResponse } from './end-txn.ts'
import { fetchApi, type FetchRequest, type FetchResponse } from './fetch.ts'
import { findCoordinatorApi, type FindCoordinatorRequest, type FindCoordinatorResponse } from './find-coordinator.ts'
import { heartbeatApi, type HeartbeatRequest, type HeartbeatResponse } from './heartbeat.ts'
import { advertisedApiKeys, allApis, apiByKey } from './index.ts'
import { initProducerIdApi, type InitProducerIdRequest, type InitProducerIdResponse } from './init-producer-id.ts'
import { joinGroupApi, type JoinGroupRequest, type JoinGroupResponse } from './join-group.ts'
import { leaveGroupApi, type LeaveGroupRequest, type LeaveGroupResponse } from './leave-group.ts'
import { listGroupsApi, type ListGroupsRequest, type ListGroupsResponse } from './list-groups.ts'
import { listOffsetsApi, type ListOffsetsRequest, type ListOffsetsResponse } from './list-offsets.ts'
import { metadataApi, type MetadataRequest, type MetadataResponse } from './metadata.ts'
import { offsetCommitApi, type OffsetCommitRequest, type OffsetCommitResponse } from './offset-commit.ts'
import { offsetFetchApi, type OffsetFetchRequest, type OffsetFetchResponse } from './offset-fetch.ts'
import { produceApi, type ProduceRequest, type ProduceResponse } from './produce.ts'
import { syncGroupApi, type SyncGroupRequest, type SyncGroupResponse } from './sync-group.ts'
import { txnOffsetCommitApi, type TxnOffsetCommitRequest, type TxnOffsetCommitResponse } from './txn-offset-commit.ts'

type Api = ApiDefinition<unknown, unknown>
type Value = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// Expected advertisement (brief §2.5) and first flexible versions (brief §2.4).

const ADVERTISED: Array<[name: string, key: number, min: number, max: number, flexibleFrom: number]> = [
  ['Produce', 0, 3, 7, 9], ['Fetch', 1, 4, 11, 12], ['ListOffsets', 2, 0, 3, 6], ['Metadata', 3, 0, 8, 9],
  ['OffsetCommit', 8, 0, 7, 8], ['OffsetFetch', 9, 0, 5, 6], ['FindCoordinator', 10, 0, 2, 3], ['JoinGroup', 11, 0, 5, 6],
  ['Heartbeat', 12, 0, 3, 4], ['LeaveGroup', 13, 0, 3, 4], ['SyncGroup', 14, 0, 3, 4], ['DescribeGroups', 15, 0, 4, 5],
  ['ListGroups', 16, 0, 2, 3], ['ApiVersions', 18, 0, 3, 3], ['CreateTopics', 19, 0, 4, 5], ['DeleteTopics', 20, 0, 3, 4],
  ['DeleteRecords', 21, 0, 1, 2], ['InitProducerId', 22, 0, 1, 2], ['AddPartitionsToTxn', 24, 0, 1, 3],
  ['AddOffsetsToTxn', 25, 0, 1, 3], ['EndTxn', 26, 0, 1, 3], ['TxnOffsetCommit', 28, 0, 2, 3],
  ['DescribeConfigs', 32, 0, 2, 4], ['AlterConfigs', 33, 0, 1, 2], ['CreatePartitions', 37, 0, 1, 2], ['DeleteGroups', 42, 0, 1, 2],
]

test('allApis, apiByKey and advertisedApiKeys match brief §2.5, with §2.4 flexible thresholds', () => {
  assert.equal(allApis.length, ADVERTISED.length)
  for (const [name, key, min, max, flexibleFrom] of ADVERTISED) {
    const api = apiByKey(key)
    assert.ok(api, `${name} (${key}) is missing`)
    assert.deepEqual([api.name, api.minVersion, api.maxVersion, api.flexibleFrom], [name, min, max, flexibleFrom], name)
    assert.ok(allApis.includes(api))
    for (let version = min; version <= max; version++) {
      assert.equal(isFlexible(api, version), name === 'ApiVersions' && version === 3, `${name} v${version} flexibility`)
    }
  }
  for (const unknownKey of [-1, 4, 17, 23, 36, 43, 1000]) assert.equal(apiByKey(unknownKey), undefined)
  assert.deepEqual(advertisedApiKeys(), ADVERTISED.map(([, apiKey, minVersion, maxVersion]) => ({ apiKey, minVersion, maxVersion })))
})

test('every table starts at its minimum version, ascends, and lists no layout past its maximum', () => {
  for (const api of allApis) {
    for (const [kind, table] of [['request', api.requests], ['response', api.responses]] as const) {
      const versions = table.map(([fromVersion]) => fromVersion)
      assert.ok(versions[0]! <= api.minVersion, `${api.name} ${kind}: first layout v${versions[0]} > min v${api.minVersion}`)
      assert.deepEqual([...versions].sort((a, b) => a - b), versions, `${api.name} ${kind} ascending`)
      assert.equal(new Set(versions).size, versions.length, `${api.name} ${kind} duplicate versions`)
      assert.ok(versions.every(v => v <= api.maxVersion), `${api.name} ${kind}: layout past v${api.maxVersion}`)
    }
  }
})

// ---------------------------------------------------------------------------------------------
// Layouts in the brief's Appendix A notation (DeleteRecords and AlterConfigs from Kafka 3.7's
// message JSON), with version ranges clipped to what the broker advertises.

type Spec = Record<string, string>
const SPECS: Array<[api: Api, requests: Spec, responses: Spec]> = [
  [produceApi as Api,
    { '3-7': 'TransactionalId:string? Acks:int16 TimeoutMs:int32 TopicData:[Name:string PartitionData:[Index:int32 Records:records?]]' },
    {
      '3-4': 'Responses:[Name:string PartitionResponses:[Index:int32 ErrorCode:int16 BaseOffset:int64 LogAppendTimeMs:int64]] ThrottleTimeMs:int32',
      '5-7': 'Responses:[Name:string PartitionResponses:[Index:int32 ErrorCode:int16 BaseOffset:int64 LogAppendTimeMs:int64 LogStartOffset:int64]] ThrottleTimeMs:int32',
    }],
  [fetchApi as Api,
    {
      '4': 'ReplicaId:int32 MaxWaitMs:int32 MinBytes:int32 MaxBytes:int32 IsolationLevel:int8 Topics:[Topic:string Partitions:[Partition:int32 FetchOffset:int64 PartitionMaxBytes:int32]]',
      '5-6': 'ReplicaId:int32 MaxWaitMs:int32 MinBytes:int32 MaxBytes:int32 IsolationLevel:int8 Topics:[Topic:string Partitions:[Partition:int32 FetchOffset:int64 LogStartOffset:int64 PartitionMaxBytes:int32]]',
      '7-8': 'ReplicaId:int32 MaxWaitMs:int32 MinBytes:int32 MaxBytes:int32 IsolationLevel:int8 SessionId:int32 SessionEpoch:int32 Topics:[Topic:string Partitions:[Partition:int32 FetchOffset:int64 LogStartOffset:int64 PartitionMaxBytes:int32]] ForgottenTopicsData:[Topic:string Partitions:[int32]]',
      '9-10': 'ReplicaId:int32 MaxWaitMs:int32 MinBytes:int32 MaxBytes:int32 IsolationLevel:int8 SessionId:int32 SessionEpoch:int32 Topics:[Topic:string Partitions:[Partition:int32 CurrentLeaderEpoch:int32 FetchOffset:int64 LogStartOffset:int64 PartitionMaxBytes:int32]] ForgottenTopicsData:[Topic:string Partitions:[int32]]',
      '11': 'ReplicaId:int32 MaxWaitMs:int32 MinBytes:int32 MaxBytes:int32 IsolationLevel:int8 SessionId:int32 SessionEpoch:int32 Topics:[Topic:string Partitions:[Partition:int32 CurrentLeaderEpoch:int32 FetchOffset:int64 LogStartOffset:int64 PartitionMaxBytes:int32]] ForgottenTopicsData:[Topic:string Partitions:[int32]] RackId:string',
    },
    {
      '4': 'ThrottleTimeMs:int32 Responses:[Topic:string Partitions:[PartitionIndex:int32 ErrorCode:int16 HighWatermark:int64 LastStableOffset:int64 AbortedTransactions?:[ProducerId:int64 FirstOffset:int64] Records:records?]]',
      '5-6': 'ThrottleTimeMs:int32 Responses:[Topic:string Partitions:[PartitionIndex:int32 ErrorCode:int16 HighWatermark:int64 LastStableOffset:int64 LogStartOffset:int64 AbortedTransactions?:[ProducerId:int64 FirstOffset:int64] Records:records?]]',
      '7-10': 'ThrottleTimeMs:int32 ErrorCode:int16 SessionId:int32 Responses:[Topic:string Partitions:[PartitionIndex:int32 ErrorCode:int16 HighWatermark:int64 LastStableOffset:int64 LogStartOffset:int64 AbortedTransactions?:[ProducerId:int64 FirstOffset:int64] Records:records?]]',
      '11': 'ThrottleTimeMs:int32 ErrorCode:int16 SessionId:int32 Responses:[Topic:string Partitions:[PartitionIndex:int32 ErrorCode:int16 HighWatermark:int64 LastStableOffset:int64 LogStartOffset:int64 AbortedTransactions?:[ProducerId:int64 FirstOffset:int64] PreferredReadReplica:int32 Records:records?]]',
    }],
  [listOffsetsApi as Api,
    {
      '0': 'ReplicaId:int32 Topics:[Name:string Partitions:[PartitionIndex:int32 Timestamp:int64 MaxNumOffsets:int32]]',
      '1': 'ReplicaId:int32 Topics:[Name:string Partitions:[PartitionIndex:int32 Timestamp:int64]]',
      '2-3': 'ReplicaId:int32 IsolationLevel:int8 Topics:[Name:string Partitions:[PartitionIndex:int32 Timestamp:int64]]',
    },
    {
      '0': 'Topics:[Name:string Partitions:[PartitionIndex:int32 ErrorCode:int16 OldStyleOffsets:[int64]]]',
      '1': 'Topics:[Name:string Partitions:[PartitionIndex:int32 ErrorCode:int16 Timestamp:int64 Offset:int64]]',
      '2-3': 'ThrottleTimeMs:int32 Topics:[Name:string Partitions:[PartitionIndex:int32 ErrorCode:int16 Timestamp:int64 Offset:int64]]',
    }],
  [metadataApi as Api,
    {
      '0': 'Topics:[Name:string]',
      '1-3': 'Topics?:[Name:string]',
      '4-7': 'Topics?:[Name:string] AllowAutoTopicCreation:bool',
      '8': 'Topics?:[Name:string] AllowAutoTopicCreation:bool IncludeClusterAuthorizedOperations:bool IncludeTopicAuthorizedOperations:bool',
    },
    {
      '0': 'Brokers:[NodeId:int32 Host:string Port:int32] Topics:[ErrorCode:int16 Name:string Partitions:[ErrorCode:int16 PartitionIndex:int32 LeaderId:int32 ReplicaNodes:[int32] IsrNodes:[int32]]]',
      '1': 'Brokers:[NodeId:int32 Host:string Port:int32 Rack:string?] ControllerId:int32 Topics:[ErrorCode:int16 Name:string IsInternal:bool Partitions:[ErrorCode:int16 PartitionIndex:int32 LeaderId:int32 ReplicaNodes:[int32] IsrNodes:[int32]]]',
      '2': 'Brokers:[NodeId:int32 Host:string Port:int32 Rack:string?] ClusterId:string? ControllerId:int32 Topics:[ErrorCode:int16 Name:string IsInternal:bool Partitions:[ErrorCode:int16 PartitionIndex:int32 LeaderId:int32 ReplicaNodes:[int32] IsrNodes:[int32]]]',
      '3-4': 'ThrottleTimeMs:int32 Brokers:[NodeId:int32 Host:string Port:int32 Rack:string?] ClusterId:string? ControllerId:int32 Topics:[ErrorCode:int16 Name:string IsInternal:bool Partitions:[ErrorCode:int16 PartitionIndex:int32 LeaderId:int32 ReplicaNodes:[int32] IsrNodes:[int32]]]',
      '5-6': 'ThrottleTimeMs:int32 Brokers:[NodeId:int32 Host:string Port:int32 Rack:string?] ClusterId:string? ControllerId:int32 Topics:[ErrorCode:int16 Name:string IsInternal:bool Partitions:[ErrorCode:int16 PartitionIndex:int32 LeaderId:int32 ReplicaNodes:[int32] IsrNodes:[int32] OfflineReplicas:[int32]]]',
      '7': 'ThrottleTimeMs:int32 Brokers:[NodeId:int32 Host:string Port:int32 Rack:string?] ClusterId:string? ControllerId:int32 Topics:[ErrorCode:int16 Name:string IsInternal:bool Partitions:[ErrorCode:int16 PartitionIndex:int32 LeaderId:int32 LeaderEpoch:int32 ReplicaNodes:[int32] IsrNodes:[int32] OfflineReplicas:[int32]]]',
      '8': 'ThrottleTimeMs:int32 Brokers:[NodeId:int32 Host:string Port:int32 Rack:string?] ClusterId:string? ControllerId:int32 Topics:[ErrorCode:int16 Name:string IsInternal:bool Partitions:[ErrorCode:int16 PartitionIndex:int32 LeaderId:int32 LeaderEpoch:int32 ReplicaNodes:[int32] IsrNodes:[int32] OfflineReplicas:[int32]] TopicAuthorizedOperations:int32] ClusterAuthorizedOperations:int32',
    }],
  [offsetCommitApi as Api,
    {
      '0': 'GroupId:string Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 CommittedMetadata:string?]]',
      '1': 'GroupId:string GenerationIdOrMemberEpoch:int32 MemberId:string Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 CommitTimestamp:int64 CommittedMetadata:string?]]',
      '2-4': 'GroupId:string GenerationIdOrMemberEpoch:int32 MemberId:string RetentionTimeMs:int64 Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 CommittedMetadata:string?]]',
      '5': 'GroupId:string GenerationIdOrMemberEpoch:int32 MemberId:string Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 CommittedMetadata:string?]]',
      '6': 'GroupId:string GenerationIdOrMemberEpoch:int32 MemberId:string Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 CommittedLeaderEpoch:int32 CommittedMetadata:string?]]',
      '7': 'GroupId:string GenerationIdOrMemberEpoch:int32 MemberId:string GroupInstanceId:string? Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 CommittedLeaderEpoch:int32 CommittedMetadata:string?]]',
    },
    {
      '0-2': 'Topics:[Name:string Partitions:[PartitionIndex:int32 ErrorCode:int16]]',
      '3-7': 'ThrottleTimeMs:int32 Topics:[Name:string Partitions:[PartitionIndex:int32 ErrorCode:int16]]',
    }],
  [offsetFetchApi as Api,
    {
      '0-1': 'GroupId:string Topics:[Name:string PartitionIndexes:[int32]]',
      '2-5': 'GroupId:string Topics?:[Name:string PartitionIndexes:[int32]]',
    },
    {
      '0-1': 'Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 Metadata:string? ErrorCode:int16]]',
      '2': 'Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 Metadata:string? ErrorCode:int16]] ErrorCode:int16',
      '3-4': 'ThrottleTimeMs:int32 Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 Metadata:string? ErrorCode:int16]] ErrorCode:int16',
      '5': 'ThrottleTimeMs:int32 Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 CommittedLeaderEpoch:int32 Metadata:string? ErrorCode:int16]] ErrorCode:int16',
    }],
  [findCoordinatorApi as Api,
    { '0': 'Key:string', '1-2': 'Key:string KeyType:int8' },
    {
      '0': 'ErrorCode:int16 NodeId:int32 Host:string Port:int32',
      '1-2': 'ThrottleTimeMs:int32 ErrorCode:int16 ErrorMessage:string? NodeId:int32 Host:string Port:int32',
    }],
  [joinGroupApi as Api,
    {
      '0': 'GroupId:string SessionTimeoutMs:int32 MemberId:string ProtocolType:string Protocols:[Name:string Metadata:bytes]',
      '1-4': 'GroupId:string SessionTimeoutMs:int32 RebalanceTimeoutMs:int32 MemberId:string ProtocolType:string Protocols:[Name:string Metadata:bytes]',
      '5': 'GroupId:string SessionTimeoutMs:int32 RebalanceTimeoutMs:int32 MemberId:string GroupInstanceId:string? ProtocolType:string Protocols:[Name:string Metadata:bytes]',
    },
    {
      '0-1': 'ErrorCode:int16 GenerationId:int32 ProtocolName:string Leader:string MemberId:string Members:[MemberId:string Metadata:bytes]',
      '2-4': 'ThrottleTimeMs:int32 ErrorCode:int16 GenerationId:int32 ProtocolName:string Leader:string MemberId:string Members:[MemberId:string Metadata:bytes]',
      '5': 'ThrottleTimeMs:int32 ErrorCode:int16 GenerationId:int32 ProtocolName:string Leader:string MemberId:string Members:[MemberId:string GroupInstanceId:string? Metadata:bytes]',
    }],
  [heartbeatApi as Api,
    { '0-2': 'GroupId:string GenerationId:int32 MemberId:string', '3': 'GroupId:string GenerationId:int32 MemberId:string GroupInstanceId:string?' },
    { '0': 'ErrorCode:int16', '1-3': 'ThrottleTimeMs:int32 ErrorCode:int16' }],
  [leaveGroupApi as Api,
    { '0-2': 'GroupId:string MemberId:string', '3': 'GroupId:string Members:[MemberId:string GroupInstanceId:string?]' },
    {
      '0': 'ErrorCode:int16',
      '1-2': 'ThrottleTimeMs:int32 ErrorCode:int16',
      '3': 'ThrottleTimeMs:int32 ErrorCode:int16 Members:[MemberId:string GroupInstanceId:string? ErrorCode:int16]',
    }],
  [syncGroupApi as Api,
    {
      '0-2': 'GroupId:string GenerationId:int32 MemberId:string Assignments:[MemberId:string Assignment:bytes]',
      '3': 'GroupId:string GenerationId:int32 MemberId:string GroupInstanceId:string? Assignments:[MemberId:string Assignment:bytes]',
    },
    { '0': 'ErrorCode:int16 Assignment:bytes', '1-3': 'ThrottleTimeMs:int32 ErrorCode:int16 Assignment:bytes' }],
  [describeGroupsApi as Api,
    { '0-2': 'Groups:[string]', '3-4': 'Groups:[string] IncludeAuthorizedOperations:bool' },
    {
      '0': 'Groups:[ErrorCode:int16 GroupId:string GroupState:string ProtocolType:string ProtocolData:string Members:[MemberId:string ClientId:string ClientHost:string MemberMetadata:bytes MemberAssignment:bytes]]',
      '1-2': 'ThrottleTimeMs:int32 Groups:[ErrorCode:int16 GroupId:string GroupState:string ProtocolType:string ProtocolData:string Members:[MemberId:string ClientId:string ClientHost:string MemberMetadata:bytes MemberAssignment:bytes]]',
      '3': 'ThrottleTimeMs:int32 Groups:[ErrorCode:int16 GroupId:string GroupState:string ProtocolType:string ProtocolData:string Members:[MemberId:string ClientId:string ClientHost:string MemberMetadata:bytes MemberAssignment:bytes] AuthorizedOperations:int32]',
      '4': 'ThrottleTimeMs:int32 Groups:[ErrorCode:int16 GroupId:string GroupState:string ProtocolType:string ProtocolData:string Members:[MemberId:string GroupInstanceId:string? ClientId:string ClientHost:string MemberMetadata:bytes MemberAssignment:bytes] AuthorizedOperations:int32]',
    }],
  [listGroupsApi as Api,
    { '0-2': '(empty)' },
    {
      '0': 'ErrorCode:int16 Groups:[GroupId:string ProtocolType:string]',
      '1-2': 'ThrottleTimeMs:int32 ErrorCode:int16 Groups:[GroupId:string ProtocolType:string]',
    }],
  [apiVersionsApi as Api,
    { '0-2': '(empty)', '3': 'ClientSoftwareName:string ClientSoftwareVersion:string' },
    {
      '0': 'ErrorCode:int16 ApiKeys:[ApiKey:int16 MinVersion:int16 MaxVersion:int16]',
      '1-3': 'ErrorCode:int16 ApiKeys:[ApiKey:int16 MinVersion:int16 MaxVersion:int16] ThrottleTimeMs:int32',
    }],
  [createTopicsApi as Api,
    {
      '0': 'Topics:[Name:string NumPartitions:int32 ReplicationFactor:int16 Assignments:[PartitionIndex:int32 BrokerIds:[int32]] Configs:[Name:string Value:string?]] timeoutMs:int32',
      '1-4': 'Topics:[Name:string NumPartitions:int32 ReplicationFactor:int16 Assignments:[PartitionIndex:int32 BrokerIds:[int32]] Configs:[Name:string Value:string?]] timeoutMs:int32 validateOnly:bool',
    },
    {
      '0': 'Topics:[Name:string ErrorCode:int16]',
      '1': 'Topics:[Name:string ErrorCode:int16 ErrorMessage:string?]',
      '2-4': 'ThrottleTimeMs:int32 Topics:[Name:string ErrorCode:int16 ErrorMessage:string?]',
    }],
  [deleteTopicsApi as Api,
    { '0-3': 'TopicNames:[string] TimeoutMs:int32' },
    { '0': 'Responses:[Name:string ErrorCode:int16]', '1-3': 'ThrottleTimeMs:int32 Responses:[Name:string ErrorCode:int16]' }],
  [deleteRecordsApi as Api,
    { '0-1': 'Topics:[Name:string Partitions:[PartitionIndex:int32 Offset:int64]] TimeoutMs:int32' },
    { '0-1': 'ThrottleTimeMs:int32 Topics:[Name:string Partitions:[PartitionIndex:int32 LowWatermark:int64 ErrorCode:int16]]' }],
  [initProducerIdApi as Api,
    { '0-1': 'TransactionalId:string? TransactionTimeoutMs:int32' },
    { '0-1': 'ThrottleTimeMs:int32 ErrorCode:int16 ProducerId:int64 ProducerEpoch:int16' }],
  [addPartitionsToTxnApi as Api,
    { '0-1': 'V3AndBelowTransactionalId:string V3AndBelowProducerId:int64 V3AndBelowProducerEpoch:int16 V3AndBelowTopics:[Name:string Partitions:[int32]]' },
    { '0-1': 'ThrottleTimeMs:int32 ResultsByTopicV3AndBelow:[Name:string ResultsByPartition:[PartitionIndex:int32 PartitionErrorCode:int16]]' }],
  [addOffsetsToTxnApi as Api,
    { '0-1': 'TransactionalId:string ProducerId:int64 ProducerEpoch:int16 GroupId:string' },
    { '0-1': 'ThrottleTimeMs:int32 ErrorCode:int16' }],
  [endTxnApi as Api,
    { '0-1': 'TransactionalId:string ProducerId:int64 ProducerEpoch:int16 Committed:bool' },
    { '0-1': 'ThrottleTimeMs:int32 ErrorCode:int16' }],
  [txnOffsetCommitApi as Api,
    {
      '0-1': 'TransactionalId:string GroupId:string ProducerId:int64 ProducerEpoch:int16 Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 CommittedMetadata:string?]]',
      '2': 'TransactionalId:string GroupId:string ProducerId:int64 ProducerEpoch:int16 Topics:[Name:string Partitions:[PartitionIndex:int32 CommittedOffset:int64 CommittedLeaderEpoch:int32 CommittedMetadata:string?]]',
    },
    { '0-2': 'ThrottleTimeMs:int32 Topics:[Name:string Partitions:[PartitionIndex:int32 ErrorCode:int16]]' }],
  [describeConfigsApi as Api,
    {
      '0': 'Resources:[ResourceType:int8 ResourceName:string ConfigurationKeys?:[string]]',
      '1-2': 'Resources:[ResourceType:int8 ResourceName:string ConfigurationKeys?:[string]] IncludeSynonyms:bool',
    },
    {
      '0': 'ThrottleTimeMs:int32 Results:[ErrorCode:int16 ErrorMessage:string? ResourceType:int8 ResourceName:string Configs:[Name:string Value:string? ReadOnly:bool IsDefault:bool IsSensitive:bool]]',
      '1-2': 'ThrottleTimeMs:int32 Results:[ErrorCode:int16 ErrorMessage:string? ResourceType:int8 ResourceName:string Configs:[Name:string Value:string? ReadOnly:bool ConfigSource:int8 IsSensitive:bool Synonyms:[Name:string Value:string? Source:int8]]]',
    }],
  [alterConfigsApi as Api,
    { '0-1': 'Resources:[ResourceType:int8 ResourceName:string Configs:[Name:string Value:string?]] ValidateOnly:bool' },
    { '0-1': 'ThrottleTimeMs:int32 Responses:[ErrorCode:int16 ErrorMessage:string? ResourceType:int8 ResourceName:string]' }],
  [createPartitionsApi as Api,
    { '0-1': 'Topics:[Name:string Count:int32 Assignments?:[BrokerIds:[int32]]] TimeoutMs:int32 ValidateOnly:bool' },
    { '0-1': 'ThrottleTimeMs:int32 Results:[Name:string ErrorCode:int16 ErrorMessage:string?]' }],
  [deleteGroupsApi as Api,
    { '0-1': 'GroupsNames:[string]' },
    { '0-1': 'ThrottleTimeMs:int32 Results:[GroupId:string ErrorCode:int16]' }],
]

/** Kafka 3.7 names that Sluice shortens (brief: the V3AndBelow prefixes go; classic groups only). */
const RENAMES: Record<string, string> = {
  GenerationIdOrMemberEpoch: 'generationId',
  V3AndBelowTransactionalId: 'transactionalId',
  V3AndBelowProducerId: 'producerId',
  V3AndBelowProducerEpoch: 'producerEpoch',
  V3AndBelowTopics: 'topics',
  ResultsByTopicV3AndBelow: 'results',
}
const PRIMITIVES = new Set(['int8', 'int16', 'int32', 'int64', 'bool', 'string', 'string?', 'bytes', 'bytes?'])

/** Parses the brief's `Name:type Name?:[...]` notation into the schema DSL's Fields. */
function parseNotation(text: string): Fields {
  if (text === '(empty)') return []
  let at = 0
  const skipSpaces = (): void => { while (text[at] === ' ') at++ }
  const parseFields = (inBrackets: boolean): Fields => {
    const fields: Array<readonly [string, FieldType]> = []
    for (;;) {
      skipSpaces()
      if (at >= text.length || text[at] === ']') {
        assert.equal(at < text.length, inBrackets, `unbalanced brackets in ${text}`)
        return fields
      }
      const head = /^([A-Za-z0-9]+)(\?)?:/.exec(text.slice(at))
      assert.ok(head, `bad field at ${at} in ${text}`)
      at += head[0].length
      const name = RENAMES[head[1]!] ?? head[1]!.charAt(0).toLowerCase() + head[1]!.slice(1)
      fields.push([name, parseType(head[2] === '?')])
    }
  }
  const parseType = (nullableArray: boolean): FieldType => {
    if (text[at] === '[') {
      at++
      const primitive = /^(int8|int16|int32|int64|string)\]/.exec(text.slice(at))
      let element: PrimitiveType | Fields
      if (primitive) {
        at += primitive[0].length
        element = primitive[1] as PrimitiveType
      } else {
        element = parseFields(true)
        at++ // the closing ']'
      }
      return nullableArray ? { array: element, nullable: true } : { array: element }
    }
    const word = /^[a-z0-9?]+/.exec(text.slice(at))
    assert.ok(word, `bad type at ${at} in ${text}`)
    at += word[0].length
    if (word[0] === 'records?' || word[0] === 'records') return 'records'
    assert.ok(PRIMITIVES.has(word[0]), `unknown type ${word[0]}`)
    return word[0] as FieldType
  }
  const fields = parseFields(false)
  assert.equal(at, text.length)
  return fields
}

function layoutFor(table: Api['requests'], version: number): Fields {
  let chosen: Fields | undefined
  for (const [fromVersion, fields] of table) if (fromVersion <= version) chosen = fields
  assert.ok(chosen, `no layout for v${version}`)
  return chosen
}

function expandSpec(spec: Spec): Map<number, Fields> {
  const byVersion = new Map<number, Fields>()
  for (const [range, text] of Object.entries(spec)) {
    const [from, to] = range.split('-').map(Number) as [number, number | undefined]
    for (let version = from; version <= (to ?? from); version++) {
      assert.ok(!byVersion.has(version), `v${version} listed twice`)
      byVersion.set(version, parseNotation(text))
    }
  }
  return byVersion
}

test('every advertised version of every API has the layout the brief gives (Appendix A)', () => {
  assert.equal(SPECS.length, allApis.length)
  for (const [api, requests, responses] of SPECS) {
    for (const [kind, spec, table] of [['request', requests, api.requests], ['response', responses, api.responses]] as const) {
      const expected = expandSpec(spec)
      const versions = [...expected.keys()].sort((a, b) => a - b)
      assert.deepEqual(versions, range(api.minVersion, api.maxVersion), `${api.name} ${kind}: spec covers every version`)
      for (const version of versions) {
        assert.deepEqual(layoutFor(table, version), expected.get(version), `${api.name} v${version} ${kind}`)
      }
    }
  }
})

// ---------------------------------------------------------------------------------------------
// Representative values: one per API and direction holding every field of every version, all
// non-default and non-null. Each version's value is this projected onto that version's layout.

const batch = Buffer.from('000000000000000000000031ffffffff02', 'hex')
const bytes = (text: string): Buffer => Buffer.from(text)

interface Sample<Request, Response> { api: ApiDefinition<Request, Response>; request: Request; response: Response }
const sample = <Request, Response>(api: ApiDefinition<Request, Response>, request: Request, response: Response): Sample<unknown, unknown> =>
  ({ api, request, response }) as Sample<unknown, unknown>

const SAMPLES: Array<Sample<unknown, unknown>> = [
  sample<ProduceRequest, ProduceResponse>(produceApi, {
    transactionalId: 'txn-1', acks: -1, timeoutMs: 30_000,
    topicData: [
      { name: 'orders', partitionData: [{ index: 2, records: batch }, { index: 5, records: bytes('second') }] },
      { name: 'metrics', partitionData: [{ index: 1, records: bytes('third') }] },
    ],
  }, {
    responses: [{
      name: 'orders',
      partitionResponses: [
        { index: 2, errorCode: 87, baseOffset: 42n, logAppendTimeMs: 1_700_000_000_000n, logStartOffset: 7n },
        { index: 5, errorCode: 10, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n },
      ],
    }],
    throttleTimeMs: 15,
  }),
  sample<FetchRequest, FetchResponse>(fetchApi, {
    replicaId: -1, maxWaitMs: 500, minBytes: 1, maxBytes: 52_428_800, isolationLevel: 1, sessionId: 77, sessionEpoch: 3,
    topics: [{
      topic: 'orders',
      partitions: [
        { partition: 2, currentLeaderEpoch: 4, fetchOffset: 100n, logStartOffset: -1n, partitionMaxBytes: 1_048_576 },
        { partition: 3, currentLeaderEpoch: -1, fetchOffset: 2n ** 40n, logStartOffset: 9n, partitionMaxBytes: 65_536 },
      ],
    }],
    forgottenTopicsData: [{ topic: 'old', partitions: [1, 5] }],
    rackId: 'rack-a',
  }, {
    throttleTimeMs: 1, errorCode: 70, sessionId: 77,
    responses: [{
      topic: 'orders',
      partitions: [{
        partitionIndex: 2, errorCode: 1, highWatermark: 200n, lastStableOffset: 190n, logStartOffset: 10n,
        abortedTransactions: [{ producerId: 1000n, firstOffset: 150n }, { producerId: 1001n, firstOffset: 160n }],
        preferredReadReplica: -1, records: batch,
      }],
    }],
  }),
  sample<ListOffsetsRequest, ListOffsetsResponse>(listOffsetsApi, {
    replicaId: -1, isolationLevel: 1,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, timestamp: -2n, maxNumOffsets: 1 }] }],
  }, {
    throttleTimeMs: 2,
    topics: [{
      name: 'orders',
      partitions: [{ partitionIndex: 1, errorCode: 3, oldStyleOffsets: [42n, 7n], timestamp: 1_700_000_000_000n, offset: 42n }],
    }],
  }),
  sample<MetadataRequest, MetadataResponse>(metadataApi, {
    topics: [{ name: 'orders' }, { name: 'metrics' }],
    allowAutoTopicCreation: true, includeClusterAuthorizedOperations: true, includeTopicAuthorizedOperations: true,
  }, {
    throttleTimeMs: 3,
    brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: 'rack-a' }],
    clusterId: 'sluice-cluster', controllerId: 1,
    topics: [{
      errorCode: 3, name: 'orders', isInternal: true,
      partitions: [{
        errorCode: 5, partitionIndex: 2, leaderId: 1, leaderEpoch: 6, replicaNodes: [1], isrNodes: [1, 2], offlineReplicas: [3],
      }],
      topicAuthorizedOperations: -2_147_483_648,
    }],
    clusterAuthorizedOperations: 248,
  }),
  sample<OffsetCommitRequest, OffsetCommitResponse>(offsetCommitApi, {
    groupId: 'group-1', generationId: 4, memberId: 'member-1', groupInstanceId: 'static-1', retentionTimeMs: -1n,
    topics: [{
      name: 'orders',
      partitions: [{
        partitionIndex: 1, committedOffset: 99n, committedLeaderEpoch: 2, commitTimestamp: 1_700_000_000_000n, committedMetadata: 'meta',
      }],
    }],
  }, {
    throttleTimeMs: 4,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, errorCode: 22 }, { partitionIndex: 2, errorCode: 25 }] }],
  }),
  sample<OffsetFetchRequest, OffsetFetchResponse>(offsetFetchApi, {
    groupId: 'group-1', topics: [{ name: 'orders', partitionIndexes: [1, 3] }],
  }, {
    throttleTimeMs: 5,
    topics: [{
      name: 'orders',
      partitions: [{ partitionIndex: 1, committedOffset: 99n, committedLeaderEpoch: 2, metadata: 'meta', errorCode: 3 }],
    }],
    errorCode: 16,
  }),
  sample<FindCoordinatorRequest, FindCoordinatorResponse>(findCoordinatorApi, { key: 'group-1', keyType: 1 }, {
    throttleTimeMs: 6, errorCode: 15, errorMessage: 'loading', nodeId: 1, host: 'localhost', port: 9092,
  }),
  sample<JoinGroupRequest, JoinGroupResponse>(joinGroupApi, {
    groupId: 'group-1', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 60_000, memberId: 'member-1', groupInstanceId: 'static-1',
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: bytes('range-meta') }, { name: 'roundrobin', metadata: bytes('rr-meta') }],
  }, {
    throttleTimeMs: 7, errorCode: 79, generationId: 3, protocolName: 'range', leader: 'member-1', memberId: 'member-2',
    members: [{ memberId: 'member-1', groupInstanceId: 'static-1', metadata: bytes('range-meta') }],
  }),
  sample<HeartbeatRequest, HeartbeatResponse>(heartbeatApi,
    { groupId: 'group-1', generationId: 3, memberId: 'member-1', groupInstanceId: 'static-1' },
    { throttleTimeMs: 8, errorCode: 27 }),
  sample<LeaveGroupRequest, LeaveGroupResponse>(leaveGroupApi, {
    groupId: 'group-1', memberId: 'member-1', members: [{ memberId: 'member-1', groupInstanceId: 'static-1' }],
  }, {
    throttleTimeMs: 9, errorCode: 25, members: [{ memberId: 'member-1', groupInstanceId: 'static-1', errorCode: 25 }],
  }),
  sample<SyncGroupRequest, SyncGroupResponse>(syncGroupApi, {
    groupId: 'group-1', generationId: 3, memberId: 'member-1', groupInstanceId: 'static-1',
    assignments: [{ memberId: 'member-1', assignment: bytes('assignment-1') }, { memberId: 'member-2', assignment: bytes('a2') }],
  }, { throttleTimeMs: 10, errorCode: 27, assignment: bytes('assignment-1') }),
  sample<DescribeGroupsRequest, DescribeGroupsResponse>(describeGroupsApi,
    { groups: ['group-1', 'group-2'], includeAuthorizedOperations: true }, {
      throttleTimeMs: 11,
      groups: [{
        errorCode: 16, groupId: 'group-1', groupState: 'Stable', protocolType: 'consumer', protocolData: 'range',
        members: [{
          memberId: 'member-1', groupInstanceId: 'static-1', clientId: 'client-1', clientHost: '/127.0.0.1',
          memberMetadata: bytes('meta'), memberAssignment: bytes('assignment'),
        }],
        authorizedOperations: 8,
      }],
    }),
  sample<ListGroupsRequest, ListGroupsResponse>(listGroupsApi, {}, {
    throttleTimeMs: 12, errorCode: 15, groups: [{ groupId: 'group-1', protocolType: 'consumer' }],
  }),
  sample<ApiVersionsRequest, ApiVersionsResponse>(apiVersionsApi, { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' }, {
    errorCode: 35, apiKeys: [{ apiKey: 1, minVersion: 4, maxVersion: 11 }, { apiKey: 3, minVersion: 1, maxVersion: 8 }], throttleTimeMs: 13,
  }),
  sample<CreateTopicsRequest, CreateTopicsResponse>(createTopicsApi, {
    topics: [{
      name: 'orders', numPartitions: 3, replicationFactor: 1,
      assignments: [{ partitionIndex: 1, brokerIds: [1] }],
      configs: [{ name: 'retention.ms', value: '1000' }],
    }],
    timeoutMs: 5000, validateOnly: true,
  }, { throttleTimeMs: 14, topics: [{ name: 'orders', errorCode: 36, errorMessage: 'Topic already exists' }] }),
  sample<DeleteTopicsRequest, DeleteTopicsResponse>(deleteTopicsApi, { topicNames: ['orders', 'metrics'], timeoutMs: 5000 }, {
    throttleTimeMs: 15, responses: [{ name: 'orders', errorCode: 3 }],
  }),
  sample<DeleteRecordsRequest, DeleteRecordsResponse>(deleteRecordsApi, {
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, offset: 50n }, { partitionIndex: 2, offset: -1n }] }], timeoutMs: 5000,
  }, {
    throttleTimeMs: 16, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, lowWatermark: 50n, errorCode: 1 }] }],
  }),
  sample<InitProducerIdRequest, InitProducerIdResponse>(initProducerIdApi, { transactionalId: 'txn-1', transactionTimeoutMs: 60_000 }, {
    throttleTimeMs: 17, errorCode: 47, producerId: 1000n, producerEpoch: 3,
  }),
  sample<AddPartitionsToTxnRequest, AddPartitionsToTxnResponse>(addPartitionsToTxnApi, {
    transactionalId: 'txn-1', producerId: 1000n, producerEpoch: 3, topics: [{ name: 'orders', partitions: [1, 2] }],
  }, {
    throttleTimeMs: 18,
    results: [{ name: 'orders', resultsByPartition: [{ partitionIndex: 1, partitionErrorCode: 55 }, { partitionIndex: 2, partitionErrorCode: 3 }] }],
  }),
  sample<AddOffsetsToTxnRequest, AddOffsetsToTxnResponse>(addOffsetsToTxnApi,
    { transactionalId: 'txn-1', producerId: 1000n, producerEpoch: 3, groupId: 'group-1' },
    { throttleTimeMs: 19, errorCode: 51 }),
  sample<EndTxnRequest, EndTxnResponse>(endTxnApi,
    { transactionalId: 'txn-1', producerId: 1000n, producerEpoch: 3, committed: true },
    { throttleTimeMs: 20, errorCode: 48 }),
  sample<TxnOffsetCommitRequest, TxnOffsetCommitResponse>(txnOffsetCommitApi, {
    transactionalId: 'txn-1', groupId: 'group-1', producerId: 1000n, producerEpoch: 3,
    topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 10n, committedLeaderEpoch: 2, committedMetadata: 'm' }] }],
  }, { throttleTimeMs: 21, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, errorCode: 49 }] }] }),
  sample<DescribeConfigsRequest, DescribeConfigsResponse>(describeConfigsApi, {
    resources: [{ resourceType: 2, resourceName: 'orders', configurationKeys: ['retention.ms', 'cleanup.policy'] }],
    includeSynonyms: true,
  }, {
    throttleTimeMs: 22,
    results: [{
      errorCode: 3, errorMessage: 'unknown', resourceType: 2, resourceName: 'orders',
      configs: [{
        name: 'retention.ms', value: '1000', readOnly: true, isDefault: true, configSource: 5, isSensitive: true,
        synonyms: [{ name: 'log.retention.ms', value: '2000', source: 4 }],
      }],
    }],
  }),
  sample<AlterConfigsRequest, AlterConfigsResponse>(alterConfigsApi, {
    resources: [{ resourceType: 2, resourceName: 'orders', configs: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: true,
  }, { throttleTimeMs: 23, responses: [{ errorCode: 40, errorMessage: 'bad value', resourceType: 2, resourceName: 'orders' }] }),
  sample<CreatePartitionsRequest, CreatePartitionsResponse>(createPartitionsApi, {
    topics: [{ name: 'orders', count: 4, assignments: [{ brokerIds: [1] }] }], timeoutMs: 5000, validateOnly: true,
  }, { throttleTimeMs: 24, results: [{ name: 'orders', errorCode: 37, errorMessage: 'cannot shrink' }] }),
  sample<DeleteGroupsRequest, DeleteGroupsResponse>(deleteGroupsApi, { groupsNames: ['group-1', 'group-2'] }, {
    throttleTimeMs: 25, results: [{ groupId: 'group-1', errorCode: 68 }],
  }),
]

/** Keeps only the fields a layout has, recursively. */
function project(fields: Fields, value: Value): Value {
  const out: Value = {}
  for (const [name, type] of fields) {
    assert.ok(name in value, `sample lacks ${name}`)
    const field = value[name]
    if (typeof type !== 'string' && typeof type.array !== 'string' && Array.isArray(field)) {
      const element = type.array
      out[name] = field.map(item => project(element, item as Value))
    } else {
      out[name] = field
    }
  }
  return out
}

/** Sets every nullable field (string?, bytes?, records, nullable arrays) to null, recursively. */
function nullify(fields: Fields, value: Value): Value {
  const out: Value = { ...value }
  for (const [name, type] of fields) {
    if (type === 'string?' || type === 'bytes?' || type === 'records') out[name] = null
    else if (typeof type !== 'string' && type.nullable) out[name] = null
    else if (typeof type !== 'string' && typeof type.array !== 'string') {
      const element = type.array
      out[name] = (value[name] as Value[]).map(item => nullify(element, item))
    }
  }
  return out
}

/** Dotted paths of every field in a layout ("topics[].partitions[].index"). */
function layoutPaths(fields: Fields, prefix = ''): string[] {
  return fields.flatMap(([name, type]) => {
    const path = prefix + name
    if (typeof type === 'string' || typeof type.array === 'string') return [path]
    return [path, ...layoutPaths(type.array, `${path}[].`)]
  })
}

/** Dotted paths of every key in a sample, asserting each leaf is a non-default, non-null value. */
function samplePaths(value: Value, prefix = ''): string[] {
  return Object.entries(value).flatMap(([name, field]) => {
    const path = prefix + name
    assert.ok(field !== null && field !== undefined, `${path} is null`)
    if (Buffer.isBuffer(field)) {
      assert.ok(field.length > 0, `${path} is empty`)
      return [path]
    }
    if (Array.isArray(field)) {
      assert.ok(field.length > 0, `${path} is an empty array`)
      if (typeof field[0] !== 'object') {
        for (const item of field) assertNonDefault(item, `${path}[]`)
        return [path]
      }
      return [path, ...new Set(field.flatMap(item => samplePaths(item as Value, `${path}[].`)))]
    }
    assertNonDefault(field, path)
    return [path]
  })
}

function assertNonDefault(value: unknown, path: string): void {
  assert.ok(value !== 0 && value !== 0n && value !== '' && value !== false, `${path} holds a default value (${String(value)})`)
}

function allVersionPaths(api: Api, table: Api['requests']): string[] {
  const paths = new Set<string>()
  for (let version = api.minVersion; version <= api.maxVersion; version++) {
    for (const path of layoutPaths(layoutFor(table, version))) paths.add(path)
  }
  return [...paths].sort()
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

function encodeReq(api: Api, version: number, value: unknown): Buffer {
  const writer = new Writer(16)
  encodeRequest(api, version, writer, value)
  return writer.toBuffer()
}

function encodeRes(api: Api, version: number, value: unknown): Buffer {
  const writer = new Writer(16)
  encodeResponse(api, version, writer, value)
  return writer.toBuffer()
}

function decodeAll<T>(decode: (reader: Reader) => T, bytes: Buffer): T {
  const reader = new Reader(bytes)
  const value = decode(reader)
  assert.equal(reader.remaining, 0, 'decoding left bytes behind')
  return value
}

test('each sample sets every field of every version, with non-default, non-null values', () => {
  assert.equal(SAMPLES.length, allApis.length)
  assert.deepEqual(new Set(SAMPLES.map(s => s.api.key)), new Set(allApis.map(api => api.key)))
  for (const { api, request, response } of SAMPLES) {
    assert.deepEqual(samplePaths(request as Value).sort(), allVersionPaths(api as Api, api.requests), `${api.name} request`)
    assert.deepEqual(samplePaths(response as Value).sort(), allVersionPaths(api as Api, api.responses), `${api.name} response`)
  }
})

for (const { api: typedApi, request, response } of SAMPLES) {
  const api = typedApi as Api
  test(`${api.name}: every version v${api.minVersion}-v${api.maxVersion} round-trips, with values and with nulls`, () => {
    for (const version of range(api.minVersion, api.maxVersion)) {
      const requestLayout = layoutFor(api.requests, version)
      const responseLayout = layoutFor(api.responses, version)
      for (const [variant, requestValue, responseValue] of [
        ['values', project(requestLayout, request as Value), project(responseLayout, response as Value)],
        ['nulls', nullify(requestLayout, project(requestLayout, request as Value)), nullify(responseLayout, project(responseLayout, response as Value))],
      ] as const) {
        const label = `${api.name} v${version} (${variant})`
        const requestBytes = encodeReq(api, version, requestValue)
        const decodedRequest = decodeAll(reader => decodeRequest(api, version, reader), requestBytes)
        assert.deepStrictEqual(decodedRequest, requestValue, `${label} request`)
        assert.deepEqual(encodeReq(api, version, decodedRequest), requestBytes, `${label} request re-encodes identically`)

        const responseBytes = encodeRes(api, version, responseValue)
        const decodedResponse = decodeAll(reader => decodeResponse(api, version, reader), responseBytes)
        assert.deepStrictEqual(decodedResponse, responseValue, `${label} response`)
        assert.deepEqual(encodeRes(api, version, decodedResponse), responseBytes, `${label} response re-encodes identically`)
      }
    }
  })
}

test('decoding any truncated request or response throws ProtocolDecodeError', () => {
  for (const { api: typedApi, request, response } of SAMPLES) {
    const api = typedApi as Api
    for (const version of range(api.minVersion, api.maxVersion)) {
      const cases: Array<[string, Buffer, (reader: Reader) => unknown]> = [
        ['request', encodeReq(api, version, project(layoutFor(api.requests, version), request as Value)),
          reader => decodeRequest(api, version, reader)],
        ['response', encodeRes(api, version, project(layoutFor(api.responses, version), response as Value)),
          reader => decodeResponse(api, version, reader)],
      ]
      for (const [kind, full, decode] of cases) {
        for (let length = 0; length < full.length; length++) {
          assert.throws(() => decode(new Reader(full.subarray(0, length))), ProtocolDecodeError,
            `${api.name} v${version} ${kind} cut to ${length}/${full.length} bytes`)
        }
      }
    }
  }
})

test('Produce v3 request encodes to the hand-computed bytes', () => {
  const request: ProduceRequest = {
    transactionalId: null, acks: -1, timeoutMs: 30_000,
    topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.from([0xde, 0xad]) }] }],
  }
  const expected = [
    'ffff', // transactionalId: null
    'ffff', // acks: -1
    '00007530', // timeoutMs: 30000
    '00000001', // topicData: 1 topic
    '0001 74', // name: "t"
    '00000001', // partitionData: 1 partition
    '00000000', // index: 0
    '00000002 dead', // records: 2 bytes
  ].join('').replace(/ /g, '')
  const encoded = encodeReq(produceApi as Api, 3, request)
  assert.equal(encoded.toString('hex'), expected)
  assert.deepStrictEqual(decodeAll(reader => decodeRequest(produceApi, 3, reader), encoded), request)
})

test('Produce v3 and v5 responses encode to the hand-computed bytes', () => {
  const partition = { index: 1, errorCode: 0, baseOffset: 5n, logAppendTimeMs: -1n, logStartOffset: 2n }
  const response: ProduceResponse = { responses: [{ name: 't', partitionResponses: [partition] }], throttleTimeMs: 0 }
  const v3 = '00000001 0001 74 00000001 00000001 0000 0000000000000005 ffffffffffffffff 00000000'.replace(/ /g, '')
  const v5 = '00000001 0001 74 00000001 00000001 0000 0000000000000005 ffffffffffffffff 0000000000000002 00000000'.replace(/ /g, '')
  assert.equal(encodeRes(produceApi as Api, 3, response).toString('hex'), v3)
  assert.equal(encodeRes(produceApi as Api, 4, response).toString('hex'), v3)
  assert.equal(encodeRes(produceApi as Api, 5, response).toString('hex'), v5)
  assert.equal(encodeRes(produceApi as Api, 7, response).toString('hex'), v5)
})

test('Metadata: v1+ null topics decode to null; v0 rejects a null list; v0 empty list stays empty', () => {
  for (const version of range(1, 8)) {
    const body = Buffer.concat([Buffer.from('ffffffff', 'hex'), Buffer.alloc(version >= 8 ? 3 : version >= 4 ? 1 : 0)])
    const decoded = decodeAll(reader => decodeRequest(metadataApi, version, reader), body)
    assert.equal(decoded.topics, null, `v${version}`)
  }
  assert.throws(() => decodeRequest(metadataApi, 0, new Reader(Buffer.from('ffffffff', 'hex'))), ProtocolDecodeError)
  assert.deepEqual(decodeRequest(metadataApi, 0, new Reader(Buffer.from('00000000', 'hex'))), { topics: [] })
  assert.equal(encodeReq(metadataApi as Api, 1, { topics: null }).toString('hex'), 'ffffffff')
})

test('OffsetFetch: v2+ null topics round-trip; v0-v1 reject null', () => {
  const nullTopics = Buffer.from('0001 67 ffffffff'.replace(/ /g, ''), 'hex')
  for (const version of range(2, 5)) {
    assert.deepEqual(decodeAll(reader => decodeRequest(offsetFetchApi, version, reader), nullTopics), { groupId: 'g', topics: null })
  }
  for (const version of [0, 1]) {
    assert.throws(() => decodeRequest(offsetFetchApi, version, new Reader(nullTopics)), ProtocolDecodeError)
  }
})

test('responses fill omitted version-specific fields with defaults', () => {
  const minimal = {
    throttleTimeMs: 0,
    responses: [{
      topic: 't',
      partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 3n, lastStableOffset: 3n, abortedTransactions: null, records: Buffer.alloc(0) }],
    }],
  }
  const decoded = decodeAll(reader => decodeResponse(fetchApi, 11, reader), encodeRes(fetchApi as Api, 11, minimal))
  assert.deepStrictEqual(decoded, {
    throttleTimeMs: 0, errorCode: 0, sessionId: 0,
    responses: [{
      topic: 't',
      partitions: [{
        partitionIndex: 0, errorCode: 0, highWatermark: 3n, lastStableOffset: 3n, logStartOffset: 0n,
        abortedTransactions: null, preferredReadReplica: 0, records: Buffer.alloc(0),
      }],
    }],
  })
  const metadata = decodeAll(reader => decodeResponse(metadataApi, 8, reader), encodeRes(metadataApi as Api, 8, { brokers: [], topics: [] }))
  assert.deepStrictEqual(metadata, {
    throttleTimeMs: 0, brokers: [], clusterId: null, controllerId: 0, topics: [], clusterAuthorizedOperations: 0,
  })
})

test('malformed bodies (negative lengths where null is not allowed) throw ProtocolDecodeError', () => {
  const malformed: Array<[Api, number, string]> = [
    [produceApi as Api, 3, 'ffff ffff 00007530 ffffffff'], // topicData: null
    [produceApi as Api, 3, 'ffff ffff 00007530 00000001 ffff'], // topic name: null
    [joinGroupApi as Api, 0, '0001 67 00000001 0000 0000 00000001 0000 ffffffff'], // protocol metadata bytes: null
    [fetchApi as Api, 4, '00000000 00000000 00000000 00000000 00 7fffffff'], // topics count exceeds the frame
  ]
  for (const [api, version, text] of malformed) {
    assert.throws(() => decodeRequest(api, version, new Reader(Buffer.from(text.replace(/ /g, ''), 'hex'))), ProtocolDecodeError,
      `${api.name} v${version}: ${text}`)
  }
})
