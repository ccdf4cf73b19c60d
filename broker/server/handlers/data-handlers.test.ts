// Produce, Fetch, ListOffsets and Metadata handlers against a real LogManager in a temporary
// directory, with stub group and transaction coordinators.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { silentLogger } from '../../logger.ts'
import type { LogManager } from '../../log/log-manager.ts'
import { batchesIn, openLogs, produced, temporaryDirectory, testConfig } from '../../log/testing.ts'
import type { FetchRequest, FetchResponse } from '../../protocol/apis/fetch.ts'
import type { ListOffsetsRequest, ListOffsetsResponse } from '../../protocol/apis/list-offsets.ts'
import type { MetadataRequest, MetadataResponse } from '../../protocol/apis/metadata.ts'
import type { ProduceRequest, ProduceResponse } from '../../protocol/apis/produce.ts'
import type { BrokerConfig } from '../../config.ts'
import { ErrorCode } from '../../protocol/errors.ts'
import { NO_RESPONSE, type BrokerParts, type RequestContext, type Route } from '../context.ts'
import { fetchRoute } from './fetch.ts'
import { listOffsetsRoute } from './list-offsets.ts'
import { metadataRoute } from './metadata.ts'
import { produceRoute } from './produce.ts'

interface Harness { logs: LogManager; broker: BrokerParts; txnChecks: Array<unknown[]>; txnAnswer: number; close(): Promise<void> }

async function harness(overrides: Partial<BrokerConfig> = {}): Promise<Harness> {
  const dir = temporaryDirectory()
  const config = testConfig(dir.path, overrides)
  const logs = await openLogs(dir.path, overrides)
  const state: Harness = {
    logs,
    txnChecks: [],
    txnAnswer: 0,
    broker: undefined as never,
    close: async () => { await logs.close(); dir.remove() },
  }
  const txns = { checkProduce: (...args: unknown[]) => { state.txnChecks.push(args); return state.txnAnswer } }
  state.broker = { config, advertised: { host: 'h', port: 9 }, clusterId: 'cluster', logs, groups: {} as never, txns: txns as never, logger: silentLogger, now: Date.now }
  return state
}

function context(apiVersion: number, closed: Promise<void> = new Promise(() => {})): RequestContext {
  return { apiKey: 0, apiVersion, correlationId: 1, clientId: 'test', clientHost: '127.0.0.1', connectionId: 1, closed }
}

async function call<Response>(route: Route, request: unknown, apiVersion: number, h: Harness, closed?: Promise<void>): Promise<Response> {
  return (await route.handle(request, context(apiVersion, closed), h.broker)) as Response
}

const produceRequest = (topic: string, partition: number, records: Buffer | null, overrides: Partial<ProduceRequest> = {}): ProduceRequest => ({
  transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }], ...overrides,
})

const fetchRequest = (partitions: Array<{ topic: string; partition: number; fetchOffset: bigint; partitionMaxBytes?: number }>, overrides: Partial<FetchRequest> = {}): FetchRequest => ({
  replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0,
  topics: [...new Set(partitions.map(p => p.topic))].map(topic => ({
    topic,
    partitions: partitions.filter(p => p.topic === topic).map(p => ({ partition: p.partition, fetchOffset: p.fetchOffset, partitionMaxBytes: p.partitionMaxBytes ?? 1 << 20, logStartOffset: -1n, currentLeaderEpoch: -1 })),
  })),
  ...overrides,
})

const firstPartition = (response: ProduceResponse) => response.responses[0]!.partitionResponses[0]!

test('produce appends, auto-creates, validates and answers per partition', async () => {
  const h = await harness({ flushPolicy: 'always', flushIntervalMs: 1 })
  try {
    const ok = firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('auto', 0, produced({ count: 2 }).records), 7, h))
    assert.deepEqual(ok, { index: 0, errorCode: 0, baseOffset: 0n, logAppendTimeMs: -1n, logStartOffset: 0n })
    assert.equal(h.logs.partition('auto', 0)!.highWatermark, 2n, 'acks -1 answers after the fsync')
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('auto', 3, produced().records), 7, h)).errorCode, 3)
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('bad name', 0, produced().records), 7, h)).errorCode, 17)
    const corrupt = produced().records
    corrupt[corrupt.length - 1] ^= 1
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('auto', 0, corrupt), 7, h)).errorCode, 2)
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('auto', 0, null), 7, h)).errorCode, 87)
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('auto', 0, produced().records, { acks: 2 }), 7, h)).errorCode, 21)
    h.logs.createTopic('small', 1, { 'max.message.bytes': '50' })
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('small', 0, produced({ valueBytes: 100 }).records), 7, h)).errorCode, 10)
  } finally {
    await h.close()
  }
})

test('produce: an idempotent retry gets the original offset; acks 0 sends no response', async () => {
  const h = await harness()
  try {
    const batch = () => produced({ producerId: 3n, epoch: 0, sequence: 0, count: 3 }).records
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('t', 0, batch()), 7, h)).baseOffset, 0n)
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('t', 0, produced().records), 7, h)).baseOffset, 3n)
    const retry = firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('t', 0, batch()), 7, h))
    assert.deepEqual([retry.errorCode, retry.baseOffset], [0, 0n])
    assert.equal(h.logs.partition('t', 0)!.logEndOffset, 4n)
    assert.equal(await produceRoute.handle(produceRequest('t', 0, produced().records, { acks: 0 }), context(7), h.broker), NO_RESPONSE)
    assert.equal(h.logs.partition('t', 0)!.logEndOffset, 5n)
  } finally {
    await h.close()
  }
})

test('produce: transactional batches are checked with the coordinator first', async () => {
  const h = await harness()
  try {
    const txnBatch = () => produced({ producerId: 8n, epoch: 2, sequence: 0, transactional: true }).records
    h.txnAnswer = 48
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('t', 0, txnBatch(), { transactionalId: 'tx' }), 7, h)).errorCode, 48)
    assert.deepEqual(h.txnChecks[0], ['tx', 8n, 2, 't', 0])
    assert.equal(h.logs.partition('t', 0)!.logEndOffset, 0n)
    h.txnAnswer = 0
    assert.equal(firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('t', 0, txnBatch(), { transactionalId: 'tx' }), 7, h)).errorCode, 0)
    assert.ok(h.logs.partition('t', 0)!.hasOpenTransaction(8n))
    assert.equal(h.txnChecks.length, 2)
    await call<ProduceResponse>(produceRoute, produceRequest('t', 0, produced().records), 7, h)
    assert.equal(h.txnChecks.length, 2, 'plain batches are not checked')
  } finally {
    await h.close()
  }
})

test('produce: an ack not durable within timeoutMs is REQUEST_TIMED_OUT', async () => {
  const h = await harness({ flushPolicy: 'always', flushIntervalMs: 200 })
  try {
    await call<ProduceResponse>(produceRoute, produceRequest('t', 0, produced().records), 7, h) // first round runs at once
    const late = firstPartition(await call<ProduceResponse>(produceRoute, produceRequest('t', 0, produced().records, { timeoutMs: 1 }), 7, h))
    assert.deepEqual([late.errorCode, late.baseOffset], [7, 1n])
  } finally {
    await h.close()
  }
})

test('fetch returns stored batches, honours the size limits, and reports offsets per isolation level', async () => {
  const h = await harness()
  try {
    h.logs.createTopic('t', 2, {})
    const log = h.logs.partition('t', 0)!
    for (let i = 0; i < 3; i++) { const b = produced({ count: 2, valueBytes: 100 }); log.appendProduced(b.records, b.header, false) }
    const one = produced({ count: 2, valueBytes: 100 }).records.length
    const other = h.logs.partition('t', 1)!
    const b = produced({ count: 2, valueBytes: 100 })
    other.appendProduced(b.records, b.header, false)

    let response = await call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 1n }]), 11, h)
    let p = response.responses[0]!.partitions[0]!
    assert.deepEqual(batchesIn(p.records).map(x => x.baseOffset), [0n, 2n, 4n])
    assert.deepEqual([p.highWatermark, p.lastStableOffset, p.logStartOffset, p.abortedTransactions, p.preferredReadReplica], [6n, 6n, 0n, null, -1])

    // Response maxBytes below one batch: the first partition still gets one batch, the next nothing.
    response = await call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 0n }, { topic: 't', partition: 1, fetchOffset: 0n }], { maxBytes: 10 }), 11, h)
    assert.deepEqual(batchesIn(response.responses[0]!.partitions[0]!.records).length, 1)
    assert.equal(response.responses[0]!.partitions[1]!.records!.length, 0)
    // Partition maxBytes caps each partition; the budget is shared.
    response = await call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 0n, partitionMaxBytes: one * 2 }, { topic: 't', partition: 1, fetchOffset: 0n }], { maxBytes: one * 3 }), 11, h)
    assert.deepEqual(response.responses[0]!.partitions.map(x => batchesIn(x.records).length), [2, 1])

    response = await call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 99n }, { topic: 'nope', partition: 0, fetchOffset: 0n }]), 11, h)
    assert.equal(response.responses[0]!.partitions[0]!.errorCode, 1)
    assert.equal(response.responses[0]!.partitions[0]!.highWatermark, 6n)
    assert.equal(response.responses[1]!.partitions[0]!.errorCode, 3)

    response = await call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 0n }], { isolationLevel: 1 }), 11, h)
    assert.deepEqual(response.responses[0]!.partitions[0]!.abortedTransactions, [])
  } finally {
    await h.close()
  }
})

/** A promise and whether it has settled yet, to check that a parked fetch is still waiting. */
function watched<T>(promise: Promise<T>): { promise: Promise<T>; settled(): boolean } {
  let done = false
  promise.then(() => { done = true }, () => { done = true })
  return { promise, settled: () => done }
}

/** Lets every microtask and one macrotask turn run: a woken fetch has answered by then. */
const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

/** Ten minutes: a parked fetch that answers within this test was woken, not timed out. */
const PARKED_MS = 600_000

test('fetch long-polls until minBytes arrive, maxWaitMs passes, or the connection closes', { timeout: 60_000 }, async () => {
  const h = await harness()
  try {
    h.logs.createTopic('t', 1, {})
    const log = h.logs.partition('t', 0)!
    let response = await call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 0n }], { maxWaitMs: 80 }), 11, h)
    assert.equal(response.responses[0]!.partitions[0]!.records!.length, 0, 'nothing arrived: an empty answer once maxWaitMs passed')

    const pending = watched(call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 0n }], { maxWaitMs: PARKED_MS, minBytes: 150 }), 11, h))
    await turn()
    const small = produced()
    log.appendProduced(small.records, small.header, false)
    await turn()
    assert.equal(pending.settled(), false, `a first append of ${small.records.length} bytes, below minBytes, did not end the wait`)
    const large = produced({ valueBytes: 200 })
    log.appendProduced(large.records, large.header, false)
    response = await pending.promise
    assert.equal(batchesIn(response.responses[0]!.partitions[0]!.records).length, 2, 'woken by the append that reached minBytes')

    let close = (): void => {}
    const closed = new Promise<void>(resolve => { close = resolve })
    const abandoned = watched(call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 2n }], { maxWaitMs: PARKED_MS }), 11, h, closed))
    await turn()
    assert.equal(abandoned.settled(), false)
    close()
    await abandoned.promise
  } finally {
    await h.close()
  }
})

test('a read_committed fetch parked at the LSO waits through an open transaction and wakes on its commit marker', { timeout: 60_000 }, async () => {
  const h = await harness()
  try {
    h.logs.createTopic('t', 1, {})
    const log = h.logs.partition('t', 0)!
    const committedReader = watched(call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 0n }], { maxWaitMs: PARKED_MS, isolationLevel: 1 }), 11, h))
    const uncommittedReader = watched(call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 0n }], { maxWaitMs: PARKED_MS, isolationLevel: 0 }), 11, h))
    await turn()
    const txn = produced({ producerId: 3n, epoch: 0, sequence: 0, transactional: true })
    log.appendProduced(txn.records, txn.header, true)
    await turn()
    assert.equal(uncommittedReader.settled(), true, 'read_uncommitted: woken by the append')
    assert.equal(batchesIn((await uncommittedReader.promise).responses[0]!.partitions[0]!.records).length, 1)
    assert.equal(committedReader.settled(), false, 'read_committed: the records are above the LSO, the fetch keeps waiting')
    log.appendMarker(3n, 0, true, 0)
    const response = await committedReader.promise
    const partition = response.responses[0]!.partitions[0]!
    assert.equal(partition.lastStableOffset, 2n, 'the marker moved the LSO past the transaction')
    assert.deepEqual(batchesIn(partition.records).map(b => b.baseOffset), [0n, 1n], 'the committed records and their marker')
  } finally {
    await h.close()
  }
})

test('a fetch parked below a new log start wakes with OFFSET_OUT_OF_RANGE', { timeout: 60_000 }, async () => {
  const h = await harness()
  try {
    h.logs.createTopic('t', 1, {})
    const log = h.logs.partition('t', 0)!
    const batch = produced({ count: 4 })
    log.appendProduced(batch.records, batch.header, false)
    // Parked although records are there: fewer bytes than minBytes.
    const parked = watched(call<FetchResponse>(fetchRoute, fetchRequest([{ topic: 't', partition: 0, fetchOffset: 0n }], { maxWaitMs: PARKED_MS, minBytes: 1 << 20 }), 11, h))
    await turn()
    assert.equal(parked.settled(), false)
    log.deleteRecordsBefore(-1n)
    const partition = (await parked.promise).responses[0]!.partitions[0]!
    assert.equal(partition.errorCode, ErrorCode.OFFSET_OUT_OF_RANGE)
    assert.equal(partition.logStartOffset, 4n)
  } finally {
    await h.close()
  }
})

test('list offsets: latest, earliest, by timestamp, read_committed, and v0 old-style offsets', async () => {
  const h = await harness()
  try {
    h.logs.createTopic('t', 1, {})
    const log = h.logs.partition('t', 0)!
    for (const ts of [1000n, 2000n]) { const b = produced({ count: 2, timestampMs: ts }); log.appendProduced(b.records, b.header, false) }
    const txn = produced({ producerId: 1n, epoch: 0, sequence: 0, transactional: true, timestampMs: 3000n })
    log.appendProduced(txn.records, txn.header, true)
    const request = (timestamp: bigint, isolationLevel = 0): ListOffsetsRequest => ({ replicaId: -1, isolationLevel, topics: [{ name: 't', partitions: [{ partitionIndex: 0, timestamp, maxNumOffsets: 1 }] }] })
    const ask = async (timestamp: bigint, version: number, isolationLevel = 0) => (await call<ListOffsetsResponse>(listOffsetsRoute, request(timestamp, isolationLevel), version, h)).topics[0]!.partitions[0]!
    assert.deepEqual(await ask(-1n, 2), { partitionIndex: 0, errorCode: 0, timestamp: -1n, offset: 5n, oldStyleOffsets: [] })
    assert.equal((await ask(-1n, 2, 1)).offset, 4n, 'LSO under read_committed')
    assert.equal((await ask(-2n, 1)).offset, 0n)
    assert.deepEqual([(await ask(1500n, 1)).offset, (await ask(1500n, 1)).timestamp], [2n, 2000n])
    assert.deepEqual([(await ask(9000n, 1)).offset, (await ask(9000n, 1)).timestamp], [-1n, -1n])
    assert.equal((await ask(3000n, 2, 1)).offset, -1n, 'a batch above the LSO is not found under read_committed')
    assert.deepEqual((await ask(-1n, 0)).oldStyleOffsets, [5n])
    const missing = await call<ListOffsetsResponse>(listOffsetsRoute, { replicaId: -1, topics: [{ name: 'nope', partitions: [{ partitionIndex: 0, timestamp: -1n }] }] }, 1, h)
    assert.equal(missing.topics[0]!.partitions[0]!.errorCode, 3)
  } finally {
    await h.close()
  }
})

test('metadata names this broker as controller and leader; topic lists and auto-creation follow the version', async () => {
  const h = await harness({ nodeId: 4 })
  try {
    h.logs.createTopic('b', 2, {})
    const ask = (request: MetadataRequest, version: number) => call<MetadataResponse>(metadataRoute, request, version, h)
    let response = await ask({ topics: null }, 6)
    assert.deepEqual(response.brokers, [{ nodeId: 4, host: 'h', port: 9, rack: null }])
    assert.equal(response.controllerId, 4)
    assert.equal(response.clusterId, 'cluster')
    assert.deepEqual(response.topics.map(t => t.name), ['b'])
    assert.deepEqual(response.topics[0]!.partitions[1], { errorCode: 0, partitionIndex: 1, leaderId: 4, leaderEpoch: 0, replicaNodes: [4], isrNodes: [4], offlineReplicas: [] })
    assert.deepEqual((await ask({ topics: [] }, 0)).topics.map(t => t.name), ['b'], 'v0: empty means all')
    assert.deepEqual((await ask({ topics: [] }, 1)).topics, [], 'v1+: empty means none')
    response = await ask({ topics: [{ name: 'fresh' }], allowAutoTopicCreation: false }, 4)
    assert.equal(response.topics[0]!.errorCode, 3)
    response = await ask({ topics: [{ name: 'fresh' }], allowAutoTopicCreation: true }, 4)
    assert.deepEqual([response.topics[0]!.errorCode, response.topics[0]!.partitions.length], [0, 1])
    response = await ask({ topics: [{ name: 'bad name' }] }, 1)
    assert.equal(response.topics[0]!.errorCode, 17)
  } finally {
    await h.close()
  }
  const off = await harness({ autoCreateTopics: false })
  try {
    const response = await call<MetadataResponse>(metadataRoute, { topics: [{ name: 'x' }], allowAutoTopicCreation: true }, 4, off)
    assert.equal(response.topics[0]!.errorCode, 3)
  } finally {
    await off.close()
  }
})
