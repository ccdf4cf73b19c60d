// Lossy-compression filters alone (no Kafka, no I/O): points/s of deadband and swinging door on one
// (series, field) over real-looking signals, against a same-run baseline loop that walks the same
// points and keeps everything, and the filter that keeps everything (compression off). Also reports
// the compression ratio reached, the largest error, and garbage collections per million points (the
// per-point call is meant to allocate nothing, so that should be ~0).
//
// Run: npm run bench:lossy [-- --quick]

import { PerformanceObserver } from 'node:perf_hooks'
import { createFilter, Decision, type CompressionSettings } from '../pipeline/transforms/index.ts'
import { describeMachine } from './support/report.ts'

const quick = process.argv.includes('--quick')
const POINTS = 1_000_000
const ROUNDS = quick ? 3 : 7
const MIN_ROUND_MS = quick ? 200 : 500
const EPOCH_NS = 1_764_400_000_000_000_000n

/** A deterministic pseudo-random generator (xorshift32), so every run sees the same signals. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 4294967296
  }
}

interface Signal {
  name: string
  times: bigint[]
  values: Float64Array
}

function makeSignal(name: string, valueAt: (i: number, next: () => number) => number): Signal {
  const next = random(42)
  const times: bigint[] = new Array(POINTS)
  const values = new Float64Array(POINTS)
  let timeNs = EPOCH_NS
  for (let i = 0; i < POINTS; i++) {
    timeNs += BigInt(900_000_000 + Math.floor(next() * 200_000_000)) // ~1 s, irregular
    times[i] = timeNs
    values[i] = valueAt(i, next)
  }
  return { name, times, values }
}

let walk = 0
const signals = [
  makeSignal('random walk', (_i, next) => (walk += (next() - 0.5) * 0.2)),
  makeSignal('sine + noise', (i, next) => 10 * Math.sin((2 * Math.PI * i) / 600) + (next() - 0.5) * 0.2),
]

const settingsCases: Array<{ name: string; settings: CompressionSettings }> = [
  { name: 'off (keep all)', settings: { algorithm: 'off' } },
  { name: 'deadband(0.5)', settings: { algorithm: 'deadband', band: 0.5 } },
  { name: 'deadband(2%, 0, 10m)', settings: { algorithm: 'deadband', band: 0.02, relative: true, minIntervalNs: 0n, maxIntervalNs: 600_000_000_000n } },
  { name: 'sdt(0.5)', settings: { algorithm: 'sdt', deviation: 0.5 } },
  { name: 'sdt(0.5, 1s, 10m)', settings: { algorithm: 'sdt', deviation: 0.5, minIntervalNs: 1_000_000_000n, maxIntervalNs: 600_000_000_000n } },
]

let sink = 0

/** The baseline: the same walk over the same points, keeping every one. */
function baseline(signal: Signal): number {
  const { times, values } = signal
  let kept = 0
  let lastNs = 0n
  for (let i = 0; i < POINTS; i++) {
    const timeNs = times[i]!
    if (timeNs > lastNs) lastNs = timeNs
    sink += values[i]!
    kept++
  }
  return kept
}

let lastRun = { kept: 0, maxError: 0 }

function filterRun(signal: Signal, settings: CompressionSettings): number {
  const filter = createFilter(settings)
  const { times, values } = signal
  let kept = 0
  for (let i = 0; i < POINTS; i++) {
    const decision = filter.offer(times[i]!, values[i]!)
    if ((decision & Decision.EMIT_HELD) !== 0) kept++
    if ((decision & Decision.KEEP) !== 0) kept++
  }
  if (filter.flush() !== Decision.NONE) kept++
  lastRun = { kept, maxError: filter.maxError }
  return kept
}

let gcCount = 0
new PerformanceObserver((list) => { gcCount += list.getEntries().length }).observe({ entryTypes: ['gc'] })

/** Median points/s over ROUNDS rounds of at least MIN_ROUND_MS each, and GCs per million points. */
async function measure(run: () => number): Promise<{ pointsPerSecond: number; gcPerMillion: number }> {
  for (let i = 0; i < 3; i++) sink += run() // warm-up
  const rates: number[] = []
  let points = 0
  await new Promise((resolve) => setImmediate(resolve)) // deliver pending GC entries
  const gcBefore = gcCount
  for (let round = 0; round < ROUNDS; round++) {
    let calls = 0
    const start = process.hrtime.bigint()
    let elapsedNs = 0n
    do {
      sink += run()
      calls++
      elapsedNs = process.hrtime.bigint() - start
    } while (elapsedNs < BigInt(MIN_ROUND_MS) * 1_000_000n)
    points += calls * POINTS
    rates.push((calls * POINTS) / (Number(elapsedNs) / 1e9))
  }
  await new Promise((resolve) => setImmediate(resolve))
  rates.sort((a, b) => a - b)
  return { pointsPerSecond: rates[Math.floor(rates.length / 2)]!, gcPerMillion: ((gcCount - gcBefore) * 1e6) / points }
}

console.log(`lossy compression, one (series, field), ${POINTS.toLocaleString('en')} points per run (~1 s apart, irregular)`)
console.log(`${describeMachine()}; median of ${ROUNDS} rounds of ≥${MIN_ROUND_MS} ms\n`)
console.log('signal         case                      M points/s   vs baseline   kept      ratio    max error   GC/M points')
for (const signal of signals) {
  const base = await measure(() => baseline(signal))
  console.log(`${signal.name.padEnd(14)} ${'baseline (loop, keep all)'.padEnd(25)} ${(base.pointsPerSecond / 1e6).toFixed(1).padStart(10)}   ${'1.00'.padStart(11)}   ${'100%'.padStart(6)}   ${'1.0'.padStart(6)}   ${'0'.padStart(9)}   ${base.gcPerMillion.toFixed(2).padStart(11)}`)
  for (const { name, settings } of settingsCases) {
    const result = await measure(() => filterRun(signal, settings))
    const keptShare = `${((100 * lastRun.kept) / POINTS).toFixed(1)}%`
    console.log(`${signal.name.padEnd(14)} ${name.padEnd(25)} ${(result.pointsPerSecond / 1e6).toFixed(1).padStart(10)}   ${(result.pointsPerSecond / base.pointsPerSecond).toFixed(2).padStart(11)}   ${keptShare.padStart(6)}   ${(POINTS / lastRun.kept).toFixed(1).padStart(6)}   ${lastRun.maxError.toFixed(3).padStart(9)}   ${result.gcPerMillion.toFixed(2).padStart(11)}`)
  }
}
if (sink === 0) console.log('(unreachable)')
