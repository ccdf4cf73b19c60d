// CPU seconds used so far by a process (user + system), from /proc, so a benchmark can say which
// process was busy: on a 2-core machine a side at ~1.0 core is the bottleneck.

import { readFileSync } from 'node:fs'

/** Linux reports /proc/<pid>/stat times in clock ticks; USER_HZ is 100 on every mainstream kernel. */
const CLOCK_TICKS_PER_SECOND = 100

export function cpuSecondsOfPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const userTicks = Number(fields[11])
  const systemTicks = Number(fields[12])
  return (userTicks + systemTicks) / CLOCK_TICKS_PER_SECOND
}

export function cpuSecondsOfSelf(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}
