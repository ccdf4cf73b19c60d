// kafkajs's response reassembly replaced (response-reassembly.ts): the request queue and SASL's
// handlers get what kafkajs's own processData gives them, for any split of the bytes into chunks,
// and a response that arrived within one chunk is not copied; reads in place hand on the same
// responses, a large one read into a buffer of its own size; a kafkajs Connection over loopback
// decodes its responses with them.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { installResponseReassembly, KAFKAJS_CONNECTION_MODULE, MIN_READ_BYTES, processData, READ_BUFFER_BYTES, ResponseReads, type ConnectionState } from './response-reassembly.ts'
import { pristineKafkajsModule } from './kafkajs-module.ts'
import { seededRandom } from '../testing/seeded-random.ts'

const require = createRequire(import.meta.url)

type ProcessData = (this: ConnectionState, rawData: Buffer) => unknown
const kafkajsProcessData = pristineKafkajsModule<{ prototype: { processData: ProcessData } }>(KAFKAJS_CONNECTION_MODULE).prototype.processData

interface Seen {
  /** What the request queue or SASL's handler got, in order. */
  events: string[]
  payloads: Buffer[]
}

/** A connection's reassembly state as kafkajs's constructor leaves it; `auth` puts SASL's handlers in. */
function connection(auth?: { expectResponse: boolean }): { state: ConnectionState; seen: Seen } {
  const seen: Seen = { events: [], payloads: [] }
  const state: ConnectionState = {
    chunks: [],
    bytesBuffered: 0,
    bytesNeeded: 4,
    authHandlers: auth === undefined ? null : { onSuccess: data => { seen.events.push(`auth ${data.toString('hex')}`); seen.payloads.push(data) } },
    authExpectResponse: auth?.expectResponse ?? false,
    requestQueue: {
      fulfillRequest: ({ size, correlationId, payload }) => {
        seen.events.push(`response ${size} ${correlationId} ${payload.length} ${payload.toString('hex')}`)
        seen.payloads.push(payload)
      },
    },
  }
  return { state, seen }
}


/** A response as a broker frames it: int32 size, int32 correlation id, payload. */
function framedResponse(correlationId: number, payloadBytes: number, fill: number): Buffer {
  const framed = Buffer.alloc(8 + payloadBytes, fill)
  framed.writeInt32BE(4 + payloadBytes, 0)
  framed.writeInt32BE(correlationId, 4)
  for (let i = 8; i < framed.length; i += 97) framed[i] = (i * 31 + correlationId) & 0xff
  return framed
}

/** `bytes` cut at the given offsets into separate buffers (each its own memory, as a socket's reads are). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const chunks: Buffer[] = []
  let from = 0
  for (const to of [...at.filter(x => x > 0 && x < bytes.length).sort((a, b) => a - b), bytes.length]) {
    chunks.push(Buffer.from(bytes.subarray(from, to)))
    from = to
  }
  return chunks
}

/** Feeds `chunks` through kafkajs's processData and the replacement; both must see the same, and keep the same state. */
function feedBoth(chunks: Buffer[], auth?: { expectResponse: boolean }): { ours: Seen; state: ConnectionState } {
  const theirs = connection(auth)
  const ours = connection(auth)
  for (const chunk of chunks) {
    kafkajsProcessData.call(theirs.state, chunk)
    processData.call(ours.state, chunk)
    assert.equal(ours.state.bytesBuffered, theirs.state.bytesBuffered)
    assert.equal(ours.state.bytesNeeded, theirs.state.bytesNeeded)
    assert.deepEqual(Buffer.concat(ours.state.chunks), Buffer.concat(theirs.state.chunks), 'the bytes kept for later')
  }
  assert.deepEqual(ours.seen.events, theirs.seen.events)
  return { ours: ours.seen, state: ours.state }
}

test('installed on kafkajs\'s Connection, the release package.json pins', () => {
  assert.equal(installResponseReassembly(), true)
  assert.equal(installResponseReassembly(), true, 'twice is once')
  const Connection = require(KAFKAJS_CONNECTION_MODULE) as { prototype: { processData: unknown } }
  assert.equal(Connection.prototype.processData, processData)
})

test('hands on what kafkajs hands on, for responses of any size cut anywhere', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const next = seededRandom(seed)
    const sizes = [0, 1, 7, 100, 4_000, 65_536, 70_000, 300_000]
    const responses = Array.from({ length: 1 + Math.floor(next() * 6) }, (_, i) => framedResponse(seed * 100 + i, sizes[Math.floor(next() * sizes.length)]!, i))
    const stream = Buffer.concat(responses)
    const cuts = seed % 10 === 0 ? [] : Array.from({ length: Math.floor(next() * 12) }, () => Math.floor(next() * stream.length))
    if (seed % 7 === 0) cuts.push(1, 2, 3, 5) // the size prefix and the correlation id split
    if (seed % 5 === 0) cuts.push(...responses.slice(0, -1).map((_, i) => Buffer.concat(responses.slice(0, i + 1)).length)) // on response boundaries
    const trailing = seed % 3 === 0 ? framedResponse(1, 500, 9).subarray(0, Math.floor(next() * 500)) : Buffer.alloc(0)
    const { ours } = feedBoth(cut(Buffer.concat([stream, trailing]), cuts))
    assert.equal(ours.payloads.length, responses.length, `seed ${seed}`)
  }
})

test('a response within one chunk is a view of it; one spread over chunks is copied once, to its exact size', () => {
  const one = framedResponse(7, 1000, 1)
  const two = framedResponse(8, 200_000, 2)
  const three = framedResponse(9, 30, 3)
  const chunk = Buffer.concat([one, two.subarray(0, 65_536)])
  const rest = Buffer.concat([two.subarray(65_536), three])
  const { ours, state } = feedBoth([chunk, rest])
  const [first, second, third] = ours.payloads
  assert.equal(first!.buffer, chunk.buffer, 'within the first chunk: a view')
  assert.equal(first!.byteOffset, chunk.byteOffset + 8)
  assert.equal(second!.byteOffset - 8, 0, 'spread over two chunks: a buffer of its own')
  assert.equal(second!.buffer.byteLength, two.length, 'of exactly its size')
  assert.equal(third!.buffer, rest.buffer, 'after it, within the second chunk: a view')
  assert.deepEqual(state.chunks, [])
})

test('SASL: raw data passed through before a response is expected, then the framed response alone', () => {
  const data = cut(Buffer.concat([framedResponse(3, 40, 5), framedResponse(4, 10, 6)]), [2, 30])
  feedBoth(data, { expectResponse: false })
  const { ours, state } = feedBoth(data, { expectResponse: true })
  assert.equal(ours.events.length, 1, 'one response for the handler; the next stays buffered')
  assert.equal(state.bytesBuffered, 18)
  const [a, b, c] = [framedResponse(5, 20, 1), framedResponse(6, 30, 2), framedResponse(7, 40, 3)]
  const queued = feedBoth([Buffer.concat([a, b]), c], { expectResponse: true })
  assert.equal(queued.ours.events.length, 2, 'one response per data event while SASL waits, the rest buffered in order')
  assert.equal(queued.state.bytesBuffered, c.length)
})

test('a size too small for a correlation id goes to kafkajs\'s own code, as before', () => {
  for (const size of [0, 2, 3]) {
    const framed = Buffer.alloc(4 + size, 0xee)
    framed.writeInt32BE(size, 0)
    feedBoth([framed], { expectResponse: true })
    const theirs = connection()
    const ours = connection()
    assert.throws(() => kafkajsProcessData.call(theirs.state, framed), RangeError)
    assert.throws(() => processData.call(ours.state, framed), RangeError)
  }
})

/**
 * `stream` read through ResponseReads as Node reads a socket: each read fills at most the buffer it
 * was given, and at most what `readSizes` says the socket holds; both sides must see what kafkajs sees.
 */
function readInPlace(stream: Buffer, readSizes: () => number): { ours: Seen; state: ConnectionState; readInto: Set<ArrayBufferLike> } {
  const theirs = connection()
  const ours = connection()
  const state = Object.assign(ours.state, { processData(this: ConnectionState, rawData: Buffer) { return processData.call(this, rawData) } })
  const reads = new ResponseReads(state)
  const readInto = new Set<ArrayBufferLike>()
  let at = 0
  while (at < stream.length) {
    const room = reads.nextBuffer()
    readInto.add(room.buffer)
    assert.ok(room.length > 0)
    const bytes = Math.min(room.length, readSizes(), stream.length - at)
    stream.copy(room, 0, at, at + bytes)
    kafkajsProcessData.call(theirs.state, Buffer.from(stream.subarray(at, at + bytes)))
    reads.onRead(bytes, room)
    at += bytes
  }
  assert.deepEqual(ours.seen.events, theirs.seen.events)
  assert.equal(state.bytesBuffered, theirs.state.bytesBuffered)
  return { ours: ours.seen, state, readInto }
}

test('reads in place hand on what kafkajs hands on, whatever the socket holds at each read', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const next = seededRandom(seed)
    const sizes = [0, 3, 90, 5_000, 20_000, 70_000, 300_000, 1_500_000]
    const responses = Array.from({ length: 1 + Math.floor(next() * 8) }, (_, i) => framedResponse(seed * 100 + i, sizes[Math.floor(next() * sizes.length)]!, i))
    const stream = Buffer.concat(responses)
    const most = [1, 7, 1_000, 65_536, 1 << 20][seed % 5]!
    const { ours } = readInPlace(stream, () => 1 + Math.floor(next() * most))
    assert.equal(ours.payloads.length, responses.length, `seed ${seed}`)
  }
})

test('reads in place: small responses share a read buffer, a large one is read into a buffer of its own size', () => {
  const small = Array.from({ length: 50 }, (_, i) => framedResponse(i, 90, i))
  const large = framedResponse(50, 1_000_000, 7)
  const { ours, readInto } = readInPlace(Buffer.concat([...small, large, framedResponse(51, 10, 1)]), () => 65_536)
  const buffers = new Set(ours.payloads.slice(0, 50).map(payload => payload.buffer))
  assert.equal(buffers.size, 1, 'the small ones: views of one read buffer')
  assert.equal([...buffers][0]!.byteLength, READ_BUFFER_BYTES)
  const big = ours.payloads[50]!
  assert.equal(big.buffer.byteLength, large.length, 'the large one: a buffer of exactly its size')
  assert.equal(big.byteOffset, 8)
  assert.ok(readInto.has(big.buffer), 'read into, not copied into')
  assert.equal(readInto.size, 3, 'one read buffer before it, its own, one after')
  assert.ok(READ_BUFFER_BYTES - 50 * 98 >= MIN_READ_BYTES)
})

interface KafkajsConnection {
  socketFactory: unknown
  connect(): Promise<unknown>
  send(protocol: unknown): Promise<{ apiVersions: { apiKey: number; minVersion: number; maxVersion: number }[] }>
  disconnect(): Promise<unknown>
}

/** A fake broker answering each ApiVersions v0 request with `entries[n]` versions, written in pieces. */
async function fakeBroker(entries: number[]): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer(socket => {
    sockets.add(socket)
    let pending = Buffer.alloc(0)
    let answered = 0
    socket.on('data', data => {
      pending = Buffer.concat([pending, data])
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const correlationId = pending.readInt32BE(8)
        pending = pending.subarray(4 + pending.readInt32BE(0))
        const count = entries[answered++ % entries.length]!
        const response = Buffer.allocUnsafe(4 + 4 + 2 + 4 + count * 6)
        let at = response.writeInt32BE(response.length - 4, 0)
        at = response.writeInt32BE(correlationId, at)
        at = response.writeInt16BE(0, at)
        at = response.writeInt32BE(count, at)
        for (let i = 0; i < count; i++) at = response.writeInt16BE(i & 0x7fff, response.writeInt16BE(i % 13, response.writeInt16BE((i * 7) & 0x7fff, at)))
        // pieces: inside the size prefix, then a few kilobytes, then the rest after a pause
        socket.write(response.subarray(0, 2))
        setTimeout(() => { socket.write(response.subarray(2, 5_000)); setTimeout(() => socket.write(response.subarray(5_000)), 5) }, 5)
      }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise(resolve => { for (const socket of sockets) socket.destroy(); server.close(() => resolve()) }),
  }
}

test('a kafkajs Connection over loopback decodes its responses read in place; a socket factory given to kafkajs is left alone', async () => {
  assert.equal(installResponseReassembly(), true)
  const Connection = require(KAFKAJS_CONNECTION_MODULE) as new (options: Record<string, unknown>) => KafkajsConnection
  const { createLogger, LEVELS } = require('kafkajs/src/loggers') as { createLogger(options: unknown): unknown; LEVELS: { NOTHING: number } }
  const defaultSocketFactory = require('kafkajs/src/network/socketFactory.js') as () => (args: { host: string; port: number; onConnect(): void }) => Socket
  const apiVersions = require('kafkajs/src/protocol/requests/apiVersions/index.js') as { protocol(args: { version: number }): () => unknown }
  const entries = [0, 12, 150_000, 30, 9_000]
  const broker = await fakeBroker(entries)
  try {
    const made: string[] = []
    const given = defaultSocketFactory()
    for (const [name, socketFactory] of [['default', defaultSocketFactory()], ['given', (args: Parameters<typeof given>[0]) => { made.push('given'); return given(args) }]] as const) {
      const logger = createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} })
      const connection = new Connection({ host: '127.0.0.1', port: broker.port, logger, socketFactory, requestTimeout: 10_000, connectionTimeout: 3_000, clientId: 'test' })
      await connection.connect()
      assert.equal(connection.socketFactory !== socketFactory, name === 'default', `${name}: replaced only when kafkajs's own`)
      for (const count of entries) {
        const { apiVersions: versions } = await connection.send(apiVersions.protocol({ version: 0 })())
        assert.equal(versions.length, count)
        for (let i = 0; i < count; i += 997) assert.deepEqual(versions[i], { apiKey: (i * 7) & 0x7fff, minVersion: i % 13, maxVersion: i & 0x7fff })
      }
      await connection.disconnect()
    }
    assert.deepEqual(made, ['given'])
  } finally {
    await broker.close()
  }
})
