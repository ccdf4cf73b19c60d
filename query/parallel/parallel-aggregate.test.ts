import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { ChangelogEntry } from '../../schemas/index.ts'
import { canonicalSeriesKey, openPartitionStore, pinnedSegments, type PartitionStore } from '../../sinks/index.ts'
import { randomLog } from '../../sinks/segments/testing/random-log.ts'
import { executeSql, type QueryContext } from '../execute.ts'
import { QueryErrorCode, isQueryError } from '../errors.ts'
import { ScanPool } from './pool.ts'

// The parallel path against the serial one on the storage tests' random changelog (rewrites of
// earlier times, DELETEs, UPDATEs of fields with and without predicates, UPDATEs of tags), spread
// over three stores with flushes and a compaction between, the last entries left in memtables:
// every answer must be the serial answer exactly (deepStrictEqual compares floats with Object.is).

const partitionOf = (seriesKey: string): number => [...seriesKey].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 3

interface Fixture {
  stores: PartitionStore[]
  context: QueryContext
  apply(entry: ChangelogEntry): Promise<void>
}

async function fixture(t: { after: (fn: () => Promise<void> | void) => void }, seed: number): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-parallel-'))
  const stores: PartitionStore[] = []
  for (const partition of [0, 1, 2]) stores.push(await openPartitionStore(join(dir, String(partition)), { partition, fsync: false, blockMaxPoints: 24, autoCompact: false }))
  t.after(async () => { for (const s of stores) await s.close(); rmSync(dir, { recursive: true, force: true }) })
  const offsets = [0n, 0n, 0n]
  const apply = async (entry: ChangelogEntry): Promise<void> => {
    for (const p of entry.upsert ? [partitionOf(entry.upsert.seriesKey)] : [0, 1, 2]) await stores[p]!.apply(entry, offsets[p]!++)
  }
  const log = randomLog({ entries: 1200, seed, timeSlots: 1500, maxPoints: 40 })
  // A NaN among the floats: min and max must skip it the same way on both paths.
  const first = log.find((e) => e.upsert !== null)!
  log.push({ ...first, upsert: { ...first.upsert!, points: [{ timeNs: first.upsert!.points[0]!.timeNs, fields: [{ name: 'a', value: NaN }] }], pointsIn: 1 } })
  for (let n = 0; n < log.length; n++) {
    await apply(log[n]!)
    if (n % 250 === 249) for (const s of stores) await s.flush()
    if (n === 749) for (const s of stores) await s.compactAll()
  }
  return { stores, apply, context: { tenant: 't', database: 'db', stores, nowNs: 0n } }
}

const T0 = 1_700_000_000_000_000_000n
const QUERIES = [
  'SELECT count(a), sum(a), avg(a), min(a), max(a), first(a), last(a), spread(a) FROM cpu',
  'SELECT region, sum(a), avg(b), sum(b), min(e), max(e), sum(e), count(*), count(d), min(c) FROM cpu GROUP BY region',
  `SELECT date_bin(INTERVAL '1 minute', time) AS t, host, max(a), median(a), percentile(b, 0.9), stddev(a), mode(c), first(d), last(c) FROM cpu GROUP BY t, host`,
  `SELECT date_bin(INTERVAL '5 minutes', time) AS t, sum(a), count(d), min(c), increase(e), irate(b) FROM cpu WHERE time >= ${T0 + 33_000_000_000n} AND time < ${T0 + 1201_000_000_000n} GROUP BY t`,
  `SELECT host, avg(a) FROM cpu WHERE region IN ('east') GROUP BY host HAVING avg(a) > 0`,
]

/** An upsert of another seed's log, for a write that changes answers. */
function laterWrite(measurement = 'cpu'): ChangelogEntry {
  const entry = randomLog({ entries: 50, seed: 99, commands: false, timeSlots: 1500 }).find((e) => e.upsert !== null)!
  const upsert = entry.upsert!
  return { ...entry, upsert: { ...upsert, measurement, seriesKey: canonicalSeriesKey(measurement, upsert.tags) } }
}

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
      assert.ok(serial.stats.pointsScanned > 100, `${sql} decodes points`)
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
  const sql = QUERIES[1]!
  const serial = await executeSql(sql, context)
  const query = executeSql(sql, open(pool, context))
  // After the synchronous pin: compactions replace (and unlink) every segment, and a write lands.
  const compactions = stores.map((store) => store.compactAll())
  await apply(laterWrite())
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
  assert.match(await plan(open(pool, context), 'SELECT a FROM cpu'), /^serial, on the main thread: raw rows/)
  assert.match(await plan(open(pool, context), 'SELECT avg(a) FROM cpu WHERE b > 5'), /^serial, on the main thread: a row filter/)
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
  await apply(laterWrite('doomed'))
  for (const store of stores) await store.flush()
  await assert.rejects(executeSql('SELECT count(*) FROM doomed', open(pool, context)), (error) => {
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
