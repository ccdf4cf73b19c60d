// Kafka record batches (magic 2) built from bytes, so that a thread other than the producer's can do
// the costly part: the records section (every record's key, value and headers) and its compression.
// What only the producer knows when it sends (producer id, epoch, first sequence, the time) goes in
// the 61-byte header, written by frameRecordBatch together with the CRC.
//
// Layout (Kafka's DefaultRecordBatch):
//   0   baseOffset int64 (0)            12  partitionLeaderEpoch int32 (0)   16  magic int8 (2)
//   8   batchLength int32 (from 12)     17  crc uint32: CRC-32C of bytes 21 to the end
//   21  attributes int16 (codec | 16 when transactional)   23  lastOffsetDelta int32
//   27  firstTimestamp int64   35  maxTimestamp int64   43  producerId int64   51  producerEpoch int16
//   53  baseSequence int32     57  record count int32   61  records, compressed as attributes say
// Record: length varint, attributes int8 (0), timestampDelta varlong, offsetDelta varint,
//   key length varint + key, value length varint + value, header count varint,
//   per header: key length varint + key, value length varint + value. Varints are zigzag.

import { compressLz4Frame } from './lz4-frame.ts'
import { crc32c } from '../checksum/crc32c.ts'

export const RecordBatchCodec = { NONE: 0, LZ4: 3 } as const
export type RecordBatchCodec = (typeof RecordBatchCodec)[keyof typeof RecordBatchCodec]

export const RECORD_BATCH_HEADER_BYTES = 61
const CRC_COVERS_FROM = 21
const MAGIC = 2
const TRANSACTIONAL_ATTRIBUTE = 16

/** A records section ready for a batch header: `payload` holds `recordCount` records, compressed by `codec`. */
export interface EncodedRecords {
  codec: RecordBatchCodec
  recordCount: number
  payload: Uint8Array
}

export interface RecordHeader {
  key: Buffer
  value: Buffer
}

/** A record's key and value (or the parts its value is made of, in order); every record of a section gets the same headers. */
export interface RecordBytes {
  key: Uint8Array | null
  value: Uint8Array | readonly Uint8Array[] | null
}

function zigzagSize(value: number): number {
  let rest = value >= 0 ? value * 2 : -value * 2 - 1
  let size = 1
  while (rest >= 128) {
    rest = Math.floor(rest / 128)
    size++
  }
  return size
}

function writeZigzag(bytes: Uint8Array, at: number, value: number): number {
  let rest = value >= 0 ? value * 2 : -value * 2 - 1
  while (rest >= 128) {
    bytes[at++] = (rest % 128) | 128
    rest = Math.floor(rest / 128)
  }
  bytes[at++] = rest
  return at
}

/** Bytes of a record's value, whole or in parts (0 for null). */
export function valueLength(value: RecordBytes['value']): number {
  if (value === null) return 0
  if (value instanceof Uint8Array) return value.length
  let length = 0
  for (const part of value) length += part.length
  return length
}

function fieldSize(field: Uint8Array | readonly Uint8Array[] | null): number {
  if (field === null) return zigzagSize(-1)
  const length = valueLength(field)
  return zigzagSize(length) + length
}

/** A field's length and bytes; a field in parts is written part after part (no joined copy first). */
function writeField(bytes: Uint8Array, at: number, field: Uint8Array | readonly Uint8Array[] | null): number {
  if (field === null) return writeZigzag(bytes, at, -1)
  if (field instanceof Uint8Array) {
    at = writeZigzag(bytes, at, field.length)
    bytes.set(field, at)
    return at + field.length
  }
  at = writeZigzag(bytes, at, valueLength(field))
  for (const part of field) {
    bytes.set(part, at)
    at += part.length
  }
  return at
}

/**
 * The records section of a batch, uncompressed: record i has offsetDelta i and timestampDelta 0 (its
 * time is the batch's firstTimestamp, set when the batch is framed). One allocation, sized first.
 * With `values`, each record's value (null: none) is pushed as a view into the section, in order.
 */
export function encodeRecords(records: readonly RecordBytes[], headers: readonly RecordHeader[], values?: Array<Buffer | null>): Uint8Array {
  let headersSize = zigzagSize(headers.length)
  for (const header of headers) headersSize += fieldSize(header.key) + fieldSize(header.value)
  const bodySizes = new Array<number>(records.length)
  let total = 0
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    // attributes, timestampDelta 0, offsetDelta, key, value, headers
    const body = 1 + 1 + zigzagSize(i) + fieldSize(record.key) + fieldSize(record.value) + headersSize
    bodySizes[i] = body
    total += zigzagSize(body) + body
  }
  const bytes = new Uint8Array(total)
  let at = 0
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    at = writeZigzag(bytes, at, bodySizes[i]!)
    bytes[at++] = 0
    bytes[at++] = 0
    at = writeZigzag(bytes, at, i)
    at = writeField(bytes, at, record.key)
    const valueEnd = writeField(bytes, at, record.value)
    if (values !== undefined) {
      const length = valueLength(record.value)
      values.push(record.value === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset + valueEnd - length, length))
    }
    at = valueEnd
    at = writeZigzag(bytes, at, headers.length)
    for (const header of headers) {
      at = writeField(bytes, at, header.key)
      at = writeField(bytes, at, header.value)
    }
  }
  if (at !== total) throw new Error(`encodeRecords: wrote ${at} bytes, sized ${total}`)
  return bytes
}

/**
 * The records as a section compressed with `codec` (LZ4: a frame, the format Kafka's clients use).
 * With `values`, each record's value is pushed as a view into the uncompressed section (encodeRecords).
 */
export function encodeRecordSection(records: readonly RecordBytes[], headers: readonly RecordHeader[], codec: RecordBatchCodec, values?: Array<Buffer | null>): EncodedRecords {
  const raw = encodeRecords(records, headers, values)
  const payload = codec === RecordBatchCodec.LZ4 ? compressLz4Frame(raw) : raw
  return { codec, recordCount: records.length, payload }
}

export interface BatchProducer {
  producerId: bigint
  producerEpoch: number
  baseSequence: number
  transactional: boolean
  /** The time of every record of the batch, ms since the epoch. */
  timestampMs: number
}

/** The bytes frameRecordBatch writes for `section`. */
export function recordBatchBytes(section: EncodedRecords): number {
  return RECORD_BATCH_HEADER_BYTES + section.payload.length
}

/** The whole batch: header, CRC and the section's payload (copied once, after the header). */
export function frameRecordBatch(section: EncodedRecords, producer: BatchProducer): Buffer {
  const batch = Buffer.allocUnsafe(recordBatchBytes(section))
  frameRecordBatchInto(batch, 0, section, producer)
  return batch
}

/** frameRecordBatch written into `target` from `at` on (recordBatchBytes(section) bytes), e.g. inside a whole Produce request. */
export function frameRecordBatchInto(target: Buffer, at: number, section: EncodedRecords, producer: BatchProducer): void {
  if (section.recordCount < 1) throw new RangeError('frameRecordBatch: a batch holds at least one record')
  const length = recordBatchBytes(section)
  if (at < 0 || at + length > target.length) throw new RangeError(`frameRecordBatchInto: ${length} bytes at ${at} do not fit in ${target.length}`)
  target.writeBigInt64BE(0n, at)
  target.writeInt32BE(length - 12, at + 8)
  target.writeInt32BE(0, at + 12)
  target.writeInt8(MAGIC, at + 16)
  target.writeInt16BE(section.codec | (producer.transactional ? TRANSACTIONAL_ATTRIBUTE : 0), at + 21)
  target.writeInt32BE(section.recordCount - 1, at + 23)
  target.writeBigInt64BE(BigInt(producer.timestampMs), at + 27)
  target.writeBigInt64BE(BigInt(producer.timestampMs), at + 35)
  target.writeBigInt64BE(producer.producerId, at + 43)
  target.writeInt16BE(producer.producerEpoch, at + 51)
  target.writeInt32BE(producer.baseSequence, at + 53)
  target.writeInt32BE(section.recordCount, at + 57)
  target.set(section.payload, at + RECORD_BATCH_HEADER_BYTES)
  target.writeUInt32BE(crc32c(target.subarray(at + CRC_COVERS_FROM, at + length)), at + 17)
}
