// A write's records as Kafka record sections (encodeSections, packSections): per partition in body
// order, split at maxSectionRecordBytes, and unchanged through the packing a worker transfers; a gzip
// body decoded the same whatever its trailer claims.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { gzipSync } from 'node:zlib'
import { defaultLineProtocolLimits, type IngestRecordOut } from '../ingest/index.ts'
import { encodeBody, encodeSections, gunzipChunkBytes, packSections, unpackSections, type EncodeRequest } from './encode-body.ts'
import { frameRecordBatch, RecordBatchCodec } from '../../lib/kafka/record-batch.ts'
import { registerLz4Codec } from '../../lib/kafka/lz4-codec.ts'

const require = createRequire(import.meta.url)
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<{ records: Array<{ key: Buffer; value: Buffer; headers: Record<string, Buffer> }> }>
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown

test('sections hold each partition\'s records in order, at most maxSectionRecordBytes each, and survive packing', async () => {
  registerLz4Codec()
  // Partition 1 gets 5 records of 104 bytes: with 250 bytes a section, runs of 2, 2 and 1.
  const records: IngestRecordOut[] = Array.from({ length: 8 }, (_, i) => ({ partition: i < 5 ? 1 : 4, key: Buffer.from(`key${i}`), value: Buffer.alloc(100, i) }))
  records.splice(2, 0, { partition: 4, key: Buffer.from('big'), value: Buffer.alloc(1_000, 9) })
  const format = { codec: RecordBatchCodec.LZ4, maxSectionRecordBytes: 250, headers: { traceparent: 't', 'sluice-format': 'ingest-record' } }
  const sections = unpackSections(packSections(encodeSections(records, format), format.codec))
  assert.deepEqual(sections.map(s => [s.partition, s.section.recordCount, s.recordBytes]), [[1, 2, 208], [1, 2, 208], [1, 1, 104], [4, 1, 1_003], [4, 2, 208], [4, 1, 104]])
  const read: IngestRecordOut[] = []
  for (const { partition, section } of sections) {
    const batch = await decodeBatch(new Decoder(frameRecordBatch(section, { producerId: 1n, producerEpoch: 0, baseSequence: 0, transactional: true, timestampMs: 0 })))
    for (const record of batch.records) {
      assert.deepEqual(Object.keys(record.headers), ['traceparent', 'sluice-format'])
      read.push({ partition, key: record.key, value: record.value })
    }
  }
  const inPartitionOrder = (list: IngestRecordOut[]): IngestRecordOut[] => [...list].sort((a, b) => a.partition - b.partition)
  assert.deepEqual(read, inPartitionOrder(records))
})

test('a gzip body inflates to the same points whatever size its trailer announces, and not past maxBodyBytes', () => {
  const lines = Array.from({ length: 5_000 }, (_, i) => `cpu,host=h${i % 7} usage=${i}i ${1_000 + i}`).join('\n') + '\n'
  const plain = Buffer.from(lines)
  const request = (body: Uint8Array, gzip?: { maxBodyBytes: number }): EncodeRequest => ({
    body, precision: 'ns', receivedAtNs: 1n, limits: defaultLineProtocolLimits, maxErrorsReported: 10, tenant: 't', database: 'd',
    partitions: 4, schemaId: 1, idempotencyKey: null, encodeAroundErrors: false, ...(gzip ? { gzip } : {}),
  })
  const expected = encodeBody(request(plain))
  assert.equal(expected.kind === 'encoded' && expected.pointCount, 5_000)
  const gzipped = gzipSync(plain)
  assert.equal(gunzipChunkBytes(gzipped, 1 << 20), plain.length + 1)
  // Several members: the trailer read is the last one's, which announces less than the whole body.
  const cut = plain.indexOf('\n', plain.length - 40) + 1
  const members = [gzipSync(plain.subarray(0, cut)), gzipSync(plain.subarray(cut))]
  for (const body of [gzipped, Buffer.concat(members), Buffer.concat([gzipSync(plain.subarray(0, 1_000)), gzipSync(plain.subarray(1_000))])]) {
    const result = encodeBody(request(body, { maxBodyBytes: 1 << 20 }))
    assert.equal(result.kind, 'encoded')
    assert.deepEqual(result.kind === 'encoded' && result.records, expected.kind === 'encoded' && expected.records)
  }
  const tooLarge = encodeBody(request(Buffer.concat(members), { maxBodyBytes: plain.length - 1 }))
  assert.equal(tooLarge.kind === 'undecodable' && tooLarge.code, 'SLUICE_ERR_BODY_TOO_LARGE')
})

test('field claims list each (measurement, field, type) once, in order of first appearance, however many pairs the body has', () => {
  const claimsOf = (lines: string[]): Array<[string, string, number]> => {
    const result = encodeBody({
      body: Buffer.from(lines.join('\n')), precision: 'ns', receivedAtNs: 1n, limits: defaultLineProtocolLimits, maxErrorsReported: 10,
      tenant: 't', database: 'd', partitions: 2, schemaId: 1, idempotencyKey: null, encodeAroundErrors: false,
    })
    assert.equal(result.kind, 'encoded')
    if (result.kind !== 'encoded') return []
    return result.fieldClaims.measurements.map((m, i) => [m, result.fieldClaims.fields[i]!, result.fieldClaims.types[i]!])
  }
  const mixed = ['a x=1,y=2i 1', 'b x=1 2', 'a y=3i,x=2 3', 'a x="s" 4', 'b x=true 5', 'a x=1 6']
  const expected: Array<[string, string, number]> = [['a', 'x', 1], ['a', 'y', 2], ['b', 'x', 1], ['a', 'x', 4], ['b', 'x', 5]]
  assert.deepEqual(claimsOf(mixed), expected)
  // 300 measurements × 300 field keys: more pairs than the dense marks hold.
  const wide = Array.from({ length: 300 }, (_, i) => `m${i} f${i}=${i}i ${i}`)
  const wideExpected: Array<[string, string, number]> = Array.from({ length: 300 }, (_, i) => [`m${i}`, `f${i}`, 2])
  assert.deepEqual(claimsOf([...wide, ...mixed, ...wide]), [...wideExpected, ...expected])
})
