// Unit tests for RecordBatch v2: the brief's Appendix B vectors (control markers, a kafkajs
// transactional batch), offset stamping outside the CRC, produce-path validation codes, CRC-32C.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ErrorCode, KafkaError } from '../protocol/errors.ts'
import {
  Attribute, BATCH_HEADER_BYTES, buildBatch, buildControlBatch, ControlType, decodeRecords, isControl, isTransactional,
  lastSequence, readBatchHeader, stampBatch, validateProducedBatch,
} from './batch.ts'
import { crc32c, crc32cImplementation, crc32cJs } from './crc32c.ts'

const hex = (text: string): Buffer => Buffer.from(text.replace(/[\s|]+/g, ''), 'hex')

/** Appendix B.1: COMMIT marker, baseOffset 42, pid 1000, epoch 3, coordinatorEpoch 0, ts 1700000000000. */
const COMMIT_MARKER = hex(`
  000000000000002a 00000042 00000000 02 d75fc58e | 0030 00000000 0000018bcfe56800 0000018bcfe56800
  00000000000003e8 0003 ffffffff 00000001 | 20 00 00 00 08 00000001 0c 000000000000 00`)

/** Appendix B.2: transactional data batch as kafkajs sends it, pid 1000, epoch 3, baseSeq 7. */
const TXN_BATCH = hex(`
  0000000000000000 00000048 00000000 02 bcf3b425 | 0010 00000001 0000018bcfe56800 0000018bcfe56805
  00000000000003e8 0003 00000007 00000002 | 12 00 00 00 02 6b 04 7631 00 | 18 00 0a 02 01 04 7632 02 02 68 02 78`)

const TS = 1_700_000_000_000n
const MAX_MESSAGE_BYTES = 1_048_588

test('crc32c: standard check value and ranges', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283)
  assert.equal(crc32c(Buffer.alloc(0)), 0)
  const padded = Buffer.from('xx123456789yy')
  assert.equal(crc32c(padded, 2, 11), 0xe3069283)
  // Long enough to go through the slice-by-8 loop and the byte tail.
  const long = Buffer.from('123456789'.repeat(7))
  assert.equal(crc32c(long), crc32cBitwise(long))
})

test('crc32c: the native and JavaScript implementations agree on every length and offset', () => {
  assert.equal(crc32cImplementation, 'native', '@node-rs/crc32 loads on this platform')
  const bytes = Buffer.from(Array.from({ length: 5_000 }, (_, i) => (i * 131 + (i >> 3)) & 0xff))
  for (const [start, end] of [[0, 5_000], [1, 4_999], [21, 64 + 21], [21, 63 + 21], [3, 3], [100, 4_097]] as const) {
    assert.equal(crc32c(bytes, start, end), crc32cJs(bytes, start, end), `[${start}, ${end})`)
    assert.equal(crc32cJs(bytes, start, end), crc32cBitwise(bytes.subarray(start, end)), `[${start}, ${end}) against the bitwise definition`)
  }
})

test('B.1: the COMMIT marker matches the vector byte for byte', () => {
  assert.equal(COMMIT_MARKER.length, 78)
  const built = buildControlBatch({ baseOffset: 42n, producerId: 1000n, producerEpoch: 3, type: ControlType.COMMIT, timestampMs: TS })
  assert.equal(built.toString('hex'), COMMIT_MARKER.toString('hex'))
  const header = readBatchHeader(built)
  assert.equal(header.batchLength, 66)
  assert.equal(header.crc, 0xd75fc58e)
  assert.equal(crc32c(built, 21), header.crc)
  assert.ok(isControl(header) && isTransactional(header))
})

test('B.1: the ABORT marker differs only in the key type and has CRC 236113c6', () => {
  const abort = buildControlBatch({ baseOffset: 42n, producerId: 1000n, producerEpoch: 3, type: ControlType.ABORT, timestampMs: TS })
  assert.equal(abort.length, 78)
  assert.equal(abort.readUInt32BE(17).toString(16).padStart(8, '0'), '236113c6')
  assert.equal(crc32c(abort, 21), 0x236113c6)
  const differing = [...abort.keys()].filter(i => abort[i] !== COMMIT_MARKER[i])
  // Record at 61: length, attributes, tsDelta, offsetDelta, keyLength, key version (66-67), key type (68-69).
  assert.deepEqual(differing.filter(i => i < 17 || i > 20), [69])
  assert.equal(abort.readInt16BE(68), ControlType.ABORT)
  assert.equal(COMMIT_MARKER.readInt16BE(68), ControlType.COMMIT)
  const [record] = decodeRecords(abort)
  assert.deepEqual(record!.key, hex('0000 0000'))
  assert.deepEqual(record!.value, hex('0000 00000000'))
})

test('B.1: coordinatorEpoch lands in the marker value', () => {
  const marker = buildControlBatch({
    baseOffset: 0n, producerId: 5n, producerEpoch: 1, type: ControlType.COMMIT, coordinatorEpoch: 9, timestampMs: 1n,
  })
  const [record] = decodeRecords(marker)
  assert.deepEqual(record!.value, hex('0000 00000009'))
  assert.equal(crc32c(marker, 21), readBatchHeader(marker).crc)
})

test('B.2: the transactional batch decodes to its two records', () => {
  assert.equal(TXN_BATCH.length, 84)
  const header = readBatchHeader(TXN_BATCH)
  assert.deepEqual(header, {
    baseOffset: 0n, batchLength: 72, magic: 2, crc: 0xbcf3b425, attributes: Attribute.TRANSACTIONAL, lastOffsetDelta: 1,
    baseTimestamp: TS, maxTimestamp: TS + 5n, producerId: 1000n, producerEpoch: 3, baseSequence: 7, recordCount: 2,
  })
  assert.equal(lastSequence(header), 8)
  assert.deepEqual(decodeRecords(TXN_BATCH), [
    { offset: 0n, timestamp: TS, key: Buffer.from('k'), value: Buffer.from('v1'), headers: [] },
    { offset: 1n, timestamp: TS + 5n, key: null, value: Buffer.from('v2'), headers: [{ key: 'h', value: Buffer.from('x') }] },
  ])
})

test('B.2: its CRC-32C recomputes to bcf3b425, and buildBatch reproduces it', () => {
  assert.equal(crc32c(TXN_BATCH, 21), 0xbcf3b425)
  const built = buildBatch({
    records: [
      { key: Buffer.from('k'), value: Buffer.from('v1'), timestampMs: TS },
      { key: null, value: Buffer.from('v2'), timestampMs: TS + 5n, headers: [{ key: 'h', value: Buffer.from('x') }] },
    ],
    producerId: 1000n, producerEpoch: 3, baseSequence: 7, transactional: true,
  })
  assert.equal(built.toString('hex'), TXN_BATCH.toString('hex'))
  assert.deepEqual(validateProducedBatch(TXN_BATCH, 7, MAX_MESSAGE_BYTES).producerId, 1000n)
})

test('B.2: stampBatch rewrites only bytes 0-7 and 12-15, and the CRC still validates', () => {
  const stamped = Buffer.from(TXN_BATCH)
  stampBatch(stamped, 0x0102030405060708n, 0x0a0b0c0d)
  const changed = [...stamped.keys()].filter(i => stamped[i] !== TXN_BATCH[i])
  assert.deepEqual(changed, [0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15])
  assert.equal(readBatchHeader(stamped).baseOffset, 0x0102030405060708n)
  assert.equal(stamped.readInt32BE(12), 0x0a0b0c0d)
  assert.equal(stamped.readUInt32BE(17), 0xbcf3b425)
  assert.equal(crc32c(stamped, 21), 0xbcf3b425)
  assert.equal(decodeRecords(stamped)[1]!.offset, 0x0102030405060709n)
})

/** A valid non-transactional batch to break in one way per case. */
const plainBatch = (): Buffer => buildBatch({ records: [{ key: null, value: Buffer.from('a') }, { value: Buffer.from('b') }] })

/** Edits a header field inside the CRC range and re-seals the CRC, so only the edit is wrong. */
function edited(batch: Buffer, edit: (bytes: Buffer) => void): Buffer {
  const copy = Buffer.from(batch)
  edit(copy)
  copy.writeUInt32BE(crc32c(copy, 21), 17)
  return copy
}

function rejects(records: Buffer | null, expected: number, produceVersion = 7, maxMessageBytes = MAX_MESSAGE_BYTES): void {
  assert.throws(() => validateProducedBatch(records, produceVersion, maxMessageBytes), (error: unknown) => {
    assert.ok(error instanceof KafkaError, `expected a KafkaError, got ${String(error)}`)
    assert.equal(error.code, expected, error.message)
    return true
  })
}

test('validateProducedBatch accepts well-formed batches and returns their header', () => {
  const batch = plainBatch()
  const header = validateProducedBatch(batch, 3, MAX_MESSAGE_BYTES)
  assert.equal(header.recordCount, 2)
  assert.equal(header.producerId, -1n)
  const idempotent = buildBatch({ records: [{ value: Buffer.from('a') }], producerId: 4n, producerEpoch: 0, baseSequence: 0 })
  assert.equal(validateProducedBatch(idempotent, 7, MAX_MESSAGE_BYTES).baseSequence, 0)
  const zstd = edited(batch, bytes => bytes.writeInt16BE(4, 21))
  assert.equal(validateProducedBatch(zstd, 7, MAX_MESSAGE_BYTES).attributes, 4)
})

test('validateProducedBatch: bad magic → INVALID_RECORD (87)', () => {
  rejects(edited(plainBatch(), bytes => bytes.writeInt8(1, 16)), ErrorCode.INVALID_RECORD)
  rejects(edited(plainBatch(), bytes => bytes.writeInt8(3, 16)), ErrorCode.INVALID_RECORD)
})

test('validateProducedBatch: bad CRC → CORRUPT_MESSAGE (2)', () => {
  const flippedPayload = Buffer.from(plainBatch())
  flippedPayload[flippedPayload.length - 1]! ^= 0x01
  rejects(flippedPayload, ErrorCode.CORRUPT_MESSAGE)
  const wrongCrc = Buffer.from(plainBatch())
  wrongCrc.writeUInt32BE((wrongCrc.readUInt32BE(17) + 1) >>> 0, 17)
  rejects(wrongCrc, ErrorCode.CORRUPT_MESSAGE)
})

test('validateProducedBatch: two batches concatenated → INVALID_RECORD (87)', () => {
  rejects(Buffer.concat([plainBatch(), plainBatch()]), ErrorCode.INVALID_RECORD)
})

test('validateProducedBatch: truncated batch → CORRUPT_MESSAGE (2)', () => {
  const batch = plainBatch()
  rejects(batch.subarray(0, batch.length - 1), ErrorCode.CORRUPT_MESSAGE)
  rejects(batch.subarray(0, BATCH_HEADER_BYTES), ErrorCode.CORRUPT_MESSAGE)
})

test('validateProducedBatch: null records → INVALID_RECORD (87)', () => {
  rejects(null, ErrorCode.INVALID_RECORD)
})

test('validateProducedBatch: nonzero baseOffset → INVALID_RECORD (87), with a valid CRC', () => {
  const batch = Buffer.from(plainBatch())
  stampBatch(batch, 5n)
  rejects(batch, ErrorCode.INVALID_RECORD)
})

test('validateProducedBatch: lastOffsetDelta + 1 ≠ recordCount → INVALID_RECORD (87)', () => {
  rejects(edited(plainBatch(), bytes => bytes.writeInt32BE(0, 23)), ErrorCode.INVALID_RECORD)
  rejects(edited(plainBatch(), bytes => bytes.writeInt32BE(3, 57)), ErrorCode.INVALID_RECORD)
  rejects(edited(plainBatch(), bytes => { bytes.writeInt32BE(-1, 23); bytes.writeInt32BE(0, 57) }), ErrorCode.INVALID_RECORD)
})

test('validateProducedBatch: control bit set by a client → INVALID_RECORD (87)', () => {
  rejects(edited(plainBatch(), bytes => bytes.writeInt16BE(Attribute.CONTROL, 21)), ErrorCode.INVALID_RECORD)
  const marker = Buffer.from(COMMIT_MARKER)
  stampBatch(marker, 0n)
  rejects(marker, ErrorCode.INVALID_RECORD)
})

test('validateProducedBatch: producerId ≥ 0 with baseSequence -1 → INVALID_RECORD (87)', () => {
  rejects(buildBatch({ records: [{ value: Buffer.from('a') }], producerId: 4n, producerEpoch: 0 }), ErrorCode.INVALID_RECORD)
})

test('validateProducedBatch: zstd under Produce v6 → UNSUPPORTED_COMPRESSION_TYPE (76)', () => {
  const zstd = edited(plainBatch(), bytes => bytes.writeInt16BE(4, 21))
  rejects(zstd, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 6)
  rejects(zstd, ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 3)
  rejects(edited(plainBatch(), bytes => bytes.writeInt16BE(5, 21)), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 7)
})

test('validateProducedBatch: LogAppendTime bit set by a client → INVALID_TIMESTAMP (32)', () => {
  rejects(edited(plainBatch(), bytes => bytes.writeInt16BE(Attribute.TIMESTAMP_LOG_APPEND, 21)), ErrorCode.INVALID_TIMESTAMP)
})

test('validateProducedBatch: batch over max.message.bytes → MESSAGE_TOO_LARGE (10)', () => {
  const batch = plainBatch()
  rejects(batch, ErrorCode.MESSAGE_TOO_LARGE, 7, batch.length - 1)
  assert.equal(validateProducedBatch(batch, 7, batch.length).recordCount, 2)
})

/** Bit-at-a-time CRC-32C, as an independent reference for the table-driven one. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of bytes) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}
