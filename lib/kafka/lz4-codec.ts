// LZ4 for kafkajs, which ships only gzip. Kafka's LZ4 codec is the LZ4 *frame* format; lz4-frame.ts
// writes and reads the frame around lz4-napi's block compressor and decompressor (lz4_flex), so
// librdkafka and Java clients read what Sluice writes (integration/broker-kcat.test.ts) and the other
// way round.
//
// Both run on the calling thread: the async forms hand every record batch to libuv's pool, which on
// this 2-core machine cost more CPU for the same bytes (the input copy, a thread wake-up per batch
// and the core taken from the thread that waits for the result: bench:e2e's node profile showed
// 4.7% of the main thread in the async call) than a batch of at most ~1 MiB here, which takes well
// under a millisecond.

import './aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import kafkajs from 'kafkajs'
import { compressLz4Frame, decompressLz4Frame } from './lz4-frame.ts'

const { CompressionCodecs, CompressionTypes } = kafkajs

export const lz4Codec = {
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return compressLz4Frame(encoder.buffer)
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    return decompressLz4Frame(buffer)
  },
}

/** Registers the codec with kafkajs (process-wide, as kafkajs keeps codecs in a global table). */
export function registerLz4Codec(): void {
  CompressionCodecs[CompressionTypes.LZ4] = () => lz4Codec
}
