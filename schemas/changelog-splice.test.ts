// The spliced ChangelogEntry upsert against avsc's encoding of the same entry.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { changelogEntryType } from './catalog.ts'
import { encodeFramed } from './codec.ts'
import { encodeIngestRecord } from './ingest-batch-codec.ts'
import { scanIngestBatchPrefix, spliceChangelogUpsert } from './changelog-splice.ts'
import { randomBatch, sampleCommand, seededRandom } from './testing/samples.ts'

/** The value the parts make, checking the middle one is a view of the ingest record (no copy) and `bytes` their sum. */
function joined(spliced: ReturnType<typeof spliceChangelogUpsert>, ingest?: Buffer): { value: Buffer; points: number } | null {
  if (spliced === null) return null
  assert.equal(spliced.bytes, spliced.parts.reduce((sum, part) => sum + part.length, 0))
  if (ingest !== undefined) assert.equal(spliced.parts[1].buffer, ingest.buffer, 'the shared bytes are a view of the ingest record')
  return { value: Buffer.concat(spliced.parts), points: spliced.points }
}

test('the splice writes exactly avsc\'s ChangelogEntry for 500 random batches', () => {
  for (let seed = 1; seed <= 500; seed++) {
    const batch = randomBatch(seededRandom(seed))
    const ingest = encodeIngestRecord({ batch, command: null }, { schemaId: 7 })
    const partition = seed % 13
    const offset = BigInt(seed) * 1_000_003n
    const expected = encodeFramed(changelogEntryType, 9, {
      ingestPartition: partition,
      ingestOffset: offset,
      upsert: { tenant: batch.tenant, database: batch.database, measurement: batch.measurement, seriesKey: batch.seriesKey, tags: batch.tags, points: batch.points, pointsIn: batch.points.length },
      command: null,
    })
    assert.deepEqual(joined(spliceChangelogUpsert(ingest, { partition, offset, schemaId: 9 }), ingest), { value: expected, points: batch.points.length }, `seed ${seed}`)
  }
})

test('a command record has no batch prefix; corrupt input is refused with where it broke', () => {
  const command = encodeIngestRecord({ batch: null, command: sampleCommand }, { schemaId: 7 })
  assert.equal(spliceChangelogUpsert(command, { partition: 0, offset: 0n, schemaId: 9 }), null)
  const ingest = encodeIngestRecord({ batch: randomBatch(seededRandom(3)), command: null })
  const { end } = scanIngestBatchPrefix(ingest)!
  for (let cut = 1; cut < end; cut += 3) {
    assert.throws(() => scanIngestBatchPrefix(ingest.subarray(0, cut)), { code: 'SLUICE_ERR_SCHEMA_DECODE', message: /malformed sluice.IngestRecord: .* at byte \d+/ })
  }
  assert.throws(() => spliceChangelogUpsert(Buffer.from([1, 2, 3]), { partition: 0, offset: 0n, schemaId: 9 }), { message: /no Confluent header/ })
  assert.throws(() => scanIngestBatchPrefix(Buffer.from([4])), { message: /union branch 2/ })
})

test('counts and lengths past one varint byte (64 to 200 points, a 300-byte tag value and field name) splice as avsc writes them', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const random = seededRandom(seed)
    const batch = randomBatch(random, 200)
    batch.tags = [...batch.tags, { key: 'long', value: 'v'.repeat(300) }]
    if (batch.points.length > 0) batch.points[0]!.fields.push({ name: 'n'.repeat(300), value: 1 })
    const ingest = encodeIngestRecord({ batch, command: null }, { schemaId: 7 })
    const expected = encodeFramed(changelogEntryType, 9, {
      ingestPartition: 300,
      ingestOffset: 2n ** 40n,
      upsert: { tenant: batch.tenant, database: batch.database, measurement: batch.measurement, seriesKey: batch.seriesKey, tags: batch.tags, points: batch.points, pointsIn: batch.points.length },
      command: null,
    })
    assert.deepEqual(joined(spliceChangelogUpsert(ingest, { partition: 300, offset: 2n ** 40n, schemaId: 9 })), { value: expected, points: batch.points.length }, `seed ${seed}`)
  }
})
