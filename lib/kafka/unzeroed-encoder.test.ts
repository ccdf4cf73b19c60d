// kafkajs's Encoder with unzeroed growth writes the bytes kafkajs's own does.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { installUnzeroedEncoder, KAFKAJS_ENCODER_MODULE } from './unzeroed-encoder.ts'
import { pristineKafkajsModule } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)

interface Encoder {
  writeInt8(value: number): Encoder
  writeInt32(value: number): Encoder
  writeString(value: string): Encoder
  writeBytes(value: Buffer): Encoder
  writeVarIntString(value: string): Encoder
  writeEncoder(value: Encoder): Encoder
  buffer: Buffer
}
type EncoderClass = new (initialSize?: number) => Encoder

/** A second copy of kafkajs's Encoder module, as kafkajs ships it. */
function pristineEncoder(): EncoderClass {
  require(KAFKAJS_ENCODER_MODULE) // the copy kafkajs uses stays in the cache
  return pristineKafkajsModule<EncoderClass>(KAFKAJS_ENCODER_MODULE)
}

function writeAll(Encoder: EncoderClass, initialSize: number): Buffer {
  const inner = new Encoder(initialSize)
  for (let i = 0; i < 300; i++) inner.writeInt32(i * 7919).writeString(`s${i}`.repeat(i % 17)).writeBytes(Buffer.alloc(i * 13, i)).writeVarIntString('é'.repeat(i % 5))
  const framed = new Encoder().writeInt8(1).writeEncoder(inner)
  return new Encoder().writeInt32(framed.buffer.length).writeEncoder(framed).buffer
}

test('growth without zeroing writes the same bytes as kafkajs\'s Encoder, across every growth', () => {
  const Pristine = pristineEncoder()
  installUnzeroedEncoder()
  installUnzeroedEncoder() // twice is once
  const Installed = require(KAFKAJS_ENCODER_MODULE) as EncoderClass
  assert.notEqual(Installed.prototype, Pristine.prototype)
  for (const initialSize of [0, 1, 7, 511, 4096]) {
    // Garbage in the pool: an unzeroed buffer would show it if any byte past the offset leaked out.
    Buffer.allocUnsafe(4000).fill(0xa5)
    assert.deepEqual(writeAll(Installed, initialSize), writeAll(Pristine, initialSize), `initial size ${initialSize}`)
  }
})
