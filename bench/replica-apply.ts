// The replica's apply alone, in process: the TSBS-like cpu day's changelog entries (bench/support/
// tsbs-cpu.ts: 100 hosts, 10 integer fields, 10 s; 17,280 entries of 50 points, 8.64 M values)
// encoded once as the master writes them, then decoded and applied into a fresh partition store in
// a temporary directory whose memtable holds the whole day (512 MiB: no flush while applying), then
// flushed (fsync off: CPU, not the disk). Paths in rotating order, every round of the same run:
//   objects  decodeChangelogEntry → PartitionStore.apply (a Point and a Field object per value; the reference)
//   columns  decodeChangelogColumns → PartitionStore.applyColumns (typed arrays, what replicaset/replica.ts runs)
//   compare  the columns path of the checkout in --compare DIR (a git worktree of another commit,
//            node_modules linked): its schemas and segment store, loaded beside this one
// Reports values per CPU-second of this process (process.cpuUsage: the main thread, GC and the
// threads a flush uses) per path, and the ratios per round. The stores' checksums must be equal,
// or the run stops. Bodies reach the replica out of order as 4 HTTP connections send them (the
// entries of each 4 consecutive bodies are applied in a shuffled body order, seeded), so the
// memtable sorts at flush as in bench:e2e; --in-order applies them in body order.
// Each round also times the columns decode alone (every entry decoded into one ChangelogColumns,
// nothing applied) for columns and compare. --skip-objects leaves the reference path out;
// --profile DIR writes a V8 CPU profile of each counted round's columns path (decode, apply and
// flush) to DIR (bench/support/profile-summary.ts reads it). --flush-every N flushes after every N
// entries as well, as a replica's 5 s timer does: smaller memtables, more blocks, each later
// memtable sized by the one before; "decode + apply" then includes those flushes. This one store
// holds every series, bench:e2e's node a sixth of them per partition: --flush-every 8650 gives each
// column the points and runs a 5 s flush gives it when the day takes 10 s end to end (a quiet
// run), 1500 when it takes about 60 s (a loaded one).
//
// Run: npm run bench:replica-apply [-- --quick] [-- --rounds N] [-- --in-order] [-- --compare DIR] [-- --skip-objects] [-- --profile DIR] [-- --flush-every N]

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { ChangelogColumns, changelogEntryType, decodeChangelogColumns, decodeChangelogEntry, encode } from '../schemas/index.ts'
import { openPartitionStore, type PartitionStore } from '../sinks/index.ts'
import { cpuSecondsOfSelf } from './support/cpu.ts'
import { describeMachine, median } from './support/report.ts'
import { generateTsbsCpu, tsbsChangelogEntries, tsbsCpuOneDay } from './support/tsbs-cpu.ts'

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false }, rounds: { type: 'string' }, 'in-order': { type: 'boolean', default: false }, compare: { type: 'string' },
    'skip-objects': { type: 'boolean', default: false }, profile: { type: 'string' }, 'flush-every': { type: 'string' },
  },
})
const quick = options.quick ?? false
const ROUNDS = Number(options.rounds ?? (quick ? 3 : 5))
const CONNECTIONS = 4
/** Entries between flushes while applying; 0: one flush, after the last entry. */
const FLUSH_EVERY = Number(options['flush-every'] ?? 0)
if (!Number.isInteger(FLUSH_EVERY) || FLUSH_EVERY < 0) throw new Error(`--flush-every must be a whole number of entries, got ${options['flush-every']}`)
/** Holds the day's memtable (about 140 MB by the store's estimate): "decode + apply" is that alone, the flush comes after. */
const MEMTABLE_BYTES = 512 * 2 ** 20

/** The workload's bodies, each 4 consecutive ones in a seeded shuffled order unless --in-order. */
function deliveryOrder(batches: Buffer[]): Buffer[] {
  if (options['in-order']) return batches
  let state = 20161231
  const next = (): number => { state = (state * 1103515245 + 12345) % 2 ** 31; return state / 2 ** 31 }
  const out: Buffer[] = []
  for (let at = 0; at < batches.length; at += CONNECTIONS) out.push(...batches.slice(at, at + CONNECTIONS).sort(() => next() - 0.5))
  return out
}

const workload = generateTsbsCpu(quick ? { ...tsbsCpuOneDay, durationSeconds: 8_640 } : tsbsCpuOneDay)
const payloads: Buffer[] = []
let values = 0
for (const entry of tsbsChangelogEntries(deliveryOrder(workload.batches))) {
  const offset = BigInt(payloads.length)
  payloads.push(encode(changelogEntryType, { ...entry, ingestOffset: offset }))
  for (const point of entry.upsert!.points) values += point.fields.length
}

type Path = 'objects' | 'columns' | 'compare'
type SchemasModule = typeof import('../schemas/index.ts')
type SinksModule = typeof import('../sinks/index.ts')
const compare = options.compare === undefined ? undefined : {
  schemas: await import(resolve(options.compare, 'schemas/index.ts')) as SchemasModule,
  sinks: await import(resolve(options.compare, 'sinks/index.ts')) as SinksModule,
}
const paths: Path[] = [...(options['skip-objects'] ? [] : ['objects' as const]), 'columns', ...(compare === undefined ? [] : ['compare' as const])]
const profileDir = options.profile === undefined ? undefined : resolve(options.profile)
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true })

interface RoundResult {
  /** CPU-seconds of decoding every entry alone (columns and compare; 0 for objects). */
  decodeSeconds: number
  /** CPU-seconds of decode + apply into the memtable. */
  applySeconds: number
  /** applySeconds plus the flush of the memtable (sort, block encoding, segment write). */
  totalSeconds: number
  store: PartitionStore
}

function columnsCodec(path: Path): Pick<SchemasModule, 'ChangelogColumns' | 'decodeChangelogColumns'> {
  return path === 'compare' ? compare!.schemas : { ChangelogColumns, decodeChangelogColumns }
}

/** CPU-seconds of decoding every entry into one ChangelogColumns, applying nothing. */
function decodeAlone(path: Path): number {
  if (path === 'objects') return 0
  const schemas = columnsCodec(path)
  const decoded = new schemas.ChangelogColumns()
  const start = cpuSecondsOfSelf()
  let checked = 0
  for (const payload of payloads) checked += schemas.decodeChangelogColumns(payload, decoded).valueCount
  if (checked !== values) throw new Error(`${path}: decoded ${checked} values, expected ${values}`)
  return cpuSecondsOfSelf() - start
}

async function applyRound(path: Path, dir: string, profile: Session | null): Promise<RoundResult> {
  const decodeSeconds = decodeAlone(path)
  const settings = { partition: 0, fsync: false, autoCompact: false, memtableMaxBytes: MEMTABLE_BYTES }
  const store = path === 'compare' ? await compare!.sinks.openPartitionStore(dir, settings) as unknown as PartitionStore : await openPartitionStore(dir, settings)
  if (profile !== null) await profile.post('Profiler.start')
  const start = cpuSecondsOfSelf()
  if (path === 'objects') {
    for (let offset = 0; offset < payloads.length; offset++) {
      await store.apply(decodeChangelogEntry(payloads[offset]!), BigInt(offset))
      if (FLUSH_EVERY > 0 && (offset + 1) % FLUSH_EVERY === 0) await store.flush()
    }
  } else {
    const schemas = columnsCodec(path)
    const decoded = new schemas.ChangelogColumns()
    for (let offset = 0; offset < payloads.length; offset++) {
      await store.applyColumns(schemas.decodeChangelogColumns(payloads[offset]!, decoded), BigInt(offset))
      if (FLUSH_EVERY > 0 && (offset + 1) % FLUSH_EVERY === 0) await store.flush()
    }
  }
  const applied = cpuSecondsOfSelf()
  await store.flush()
  const totalSeconds = cpuSecondsOfSelf() - start
  if (profile !== null) {
    const { profile: cpuProfile } = await profile.post('Profiler.stop')
    writeFileSync(join(profileDir!, `replica-apply-${path}-${Date.now()}.cpuprofile`), JSON.stringify(cpuProfile))
  }
  return { decodeSeconds, applySeconds: applied - start, totalSeconds, store }
}

console.log(`# Replica apply in process: ${describeMachine()}`)
console.log(`# ${payloads.length} changelog entries, ${values} values (${(payloads.reduce((sum, p) => sum + p.length, 0) / 1e6).toFixed(1)} MB of Avro), ${options['in-order'] ? 'in body order' : `each ${CONNECTIONS} bodies in a shuffled order`}; ` +
  `${ROUNDS} rounds of ${paths.join(', ')}${compare ? ` (${options.compare})` : ''}, the first path rotating` +
  `${FLUSH_EVERY > 0 ? `; a flush every ${FLUSH_EVERY} entries` : ''}`)
const root = mkdtempSync(join(tmpdir(), 'sluice-replica-apply-'))
const seconds = Object.fromEntries(paths.map(path => [path, { decode: [] as number[], apply: [] as number[], total: [] as number[] }])) as Record<Path, { decode: number[]; apply: number[]; total: number[] }>
/** Per round: objects / columns and compare / columns CPU-seconds (columns' values per CPU-second over the other's). */
const ratios = { apply: [] as number[], total: [] as number[], compareDecode: [] as number[], compareApply: [] as number[], compareTotal: [] as number[] }
const session = profileDir === undefined ? null : new Session()
if (session !== null) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 500 })
}
try {
  // Round 0 warms the JIT up for every path (and checks they agree); it is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    const order = paths.map((_, i) => paths[(i + round) % paths.length]!)
    const results = {} as Record<Path, RoundResult & { checksum: string }>
    for (const path of order) {
      const dir = join(root, `${round}-${path}`)
      const result = await applyRound(path, dir, round > 0 && path === 'columns' ? session : null)
      results[path] = { ...result, checksum: round === 0 ? result.store.checksum() : '' }
      await result.store.close()
      rmSync(dir, { recursive: true, force: true })
    }
    if (paths.some(path => results[path].checksum !== results.columns.checksum)) throw new Error(`round ${round}: the paths built different stores`)
    if (round === 0) continue
    for (const path of paths) {
      seconds[path].decode.push(results[path].decodeSeconds)
      seconds[path].apply.push(results[path].applySeconds)
      seconds[path].total.push(results[path].totalSeconds)
    }
    if (results.objects) {
      ratios.apply.push(results.objects.applySeconds / results.columns.applySeconds)
      ratios.total.push(results.objects.totalSeconds / results.columns.totalSeconds)
    }
    if (compare) {
      ratios.compareDecode.push(results.compare.decodeSeconds / results.columns.decodeSeconds)
      ratios.compareApply.push(results.compare.applySeconds / results.columns.applySeconds)
      ratios.compareTotal.push(results.compare.totalSeconds / results.columns.totalSeconds)
    }
    const decode = paths.filter(path => path !== 'objects').map(path => `${path} ${results[path].decodeSeconds.toFixed(2)}`).join(', ')
    console.log(`round ${round}: CPU-s, decode + apply / with the flush: ${paths.map(path => `${path} ${results[path].applySeconds.toFixed(2)} / ${results[path].totalSeconds.toFixed(2)}`).join('; ')}; decode alone: ${decode}`)
  }
} finally {
  session?.disconnect()
  rmSync(root, { recursive: true, force: true })
}
const rate = (cpuSeconds: number[]): string => `${(values / median(cpuSeconds) / 1e6).toFixed(2)} M`
const ratio = (list: number[]): string => `**${median(list).toFixed(2)}** (${Math.min(...list).toFixed(2)}-${Math.max(...list).toFixed(2)})`
console.log(`\nMedians of ${ROUNDS} rounds (values per CPU-second)`)
console.log('| path | decode alone | decode + apply | with the flush |\n|---|---:|---:|---:|')
if (seconds.objects) console.log(`| objects: decodeChangelogEntry + apply (reference) | | ${rate(seconds.objects.apply)} | ${rate(seconds.objects.total)} |`)
console.log(`| columns: decodeChangelogColumns + applyColumns | ${rate(seconds.columns.decode)} | ${rate(seconds.columns.apply)} | ${rate(seconds.columns.total)} |`)
if (compare) console.log(`| compare: columns of ${options.compare} | ${rate(seconds.compare.decode)} | ${rate(seconds.compare.apply)} | ${rate(seconds.compare.total)} |`)
if (ratios.apply.length > 0) console.log(`| columns / objects, same round (range) | | ${ratio(ratios.apply)} | ${ratio(ratios.total)} |`)
if (compare) console.log(`| columns / compare, same round (range) | ${ratio(ratios.compareDecode)} | ${ratio(ratios.compareApply)} | ${ratio(ratios.compareTotal)} |`)
