// The replica's apply alone, in process: the TSBS-like cpu day's changelog entries (bench/support/
// tsbs-cpu.ts: 100 hosts, 10 integer fields, 10 s; 17,280 entries of 50 points, 8.64 M values)
// encoded once as the master writes them, then decoded and applied into a fresh partition store in
// a temporary directory, memtable flushes included (fsync off: CPU, not the disk). Two paths in
// alternating rounds of the same run:
//   objects  decodeChangelogEntry → PartitionStore.apply (a Point and a Field object per value; the reference)
//   columns  decodeChangelogColumns → PartitionStore.applyColumns (typed arrays, what replicaset/replica.ts runs)
// Reports values per CPU-second of this process (process.cpuUsage: the main thread, GC and the
// threads a flush uses) per path, and the ratio columns / objects per round pair. The two stores'
// checksums must be equal, or the run stops.
//
// Run: npm run bench:replica-apply [-- --quick] [-- --rounds N]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ChangelogColumns, changelogEntryType, decodeChangelogColumns, decodeChangelogEntry, encode } from '../schemas/index.ts'
import { openPartitionStore, type PartitionStore } from '../sinks/index.ts'
import { cpuSecondsOfSelf } from './support/cpu.ts'
import { describeMachine, median } from './support/report.ts'
import { generateTsbsCpu, tsbsChangelogEntries, tsbsCpuOneDay } from './support/tsbs-cpu.ts'

const { values: options } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' } } })
const quick = options.quick ?? false
const ROUNDS = Number(options.rounds ?? (quick ? 3 : 5))

const workload = generateTsbsCpu(quick ? { ...tsbsCpuOneDay, durationSeconds: 8_640 } : tsbsCpuOneDay)
const payloads: Buffer[] = []
let values = 0
for (const entry of tsbsChangelogEntries(workload.batches)) {
  const offset = BigInt(payloads.length)
  payloads.push(encode(changelogEntryType, { ...entry, ingestOffset: offset }))
  for (const point of entry.upsert!.points) values += point.fields.length
}

type Path = 'objects' | 'columns'

interface RoundResult {
  /** CPU-seconds of decode + apply (with the flushes a full memtable starts meanwhile). */
  applySeconds: number
  /** applySeconds plus the final flush of what is left in memory. */
  totalSeconds: number
  store: PartitionStore
}

async function applyRound(path: Path, dir: string): Promise<RoundResult> {
  const store = await openPartitionStore(dir, { partition: 0, fsync: false, autoCompact: false })
  const decoded = new ChangelogColumns()
  const start = cpuSecondsOfSelf()
  if (path === 'objects') {
    for (let offset = 0; offset < payloads.length; offset++) await store.apply(decodeChangelogEntry(payloads[offset]!), BigInt(offset))
  } else {
    for (let offset = 0; offset < payloads.length; offset++) await store.applyColumns(decodeChangelogColumns(payloads[offset]!, decoded), BigInt(offset))
  }
  const applied = cpuSecondsOfSelf()
  await store.flush()
  return { applySeconds: applied - start, totalSeconds: cpuSecondsOfSelf() - start, store }
}

console.log(`# Replica apply in process: ${describeMachine()}`)
console.log(`# ${payloads.length} changelog entries, ${values} values (${(payloads.reduce((sum, p) => sum + p.length, 0) / 1e6).toFixed(1)} MB of Avro); ${ROUNDS} round pairs, alternating which path goes first`)
const root = mkdtempSync(join(tmpdir(), 'sluice-replica-apply-'))
const seconds: Record<Path, { apply: number[]; total: number[] }> = { objects: { apply: [], total: [] }, columns: { apply: [], total: [] } }
const ratios = { apply: [] as number[], total: [] as number[] }
try {
  // Round 0 warms the JIT up for both paths (and checks they agree); it is not counted.
  for (let round = 0; round <= ROUNDS; round++) {
    const order: Path[] = round % 2 === 0 ? ['objects', 'columns'] : ['columns', 'objects']
    const results = {} as Record<Path, RoundResult & { checksum: string }>
    for (const path of order) {
      const dir = join(root, `${round}-${path}`)
      const result = await applyRound(path, dir)
      results[path] = { ...result, checksum: round === 0 ? result.store.checksum() : '' }
      await result.store.close()
      rmSync(dir, { recursive: true, force: true })
    }
    if (results.objects.checksum !== results.columns.checksum) throw new Error(`round ${round}: the two paths built different stores`)
    if (round === 0) continue
    for (const path of order) {
      seconds[path].apply.push(results[path].applySeconds)
      seconds[path].total.push(results[path].totalSeconds)
    }
    ratios.apply.push(results.objects.applySeconds / results.columns.applySeconds)
    ratios.total.push(results.objects.totalSeconds / results.columns.totalSeconds)
    console.log(`round ${round}: CPU-s objects ${results.objects.applySeconds.toFixed(2)} apply, ${results.objects.totalSeconds.toFixed(2)} with the last flush; ` +
      `columns ${results.columns.applySeconds.toFixed(2)}, ${results.columns.totalSeconds.toFixed(2)}; ratio ${ratios.apply.at(-1)!.toFixed(2)}, ${ratios.total.at(-1)!.toFixed(2)}`)
  }
} finally {
  rmSync(root, { recursive: true, force: true })
}
const rate = (cpuSeconds: number[]): string => `${(values / median(cpuSeconds) / 1e6).toFixed(2)} M`
const ratio = (list: number[]): string => `**${median(list).toFixed(2)}** (${Math.min(...list).toFixed(2)}-${Math.max(...list).toFixed(2)})`
console.log(`\nMedians of ${ROUNDS} round pairs (values per CPU-second)`)
console.log('| path | decode + apply | with the last flush |\n|---|---:|---:|')
console.log(`| objects: decodeChangelogEntry + apply (reference) | ${rate(seconds.objects.apply)} | ${rate(seconds.objects.total)} |`)
console.log(`| columns: decodeChangelogColumns + applyColumns | ${rate(seconds.columns.apply)} | ${rate(seconds.columns.total)} |`)
console.log(`| columns / objects, same round (range) | ${ratio(ratios.apply)} | ${ratio(ratios.total)} |`)
