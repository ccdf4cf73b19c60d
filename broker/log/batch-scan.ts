// Walks the record batches stored in a segment file, reading it in chunks: recovery (framing and
// CRC-32C checks), producer-state replay, and the header walks of reads and timestamp lookups.
// Batches are stored exactly as produced (RecordBatch v2, brief §3.1) with the broker's offset stamped.

import { BATCH_HEADER_BYTES, LOG_OVERHEAD_BYTES } from '../record/batch.ts'
import { crc32c } from '../record/crc32c.ts'
import { readAt, readInto } from './files.ts'
import { MAX_STORED_BATCH_BYTES, SCAN_CHUNK_BYTES } from './limits.ts'

/** What a walk learns about one stored batch without decoding its records. */
export interface StoredBatch {
  position: number
  sizeBytes: number
  baseOffset: bigint
  lastOffset: bigint
  maxTimestamp: bigint
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  lastOffsetDelta: number
  isTransactional: boolean
  isControl: boolean
  /** For control batches the record key's type (0 ABORT, 1 COMMIT), else -1. */
  controlType: number
}

/** Header plus enough of a control batch's first record to read its key type. */
const PEEK_BYTES = BATCH_HEADER_BYTES + 32

/** Reads the header at `at`; bytes before `validEnd` are the batch's (the key type needs up to 32 record bytes). */
export function storedBatchAt(bytes: Buffer, at: number, position: number, validEnd = bytes.length): StoredBatch {
  const attributes = bytes.readInt16BE(at + 21)
  const baseOffset = bytes.readBigInt64BE(at)
  const lastOffsetDelta = bytes.readInt32BE(at + 23)
  const sizeBytes = bytes.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES
  const isControl = (attributes & 0x20) !== 0
  return {
    position,
    sizeBytes,
    baseOffset,
    lastOffset: baseOffset + BigInt(lastOffsetDelta),
    maxTimestamp: bytes.readBigInt64BE(at + 35),
    producerId: bytes.readBigInt64BE(at + 43),
    producerEpoch: bytes.readInt16BE(at + 51),
    baseSequence: bytes.readInt32BE(at + 53),
    lastOffsetDelta,
    isTransactional: (attributes & 0x10) !== 0,
    isControl,
    controlType: isControl ? controlTypeAt(bytes, at + BATCH_HEADER_BYTES, Math.min(validEnd, at + sizeBytes)) : -1,
  }
}

/** Reads the key type of the first record (length, attributes, tsDelta, offsetDelta, keyLen, key: version i16, type i16). */
function controlTypeAt(bytes: Buffer, at: number, end: number): number {
  let cursor = at
  const varint = (): number => {
    let value = 0
    let shift = 0
    for (;;) {
      if (cursor >= end || shift > 63) return Number.NaN
      const byte = bytes[cursor++]!
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) break
      shift += 7
    }
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2
  }
  varint() // record length
  cursor += 1 // attributes
  varint() // timestamp delta
  varint() // offset delta
  const keyLength = varint()
  if (keyLength !== 4 || cursor + 4 > end) return -1
  return bytes.readInt16BE(cursor + 2)
}

export type ScanEnd = 'end' | 'torn' | 'corrupt' | 'stopped'

export interface ScanResult {
  /** Position after the last batch visited (the valid prefix when ended is torn or corrupt). */
  position: number
  ended: ScanEnd
  reason?: string
}

export interface ScanOptions {
  /** Check magic, framing and CRC-32C of every batch (recovery); otherwise trust the headers. */
  verifyCrc: boolean
  /** With verifyCrc: the base offset the first batch must have; later ones must follow contiguously. */
  expectOffset?: bigint
  chunkBytes?: number
}

/** Visits batches in [from, end) in order; `visit` returns false to stop. */
export function scanBatches(fd: number, from: number, end: number, options: ScanOptions, visit: (batch: StoredBatch) => boolean | void): ScanResult {
  const chunk = Buffer.allocUnsafe(Math.max(PEEK_BYTES, Math.min(options.chunkBytes ?? SCAN_CHUNK_BYTES, end - from)))
  let chunkStart = from
  let chunkLength = 0
  let expected = options.expectOffset
  let position = from
  const fill = (): void => {
    chunkStart = position
    chunkLength = readInto(fd, chunk.length <= end - position ? chunk : chunk.subarray(0, end - position), position)
  }
  while (position < end) {
    if (end - position < BATCH_HEADER_BYTES) return { position, ended: 'torn', reason: `${end - position} bytes after the last batch` }
    const needed = Math.min(PEEK_BYTES, end - position)
    if (position + needed > chunkStart + chunkLength) fill()
    if (chunkLength < needed) return { position, ended: 'torn', reason: `file shorter than expected at position ${position}` }
    const at = position - chunkStart
    const sizeBytes = chunk.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES
    if (chunk.readInt8(at + 16) !== 2 || sizeBytes < BATCH_HEADER_BYTES || sizeBytes > MAX_STORED_BATCH_BYTES) {
      return { position, ended: 'corrupt', reason: `bad magic or length at position ${position}` }
    }
    if (position + sizeBytes > end) return { position, ended: 'torn', reason: `batch of ${sizeBytes} bytes cut at ${end - position}` }
    let batch = storedBatchAt(chunk, at, position, chunkLength)
    if (options.verifyCrc) {
      const whole = at + sizeBytes <= chunkLength ? { bytes: chunk, at } : { bytes: readAt(fd, position, sizeBytes), at: 0 }
      if (crc32c(whole.bytes, whole.at + 21, whole.at + sizeBytes) !== whole.bytes.readUInt32BE(whole.at + 17)) {
        return { position, ended: 'corrupt', reason: `CRC-32C mismatch at position ${position}` }
      }
      if (whole.bytes !== chunk) batch = storedBatchAt(whole.bytes, 0, position)
      if (expected !== undefined && batch.baseOffset !== expected) {
        return { position, ended: 'corrupt', reason: `offset ${batch.baseOffset} where ${expected} was expected` }
      }
      if (batch.lastOffsetDelta < 0) return { position, ended: 'corrupt', reason: `negative lastOffsetDelta at position ${position}` }
      expected = batch.lastOffset + 1n
    }
    if (visit(batch) === false) return { position, ended: 'stopped' }
    position += sizeBytes
  }
  return { position, ended: 'end' }
}
