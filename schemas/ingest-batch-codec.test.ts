// The hand-written IngestBatch codec against avsc: the same bytes for random batches, the same values
// back, the streaming encoder's count checks, and clear errors on corrupt input.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AvroWriter } from './avro-binary.ts'
import { ingestBatchType, ingestCommandType, ingestRecordType } from './catalog.ts'
import { decodeIngestBatch, decodeIngestRecord, encodeIngestBatch, encodeIngestRecord, IngestBatchEncoder } from './ingest-batch-codec.ts'
import { plain, randomBatch, sampleBatch, sampleCommand, seededRandom } from './testing/samples.ts'
import type { IngestBatch } from './types.ts'

/** The four strings an IngestBatch starts with. */
function headerBytes(batch: IngestBatch): Buffer {
  const writer = new AvroWriter()
  for (const text of [batch.tenant, batch.database, batch.measurement, batch.seriesKey]) writer.string(text)
  return writer.toBuffer()
}

const decodeError = { code: 'SLUICE_ERR_SCHEMA_DECODE' }
const encodeError = { code: 'SLUICE_ERR_SCHEMA_ENCODE' }

describe('IngestBatch fast codec', () => {
  it('writes exactly avsc\'s bytes and reads back the same values (500 random batches)', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const batch = randomBatch(seededRandom(seed))
      const bytes = encodeIngestBatch(batch)
      assert.deepEqual(bytes, ingestBatchType.avro.toBuffer(batch), `seed ${seed}: bytes differ from avsc`)
      assert.deepEqual(decodeIngestBatch(bytes), batch, `seed ${seed}: fast decode`)
      assert.deepEqual(plain(ingestBatchType.avro.fromBuffer(bytes)), plain(batch), `seed ${seed}: avsc decode`)
    }
  })

  it('writes the IngestRecord wrapper around a batch or a command as avsc does', () => {
    const asBatch = encodeIngestRecord({ batch: sampleBatch, command: null })
    assert.deepEqual(asBatch, ingestRecordType.avro.toBuffer({ batch: sampleBatch, command: null }))
    assert.deepEqual(decodeIngestRecord(asBatch), { batch: sampleBatch, command: null })
    const asCommand = encodeIngestRecord({ batch: null, command: sampleCommand })
    assert.deepEqual(asCommand, ingestRecordType.avro.toBuffer({ batch: null, command: sampleCommand }))
    assert.deepEqual(plain(decodeIngestRecord(asCommand)), plain({ batch: null, command: sampleCommand }))
    assert.deepEqual([asBatch[0], asBatch[asBatch.length - 1]], [2, 0]) // batch: branch 1; command: null
    assert.deepEqual([asCommand[0], asCommand[1]], [0, 2])
  })

  it('holds exactly one of batch and command', () => {
    assert.throws(() => encodeIngestRecord({ batch: null, command: null } as never), { code: 'SLUICE_ERR_SCHEMA_ENCODE', message: /neither/ })
    assert.throws(() => encodeIngestRecord({ batch: sampleBatch, command: sampleCommand } as never), { code: 'SLUICE_ERR_SCHEMA_ENCODE', message: /both/ })
    assert.throws(() => decodeIngestRecord(Buffer.from([0, 0])), { code: 'SLUICE_ERR_SCHEMA_DECODE', message: /neither/ })
    const both = ingestRecordType.avro.toBuffer({ batch: sampleBatch, command: sampleCommand })
    assert.throws(() => decodeIngestRecord(both), { code: 'SLUICE_ERR_SCHEMA_DECODE', message: /both/ })
  })

  it('reads arrays written in blocks with byte sizes (negative counts), as Java writers may', () => {
    // tags as one block of -1 item with its byte size (4), then the 0 terminator.
    const batch: IngestBatch = { ...sampleBatch, tags: [{ key: 'k', value: 'v' }], points: [] }
    const header = headerBytes(batch)
    const tail = encodeIngestBatch({ ...batch, tags: [] }).subarray(header.length + 1)
    const blocked = Buffer.concat([header, Buffer.from([0x01, 0x08, 0x02, 0x6b, 0x02, 0x76, 0x00]), tail])
    assert.deepEqual(decodeIngestBatch(blocked), batch)
  })

  it('decodes many distinct names right despite the intern table\'s collisions', () => {
    const names = Array.from({ length: 5_000 }, (_, i) => `field_${i.toString(36)}`)
    const batch: IngestBatch = { ...sampleBatch, points: [{ timeNs: 1n, fields: names.map((name, i) => ({ name, value: i })) }] }
    const bytes = encodeIngestBatch(batch)
    for (let round = 0; round < 2; round++) assert.deepEqual(decodeIngestBatch(bytes), batch)
  })

  it('streams a batch from columns with declared counts', () => {
    const encoder = new IngestBatchEncoder()
    encoder.begin(sampleBatch, 2)
    encoder.point(10n, 2)
    encoder.double('a', 1.5)
    encoder.unsigned('b', 7n)
    encoder.point(20n, 0)
    const bytes = encoder.end({ source: null, receivedAtNs: 5n, idempotencyKey: null })
    const expected: IngestBatch = {
      ...sampleBatch,
      points: [{ timeNs: 10n, fields: [{ name: 'a', value: 1.5 }, { name: 'b', value: { unsigned: 7n } }] }, { timeNs: 20n, fields: [] }],
      source: null,
      receivedAtNs: 5n,
      idempotencyKey: null,
    }
    assert.deepEqual(bytes, ingestBatchType.avro.toBuffer(expected))

    encoder.begin(sampleBatch, 1)
    assert.throws(() => encoder.end(sampleBatch), /1 of 1 declared points missing/)
    encoder.begin(sampleBatch, 2)
    encoder.point(1n, 1)
    assert.throws(() => encoder.point(2n, 1), /fields of the previous point missing/)
    encoder.begin(sampleBatch, 1)
    encoder.point(1n, 1)
    encoder.boolean('x', true)
    assert.throws(() => encoder.boolean('y', true), /more fields than declared/)
    assert.throws(() => new IngestBatchEncoder().point(1n, 0), /before begin/)
  })

  it('writes each field\'s own name and type when points change their fields\' order, names and types', () => {
    const points = [
      { timeNs: 1n, fields: [{ name: 'a', value: 1 }, { name: 'b', value: 2n }] },
      { timeNs: 2n, fields: [{ name: 'a', value: 1 }, { name: 'b', value: 2n }] },
      { timeNs: 3n, fields: [{ name: 'b', value: 2n }, { name: 'a', value: 1 }] },
      { timeNs: 4n, fields: [{ name: 'a', value: 'text' }, { name: 'b', value: true }, { name: 'c', value: { unsigned: 5n } }] },
      { timeNs: 5n, fields: [{ name: 'a', value: 7n }] },
      { timeNs: 6n, fields: [{ name: 'a', value: 1.5 }, { name: 'b', value: 2n }, { name: 'c', value: { unsigned: 5n } }] },
    ]
    const batch: IngestBatch = { ...sampleBatch, points }
    assert.deepEqual(encodeIngestBatch(batch), ingestBatchType.avro.toBuffer(batch))
    assert.deepEqual(decodeIngestBatch(encodeIngestBatch(batch)), batch)
  })

  it('writes times and integers given as 32-bit words exactly as their bigints', () => {
    const edges = [0n, 1n, -1n, 63n, -64n, 64n, 127n, 128n, (1n << 31n) - 1n, -(1n << 31n), 1n << 32n, -(1n << 32n) - 1n,
      1_451_606_400_000_000_000n, -1_451_606_400_000_000_000n, (1n << 63n) - 1n, -(1n << 63n)]
    const words = new Uint32Array(2)
    const asWords = new BigInt64Array(words.buffer)
    const fromBigints = new IngestBatchEncoder()
    const fromWords = new IngestBatchEncoder()
    for (const value of edges) {
      asWords[0] = value
      const unsigned = BigInt.asUintN(64, value)
      fromBigints.begin(sampleBatch, 1)
      fromBigints.point(value, 2)
      fromBigints.integer('i', value)
      fromBigints.unsigned('u', unsigned)
      fromWords.begin(sampleBatch, 1)
      fromWords.pointWords(words[0]!, words[1]!, 2)
      fromWords.integerWords('i', words[0]!, words[1]!)
      fromWords.unsignedWords('u', words[0]!, words[1]!)
      const trailer = { source: 'http', receivedAtNs: 1n, idempotencyKey: null }
      const bytes = fromWords.end(trailer)
      assert.deepEqual(bytes, fromBigints.end(trailer), `value ${value}`)
      assert.deepEqual(decodeIngestBatch(bytes).points, [{ timeNs: value, fields: [{ name: 'i', value }, { name: 'u', value: { unsigned } }] }], `value ${value}`)
    }
  })

  it('rejects values the schema cannot hold', () => {
    const withValue = (value: unknown): IngestBatch => ({ ...sampleBatch, points: [{ timeNs: 1n, fields: [{ name: 'f', value: value as never }] }] })
    assert.throws(() => encodeIngestBatch(withValue(2n ** 63n)), encodeError)
    assert.throws(() => encodeIngestBatch(withValue({ unsigned: -1n })), encodeError)
    assert.throws(() => encodeIngestBatch(withValue({ unsigned: 2n ** 64n })), encodeError)
    assert.throws(() => encodeIngestBatch(withValue(null)), encodeError)
    assert.throws(() => encodeIngestBatch(withValue(undefined)), encodeError)
    assert.throws(() => encodeIngestBatch({ ...sampleBatch, points: [{ timeNs: 1 as never, fields: [] }] }), /points.0.timeNs/)
    assert.throws(() => encodeIngestBatch({ ...sampleBatch, tenant: 5 as never }), /tenant/)
    assert.throws(() => encodeIngestBatch({ ...sampleBatch, source: undefined as never }), /source/)
    assert.throws(() => encodeIngestBatch({ ...sampleBatch, receivedAtNs: 1 as never }), /receivedAtNs/)
    // The shared encoder recovers after an error.
    assert.deepEqual(encodeIngestBatch(sampleBatch), ingestBatchType.avro.toBuffer(sampleBatch))
  })

  it('rejects corrupt input with SLUICE_ERR_SCHEMA_DECODE, never a huge allocation', () => {
    const bytes = encodeIngestBatch(sampleBatch)
    for (let length = 0; length < bytes.length; length++) {
      assert.throws(() => decodeIngestBatch(bytes.subarray(0, length)), decodeError, `truncated to ${length} bytes`)
    }
    assert.throws(() => decodeIngestBatch(Buffer.concat([bytes, Buffer.from([0])])), /trailing data/)
    assert.throws(() => decodeIngestRecord(Buffer.from([4])), /invalid union index 2 for sluice.IngestRecord.batch/)
    // A tag block count of 2^31 - 1 with a few bytes left.
    const huge = Buffer.concat([headerBytes(sampleBatch), Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f, 0, 0])])
    assert.throws(() => decodeIngestBatch(huge), /block of 2147483647 items/)
    assert.throws(() => decodeIngestBatch(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), /more than 32 bits/)
  })

  it('decodes the command through avsc and still checks for trailing bytes', () => {
    const command = encodeIngestRecord({ batch: null, command: sampleCommand })
    assert.throws(() => decodeIngestRecord(Buffer.concat([command, Buffer.from([1])])), /trailing data/)
    assert.throws(() => decodeIngestRecord(command.subarray(0, command.length - 3)), decodeError)
    assert.deepEqual(plain(ingestCommandType.avro.fromBuffer(command.subarray(2))), plain(sampleCommand))
  })
})
