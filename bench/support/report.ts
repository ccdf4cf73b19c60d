// What every benchmark prints about where and when it ran, and small statistics helpers.

import { mkdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { cpus, totalmem, release } from 'node:os'

export function describeMachine(): string {
  const cpu = cpus()
  return `${new Date().toISOString()}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, node ${process.version}`
}

/**
 * CPU milliseconds of each run, round by round (process.cpuUsage: every thread, the garbage
 * collector's included), the order reversed every other round so that the machine's load falls on
 * every run alike. times[i][round] is run i's.
 */
export function cpuMsInTurns(runs: ReadonlyArray<() => unknown>, rounds: number): number[][] {
  const times = runs.map(() => [] as number[])
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? runs.map((_, i) => i) : runs.map((_, i) => i).reverse()
    for (const i of order) {
      const start = process.cpuUsage()
      runs[i]!()
      const used = process.cpuUsage(start)
      times[i]!.push((used.user + used.system) / 1000)
    }
  }
  return times
}

/** "this / compare, per round: median …, range …-…" of two runs' per-round times (cpuMsInTurns). */
export function perRoundRatio(these: readonly number[], those: readonly number[]): string {
  const ratios = these.map((ms, round) => ms / those[round]!).sort((a, b) => a - b)
  return `this / compare, per round: median ${median(ratios).toFixed(3)}, range ${ratios[0]!.toFixed(3)}-${ratios.at(-1)!.toFixed(3)}`
}

export function median(values: number[]): number {
  if (values.length === 0) throw new Error('median of nothing')
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** The CPUs this process may run on (taskset), from /proc/self/status. */
export function cpuAffinity(): string {
  const match = /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return match?.[1] ?? 'unknown'
}

/**
 * Share of wall time during which some runnable task waited for a CPU (Linux PSI, /proc/pressure/cpu),
 * since `start()`: near 0 on a quiet machine; high means the numbers were measured under contention
 * (the benchmark's own processes count too when they outnumber the cores).
 */
export function cpuPressureMeter(): { start(): void; percent(): string } {
  const stalledMicroseconds = (): number | undefined => {
    try {
      const match = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'))
      return match ? Number(match[1]) : undefined
    } catch { return undefined }
  }
  let startedStalled: number | undefined
  let startedAt = 0
  return {
    start() { startedStalled = stalledMicroseconds(); startedAt = performance.now() },
    percent() {
      const now = stalledMicroseconds()
      if (now === undefined || startedStalled === undefined) return 'unknown'
      return `${(100 * (now - startedStalled) / 1000 / (performance.now() - startedAt)).toFixed(0)}%`
    },
  }
}

/**
 * Makes every Node process started from now on (through this process's environment) write a CPU
 * profile to `directory` when it exits; see cpu-profile-preload.mjs. Returns a function that undoes it.
 */
export function profileChildProcesses(directory: string): () => void {
  const previous = { nodeOptions: process.env.NODE_OPTIONS, directory: process.env.SLUICE_BENCH_PROFILE_DIR }
  mkdirSync(directory, { recursive: true })
  process.env.SLUICE_BENCH_PROFILE_DIR = resolve(directory)
  process.env.NODE_OPTIONS = `${previous.nodeOptions ?? ''} --import ${resolve(import.meta.dirname, 'cpu-profile-preload.mjs')}`.trim()
  return () => {
    for (const [name, value] of [['NODE_OPTIONS', previous.nodeOptions], ['SLUICE_BENCH_PROFILE_DIR', previous.directory]] as const) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/** Like profileChildProcesses, for allocations (allocation-profile-preload.mjs; allocation-summary.ts reads the files). */
export function profileChildAllocations(directory: string): void {
  mkdirSync(directory, { recursive: true })
  process.env.SLUICE_BENCH_ALLOCATION_DIR = resolve(directory)
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import ${resolve(import.meta.dirname, 'allocation-profile-preload.mjs')}`.trim()
}
