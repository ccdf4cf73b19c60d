// How blockMinPoints trades bytes for hour-long blocks (docs/benchmarks.md, "Hour-aligned blocks:
// what they cost in bytes"): 50 integer random walks of one field at 10 s, 30 s, 60 s and 300 s,
// stored with blocks cut at blockMaxPoints only (blockAlignNs 0n) and with blocks ending on the hour
// after 32, 64, 128 and 256 points, fully compacted. Per cell: bytes per value, and the share of
// points in blocks inside one clock hour (what an hourly bucket answers from block statistics).
// Usage: node --import tsx bench/segments-min-points.ts [--quick]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPartitionStore, type StoreSettings } from '../sinks/index.ts'
import { describeMachine } from './support/report.ts'

const quick = process.argv.includes('--quick')
const START_NS = 1_451_606_400_000_000_000n
const HOUR_NS = 3_600_000_000_000n
const SERIES = 50

async function measure(intervalSeconds: number, days: number, settings: Partial<StoreSettings>): Promise<{ bytesPerValue: number; hourly: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-min-points-'))
  try {
    const store = await openPartitionStore(dir, { fsync: false, autoCompact: false, ...settings })
    const points = Math.floor((days * 86_400) / intervalSeconds)
    let offset = 0n
    for (let s = 0; s < SERIES; s++) {
      let value = 50
      let state = s + 1
      const tags = [{ key: 'id', value: `s${s}` }]
      for (let from = 0; from < points; from += 1000) {
        const batch = []
        for (let i = from; i < Math.min(points, from + 1000); i++) {
          state = (state * 1103515245 + 12345) % 2147483648
          value += (state % 5) - 2
          batch.push({ timeNs: START_NS + BigInt(i * intervalSeconds) * 1_000_000_000n, fields: [{ name: 'x', value: BigInt(value) }] })
        }
        await store.apply({
          ingestPartition: 0, ingestOffset: 0n, command: null,
          upsert: { tenant: 't', database: 'db', measurement: 'm', seriesKey: `m,id=s${s}`, tags, points: batch, pointsIn: batch.length },
        }, offset++)
      }
    }
    await store.compactAll()
    let inOneHour = 0
    for (const series of store.listSeries({ tenant: 't', database: 'db' })) {
      for (const block of store.aggregate({ seriesId: series.id, field: 'x' }).blocks) {
        if (block.minTimeNs / HOUR_NS === block.maxTimeNs / HOUR_NS) inOneHour += block.count
      }
    }
    const bytes = store.stats().segmentBytes
    await store.close()
    return { bytesPerValue: bytes / (SERIES * points), hourly: inOneHour / (SERIES * points) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

console.log(`bench:segments min points — ${describeMachine()}${quick ? ' (quick)' : ''}`)
const variants: [string, Partial<StoreSettings>][] = [
  ['unaligned', { blockAlignNs: 0n }], ['min 32', { blockMinPoints: 32 }], ['min 64', { blockMinPoints: 64 }],
  ['min 128 (default)', { blockMinPoints: 128 }], ['min 256', { blockMinPoints: 256 }],
]
console.log(`| interval | ${variants.map(([name]) => name).join(' | ')} |`)
console.log(`|---|${variants.map(() => '---:').join('|')}|`)
for (const intervalSeconds of [10, 30, 60, 300]) {
  const days = (intervalSeconds >= 60 ? 28 : 7) / (quick ? 7 : 1)
  const cells: string[] = []
  for (const [, settings] of variants) {
    const { bytesPerValue, hourly } = await measure(intervalSeconds, days, settings)
    cells.push(`${bytesPerValue.toFixed(3)} B, ${(100 * hourly).toFixed(0)} %`)
  }
  console.log(`| ${intervalSeconds} s | ${cells.join(' | ')} |`)
}
