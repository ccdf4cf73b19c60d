// Record sections and batches built from bytes (record-batch.ts) against kafkajs's own encoder and
// decoder: the same bytes for the same records, and LZ4 sections that kafkajs reads back.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { registerLz4Codec } from './lz4-codec.ts'
import { encodeRecords, encodeRecordSection, frameRecordBatch, RecordBatchCodec, type RecordBytes } from './record-batch.ts'

const require = createRequire(import.meta.url)
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> }
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (options: Record<string, unknown>) => { buffer: Buffer }
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{ records: Array<{ key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer>; offset: string; timestamp: string }>; producerId: string; firstSequence: number; inTransaction: boolean }>
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: bigint): unknown }

const headers = { 'sluice-format': 'ingest-record', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
const headerList = Object.entries(headers).map(([key, value]) => ({ key: Buffer.from(key), value: Buffer.from(value) }))

// Sizes around the varint boundaries (63/64 and 8191/8192 bytes as zigzag), a null key, an empty value.
const records: RecordBytes[] = [0, 1, 63, 64, 100, 8191, 8192, 70_000].map((size, i) => ({
  key: i === 2 ? null : Buffer.from(`series-${i}`),
  value: Buffer.alloc(size, i + 1),
}))

test('encodeRecords writes each record as kafkajs does, with offsetDelta i and timestampDelta 0', () => {
  const expected = Buffer.concat(records.map((record, i) => kafkajsRecord({ ...record, offsetDelta: i, timestampDelta: 0, headers }).buffer))
  assert.deepEqual(Buffer.from(encodeRecords(records, headerList)), expected)
})

test('with a values list, each record\'s value comes back as a view into the section, a null value as null', () => {
  const mixed: RecordBytes[] = [...records, { key: null, value: null }, { key: Buffer.from('parts'), value: [Buffer.from('ab'), Buffer.alloc(200, 9), Buffer.from('yz')] }]
  const values: Array<Buffer | null> = []
  const section = encodeRecords(mixed, headerList, values)
  assert.deepEqual(section, encodeRecords(mixed, headerList), 'the same bytes')
  assert.equal(values.length, mixed.length)
  mixed.forEach((record, i) => {
    const expected = record.value === null ? null : Buffer.concat(record.value instanceof Uint8Array ? [record.value] : [...record.value])
    assert.deepEqual(values[i], expected, `record ${i}`)
    if (values[i] !== null) assert.equal(values[i]!.buffer, section.buffer, `record ${i}'s value is a view, not a copy`)
  })
})

test('an uncompressed batch equals kafkajs\'s RecordBatch for the same producer, sequence and time, CRC included', async () => {
  const producer = { producerId: 4_000_000_123n, producerEpoch: 7, baseSequence: 1_234, transactional: true, timestampMs: 1_700_000_000_123 }
  const framed = frameRecordBatch(encodeRecordSection(records, headerList, RecordBatchCodec.NONE), producer)
  const { buffer } = await RecordBatch({
    records: records.map((record, i) => kafkajsRecord({ ...record, offsetDelta: i, timestampDelta: 0, headers })),
    firstTimestamp: producer.timestampMs, maxTimestamp: producer.timestampMs, producerId: Long.fromValue(producer.producerId),
    producerEpoch: producer.producerEpoch, firstSequence: producer.baseSequence, transactional: true, lastOffsetDelta: records.length - 1,
  })
  assert.deepEqual(framed, buffer)
})

test('an LZ4 batch decodes with kafkajs to the same records, in order, with their headers', async () => {
  registerLz4Codec()
  const section = encodeRecordSection(records, headerList, RecordBatchCodec.LZ4)
  assert.ok(section.payload.length < encodeRecords(records, headerList).length / 4, 'the repeated bytes compress')
  const framed = frameRecordBatch(section, { producerId: 42n, producerEpoch: 0, baseSequence: 9, transactional: false, timestampMs: 5_000 })
  const batch = await decodeBatch(new Decoder(framed))
  assert.equal(batch.producerId, '42')
  assert.equal(batch.firstSequence, 9)
  assert.equal(batch.inTransaction, false)
  assert.equal(batch.records.length, records.length)
  batch.records.forEach((record, i) => {
    assert.equal(record.offset, String(i))
    assert.equal(record.timestamp, '5000')
    assert.deepEqual(record.key, records[i]!.key === null ? null : Buffer.from(records[i]!.key!))
    assert.deepEqual(record.value, Buffer.from(records[i]!.value as Uint8Array))
    assert.deepEqual(Object.fromEntries(Object.entries(record.headers).map(([key, value]) => [key, value.toString()])), headers)
  })
})

test('a batch of no records is refused', () => {
  assert.throws(() => frameRecordBatch(encodeRecordSection([], [], RecordBatchCodec.NONE), { producerId: 1n, producerEpoch: 0, baseSequence: 0, transactional: false, timestampMs: 0 }), RangeError)
})
