import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, readFileSync, writeFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogEntry, Field, Tag } from '../../schemas/index.ts'
import { type PartitionStore, type SeriesListing, openPartitionStore } from './store.ts'
import { canonicalSeriesKey, seriesId } from './series.ts'
import { isStorageError } from './errors.ts'
import { ReferenceModel, randomLog, seededRandom } from './testing/random-log.ts'
import type { StoreSettings } from './settings.ts'

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-segments-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const TAGS: Tag[] = [{ key: 'host', value: 'a' }]
const KEY = canonicalSeriesKey('cpu', TAGS)
const ID = seriesId('t', 'db', KEY)

function upsert(points: [bigint, Field[]][], tags: Tag[] = TAGS, database = 'db'): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, command: null,
    upsert: {
      tenant: 't', database, measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tags), tags,
      points: points.map(([timeNs, fields]) => ({ timeNs, fields })), pointsIn: points.length,
    },
  }
}

function command(kind: 'DELETE' | 'UPDATE_FIELDS' | 'UPDATE_TAGS', where: Partial<{ tags: { key: string; values: string[] }[]; fromNs: bigint | null; toNs: bigint | null; fieldPredicate: string | null }>, set: Field[] = []): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, upsert: null,
    command: {
      commandId: 'x', tenant: 't', database: 'db', measurement: 'cpu', kind, set, issuedAtNs: 0n,
      where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null, ...where },
    },
  }
}

function read(store: PartitionStore, id: string, field: string, fromNs?: bigint, toNs?: bigint): [bigint, unknown][] {
  const out: [bigint, unknown][] = []
  for (const chunk of store.scan({ seriesId: id, field, fromNs, toNs })) {
    for (let i = 0; i < chunk.times.length; i++) out.push([chunk.times[i]!, (chunk.values as ArrayLike<unknown>)[i]])
  }
  return out
}

async function applyAll(store: PartitionStore, entries: ChangelogEntry[], from = 0, onEach?: (offset: number) => Promise<void>): Promise<void> {
  for (let offset = from; offset < entries.length; offset++) {
    await store.apply(entries[offset]!, BigInt(offset))
    await onEach?.(offset)
  }
}

/** Every series and field of the store against the model, value by value. */
function assertMatchesModel(store: PartitionStore, model: ReferenceModel): void {
  const expected = model.snapshot()
  const listed = store.listSeries({ tenant: 't', database: 'db' })
  assert.deepEqual(listed.map((s) => s.id), [...expected.keys()].sort())
  for (const series of listed) {
    const fields = expected.get(series.id)!
    assert.deepEqual(series.fields.map((f) => f.name), [...fields.keys()].sort(), `fields of ${series.seriesKey}`)
    for (const [field, pairs] of fields) assert.deepEqual(read(store, series.id, field), pairs, `${series.seriesKey} ${field}`)
  }
}

test('upserts merge per field: the newest non-null value wins, across memtable and segments', async (t) => {
  const store = await openPartitionStore(tempDir(t), { fsync: false })
  await store.apply(upsert([[10n, [{ name: 'a', value: 1.5 }, { name: 'b', value: 1n }]]]), 0n)
  await store.flush()
  await store.apply(upsert([[10n, [{ name: 'a', value: 2.5 }]], [20n, [{ name: 'b', value: 7n }]]]), 1n)
  assert.deepEqual(read(store, ID, 'a'), [[10n, 2.5]])
  assert.deepEqual(read(store, ID, 'b'), [[10n, 1n], [20n, 7n]], 'an absent field does not erase the older value')
  await store.flush()
  await store.apply(upsert([[20n, [{ name: 'b', value: 8n }]], [20n, [{ name: 'b', value: 9n }]]]), 2n)
  assert.deepEqual(read(store, ID, 'b'), [[10n, 1n], [20n, 9n]], 'within one entry the later point wins')
  await store.compactAll()
  assert.deepEqual(read(store, ID, 'a'), [[10n, 2.5]])
  assert.deepEqual(read(store, ID, 'b'), [[10n, 1n], [20n, 9n]])
  await store.close()
})

test('re-applying an entry below appliedOffset is a no-op', async (t) => {
  const store = await openPartitionStore(tempDir(t), { fsync: false })
  await store.apply(upsert([[10n, [{ name: 'a', value: 1 }]]]), 5n)
  await store.apply(upsert([[10n, [{ name: 'a', value: 2 }]]]), 6n)
  await store.apply(upsert([[10n, [{ name: 'a', value: 1 }]]]), 5n)
  assert.equal(store.appliedOffset, 7n)
  assert.deepEqual(read(store, ID, 'a'), [[10n, 2]])
  await store.close()
})

test('a DELETE applies at its log position: later writes survive, segments are filtered at once, compaction purges', async (t) => {
  const store = await openPartitionStore(tempDir(t), { fsync: false, autoCompact: false })
  const points = Array.from({ length: 100 }, (_, i): [bigint, Field[]] => [BigInt(i), [{ name: 'a', value: i }]])
  await store.apply(upsert(points), 0n)
  await store.flush()
  await store.apply(upsert([[200n, [{ name: 'a', value: 200 }]]]), 1n)
  await store.apply(command('DELETE', { tags: [{ key: 'host', values: ['a'] }], fromNs: 10n, toNs: 250n }), 2n)
  await store.apply(upsert([[50n, [{ name: 'a', value: -50 }]]]), 3n)
  const expected = [...points.filter(([time]) => time < 10n).map(([time, f]): [bigint, unknown] => [time, f[0]!.value]), [50n, -50]]
  assert.deepEqual(read(store, ID, 'a'), expected)
  await store.flush()
  assert.deepEqual(read(store, ID, 'a'), expected)
  const before = store.stats()
  assert.ok(before.tombstones >= 1)
  await store.compactAll()
  assert.deepEqual(read(store, ID, 'a'), expected)
  assert.equal(store.stats().tombstones, 0, 'compaction purged the tombstone')
  assert.ok(store.stats().segmentBytes < before.segmentBytes)
  await store.close()
})

test('UPDATE_FIELDS sets constants where tags, time and the field predicate match', async (t) => {
  const store = await openPartitionStore(tempDir(t), { fsync: false })
  await store.apply(upsert([[1n, [{ name: 'p', value: 68 }]], [2n, [{ name: 'p', value: 70 }]], [3n, [{ name: 'p', value: 68 }, { name: 's', value: 'x' }]]]), 0n)
  await store.flush()
  await store.apply(command('UPDATE_FIELDS', { tags: [{ key: 'host', values: ['a'] }], toNs: 3n, fieldPredicate: 'p = 68' }, [{ name: 'p', value: 168 }, { name: 's', value: 'fixed' }]), 1n)
  assert.deepEqual(read(store, ID, 'p'), [[1n, 168], [2n, 70], [3n, 68]])
  assert.deepEqual(read(store, ID, 's'), [[1n, 'fixed'], [3n, 'x']])
  let warned = ''
  const other = await openPartitionStore(tempDir(t), { fsync: false, onWarning: (w) => { warned = w.kind } })
  await other.apply(command('UPDATE_FIELDS', { fieldPredicate: 'p = 1 OR p = 2' }, [{ name: 'p', value: 1 }]), 0n)
  assert.equal(warned, 'unsupported-command')
  await store.close()
  await other.close()
})

test('UPDATE_TAGS renames a series and merges into an existing one by upsert rules', async (t) => {
  const store = await openPartitionStore(tempDir(t), { fsync: false })
  const b: Tag[] = [{ key: 'host', value: 'b' }]
  await store.apply(upsert([[1n, [{ name: 'v', value: 1 }]], [2n, [{ name: 'v', value: 2 }]]]), 0n)
  await store.flush()
  await store.apply(upsert([[2n, [{ name: 'v', value: 20 }]], [3n, [{ name: 'v', value: 30 }]]], b), 1n)
  await store.apply(command('UPDATE_TAGS', { tags: [{ key: 'host', values: ['a'] }] }, [{ name: 'host', value: 'b' }]), 2n)
  await store.apply(upsert([[9n, [{ name: 'v', value: 9 }]]]), 3n)
  const idB = seriesId('t', 'db', canonicalSeriesKey('cpu', b))
  assert.deepEqual(read(store, idB, 'v'), [[1n, 1], [2n, 2], [3n, 30]])
  assert.deepEqual(read(store, ID, 'v'), [[9n, 9]], 'a write after the rename lands in the old series again')
  await store.compactAll()
  assert.deepEqual(read(store, idB, 'v'), [[1n, 1], [2n, 2], [3n, 30]])
  assert.deepEqual(store.listSeries({ tenant: 't', database: 'db', tags: [{ key: 'host', values: ['b'] }] }).map((s) => s.seriesKey), ['cpu,host=b'])
  await store.close()
})

for (const [name, settings] of [
  ['tiny memtable, tiny blocks, auto compaction', { memtableMaxBytes: 64 * 1024, blockMaxPoints: 3, compactionFanIn: 2 }],
  ['default settings', {}],
] as const) {
  test(`random logs with commands match the reference model value by value (${name})`, async (t) => {
    for (let seed = 1; seed <= 6; seed++) {
      const entries = randomLog({ entries: 400, seed })
      const model = new ReferenceModel()
      const store = await openPartitionStore(tempDir(t), { fsync: false, ...settings })
      const random = seededRandom(seed * 77)
      await applyAll(store, entries, 0, async (offset) => {
        model.apply(entries[offset]!)
        if (random() < 0.03) await store.flush()
        if (random() < 0.01) await store.compactAll()
      })
      assertMatchesModel(store, model)
      await store.close()
    }
  })
}

test('background flushes and compactions (never inside a command) match the reference model', async (t) => {
  for (const seed of [2026, 3, 11]) {
    const entries = randomLog({ entries: 900, seed, maxPoints: 40, timeSlots: 400 })
    const model = new ReferenceModel()
    const store = await openPartitionStore(tempDir(t), { fsync: false, memtableMaxBytes: 64 * 1024, blockMaxPoints: 64, compactionFanIn: 2 })
    await applyAll(store, entries, 0, async (offset) => {
      model.apply(entries[offset]!)
      if (offset % 50 === 0) await new Promise((resolve) => setImmediate(resolve))
    })
    assertMatchesModel(store, model)
    await store.close()
  }
})

test('the checksum depends on the applied entries only, not on flush and compaction timing or a reopen', async (t) => {
  const entries = randomLog({ entries: 600, seed: 42 })
  const plain = await openPartitionStore(tempDir(t), { fsync: false, autoCompact: false })
  await applyAll(plain, entries)
  const dir = tempDir(t)
  const busy = await openPartitionStore(dir, { fsync: false, memtableMaxBytes: 64 * 1024, blockMaxPoints: 4, compactionFanIn: 2 })
  const random = seededRandom(9)
  await applyAll(busy, entries, 0, async () => { if (random() < 0.05) await busy.flush() })
  assert.equal(busy.checksum(), plain.checksum())
  await busy.flush()
  await busy.close()
  const reopened = await openPartitionStore(dir, { fsync: false })
  assert.equal(reopened.durableOffset, BigInt(entries.length))
  assert.equal(reopened.checksum(), plain.checksum())
  await reopened.compactAll()
  assert.equal(reopened.checksum(), plain.checksum())
  await plain.apply(upsert([[1n, [{ name: 'a', value: 1 }]]]), BigInt(entries.length))
  assert.notEqual(reopened.checksum(), plain.checksum())
  await reopened.close()
  await plain.close()
})

test('a reopened store is at its manifest: the caller replays from durableOffset to the same state', async (t) => {
  const entries = randomLog({ entries: 300, seed: 5 })
  const dir = tempDir(t)
  const store = await openPartitionStore(dir, { fsync: false })
  await applyAll(store, entries.slice(0, 120))
  await store.flush()
  await applyAll(store, entries, 120)
  await store.close()
  const reopened = await openPartitionStore(dir, { fsync: false })
  assert.equal(reopened.durableOffset, 120n)
  await applyAll(reopened, entries, Number(reopened.durableOffset))
  const reference = await openPartitionStore(tempDir(t), { fsync: false })
  await applyAll(reference, entries)
  assert.equal(reopened.checksum(), reference.checksum())
  await reopened.close()
  await reference.close()
})

test('a flipped byte in a block is reported as corruption naming the file and block, never served', async (t) => {
  const dir = tempDir(t)
  const store = await openPartitionStore(dir, { fsync: false, blockMaxPoints: 100 })
  const points = Array.from({ length: 1000 }, (_, i): [bigint, Field[]] => [BigInt(i) * 1000n, [{ name: 'a', value: Math.sin(i) }]])
  await store.apply(upsert(points), 0n)
  await store.flush()
  await store.close()
  const [file] = readdirSync(dir).filter((f) => f.endsWith('.seg'))
  const bytes = readFileSync(join(dir, file!))
  bytes[16 + 1500]! ^= 0x04
  writeFileSync(join(dir, file!), bytes)
  const reopened = await openPartitionStore(dir, { fsync: false })
  assert.throws(() => read(reopened, ID, 'a'), (error: unknown) => {
    assert.ok(isStorageError(error, 'SLUICE_ERR_STORAGE_CORRUPT'))
    assert.match(error.message, new RegExp(`segment ${file} block \\d+ \\(series "cpu,host=a", field "a"`))
    assert.equal(error.context.file, file)
    assert.equal(typeof error.context.block, 'number')
    return true
  })
  assert.deepEqual(read(reopened, ID, 'a', 0n, 100_000n).length, 100, 'blocks before the damage still read')
  await reopened.close()
  const index = readFileSync(join(dir, file!))
  index[index.length - 40]! ^= 0x01
  writeFileSync(join(dir, file!), index)
  await assert.rejects(openPartitionStore(dir, { fsync: false }), /index checksum mismatch/)
})

test('retention: reads drop expired points at once, whole expired segments are deleted', async (t) => {
  let nowNs = 1_000_000n
  const dir = tempDir(t)
  const settings: Partial<StoreSettings> = { fsync: false, autoCompact: false, retentionNs: { db: 100_000n }, clockNs: () => nowNs }
  const store = await openPartitionStore(dir, settings)
  await store.apply(upsert([[950_000n, [{ name: 'a', value: 1 }]], [960_000n, [{ name: 'a', value: 2 }]]]), 0n)
  await store.apply(upsert([[950_000n, [{ name: 'a', value: 3 }]]], TAGS, 'forever'), 1n)
  await store.flush()
  await store.apply(upsert([[990_000n, [{ name: 'a', value: 4 }]]]), 2n)
  await store.flush()
  assert.equal(read(store, ID, 'a').length, 3)
  nowNs = 1_055_000n
  assert.deepEqual(read(store, ID, 'a'), [[960_000n, 2], [990_000n, 4]])
  nowNs = 1_080_000n
  assert.deepEqual(read(store, ID, 'a'), [[990_000n, 4]])
  assert.equal(await store.dropExpiredSegments(), 0, 'the first segment also holds a database without TTL')
  await store.apply(upsert([[999_000n, [{ name: 'a', value: 5 }]]]), 3n)
  await store.compactAll()
  nowNs = 1_095_000n
  assert.equal(await store.dropExpiredSegments(), 0)
  nowNs = 2_000_000n
  assert.deepEqual(read(store, ID, 'a'), [])
  const forever = seriesId('t', 'forever', KEY)
  assert.deepEqual(read(store, forever, 'a'), [[950_000n, 3]])
  assert.equal(store.listSeries({ tenant: 't', database: 'db' }).length, 0)
  await store.close()
  const expiring = await openPartitionStore(tempDir(t), { ...settings })
  nowNs = 1_000_000n
  await expiring.apply(upsert([[950_000n, [{ name: 'a', value: 1 }]]]), 0n)
  await expiring.flush()
  nowNs = 1_060_000n
  assert.equal(await expiring.dropExpiredSegments(), 1)
  assert.equal(expiring.segmentFiles().length, 0)
  await expiring.close()
})

test('pre-aggregates come from clean blocks only and add up with the rest to the scanned truth', async (t) => {
  const store = await openPartitionStore(tempDir(t), { fsync: false, blockMaxPoints: 50, autoCompact: false })
  const points = Array.from({ length: 500 }, (_, i): [bigint, Field[]] => [BigInt(i), [{ name: 'a', value: (i % 17) - 3 }]])
  await store.apply(upsert(points), 0n)
  await store.flush()
  await store.apply(command('DELETE', { fromNs: 120n, toNs: 130n }), 1n)
  await store.apply(upsert([[310n, [{ name: 'a', value: 1000 }]]]), 2n)
  const plan = store.aggregate({ seriesId: ID, field: 'a', fromNs: 25n, toNs: 480n })
  const fromBlocks = plan.blocks.reduce((acc, b) => ({ count: acc.count + b.count, sum: acc.sum + b.sum }), { count: 0, sum: 0 })
  let restCount = 0
  let restSum = 0
  for (const chunk of plan.rest) { restCount += chunk.times.length; for (const v of chunk.values as Float64Array) restSum += v }
  const truth = read(store, ID, 'a', 25n, 480n)
  assert.equal(fromBlocks.count + restCount, truth.length)
  assert.equal(fromBlocks.sum + restSum, truth.reduce((s, [, v]) => s + (v as number), 0))
  assert.equal(plan.blocks.length, 9 - 3, 'blocks 0 (cut), 100-149 (tombstone), 300-349 (newer data) and 450-499 (cut) are scanned')
  await store.close()
})

test('memory stays bounded by memtableMaxBytes whatever the data size', async (t) => {
  const limit = 256 * 1024
  const store = await openPartitionStore(tempDir(t), { fsync: false, memtableMaxBytes: limit, compactionFanIn: 4 })
  let peak = 0
  for (let n = 0; n < 400; n++) {
    const points = Array.from({ length: 500 }, (_, i): [bigint, Field[]] => [BigInt(n * 500 + i) * 1_000_000_000n, [{ name: 'a', value: i }, { name: 'b', value: BigInt(i) }]])
    await store.apply(upsert(points, [{ key: 'host', value: `h${n % 7}` }]), BigInt(n))
    const stats = store.stats()
    peak = Math.max(peak, stats.memtableBytes + stats.frozenMemtableBytes)
  }
  await store.flush()
  await store.compact()
  assert.ok(peak < 2 * limit + 64 * 1024, `peak memtable bytes ${peak}`)
  assert.ok(store.stats().segments < 12, `segments ${store.stats().segments} (tiered compaction keeps them logarithmic)`)
  await store.close()
})

test('a scan in progress keeps reading the segments a compaction replaces and deletes', async (t) => {
  const dir = tempDir(t)
  const store = await openPartitionStore(dir, { fsync: false, autoCompact: false, blockMaxPoints: 10, scanChunkMaxPoints: 10 })
  for (let n = 0; n < 4; n++) {
    const points = Array.from({ length: 50 }, (_, i): [bigint, Field[]] => [BigInt(n * 50 + i), [{ name: 'a', value: n * 50 + i }]])
    await store.apply(upsert(points), BigInt(n))
    await store.flush()
  }
  const before = store.segmentFiles()
  const scan = store.scan({ seriesId: ID, field: 'a' })
  const first = scan.next()
  assert.equal(first.done, false)
  await store.compactAll()
  assert.equal(readdirSync(dir).filter((f) => before.includes(f)).length, 0, 'the old files are gone from the directory')
  let count = (first.value as { times: BigInt64Array }).times.length
  for (const chunk of scan) count += chunk.times.length
  assert.equal(count, 200)
  assert.equal(read(store, ID, 'a').length, 200)
  await store.close()
})

test('a listing kept between applied entries changes with the next entry, and a time to live keeps none', async (t) => {
  let nowNs = 1_000_000n
  const store = await openPartitionStore(tempDir(t), { fsync: false, retentionNs: { expiring: 100_000n }, clockNs: () => nowNs })
  const list = (database = 'db'): string[] => store.listSeries({ tenant: 't', database }).flatMap((s) => s.fields.map((f) => `${s.seriesKey}.${f.name}`))
  await store.apply(upsert([[1n, [{ name: 'v', value: 1 }]]]), 0n)
  assert.deepEqual(list(), ['cpu,host=a.v'])
  const listed = store.listSeries({ tenant: 't', database: 'db' })
  assert.equal(store.listSeries({ tenant: 't', database: 'db' }), listed, 'the kept listing is answered as the same array')
  assert.throws(() => (listed as SeriesListing[]).pop(), TypeError, 'which is frozen: no caller can change what the next one gets')
  assert.deepEqual(list(), ['cpu,host=a.v'])
  await store.apply(upsert([[2n, [{ name: 'w', value: 2 }]]], [{ key: 'host', value: 'b' }]), 1n)
  assert.deepEqual(list(), ['cpu,host=a.v', 'cpu,host=b.w'], 'a new series and field after the first listing')
  await store.apply(command('DELETE', { tags: [{ key: 'host', values: ['a'] }] }), 2n)
  assert.deepEqual(list(), ['cpu,host=b.w'], 'a DELETE hides what the kept listing showed')
  await store.flush()
  await store.compactAll()
  assert.deepEqual(list(), ['cpu,host=b.w'], 'flushes and compactions change nothing visible')
  await store.apply(upsert([[950_000n, [{ name: 'x', value: 3 }]]], TAGS, 'expiring'), 3n)
  assert.deepEqual(list('expiring'), ['cpu,host=a.x'])
  nowNs = 1_100_000n
  assert.deepEqual(list('expiring'), [], 'under a time to live the clock alone hides a point')
  await store.close()
})
