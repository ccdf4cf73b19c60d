import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { lz4Codec } from './lz4-codec.ts'

test('LZ4 frames round-trip and carry the LZ4 frame magic number', async () => {
  const input = Buffer.from('cpu,host=a usage=0.5 1700000000000000000\n'.repeat(200))
  const compressed = await lz4Codec.compress({ buffer: input })
  assert.equal(compressed.readUInt32LE(0), 0x184d2204, 'LZ4 frame magic')
  assert.ok(compressed.length < input.length / 5, `compressed ${compressed.length} of ${input.length}`)
  assert.deepEqual(await lz4Codec.decompress(compressed), input)
})

test('frames written by the reference lz4 command line tool decode', async () => {
  const input = Buffer.from('reference frame '.repeat(100))
  const compressed = execFileSync('lz4', ['-c', '-q'], { input })
  assert.deepEqual(await lz4Codec.decompress(compressed), input)
})

test('a corrupt frame is refused (the decompression runs on this thread and throws into the promise)', async () => {
  const compressed = await lz4Codec.compress({ buffer: Buffer.from('cpu,host=a usage=0.5\n'.repeat(500)) })
  await assert.rejects(lz4Codec.decompress(compressed.subarray(0, compressed.length - 20)))
  const garbled = Buffer.from(compressed)
  garbled.writeUInt32LE(0x12345678, 0) // not the frame magic
  await assert.rejects(lz4Codec.decompress(garbled))
})
