// Kafka's LZ4 frames (the LZ4 frame format, lz4_Frame_format.md), read and written block by block.
//
// lz4-napi's frame decoder (decompressFrameSync) streams through lz4_flex's FrameDecoder into a
// growing vector: on this machine it decompresses a 1 MB record section at 270-350 MB/s, where the
// same bytes as one LZ4 block (uncompressSync) go at 2,400-3,700 MB/s (npm run bench:lz4). The
// frames Kafka producers write are a 7-byte header (15 with the content size), one or a few
// independent blocks and an end mark, so this reads the header here and hands each block to
// lz4-napi's block decoder, bounded by the block's declared size or the frame's maximum block size.
// Frames with features this path does not check (content or block checksums, a dictionary, linked
// blocks) go to lz4-napi's frame decoder as before, so every valid frame still decodes and a
// corrupt one is still refused. Sluice's own frames are written here too (compressLz4Frame), so
// that they declare their size.

import { compressSync, decompressFrameSync, uncompressSync } from 'lz4-napi'

const FRAME_MAGIC = 0x184d2204
const END_MARK = 0
const UNCOMPRESSED_BLOCK = 0x80000000

const FLG_VERSION_MASK = 0xc0
const FLG_VERSION_01 = 0x40
const FLG_BLOCK_INDEPENDENT = 0x20
const FLG_BLOCK_CHECKSUM = 0x10
const FLG_CONTENT_SIZE = 0x08
const FLG_CONTENT_CHECKSUM = 0x04
const FLG_RESERVED = 0x02
const FLG_DICTIONARY_ID = 0x01

/** Decompresses one LZ4 frame; throws an Error naming what is wrong with a frame it cannot read. */
export function decompressLz4Frame(frame: Buffer): Buffer {
  if (frame.length < 7 || frame.readUInt32LE(0) !== FRAME_MAGIC) throw new Error('not an LZ4 frame: the magic number 0x184D2204 is missing')
  const flags = frame[4]!
  const descriptor = frame[5]!
  if ((flags & FLG_VERSION_MASK) !== FLG_VERSION_01 || (flags & FLG_RESERVED) !== 0 || (descriptor & 0x8f) !== 0) {
    throw new Error(`LZ4 frame descriptor not understood (FLG 0x${flags.toString(16)}, BD 0x${descriptor.toString(16)})`)
  }
  if ((flags & (FLG_BLOCK_CHECKSUM | FLG_CONTENT_CHECKSUM | FLG_DICTIONARY_ID)) !== 0 || (flags & FLG_BLOCK_INDEPENDENT) === 0) {
    return decompressFrameSync(frame)
  }
  const sizeCode = descriptor >> 4
  if (sizeCode < 4) throw new Error(`LZ4 frame descriptor not understood (BD 0x${descriptor.toString(16)}: block size code ${sizeCode})`)
  const maxBlockSize = 1 << (8 + 2 * sizeCode) // 4: 64 KiB, 5: 256 KiB, 6: 1 MiB, 7: 4 MiB
  const descriptorEnd = flags & FLG_CONTENT_SIZE ? 14 : 6
  if (frame.length < descriptorEnd + 1) throw new Error('LZ4 frame truncated in its header')
  if (frame[descriptorEnd] !== ((xxh32Short(frame, 4, descriptorEnd) >>> 8) & 0xff)) throw new Error('LZ4 frame header checksum mismatch')
  const declaredSize = flags & FLG_CONTENT_SIZE ? frame.readBigUInt64LE(6) : -1n

  const blocks: Buffer[] = []
  let total = 0
  let at = descriptorEnd + 1
  for (;;) {
    if (at + 4 > frame.length) throw new Error('LZ4 frame truncated: no end mark')
    const word = frame.readUInt32LE(at)
    at += 4
    if (word === END_MARK) break
    const size = word & 0x7fffffff
    if (size > maxBlockSize) throw new Error(`LZ4 block ${blocks.length} is ${size} bytes, over the frame's maximum of ${maxBlockSize}`)
    if (at + size > frame.length) throw new Error(`LZ4 frame truncated in block ${blocks.length}`)
    // A frame of one block that declares its size (compressLz4Frame's) decodes into exactly that much.
    const onlyBlock = blocks.length === 0 && at + size + 4 <= frame.length && frame.readUInt32LE(at + size) === END_MARK
    const bound = onlyBlock && declaredSize >= 0n && declaredSize <= BigInt(maxBlockSize) ? Number(declaredSize) : maxBlockSize
    const block = word & UNCOMPRESSED_BLOCK ? Buffer.from(frame.subarray(at, at + size)) : decompressBlock(frame, at, size, bound, blocks.length)
    blocks.push(block)
    total += block.length
    at += size
  }
  if (declaredSize >= 0n && BigInt(total) !== declaredSize) throw new Error(`LZ4 frame declares ${declaredSize} bytes and holds ${total}`)
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks, total)
}

/**
 * One LZ4 block through lz4-napi's block decoder, which reads the size of its output from a 4-byte
 * prefix and allocates that much. The prefix is written over the block's own size word in the
 * frame for the call and put back after it (nothing else runs meanwhile): copying each block behind
 * a prefix of its own allocated as many bytes as the fetched batches again, 96 MB on a node's main
 * thread in a bench:e2e day (--allocation-profile), memory outside V8's heap that starts full
 * collections. `bound`: the block's size when the frame declares it (compressLz4Frame), else the
 * frame's maximum block size.
 */
function decompressBlock(frame: Buffer, at: number, size: number, bound: number, index: number): Buffer {
  const sizeWord = frame.readUInt32LE(at - 4)
  frame.writeUInt32LE(bound, at - 4)
  try {
    return uncompressSync(frame.subarray(at - 4, at + size))
  } catch (error) {
    throw new Error(`LZ4 block ${index} of the frame is corrupt: ${(error as Error).message}`)
  } finally {
    frame.writeUInt32LE(sizeWord, at - 4)
  }
}

/** Blocks of compressLz4Frame's frames: at most 1 MiB (block size code 6), which holds a whole section of a record batch. */
const WRITTEN_BLOCK_CODE = 6
const WRITTEN_BLOCK_BYTES = 1 << 20

/**
 * `raw` as an LZ4 frame as Kafka's clients read it (independent blocks, no checksums; Kafka's Java
 * client, librdkafka and python-lz4 read the content size too), compressed block by block with
 * lz4-napi's block compressor. The frame declares its content size, so that decompressLz4Frame
 * gives a one-block frame an output of exactly its size: with lz4-napi's frame writer every block
 * decoded into a buffer of the declared maximum block size. A block that does not shrink is stored.
 */
export function compressLz4Frame(raw: Uint8Array): Buffer {
  const input = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)
  const blocks: Array<{ bytes: Uint8Array; stored: boolean }> = []
  let total = 15 + 4 // header with the content size; end mark
  for (let from = 0; from < input.length; from += WRITTEN_BLOCK_BYTES) {
    const piece = input.subarray(from, Math.min(input.length, from + WRITTEN_BLOCK_BYTES))
    const compressed = compressSync(piece).subarray(4) // lz4-napi prefixes the uncompressed size
    const stored = compressed.length >= piece.length
    blocks.push({ bytes: stored ? piece : compressed, stored })
    total += 4 + (stored ? piece.length : compressed.length)
  }
  const frame = Buffer.allocUnsafe(total)
  frame.writeUInt32LE(FRAME_MAGIC, 0)
  frame[4] = FLG_VERSION_01 | FLG_BLOCK_INDEPENDENT | FLG_CONTENT_SIZE
  frame[5] = WRITTEN_BLOCK_CODE << 4
  frame.writeBigUInt64LE(BigInt(input.length), 6)
  frame[14] = (xxh32Short(frame, 4, 14) >>> 8) & 0xff
  let at = 15
  for (const { bytes, stored } of blocks) {
    frame.writeUInt32LE(stored ? bytes.length + UNCOMPRESSED_BLOCK : bytes.length, at)
    frame.set(bytes, at + 4)
    at += 4 + bytes.length
  }
  frame.writeUInt32LE(END_MARK, at)
  return frame
}

const PRIME32_1 = 0x9e3779b1
const PRIME32_2 = 0x85ebca77
const PRIME32_3 = 0xc2b2ae3d
const PRIME32_4 = 0x27d4eb2f
const PRIME32_5 = 0x165667b1

const rotl32 = (x: number, r: number): number => (x << r) | (x >>> (32 - r))

/** xxHash32 (seed 0) of bytes [from, to), fewer than 16 of them: the frame header's checksum. */
export function xxh32Short(bytes: Uint8Array, from: number, to: number): number {
  const length = to - from
  if (length >= 16) throw new RangeError('xxh32Short hashes fewer than 16 bytes')
  let h = (PRIME32_5 + length) | 0
  let i = from
  for (; i + 4 <= to; i += 4) {
    const word = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    h = Math.imul(rotl32((h + Math.imul(word, PRIME32_3)) | 0, 17), PRIME32_4)
  }
  for (; i < to; i++) h = Math.imul(rotl32((h + Math.imul(bytes[i]!, PRIME32_5)) | 0, 11), PRIME32_1)
  h ^= h >>> 15
  h = Math.imul(h, PRIME32_2)
  h ^= h >>> 13
  h = Math.imul(h, PRIME32_3)
  h ^= h >>> 16
  return h >>> 0
}
