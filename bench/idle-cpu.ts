// What an idle `sluice node` and its `sluice broker` burn: both started as real processes (as the
// integration tests start them), left to settle, then their CPU time (utime + stime from
// /proc/<pid>/stat) over a window, as a share of one core. A bare `node` process with a 1 s timer
// runs beside them as the floor. With --compare DIR (another checkout, e.g. from `git worktree add`),
// the same is measured there too, alternating run by run, and the ratio printed.
//
// Run: node --import tsx bench/idle-cpu.ts [--runs 2] [--settle-ms 20000] [--window-ms 30000] [--compare DIR]
// Needs Redis on 127.0.0.1:6379 (the node's control store), as the integration tests do.

import { parseArgs } from 'node:util'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describeMachine, median } from './support/report.ts'

const { values: options } = parseArgs({
  options: {
    runs: { type: 'string', default: '2' },
    'settle-ms': { type: 'string', default: '20000' },
    'window-ms': { type: 'string', default: '30000' },
    compare: { type: 'string' },
  },
  strict: true,
})
const RUNS = Number(options.runs)
const SETTLE_MS = Number(options['settle-ms'])
const WINDOW_MS = Number(options['window-ms'])
const here = resolve(import.meta.dirname, '..')
const trees = options.compare === undefined ? [here] : [resolve(options.compare), here]

/** CLK_TCK on Linux: /proc/<pid>/stat counts CPU time in hundredths of a second. */
const TICKS_PER_SECOND = 100

function cpuSeconds(pid: number): number {
  // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

interface Sample { node: number; broker: number; floor: number }

async function measure(tree: string): Promise<Sample> {
  const { startBrokerProcess } = await import(`${tree}/lib/process/broker-process.ts`) as typeof import('../lib/process/broker-process.ts')
  const { startNodeProcess } = await import(`${tree}/lib/process/node-process.ts`) as typeof import('../lib/process/node-process.ts')
  const broker = await startBrokerProcess()
  const node = await startNodeProcess({ kafka: broker.bootstrap })
  const floor = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  try {
    await sleep(SETTLE_MS)
    const pids = [node.child.pid!, broker.child.pid!, floor.pid!]
    const before = pids.map(cpuSeconds)
    const startedMs = Date.now()
    await sleep(WINDOW_MS)
    const after = pids.map(cpuSeconds)
    const seconds = (Date.now() - startedMs) / 1000
    const share = (i: number): number => (after[i]! - before[i]!) / seconds
    return { node: share(0), broker: share(1), floor: share(2) }
  } finally {
    floor.kill()
    await node.stop()
    await broker.stop()
  }
}

const percent = (share: number): string => `${(100 * share).toFixed(2)}%`
console.log(`# ${describeMachine()}`)
console.log(`# settle ${SETTLE_MS} ms, window ${WINDOW_MS} ms, ${RUNS} run(s) per tree`)
const samples = new Map<string, Sample[]>(trees.map(tree => [tree, []]))
for (let run = 0; run < RUNS; run++) {
  for (const tree of trees) {
    const sample = await measure(tree)
    samples.get(tree)!.push(sample)
    console.log(`# ${tree} run ${run + 1}: node ${percent(sample.node)}, broker ${percent(sample.broker)}, bare node ${percent(sample.floor)} of a core`)
  }
}
console.log('\n| tree | node | broker | node + broker | bare node (floor) |\n|---|---:|---:|---:|---:|')
const totals = new Map<string, number>()
for (const [tree, list] of samples) {
  const node = median(list.map(s => s.node))
  const broker = median(list.map(s => s.broker))
  totals.set(tree, node + broker)
  console.log(`| ${tree} | ${percent(node)} | ${percent(broker)} | ${percent(node + broker)} | ${percent(median(list.map(s => s.floor)))} |`)
}
if (trees.length === 2) console.log(`\nnode + broker, this tree / ${trees[0]}: ${(totals.get(here)! / totals.get(trees[0]!)!).toFixed(2)}`)
