// Rendering a SQL answer as JSON into the bytes the route sends (pipeline/http/sql-result.ts
// renderJsonBytes): the 2,400 rows of "max per host per hour over a day" (100 hosts × 24 hourly
// buckets: hostname, bucket time, max). The reference in the same run builds the same text as a
// string per row with times formatted through Date, as the route did before the cache of recent
// seconds and the byte writer, then encodes it; the ratio is current / reference, in process CPU
// time (garbage collection included: it was most of the difference).
//
// Run: npm run bench:sql-render [-- --rounds 5]

import { parseArgs } from 'node:util'
import { renderJsonBytes, type QueryAnswer, type QueryValue } from '../pipeline/http/sql-result.ts'
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

function msPer(work: () => unknown): number {
  const start = process.cpuUsage()
  for (let i = 0; i < RENDERS; i++) work()
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000 / RENDERS
}

const referenceBytes = (): Buffer => Buffer.from(renderReference())

if (!renderJsonBytes(answer).equals(referenceBytes())) throw new Error('the two renderings differ: the comparison would be meaningless')
for (let i = 0; i < 50; i++) { renderJsonBytes(answer); referenceBytes() }
const current: number[] = []
const reference: number[] = []
for (let round = 0; round < ROUNDS; round++) {
  current.push(msPer(() => renderJsonBytes(answer)))
  reference.push(msPer(referenceBytes))
}
console.log(describeMachine())
console.log(`| rows | renderJsonBytes CPU ms (median of ${ROUNDS}) | reference, a string per row and Date per row, then encoded, CPU ms | ratio |`)
console.log('|---:|---:|---:|---:|')
console.log(`| ${rows.length} | ${median(current).toFixed(3)} | ${median(reference).toFixed(3)} | **${(median(current) / median(reference)).toFixed(2)}** |`)
