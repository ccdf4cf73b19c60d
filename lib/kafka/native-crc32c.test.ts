// kafkajs with lib/checksum's CRC-32C: the same checksums as kafkajs's own, and record batches
// encoded with it carry them.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { installNativeCrc32cInKafkajs, KAFKAJS_CRC32C_MODULE } from './native-crc32c.ts'

const require = createRequire(import.meta.url)

test('kafkajs loads lib/checksum\'s CRC-32C, which equals its own on buffers of every size', () => {
  assert.equal(installNativeCrc32cInKafkajs(), true, 'installed before kafkajs loaded')
  const kafkajsOwn = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (buffer: Buffer) => number
  const installed = require(KAFKAJS_CRC32C_MODULE) as (buffer: Buffer) => number
  for (const size of [0, 1, 7, 63, 64, 65, 1000, 100_000]) {
    const buffer = Buffer.alloc(size)
    for (let i = 0; i < size; i++) buffer[i] = (i * 7919 + size) & 0xff
    assert.equal(installed(buffer), kafkajsOwn(buffer) >>> 0, `${size} bytes`)
  }
})

test('a record batch kafkajs encodes carries the checksum of its bytes after the CRC field', async () => {
  const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }> }
  const record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (options: Record<string, unknown>) => unknown
  const kafkajsOwn = require('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js') as (buffer: Buffer) => number
  const records = Array.from({ length: 20 }, (_, i) => record({ offsetDelta: i, key: Buffer.from(`k${i}`), value: Buffer.from('v'.repeat(100 * i)) }))
  const { buffer } = await RecordBatch({ records, firstTimestamp: 1, maxTimestamp: 1 })
  // baseOffset(8), then the batch as bytes: length(4) partitionLeaderEpoch(4) magic(1) crc(4), then the checksummed bytes.
  assert.equal(buffer.readUInt32BE(17), kafkajsOwn(buffer.subarray(21)) >>> 0)
})
