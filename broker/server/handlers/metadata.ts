// Metadata: this broker is the cluster's only node, its controller, and the leader (and only
// replica) of every partition. Requested topics are auto-created when both the request (v4+) and
// the broker allow it.

import { metadataApi, type MetadataResponse } from '../../protocol/apis/metadata.ts'
import { ErrorCode, KafkaError } from '../../protocol/errors.ts'
import { route, type BrokerParts } from '../context.ts'

/** Kafka's "not requested" value for the authorized-operations fields. */
const OPERATIONS_OMITTED = -2147483648

type TopicMetadata = MetadataResponse['topics'][number]

export const metadataRoute = route(metadataApi, (request, context, broker) => {
  const { nodeId } = broker.config
  // v0: an empty list means every topic; v1+: null means every topic and an empty list none.
  const all = request.topics === null || (context.apiVersion === 0 && request.topics.length === 0)
  const allowAutoCreate = context.apiVersion < 4 || request.allowAutoTopicCreation !== false
  const names = all ? broker.logs.topicNames() : [...new Set(request.topics!.map(t => t.name))]
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId, host: broker.advertised.host, port: broker.advertised.port, rack: null }],
    clusterId: broker.clusterId,
    controllerId: nodeId,
    topics: names.map(name => topicMetadata(broker, name, allowAutoCreate)),
    clusterAuthorizedOperations: OPERATIONS_OMITTED,
  }
})

function topicMetadata(broker: BrokerParts, name: string, allowAutoCreate: boolean): TopicMetadata {
  const { nodeId } = broker.config
  let errorCode: number = ErrorCode.NONE
  let partitionCount = 0
  try {
    const topic = broker.logs.ensureTopic(name, allowAutoCreate)
    if (topic) partitionCount = topic.partitionCount
    else errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
  } catch (error) {
    if (!(error instanceof KafkaError)) throw error
    errorCode = error.code
  }
  return {
    errorCode,
    name,
    isInternal: false,
    partitions: Array.from({ length: partitionCount }, (_, partitionIndex) => ({
      errorCode: ErrorCode.NONE, partitionIndex, leaderId: nodeId, leaderEpoch: 0, replicaNodes: [nodeId], isrNodes: [nodeId], offlineReplicas: [],
    })),
    topicAuthorizedOperations: OPERATIONS_OMITTED,
  }
}
