import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ChangelogEntry, Field, IngestCommand, Tag } from '../../schemas/index.ts'
import { canonicalSeriesKey, openPartitionStore, pinnedSegments, type PartitionStore } from '../../sinks/index.ts'
import { executeSql, type QueryContext } from '../execute.ts'
import { QueryErrorCode, isQueryError } from '../errors.ts'
import { ScanPool } from './pool.ts'

// The parallel path against the serial one on random data with rewrites, DELETEs, UPDATEs of fields
// and of tags, data in segments of several levels, a frozen-free active memtable and NaNs: every
// answer must be the serial answer exactly (deepStrictEqual compares floats with Object.is).

const T0 = 1_700_000_000_000_000_000n
const STEP = 10_000_000_000n
const HOSTS = Array.from({ length: 12 }, (_, i) => `h${i}`)

function seeded(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const tagsOf = (host: string): Tag[] => [{ key: 'host', value: host }, { key: 'rack', value: `r${Number(host.slice(1)) % 4}` }]
const partitionOf = (host: string): number => Number(host.slice(1)) % 3

function upsert(measurement: string, host: string, points: [bigint, Field[]][]): ChangelogEntry {
  const tags = tagsOf(host)
  return {
    ingestPartition: 0, ingestOffset: 0n, command: null,
    upsert: { tenant: 't', database: 'db', measurement, seriesKey: canonicalSeriesKey(measurement, tags), tags, points: points.map(([timeNs, fields]) => ({ timeNs, fields })), pointsIn: points.length },
  }
}

function command(kind: IngestCommand['kind'], where: Partial<IngestCommand['where']>, set: Field[] = []): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, upsert: null,
    command: { commandId: 'c', tenant: 't', database: 'db', measurement: 'cpu', kind, set, issuedAtNs: 0n, where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null, ...where } },
  }
}

interface Fixture {
  stores: PartitionStore[]
  context: QueryContext
  apply(host: string | null, entry: ChangelogEntry): Promise<void>
}

async function fixture(t: { after: (fn: () => Promise<void> | void) => void }, seed: number): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-parallel-'))
  const stores: PartitionStore[] = []
  for (const partition of [0, 1, 2]) stores.push(await openPartitionStore(join(dir, String(partition)), { partition, fsync: false, blockMaxPoints: 32, autoCompact: false }))
  t.after(async () => { for (const s of stores) await s.close(); rmSync(dir, { recursive: true, force: true }) })
  const offsets = [0n, 0n, 0n]
  const apply = async (host: string | null, entry: ChangelogEntry): Promise<void> => {
    for (const p of host === null ? [0, 1, 2] : [partitionOf(host)]) await stores[p]!.apply(entry, offsets[p]!++)
  }
  const random = seeded(seed)
  for (let round = 0; round < 5; round++) {
    for (const host of HOSTS) {
      const points: [bigint, Field[]][] = []
      for (let i = 0; i < 90; i++) {
        // Rounds overlap by 20 points: rewrites of earlier times, newest wins.
        const timeNs = T0 + BigInt(round * 70 + i) * STEP
        const fields: Field[] = [{ name: 'usage', value: random() < 0.01 ? NaN : random() * 100 - 20 }]
        if (random() < 0.8) fields.push({ name: 'reqs', value: BigInt(Math.round(random() * 1000) - 200) })
        if (random() < 0.5) fields.push({ name: 'up', value: random() < 0.7 })
        if (random() < 0.3) fields.push({ name: 'state', value: ['idle', 'busy', 'off'][Math.floor(random() * 3)]! })
        fields.push({ name: 'u', value: { unsigned: BigInt(Math.round(random() * 1e6)) * (host === 'h4' ? 2n ** 44n : 1n) } })
        points.push([timeNs, fields])
      }
      await apply(host, upsert('cpu', host, points))
    }
    if (round < 4) for (const s of stores) await s.flush()
    if (round === 1) for (const s of stores) await s.compactAll()
    if (round === 2) await apply(null, command('DELETE', { tags: [{ key: 'host', values: ['h1', 'h7'] }], fromNs: T0 + 20n * STEP, toNs: T0 + 100n * STEP }))
  }
  await apply(null, command('DELETE', { tags: [{ key: 'rack', values: ['r2'] }], fromNs: T0 + 300n * STEP, toNs: null }))
  await apply(null, command('UPDATE_FIELDS', { tags: [{ key: 'host', values: ['h2'] }], fromNs: T0 + 100n * STEP, toNs: T0 + 130n * STEP }, [{ name: 'reqs', value: 7n }]))
  await apply(null, command('UPDATE_TAGS', { tags: [{ key: 'host', values: ['h3'] }] }, [{ name: 'rack', value: 'r9' }]))
  return { stores, apply, context: { tenant: 't', database: 'db', stores, nowNs: T0 + 1000n * STEP } }
}

const QUERIES = [
  'SELECT count(usage), sum(usage), avg(usage), min(usage), max(usage), first(usage), last(usage), spread(usage) FROM cpu',
  'SELECT rack, sum(usage), avg(reqs), sum(reqs), min(u), max(u), sum(u), count(*) FROM cpu GROUP BY rack',
  `SELECT date_bin(INTERVAL '7 minutes', time) AS t, host, max(usage), median(usage), percentile(reqs, 0.9), stddev(usage), mode(state), first(up), last(state) FROM cpu GROUP BY t, host`,
  `SELECT date_bin(INTERVAL '5 minutes', time) AS t, sum(usage), count(up), min(state), increase(reqs), irate(reqs) FROM cpu WHERE time >= ${T0 + 33n * STEP} AND time < ${T0 + 301n * STEP} GROUP BY t`,
  `SELECT host, avg(usage) FROM cpu WHERE rack IN ('r0', 'r9') GROUP BY host HAVING avg(usage) > 0`,
]

function open(pool: ScanPool, context: QueryContext, maxEntriesPerTask?: number): QueryContext {
  return { ...context, parallelScans: { pool, minPointsToDecode: 0, ...(maxEntriesPerTask !== undefined ? { maxEntriesPerTask } : {}) } }
}

/** Descriptors of this process (any thread) open on segment files that were deleted. */
function deletedSegmentDescriptors(): number {
  let count = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try { if (/\.seg \(deleted\)$/.test(readlinkSync(`/proc/self/fd/${fd}`))) count++ } catch { /* closed meanwhile */ }
  }
  return count
}

test('the parallel path answers every query exactly as the serial path, and releases its pins', { skip: process.platform !== 'linux' }, async (t) => {
  const pool = new ScanPool({ size: 2 })
  t.after(() => pool.close())
  for (const seed of [1, 2]) {
    const { context } = await fixture(t, seed)
    for (const sql of QUERIES) {
      const serial = await executeSql(sql, context)
      const parallel = await executeSql(sql, open(pool, context))
      assert.deepStrictEqual(parallel.rows, serial.rows, `${sql} (seed ${seed})`)
      assert.deepStrictEqual(parallel.stats, serial.stats, sql)
      assert.equal(pinnedSegments(), 0, 'every pinned segment descriptor is closed')
    }
  }
})

test('a compaction started while workers read changes nothing in the answer', { skip: process.platform !== 'linux' }, async (t) => {
  const pool = new ScanPool({ size: 2 })
  t.after(() => pool.close())
  const { context, stores, apply } = await fixture(t, 3)
  const sql = QUERIES[2]!
  const serial = await executeSql(sql, context)
  const query = executeSql(sql, open(pool, context))
  // After the synchronous pin: compactions replace (and unlink) every segment, and a write lands.
  const compactions = stores.map((store) => store.compactAll())
  await apply('h0', upsert('cpu', 'h0', [[T0, [{ name: 'usage', value: 1e9 }]]]))
  const [answer] = await Promise.all([query, ...compactions])
  assert.deepStrictEqual(answer.rows, serial.rows)
  assert.equal(pinnedSegments(), 0)
  const after = await executeSql(sql, open(pool, context))
  assert.equal(deletedSegmentDescriptors(), 0, 'the next read of the stores closes the workers\' readers of replaced files')
  assert.notDeepStrictEqual(after.rows, serial.rows, 'a later query sees the write')
  assert.deepStrictEqual(after.rows, (await executeSql(sql, context)).rows)
})

test('a worker that gives up on too many partial states leaves the query to the serial path', { skip: process.platform !== 'linux' }, async (t) => {
  const pool = new ScanPool({ size: 1 })
  t.after(() => pool.close())
  const { context } = await fixture(t, 4)
  const sql = QUERIES[2]!
  assert.deepStrictEqual((await executeSql(sql, open(pool, context, 10))).rows, (await executeSql(sql, context)).rows)
})

test('EXPLAIN names the path and why', async (t) => {
  const pool = new ScanPool({ size: 1 })
  t.after(() => pool.close())
  const { context } = await fixture(t, 5)
  const plan = async (c: QueryContext, sql: string): Promise<string> => String((await executeSql(`EXPLAIN ${sql}`, c)).rows.find((r) => r[0] === 'execution')?.[1])
  assert.match(await plan(context, QUERIES[0]!), /^serial, on the main thread: parallel scans are off/)
  const high = { ...context, parallelScans: { pool, minPointsToDecode: 1e9 } }
  assert.match(await plan(high, QUERIES[2]!), /^serial, on the main thread: about \d+ points to decode, under the threshold of 1000000000/)
  if (process.platform === 'linux') assert.match(await plan(open(pool, context), QUERIES[2]!), /^parallel scan in worker threads: about \d+ points to decode, at or over the threshold of 0; 1 worker/)
  assert.match(await plan(open(pool, context), 'SELECT usage FROM cpu'), /^serial, on the main thread: raw rows/)
  assert.match(await plan(open(pool, context), 'SELECT avg(usage) FROM cpu WHERE reqs > 5'), /^serial, on the main thread: a row filter/)
})

test('a worker that dies fails its query with a clear error, and the pool recovers', { skip: process.platform !== 'linux' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-scan-worker-'))
  const entry = join(dir, 'dying-worker.mjs')
  // The real worker, except that a task over the table "doomed" kills its thread first.
  writeFileSync(entry, [
    "import { parentPort } from 'node:worker_threads'",
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}`,
    'register()',
    'const on = parentPort.on.bind(parentPort)',
    "parentPort.on = (event, listener) => on(event, (request) => { if (request.task.table.name === 'doomed') process.exit(70); listener(request) })",
    `await import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)})`,
  ].join('\n'))
  const pool = new ScanPool({ size: 1, workerUrl: pathToFileURL(entry) })
  t.after(async () => { await pool.close(); rmSync(dir, { recursive: true, force: true }) })
  const { context, apply, stores } = await fixture(t, 6)
  await apply('h0', upsert('doomed', 'h0', [[T0, [{ name: 'x', value: 1 }]]]))
  for (const store of stores) await store.flush()
  await assert.rejects(executeSql('SELECT max(x) FROM doomed', open(pool, context)), (error) => {
    assert.ok(isQueryError(error))
    assert.equal(error.code, QueryErrorCode.WORKER_FAILED)
    assert.match(error.message, /a scan worker exited with code 70 during the query; it was not answered, retry it/)
    return true
  })
  assert.equal(pinnedSegments(), 0, 'the pins are released after the failure')
  assert.equal(pool.restarts, 1)
  const sql = QUERIES[1]!
  assert.deepStrictEqual((await executeSql(sql, open(pool, context))).rows, (await executeSql(sql, context)).rows)
})
