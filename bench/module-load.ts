// What loading one of Sluice's modules costs a fresh process: `node --expose-gc --import
// ./lib/loader/register.mjs` (as a `sluice` process loads TypeScript) imports the module, collects
// garbage twice, and reports the import's milliseconds and the heap used after it. With --compare DIR
// (a git worktree of another commit, node_modules linked) the same module of that checkout is loaded
// too, the two taking turns run by run; medians and the same-run ratios are printed.
//
// Run: npm run bench:module-load [-- --module query/parse.ts] [-- --runs 7] [-- --compare DIR]

import { parseArgs } from 'node:util'
import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describeMachine, median } from './support/report.ts'

const { values: options } = parseArgs({ options: { module: { type: 'string', default: 'query/parse.ts' }, runs: { type: 'string', default: '7' }, compare: { type: 'string' } } })
const RUNS = Number(options.runs)
const trees = [resolve(import.meta.dirname, '..'), ...(options.compare === undefined ? [] : [resolve(options.compare)])]

const PROBE = `const started = performance.now(); await import(process.argv[1]); const ms = performance.now() - started; gc(); gc();
console.log(JSON.stringify({ ms, heapMB: process.memoryUsage().heapUsed / 1e6, rssMB: process.memoryUsage().rss / 1e6 }))`

function load(tree: string): { ms: number; heapMB: number; rssMB: number } {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', './lib/loader/register.mjs', '--input-type=module', '-e', PROBE, resolve(tree, options.module!)], { cwd: tree, encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').at(-1)!) as { ms: number; heapMB: number; rssMB: number }
}

const samples = trees.map(() => [] as Array<{ ms: number; heapMB: number; rssMB: number }>)
for (let run = 0; run < RUNS; run++) {
  for (let k = 0; k < trees.length; k++) {
    const at = (run + k) % trees.length
    samples[at]!.push(load(trees[at]!))
  }
}
console.log(`# loading ${options.module} in a fresh process: ${describeMachine()}; ${RUNS} runs per tree, alternating`)
console.log('| tree | import ms (median, range) | heap used after, MB | RSS, MB |\n|---|---:|---:|---:|')
for (const [k, tree] of trees.entries()) {
  const of = (field: 'ms' | 'heapMB' | 'rssMB'): number[] => samples[k]!.map(s => s[field])
  const ms = of('ms')
  console.log(`| ${tree} | ${median(ms).toFixed(0)} (${Math.min(...ms).toFixed(0)}-${Math.max(...ms).toFixed(0)}) | ${median(of('heapMB')).toFixed(1)} | ${median(of('rssMB')).toFixed(0)} |`)
}
if (trees.length === 2) {
  const ratio = (field: 'ms' | 'heapMB'): string => (median(samples[0]!.map(s => s[field])) / median(samples[1]!.map(s => s[field]))).toFixed(2)
  console.log(`\nthis / compare: import time ${ratio('ms')}, heap ${ratio('heapMB')}`)
}
