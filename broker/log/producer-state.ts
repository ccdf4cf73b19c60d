// Idempotent and transactional producer state of one partition (brief §4.2): per producer id its
// epoch, its last five batches for duplicate detection, and the first offset of its open
// transaction. Rebuilt on start from the newest snapshot at or below the log end plus a replay of
// the batches after it; snapshots are written at segment roll and clean shutdown.
//
// <20-digit offset>.snapshot, version 1, big-endian, written via write-fsync-rename:
//   @0 magic "SLPS" | @4 version u8 = 1 | @5 reserved 3 bytes | @8 offset i64 (the state covers
//   every batch below it) | @16 producerCount u32 | producers, each:
//     producerId i64 | epoch i16 | lastTimestampMs i64 (broker clock) | openTxnFirstOffset i64 (-1: none) |
//     batchCount u8 | batchCount × [firstSeq i32 | lastSeq i32 | firstOffset i64 | lastOffset i64 | maxTimestamp i64]
//   trailer: crc32c u32 of every byte before it

import { ErrorCode, KafkaError } from '../protocol/errors.ts'
import { ControlType } from '../record/batch.ts'
import { crc32c } from '../record/crc32c.ts'
import type { StoredBatch } from './batch-scan.ts'
import { DEDUPE_BATCHES } from './limits.ts'

const MAGIC = 'SLPS'
const FORMAT_VERSION = 1
const HEADER_BYTES = 20
const PRODUCER_BYTES = 27
const BATCH_BYTES = 32
const TRAILER_BYTES = 4
const INT32_MAX = 0x7fffffff

interface CachedBatch { firstSeq: number; lastSeq: number; firstOffset: bigint; lastOffset: bigint; maxTimestamp: bigint }

interface ProducerEntry {
  epoch: number
  /** Oldest first, at most DEDUPE_BATCHES. */
  batches: CachedBatch[]
  lastTimestampMs: number
}

/** A transaction a marker closed; `aborted` ones go to the aborted-transaction index. */
export interface CompletedTxn {
  producerId: bigint
  firstOffset: bigint
  lastOffset: bigint
  lastStableOffset: bigint
  aborted: boolean
}

const nextSequence = (sequence: number): number => (sequence === INT32_MAX ? 0 : sequence + 1)

/** Last sequence of a batch: base + lastOffsetDelta, wrapping past INT32_MAX to 0 like Kafka. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  const last = baseSequence + lastOffsetDelta
  return last > INT32_MAX ? last - INT32_MAX - 1 : last
}

export class ProducerState {
  private readonly producers = new Map<bigint, ProducerEntry>()
  /** Producer id → first offset of its open transaction on this partition. */
  private readonly openTxns = new Map<bigint, bigint>()

  get producerCount(): number { return this.producers.size }

  /**
   * Applies the §4.2 rules, in order, to a data batch about to be appended. Throws KafkaError 47,
   * 45 or 48; returns the original base offset when the batch repeats one of the last five
   * (nothing must be appended then), else null. Producer id -1 skips every check.
   */
  check(producerId: bigint, epoch: number, firstSeq: number, lastSeq: number, transactional: boolean): bigint | null {
    if (producerId < 0n) return null
    const entry = this.producers.get(producerId)
    if (!entry) return null // rule 5: an unknown producer may start at any sequence
    if (epoch < entry.epoch) {
      throw new KafkaError(ErrorCode.INVALID_PRODUCER_EPOCH, `producer ${producerId}: epoch ${epoch} is older than ${entry.epoch}`)
    }
    if (epoch === entry.epoch) {
      const duplicate = entry.batches.find(batch => batch.firstSeq === firstSeq && batch.lastSeq === lastSeq)
      if (duplicate) return duplicate.firstOffset
    }
    if (epoch > entry.epoch && firstSeq !== 0) {
      throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `producer ${producerId}: new epoch ${epoch} must start at sequence 0, not ${firstSeq}`)
    }
    if (epoch === entry.epoch) {
      const lastSeqSoFar = entry.batches.at(-1)?.lastSeq ?? -1
      if (firstSeq !== nextSequence(lastSeqSoFar)) {
        throw new KafkaError(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `producer ${producerId}: expected sequence ${nextSequence(lastSeqSoFar)}, got ${firstSeq}`)
      }
    }
    if (!transactional && this.openTxns.has(producerId)) {
      throw new KafkaError(ErrorCode.INVALID_TXN_STATE, `producer ${producerId}: a non-transactional batch while its transaction is open`)
    }
    return null
  }

  /** Records an appended (or replayed) batch: data batches update the cache, markers close transactions. */
  record(batch: StoredBatch, nowMs: number): CompletedTxn | null {
    if (batch.producerId < 0n) return null
    if (batch.isControl) return this.recordMarker(batch, nowMs)
    const entry = this.entryFor(batch.producerId, batch.producerEpoch, nowMs)
    entry.batches.push({
      firstSeq: batch.baseSequence,
      lastSeq: lastSequenceOf(batch.baseSequence, batch.lastOffsetDelta),
      firstOffset: batch.baseOffset,
      lastOffset: batch.lastOffset,
      maxTimestamp: batch.maxTimestamp,
    })
    if (entry.batches.length > DEDUPE_BATCHES) entry.batches.shift()
    if (batch.isTransactional && !this.openTxns.has(batch.producerId)) this.openTxns.set(batch.producerId, batch.baseOffset)
    return null
  }

  private recordMarker(batch: StoredBatch, nowMs: number): CompletedTxn | null {
    this.entryFor(batch.producerId, batch.producerEpoch, nowMs)
    const firstOffset = this.openTxns.get(batch.producerId)
    // A marker with no open transaction (a retried or recovered decision) changes nothing.
    if (firstOffset === undefined) return null
    this.openTxns.delete(batch.producerId)
    const nextOpen = this.firstOpenOffset()
    return {
      producerId: batch.producerId,
      firstOffset,
      lastOffset: batch.baseOffset,
      lastStableOffset: nextOpen ?? batch.baseOffset + 1n,
      aborted: batch.controlType === ControlType.ABORT,
    }
  }

  /** The producer's entry, created if new; a newer epoch (data or marker) resets the batch cache. */
  private entryFor(producerId: bigint, epoch: number, nowMs: number): ProducerEntry {
    let entry = this.producers.get(producerId)
    if (!entry) {
      entry = { epoch, batches: [], lastTimestampMs: nowMs }
      this.producers.set(producerId, entry)
    }
    if (epoch > entry.epoch) {
      entry.epoch = epoch
      entry.batches = []
    }
    entry.lastTimestampMs = nowMs
    return entry
  }

  /** First offset of the earliest open transaction, or null (the LSO's bound). */
  firstOpenOffset(): bigint | null {
    let first: bigint | null = null
    for (const offset of this.openTxns.values()) if (first === null || offset < first) first = offset
    return first
  }

  hasOpenTransaction(producerId: bigint): boolean {
    return this.openTxns.has(producerId)
  }

  /** Forgets producers idle for `expirationMs` with nothing open (producer.id.expiration.ms). */
  expire(nowMs: number, expirationMs: number): number {
    let expired = 0
    for (const [producerId, entry] of this.producers) {
      if (this.openTxns.has(producerId) || nowMs - entry.lastTimestampMs < expirationMs) continue
      this.producers.delete(producerId)
      expired++
    }
    return expired
  }

  encode(offset: bigint): Buffer {
    let size = HEADER_BYTES + TRAILER_BYTES
    for (const entry of this.producers.values()) size += PRODUCER_BYTES + entry.batches.length * BATCH_BYTES
    const bytes = Buffer.alloc(size)
    bytes.write(MAGIC, 0, 'ascii')
    bytes.writeUInt8(FORMAT_VERSION, 4)
    bytes.writeBigInt64BE(offset, 8)
    bytes.writeUInt32BE(this.producers.size, 16)
    let at = HEADER_BYTES
    for (const [producerId, entry] of this.producers) {
      at = bytes.writeBigInt64BE(producerId, at)
      at = bytes.writeInt16BE(entry.epoch, at)
      at = bytes.writeBigInt64BE(BigInt(entry.lastTimestampMs), at)
      at = bytes.writeBigInt64BE(this.openTxns.get(producerId) ?? -1n, at)
      at = bytes.writeUInt8(entry.batches.length, at)
      for (const batch of entry.batches) {
        at = bytes.writeInt32BE(batch.firstSeq, at)
        at = bytes.writeInt32BE(batch.lastSeq, at)
        at = bytes.writeBigInt64BE(batch.firstOffset, at)
        at = bytes.writeBigInt64BE(batch.lastOffset, at)
        at = bytes.writeBigInt64BE(batch.maxTimestamp, at)
      }
    }
    bytes.writeUInt32BE(crc32c(bytes, 0, at), at)
    return bytes
  }

  /** Parses a snapshot; throws on a damaged file or an unknown version. */
  static decode(bytes: Buffer): { offset: bigint; state: ProducerState } {
    if (bytes.length < HEADER_BYTES + TRAILER_BYTES || bytes.toString('ascii', 0, 4) !== MAGIC) throw new Error('not a producer snapshot')
    if (bytes.readUInt8(4) !== FORMAT_VERSION) throw new Error(`unknown producer snapshot version ${bytes.readUInt8(4)}`)
    if (crc32c(bytes, 0, bytes.length - TRAILER_BYTES) !== bytes.readUInt32BE(bytes.length - TRAILER_BYTES)) throw new Error('producer snapshot checksum mismatch')
    const state = new ProducerState()
    const count = bytes.readUInt32BE(16)
    let at = HEADER_BYTES
    for (let i = 0; i < count; i++) {
      const producerId = bytes.readBigInt64BE(at)
      const entry: ProducerEntry = { epoch: bytes.readInt16BE(at + 8), lastTimestampMs: Number(bytes.readBigInt64BE(at + 10)), batches: [] }
      const openTxnFirstOffset = bytes.readBigInt64BE(at + 18)
      const batchCount = bytes.readUInt8(at + 26)
      at += PRODUCER_BYTES
      for (let b = 0; b < batchCount; b++, at += BATCH_BYTES) {
        entry.batches.push({
          firstSeq: bytes.readInt32BE(at),
          lastSeq: bytes.readInt32BE(at + 4),
          firstOffset: bytes.readBigInt64BE(at + 8),
          lastOffset: bytes.readBigInt64BE(at + 16),
          maxTimestamp: bytes.readBigInt64BE(at + 24),
        })
      }
      state.producers.set(producerId, entry)
      if (openTxnFirstOffset >= 0n) state.openTxns.set(producerId, openTxnFirstOffset)
    }
    if (at !== bytes.length - TRAILER_BYTES) throw new Error('producer snapshot length mismatch')
    return { offset: bytes.readBigInt64BE(8), state }
  }
}
