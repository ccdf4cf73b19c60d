// Line protocol parser throughput on one core on a TSBS-like cpu workload (100 hosts, 10 tags, 10
// integer fields, 10 s interval, one day: 864,000 lines, 8.64 M values), parsed as the HTTP API
// receives it, in 5,000-line bodies. In the same run, over the same bodies: the machine's ceiling for
// touching every line (Buffer.indexOf per line) and a naive split-and-regex parser. Rounds are
// interleaved and each starts from a collected heap; the table gives medians.
//
// Run: npm run bench:parser [-- --quick]   (the script pins the process to one core with taskset)

import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parseLineProtocol } from '../pipeline/ingest/index.ts'
import { generateTsbsCpu, tsbsCpuOneDay, TSBS_FIELDS } from './support/tsbs-cpu.ts'
import { indexOfScan, naiveParse } from './support/line-protocol-references.ts'
import { cpuAffinity, cpuPressureMeter, describeMachine, median } from './support/report.ts'
import { cpuSecondsOfSelf } from './support/cpu.ts'

const { values: options } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' } } })
const ROUNDS = Number(options.rounds ?? (options.quick ? 2 : 7))
const NOW_NS = 1_700_000_000_000_000_000n

setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

interface Contender { name: string; run: (body: Buffer) => { lines: number; values: number } }

const contenders: Contender[] = [
  {
    name: 'sluice parseLineProtocol',
    run: body => {
      const batch = parseLineProtocol(body, { nowNs: NOW_NS })
      if (batch.rejectedLineCount !== 0) throw new Error(`rejected lines: ${JSON.stringify(batch.errors.slice(0, 3))}`)
      const counts = { lines: batch.pointCount, values: batch.fieldCount }
      batch.release() // as the pipeline does once a batch is encoded
      return counts
    },
  },
  { name: 'Buffer.indexOf scan (ceiling)', run: body => { const lines = indexOfScan(body); return { lines, values: lines * TSBS_FIELDS.length } } },
  { name: 'naive split + regex + objects', run: body => { const lines = naiveParse(body); return { lines, values: lines * TSBS_FIELDS.length } } },
]

function runAll(contender: Contender, batches: Buffer[]): { seconds: number; cpuSeconds: number; lines: number; values: number } {
  collectGarbage()
  let lines = 0
  let values = 0
  const cpuBefore = cpuSecondsOfSelf()
  const start = process.hrtime.bigint()
  for (const body of batches) {
    const counts = contender.run(body)
    lines += counts.lines
    values += counts.values
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  return { seconds, cpuSeconds: cpuSecondsOfSelf() - cpuBefore, lines, values }
}

const workload = generateTsbsCpu(options.quick ? { ...tsbsCpuOneDay, durationSeconds: 8_640 } : tsbsCpuOneDay)
console.log(`# parser, TSBS-like cpu: ${describeMachine()}`)
console.log(`# ${workload.lines} lines, ${workload.values} values, ${(workload.bytes / 1e6).toFixed(1)} MB in ${workload.batches.length} bodies of ${tsbsCpuOneDay.linesPerBatch} lines; ${ROUNDS} interleaved rounds, medians; allowed CPUs: ${cpuAffinity()}`)

const pressure = cpuPressureMeter()
pressure.start()
const samples = new Map<Contender, Array<{ seconds: number; cpuSeconds: number }>>(contenders.map(c => [c, []]))
for (const contender of contenders) runAll(contender, workload.batches.slice(0, 20)) // warm-up
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? contenders : [...contenders].reverse()
  for (const contender of order) {
    const result = runAll(contender, workload.batches)
    if (result.lines !== workload.lines || result.values !== workload.values) throw new Error(`${contender.name} counted ${result.lines} lines, ${result.values} values`)
    samples.get(contender)!.push(result)
  }
}

const sluiceSeconds = median(samples.get(contenders[0]!)!.map(s => s.seconds))
// CPU/wall below 1 means the pinned core was shared for part of the run; the per-CPU-second rate
// is then the better figure of what one core does.
console.log('| parser | lines/s | values/s | MB/s | CPU/wall | values per CPU-s | time relative to sluice |')
console.log('|---|---:|---:|---:|---:|---:|---:|')
for (const [contender, results] of samples) {
  const seconds = median(results.map(s => s.seconds))
  const cpu = median(results.map(s => s.cpuSeconds / s.seconds))
  const cpuSeconds = median(results.map(s => s.cpuSeconds))
  console.log(`| ${contender.name} | ${(workload.lines / seconds / 1e6).toFixed(2)} M | ${(workload.values / seconds / 1e6).toFixed(1)} M | ${(workload.bytes / seconds / 1e6).toFixed(0)} | ${cpu.toFixed(2)} | ${(workload.values / cpuSeconds / 1e6).toFixed(1)} M | ${(seconds / sluiceSeconds).toFixed(2)} |`)
}
console.log(`CPU pressure over the run (share of time some task waited for a core): ${pressure.percent()}`)
