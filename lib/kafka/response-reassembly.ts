// kafkajs 2.2.4 reassembles a connection's responses (network/connection.js processData) by
// concatenating the socket's chunks whenever they hold the bytes it waits for, and keeps what follows
// a response as a (usually empty) chunk of its own. So every response was copied at least once, even
// one that arrived whole in one read (the empty remainder in front makes two chunks), and one spread
// over reads was copied one read early and then again whole: 112 MB of Buffers over bench:e2e's day
// on a node's main thread (--allocation-profile). A probe counted that day's responses: 2,844, of
// which 230 Fetch responses of 64 KB to 1.4 MB carry 96 of the 97 MB, each arriving in 64 KiB reads.
//
// Replaced here, in two parts:
// - processData: a response lying within one chunk is handed on as a view of it; one spread over
//   chunks is copied once, into a buffer of its exact size; what follows stays a view of its chunk;
//   chunks that are adjacent views of one buffer are joined without a copy.
// - the socket's reads (Node's `onread`, a buffer chosen before each read): into the free tail of a
//   64 KiB buffer shared by consecutive reads, and, once a response's size prefix shows that it will
//   not fit there, into a buffer of the response's exact size, after copying in what had come of it
//   (at most one read). The rest of the response is read in place and handed on as a view: a Fetch
//   response of a megabyte is copied some kilobytes, not whole, and no 64 KiB buffer is made per read.
//   Only plain TCP sockets of kafkajs's own socket factory (the Kafka client's default) read so; TLS
//   and a socket factory given to kafkajs keep kafkajs's 'data' events, into the processData above.
//
// The request queue gets the same payloads (bytes, sizes, correlation ids, order) and SASL's handlers
// the same raw responses as from kafkajs's own code (response-reassembly.test.ts compares them for
// many splits and reads). A size too small for a correlation id goes to kafkajs's own processData.
// kafkajs calls processData and connect through the Connection prototype, so installing works at any
// time, for every connection of the thread (from its next socket); another kafkajs release is left alone.

import { createRequire } from 'node:module'
import { connect as netConnect, type Socket } from 'node:net'
import { isPatchedKafkajsRelease, kafkajsModulePath } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)

export const KAFKAJS_CONNECTION_MODULE = kafkajsModulePath('src/network/connection.js')
const KAFKAJS_SOCKET_FACTORY_MODULE = kafkajsModulePath('src/network/socketFactory.js')

/** Bytes of a response's size prefix (int32) and of its correlation id (int32). */
const SIZE_BYTES = 4
const CORRELATION_ID_BYTES = 4
/** A buffer shared by consecutive reads: Node's own read size. */
export const READ_BUFFER_BYTES = 65_536
/** A read buffer with less free room than this is left for a new one (fewer, fuller reads). */
export const MIN_READ_BYTES = 16_384
/**
 * The largest response read into a buffer of its own size as soon as its size prefix arrives: above
 * it (never seen from Sluice's fetches, of at most some megabytes) a corrupt or hostile size could
 * make one allocation fail, so the bytes are read 64 KiB at a time and joined at the end, as kafkajs does.
 */
export const MAX_RESPONSE_BUFFER_BYTES = 64 * 1024 * 1024
/** kafkajs's socket factory keeps sockets alive with this delay (socketFactory.js). */
const KEEP_ALIVE_DELAY_MS = 60_000

/** The fields of kafkajs's Connection that reassembly reads and writes. */
export interface ConnectionState {
  /** Bytes received and not yet handed on, in order; their lengths add up to bytesBuffered. */
  chunks: Buffer[]
  bytesBuffered: number
  /** Bytes needed before the next response (or its size prefix) can be read. */
  bytesNeeded: number
  authHandlers: { onSuccess(data: Buffer): unknown } | null
  authExpectResponse: boolean
  requestQueue: { fulfillRequest(response: { size: number; correlationId: number; payload: Buffer }): void }
}
type ProcessData = (this: ConnectionState, rawData: Buffer) => unknown
interface ConnectionClass {
  prototype: { processData: ProcessData; connect: Connect }
}

/** kafkajs's own processData, for the sizes it alone reads (the Connection module's, required at install). */
let kafkajsProcessData: ProcessData | undefined
const NO_BYTES = Buffer.alloc(0)

/** Appends `chunk`, joined to the last chunk when it is the next bytes of the same memory (no copy). */
function pushChunk(chunks: Buffer[], chunk: Buffer): void {
  const last = chunks.length === 0 ? undefined : chunks[chunks.length - 1]!
  if (last !== undefined && last.buffer === chunk.buffer && last.byteOffset + last.length === chunk.byteOffset) {
    chunks[chunks.length - 1] = Buffer.from(last.buffer, last.byteOffset, last.length + chunk.length)
  } else {
    chunks.push(chunk)
  }
}

/** The int32 size prefix at the front of `chunks` (at least 4 bytes in all), across chunks when split. */
function sizePrefixOf(chunks: Buffer[]): number {
  const first = chunks[0]!
  if (first.length >= SIZE_BYTES) return first.readInt32BE(0)
  const prefix = Buffer.allocUnsafe(SIZE_BYTES)
  let at = 0
  for (let i = 0; at < SIZE_BYTES; i++) at += chunks[i]!.copy(prefix, at, 0, SIZE_BYTES - at)
  return prefix.readInt32BE(0)
}

/**
 * Takes the first `bytes` of `state.chunks` off the front: a view when the first chunk holds them,
 * else one copy into a buffer of exactly `bytes`; what is left of the last chunk read stays a view.
 */
function takeFront(state: ConnectionState, bytes: number): Buffer {
  const chunks = state.chunks
  const first = chunks[0]!
  state.bytesBuffered -= bytes
  if (first.length >= bytes) {
    if (first.length === bytes) chunks.shift()
    else chunks[0] = first.subarray(bytes)
    return first.subarray(0, bytes)
  }
  const taken = Buffer.allocUnsafe(bytes)
  let at = 0
  let used = 0
  while (at < bytes) {
    const chunk = chunks[used]!
    const copied = chunk.copy(taken, at, 0, Math.min(chunk.length, bytes - at))
    at += copied
    if (copied === chunk.length) used++
    else chunks[used] = chunk.subarray(copied)
  }
  state.chunks = used === chunks.length ? [] : chunks.slice(used)
  return taken
}

/** kafkajs's contract for processData, with the copies described above. */
export function processData(this: ConnectionState, rawData: Buffer): unknown {
  if (this.authHandlers && !this.authExpectResponse) return this.authHandlers.onSuccess(rawData)
  pushChunk(this.chunks, rawData)
  this.bytesBuffered += rawData.length
  while (this.bytesNeeded <= this.bytesBuffered) {
    const responseBytes = sizePrefixOf(this.chunks)
    if (responseBytes < CORRELATION_ID_BYTES) return kafkajsProcessDataOf().call(this, NO_BYTES)
    const framedBytes = SIZE_BYTES + responseBytes
    if (this.bytesBuffered < framedBytes) {
      this.bytesNeeded = framedBytes
      return
    }
    const framed = takeFront(this, framedBytes)
    this.bytesNeeded = SIZE_BYTES
    if (this.authHandlers) return this.authHandlers.onSuccess(framed)
    this.requestQueue.fulfillRequest({
      size: responseBytes,
      correlationId: framed.readInt32BE(SIZE_BYTES),
      payload: framed.subarray(SIZE_BYTES + CORRELATION_ID_BYTES),
    })
  }
}

/** What kafkajs's Connection.connect hands its socket factory (network/socket.js). */
interface SocketArgs {
  host: string
  port: number
  ssl: unknown
  onConnect: () => void
}
type SocketFactory = ((args: SocketArgs) => Socket) & { [READS_IN_PLACE]?: true }
/** The fields of kafkajs's Connection that connecting reads and writes. */
interface ConnectingState extends ConnectionState {
  socketFactory: SocketFactory
  processData(rawData: Buffer): unknown
}
type Connect = (this: ConnectingState, ...args: unknown[]) => unknown

/** On a socket factory made here: its sockets read in place. */
const READS_IN_PLACE = Symbol('sluice.readsInPlace')

/**
 * One socket's reads: where the next read goes (Node's onread.buffer, asked after every read) and
 * what is done with the bytes read (onread.callback: the connection's processData, as kafkajs's
 * 'data' listener does).
 */
export class ResponseReads {
  private target: Buffer = Buffer.alloc(0)
  private filled = 0

  constructor(private readonly connection: ConnectionState & { processData(rawData: Buffer): unknown }) {}

  readonly nextBuffer = (): Buffer => {
    const state = this.connection
    const free = this.target.length - this.filled
    const framedBytes = state.bytesNeeded // past the size prefix: the response under way, prefix included
    if (framedBytes > SIZE_BYTES && framedBytes <= MAX_RESPONSE_BUFFER_BYTES && framedBytes - state.bytesBuffered > free) {
      this.target = bufferOfFront(state, framedBytes)
      this.filled = state.bytesBuffered
    } else if (free < MIN_READ_BYTES) {
      this.target = Buffer.allocUnsafe(READ_BUFFER_BYTES)
      this.filled = 0
    }
    return this.target.subarray(this.filled)
  }

  readonly onRead = (bytes: number, buffer: Uint8Array): boolean => {
    this.filled += bytes
    this.connection.processData(Buffer.from(buffer.buffer, buffer.byteOffset, bytes))
    return true
  }
}

/** A buffer of `framedBytes` for the response under way, holding the bytes of it received so far (then its only chunk). */
function bufferOfFront(state: ConnectionState, framedBytes: number): Buffer {
  const response = Buffer.allocUnsafe(framedBytes)
  let held = 0
  for (const chunk of state.chunks) held += chunk.copy(response, held)
  state.chunks = held === 0 ? [] : [response.subarray(0, held)]
  return response
}

let kafkajsSocketFactorySource: string | undefined
/** Whether `factory` is one kafkajs's socketFactory.js made (the Kafka client's default): the same source text. */
function isKafkajsSocketFactory(factory: SocketFactory): boolean {
  kafkajsSocketFactorySource ??= String((require(KAFKAJS_SOCKET_FACTORY_MODULE) as () => SocketFactory)())
  return String(factory) === kafkajsSocketFactorySource
}

/** kafkajs's default socket factory for `connection`, with plain TCP sockets that read in place. */
function readingSocketFactory(connection: ConnectingState, kafkajsFactory: SocketFactory): SocketFactory {
  const factory: SocketFactory = args => {
    if (args.ssl) return kafkajsFactory(args)
    const reads = new ResponseReads(connection)
    const socket = netConnect({ host: args.host, port: args.port, onread: { buffer: reads.nextBuffer, callback: reads.onRead } }, args.onConnect)
    socket.setKeepAlive(true, KEEP_ALIVE_DELAY_MS)
    return socket
  }
  factory[READS_IN_PLACE] = true
  return factory
}

let kafkajsConnect: Connect | undefined
/** kafkajs's connect, its default socket factory first made to read in place. */
export function connect(this: ConnectingState, ...args: unknown[]): unknown {
  const factory = this.socketFactory
  if (factory !== undefined && factory[READS_IN_PLACE] === undefined && isKafkajsSocketFactory(factory)) this.socketFactory = readingSocketFactory(this, factory)
  return kafkajsConnect!.apply(this, args)
}

/**
 * Puts processData and connect above on kafkajs's Connection (every connection of this thread);
 * true once installed, false (nothing changed) for another kafkajs release. Called where Sluice
 * creates its consumers, after kafkajs loaded: requiring its connection module earlier would load
 * kafkajs's own request framing ahead of request-framing.ts.
 */
export function installResponseReassembly(): boolean {
  if (!isPatchedKafkajsRelease) return false
  const prototype = (require(KAFKAJS_CONNECTION_MODULE) as ConnectionClass).prototype
  if (prototype.processData !== processData) {
    kafkajsProcessData = prototype.processData
    prototype.processData = processData
  }
  if (prototype.connect !== connect) {
    kafkajsConnect = prototype.connect
    prototype.connect = connect
  }
  return true
}

function kafkajsProcessDataOf(): ProcessData {
  kafkajsProcessData ??= (require(KAFKAJS_CONNECTION_MODULE) as ConnectionClass).prototype.processData
  if (kafkajsProcessData === processData) throw new Error('response reassembly: kafkajs\'s own processData was not kept at install')
  return kafkajsProcessData
}
