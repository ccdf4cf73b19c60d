// The database and table commands at their log position: SET_DATABASE_TTL (a time to live the
// manifest keeps), DROP_DATABASE, DROP_TABLE and DROP_FIELDS (values gone at once, purged by
// compaction, types forgotten), the same whatever the flush history, and after a reopen.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogEntry, CommandKindValue, Field, IngestCommand } from '../../schemas/index.ts'
import { type PartitionStore, openPartitionStore } from './store.ts'
import { canonicalSeriesKey, seriesId } from './series.ts'
import type { StoreSettings } from './settings.ts'

const DAY_NS = 86_400_000_000_000n
const NOW_NS = 1_000n * DAY_NS

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-database-commands-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function upsert(database: string, measurement: string, host: string, points: [bigint, Field[]][]): ChangelogEntry {
  const tags = [{ key: 'host', value: host }]
  return {
    ingestPartition: 0, ingestOffset: 0n, command: null,
    upsert: {
      tenant: 't', database, measurement, seriesKey: canonicalSeriesKey(measurement, tags), tags,
      points: points.map(([timeNs, fields]) => ({ timeNs, fields })), pointsIn: points.length,
    },
  }
}

function command(kind: CommandKindValue, database: string, measurement: string, extra: Partial<IngestCommand> = {}): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, upsert: null,
    command: {
      commandId: `${kind}-${database}-${measurement}`, tenant: 't', database, measurement, kind, set: [], issuedAtNs: 0n,
      where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null }, ...extra,
    },
  }
}

const id = (database: string, measurement: string, host: string): string => seriesId('t', database, canonicalSeriesKey(measurement, [{ key: 'host', value: host }]))

function read(store: PartitionStore, series: string, field: string): [bigint, unknown][] {
  const out: [bigint, unknown][] = []
  for (const chunk of store.scan({ seriesId: series, field })) {
    for (let i = 0; i < chunk.times.length; i++) out.push([chunk.times[i]!, (chunk.values as ArrayLike<unknown>)[i]])
  }
  return out
}

function fieldsOf(store: PartitionStore, database: string): string[] {
  return store.listSeries({ tenant: 't', database }).flatMap((s) => s.fields.map((f) => `${s.measurement}.${f.name}`)).sort()
}

async function open(dir: string, settings: Partial<StoreSettings> = {}): Promise<PartitionStore> {
  return openPartitionStore(dir, { autoCompact: false, fsync: false, clockNs: () => NOW_NS, ...settings })
}

/** Applies the entries, flushing after the offsets in `flushAfter`. */
async function applyAll(store: PartitionStore, entries: ChangelogEntry[], flushAfter: ReadonlySet<number> = new Set()): Promise<void> {
  for (let offset = 0; offset < entries.length; offset++) {
    await store.apply(entries[offset]!, BigInt(offset))
    if (flushAfter.has(offset)) await store.flush()
  }
}

const f = (name: string, value: Field['value']): Field => ({ name, value })

test('SET_DATABASE_TTL hides older points of its database only, overrides the static setting, survives a reopen, and INF removes it', async (t) => {
  const dir = tempDir(t)
  const old = NOW_NS - 30n * DAY_NS
  const recent = NOW_NS - DAY_NS
  const entries = [
    upsert('db', 'cpu', 'a', [[old, [f('v', 1)]], [recent, [f('v', 2)]]]),
    upsert('other', 'cpu', 'a', [[old, [f('v', 3)]]]),
    command('SET_DATABASE_TTL', 'db', '', { ttlNs: 7n * DAY_NS }),
  ]
  // The static setting keeps 'db' for 100 days; the log's TTL wins over it.
  let store = await open(dir, { retentionNs: { db: 100n * DAY_NS } })
  await applyAll(store, entries, new Set([0]))
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'v'), [[recent, 2]])
  assert.deepEqual(read(store, id('other', 'cpu', 'a'), 'v'), [[old, 3]])
  await store.flush()
  await store.close()

  store = await open(dir, { retentionNs: { db: 100n * DAY_NS } })
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'v'), [[recent, 2]], 'the TTL is in the manifest')
  await store.apply(command('SET_DATABASE_TTL', 'db', '', { ttlNs: null }), 3n)
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'v'), [[old, 1], [recent, 2]], 'INF: the static setting no longer applies either')
  await store.close()
})

test('DROP_DATABASE forgets the TTL the log set: the database written again keeps its points', async (t) => {
  const old = NOW_NS - 30n * DAY_NS
  const store = await open(tempDir(t))
  await applyAll(store, [
    command('SET_DATABASE_TTL', 'db', '', { ttlNs: DAY_NS }),
    command('DROP_DATABASE', 'db', ''),
    upsert('db', 'cpu', 'a', [[old, [f('v', 1)]]]),
  ])
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'v'), [[old, 1]])
  await store.flush()
  await store.close()
})

test('a TTL set before a flush reaches the manifest only with the offsets it belongs to', async (t) => {
  const dir = tempDir(t)
  const old = NOW_NS - 30n * DAY_NS
  const store = await open(dir)
  await applyAll(store, [upsert('db', 'cpu', 'a', [[old, [f('v', 1)]]])])
  await store.flush()
  await store.apply(command('SET_DATABASE_TTL', 'db', '', { ttlNs: DAY_NS }), 1n)
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'v'), [])
  await store.close()
  // Not flushed: the replay from durableOffset (1) applies it again.
  const reopened = await open(dir)
  assert.equal(reopened.durableOffset, 1n)
  assert.deepEqual(read(reopened, id('db', 'cpu', 'a'), 'v'), [[old, 1]])
  await reopened.close()
})

test('DROP_DATABASE deletes every point of the database in memtables and segments, and a later write recreates it with new types', async (t) => {
  const entries = [
    upsert('db', 'cpu', 'a', [[1n, [f('v', 1), f('s', 'x')]]]),
    upsert('db', 'mem', 'b', [[2n, [f('used', 5n)]]]),
    upsert('keep', 'cpu', 'a', [[1n, [f('v', 9)]]]),
    upsert('db', 'cpu', 'a', [[3n, [f('v', 2)]]]),
    command('DROP_DATABASE', 'db', ''),
    // After the DROP: v comes back as a string; its points are not deleted by the earlier DROP.
    upsert('db', 'cpu', 'a', [[4n, [f('v', 'text')]]]),
  ]
  const checksums: string[] = []
  for (const flushAfter of [new Set<number>(), new Set([1]), new Set([3]), new Set([1, 4])]) {
    const dir = tempDir(t)
    let store = await open(dir)
    await applyAll(store, entries, flushAfter)
    assert.deepEqual(fieldsOf(store, 'db'), ['cpu.v'])
    assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'v'), [[4n, 'text']])
    assert.deepEqual(read(store, id('db', 'cpu', 'a'), 's'), [])
    assert.deepEqual(read(store, id('keep', 'cpu', 'a'), 'v'), [[1n, 9]])
    checksums.push(store.checksum())
    await store.flush()
    await store.close()
    store = await open(dir)
    assert.deepEqual(fieldsOf(store, 'db'), ['cpu.v'], 'after a reopen the dropped types stay forgotten')
    assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'v'), [[4n, 'text']])
    assert.equal(store.checksum(), checksums.at(-1))
    await store.compactAll()
    assert.equal(store.stats().tombstones, 0, 'compaction purged the dropped points')
    assert.equal(store.checksum(), checksums.at(-1))
    await store.close()
  }
  assert.equal(new Set(checksums).size, 1, 'the same log gives the same points whatever the flushes')
})

test('DROP_TABLE drops one measurement; DROP_FIELDS drops some fields of one measurement and forgets their types', async (t) => {
  const dir = tempDir(t)
  let store = await open(dir)
  await applyAll(store, [
    upsert('db', 'cpu', 'a', [[1n, [f('v', 1), f('w', 2), f('z', true)]]]),
    upsert('db', 'mem', 'a', [[1n, [f('v', 1)]]]),
    upsert('db', 'disk', 'a', [[1n, [f('v', 1)]]]),
    command('DROP_TABLE', 'db', 'mem'),
    command('DROP_FIELDS', 'db', 'cpu', { columns: ['v', 'z'] }),
    upsert('db', 'cpu', 'a', [[2n, [f('z', 7n)]]]),
    command('DROP_FIELDS', 'db', 'disk', { columns: [] }),
  ], new Set([2]))
  assert.deepEqual(fieldsOf(store, 'db'), ['cpu.w', 'cpu.z', 'disk.v'])
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'z'), [[2n, 7n]])
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'w'), [[1n, 2]])
  assert.equal(store.stats().warnings, 1, 'DROP_FIELDS without columns is skipped with a warning')
  await store.flush()
  await store.close()
  store = await open(dir)
  assert.deepEqual(fieldsOf(store, 'db'), ['cpu.w', 'cpu.z', 'disk.v'])
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'z'), [[2n, 7n]])
  await store.close()
})

test('compaction waits for a DROP to be durable, so a replay after a crash finds the data it drops', async (t) => {
  const dir = tempDir(t)
  let store = await open(dir, { compactionFanIn: 2 })
  await applyAll(store, [
    upsert('db', 'cpu', 'a', [[1n, [f('v', 1), f('w', 1)]]]),
    upsert('db', 'cpu', 'a', [[2n, [f('v', 2), f('w', 2)]]]),
    command('DROP_FIELDS', 'db', 'cpu', { columns: ['v'] }),
  ], new Set([0, 1]))
  await store.compact()
  assert.equal(store.stats().segments, 2, 'the segments the pending DROP hides are not merged')
  await store.close() // the DROP was never flushed: a restart replays it from offset 2
  store = await open(dir, { compactionFanIn: 2 })
  assert.equal(store.durableOffset, 2n)
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'v'), [[1n, 1], [2n, 2]], 'the state at offset 2, before the DROP')
  await store.apply(command('DROP_FIELDS', 'db', 'cpu', { columns: ['v'] }), 2n)
  await store.flush()
  await store.compact()
  assert.ok(store.stats().segments < 3, 'once durable, compaction goes on')
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'v'), [])
  assert.deepEqual(read(store, id('db', 'cpu', 'a'), 'w'), [[1n, 1], [2n, 2]])
  await store.close()
})
