// Kafka compression codecs for kafkajs, which ships only gzip: snappy (kafkajs-snappy, which also
// reads the xerial framing Java and librdkafka write), lz4 (lib/kafka/lz4-codec.ts, the LZ4 frame
// format) and zstd (@mongodb-js/zstd, the reference library). Outside producers pick the codec
// (Telegraf's compression_codec 0-4), so the source must read all of them.

import '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import kafkajs from 'kafkajs'
import createSnappyCodec from 'kafkajs-snappy'
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd'
import { registerLz4Codec } from '../../lib/kafka/lz4-codec.ts'

const { CompressionCodecs, CompressionTypes } = kafkajs

/** zstd level for what Sluice itself compresses; 3 is zstd's own default. */
const ZSTD_LEVEL = 3

export const zstdCodec = {
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return zstdCompress(encoder.buffer, ZSTD_LEVEL)
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    return zstdDecompress(buffer)
  },
}

/** Registers snappy, lz4 and zstd with kafkajs (process-wide: kafkajs keeps codecs in a global table). Idempotent. */
export function registerKafkaCodecs(): void {
  registerLz4Codec()
  CompressionCodecs[CompressionTypes.Snappy] = createSnappyCodec
  CompressionCodecs[CompressionTypes.ZSTD] = () => zstdCodec
}
