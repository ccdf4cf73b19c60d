// Topic administration: CreateTopics, DeleteTopics, CreatePartitions, DeleteRecords,
// DescribeConfigs and AlterConfigs. Each topic, partition or resource is answered on its own with
// its Kafka error code; one failing never fails the others.

import type { BrokerConfig } from '../../config.ts'
import { defaultBrokerConfig } from '../../config.ts'
import { alterConfigsApi } from '../../protocol/apis/alter-configs.ts'
import { createPartitionsApi } from '../../protocol/apis/create-partitions.ts'
import { createTopicsApi, type CreateTopicsRequest } from '../../protocol/apis/create-topics.ts'
import { deleteRecordsApi } from '../../protocol/apis/delete-records.ts'
import { deleteTopicsApi } from '../../protocol/apis/delete-topics.ts'
import { describeConfigsApi, type DescribeConfigsRequest, type DescribeConfigsResponse } from '../../protocol/apis/describe-configs.ts'
import { ErrorCode, KafkaError } from '../../protocol/errors.ts'
import { route, type BrokerParts } from '../context.ts'

const RESOURCE_TOPIC = 2
const RESOURCE_BROKER = 4
/** Kafka's ConfigSource values (DescribeConfigs v1+). */
const ConfigSource = { DYNAMIC_TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const

/** Runs `action`; a KafkaError becomes its code and message, anything else propagates. */
function attempt(action: () => void): { errorCode: number; errorMessage: string | null } {
  try {
    action()
    return { errorCode: ErrorCode.NONE, errorMessage: null }
  } catch (error) {
    if (!(error instanceof KafkaError)) throw error
    return { errorCode: error.code, errorMessage: error.message }
  }
}

/** Config entries as a record; a null value is not a config (INVALID_CONFIG). */
function configRecord(entries: ReadonlyArray<{ name: string; value: string | null }>): Record<string, string> {
  const record: Record<string, string> = {}
  for (const { name, value } of entries) {
    if (value === null) throw new KafkaError(ErrorCode.INVALID_CONFIG, `config ${name} has a null value`)
    record[name] = value
  }
  return record
}

export const createTopicsRoute = route(createTopicsApi, (request, _context, broker) => {
  const counts = new Map<string, number>()
  for (const topic of request.topics) counts.set(topic.name, (counts.get(topic.name) ?? 0) + 1)
  return {
    throttleTimeMs: 0,
    topics: request.topics.map(topic => ({
      name: topic.name,
      ...attempt(() => {
        if (counts.get(topic.name)! > 1) throw new KafkaError(ErrorCode.INVALID_REQUEST, `topic "${topic.name}" appears more than once in the request`)
        createTopic(broker, topic, request.validateOnly ?? false)
      }),
    })),
  }
})

function createTopic(broker: BrokerParts, topic: CreateTopicsRequest['topics'][number], validateOnly: boolean): void {
  const { nodeId } = broker.config
  let partitions = topic.numPartitions === -1 ? broker.config.defaultPartitions : topic.numPartitions
  if (topic.assignments.length > 0) {
    if (topic.numPartitions !== -1 || topic.replicationFactor !== -1) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'with a replica assignment, numPartitions and replicationFactor must be -1')
    }
    for (const assignment of topic.assignments) {
      if (assignment.brokerIds.length !== 1 || assignment.brokerIds[0] !== nodeId) {
        throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `partition ${assignment.partitionIndex} must be assigned to broker ${nodeId} alone`)
      }
    }
    partitions = topic.assignments.length
  } else if (topic.replicationFactor !== -1 && topic.replicationFactor !== 1) {
    throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, `replication factor ${topic.replicationFactor}: this cluster has one broker`)
  }
  const configs = configRecord(topic.configs)
  if (validateOnly) broker.logs.validateCreate(topic.name, partitions, configs)
  else broker.logs.createTopic(topic.name, partitions, configs)
}

export const deleteTopicsRoute = route(deleteTopicsApi, (request, _context, broker) => ({
  throttleTimeMs: 0,
  responses: request.topicNames.map(name => ({ name, errorCode: attempt(() => broker.logs.deleteTopic(name)).errorCode })),
}))

export const createPartitionsRoute = route(createPartitionsApi, (request, _context, broker) => ({
  throttleTimeMs: 0,
  results: request.topics.map(topic => ({ name: topic.name, ...attempt(() => broker.logs.createPartitions(topic.name, topic.count, request.validateOnly)) })),
}))

export const deleteRecordsRoute = route(deleteRecordsApi, (request, _context, broker) => ({
  throttleTimeMs: 0,
  topics: request.topics.map(topic => ({
    name: topic.name,
    partitions: topic.partitions.map(p => {
      const log = broker.logs.partition(topic.name, p.partitionIndex)
      if (!log) return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
      let lowWatermark = -1n
      const { errorCode } = attempt(() => { lowWatermark = log.deleteRecordsBefore(p.offset) })
      return { partitionIndex: p.partitionIndex, lowWatermark, errorCode }
    }),
  })),
}))

type DescribedConfig = DescribeConfigsResponse['results'][number]['configs'][number]
type Resource = DescribeConfigsRequest['resources'][number]

export const describeConfigsRoute = route(describeConfigsApi, (request, context, broker) => ({
  throttleTimeMs: 0,
  results: request.resources.map(resource => {
    const base = { resourceType: resource.resourceType, resourceName: resource.resourceName }
    let configs: DescribedConfig[] = []
    const outcome = attempt(() => { configs = describeResource(resource, broker, context.apiVersion, request.includeSynonyms ?? false) })
    return { ...base, ...outcome, configs }
  }),
}))

function describeResource(resource: Resource, broker: BrokerParts, apiVersion: number, includeSynonyms: boolean): DescribedConfig[] {
  let entries: Array<{ name: string; value: string; isDefault: boolean; source: number }>
  if (resource.resourceType === RESOURCE_TOPIC) {
    const topic = broker.logs.topic(resource.resourceName)
    if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no topic "${resource.resourceName}"`)
    entries = topic.effectiveConfigs.map(c => ({ ...c, source: c.isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.DYNAMIC_TOPIC_CONFIG }))
  } else if (resource.resourceType === RESOURCE_BROKER) {
    if (resource.resourceName !== '' && resource.resourceName !== String(broker.config.nodeId)) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `this is broker ${broker.config.nodeId}, not "${resource.resourceName}"`)
    }
    entries = brokerConfigs(broker.config).map(c => ({ ...c, source: c.isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.STATIC_BROKER_CONFIG }))
  } else {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `resource type ${resource.resourceType} is not supported`)
  }
  const wanted = resource.configurationKeys === null ? null : new Set(resource.configurationKeys)
  const readOnly = resource.resourceType === RESOURCE_BROKER
  return entries.filter(e => !wanted || wanted.has(e.name)).map(e => ({
    name: e.name,
    value: e.value,
    readOnly,
    isDefault: e.isDefault,
    isSensitive: false,
    ...(apiVersion >= 1 ? { configSource: e.source, synonyms: includeSynonyms ? [{ name: e.name, value: e.value, source: e.source }] : [] } : {}),
  }))
}

/** The broker's settings under their Kafka names (read-only: this broker has no dynamic configs). */
function brokerConfigs(config: BrokerConfig): Array<{ name: string; value: string; isDefault: boolean }> {
  const pick = <K extends keyof BrokerConfig>(name: string, key: K, show: (v: BrokerConfig[K]) => string = String) => ({
    name,
    value: show(config[key]),
    isDefault: key in defaultBrokerConfig && show(config[key]) === show((defaultBrokerConfig as BrokerConfig)[key]),
  })
  return [
    pick('broker.id', 'nodeId'),
    pick('log.dirs', 'dataDir'),
    pick('log.segment.bytes', 'segmentBytes'),
    pick('log.roll.ms', 'segmentMs'),
    pick('log.retention.ms', 'retentionMs'),
    pick('log.retention.bytes', 'retentionBytes'),
    pick('log.retention.check.interval.ms', 'retentionCheckIntervalMs'),
    pick('message.max.bytes', 'maxMessageBytes'),
    pick('socket.request.max.bytes', 'maxFrameBytes'),
    pick('auto.create.topics.enable', 'autoCreateTopics'),
    pick('num.partitions', 'defaultPartitions'),
    { name: 'default.replication.factor', value: '1', isDefault: true },
    { name: 'min.insync.replicas', value: '1', isDefault: true },
    pick('group.min.session.timeout.ms', 'groupMinSessionTimeoutMs'),
    pick('group.max.session.timeout.ms', 'groupMaxSessionTimeoutMs'),
    pick('group.initial.rebalance.delay.ms', 'groupInitialRebalanceDelayMs'),
    pick('offsets.retention.minutes', 'offsetsRetentionMs', ms => String(Math.floor(ms / 60_000))),
    pick('transaction.max.timeout.ms', 'transactionMaxTimeoutMs'),
    pick('transaction.abort.timed.out.transaction.cleanup.interval.ms', 'transactionAbortCheckIntervalMs'),
    pick('transactional.id.expiration.ms', 'transactionalIdExpirationMs'),
    pick('producer.id.expiration.ms', 'producerIdExpirationMs'),
    pick('sluice.flush.policy', 'flushPolicy'),
    pick('sluice.flush.interval.ms', 'flushIntervalMs'),
  ]
}

export const alterConfigsRoute = route(alterConfigsApi, (request, _context, broker) => ({
  throttleTimeMs: 0,
  responses: request.resources.map(resource => ({
    resourceType: resource.resourceType,
    resourceName: resource.resourceName,
    ...attempt(() => {
      if (resource.resourceType !== RESOURCE_TOPIC) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'only topic configs can be altered; broker configs are static')
      broker.logs.alterConfigs(resource.resourceName, configRecord(resource.configs), request.validateOnly)
    }),
  })),
}))
