import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Column } from './encoding/block.ts'
import { openReadView, pinReadView, pinnedSegments } from './read-view.ts'
import { type PartitionStore, type SeriesListing, openPartitionStore } from './store.ts'
import { randomLog } from './testing/random-log.ts'

// A read view is one instant of a store: opened as a store (here in the same thread, as a worker
// would), it scans and plans aggregates exactly as the store did at that instant, whatever the store
// applies, flushes and compacts afterwards.

const list = (store: PartitionStore): readonly SeriesListing[] => store.listSeries({ tenant: 't', database: 'db' })

/** Every (series, field) scan and aggregate plan of a store, as plain data. */
function reads(store: PartitionStore, listing: readonly SeriesListing[] = list(store)): unknown[] {
  const out: unknown[] = []
  const plain = (columns: Iterable<Column>): unknown[] => [...columns].map((c) => [c.type, [...c.times], Array.from(c.values as ArrayLike<unknown>)])
  for (const series of listing) {
    for (const { name } of series.fields) {
      out.push(series.id, name, plain(store.scan({ seriesId: series.id, field: name })))
      const range = { seriesId: series.id, field: name, fromNs: 1_700_000_000_000_000_000n + 5_000_000_000n, toNs: 1_700_000_000_000_000_000n + 300_000_000_000n }
      const plan = store.aggregate(range)
      out.push(plan.blocks.map((b) => [b.minTimeNs, b.maxTimeNs, b.count, b.sum]), plain(plan.rest))
    }
  }
  return out
}

test('a read view reads what its store read at the instant it was taken', { skip: process.platform !== 'linux' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-read-view-'))
  const store = await openPartitionStore(dir, { fsync: false, autoCompact: false, blockMaxPoints: 16 })
  t.after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  const log = randomLog({ entries: 600, seed: 11, timeSlots: 400, maxPoints: 20 })
  for (let n = 0; n < 500; n++) {
    await store.apply(log[n]!, BigInt(n))
    if (n % 120 === 119) await store.flush()
    if (n === 359) await store.compactAll()
  }
  const listing = list(store)
  const expected = reads(store, listing)
  const series = listing.map((s) => ({ id: s.id, fields: null }))
  const pinned = pinReadView(store, { series, range: { fromNs: null, toNs: null } })
  assert.equal(pinnedSegments(), store.segmentFiles().length)
  // The store moves on: more entries, a flush, and a compaction that unlinks every file the view pinned.
  for (let n = 500; n < 600; n++) await store.apply(log[n]!, BigInt(n))
  await store.compactAll()
  assert.notDeepStrictEqual(reads(store, listing), expected, 'the store changed')
  const view = openReadView(structuredClone(pinned.view))
  assert.deepStrictEqual(reads(view, listing), expected)
  pinned.release()
  pinned.release()
  assert.equal(pinnedSegments(), 0, 'release closes every pin, once')
  // A view taken now reads the new state through the same thread's reader cache, old readers dropped.
  const now = list(store)
  const again = pinReadView(store, { series: now.map((s) => ({ id: s.id, fields: null })), range: { fromNs: null, toNs: null } })
  t.after(() => again.release())
  assert.deepStrictEqual(reads(openReadView(structuredClone(again.view)), now), reads(store, now))
})
