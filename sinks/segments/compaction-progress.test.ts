// A running compaction reports its progress in stats(): what the member record and the console show.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPartitionStore } from './store.ts'
import { canonicalSeriesKey } from './series.ts'
import type { ChangelogEntry } from '../../schemas/index.ts'

/** Upserts of `series` series, a few points each, in `rounds` rounds (one flush per round: several segments). */
function upserts(series: number, round: number): ChangelogEntry[] {
  return Array.from({ length: series }, (_, s) => {
    const tags = [{ key: 'host', value: `h${String(s).padStart(3, '0')}` }]
    const points = Array.from({ length: 5 }, (_, i) => ({ timeNs: 1_700_000_000_000_000_000n + BigInt(round * 5 + i) * 1_000_000_000n, fields: [{ name: 'v', value: round * 5 + i + 0.5 }] }))
    return { ingestPartition: 0, ingestOffset: 0n, command: null, upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tags), tags, points, pointsIn: points.length } }
  })
}

test('stats().compacting counts the series merged while a compaction runs, and is null otherwise', async () => {
  const store = await openPartitionStore(mkdtempSync(join(tmpdir(), 'sluice-compacting-')), { partition: 0, fsync: false, autoCompact: false })
  let offset = 0n
  for (let round = 0; round < 3; round++) {
    for (const entry of upserts(60, round)) await store.apply(entry, offset++)
    await store.flush()
  }
  assert.equal(store.stats().compacting, null)
  const segments = store.stats().segments
  assert.ok(segments >= 2, `${segments} segments to merge`)

  const seen: Array<{ series: number; seriesDone: number; inputs: number }> = []
  let running = true
  const watching = (async () => {
    while (running) {
      const now = store.stats().compacting
      if (now) seen.push({ series: now.series, seriesDone: now.seriesDone, inputs: now.inputs })
      await new Promise(resolve => setImmediate(resolve))
    }
  })()
  await store.compactAll()
  running = false
  await watching

  assert.ok(seen.length > 0, 'the compaction was seen running')
  const series = seen[0]!.series
  assert.equal(series, 60)
  assert.ok(seen.every(s => s.series === series && s.inputs === segments && s.seriesDone >= 0 && s.seriesDone <= series), JSON.stringify({ segments, seen: seen.slice(0, 3) }))
  assert.ok(seen.at(-1)!.seriesDone > seen[0]!.seriesDone, 'progress moves')
  assert.equal(store.stats().compacting, null, 'none once done')
  assert.equal(store.stats().segments, 1)
  await store.close()
})
