// A query's CPU in the node without HTTP (issue 6, section 4): the queries of bench/query-peers.ts
// over the TSBS-like cpu workload, applied to partition stores in this process (one series to one
// store, by its key's hash, as the changelog's partitioning does) and compacted, each run as the
// routes run it: SQL through executeSqlNow and renderJsonBytes (what POST /api/v1/sql answers),
// InfluxQL through executeInfluxql (which renders its JSON). CPU-ms per query, from
// process.cpuUsage over --runs runs.
//
// With --compare DIR the same runs use another checkout's query, sinks and rendering modules (a git
// worktree of another commit, with node_modules) on stores it built itself from the same entries;
// the two take turns query by query and round by round, the one that goes first alternating, so a
// change's before/after is a ratio from the same minutes of this noisy machine. Nothing is asserted.
//
// Run: npm run bench:query-execute [-- --hours 24] [-- --partitions 6] [-- --rounds 5] [-- --runs 200] [-- --queries 3,4] [-- --compare DIR]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { peerQueries } from './support/peer-queries.ts'
import { cpuPressureMeter, describeMachine, median } from './support/report.ts'
import { generateTsbsCpu, tsbsChangelogEntries, tsbsCpuOneDay } from './support/tsbs-cpu.ts'
import type { ChangelogEntry } from '../schemas/index.ts'

const { values: options } = parseArgs({
  options: {
    hours: { type: 'string' },
    partitions: { type: 'string' },
    rounds: { type: 'string' },
    runs: { type: 'string' },
    queries: { type: 'string' },
    compare: { type: 'string' },
  },
})
const HOURS = Number(options.hours ?? 24)
const PARTITIONS = Number(options.partitions ?? 6)
const ROUNDS = Number(options.rounds ?? 5)
const RUNS = Number(options.runs ?? 200)
const WARMUP = 200
const QUERIES = peerQueries(HOURS).filter((_, i) => options.queries === undefined || options.queries.split(',').map(Number).includes(i + 1))

type QueryModule = typeof import('../query/index.ts')
type SinksModule = typeof import('../sinks/index.ts')
type RenderModule = typeof import('../pipeline/http/sql-result.ts')

interface Checkout {
  name: string
  query: QueryModule
  render: RenderModule
  stores: Awaited<ReturnType<SinksModule['openPartitionStore']>>[]
  directory: string
}

async function load(name: string, root: string, entries: ChangelogEntry[]): Promise<Checkout> {
  const sinks = await import(resolve(root, 'sinks/index.ts')) as SinksModule
  const directory = mkdtempSync(join(tmpdir(), 'sluice-query-execute-'))
  const stores = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => sinks.openPartitionStore(join(directory, String(p)), { fsync: false, autoCompact: false })))
  const offsets = stores.map(() => 0n)
  for (const entry of entries) {
    const partition = partitionOf(entry.upsert!.seriesKey)
    await stores[partition]!.apply(entry, offsets[partition]!++)
  }
  for (const store of stores) await store.compactAll()
  return {
    name,
    query: await import(resolve(root, 'query/index.ts')) as QueryModule,
    render: await import(resolve(root, 'pipeline/http/sql-result.ts')) as RenderModule,
    stores,
    directory,
  }
}

/** A series' store: FNV-1a of its key, modulo the partitions. */
function partitionOf(seriesKey: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < seriesKey.length; i++) hash = Math.imul(hash ^ seriesKey.charCodeAt(i), 0x01000193)
  return (hash >>> 0) % PARTITIONS
}

type Language = 'SQL' | 'InfluxQL'

/** One answer of the query in the language, rendered as its route sends it; its length. */
async function answer(checkout: Checkout, language: Language, text: string): Promise<number> {
  if (language === 'SQL') {
    const result = checkout.query.executeSqlNow(text, { tenant: 'bench', database: 'bench', stores: checkout.stores, nowNs: 0n })
    return checkout.render.renderJsonBytes(result).length
  }
  const body = await checkout.query.executeInfluxql(text, {
    tenant: 'bench', database: 'bench', epoch: 'ms', stores: checkout.stores, nowNs: 0n,
    databases: async () => ['bench'], hasDatabase: async name => name === 'bench', createDatabase: async () => {}, authorizeRead: () => {},
  })
  return body.length
}

async function cpuMsPerRun(checkout: Checkout, language: Language, text: string): Promise<number> {
  const before = process.cpuUsage()
  for (let i = 0; i < RUNS; i++) await answer(checkout, language, text)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / 1000 / RUNS
}

async function main(): Promise<void> {
  const workload = generateTsbsCpu({ ...tsbsCpuOneDay, durationSeconds: HOURS * 3600 })
  const entries = [...tsbsChangelogEntries(workload.batches)]
  console.log(`# Query execution in process: ${describeMachine()}`)
  console.log(`# ${workload.values} values (${HOURS} h of the TSBS-like cpu workload) in ${PARTITIONS} compacted stores; ${ROUNDS} rounds × ${RUNS} runs per query, language and checkout after ${WARMUP} warm-up runs`)
  const pressure = cpuPressureMeter()
  pressure.start()
  const checkouts = [await load('this', resolve(import.meta.dirname, '..'), entries)]
  if (options.compare !== undefined) checkouts.push(await load('compare', options.compare, entries))
  try {
    const languages: Language[] = ['SQL', 'InfluxQL']
    const cases = QUERIES.flatMap(query => languages.map(language => ({ query, language, text: language === 'SQL' ? query.sql : query.influxql })))
    for (const c of cases) {
      const sizes = new Set<number>()
      for (const checkout of checkouts) {
        for (let i = 0; i < WARMUP; i++) await answer(checkout, c.language, c.text)
        sizes.add(await answer(checkout, c.language, c.text))
      }
      if (sizes.size > 1) console.log(`!!! ${c.query.name}, ${c.language}: the checkouts' answers differ in length (${[...sizes].join(', ')} bytes)`)
    }
    const results = new Map<string, number[]>()
    const keyOf = (checkout: Checkout, c: (typeof cases)[number]): string => `${checkout.name}|${c.query.name}|${c.language}`
    for (let round = 0; round < ROUNDS; round++) {
      for (const [index, c] of cases.entries()) {
        const order = (round + index) % 2 === 0 ? checkouts : [...checkouts].reverse()
        for (const checkout of order) {
          const key = keyOf(checkout, c)
          results.set(key, [...(results.get(key) ?? []), await cpuMsPerRun(checkout, c.language, c.text)])
        }
      }
      console.log(`# round ${round + 1} of ${ROUNDS} done`)
    }
    const compared = checkouts.length > 1
    console.log(`\nCPU-ms per query (median over rounds; per-round values)${compared ? ', and this / compare' : ''}`)
    console.log(`| query | language | this, CPU-ms | per round |${compared ? ' compare, CPU-ms | per round | **this / compare** |' : ''}`)
    console.log(`|---|---|---:|---|${compared ? '---:|---|---:|' : ''}`)
    for (const c of cases) {
      const cells = checkouts.map(checkout => results.get(keyOf(checkout, c))!)
      const row = cells.map(values => `${median(values).toFixed(3)} | ${values.map(v => v.toFixed(3)).join(', ')}`)
      const ratio = compared ? ` **${(median(cells[0]!) / median(cells[1]!)).toFixed(2)}** |` : ''
      console.log(`| ${c.query.name} | ${c.language} | ${row.join(' | ')} |${ratio}`)
    }
  } finally {
    for (const checkout of checkouts) {
      for (const store of checkout.stores) await store.close()
      rmSync(checkout.directory, { recursive: true, force: true })
    }
  }
  console.log(`\nCPU pressure over the run: ${pressure.percent()}`)
}

await main()
