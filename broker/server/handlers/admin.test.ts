// Admin handlers against a real LogManager in a temporary directory.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { silentLogger } from '../../logger.ts'
import { openLogs, produced, temporaryDirectory, testConfig } from '../../log/testing.ts'
import type { AlterConfigsResponse } from '../../protocol/apis/alter-configs.ts'
import type { CreatePartitionsResponse } from '../../protocol/apis/create-partitions.ts'
import type { CreateTopicsRequest, CreateTopicsResponse } from '../../protocol/apis/create-topics.ts'
import type { DeleteRecordsResponse } from '../../protocol/apis/delete-records.ts'
import type { DeleteTopicsResponse } from '../../protocol/apis/delete-topics.ts'
import type { DescribeConfigsResponse } from '../../protocol/apis/describe-configs.ts'
import type { BrokerParts, RequestContext, Route } from '../context.ts'
import { alterConfigsRoute, createPartitionsRoute, createTopicsRoute, deleteRecordsRoute, deleteTopicsRoute, describeConfigsRoute } from './admin.ts'

async function withBroker(body: (broker: BrokerParts, call: <R>(route: Route, request: unknown, version: number) => Promise<R>) => Promise<void>): Promise<void> {
  const dir = temporaryDirectory()
  const logs = await openLogs(dir.path, { defaultPartitions: 2, retentionMs: 1000 })
  const broker: BrokerParts = { config: testConfig(dir.path, { defaultPartitions: 2, retentionMs: 1000 }), advertised: { host: 'h', port: 1 }, clusterId: 'c', logs, groups: {} as never, txns: {} as never, logger: silentLogger, now: Date.now }
  const call = async <R>(route: Route, request: unknown, apiVersion: number): Promise<R> => {
    const context: RequestContext = { apiKey: route.api.key, apiVersion, correlationId: 1, clientId: null, clientHost: '', connectionId: 1, closed: new Promise(() => {}) }
    return (await route.handle(request, context, broker)) as R
  }
  try {
    await body(broker, call)
  } finally {
    await logs.close()
    dir.remove()
  }
}

const topic = (name: string, fields: Partial<CreateTopicsRequest['topics'][number]> = {}): CreateTopicsRequest['topics'][number] =>
  ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [], ...fields })

test('CreateTopics: defaults for -1, replication factor, configs, validateOnly, duplicates', () => withBroker(async (broker, call) => {
  const response = await call<CreateTopicsResponse>(createTopicsRoute, {
    timeoutMs: 1000, validateOnly: false,
    topics: [
      topic('defaults'),
      topic('three', { numPartitions: 3, replicationFactor: 1, configs: [{ name: 'retention.ms', value: '5000' }] }),
      topic('rf', { replicationFactor: 3 }),
      topic('zero', { numPartitions: 0 }),
      topic('conf', { configs: [{ name: 'what.is.this', value: '1' }] }),
      topic('twice'), topic('twice'),
      topic('assigned', { assignments: [{ partitionIndex: 0, brokerIds: [0] }, { partitionIndex: 1, brokerIds: [0] }] }),
      topic('bad name'),
    ],
  }, 4)
  assert.deepEqual(response.topics.map(t => [t.name, t.errorCode]), [['defaults', 0], ['three', 0], ['rf', 38], ['zero', 37], ['conf', 40], ['twice', 42], ['twice', 42], ['assigned', 0], ['bad name', 17]])
  assert.equal(broker.logs.topic('defaults')!.partitionCount, 2)
  assert.equal(broker.logs.topic('assigned')!.partitionCount, 2)
  assert.deepEqual(broker.logs.topic('three')!.configs, { 'retention.ms': '5000' })
  assert.equal(response.topics[2]!.errorMessage?.includes('replication factor'), true)
  const again = await call<CreateTopicsResponse>(createTopicsRoute, { timeoutMs: 1000, validateOnly: true, topics: [topic('three'), topic('dry')] }, 1)
  assert.deepEqual(again.topics.map(t => t.errorCode), [36, 0])
  assert.equal(broker.logs.topic('dry'), undefined, 'validateOnly creates nothing')
}))

test('DeleteTopics, CreatePartitions and DeleteRecords answer per topic and partition', () => withBroker(async (broker, call) => {
  broker.logs.createTopic('a', 1, {})
  broker.logs.createTopic('b', 1, {})
  const log = broker.logs.partition('a', 0)!
  for (let i = 0; i < 3; i++) { const batch = produced({ count: 2 }); log.appendProduced(batch.records, batch.header, false) }

  const grown = await call<CreatePartitionsResponse>(createPartitionsRoute, { timeoutMs: 1, validateOnly: false, topics: [{ name: 'a', count: 3, assignments: null }, { name: 'b', count: 1, assignments: null }, { name: 'nope', count: 2, assignments: null }] }, 1)
  assert.deepEqual(grown.results.map(r => r.errorCode), [0, 37, 3])
  assert.equal(broker.logs.topic('a')!.partitionCount, 3)

  const deleted = await call<DeleteRecordsResponse>(deleteRecordsRoute, { timeoutMs: 1, topics: [{ name: 'a', partitions: [{ partitionIndex: 0, offset: 4n }, { partitionIndex: 1, offset: 5n }, { partitionIndex: 9, offset: 0n }] }] }, 1)
  assert.deepEqual(deleted.topics[0]!.partitions, [
    { partitionIndex: 0, lowWatermark: 4n, errorCode: 0 },
    { partitionIndex: 1, lowWatermark: -1n, errorCode: 1 },
    { partitionIndex: 9, lowWatermark: -1n, errorCode: 3 },
  ])
  const toEnd = await call<DeleteRecordsResponse>(deleteRecordsRoute, { timeoutMs: 1, topics: [{ name: 'a', partitions: [{ partitionIndex: 0, offset: -1n }] }] }, 0)
  assert.equal(toEnd.topics[0]!.partitions[0]!.lowWatermark, 6n)

  const gone = await call<DeleteTopicsResponse>(deleteTopicsRoute, { timeoutMs: 1, topicNames: ['b', 'b', 'nope'] }, 1)
  assert.deepEqual(gone.responses.map(r => r.errorCode), [0, 3, 3])
  assert.deepEqual(broker.logs.topicNames(), ['a'])
}))

test('DescribeConfigs for topics (v0 isDefault, v1 sources and synonyms) and for this broker; AlterConfigs', () => withBroker(async (broker, call) => {
  broker.logs.createTopic('t', 1, { 'retention.ms': '5000' })
  const describe = (version: number, resources: unknown[], includeSynonyms = false) => call<DescribeConfigsResponse>(describeConfigsRoute, { resources, includeSynonyms }, version)
  let response = await describe(0, [{ resourceType: 2, resourceName: 't', configurationKeys: ['retention.ms', 'segment.bytes', 'no.such'] }])
  assert.deepEqual(response.results[0]!.configs.map(c => [c.name, c.value, c.isDefault, c.readOnly]), [['retention.ms', '5000', false, false], ['segment.bytes', String(1 << 30), true, false]])
  response = await describe(1, [{ resourceType: 2, resourceName: 't', configurationKeys: null }], true)
  const byName = new Map(response.results[0]!.configs.map(c => [c.name, c]))
  assert.equal(byName.get('retention.ms')!.configSource, 1)
  assert.equal(byName.get('cleanup.policy')!.configSource, 5)
  assert.deepEqual(byName.get('retention.ms')!.synonyms, [{ name: 'retention.ms', value: '5000', source: 1 }])
  assert.ok(byName.has('max.message.bytes') && byName.has('message.timestamp.type'))

  response = await describe(1, [
    { resourceType: 4, resourceName: '0', configurationKeys: ['log.retention.ms', 'num.partitions', 'message.max.bytes'] },
    { resourceType: 4, resourceName: '7', configurationKeys: null },
    { resourceType: 2, resourceName: 'nope', configurationKeys: null },
    { resourceType: 8, resourceName: 'x', configurationKeys: null },
  ])
  assert.deepEqual(response.results[0]!.configs.map(c => [c.name, c.value, c.readOnly, c.configSource]), [
    ['log.retention.ms', '1000', true, 4], ['message.max.bytes', '1048588', true, 5], ['num.partitions', '2', true, 4],
  ].sort())
  assert.deepEqual(response.results.slice(1).map(r => r.errorCode), [42, 3, 42])

  const altered = await call<AlterConfigsResponse>(alterConfigsRoute, { validateOnly: false, resources: [
    { resourceType: 2, resourceName: 't', configs: [{ name: 'segment.bytes', value: '2048' }] },
    { resourceType: 2, resourceName: 'nope', configs: [] },
    { resourceType: 2, resourceName: 't', configs: [{ name: 'unknown', value: '1' }] },
    { resourceType: 4, resourceName: '0', configs: [{ name: 'log.retention.ms', value: '1' }] },
  ] }, 1)
  assert.deepEqual(altered.responses.map(r => r.errorCode), [0, 3, 40, 42])
  assert.deepEqual(broker.logs.topic('t')!.configs, { 'segment.bytes': '2048' })
  assert.equal(broker.logs.partition('t', 0)!.settings.segmentBytes, 2048)
}))
