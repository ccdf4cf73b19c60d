// kafkajs frames every request (protocol/request.js) by copying its body twice: into an Encoder with
// the request header, then into another behind the size prefix, each grown by powers of two (179 MB
// of a node's main thread over bench:e2e's day, bench:e2e --allocation-profile). Importing this
// module before kafkajs loads puts a framing in its place that writes the size prefix and header into
// one buffer of the exact size and copies the body once; a body encoded with room in front for the
// framing (encoded-produce.ts's Produce requests) is framed in place, with no copy at all. The bytes
// on the wire are kafkajs's (request-framing.test.ts checks them against kafkajs's own framing).
//
// Layout (Kafka request header v1): int32 size of what follows, int16 api key, int16 api version,
// int32 correlation id, client id as int16 length + UTF-8 (-1 for none), then the body.
//
// kafkajs's connection keeps the function it required: installed after kafkajs loaded, this changes
// nothing and says so (false), as for another kafkajs release.

import { createRequire } from 'node:module'
import { isPatchedKafkajsRelease, kafkajsModulePath, replaceKafkajsModule } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)

export const KAFKAJS_REQUEST_MODULE = kafkajsModulePath('src/protocol/request.js')
const KAFKAJS_ENCODER_MODULE = kafkajsModulePath('src/protocol/encoder.js')

/**
 * On a body's Encoder: the buffer its `buf` is a view into, with free bytes in front of `buf` where
 * the framing may write the size prefix and header instead of copying the body.
 */
export const FRAMING_ROOM = Symbol('sluice.framingRoom')

/** Room a body reserves in front for framing in place: the header with a client id of up to 240 bytes. */
export const FRAMING_ROOM_BYTES = 256

interface KafkajsEncoder {
  buf: Buffer
  offset: number
  /** The bytes written (kafkajs's getter: buf up to offset). */
  readonly buffer: Buffer
  [FRAMING_ROOM]?: Buffer
}
interface KafkajsRequest {
  apiKey: number
  apiVersion: number
  encode(): Promise<KafkajsEncoder> | KafkajsEncoder
}
export interface FrameArgs {
  correlationId: number
  clientId: string | null | undefined
  request: KafkajsRequest
}

type EncoderClass = new (initialSize?: number) => KafkajsEncoder
/** kafkajs's Encoder class, required at the first framing (not on this module's load, ahead of kafkajs). */
let Encoder: EncoderClass | undefined

/** Bytes of the size prefix and header for `clientId`. */
export function framingBytes(clientId: string | null | undefined): number {
  return 4 + 2 + 2 + 4 + 2 + (clientId == null ? 0 : Buffer.byteLength(clientId, 'utf8'))
}

/** kafkajs's request.js contract: the framed request as an Encoder (connection.js writes its `buffer`). */
export async function frameRequest({ correlationId, clientId, request: { apiKey, apiVersion, encode } }: FrameArgs): Promise<KafkajsEncoder> {
  const payload = await encode()
  if (payload == null || !Buffer.isBuffer(payload.buf)) throw new Error('value should be an instance of Encoder')
  const bodyBytes = payload.offset
  const headerBytes = framingBytes(clientId)
  const room = payload[FRAMING_ROOM]
  const roomInFront = room !== undefined && room.buffer === payload.buf.buffer ? payload.buf.byteOffset - room.byteOffset : -1
  let framed: Buffer
  if (roomInFront >= headerBytes) {
    framed = room!.subarray(roomInFront - headerBytes, roomInFront + bodyBytes)
  } else {
    framed = Buffer.allocUnsafe(headerBytes + bodyBytes)
    payload.buf.copy(framed, headerBytes, 0, bodyBytes)
  }
  let at = framed.writeInt32BE(headerBytes + bodyBytes - 4, 0)
  at = framed.writeInt16BE(apiKey, at)
  at = framed.writeInt16BE(apiVersion, at)
  at = framed.writeInt32BE(correlationId, at)
  if (clientId == null) at = framed.writeInt16BE(-1, at)
  else {
    const length = framed.write(clientId, at + 2, 'utf8')
    at = framed.writeInt16BE(length, at) + length
  }
  if (at !== headerBytes) throw new Error(`request framing: wrote a ${at}-byte header, sized ${headerBytes}`)
  Encoder ??= require(KAFKAJS_ENCODER_MODULE) as EncoderClass
  const encoder = new Encoder(0)
  encoder.buf = framed
  encoder.offset = framed.length
  return encoder
}

/** Puts frameRequest in kafkajs's place; false (nothing changed) for another release or when kafkajs's own was loaded already. */
export function installRequestFraming(): boolean {
  if (!isPatchedKafkajsRelease) return false
  return replaceKafkajsModule(KAFKAJS_REQUEST_MODULE, frameRequest)
}

installRequestFraming()
