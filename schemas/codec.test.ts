// Confluent wire framing, and decoding through a writer schema.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseAvroSchema } from './avro-types.ts'
import { compressorStateType, ingestBatchType, ingestRecordType } from './catalog.ts'
import { decode, encode, encodeFramed, frame, unframe } from './codec.ts'
import { plain, sampleBatch, sampleCompressorState } from './testing/samples.ts'

const framingError = { code: 'SLUICE_ERR_SCHEMA_FRAMING' }

describe('Confluent framing', () => {
  it('prefixes magic byte 0 and the schema id as 4 bytes big-endian', () => {
    const framed = frame(0x01020304, Buffer.from([0xaa, 0xbb]))
    assert.deepEqual([...framed], [0, 1, 2, 3, 4, 0xaa, 0xbb])
    assert.deepEqual(unframe(framed), { schemaId: 0x01020304, payload: Buffer.from([0xaa, 0xbb]) })
    assert.deepEqual(unframe(frame(7, Buffer.alloc(0))), { schemaId: 7, payload: Buffer.alloc(0) })
  })

  it('rejects a bad magic byte, a short buffer and a bad id with SLUICE_ERR_SCHEMA_FRAMING', () => {
    assert.throws(() => unframe(Buffer.from([1, 0, 0, 0, 1, 9])), { ...framingError, message: /unknown magic byte 1/ })
    assert.throws(() => unframe(Buffer.from([0, 0, 0, 1])), { ...framingError, message: /too short: 4 bytes/ })
    assert.throws(() => unframe(Buffer.alloc(0)), framingError)
    assert.throws(() => unframe(Buffer.from([0, 0x80, 0, 0, 0])), framingError)
    assert.throws(() => frame(-1, Buffer.alloc(1)), framingError)
    assert.throws(() => frame(1.5, Buffer.alloc(1)), framingError)
    assert.throws(() => frame(2 ** 31, Buffer.alloc(1)), framingError)
  })

  it('encodeFramed writes the same bytes as frame(encode()) for fast and avsc types', () => {
    assert.deepEqual(encodeFramed(ingestBatchType, 42, sampleBatch), frame(42, encode(ingestBatchType, sampleBatch)))
    const record = { batch: sampleBatch, command: null }
    assert.deepEqual(encodeFramed(ingestRecordType, 43, record), frame(43, encode(ingestRecordType, record)))
    assert.deepEqual(encodeFramed(compressorStateType, 44, sampleCompressorState), frame(44, encode(compressorStateType, sampleCompressorState)))
    const { schemaId, payload } = unframe(encodeFramed(ingestBatchType, 42, sampleBatch))
    assert.equal(schemaId, 42)
    assert.deepEqual(decode(ingestBatchType, payload), sampleBatch)
  })
})

describe('decode with a writer schema', () => {
  it('reads data of another compatible schema through Avro resolution', () => {
    // A writer that knows only a few fields of CompressorState, in another order, one of them promoted (int → long).
    const writerJson = {
      type: 'record', name: 'CompressorState', namespace: 'other.ns',
      fields: [
        { name: 'field', type: 'string' }, { name: 'seriesKey', type: 'string' }, { name: 'database', type: 'string' }, { name: 'tenant', type: 'string' },
        { name: 'algorithm', type: { type: 'enum', name: 'CompressionAlgorithm', symbols: ['DEADBAND', 'SWINGING_DOOR', 'NONE', 'QUANTILE'] } },
        { name: 'lastKept', type: { type: 'record', name: 'Sample', fields: [{ name: 'timeNs', type: 'long' }, { name: 'value', type: 'double' }] } },
        { name: 'pointsIn', type: 'int' }, { name: 'pointsKept', type: 'long' }, { name: 'maxErrorSeen', type: 'double' },
      ],
    }
    const writer = { schema: JSON.stringify(writerJson), avro: parseAvroSchema(writerJson) }
    const written = writer.avro.toBuffer({ field: 'f', seriesKey: 's', database: 'd', tenant: 't', algorithm: 'QUANTILE', lastKept: { timeNs: 5n, value: 1 }, pointsIn: 3, pointsKept: 2n, maxErrorSeen: 0 })
    assert.deepEqual(plain(decode(compressorStateType, written, writer)), {
      tenant: 't', database: 'd', seriesKey: 's', field: 'f',
      algorithm: 'NONE', // unknown symbol → the enum's default
      lastKept: { timeNs: 5n, value: 1 }, lastSeen: null, slopes: null, pointsIn: 3n, pointsKept: 2n, maxErrorSeen: 0,
    })
  })

  it('says why a writer schema cannot be read', () => {
    const writerJson = { type: 'record', name: 'CompressorState', fields: [{ name: 'tenant', type: 'long' }] }
    const writer = { schema: JSON.stringify(writerJson), avro: parseAvroSchema(writerJson) }
    assert.throws(() => decode(compressorStateType, Buffer.from([2]), writer), { code: 'SLUICE_ERR_SCHEMA_INCOMPATIBLE' })
  })

  it('uses the fast path when the writer schema is the reader\'s own', () => {
    const bytes = encode(ingestBatchType, sampleBatch)
    assert.deepEqual(decode(ingestBatchType, bytes, ingestBatchType), sampleBatch)
  })
})
