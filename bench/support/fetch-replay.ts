// A raw Fetch client, to measure the broker serving a partition without kafkajs decoding every
// record: Fetch v4 (the smallest non-flexible version the broker serves) for one partition, one
// request in flight, read_committed, the next offset taken from the last complete batch's header.
// Records are counted from batch headers (control batches skipped), never decoded.

import { connect } from 'node:net'
import { once } from 'node:events'

const FETCH_API_KEY = 1
const FETCH_VERSION = 4
const READ_COMMITTED = 1
const MAX_WAIT_MS = 500
const CONTROL_BATCH_BIT = 0x20
// Record batch v2 header positions: baseOffset 0, batchLength 8, attributes 21, lastOffsetDelta 23.
const BATCH_LENGTH_AT = 8
const BATCH_ATTRIBUTES_AT = 21
const BATCH_LAST_OFFSET_DELTA_AT = 23
const BATCH_HEADER_BYTES = 61

function fetchRequest(correlationId: number, topic: string, offset: bigint, maxBytes: number): Buffer {
  const clientId = Buffer.from('bench-fetch')
  const topicName = Buffer.from(topic)
  const body = Buffer.alloc(2 + 2 + 4 + 2 + clientId.length + 4 + 4 + 4 + 4 + 1 + 4 + 2 + topicName.length + 4 + 4 + 8 + 4)
  let at = 0
  at = body.writeInt16BE(FETCH_API_KEY, at)
  at = body.writeInt16BE(FETCH_VERSION, at)
  at = body.writeInt32BE(correlationId, at)
  at = body.writeInt16BE(clientId.length, at)
  at += clientId.copy(body, at)
  at = body.writeInt32BE(-1, at) // replica id
  at = body.writeInt32BE(MAX_WAIT_MS, at)
  at = body.writeInt32BE(1, at) // min bytes
  at = body.writeInt32BE(maxBytes, at)
  at = body.writeInt8(READ_COMMITTED, at)
  at = body.writeInt32BE(1, at) // one topic
  at = body.writeInt16BE(topicName.length, at)
  at += topicName.copy(body, at)
  at = body.writeInt32BE(1, at) // one partition
  at = body.writeInt32BE(0, at)
  at = body.writeBigInt64BE(offset, at)
  body.writeInt32BE(maxBytes, at)
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return Buffer.concat([size, body])
}

/** Walks the record set of a Fetch v4 response: records in complete data batches and the next offset. */
function readResponse(frame: Buffer, offset: bigint): { records: number; nextOffset: bigint } {
  let at = 4 + 4 // correlation id, throttle time
  at += 4 // topic count (1)
  at += 2 + frame.readInt16BE(at)
  at += 4 + 4 // partition count (1), partition index
  const errorCode = frame.readInt16BE(at)
  if (errorCode !== 0) throw new Error(`Fetch answered error code ${errorCode}`)
  at += 2 + 8 + 8 // error, high watermark, last stable offset
  const aborted = frame.readInt32BE(at)
  at += 4 + Math.max(0, aborted) * 16
  const recordsEnd = at + 4 + frame.readInt32BE(at)
  at += 4
  let records = 0
  let nextOffset = offset
  while (at + BATCH_HEADER_BYTES <= recordsEnd) {
    const batchEnd = at + 12 + frame.readInt32BE(at + BATCH_LENGTH_AT)
    if (batchEnd > recordsEnd) break // a partial batch at the end of the answer
    const lastOffsetDelta = frame.readInt32BE(at + BATCH_LAST_OFFSET_DELTA_AT)
    if ((frame.readInt16BE(at + BATCH_ATTRIBUTES_AT) & CONTROL_BATCH_BIT) === 0) records += lastOffsetDelta + 1
    nextOffset = frame.readBigInt64BE(at) + BigInt(lastOffsetDelta) + 1n
    at = batchEnd
  }
  return { records, nextOffset }
}

/** Fetches `topic` partition 0 from offset 0 until `records` data records were seen. */
export async function fetchAll(port: number, topic: string, records: number, maxBytes: number): Promise<void> {
  const socket = connect({ host: '127.0.0.1', port })
  socket.setNoDelay(true)
  await once(socket, 'connect')
  const chunks: Buffer[] = []
  let bufferedBytes = 0
  let waiter: ((frame: Buffer) => void) | null = null
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk)
    bufferedBytes += chunk.length
    if (bufferedBytes < 4) return
    if (chunks[0]!.length < 4) chunks.splice(0, chunks.length, Buffer.concat(chunks))
    const frameBytes = chunks[0]!.readInt32BE(0)
    if (bufferedBytes < 4 + frameBytes) return // concatenated once, when the answer is complete
    const all = Buffer.concat(chunks, bufferedBytes)
    const rest = all.subarray(4 + frameBytes)
    chunks.length = 0
    if (rest.length > 0) chunks.push(rest)
    bufferedBytes = rest.length
    const resolveFrame = waiter
    waiter = null
    resolveFrame?.(all.subarray(4, 4 + frameBytes))
  })
  try {
    let seen = 0
    let offset = 0n
    for (let correlationId = 1; seen < records; correlationId++) {
      const answer = new Promise<Buffer>(resolveFrame => { waiter = resolveFrame })
      socket.write(fetchRequest(correlationId, topic, offset, maxBytes))
      const result = readResponse(await answer, offset)
      seen += result.records
      offset = result.nextOffset
    }
  } finally {
    socket.destroy()
  }
}
