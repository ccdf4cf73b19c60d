// Rendering a SQL answer as JSON (pipeline/http/sql-result.ts renderJson): the 2,400 rows of "max per
// host per hour over a day" (100 hosts × 24 hourly buckets: hostname, bucket time, max). The
// reference in the same run renders the same rows with times formatted through Date per row, as
// formatTimeNs did before its cache of recent seconds; the ratio is current / reference.
//
// Run: npm run bench:sql-render [-- --rounds 5]

import { parseArgs } from 'node:util'
import { renderJson, type QueryAnswer, type QueryValue } from '../pipeline/http/sql-result.ts'
import { describeMachine, median } from './support/report.ts'

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } })
const ROUNDS = Number(options.rounds)
const RENDERS = 200

const rows: QueryValue[][] = []
for (let host = 0; host < 100; host++) {
  for (let hour = 0; hour < 24; hour++) rows.push([`host_${host}`, 1_451_606_400_000_000_000n + BigInt(hour) * 3_600_000_000_000n, BigInt(40 + ((host * 7 + hour) % 60))])
}
const answer: QueryAnswer = { columns: [{ name: 'hostname', type: 'string' }, { name: 'hour', type: 'timestamp' }, { name: 'max', type: 'integer' }], rows }

/** Times through Date per row: the formatting before the cache, the reference. */
function referenceTime(timeNs: bigint): string {
  let seconds = timeNs / 1_000_000_000n
  let nanos = timeNs % 1_000_000_000n
  if (nanos < 0n) { nanos += 1_000_000_000n; seconds -= 1n }
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19)
  return nanos === 0n ? `${base}Z` : `${base}.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}Z`
}

function renderReference(): string {
  const keys = answer.columns.map((c) => JSON.stringify(c.name) + ':')
  const out: string[] = []
  for (const row of rows) {
    out.push(`{${keys[0]}${JSON.stringify(row[0])},${keys[1]}"${referenceTime(row[1] as bigint)}",${keys[2]}${String(row[2])}}`)
  }
  return '[' + out.join(',') + ']'
}

function msPer(work: () => string): number {
  const start = process.hrtime.bigint()
  for (let i = 0; i < RENDERS; i++) work()
  return Number(process.hrtime.bigint() - start) / 1e6 / RENDERS
}

if (renderJson(answer) !== renderReference()) throw new Error('the two renderings differ: the comparison would be meaningless')
for (let i = 0; i < 50; i++) { renderJson(answer); renderReference() }
const current: number[] = []
const reference: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  current.push(msPer(() => renderJson(answer)))
  reference.push(msPer(renderReference))
}
console.log(describeMachine())
console.log(`| rows | renderJson ms (median of ${ROUNDS}) | reference, Date per row, ms | ratio |`)
console.log('|---:|---:|---:|---:|')
console.log(`| ${rows.length} | ${median(current).toFixed(3)} | ${median(reference).toFixed(3)} | **${(median(current) / median(reference)).toFixed(2)}** |`)
