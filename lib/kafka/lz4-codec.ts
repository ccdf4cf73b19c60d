// LZ4 for kafkajs, which ships only gzip. Kafka's LZ4 codec is the LZ4 *frame* format; lz4-napi
// (a binding to the reference C library) produces and reads it, so librdkafka and Java clients
// can read what Sluice writes and the other way round.

import kafkajs from 'kafkajs'
import { compressFrame, decompressFrame } from 'lz4-napi'

const { CompressionCodecs, CompressionTypes } = kafkajs

export const lz4Codec = {
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return compressFrame(encoder.buffer)
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    return decompressFrame(buffer)
  },
}

/** Registers the codec with kafkajs (process-wide, as kafkajs keeps codecs in a global table). */
export function registerLz4Codec(): void {
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec
}
