// Lets a kafkajs producer send record sections encoded elsewhere (record-batch.ts; Sluice's parse
// workers encode and LZ4-compress them), so that its own thread only writes each batch's header and
// CRC. kafkajs encodes every record of a Produce request itself: for a write of a few large records
// that is one copy after another into growing buffers, then the compression, all on the producer's
// thread (a fifth of a node's request thread in bench:http, docs/benchmarks.md).
//
// How: sectionMessages() stands for a section with one kafkajs message per record, all the same
// object, so that kafkajs's partitioning, AddPartitionsToTxn and sequence numbers (it advances them
// by the message count) work unchanged. Importing this module wraps kafkajs's Produce v3 request
// (v4 to v7 reuse it): a request whose partitions all hold one section each is encoded here, any
// other by kafkajs as before. The wrapper must be in place before kafkajs first produces (v4-v7 keep
// the function they required); installPreEncodedProduce() says whether it is. A section message
// that still reaches kafkajs's own encoder fails the request loudly instead of writing a bad record.

import { createRequire } from 'node:module'
import type { Message } from 'kafkajs'
import { frameRecordBatchInto, recordBatchBytes, type EncodedRecords } from './record-batch.ts'
import { FRAMING_ROOM, FRAMING_ROOM_BYTES } from './request-framing.ts'
import { installUnzeroedEncoder } from './unzeroed-encoder.ts'
import { isPatchedKafkajsRelease } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)

export const KAFKAJS_PRODUCE_V3_MODULE = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js')
const LATER_PRODUCE_MODULES = [4, 5, 6, 7].map(version => require.resolve(`kafkajs/src/protocol/requests/produce/v${version}/request.js`))
const KAFKAJS_ENCODER_MODULE = require.resolve('kafkajs/src/protocol/encoder.js')

const SECTION = Symbol('sluice.encodedRecords')
const WRAPPED = Symbol('sluice.encodedProduce')

/** A value kafkajs cannot encode: Buffer.byteLength and String() of it throw. */
const NOT_A_VALUE = Object.freeze({
  [Symbol.toPrimitive](): never {
    throw new Error('an encoded record section reached kafkajs\'s own record encoder (installPreEncodedProduce did not take effect)')
  },
})

interface SectionMessage {
  partition: number
  value: unknown
  [SECTION]: EncodedRecords
}

/** kafkajs messages standing for `section` in `partition`: recordCount entries of one object. */
export function sectionMessages(partition: number, section: EncodedRecords): Message[] {
  const message: SectionMessage = { partition, value: NOT_A_VALUE, [SECTION]: section }
  return new Array<Message>(section.recordCount).fill(message as unknown as Message)
}

interface PartitionData { partition: number; firstSequence?: number; messages: unknown[] }
interface ProduceArgs {
  acks: number
  timeout: number
  transactionalId?: string | null
  producerId?: { value: bigint } | number | string
  producerEpoch?: number
  compression?: number
  topicData: Array<{ topic: string; partitions: PartitionData[] }>
}
interface KafkajsRequest { apiKey: number; apiVersion: number; apiName: string; encode: () => Promise<unknown> }
type ProduceV3 = ((args: ProduceArgs) => KafkajsRequest) & { [WRAPPED]?: true }
/** kafkajs's Encoder: what request.js reads of the body encode() returns. */
interface KafkajsEncoder {
  buf: Buffer
  offset: number
  [FRAMING_ROOM]?: Buffer
}
/** The section a partition's messages stand for; undefined for ordinary messages. */
function sectionOf(data: PartitionData): EncodedRecords | undefined {
  const first = data.messages[0] as Partial<SectionMessage> | undefined
  const section = first?.[SECTION]
  if (section === undefined) return undefined
  if (data.messages.length !== section.recordCount || data.messages.some(message => message !== first)) {
    throw new Error(`Produce to partition ${data.partition}: an encoded record section must be the partition's only messages in a request`)
  }
  return section
}

/** Whether every partition of the request holds a section (true), none does (false); a mix throws. */
function holdsSections(args: ProduceArgs): boolean {
  let sections = 0
  let partitions = 0
  for (const topic of args.topicData) {
    for (const data of topic.partitions) {
      partitions++
      if (sectionOf(data) !== undefined) sections++
    }
  }
  if (sections > 0 && sections < partitions) throw new Error('Produce: a request mixes encoded record sections and messages')
  return sections > 0
}

/** kafkajs holds the producer id as InitProducerId decoded it (a decimal string), or as its Long. */
function producerIdOf(id: ProduceArgs['producerId']): bigint {
  if (id === undefined) return -1n
  if (typeof id === 'object') return id.value
  return BigInt(id)
}

/** A Produce string: int16 byte length (-1 for null), UTF-8. */
function writeString(body: Buffer, at: number, value: string | null): number {
  if (value === null) return body.writeInt16BE(-1, at)
  const length = body.write(value, at + 2, 'utf8')
  body.writeInt16BE(length, at)
  return at + 2 + length
}

/**
 * The Produce v3 body (the same for v4 to v7) of a request whose partitions hold sections, written
 * into one buffer of its exact size (each batch framed in place) behind FRAMING_ROOM_BYTES for the
 * request header, handed to kafkajs as its Encoder.
 */
function encodeSections(args: ProduceArgs): KafkajsEncoder {
  const Encoder = require(KAFKAJS_ENCODER_MODULE) as new (initialSize?: number) => KafkajsEncoder
  const transactionalId = args.transactionalId ?? null
  const producer = { producerId: producerIdOf(args.producerId), producerEpoch: args.producerEpoch ?? 0, transactional: transactionalId !== null, timestampMs: Date.now() }
  let bytes = 2 + (transactionalId === null ? 0 : Buffer.byteLength(transactionalId)) + 2 + 4 + 4
  for (const topic of args.topicData) {
    bytes += 2 + Buffer.byteLength(topic.topic) + 4
    for (const data of topic.partitions) bytes += 4 + 4 + recordBatchBytes(sectionOf(data)!)
  }
  // Room in front for kafkajs's request framing, which request-framing.ts then writes in place.
  const whole = Buffer.allocUnsafe(FRAMING_ROOM_BYTES + bytes)
  const body = whole.subarray(FRAMING_ROOM_BYTES)
  let at = writeString(body, 0, transactionalId)
  at = body.writeInt16BE(args.acks, at)
  at = body.writeInt32BE(args.timeout, at)
  at = body.writeInt32BE(args.topicData.length, at)
  for (const topic of args.topicData) {
    at = writeString(body, at, topic.topic)
    at = body.writeInt32BE(topic.partitions.length, at)
    for (const data of topic.partitions) {
      const section = sectionOf(data)!
      const length = recordBatchBytes(section)
      at = body.writeInt32BE(data.partition, at)
      at = body.writeInt32BE(length, at)
      frameRecordBatchInto(body, at, section, { ...producer, baseSequence: data.firstSequence ?? 0 })
      at += length
    }
  }
  if (at !== bytes) throw new Error(`Produce request: wrote ${at} bytes, sized ${bytes}`)
  const encoder = new Encoder(0)
  encoder.buf = body
  encoder.offset = bytes
  encoder[FRAMING_ROOM] = whole
  return encoder
}

function wrap(original: ProduceV3): ProduceV3 {
  const wrapped: ProduceV3 = args => {
    if (!holdsSections(args)) return original(args)
    return { ...original({ ...args, topicData: [] }), encode: async () => encodeSections(args) }
  }
  wrapped[WRAPPED] = true
  return wrapped
}

let installed: boolean | undefined

/**
 * Wraps kafkajs's Produce v3 request in this thread; true when the wrapper is what every Produce
 * version uses. False (and nothing changed) for another kafkajs release, or when a later Produce
 * version was loaded first: it would keep kafkajs's own encoder, so sections must not be sent then.
 */
export function installPreEncodedProduce(): boolean {
  if (installed !== undefined) return installed
  if (!isPatchedKafkajsRelease) return (installed = false)
  installUnzeroedEncoder() // kafkajs copies every request twice more after encode(): without zeroing (unzeroed-encoder.ts)
  const cache = require.cache
  const current = cache[KAFKAJS_PRODUCE_V3_MODULE]?.exports as ProduceV3 | undefined
  if (current?.[WRAPPED]) return (installed = true)
  if (LATER_PRODUCE_MODULES.some(path => cache[path] !== undefined)) return (installed = false)
  const original = require(KAFKAJS_PRODUCE_V3_MODULE) as ProduceV3
  cache[KAFKAJS_PRODUCE_V3_MODULE]!.exports = wrap(original)
  return (installed = true)
}

installPreEncodedProduce()
