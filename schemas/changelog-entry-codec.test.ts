// The hand-written ChangelogEntry decoder against avsc's decode of the same bytes.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { changelogEntryType } from './catalog.ts'
import { decode, encode } from './codec.ts'
import { decodeChangelogEntry } from './changelog-entry-codec.ts'
import { plain, randomBatch, sampleChangelogCommand, sampleChangelogUpsert, sampleCommand, seededRandom } from './testing/samples.ts'
import type { ChangelogEntry } from './types.ts'

const entries: fc.Arbitrary<ChangelogEntry> = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  ingestPartition: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  ingestOffset: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  pointsIn: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  command: fc.boolean(),
}).map(({ seed, ingestPartition, ingestOffset, pointsIn, command }) => {
  if (command) return { ingestPartition, ingestOffset, upsert: null, command: sampleCommand }
  const batch = randomBatch(seededRandom(seed))
  return {
    ingestPartition, ingestOffset, command: null,
    upsert: { tenant: batch.tenant, database: batch.database, measurement: batch.measurement, seriesKey: batch.seriesKey, tags: batch.tags, points: batch.points, pointsIn },
  }
})

test('decodeChangelogEntry equals avsc\'s decode on random entries', () => {
  fc.assert(fc.property(entries, entry => {
    const payload = encode(changelogEntryType, entry)
    assert.deepStrictEqual(plain(decodeChangelogEntry(payload)), plain(decode(changelogEntryType, payload)))
  }), { numRuns: 1_000 })
})

test('decodeChangelogEntry equals avsc\'s decode on the samples', () => {
  for (const entry of [sampleChangelogUpsert, sampleChangelogCommand]) {
    const payload = encode(changelogEntryType, entry)
    assert.deepStrictEqual(plain(decodeChangelogEntry(payload)), plain(decode(changelogEntryType, payload)))
  }
})

test('a truncated, padded or two-sided entry is refused with the reason', () => {
  const payload = encode(changelogEntryType, sampleChangelogUpsert)
  for (let cut = 0; cut < payload.length; cut++) {
    assert.throws(() => decodeChangelogEntry(payload.subarray(0, cut)), { code: 'SLUICE_ERR_SCHEMA_DECODE' }, `cut at ${cut}`)
  }
  assert.throws(() => decodeChangelogEntry(Buffer.concat([payload, Buffer.from([0])])), { message: /trailing data after sluice.ChangelogEntry: 1 bytes/ })
  // partition 0, offset 0, upsert null, command null
  assert.throws(() => decodeChangelogEntry(Buffer.from([0, 0, 0, 0])), { message: /holds neither upsert nor command/ })
  assert.throws(() => decodeChangelogEntry(Buffer.from([0, 0, 4])), { message: /invalid union index 2 for sluice.ChangelogEntry.upsert/ })
})
