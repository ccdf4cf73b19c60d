import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { defaultBrokerConfig } from '../../config.ts'
import { silentLogger } from '../../logger.ts'
import { Reader, Writer } from '../../protocol/codec.ts'
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, type ApiDefinition } from '../../protocol/schema.ts'
import { addOffsetsToTxnApi } from '../../protocol/apis/add-offsets-to-txn.ts'
import { addPartitionsToTxnApi } from '../../protocol/apis/add-partitions-to-txn.ts'
import { endTxnApi } from '../../protocol/apis/end-txn.ts'
import { initProducerIdApi } from '../../protocol/apis/init-producer-id.ts'
import { TxnCoordinator, type MarkerWriter } from '../../txn/coordinator.ts'
import { NO_RESPONSE, type BrokerParts, type RequestContext, type Route } from '../context.ts'
import { txnRoutes } from './txn.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'sluice-txn-handlers-'))
const markerCalls: Array<{ partitions: unknown; commit: boolean }> = []
const markers: MarkerWriter = { async writeMarkers(partitions, _pid, _epoch, commit) { markerCalls.push({ partitions, commit }) } }
let txns: TxnCoordinator
let broker: BrokerParts

before(async () => {
  txns = await TxnCoordinator.open({ config: { ...defaultBrokerConfig, dataDir }, logger: silentLogger, markers, offsets: { completeTxnOffsets() {} } })
  const logs = { partition: (topic: string, index: number) => (topic === 'orders' && index < 2 ? {} : undefined) }
  broker = { txns, logs } as unknown as BrokerParts
})
after(async () => {
  await txns.close()
  rmSync(dataDir, { recursive: true, force: true })
})

/** Sends a request through the API's own field tables both ways, as the connection would. */
async function call<Req, Res>(api: ApiDefinition<Req, Res>, apiVersion: number, request: Req): Promise<Res> {
  const handler = txnRoutes.find((r: Route) => r.api.key === api.key)
  assert.ok(handler, `a route for ${api.name}`)
  const requestWriter = new Writer()
  encodeRequest(api, apiVersion, requestWriter, request)
  const decoded = decodeRequest(api, apiVersion, new Reader(requestWriter.toBuffer()))
  const context = { apiKey: api.key, apiVersion } as RequestContext
  const response = await handler.handle(decoded, context, broker)
  assert.notEqual(response, NO_RESPONSE)
  const responseWriter = new Writer()
  encodeResponse(api, apiVersion, responseWriter, response as Res)
  return decodeResponse(api, apiVersion, new Reader(responseWriter.toBuffer()))
}

test('a transactional producer through the four APIs, encoded and decoded by their field tables', async () => {
  const idempotent = await call(initProducerIdApi, 0, { transactionalId: null, transactionTimeoutMs: 60_000 })
  assert.equal(idempotent.errorCode, 0)
  const init = await call(initProducerIdApi, 1, { transactionalId: 'tx', transactionTimeoutMs: 60_000 })
  assert.deepEqual({ ...init, producerId: typeof init.producerId }, { throttleTimeMs: 0, errorCode: 0, producerId: 'bigint', producerEpoch: 0 })
  const { producerId, producerEpoch } = init

  const refused = await call(addPartitionsToTxnApi, 1, {
    transactionalId: 'tx', producerId, producerEpoch,
    topics: [{ name: 'orders', partitions: [0, 5] }, { name: 'missing', partitions: [0] }, { name: 'orders', partitions: [1] }],
  })
  assert.deepEqual(refused.results, [
    { name: 'orders', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 55 }, { partitionIndex: 5, partitionErrorCode: 3 }] },
    { name: 'missing', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 3 }] },
    { name: 'orders', resultsByPartition: [{ partitionIndex: 1, partitionErrorCode: 55 }] },
  ])

  const added = await call(addPartitionsToTxnApi, 0, { transactionalId: 'tx', producerId, producerEpoch, topics: [{ name: 'orders', partitions: [0, 1] }] })
  assert.deepEqual(added, { throttleTimeMs: 0, results: [{ name: 'orders', resultsByPartition: [{ partitionIndex: 0, partitionErrorCode: 0 }, { partitionIndex: 1, partitionErrorCode: 0 }] }] })
  assert.deepEqual(await call(addOffsetsToTxnApi, 1, { transactionalId: 'tx', producerId, producerEpoch, groupId: 'g' }), { throttleTimeMs: 0, errorCode: 0 })
  assert.deepEqual(await call(endTxnApi, 1, { transactionalId: 'tx', producerId, producerEpoch, committed: true }), { throttleTimeMs: 0, errorCode: 0 })
  assert.deepEqual(markerCalls, [{ partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 1 }], commit: true }])
  assert.deepEqual(await call(endTxnApi, 0, { transactionalId: 'tx', producerId, producerEpoch, committed: false }), { throttleTimeMs: 0, errorCode: 48 })
})

test('fencing answers 47 through the handlers at the versions the clients use', async () => {
  const p1 = await call(initProducerIdApi, 1, { transactionalId: 'zombie', transactionTimeoutMs: 60_000 })
  await call(addPartitionsToTxnApi, 1, { transactionalId: 'zombie', producerId: p1.producerId, producerEpoch: p1.producerEpoch, topics: [{ name: 'orders', partitions: [0] }] })
  const p2 = await call(initProducerIdApi, 1, { transactionalId: 'zombie', transactionTimeoutMs: 60_000 })
  assert.equal(p2.producerEpoch, p1.producerEpoch + 1)
  const stale = { transactionalId: 'zombie', producerId: p1.producerId, producerEpoch: p1.producerEpoch }
  const addResult = await call(addPartitionsToTxnApi, 0, { ...stale, topics: [{ name: 'orders', partitions: [1] }] })
  assert.equal(addResult.results[0]!.resultsByPartition[0]!.partitionErrorCode, 47)
  assert.equal((await call(addOffsetsToTxnApi, 0, { ...stale, groupId: 'g' })).errorCode, 47)
  assert.equal((await call(endTxnApi, 1, { ...stale, committed: true })).errorCode, 47)
  assert.equal((await call(initProducerIdApi, 1, { transactionalId: '', transactionTimeoutMs: 60_000 })).errorCode, 42)
})
