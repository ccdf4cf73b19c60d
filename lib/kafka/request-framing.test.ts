// kafkajs's request framing replaced (request-framing.ts): byte for byte what kafkajs's own
// protocol/request.js writes, for any header and body, framed in place when the body left room.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { FRAMING_ROOM, frameRequest, installRequestFraming, KAFKAJS_REQUEST_MODULE, type FrameArgs } from './request-framing.ts'
import { pristineKafkajsModule } from './kafkajs-module.ts'
import { sectionMessages } from './encoded-produce.ts'
import { encodeRecordSection, RecordBatchCodec } from './record-batch.ts'

const require = createRequire(import.meta.url)

interface Encoder {
  buf: Buffer
  offset: number
  buffer: Buffer
  writeInt32(value: number): Encoder
  writeString(value: string): Encoder
  writeBytes(value: Buffer): Encoder
  [FRAMING_ROOM]?: Buffer
}
type EncoderClass = new (initialSize?: number) => Encoder
type Frame = (args: FrameArgs) => Promise<Encoder>
const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass

/** A second copy of kafkajs's request.js, as kafkajs ships it. */
function pristineFraming(): Frame {
  return pristineKafkajsModule<Frame>(KAFKAJS_REQUEST_MODULE)
}

function bodyOf(size: number, seed: number): Encoder {
  const encoder = new Encoder()
  for (let i = 0; i * 37 < size; i++) encoder.writeInt32(seed * 7919 + i).writeString(`s${i}`.repeat(i % 9)).writeBytes(Buffer.alloc(i % 29, seed + i))
  return encoder
}

/** `body`'s bytes in a buffer with `room` free bytes in front, marked for framing in place. */
function withRoom(body: Encoder, room: number): Encoder {
  const whole = Buffer.allocUnsafe(room + body.offset).fill(0xa5)
  body.buf.copy(whole, room, 0, body.offset)
  const encoder = new Encoder(0)
  encoder.buf = whole.subarray(room)
  encoder.offset = body.offset
  encoder[FRAMING_ROOM] = whole
  return encoder
}

const requestOf = (apiKey: number, apiVersion: number, body: () => Encoder) => ({ apiKey, apiVersion, encode: async () => body() })

test('installed before kafkajs loads: its connection frames with frameRequest', () => {
  assert.equal(installRequestFraming(), true)
  assert.equal(installRequestFraming(), true, 'twice is once')
  require('kafkajs/src/network/connection.js')
  assert.equal(require(KAFKAJS_REQUEST_MODULE), frameRequest)
})

test('writes the bytes kafkajs\'s framing writes, for any client id and body, copied or in place', async () => {
  const pristine = pristineFraming()
  assert.notEqual(pristine, frameRequest)
  for (const clientId of ['sluice-n1', '', null, undefined, 'nœud-é✓-🙂', 'x'.repeat(300)]) {
    for (const size of [0, 1, 100, 5_000, 70_000]) {
      for (const [apiKey, apiVersion, correlationId] of [[0, 7, 1], [1, 11, 2 ** 31 - 1], [18, 0, 0]] as const) {
        const body = (): Encoder => bodyOf(size, apiKey + size)
        const theirs = (await pristine({ correlationId, clientId, request: requestOf(apiKey, apiVersion, body) })).buffer
        const copied = (await frameRequest({ correlationId, clientId, request: requestOf(apiKey, apiVersion, body) })).buffer
        assert.deepEqual(copied, theirs, `client id ${clientId}, ${size} bytes`)
        for (const room of [0, 10, 256, 400]) {
          const roomy = withRoom(body(), room)
          const inPlace = (await frameRequest({ correlationId, clientId, request: requestOf(apiKey, apiVersion, () => roomy) })).buffer
          assert.deepEqual(inPlace, theirs, `client id ${clientId}, ${size} bytes, room ${room}`)
          const fits = room >= theirs.length - roomy.offset
          const bodyAt = inPlace.byteOffset + theirs.length - roomy.offset
          assert.equal(inPlace.buffer === roomy.buf.buffer && bodyAt === roomy.buf.byteOffset, fits, fits ? 'framed in place' : 'copied when the room is too small')
        }
      }
    }
  }
})

test('a Produce request of sections is framed in place, as kafkajs frames it', async () => {
  const pristine = pristineFraming()
  const produce = require('kafkajs/src/protocol/requests/produce/v5/request.js') as (args: Record<string, unknown>) => { apiKey: number; apiVersion: number; encode: () => Promise<Encoder> }
  const headerList = [{ key: Buffer.from('sluice-format'), value: Buffer.from('ingest-record') }]
  const records = Array.from({ length: 20 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.alloc(100 + i, i) }))
  const section = encodeRecordSection(records, headerList, RecordBatchCodec.NONE)
  const args = { acks: -1, timeout: 30_000, transactionalId: 'sluice-http-n1-0', producerId: '4000000077', producerEpoch: 3, topicData: [{ topic: 'sluice.ingest', partitions: [{ partition: 2, firstSequence: 7, messages: sectionMessages(2, section) }] }] }
  const now = Date.now
  Date.now = () => 1_700_000_000_000
  try {
    const body = await produce(args).encode()
    assert.ok(body[FRAMING_ROOM] !== undefined, 'encodeSections leaves room in front')
    const theirs = (await pristine({ correlationId: 42, clientId: 'sluice-n1', request: { ...produce(args), encode: async () => body } })).buffer
    const ours = (await frameRequest({ correlationId: 42, clientId: 'sluice-n1', request: { ...produce(args), encode: async () => body } })).buffer
    assert.deepEqual(ours, theirs)
    assert.ok(ours.buffer === body.buf.buffer && ours.byteOffset + ours.length === body.buf.byteOffset + body.offset, 'no copy of the body')
  } finally {
    Date.now = now
  }
})

test('a body that is not an Encoder fails as kafkajs\'s framing does', async () => {
  await assert.rejects(frameRequest({ correlationId: 1, clientId: 'c', request: { apiKey: 0, apiVersion: 0, encode: async () => ({}) as Encoder } }), /should be an instance of Encoder/)
})
