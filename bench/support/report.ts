// What every benchmark prints about where and when it ran, and small statistics helpers.

import { readFileSync } from 'node:fs'
import { cpus, totalmem, release } from 'node:os'

export function describeMachine(): string {
  const cpu = cpus()
  return `${new Date().toISOString()}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, node ${process.version}`
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
