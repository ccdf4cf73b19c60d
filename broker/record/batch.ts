// RecordBatch v2 (magic 2): a view over the 61-byte header, produce-path validation, offset
// stamping, and the transaction control batches (the only batches this broker builds itself).
//
// Layout (big-endian): baseOffset i64 @0 | batchLength i32 @8 | partitionLeaderEpoch i32 @12 |
// magic i8 @16 | crc u32 @17 (CRC-32C of [21, end)) | attributes i16 @21 | lastOffsetDelta i32 @23 |
// baseTimestamp i64 @27 | maxTimestamp i64 @35 | producerId i64 @43 | producerEpoch i16 @51 |
// baseSequence i32 @53 | recordCount i32 @57 | records @61.

import { Reader, Writer } from '../protocol/codec.ts'
import { ErrorCode, KafkaError } from '../protocol/errors.ts'
import { crc32c } from './crc32c.ts'

export const BATCH_HEADER_BYTES = 61
/** Bytes before batchLength's count starts: baseOffset + batchLength. */
export const LOG_OVERHEAD_BYTES = 12

export const Attribute = {
  COMPRESSION_MASK: 0x07,
  TIMESTAMP_LOG_APPEND: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
} as const

export const ControlType = { ABORT: 0, COMMIT: 1 } as const

export interface BatchHeader {
  baseOffset: bigint
  batchLength: number
  magic: number
  crc: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: bigint
  maxTimestamp: bigint
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  recordCount: number
}

export function readBatchHeader(bytes: Buffer, at = 0): BatchHeader {
  return {
    baseOffset: bytes.readBigInt64BE(at),
    batchLength: bytes.readInt32BE(at + 8),
    magic: bytes.readInt8(at + 16),
    crc: bytes.readUInt32BE(at + 17),
    attributes: bytes.readInt16BE(at + 21),
    lastOffsetDelta: bytes.readInt32BE(at + 23),
    baseTimestamp: bytes.readBigInt64BE(at + 27),
    maxTimestamp: bytes.readBigInt64BE(at + 35),
    producerId: bytes.readBigInt64BE(at + 43),
    producerEpoch: bytes.readInt16BE(at + 51),
    baseSequence: bytes.readInt32BE(at + 53),
    recordCount: bytes.readInt32BE(at + 57),
  }
}

export const isTransactional = (header: BatchHeader): boolean => (header.attributes & Attribute.TRANSACTIONAL) !== 0
export const isControl = (header: BatchHeader): boolean => (header.attributes & Attribute.CONTROL) !== 0
export const compressionOf = (header: BatchHeader): number => header.attributes & Attribute.COMPRESSION_MASK

/** Last sequence number of a batch, wrapping at INT32_MAX like Kafka. */
export function lastSequence(header: BatchHeader): number {
  const last = header.baseSequence + header.lastOffsetDelta
  return last > 0x7fffffff ? last - 0x80000000 : last
}

/**
 * Checks a produced records blob in the order of Kafka's ProduceRequest.validateRecords and
 * LogValidator (brief §3.5) and returns the header of its single batch. Throws KafkaError.
 */
export function validateProducedBatch(records: Buffer | null, produceVersion: number, maxMessageBytes: number): BatchHeader {
  if (records === null || records.length < BATCH_HEADER_BYTES) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, 'records missing or shorter than a batch header')
  }
  const header = readBatchHeader(records)
  if (header.magic !== 2) throw new KafkaError(ErrorCode.INVALID_RECORD, `magic ${header.magic}, only 2 is supported`)
  if (header.batchLength + LOG_OVERHEAD_BYTES !== records.length) {
    // Either a torn frame or more than one batch: Produce v3+ carries exactly one.
    const code = header.batchLength + LOG_OVERHEAD_BYTES < records.length ? ErrorCode.INVALID_RECORD : ErrorCode.CORRUPT_MESSAGE
    throw new KafkaError(code, 'records must hold exactly one complete batch')
  }
  const compression = compressionOf(header)
  if (compression > 4 || (compression === 4 && produceVersion < 7)) {
    throw new KafkaError(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, `compression codec ${compression}`)
  }
  if (crc32c(records, 21) !== header.crc) throw new KafkaError(ErrorCode.CORRUPT_MESSAGE, 'CRC-32C mismatch')
  if (header.baseOffset !== 0n) throw new KafkaError(ErrorCode.INVALID_RECORD, 'baseOffset must be 0')
  if (header.recordCount <= 0 || header.lastOffsetDelta + 1 !== header.recordCount) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, 'lastOffsetDelta + 1 must equal recordCount')
  }
  if (isControl(header)) throw new KafkaError(ErrorCode.INVALID_RECORD, 'clients may not produce control batches')
  if (header.producerId >= 0n && header.baseSequence < 0) {
    throw new KafkaError(ErrorCode.INVALID_RECORD, 'an idempotent batch needs a base sequence')
  }
  if ((header.attributes & Attribute.TIMESTAMP_LOG_APPEND) !== 0) {
    throw new KafkaError(ErrorCode.INVALID_TIMESTAMP, 'clients may not set LogAppendTime')
  }
  if (records.length > maxMessageBytes) throw new KafkaError(ErrorCode.MESSAGE_TOO_LARGE, `batch of ${records.length} bytes`)
  return header
}

/** Stamps the assigned base offset and leader epoch; both lie outside the CRC. */
export function stampBatch(batch: Buffer, baseOffset: bigint, partitionLeaderEpoch = 0): void {
  batch.writeBigInt64BE(baseOffset, 0)
  batch.writeInt32BE(partitionLeaderEpoch, 12)
}

/** Builds a 78-byte COMMIT or ABORT marker batch (brief §3.4, Appendix B.1). */
export function buildControlBatch(options: {
  baseOffset: bigint
  producerId: bigint
  producerEpoch: number
  type: (typeof ControlType)[keyof typeof ControlType]
  coordinatorEpoch?: number
  timestampMs: bigint
}): Buffer {
  const record = new Writer(32)
  record.int8(0).varlong(0n).varint(0) // attributes, timestampDelta, offsetDelta
  record.varint(4).int16(0).int16(options.type) // key: version 0, type
  record.varint(6).int16(0).int32(options.coordinatorEpoch ?? 0) // value: version 0, coordinator epoch
  record.varint(0) // no headers
  const body = record.view()

  const batch = new Writer(96)
  batch.int64(options.baseOffset)
  const lengthAt = batch.placeholderInt32()
  batch.int32(0).int8(2)
  const crcAt = batch.placeholderInt32()
  batch.int16(Attribute.TRANSACTIONAL | Attribute.CONTROL).int32(0)
  batch.int64(options.timestampMs).int64(options.timestampMs)
  batch.int64(options.producerId).int16(options.producerEpoch).int32(-1).int32(1)
  batch.varint(body.length).raw(body)
  const bytes = batch.toBuffer()
  bytes.writeInt32BE(bytes.length - LOG_OVERHEAD_BYTES, lengthAt)
  bytes.writeUInt32BE(crc32c(bytes, 21), crcAt)
  return bytes
}

export interface DecodedRecord {
  offset: bigint
  timestamp: bigint
  key: Buffer | null
  value: Buffer | null
  headers: Array<{ key: string; value: Buffer | null }>
}

/** Decodes the records of an uncompressed batch (tests and tools; the broker never needs it). */
export function decodeRecords(batch: Buffer): DecodedRecord[] {
  const header = readBatchHeader(batch)
  if (compressionOf(header) !== 0) throw new Error('decodeRecords handles uncompressed batches only')
  const reader = new Reader(batch.subarray(0, header.batchLength + LOG_OVERHEAD_BYTES), BATCH_HEADER_BYTES)
  const records: DecodedRecord[] = []
  for (let i = 0; i < header.recordCount; i++) {
    reader.varint() // length
    reader.int8()
    const timestampDelta = reader.varlong()
    const offsetDelta = reader.varint()
    const keyLength = reader.varint()
    const key = keyLength < 0 ? null : reader.raw(keyLength)
    const valueLength = reader.varint()
    const value = valueLength < 0 ? null : reader.raw(valueLength)
    const headerCount = reader.varint()
    const headers: DecodedRecord['headers'] = []
    for (let h = 0; h < headerCount; h++) {
      const headerKey = reader.raw(reader.varint()).toString('utf8')
      const headerValueLength = reader.varint()
      headers.push({ key: headerKey, value: headerValueLength < 0 ? null : reader.raw(headerValueLength) })
    }
    records.push({ offset: header.baseOffset + BigInt(offsetDelta), timestamp: header.baseTimestamp + timestampDelta, key, value, headers })
  }
  return records
}

/** Builds an uncompressed batch as a client would (tests, tools). */
export function buildBatch(options: {
  records: Array<{ key?: Buffer | null; value: Buffer | null; timestampMs?: bigint; headers?: Array<{ key: string; value: Buffer | null }> }>
  producerId?: bigint
  producerEpoch?: number
  baseSequence?: number
  transactional?: boolean
  baseTimestampMs?: bigint
}): Buffer {
  const baseTimestamp = options.baseTimestampMs ?? options.records[0]?.timestampMs ?? 0n
  let maxTimestamp = baseTimestamp
  const body = new Writer(256)
  options.records.forEach((record, index) => {
    const timestamp = record.timestampMs ?? baseTimestamp
    if (timestamp > maxTimestamp) maxTimestamp = timestamp
    const one = new Writer(64)
    one.int8(0).varlong(timestamp - baseTimestamp).varint(index)
    if (record.key == null) one.varint(-1)
    else one.varint(record.key.length).raw(record.key)
    if (record.value === null) one.varint(-1)
    else one.varint(record.value.length).raw(record.value)
    one.varint(record.headers?.length ?? 0)
    for (const h of record.headers ?? []) {
      const headerKey = Buffer.from(h.key)
      one.varint(headerKey.length).raw(headerKey)
      if (h.value === null) one.varint(-1)
      else one.varint(h.value.length).raw(h.value)
    }
    body.varint(one.offset).raw(one.view())
  })
  const batch = new Writer(BATCH_HEADER_BYTES + body.offset)
  batch.int64(0n)
  const lengthAt = batch.placeholderInt32()
  batch.int32(0).int8(2)
  const crcAt = batch.placeholderInt32()
  batch.int16(options.transactional ? Attribute.TRANSACTIONAL : 0).int32(options.records.length - 1)
  batch.int64(baseTimestamp).int64(maxTimestamp)
  batch.int64(options.producerId ?? -1n).int16(options.producerEpoch ?? (options.producerId === undefined ? 0 : 0))
  batch.int32(options.baseSequence ?? -1).int32(options.records.length)
  batch.raw(body.view())
  const bytes = batch.toBuffer()
  bytes.writeInt32BE(bytes.length - LOG_OVERHEAD_BYTES, lengthAt)
  bytes.writeUInt32BE(crc32c(bytes, 21), crcAt)
  return bytes
}
