// Rendering a SQL answer as JSON into the bytes the route sends (pipeline/http/sql-result.ts
// renderJsonBytes), for two answers of bench/query-peers.ts: the 2,400 rows of "max per host per
// hour over a day" (hostname, bucket time, integer max) and the 300 rows of "5 hosts, mean per
// minute" (hostname, bucket time, float mean). The reference in the same run builds the same text
// as a string per row with times formatted through Date, as the route did before the cache of
// recent seconds, then encodes it; the ratio is current / reference, in process CPU time (garbage
// collection included).
//
// Run: npm run bench:sql-render [-- --rounds 5]

import { parseArgs } from 'node:util'
import { renderJsonBytes, type QueryAnswer, type QueryValue } from '../pipeline/http/sql-result.ts'
import { describeMachine, median } from './support/report.ts'

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } })
const ROUNDS = Number(options.rounds)
const RENDERS = 200

/** `hosts` × `buckets` rows of hostname, bucket time and a value: an integer max (bigint) or a float mean. */
function answerOf(hosts: number, buckets: number, bucketNs: bigint, value: 'integer' | 'float'): QueryAnswer {
  const rows: QueryValue[][] = []
  for (let host = 0; host < hosts; host++) {
    for (let bucket = 0; bucket < buckets; bucket++) {
      const level = 40 + ((host * 7 + bucket) % 60)
      rows.push([`host_${host}`, 1_451_606_400_000_000_000n + BigInt(bucket) * bucketNs, value === 'integer' ? BigInt(level) : level / 3])
    }
  }
  return { columns: [{ name: 'hostname', type: 'string' }, { name: 'bucket', type: 'timestamp' }, { name: 'value', type: value }], rows }
}
const answers = [
  { name: 'max per host per hour, 24 h', answer: answerOf(100, 24, 3_600_000_000_000n, 'integer') },
  { name: '5 hosts, mean per minute, 1 h', answer: answerOf(5, 60, 60_000_000_000n, 'float') },
]

/** Times through Date per row: the formatting before the cache, the reference. */
function referenceTime(timeNs: bigint): string {
  let seconds = timeNs / 1_000_000_000n
  let nanos = timeNs % 1_000_000_000n
  if (nanos < 0n) { nanos += 1_000_000_000n; seconds -= 1n }
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19)
  return nanos === 0n ? `${base}Z` : `${base}.${nanos.toString().padStart(9, '0').replace(/0+$/, '')}Z`
}

function renderReference(answer: QueryAnswer): string {
  const keys = answer.columns.map((c) => JSON.stringify(c.name) + ':')
  const out: string[] = []
  for (const row of answer.rows) {
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

console.log(describeMachine())
console.log(`| answer | rows | renderJsonBytes CPU ms (median of ${ROUNDS}) | reference, a string per row and Date per row, then encoded, CPU ms | ratio |`)
console.log('|---|---:|---:|---:|---:|')
for (const { name, answer } of answers) {
  const referenceBytes = (): Buffer => Buffer.from(renderReference(answer))
  if (!renderJsonBytes(answer).equals(referenceBytes())) throw new Error(`${name}: the two renderings differ: the comparison would be meaningless`)
  for (let i = 0; i < 50; i++) { renderJsonBytes(answer); referenceBytes() }
  const current: number[] = []
  const reference: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    current.push(msPer(() => renderJsonBytes(answer)))
    reference.push(msPer(referenceBytes))
  }
  console.log(`| ${name} | ${answer.rows.length} | ${median(current).toFixed(3)} | ${median(reference).toFixed(3)} | **${(median(current) / median(reference)).toFixed(2)}** |`)
}
