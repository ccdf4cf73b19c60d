// PartitionStore.applyColumns (an entry decoded into ChangelogColumns, the replica's path) against
// PartitionStore.apply (a ChangelogEntry object) on the same logs: the same store afterwards, the
// same warnings, through flushes, compactions, commands and field type conflicts.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ChangelogColumns, changelogEntryType, decodeChangelogColumns, encode, type ChangelogEntry, type FieldValue } from '../../schemas/index.ts'
import { type PartitionStore, openPartitionStore } from './store.ts'
import { randomLog, seededRandom } from './testing/random-log.ts'
import type { StoreSettings, StoreWarning } from './settings.ts'

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-apply-columns-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function storePair(t: { after: (fn: () => void) => void }, settings: Partial<StoreSettings>): Promise<{ objects: PartitionStore; columns: PartitionStore; warnings: { objects: StoreWarning[]; columns: StoreWarning[] } }> {
  const dir = tempDir(t)
  const warnings = { objects: [] as StoreWarning[], columns: [] as StoreWarning[] }
  const objects = await openPartitionStore(join(dir, 'objects'), { fsync: false, ...settings, onWarning: w => warnings.objects.push(w) })
  const columns = await openPartitionStore(join(dir, 'columns'), { fsync: false, ...settings, onWarning: w => warnings.columns.push(w) })
  t.after(() => Promise.all([objects.close(), columns.close()]))
  return { objects, columns, warnings }
}

/** Applies `entries` to both stores, the second through encode → decodeChangelogColumns (one ChangelogColumns reused). */
async function applyBoth(objects: PartitionStore, columns: PartitionStore, entries: ChangelogEntry[]): Promise<void> {
  const decoded = new ChangelogColumns()
  for (let offset = 0; offset < entries.length; offset++) {
    await objects.apply(entries[offset]!, BigInt(offset))
    await columns.applyColumns(decodeChangelogColumns(encode(changelogEntryType, entries[offset]!), decoded), BigInt(offset))
  }
}

function contents(store: PartitionStore): unknown[] {
  const out: unknown[] = []
  for (const tenantDb of new Set(store.listSeries({ tenant: 't', database: 'db' }).map(s => s.id))) out.push(tenantDb)
  for (const series of store.listSeries({ tenant: 't', database: 'db' })) {
    for (const field of series.fields) {
      const points: unknown[] = []
      for (const chunk of store.scan({ seriesId: series.id, field: field.name })) {
        for (let i = 0; i < chunk.times.length; i++) points.push([chunk.times[i], (chunk.values as ArrayLike<unknown>)[i]])
      }
      out.push({ series: series.id, tags: series.tags, field, points })
    }
  }
  return out
}

function assertSameStore(objects: PartitionStore, columns: PartitionStore): void {
  assert.equal(columns.appliedOffset, objects.appliedOffset)
  assert.deepStrictEqual(contents(columns), contents(objects))
  assert.equal(columns.checksum(), objects.checksum())
  // What apply decides; segments, levels and tombstones also depend on when background work ran.
  const decided = (store: PartitionStore): unknown => {
    const { appliedOffset, memtableBytes, series, warnings } = store.stats()
    return { appliedOffset, memtableBytes, series, warnings }
  }
  assert.deepStrictEqual(decided(columns), decided(objects))
}

test('applyColumns leaves the store apply leaves, through commands, flushes and compactions', async (t) => {
  for (const seed of [1, 7, 42]) {
    const { objects, columns, warnings } = await storePair(t, { memtableMaxBytes: 64 * 1024, compactionFanIn: 2 })
    const entries = randomLog({ entries: 400, seed, maxPoints: 30 })
    await applyBoth(objects, columns, entries)
    assertSameStore(objects, columns)
    await Promise.all([objects.flush(), columns.flush()])
    await Promise.all([objects.compactAll(), columns.compactAll()])
    assertSameStore(objects, columns)
    assert.deepStrictEqual(warnings.columns, warnings.objects)
  }
})

test('applyColumns leaves the store apply leaves on entries whose points all list the same fields', async (t) => {
  for (const seed of [3, 11]) {
    const { objects, columns, warnings } = await storePair(t, { memtableMaxBytes: 64 * 1024, compactionFanIn: 2 })
    const entries = randomLog({ entries: 400, seed, maxPoints: 30, sameFields: true })
    const decoded = new ChangelogColumns()
    const regular = entries.filter(entry => entry.upsert !== null && decodeChangelogColumns(encode(changelogEntryType, entry), decoded).regular)
    assert.ok(regular.filter(entry => entry.upsert!.points.length > 1).length > 100, `regular entries of several points (${regular.length})`)
    await applyBoth(objects, columns, entries)
    assertSameStore(objects, columns)
    await Promise.all([objects.flush(), columns.flush()])
    await Promise.all([objects.compactAll(), columns.compactAll()])
    assertSameStore(objects, columns)
    assert.deepStrictEqual(warnings.columns, warnings.objects)
  }
})

test('applyColumns: regular entries whose field types conflict with earlier entries warn and drop the same values', async (t) => {
  const { objects, columns, warnings } = await storePair(t, {})
  const random = seededRandom(5)
  const values: FieldValue[] = [1.5, 2n, { unsigned: 3n }, 'text', true]
  const entries: ChangelogEntry[] = Array.from({ length: 40 }, (_, n) => {
    // Per entry one type per name, the same in every point: regular, with conflicts across entries.
    const kinds = ['x', 'y'].map(() => Math.floor(random() * values.length))
    return {
      ingestPartition: 0, ingestOffset: BigInt(n), command: null,
      upsert: {
        tenant: 't', database: 'db', measurement: 'cpu', seriesKey: `cpu,host=h${n % 3}`, tags: [{ key: 'host', value: `h${n % 3}` }], pointsIn: 5,
        points: Array.from({ length: 5 }, (_, p) => ({ timeNs: BigInt(n * 5 + p) * 1_000_000_000n, fields: ['x', 'y'].map((name, f) => ({ name, value: values[kinds[f]!]! })) })),
      },
    }
  })
  await applyBoth(objects, columns, entries)
  assert.ok(warnings.objects.length > 10, `conflicts happen (${warnings.objects.length})`)
  assert.deepStrictEqual(warnings.columns, warnings.objects)
  assertSameStore(objects, columns)
})

test('applyColumns: field type conflicts warn and drop the same values, within an entry and across entries', async (t) => {
  const { objects, columns, warnings } = await storePair(t, {})
  const random = seededRandom(9)
  const values: FieldValue[] = [1.5, 2n, { unsigned: 3n }, 'text', true]
  const entries: ChangelogEntry[] = Array.from({ length: 60 }, (_, n) => ({
    ingestPartition: 0, ingestOffset: BigInt(n), command: null,
    upsert: {
      tenant: 't', database: 'db', measurement: 'cpu', seriesKey: `cpu,host=h${n % 3}`, tags: [{ key: 'host', value: `h${n % 3}` }], pointsIn: 8,
      points: Array.from({ length: 8 }, (_, p) => ({
        timeNs: BigInt(Math.floor(random() * 6)) * 1_000_000_000n,
        fields: ['x', 'y', 'x', 'z'].slice(0, 1 + (p % 4)).map(name => ({ name, value: values[Math.floor(random() * values.length)]! })),
      })),
    },
  }))
  await applyBoth(objects, columns, entries)
  assert.ok(warnings.objects.length > 10, `conflicts happen (${warnings.objects.length})`)
  assert.deepStrictEqual(warnings.columns, warnings.objects)
  assertSameStore(objects, columns)
})

test('applyColumns keeps time order over 64-bit times whose words compare differently signed and unsigned', async (t) => {
  const { objects, columns } = await storePair(t, {})
  const times = [-(2n ** 63n), -(2n ** 32n) - 1n, -1n, 0n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 2n ** 31n, 2n ** 63n - 1n]
  // Also every adjacent pair backwards on its own: the one step out of order the column must notice.
  const pairs = times.slice(1).map((time, i) => [time, times[i]!])
  const orders = [times, [...times].reverse(), [...times.slice(5), ...times.slice(0, 5)], [times[4]!, times[5]!, times[5]!, times[6]!, times[4]!], ...pairs]
  const entries: ChangelogEntry[] = orders.map((order, n) => ({
    ingestPartition: 0, ingestOffset: BigInt(n), command: null,
    upsert: {
      tenant: 't', database: 'db', measurement: 'cpu', seriesKey: `cpu,order=${n}`, tags: [{ key: 'order', value: String(n) }], pointsIn: order.length,
      points: order.map((timeNs, i) => ({ timeNs, fields: [{ name: 'v', value: BigInt(i) - 5n }] })),
    },
  }))
  await applyBoth(objects, columns, entries)
  assertSameStore(objects, columns)
  const reversed = [...columns.scan({ seriesId: 't\u0000db\u0000cpu,order=1', field: 'v' })][0]!
  assert.deepStrictEqual([...reversed.times], times)
  const repeated = [...columns.scan({ seriesId: 't\u0000db\u0000cpu,order=3', field: 'v' })][0]!
  assert.deepStrictEqual([...repeated.times], [times[4], times[5], times[6]])
  assert.deepStrictEqual([...(repeated.values as BigInt64Array)], [-1n, -3n, -2n])
  for (let n = 4; n < orders.length; n++) {
    const pair = [...columns.scan({ seriesId: `t\u0000db\u0000cpu,order=${n}`, field: 'v' })][0]!
    assert.deepStrictEqual([...pair.times], [...orders[n]!].reverse(), `pair ${n - 4}`)
  }
})
