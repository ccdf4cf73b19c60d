// Group coordinator APIs: FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// DescribeGroups, ListGroups, DeleteGroups, OffsetCommit, OffsetFetch and TxnOffsetCommit.

import { deleteGroupsApi } from '../../protocol/apis/delete-groups.ts'
import { describeGroupsApi } from '../../protocol/apis/describe-groups.ts'
import { findCoordinatorApi } from '../../protocol/apis/find-coordinator.ts'
import { heartbeatApi } from '../../protocol/apis/heartbeat.ts'
import { joinGroupApi } from '../../protocol/apis/join-group.ts'
import { leaveGroupApi } from '../../protocol/apis/leave-group.ts'
import { listGroupsApi } from '../../protocol/apis/list-groups.ts'
import { offsetCommitApi } from '../../protocol/apis/offset-commit.ts'
import { offsetFetchApi, type OffsetFetchRequest, type OffsetFetchResponse } from '../../protocol/apis/offset-fetch.ts'
import { syncGroupApi } from '../../protocol/apis/sync-group.ts'
import { txnOffsetCommitApi } from '../../protocol/apis/txn-offset-commit.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { route, type BrokerParts } from '../context.ts'

/** Offsets of a commit request, flattened, with their place in the answer. */
function flatten(topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; committedOffset: bigint; committedMetadata: string | null }> }>) {
  return topics.flatMap(t => t.partitions.map(p => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.committedMetadata })))
}

function perPartition(topics: Array<{ name: string; partitions: Array<{ partitionIndex: number }> }>, codes: number[]) {
  let i = 0
  return topics.map(t => ({ name: t.name, partitions: t.partitions.map(p => ({ partitionIndex: p.partitionIndex, errorCode: codes[i++]! })) }))
}

export const groupRoutes = [
  route(findCoordinatorApi, (_request, _context, broker) => ({
    throttleTimeMs: 0, errorCode: 0, errorMessage: null,
    nodeId: broker.config.nodeId, host: broker.advertised.host, port: broker.advertised.port,
  })),

  route(joinGroupApi, async (request, context, broker) => {
    const result = await broker.groups.join({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId ?? null,
      clientId: context.clientId ?? '',
      clientHost: context.clientHost,
      sessionTimeoutMs: request.sessionTimeoutMs,
      // JoinGroup v0 has no rebalance timeout; Kafka uses the session timeout.
      rebalanceTimeoutMs: request.rebalanceTimeoutMs ?? request.sessionTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols,
      apiVersion: context.apiVersion,
    })
    return { throttleTimeMs: 0, ...result }
  }),

  route(syncGroupApi, async (request, _context, broker) => {
    const result = await broker.groups.sync(request.groupId, request.memberId, request.generationId, request.assignments)
    return { throttleTimeMs: 0, ...result }
  }),

  route(heartbeatApi, (request, _context, broker) => ({
    throttleTimeMs: 0, errorCode: broker.groups.heartbeat(request.groupId, request.memberId, request.generationId),
  })),

  route(leaveGroupApi, (request, context, broker) => {
    if (context.apiVersion < 3) return { throttleTimeMs: 0, errorCode: broker.groups.leave(request.groupId, request.memberId ?? '') }
    const members = (request.members ?? []).map(m => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode: broker.groups.leave(request.groupId, m.memberId) }))
    return { throttleTimeMs: 0, errorCode: 0, members }
  }),

  route(describeGroupsApi, (request, _context, broker) => ({
    throttleTimeMs: 0,
    groups: request.groups.map(groupId => {
      const group = broker.groups.describe(groupId)
      return {
        errorCode: 0, groupId, groupState: group.state, protocolType: group.protocolType, protocolData: group.protocolName,
        members: group.members.map(m => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, clientHost: m.clientHost, memberMetadata: m.metadata, memberAssignment: m.assignment })),
        authorizedOperations: -2147483648,
      }
    }),
  })),

  route(listGroupsApi, (_request, _context, broker) => ({ throttleTimeMs: 0, errorCode: 0, groups: broker.groups.list() })),

  route(deleteGroupsApi, async (request, _context, broker) => {
    const results = request.groupsNames.map(groupId => ({ groupId, errorCode: broker.groups.deleteGroup(groupId) }))
    await broker.groups.offsetsFlushed()
    return { throttleTimeMs: 0, results }
  }),

  route(offsetCommitApi, async (request, context, broker) => {
    // OffsetCommit v0 carries no generation or member: it is a standalone commit.
    const generationId = context.apiVersion === 0 ? -1 : request.generationId ?? -1
    const codes = broker.groups.commitOffsets(request.groupId, request.memberId ?? '', generationId, flatten(request.topics))
    await broker.groups.offsetsFlushed()
    return { throttleTimeMs: 0, topics: perPartition(request.topics, codes) }
  }),

  route(offsetFetchApi, async (request, _context, broker) => {
    const response = fetchOffsets(request, broker)
    await broker.groups.offsetsFlushed() // what it read is durable
    return response
  }),

  route(txnOffsetCommitApi, async (request, _context, broker) => {
    const offsets = flatten(request.topics)
    let code = broker.txns.checkTxnOffsetCommit(request.transactionalId, request.producerId, request.producerEpoch, request.groupId)
    const tooLarge = offsets.some(o => o.metadata !== null && Buffer.byteLength(o.metadata) > broker.config.offsetMetadataMaxBytes)
    if (code === ErrorCode.NONE && tooLarge) code = ErrorCode.OFFSET_METADATA_TOO_LARGE
    if (code === ErrorCode.NONE) broker.groups.stageTxnOffsets(request.groupId, request.producerId, offsets)
    await broker.groups.offsetsFlushed()
    return { throttleTimeMs: 0, topics: perPartition(request.topics, offsets.map(() => code)) }
  }),
]

function fetchOffsets(request: OffsetFetchRequest, broker: BrokerParts): OffsetFetchResponse {
  if (request.topics === null) {
    const byTopic = new Map<string, Array<{ partitionIndex: number; committedOffset: bigint; metadata: string | null; errorCode: number }>>()
    for (const o of broker.groups.allCommitted(request.groupId)) {
      const list = byTopic.get(o.topic) ?? []
      list.push({ partitionIndex: o.partition, committedOffset: o.offset, metadata: o.metadata, errorCode: 0 })
      byTopic.set(o.topic, list)
    }
    return { throttleTimeMs: 0, errorCode: 0, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) }
  }
  return {
    throttleTimeMs: 0, errorCode: 0,
    topics: request.topics.map(t => ({
      name: t.name,
      partitions: t.partitionIndexes.map(partitionIndex => {
        const committed = broker.groups.committed(request.groupId, t.name, partitionIndex)
        return { partitionIndex, committedOffset: committed?.offset ?? -1n, metadata: committed?.metadata ?? '', errorCode: 0, committedLeaderEpoch: -1 }
      }),
    })),
  }
}
