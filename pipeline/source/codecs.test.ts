// The codecs the source registers with kafkajs: every Kafka codec round-trips, and snappy also reads
// the xerial framing that Java and librdkafka producers write.

import '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { test } from 'node:test'
import assert from 'node:assert/strict'
import kafkajs from 'kafkajs'
import { registerKafkaCodecs } from './codecs.ts'

const { CompressionTypes } = kafkajs
interface Codec { compress(encoder: { buffer: Buffer }): Promise<Buffer>; decompress(buffer: Buffer): Promise<Buffer> }
const CompressionCodecs = kafkajs.CompressionCodecs as unknown as Record<number, () => Codec>

test('gzip, snappy, lz4 and zstd round-trip through kafkajs once registered', async () => {
  registerKafkaCodecs()
  const payload = Buffer.from('cpu,host=a usage=1.5 1700000000000000000\n'.repeat(200))
  for (const type of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
    const codec = CompressionCodecs[type]()
    const compressed = await codec.compress({ buffer: payload })
    assert.ok(compressed.length < payload.length, `codec ${type} compresses`)
    assert.deepEqual(await codec.decompress(compressed), payload, `codec ${type} round-trips`)
  }
})

test('snappy reads xerial-framed blocks (Java, librdkafka)', async () => {
  registerKafkaCodecs()
  const codec = CompressionCodecs[CompressionTypes.Snappy]()
  const parts = [Buffer.from('first block, '), Buffer.from('second block')]
  const blocks = await Promise.all(parts.map(part => codec.compress({ buffer: part })))
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1])
  const framed = Buffer.concat([header, ...blocks.flatMap(block => { const size = Buffer.alloc(4); size.writeUInt32BE(block.length); return [size, block] })])
  assert.equal((await codec.decompress(framed)).toString(), 'first block, second block')
})
