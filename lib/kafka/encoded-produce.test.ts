// kafkajs's Produce request with encoded record sections (encoded-produce.ts): byte for byte the
// request kafkajs writes for the same records, and loud failures where a section cannot be sent.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { installPreEncodedProduce, KAFKAJS_PRODUCE_V3_MODULE, sectionMessages } from './encoded-produce.ts'
import { encodeRecordSection, RecordBatchCodec } from './record-batch.ts'

const require = createRequire(import.meta.url)
type Produce = (args: Record<string, unknown>) => { apiKey: number; apiVersion: number; encode: () => Promise<{ buffer: Buffer }> }

const headers = { 'sluice-format': 'ingest-record' }
const headerList = [{ key: Buffer.from('sluice-format'), value: Buffer.from('ingest-record') }]
const recordsOf = (partition: number, count: number): Array<{ key: Buffer; value: Buffer }> =>
  Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`p${partition}-k${i}`), value: Buffer.alloc(300 * (i + 1), partition + i) }))

function withClock<T>(ms: number, run: () => Promise<T>): Promise<T> {
  const now = Date.now
  Date.now = () => ms
  return run().finally(() => { Date.now = now })
}

test('installed before kafkajs produced: every Produce version from 3 up uses the wrapper', async () => {
  assert.equal(installPreEncodedProduce(), true)
  const v3 = require(KAFKAJS_PRODUCE_V3_MODULE) as Produce
  const v7 = require('kafkajs/src/protocol/requests/produce/v7/request.js') as Produce
  const args = { acks: -1, timeout: 30_000, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: sectionMessages(0, encodeRecordSection(recordsOf(0, 1), headerList, RecordBatchCodec.NONE)) }] }] }
  for (const [produce, version] of [[v3, 3], [v7, 7]] as const) {
    const request = produce(args)
    assert.equal(request.apiVersion, version)
    assert.ok((await request.encode()).buffer.length > 61, 'encoded here: kafkajs\'s own encoder throws on a section')
  }
})

test('a request of sections is the request kafkajs writes for the same records, byte for byte', async () => {
  const produce = require('kafkajs/src/protocol/requests/produce/v5/request.js') as Produce
  // kafkajs passes the producer id as InitProducerId decoded it: a decimal string.
  const common = { acks: -1, timeout: 30_000, transactionalId: 'sluice-http-n1-0', producerId: '4000000077', producerEpoch: 3, compression: 0 }
  const partitions = [[2, 3, 10], [5, 1, 0]] as const // partition, records, first sequence
  const sectioned = [{ topic: 'sluice.ingest', partitions: partitions.map(([partition, count, firstSequence]) => ({ partition, firstSequence, messages: sectionMessages(partition, encodeRecordSection(recordsOf(partition, count), headerList, RecordBatchCodec.NONE)) })) }]
  const plain = [{ topic: 'sluice.ingest', partitions: partitions.map(([partition, count, firstSequence]) => ({ partition, firstSequence, messages: recordsOf(partition, count).map(record => ({ ...record, partition, headers })) })) }]
  const ours = await withClock(1_700_000_000_000, async () => (await produce({ ...common, topicData: sectioned }).encode()).buffer)
  const theirs = await withClock(1_700_000_000_000, async () => (await produce({ ...common, topicData: plain }).encode()).buffer)
  assert.deepEqual(ours, theirs)
})

test('a section must be its partition\'s only messages, and a request may not mix sections and messages', () => {
  const produce = require(KAFKAJS_PRODUCE_V3_MODULE) as Produce
  const section = encodeRecordSection(recordsOf(0, 2), headerList, RecordBatchCodec.NONE)
  const message = { key: Buffer.from('k'), value: Buffer.from('v') }
  assert.throws(() => produce({ acks: -1, timeout: 1, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [...sectionMessages(0, section), ...sectionMessages(0, section)] }] }] }), /only messages/)
  assert.throws(() => produce({ acks: -1, timeout: 1, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: sectionMessages(0, section) }, { partition: 1, messages: [message] }] }] }), /mixes/)
})

test('a section message that reaches kafkajs\'s own record encoder fails instead of writing a record', () => {
  const record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (options: Record<string, unknown>) => unknown
  const [message] = sectionMessages(0, encodeRecordSection(recordsOf(0, 1), headerList, RecordBatchCodec.NONE))
  assert.throws(() => record({ ...message, offsetDelta: 0 }))
})
