// Lossy-compression filters alone (no Kafka, no I/O): points/s of deadband and swinging door on one
// (series, field) over real-looking signals, against a same-run baseline loop that walks the same
// points and keeps everything, and the filter that keeps everything (compression off). Also reports
// the compression ratio reached, the largest error, and garbage collections per 10 million points
// while the filter runs (the per-point call allocates nothing, so that should be 0).
//
// Run: npm run bench:lossy [-- --quick]

import { createFilter, Decision, type CompressionSettings } from '../pipeline/transforms/index.ts'
import { loadavg } from 'node:os'
import { PerformanceObserver } from 'node:perf_hooks'
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
  let sum = 0
  for (let i = 0; i < POINTS; i++) {
    const timeNs = times[i]!
    if (timeNs > lastNs) lastNs = timeNs
    sum += values[i]! // a local: a module-level double would be boxed on every store
    kept++
  }
  sink += sum > 0 ? 1 : 0
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
let pointsMeasured = 0

/** Median points/s over ROUNDS rounds of at least MIN_ROUND_MS each; counts the points run in pointsMeasured. */
function measure(run: () => number): number {
  for (let i = 0; i < 3; i++) sink += run() // warm-up: let the JIT settle
  const rates: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    let calls = 0
    const start = process.hrtime.bigint()
    let elapsedNs = 0n
    do {
      sink += run()
      calls++
      elapsedNs = process.hrtime.bigint() - start
    } while (elapsedNs < BigInt(MIN_ROUND_MS) * 1_000_000n)
    pointsMeasured += calls * POINTS
    rates.push((calls * POINTS) / (Number(elapsedNs) / 1e9))
  }
  rates.sort((a, b) => a - b)
  return rates[Math.floor(rates.length / 2)]!
}

/** Lets the event loop deliver pending GC performance entries. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20))
}

interface CaseResult {
  baselinePointsPerSecond: number
  pointsPerSecond: number
  kept: number
  maxError: number
  /** Garbage collections (any kind) per 10 million points during the filter's timed rounds. */
  gcPer10MPoints: number
}

// Each (signal, case) runs in its own process, so the call site of offer sees one filter class, as
// a processor's does for a field (a shared loop over every class would measure V8's megamorphic calls).
const childAt = process.argv.indexOf('--child')
if (childAt >= 0) {
  const signal = signals[Number(process.argv[childAt + 1])]!
  const { settings } = settingsCases[Number(process.argv[childAt + 2])]!
  const baselinePointsPerSecond = measure(() => baseline(signal))
  new PerformanceObserver((list) => { gcCount += list.getEntries().length }).observe({ entryTypes: ['gc'] })
  await settle()
  gcCount = 0
  pointsMeasured = 0
  const pointsPerSecond = measure(() => filterRun(signal, settings))
  await settle()
  const result: CaseResult = {
    baselinePointsPerSecond, pointsPerSecond, kept: lastRun.kept, maxError: lastRun.maxError,
    gcPer10MPoints: (gcCount * 1e7) / pointsMeasured,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
} else {
  const { execFileSync } = await import('node:child_process')
  console.log(`lossy compression, one (series, field), ${POINTS.toLocaleString('en')} points per run (~1 s apart, irregular), one process per case`)
  console.log(`${describeMachine()}; median of ${ROUNDS} rounds of ≥${MIN_ROUND_MS} ms; baseline = a loop over the same points keeping every one, same process; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}\n`)
  console.log('signal         case                    baseline M/s   M points/s   vs baseline    kept    ratio   max error   GC/10M points')
  for (const [signalIndex, signal] of signals.entries()) {
    for (const [caseIndex, { name }] of settingsCases.entries()) {
      const output = execFileSync(process.execPath, ['--import', 'tsx', new URL(import.meta.url).pathname,
        '--child', String(signalIndex), String(caseIndex), ...(quick ? ['--quick'] : [])], { encoding: 'utf8' })
      const r = JSON.parse(output.trim().split('\n').at(-1)!) as CaseResult
      console.log([
        signal.name.padEnd(14), name.padEnd(22), (r.baselinePointsPerSecond / 1e6).toFixed(1).padStart(13),
        (r.pointsPerSecond / 1e6).toFixed(1).padStart(12), `${(r.pointsPerSecond / r.baselinePointsPerSecond).toFixed(2)}×`.padStart(12),
        `${((100 * r.kept) / POINTS).toFixed(1)}%`.padStart(7), `${(POINTS / r.kept).toFixed(1)}×`.padStart(8),
        r.maxError.toFixed(3).padStart(11), r.gcPer10MPoints.toFixed(1).padStart(15),
      ].join(' '))
    }
  }
}
if (sink === 0) console.log('(unreachable)')
