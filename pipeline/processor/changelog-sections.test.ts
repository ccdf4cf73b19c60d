// The master's changelog as encoded record sections: the Produce requests kafkajs writes for the
// same records as messages (LZ4-compressed, the default, or not), byte for byte, split where
// splitTopicMessages splits them.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { installPreEncodedProduce, sectionMessages } from '../../lib/kafka/encoded-produce.ts'
import { splitTopicMessages } from '../../lib/kafka/split-batches.ts'
import { registerLz4Codec } from '../../lib/kafka/lz4-codec.ts'
import { RecordBatchCodec } from '../../lib/kafka/record-batch.ts'
import { CHANGELOG_HEADERS, type OutputRecord } from './changelog.ts'
import { changelogSections, recordHeaders } from './changelog-sections.ts'

const require = createRequire(import.meta.url)
type Produce = (args: Record<string, unknown>) => { encode: () => Promise<{ buffer: Buffer }> }

/** Upserts keyed by series key (a string or bytes) and a command keyed by text, values of several sizes. */
const records: OutputRecord[] = Array.from({ length: 40 }, (_, i) => ({
  key: i === 17 ? 'command 7f3a' : i % 2 === 0 ? `cpu,host=host_${i}` : Buffer.from(`cpu,host=host_${i}`),
  value: Buffer.alloc(100 + 997 * i, i),
  headers: CHANGELOG_HEADERS,
}))

function withClock<T>(ms: number, run: () => Promise<T>): Promise<T> {
  const now = Date.now
  Date.now = () => ms
  return run().finally(() => { Date.now = now })
}

test('changelog sections make the Produce requests kafkajs makes of the same records, split in the same places, LZ4 or not', async () => {
  assert.equal(installPreEncodedProduce(), true)
  registerLz4Codec()
  const produce = require('kafkajs/src/protocol/requests/produce/v5/request.js') as Produce
  const traceHeaders = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }
  for (const [codec, extra] of [[RecordBatchCodec.LZ4, undefined], [RecordBatchCodec.LZ4, traceHeaders], [RecordBatchCodec.NONE, undefined]] as const) {
    const common = { acks: -1, timeout: 30_000, transactionalId: 'sluice-master-3', producerId: '4000000077', producerEpoch: 2, compression: codec }
    const maxBytes = 60_000
    const sections = changelogSections(records, recordHeaders({ ...CHANGELOG_HEADERS, ...extra }), maxBytes, codec)
    assert.ok(sections.every(section => section.codec === codec))
    const messages = records.map(record => ({ partition: 3, key: record.key, value: record.value, headers: { ...record.headers, ...extra } }))
    const requests = splitTopicMessages([{ topic: 'sluice.changelog', messages }], maxBytes)
    assert.ok(requests.length > 3, 'the records need several requests')
    assert.deepEqual(sections.map(section => section.recordCount), requests.map(request => request[0]!.messages.length))
    let firstSequence = 11
    for (const [i, section] of sections.entries()) {
      const request = (topicMessages: unknown) => ({ ...common, topicData: [{ topic: 'sluice.changelog', partitions: [{ partition: 3, firstSequence, messages: topicMessages }] }] })
      const ours = await withClock(1_700_000_000_000, async () => (await produce(request(sectionMessages(3, section))).encode()).buffer)
      const theirs = await withClock(1_700_000_000_000, async () => (await produce(request(requests[i]![0]!.messages)).encode()).buffer)
      assert.deepEqual(ours, theirs, `request ${i}`)
      firstSequence += section.recordCount
    }
  }
})

test('a record above the limit goes alone; nothing gives no section', () => {
  const big = { key: 'k', value: Buffer.alloc(5_000), headers: CHANGELOG_HEADERS }
  const small = { key: 'k', value: Buffer.alloc(10), headers: CHANGELOG_HEADERS }
  assert.deepEqual(changelogSections([small, big, small, small], recordHeaders(CHANGELOG_HEADERS), 1_000).map(section => section.recordCount), [1, 1, 2])
  assert.deepEqual(changelogSections([], recordHeaders(CHANGELOG_HEADERS)), [])
})

test('a record whose value is in parts is written as its parts joined, in the same places, without reading its value whole', () => {
  const headers = recordHeaders(CHANGELOG_HEADERS)
  // Each value cut in three parts (as spliceChangelogUpsert cuts an upsert), one of them empty for some.
  const inParts: OutputRecord[] = records.map((record, i) => {
    const value = record.value!
    const cuts = [Math.min(value.length, i % 7), Math.min(value.length, 30 + i * 11)]
    const parts = [value.subarray(0, cuts[0]), value.subarray(cuts[0], cuts[1]), value.subarray(cuts[1])]
    return {
      key: record.key, headers: record.headers, valueParts: parts,
      get value(): Buffer { throw new Error('a record in parts was read whole') },
    }
  })
  for (const codec of [RecordBatchCodec.NONE, RecordBatchCodec.LZ4]) {
    const whole = changelogSections(records, headers, 60_000, codec)
    const parted = changelogSections(inParts, headers, 60_000, codec)
    assert.deepEqual(parted.map(section => [section.recordCount, Buffer.from(section.payload).toString('hex')]), whole.map(section => [section.recordCount, Buffer.from(section.payload).toString('hex')]))
  }
})

test('gathered beyond the limit: compressible records share fewer sections, each under the limit compressed, and the feed gets every value once, in order', () => {
  const headers = recordHeaders(CHANGELOG_HEADERS)
  const compressible: OutputRecord[] = Array.from({ length: 60 }, (_, i) => ({ key: `cpu,host=host_${i}`, value: Buffer.from(`usage_user=${i % 7},usage_system=${i % 5} `.repeat(400)), headers: CHANGELOG_HEADERS }))
  const maxBytes = 100_000
  const plain = changelogSections(compressible, headers, maxBytes)
  const values: Array<Buffer | null> = []
  const gathered = changelogSections(compressible, headers, maxBytes, RecordBatchCodec.LZ4, values, 4 * maxBytes)
  assert.ok(gathered.length < plain.length, `${gathered.length} sections gathered, ${plain.length} without`)
  assert.ok(gathered.every(section => section.payload.length <= maxBytes))
  assert.deepEqual(gathered.map(section => section.recordCount).reduce((a, b) => a + b), compressible.length)
  assert.deepEqual(values.map(value => value?.toString()), compressible.map(record => record.value!.toString()))
})

test('gathered beyond the limit: records that do not compress are cut in halves until each section holds at most the limit, and the views of a section given up are not kept', () => {
  const headers = recordHeaders(CHANGELOG_HEADERS)
  const incompressible: OutputRecord[] = Array.from({ length: 48 }, (_, i) => ({ key: `k${i}`, value: randomBytes(9_000), headers: CHANGELOG_HEADERS }))
  const maxBytes = 100_000
  const values: Array<Buffer | null> = []
  const sections = changelogSections(incompressible, headers, maxBytes, RecordBatchCodec.LZ4, values, 4 * maxBytes)
  assert.ok(sections.length >= Math.ceil((48 * 9_000) / maxBytes), `${sections.length} sections`)
  // An LZ4 frame stores a block that does not shrink as it is: the records' bytes plus the frame's few.
  assert.ok(sections.every(section => section.payload.length <= maxBytes + 64), sections.map(section => section.payload.length).join(', '))
  assert.deepEqual(sections.map(section => section.recordCount).reduce((a, b) => a + b), incompressible.length)
  assert.equal(values.length, incompressible.length)
  assert.ok(values.every((value, i) => value!.equals(incompressible[i]!.value!)))
})
