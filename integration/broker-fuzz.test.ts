// Throws random and mutated frames at a running broker process, then checks that it still serves
// a real client and that the data stored before the storm is intact. The seed is printed, so a
// failure can be replayed with SLUICE_FUZZ_SEED=<seed>.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { Writer } from '../broker/protocol/codec.ts'
import { encodeRequest, type ApiDefinition } from '../broker/protocol/schema.ts'
import { allApis } from '../broker/protocol/apis/index.ts'
import { produceApi } from '../broker/protocol/apis/produce.ts'
import { fetchApi } from '../broker/protocol/apis/fetch.ts'
import { metadataApi } from '../broker/protocol/apis/metadata.ts'
import { buildBatch } from '../broker/record/batch.ts'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { consumeUntil, kafkaClient } from './support/kafka.ts'
import { seededRandom as prng } from '../lib/testing/seeded-random.ts'

const FRAMES = 3_000

function frame(api: ApiDefinition<unknown, unknown>, version: number, correlationId: number, body: unknown): Buffer {
  const writer = new Writer()
  const sizeAt = writer.placeholderInt32()
  writer.int16(api.key).int16(version).int32(correlationId).nullableString('fuzz')
  encodeRequest(api, version, writer, body)
  writer.patchInt32(sizeAt, writer.offset - 4)
  return writer.toBuffer()
}

function validFrames(): Buffer[] {
  const batch = buildBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('fuzz-valid') }], baseTimestampMs: BigInt(Date.now()) })
  return [
    frame(produceApi as ApiDefinition<unknown, unknown>, 7, 1, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 'fuzz-target', partitionData: [{ index: 0, records: batch }] }] }),
    frame(fetchApi as ApiDefinition<unknown, unknown>, 11, 2, { replicaId: -1, maxWaitMs: 10, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 1, sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'fuzz-data', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, logStartOffset: -1n, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' }),
    frame(metadataApi as ApiDefinition<unknown, unknown>, 6, 3, { topics: null, allowAutoTopicCreation: false }),
  ]
}

function mutate(random: () => number, valid: Buffer[]): Buffer {
  const kind = Math.floor(random() * 6)
  const pick = (): Buffer => Buffer.from(valid[Math.floor(random() * valid.length)]!)
  switch (kind) {
    case 0: { // random bytes behind a consistent size
      const body = Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256)))
      const out = Buffer.alloc(4 + body.length); out.writeInt32BE(body.length); body.copy(out, 4); return out
    }
    case 1: { // flip bytes of a valid frame after the size
      const out = pick()
      for (let i = 0; i < 1 + random() * 8; i++) out[4 + Math.floor(random() * (out.length - 4))] = Math.floor(random() * 256)
      return out
    }
    case 2: { // truncate a valid frame but keep its size field
      const out = pick(); return out.subarray(0, 4 + Math.floor(random() * (out.length - 4)))
    }
    case 3: { // a lying size field: negative or huge
      const out = pick(); out.writeInt32BE(random() < 0.5 ? -Math.floor(random() * 1e6) - 1 : 0x7fffffff - Math.floor(random() * 100)); return out
    }
    case 4: { // unknown api key or version
      const out = pick(); out.writeInt16BE(random() < 0.5 ? 1000 + Math.floor(random() * 1000) : out.readInt16BE(4), 4); out.writeInt16BE(Math.floor(random() * 200) + 20, 6); return out
    }
    default: { // every advertised api with a random version and random body
      const api = allApis[Math.floor(random() * allApis.length)]!
      const body = Buffer.from(Array.from({ length: Math.floor(random() * 64) }, () => Math.floor(random() * 256)))
      const out = Buffer.alloc(14 + body.length)
      out.writeInt32BE(10 + body.length); out.writeInt16BE(api.key, 4); out.writeInt16BE(api.minVersion + Math.floor(random() * (api.maxVersion - api.minVersion + 1)), 6)
      out.writeInt32BE(7, 8); out.writeInt16BE(-1, 12); body.copy(out, 14); return out
    }
  }
}

async function send(port: number, bytes: Buffer): Promise<void> {
  await new Promise<void>(resolve => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes))
    socket.on('data', () => {})
    socket.setTimeout(300, () => socket.destroy())
    socket.on('close', () => resolve())
    socket.on('error', () => resolve())
  })
}

test('random and mutated frames never crash the broker nor damage stored data', async () => {
  const seed = Number(process.env.SLUICE_FUZZ_SEED ?? Date.now() % 1_000_000)
  console.log(`fuzz seed ${seed}`)
  const random = prng(seed)
  const broker = await startBrokerProcess()
  try {
    const kafka = kafkaClient(broker.bootstrap)
    const producer = kafka.producer()
    await producer.connect()
    const before = Array.from({ length: 100 }, (_, i) => `before-${i}`)
    await producer.send({ topic: 'fuzz-data', messages: before.map(value => ({ value })) })

    const valid = validFrames()
    for (let sent = 0; sent < FRAMES; sent += 20) {
      await Promise.all(Array.from({ length: 20 }, () => send(broker.port, mutate(random, valid))))
      assert.equal(broker.child.exitCode, null, `broker still running after ${sent + 20} frames`)
    }

    await producer.send({ topic: 'fuzz-data', messages: [{ value: 'after' }] })
    await producer.disconnect()
    const read = await consumeUntil(kafka, 'fuzz-data', { until: r => r.length >= 101 })
    assert.deepEqual(read.map(r => r.value), [...before, 'after'])
    assert.doesNotMatch(broker.logs(), /"level":"error"/, 'no handler failed unexpectedly')
  } finally {
    assert.equal(await broker.stop(), 0, 'still shuts down cleanly')
  }
})
