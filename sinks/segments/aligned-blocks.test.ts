// Hour-aligned blocks and partial decoding through the whole store: what a scan returns never
// depends on how blocks were cut or how much of a block was decoded, compaction keeps the cut rule,
// and segment files of format 1 (before aligned blocks) read exactly as they did.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type PartitionStore, openPartitionStore } from './store.ts'
import { SegmentReader } from './segment-file.ts'
import { alignedEndNs } from './block-cuts.ts'
import { ReferenceModel, randomLog, seededRandom } from './testing/random-log.ts'
import { format1Entries } from './testing/format-1-data.ts'

const SECOND = 1_000_000_000n

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-aligned-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function read(store: PartitionStore, id: string, field: string, fromNs: bigint | null, toNs: bigint | null): [bigint, unknown][] {
  const out: [bigint, unknown][] = []
  for (const chunk of store.scan({ seriesId: id, field, fromNs, toNs })) {
    for (let i = 0; i < chunk.times.length; i++) out.push([chunk.times[i]!, (chunk.values as ArrayLike<unknown>)[i]])
  }
  return out
}

interface Limits { maxPoints: number; minPoints: number; alignNs: bigint }

/** Every (series, field) of the file cut by the rule of block-cuts.ts, checked on the decoded times. */
function assertCutByRule(path: string, limits: Limits): number {
  const reader = SegmentReader.open(path)
  try {
    assert.equal(reader.formatVersion, 2)
    for (const blocks of reader.blockLists()) {
      for (const [i, block] of blocks.entries()) {
        const times = reader.readBlock(block, { timesOnly: true }).times
        assert.ok(block.count <= limits.maxPoints)
        for (let k = Math.min(limits.minPoints, limits.maxPoints); k < times.length; k++) {
          assert.equal(alignedEndNs(times[k]!, limits.alignNs), alignedEndNs(times[k - 1]!, limits.alignNs), `block ${block.ordinal} crosses a boundary after ${k} points`)
        }
        const next = blocks[i + 1]
        if (next === undefined || block.count === limits.maxPoints) continue
        assert.ok(block.count >= limits.minPoints, `block ${block.ordinal} ends early with ${block.count} points`)
        assert.ok(next.minTimeNs >= alignedEndNs(block.maxTimeNs, limits.alignNs), `block ${block.ordinal} ends inside a bucket`)
      }
    }
    return reader.blocks.length
  } finally {
    reader.close()
  }
}

test('random logs with commands, aligned blocks: full scans and random time ranges match the model, and compaction keeps the cut rule', async (t) => {
  const limits: Limits = { maxPoints: 16, minPoints: 3, alignNs: 7n * SECOND }
  for (const seed of [5, 6, 7]) {
    const entries = randomLog({ entries: 500, seed, timeSlots: 400, maxPoints: 30 })
    const model = new ReferenceModel()
    const dir = tempDir(t)
    const store = await openPartitionStore(dir, {
      fsync: false, memtableMaxBytes: 64 * 1024, compactionFanIn: 2, blockMaxPoints: limits.maxPoints, blockMinPoints: limits.minPoints, blockAlignNs: limits.alignNs,
    })
    const random = seededRandom(seed * 31)
    const check = (): void => {
      for (const [id, fields] of model.snapshot()) {
        for (const [field, pairs] of fields) {
          assert.deepEqual(read(store, id, field, null, null), pairs)
          for (let r = 0; r < 4; r++) {
            const fromNs = random() < 0.2 ? null : pairs[Math.floor(random() * pairs.length)]![0] + BigInt(Math.floor(random() * 3) - 1)
            const toNs = random() < 0.2 ? null : pairs[Math.floor(random() * pairs.length)]![0] + BigInt(Math.floor(random() * 3) - 1)
            const expected = pairs.filter(([time]) => (fromNs === null || time >= fromNs) && (toNs === null || time < toNs))
            assert.deepEqual(read(store, id, field, fromNs, toNs), expected, `seed ${seed}, ${field}, [${fromNs}, ${toNs})`)
          }
        }
      }
    }
    for (let offset = 0; offset < entries.length; offset++) {
      await store.apply(entries[offset]!, BigInt(offset))
      model.apply(entries[offset]!)
      if (random() < 0.03) await store.flush()
      if (random() < 0.01) { await store.compactAll(); check() }
    }
    check()
    await store.compactAll()
    check()
    const [file] = store.segmentFiles()
    assert.ok(assertCutByRule(join(dir, file!), limits) > 0)
    await store.close()
  }
})

test('segment files of format 1 read exactly as before, and compaction rewrites them in format 2 on the hour', async (t) => {
  const dir = tempDir(t)
  cpSync(join(import.meta.dirname, 'testing', 'format-1'), join(dir, 'old'), { recursive: true })
  const old = await openPartitionStore(join(dir, 'old'), { fsync: false, autoCompact: false })
  const [file] = old.segmentFiles()
  const reader = SegmentReader.open(join(dir, 'old', file!))
  assert.equal(reader.formatVersion, 1)
  reader.close()
  // The checksum the build of format 1 reported for this store when it wrote it.
  assert.equal(old.checksum(), '418e79a25ad9b256edb8ccce0910aa9220933077612ab378bba8c8c977ae8030')

  const fresh = await openPartitionStore(join(dir, 'fresh'), { fsync: false, autoCompact: false })
  let offset = 0n
  for (const entry of format1Entries()) await fresh.apply(entry, offset++)
  await fresh.compactAll()
  assert.equal(fresh.checksum(), old.checksum())
  const random = seededRandom(1)
  const start = 1_451_606_400_000_000_000n
  for (const series of old.listSeries({ tenant: 't', database: 'db' })) {
    for (const { name } of series.fields) {
      for (let r = 0; r < 10; r++) {
        const fromNs = start + BigInt(Math.floor(random() * 200 * 60)) * SECOND
        const toNs = fromNs + BigInt(Math.floor(random() * 100 * 60)) * SECOND
        assert.deepEqual(read(old, series.id, name, fromNs, toNs), read(fresh, series.id, name, fromNs, toNs))
      }
    }
  }

  await old.compactAll()
  assert.equal(old.checksum(), fresh.checksum())
  // One point a minute: 128 points, then the next hour boundary ends the block.
  assertCutByRule(join(dir, 'old', old.segmentFiles()[0]!), { maxPoints: 8192, minPoints: 128, alignNs: 3600n * SECOND })
  await old.close()
  await fresh.close()
})

test('storage settings for alignment are checked at open', async (t) => {
  const dir = tempDir(t)
  await assert.rejects(openPartitionStore(dir, { blockAlignNs: -1n }), /blockAlignNs must be a bigint ≥ 0/)
  await assert.rejects(openPartitionStore(dir, { blockMaxPoints: 100, blockMinPoints: 200 }), /blockMinPoints \(200\) must not exceed blockMaxPoints \(100\)/)
  const store = await openPartitionStore(dir, { blockMaxPoints: 100, fsync: false })
  await store.close()
})
