// Line protocol parser throughput on a generated 50 MB body of typical Telegraf lines (cpu, mem,
// disk, diskio, net, system, processes from 20 hosts), against two references over the same bytes in
// the same run: the machine's ceiling for touching them (Buffer.indexOf per line), and a naive
// split-and-regex parser that builds an object per point. Reports lines/s, MB/s and each one's speed
// relative to Sluice's (the ceiling's ratio is how far Sluice is from it).
//
// Run: node --import tsx bench/line-protocol.ts [--quick]

import { cpus } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { parseLineProtocol } from '../pipeline/ingest/line-protocol.ts'
import { lineProtocolLimits } from '../pipeline/ingest/limits.ts'
import { indexOfScan, naiveParse } from './support/line-protocol-references.ts'

const quick = process.argv.includes('--quick')
const TARGET_BYTES = (quick ? 10 : 50) * 1_000_000
const ROUNDS = quick ? 2 : 5

function telegrafBody(targetBytes: number): Buffer {
  const hosts = Array.from({ length: 20 }, (_, h) => `web-${String(h).padStart(2, '0')}.dc1.example.com`)
  const lines: string[] = []
  let bytes = 0
  let time = 1_700_000_000_000_000_000n
  let n = 0
  const r = (scale: number): string => (Math.abs(Math.sin(++n)) * scale).toFixed(2)
  const i = (scale: number): string => `${Math.floor(Math.abs(Math.sin(++n)) * scale)}i`
  while (bytes < targetBytes) {
    for (const host of hosts) {
      const t = time.toString()
      const batch = [
        `cpu,cpu=cpu-total,host=${host} usage_guest=0,usage_guest_nice=0,usage_idle=${r(100)},usage_iowait=${r(5)},usage_irq=0,usage_nice=0,usage_softirq=${r(1)},usage_steal=0,usage_system=${r(20)},usage_user=${r(60)} ${t}`,
        `mem,host=${host} active=${i(8e9)},available=${i(16e9)},available_percent=${r(100)},buffered=${i(1e9)},cached=${i(8e9)},free=${i(4e9)},inactive=${i(4e9)},total=16777216000i,used=${i(12e9)},used_percent=${r(100)} ${t}`,
        `disk,device=nvme0n1p2,fstype=ext4,host=${host},mode=rw,path=/ free=${i(4e11)},inodes_free=${i(3e7)},inodes_total=31227904i,inodes_used=${i(1e6)},total=502468108288i,used=${i(1e11)},used_percent=${r(100)} ${t}`,
        `diskio,host=${host},name=nvme0n1 io_time=${i(1e7)},iops_in_progress=0i,read_bytes=${i(1e11)},read_time=${i(1e6)},reads=${i(1e7)},weighted_io_time=${i(1e7)},write_bytes=${i(1e12)},write_time=${i(1e8)},writes=${i(1e8)} ${t}`,
        `net,host=${host},interface=eth0 bytes_recv=${i(1e12)},bytes_sent=${i(1e12)},drop_in=0i,drop_out=0i,err_in=0i,err_out=0i,packets_recv=${i(1e9)},packets_sent=${i(1e9)} ${t}`,
        `system,host=${host} load1=${r(4)},load15=${r(4)},load5=${r(4)},n_cpus=8i,n_users=${i(5)},uptime=${i(1e7)} ${t}`,
        `processes,host=${host} blocked=0i,dead=0i,idle=${i(100)},paging=0i,running=${i(5)},sleeping=${i(400)},stopped=0i,total=${i(500)},total_threads=${i(1500)},unknown=0i,zombies=0i ${t}`,
      ]
      for (const line of batch) { lines.push(line); bytes += line.length + 1 }
    }
    time += 10_000_000_000n
  }
  return Buffer.from(lines.join('\n') + '\n')
}

// One 50 MB body, above the 25 MB default maxBodyBytes, so the limit is raised for the bench.
const limits = lineProtocolLimits({ maxBodyBytes: 64_000_000 })

function sluiceParse(body: Buffer, release: boolean): number {
  const batch = parseLineProtocol(body, { nowNs: 1_700_000_000_000_000_000n, limits })
  if (batch.rejectedLineCount !== 0) throw new Error(`bench body has rejected lines: ${JSON.stringify(batch.errors.slice(0, 3))}`)
  const points = batch.pointCount
  // Released, as the pipeline does once a batch is encoded, the next parse reuses the typed arrays;
  // unreleased, every parse touches fresh memory (a page fault per 4 KiB) and leaves it to the GC.
  if (release) batch.release()
  return points
}

// Each round starts from a collected heap, so one contender's garbage is not charged to the next.
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void

function measure(name: string, body: Buffer, run: (body: Buffer) => number): { name: string; seconds: number; lines: number } {
  run(body) // warm-up
  let best = Infinity
  let lines = 0
  for (let round = 0; round < ROUNDS; round++) {
    collectGarbage()
    const start = process.hrtime.bigint()
    lines = run(body)
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9)
  }
  return { name, seconds: best, lines }
}

const body = telegrafBody(TARGET_BYTES)
console.log(`body: ${(body.length / 1e6).toFixed(1)} MB, ${indexOfScan(body)} lines; node ${process.version}, ${cpus()[0]?.model ?? 'unknown cpu'}; best of ${ROUNDS} rounds`)
const sluice = measure('sluice parseLineProtocol', body, b => sluiceParse(b, true))
const results = [
  measure('Buffer.indexOf scan (ceiling)', body, indexOfScan),
  measure('naive split + regex', body, naiveParse),
  measure('sluice, batches not released', body, b => sluiceParse(b, false)),
  sluice,
]
console.log(`${''.padEnd(32)} ${'lines/s'.padStart(12)} ${'MB/s'.padStart(12)}   speed relative to sluice`)
for (const result of results) {
  const mbPerSecond = body.length / 1e6 / result.seconds
  const linesPerSecond = result.lines / result.seconds
  console.log(`${result.name.padEnd(32)} ${(linesPerSecond / 1e6).toFixed(2).padStart(8)} M/s ${mbPerSecond.toFixed(0).padStart(7)} MB/s   ${(sluice.seconds / result.seconds).toFixed(3)}`)
}
