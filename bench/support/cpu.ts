// CPU seconds used so far by a process (user + system), from /proc, so a benchmark can say which
// process was busy: on a 2-core machine a side at ~1.0 core is the bottleneck.

import { readFileSync } from 'node:fs'

/** Linux reports /proc/<pid>/stat times in clock ticks; USER_HZ is 100 on every mainstream kernel. */
const CLOCK_TICKS_PER_SECOND = 100

/** The fields of /proc/<pid>/stat after the command name (which is in parentheses and may contain spaces): state is [0]. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

export function cpuSecondsOfPid(pid: number): number {
  const fields = statFields(pid)
  const userTicks = Number(fields[11])
  const systemTicks = Number(fields[12])
  return (userTicks + systemTicks) / CLOCK_TICKS_PER_SECOND
}

/** cpuSecondsOfPid summed over processes (a target's node and broker). */
export function cpuSecondsOfPids(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuSecondsOfPid(pid), 0)
}

export function cpuSecondsOfSelf(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}

/** What one thread (a process's main thread, by its pid) did so far: on-CPU and run-queue time, page faults. */
export interface ThreadSample {
  /** Nanoseconds on a CPU (/proc/<pid>/schedstat, first field). */
  cpuNs: number
  /** Nanoseconds runnable but waiting for a CPU (/proc/<pid>/schedstat, second field). */
  waitNs: number
  /** Minor page faults of the whole process (/proc/<pid>/stat). */
  minorFaults: number
}

export function sampleThread(pid: number): ThreadSample {
  const [cpuNs, waitNs] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ').map(Number)
  return { cpuNs: cpuNs!, waitNs: waitNs!, minorFaults: Number(statFields(pid)[7]) }
}

/** CPU seconds the whole machine was busy so far, every core (user, nice, system, irq, softirq, steal of /proc/stat). */
export function machineBusySeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number)
  const [user, nice, system, , , irq, softirq, steal] = fields
  return (user! + nice! + system! + irq! + softirq! + (steal ?? 0)) / CLOCK_TICKS_PER_SECOND
}

/**
 * Milliseconds of this thread's CPU a fixed piece of integer arithmetic takes (a few tens of ms): run
 * beside a measurement, it says whether the machine itself was slower at that time (another guest on
 * the same host core, a lower clock) rather than the process measured doing more work.
 */
export function cpuCanaryMs(): number {
  const started = process.cpuUsage()
  let x = 0x9e3779b9 | 0
  let sum = 0
  for (let i = 0; i < 30_000_000; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5
    sum = (sum + (x & 0xffff)) | 0
  }
  const used = process.cpuUsage(started)
  if (sum === 42) console.log('') // keeps the loop from being optimized away
  return (used.user + used.system) / 1000
}
