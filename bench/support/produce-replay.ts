// Produce requests replayed over a raw socket, to measure the broker without the client's CPU cost:
// one Produce request that kafkajs encoded is captured on its way out (kafkajs's socketFactory
// option), copies are made before the clock starts (for an idempotent producer each copy gets the next
// baseSequence and a recomputed CRC), then they are sent one at a time, as the kafkajs producer does,
// each waiting for its answer, whose error code must be 0.

import '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import kafkajs from 'kafkajs'
import { crc32c } from './crc32c.ts'

const { Kafka, logLevel } = kafkajs
const PRODUCE_API_KEY = 0
/** Versions whose request and response are not flexible (kafkajs 2.2.4 speaks up to 7). */
const MAX_PLAIN_PRODUCE_VERSION = 8
// Record batch v2 layout: baseOffset 8, batchLength 4, partitionLeaderEpoch 4, magic 1, crc 4,
// attributes 2, lastOffsetDelta 4, baseTimestamp 8, maxTimestamp 8, producerId 8, producerEpoch 2,
// baseSequence 4; the CRC covers attributes to the end.
const BATCH_CRC_AT = 17
const BATCH_CRC_FROM = 21
const BATCH_BASE_SEQUENCE_AT = 53

/** Sends one batch of `messages` with a kafkajs producer and returns the Produce request it wrote. */
export async function captureProduceRequest(bootstrap: string, idempotent: boolean, topic: string, messages: Array<{ value: Buffer }>): Promise<Buffer> {
  let captured: Buffer | undefined
  const kafka = new Kafka({
    clientId: 'bench-replay',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    socketFactory: ({ host, port, onConnect }) => {
      const socket = connect({ host, port }, onConnect)
      const write = socket.write.bind(socket) as (chunk: Buffer, encoding: BufferEncoding) => boolean
      socket.write = ((chunk: Buffer, encoding: BufferEncoding) => {
        if (Buffer.isBuffer(chunk) && chunk.length > 8 && chunk.readInt16BE(4) === PRODUCE_API_KEY) captured = Buffer.from(chunk)
        return write(chunk, encoding)
      }) as typeof socket.write
      return socket
    },
  })
  const producer = kafka.producer({ idempotent, maxInFlightRequests: idempotent ? 1 : 5 })
  await producer.connect()
  await producer.send({ topic, acks: -1, messages })
  await producer.disconnect()
  if (captured === undefined) throw new Error('no Produce request seen')
  return captured
}

/** Offset of the record batch in a captured, size-prefixed Produce request (one topic, one partition). */
function batchOffset(request: Buffer): number {
  const version = request.readInt16BE(6)
  if (version < 3 || version > MAX_PLAIN_PRODUCE_VERSION) throw new Error(`Produce v${version} not handled`)
  let at = 12
  at += 2 + Math.max(0, request.readInt16BE(at)) // client id
  at += 2 + Math.max(0, request.readInt16BE(at)) // transactional id
  at += 2 + 4 // acks, timeout
  if (request.readInt32BE(at) !== 1) throw new Error('expected one topic')
  at += 4
  at += 2 + request.readInt16BE(at) // topic name
  if (request.readInt32BE(at) !== 1) throw new Error('expected one partition')
  at += 4 + 4 // partition count, partition index
  const recordsBytes = request.readInt32BE(at)
  at += 4
  if (at + recordsBytes !== request.length) throw new Error('records do not end the request')
  return at
}

/** `count` copies of `captured`; for an idempotent producer copy k carries baseSequence first + k × records. */
export function replayRequests(captured: Buffer, count: number, idempotent: boolean, recordsPerRequest: number): Buffer[] {
  if (!idempotent) return Array.from({ length: count }, () => captured)
  const batch = batchOffset(captured)
  const firstSequence = captured.readInt32BE(batch + BATCH_BASE_SEQUENCE_AT) + recordsPerRequest
  return Array.from({ length: count }, (_, k) => {
    const copy = Buffer.from(captured)
    copy.writeInt32BE(firstSequence + k * recordsPerRequest, batch + BATCH_BASE_SEQUENCE_AT)
    copy.writeUInt32BE(crc32c(copy.subarray(batch + BATCH_CRC_FROM)), batch + BATCH_CRC_AT)
    return copy
  })
}

/** The error code of the only partition in a non-flexible Produce response frame (size prefix removed). */
function produceErrorCode(response: Buffer): number {
  let at = 4 // correlation id
  at += 4 // topic count
  at += 2 + response.readInt16BE(at) // topic name
  at += 4 + 4 // partition count, partition index
  return response.readInt16BE(at)
}

/** Sends each request and waits for its answer before the next. */
export async function replay(bootstrapPort: number, requests: Buffer[]): Promise<void> {
  const socket: Socket = connect({ host: '127.0.0.1', port: bootstrapPort })
  socket.setNoDelay(true)
  await once(socket, 'connect')
  let buffered: Buffer = Buffer.alloc(0)
  let waiter: ((frame: Buffer) => void) | null = null
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    if (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
      const frame = buffered.subarray(4, 4 + buffered.readInt32BE(0))
      buffered = buffered.subarray(4 + frame.length)
      const resolveFrame = waiter
      waiter = null
      resolveFrame?.(frame)
    }
  })
  try {
    for (const request of requests) {
      const answer = new Promise<Buffer>(resolveFrame => { waiter = resolveFrame })
      socket.write(request)
      const errorCode = produceErrorCode(await answer)
      if (errorCode !== 0) throw new Error(`replayed Produce answered error code ${errorCode}`)
    }
  } finally {
    socket.destroy()
  }
}
