// Segment storage benchmark (issue 5 §4): bytes on disk per value after compaction, apply rate,
// flush and compaction throughput, scan rate and peak RSS of one partition store, on the TSBS-like
// cpu workload (100 hosts, 10 integer fields, 10 s, one day: 8.64 M values) and a smooth sensor
// workload (1,000 sensors, 1 float field, 1 s, one hour: 3.6 M values). References in the same
// run: 16 bytes/value raw (int64 time + 64-bit value), LZ4 of the line protocol, and, when
// installed, InfluxDB 1.x and VictoriaMetrics on-disk bytes after their own compaction.
// With SDT: the smooth sensor workload through the master's swinging-door filter
// (pipeline/transforms) at two deviations, then stored and compacted: bytes per ORIGINAL value, and
// the max error of every dropped point from the line between the kept points around it, as read
// back from the store (recomputed here, not the filter's own counter).
// Usage: npm run bench:segments [-- --quick] [-- --no-peers] [-- --sdt-only]

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compressSync } from 'lz4-napi'
import type { ChangelogEntry, Point, Tag } from '../schemas/index.ts'
import { openPartitionStore, type PartitionStore } from '../sinks/index.ts'
import { generateTsbsCpu, tsbsCpuOneDay } from './support/tsbs-cpu.ts'
import { describeMachine, cpuPressureMeter } from './support/report.ts'
import { measurePeers, type PeerResult } from './support/disk-peers.ts'
import { FieldType, type Column } from '../sinks/index.ts'
import { computeStats, decodeBlock, encodeBlock, sealBlock, unsealBlock } from '../sinks/segments/encoding/block.ts'
import { createFilter, Decision, type LossyFilter } from '../pipeline/transforms/index.ts'

const quick = process.argv.includes('--quick')
const withPeers = !process.argv.includes('--no-peers')
const sdtOnly = process.argv.includes('--sdt-only')

interface Workload {
  name: string
  database: string
  values: number
  /** Line protocol batches, as a client would send them. */
  lineProtocol: Buffer[]
  /** The same data as changelog entries, one series per entry, in batch order. */
  entries(): Generator<ChangelogEntry>
}

/** Parses the generator's own line protocol (no escapes, integer fields): bench input only. */
function* entriesOfLineProtocol(batches: Buffer[], database: string): Generator<ChangelogEntry> {
  for (const batch of batches) {
    const bySeries = new Map<string, { tags: Tag[]; measurement: string; points: Point[] }>()
    for (const line of batch.toString('utf8').split('\n')) {
      if (line === '') continue
      const [key, fieldText, time] = line.split(' ') as [string, string, string]
      let series = bySeries.get(key)
      if (!series) {
        const [measurement, ...pairs] = key.split(',')
        const tags = pairs.map((pair) => { const [k, v] = pair.split('='); return { key: k!, value: v! } })
        bySeries.set(key, series = { measurement: measurement!, tags, points: [] })
      }
      const fields = fieldText.split(',').map((pair) => {
        const at = pair.indexOf('=')
        const raw = pair.slice(at + 1)
        return { name: pair.slice(0, at), value: raw.endsWith('i') ? BigInt(raw.slice(0, -1)) : Number(raw) }
      })
      series.points.push({ timeNs: BigInt(time), fields })
    }
    for (const [seriesKey, s] of bySeries) {
      yield {
        ingestPartition: 0, ingestOffset: 0n, command: null,
        upsert: { tenant: 'bench', database, measurement: s.measurement, seriesKey, tags: s.tags, points: s.points, pointsIn: s.points.length },
      }
    }
  }
}

function cpuWorkload(): Workload {
  const options = quick ? { ...tsbsCpuOneDay, durationSeconds: 8_640 } : tsbsCpuOneDay
  const generated = generateTsbsCpu(options)
  return {
    database: 'cpu',
    name: `TSBS-like cpu (100 hosts × 10 integer fields, 10 s, ${quick ? '2.4 h' : 'one day'})`,
    values: generated.values,
    lineProtocol: generated.batches,
    entries: () => entriesOfLineProtocol(generated.batches, 'cpu'),
  }
}

/** Smooth sensors: a slow sine per sensor plus a small random walk, 2 decimals, as thermometers report. */
function sensorWorkload(): Workload {
  const sensors = 1000
  const seconds = quick ? 360 : 3600
  const startNs = 1_700_000_000_000_000_000n
  let state = 0x5eed
  const random = (): number => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 2 ** 32 }
  const phase = Array.from({ length: sensors }, () => random() * 2 * Math.PI)
  const drift = new Float64Array(sensors)
  const batches: Buffer[] = []
  const linesPerBatch = 5000
  let lines: string[] = []
  for (let second = 0; second < seconds; second++) {
    const time = (startNs + BigInt(second) * 1_000_000_000n).toString()
    for (let s = 0; s < sensors; s++) {
      drift[s]! += (random() - 0.5) * 0.02
      const value = 20 + 5 * Math.sin(phase[s]! + (2 * Math.PI * second) / 3600) + drift[s]!
      lines.push(`sensor,id=s${s} temperature=${value.toFixed(2)} ${time}`)
      if (lines.length === linesPerBatch) { batches.push(Buffer.from(lines.join('\n') + '\n')); lines = [] }
    }
  }
  if (lines.length > 0) batches.push(Buffer.from(lines.join('\n') + '\n'))
  return {
    database: 'sensors',
    name: `smooth sensors (1,000 sensors × 1 float field, 1 s, ${quick ? '6 min' : 'one hour'})`,
    values: sensors * seconds,
    lineProtocol: batches,
    entries: () => entriesOfLineProtocol(batches, 'sensors'),
  }
}

interface SluiceResult {
  applySeconds: number
  entries: number
  bytesBeforeCompaction: number
  segmentsBeforeCompaction: number
  compactionSeconds: number
  bytesAfterCompaction: number
  flushSeconds: number
  flushBytes: number
  scanSeconds: number
  scannedValues: number
}

async function runSluice(workload: Workload): Promise<SluiceResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-segments-'))
  try {
    // The entries are parsed from line protocol on the fly (all of them at once would not fit in
    // memory as objects); only the apply calls and the final flush are timed.
    const store = await openPartitionStore(join(dir, 'apply'), { autoCompact: true })
    let offset = 0n
    let applySeconds = 0
    let entryCount = 0
    for (const entry of workload.entries()) {
      const start = performance.now()
      await store.apply(entry, offset++)
      applySeconds += (performance.now() - start) / 1000
      entryCount++
    }
    const flushStart = performance.now()
    await store.flush()
    applySeconds += (performance.now() - flushStart) / 1000
    const before = store.stats()
    const compactionStart = performance.now()
    await store.compactAll()
    const compactionSeconds = (performance.now() - compactionStart) / 1000
    const after = store.stats()
    const scanStart = performance.now()
    let scannedValues = 0
    for (const series of store.listSeries({ tenant: 'bench', database: workload.database })) {
      for (const field of series.fields) for (const chunk of store.scan({ seriesId: series.id, field: field.name })) scannedValues += chunk.times.length
    }
    const scanSeconds = (performance.now() - scanStart) / 1000
    await store.close()
    const flush = await timeOneFlush(join(dir, 'flush'), workload)
    return {
      applySeconds, entries: entryCount, bytesBeforeCompaction: before.segmentBytes, segmentsBeforeCompaction: before.segments, compactionSeconds,
      bytesAfterCompaction: after.segmentBytes, ...flush, scanSeconds, scannedValues,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Applies everything into one memtable big enough to hold it, then times the single flush. */
async function timeOneFlush(dir: string, workload: Workload): Promise<{ flushSeconds: number; flushBytes: number }> {
  const store: PartitionStore = await openPartitionStore(dir, { memtableMaxBytes: 4 * 1024 * 1024 * 1024, autoCompact: false })
  let offset = 0n
  for (const entry of workload.entries()) await store.apply(entry, offset++)
  const start = performance.now()
  await store.flush()
  const flushSeconds = (performance.now() - start) / 1000
  const flushBytes = store.stats().segmentBytes
  await store.close()
  return { flushSeconds, flushBytes }
}

const perValue = (bytes: number, values: number): string => (bytes / values).toFixed(3)
const rate = (count: number, seconds: number): string => `${(count / seconds / 1e6).toFixed(2)} M/s`

/** Encode (payload + LZ4 seal) and decode (verify + unseal + decode) of 8,192-point blocks, per type. */
function codecThroughput(): void {
  const n = 8192
  const times = BigInt64Array.from({ length: n }, (_, i) => 1_451_606_400_000_000_000n + BigInt(i) * 10_000_000_000n)
  let state = 7
  const random = (): number => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 2 ** 32 }
  let walk = 50
  const columns: [string, Column][] = [
    ['integer random walk', { type: FieldType.INTEGER, times, values: BigInt64Array.from({ length: n }, () => BigInt(walk = Math.min(100, Math.max(0, walk + Math.floor(random() * 5) - 2)))) }],
    ['float, 2 decimals (decimal)', { type: FieldType.FLOAT, times, values: Float64Array.from({ length: n }, (_, i) => Number((20 + 5 * Math.sin(i / 600)).toFixed(2))) }],
    ['float, full precision (XOR)', { type: FieldType.FLOAT, times, values: Float64Array.from({ length: n }, (_, i) => 20 + 5 * Math.sin(i / 600) + random() * 1e-6) }],
    ['boolean', { type: FieldType.BOOLEAN, times, values: Uint8Array.from({ length: n }, () => (random() < 0.1 ? 1 : 0)) }],
    ['string, 3 distinct', { type: FieldType.STRING, times, values: Array.from({ length: n }, () => ['idle', 'busy', 'off'][Math.floor(random() * 3)]!) }],
  ]
  console.log('\n## Block codecs (8,192 points, regular times, as segment format 2 writes them)')
  console.log('Partial: a scan whose range ends a tenth of the way into the block (values decoded up to there), same run.')
  console.log('| column | stored bytes/point | encode values/s | decode values/s | whole decode µs | partial (first 10%) µs | partial / whole |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  for (const [name, column] of columns) {
    const rounds = 60
    const entry = { ...computeStats(column), type: column.type }
    let sealed = sealBlock(encodeBlock(column, undefined, { indexed: true }))
    let start = performance.now()
    for (let r = 0; r < rounds; r++) sealed = sealBlock(encodeBlock(column, undefined, { indexed: true }))
    const encodeSeconds = (performance.now() - start) / 1000
    start = performance.now()
    for (let r = 0; r < rounds; r++) decodeBlock(unsealBlock(sealed.stored, sealed.codec, sealed.rawLength, sealed.crc32c), { entry })
    const decodeSeconds = (performance.now() - start) / 1000
    const toNs = column.times[Math.floor(n / 10)]!
    start = performance.now()
    for (let r = 0; r < rounds; r++) decodeBlock(unsealBlock(sealed.stored, sealed.codec, sealed.rawLength, sealed.crc32c), { entry, toNs })
    const partialSeconds = (performance.now() - start) / 1000
    const micros = (seconds: number): string => ((seconds / rounds) * 1e6).toFixed(0)
    console.log(`| ${name} | ${(sealed.stored.length / n).toFixed(3)} | ${rate(n * rounds, encodeSeconds)} | ${rate(n * rounds, decodeSeconds)} | ` +
      `${micros(decodeSeconds)} | ${micros(partialSeconds)} | ${(partialSeconds / decodeSeconds).toFixed(2)} |`)
  }
}

interface LossyResult {
  setting: string
  pointsIn: number
  pointsKept: number
  bytesAfterCompaction: number
  /** Largest distance of an original point from the line through the stored points around it. */
  maxError: number
  /** Original points at a stored time whose stored value differs (must be 0). */
  changedKept: number
}

/**
 * The workload through one swinging-door filter per (series, field), as a master runs it: each
 * entry's points offered in order, a held point emitted before the point that closes its door, and
 * every filter flushed at the end (the last held point written, as the filter's max interval or a
 * codec switch would). The kept points are applied to a fresh store, flushed and fully compacted;
 * then every original point is compared with what a reader reconstructs from the stored points:
 * the stored value at its time, else linear interpolation between the stored points around it.
 */
async function runLossy(workload: Workload, deviation: number | null): Promise<LossyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-segments-sdt-'))
  const originals = new Map<string, { times: number[]; values: number[] }>()
  const filters = new Map<string, LossyFilter>()
  const baseNs = 1_700_000_000_000_000_000n
  let pointsIn = 0
  let pointsKept = 0
  try {
    const store = await openPartitionStore(join(dir, 'store'), { autoCompact: true })
    let offset = 0n
    let template: ChangelogEntry | undefined
    for (const entry of workload.entries()) {
      const upsert = entry.upsert!
      template ??= entry
      let original = originals.get(upsert.seriesKey)
      if (!original) originals.set(upsert.seriesKey, original = { times: [], values: [] })
      let filter = filters.get(upsert.seriesKey)
      if (!filter && deviation !== null) filters.set(upsert.seriesKey, filter = createFilter({ algorithm: 'sdt', deviation }))
      const kept: Point[] = []
      for (const point of upsert.points) {
        const field = point.fields[0]!
        const value = field.value as number
        original.times.push(Number(point.timeNs - baseNs))
        original.values.push(value)
        pointsIn++
        if (!filter) { kept.push(point); continue }
        const decision = filter.offer(point.timeNs, value)
        if ((decision & Decision.EMIT_HELD) !== 0) kept.push({ timeNs: filter.emittedTimeNs, fields: [{ name: field.name, value: filter.emittedValue }] })
        if ((decision & Decision.KEEP) !== 0) kept.push(point)
      }
      pointsKept += kept.length
      if (kept.length > 0) await store.apply({ ingestPartition: 0, ingestOffset: 0n, command: null, upsert: { ...upsert, points: kept, pointsIn: upsert.points.length } }, offset++)
    }
    for (const [seriesKey, filter] of filters) {
      if (filter.flush() === Decision.NONE) continue
      const upsert = template!.upsert!
      const measurement = seriesKey.split(',')[0]!
      const tags = seriesKey.split(',').slice(1).map((pair) => { const [k, v] = pair.split('='); return { key: k!, value: v! } })
      pointsKept++
      await store.apply({ ingestPartition: 0, ingestOffset: 0n, command: null, upsert: { ...upsert, measurement, seriesKey, tags, points: [{ timeNs: filter.emittedTimeNs, fields: [{ name: 'temperature', value: filter.emittedValue }] }], pointsIn: 0 } }, offset++)
    }
    await store.flush()
    await store.compactAll()
    const bytesAfterCompaction = store.stats().segmentBytes
    let maxError = 0
    let changedKept = 0
    let storedPoints = 0
    for (const series of store.listSeries({ tenant: 'bench', database: workload.database })) {
      const times: number[] = []
      const values: number[] = []
      for (const chunk of store.scan({ seriesId: series.id, field: 'temperature' })) {
        for (let i = 0; i < chunk.times.length; i++) { times.push(Number(chunk.times[i]! - baseNs)); values.push((chunk.values as Float64Array)[i]!) }
      }
      storedPoints += times.length
      const original = originals.get(series.seriesKey)!
      let k = 0 // times[k] is the first stored time >= the original's
      for (let i = 0; i < original.times.length; i++) {
        const t = original.times[i]!
        const v = original.values[i]!
        while (k < times.length && times[k]! < t) k++
        let reconstructed: number
        if (k < times.length && times[k] === t) {
          if (values[k] !== v) changedKept++
          reconstructed = values[k]!
        } else if (k === 0 || k === times.length) {
          reconstructed = values[k === 0 ? 0 : times.length - 1]! // outside the stored range: the nearest stored value
        } else {
          const [t0, v0, t1, v1] = [times[k - 1]!, values[k - 1]!, times[k]!, values[k]!]
          reconstructed = v0 + ((v1 - v0) * (t - t0)) / (t1 - t0)
        }
        maxError = Math.max(maxError, Math.abs(v - reconstructed))
      }
    }
    if (storedPoints !== pointsKept) throw new Error(`the store holds ${storedPoints} points, ${pointsKept} were kept`)
    await store.close()
    return { setting: deviation === null ? 'lossless' : `SDT(${deviation})`, pointsIn, pointsKept, bytesAfterCompaction, maxError, changedKept }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function lossySection(): Promise<void> {
  const workload = sensorWorkload()
  console.log(`\n## ${workload.name} through swinging door (the master's filter), stored and fully compacted: ${workload.values.toLocaleString('en')} values`)
  console.log('| setting | values kept | bytes after compaction | **bytes per original value** | bytes per kept value | max error, recomputed from the stored points |')
  console.log('|---|---:|---:|---:|---:|---:|')
  for (const deviation of [null, 0.05, 0.5]) {
    const result = await runLossy(workload, deviation)
    if (result.changedKept > 0) throw new Error(`${result.setting}: ${result.changedKept} stored values differ from the originals at their times`)
    console.log(`| ${result.setting} | ${(100 * result.pointsKept / result.pointsIn).toFixed(2)}% (${result.pointsKept.toLocaleString('en')}) | ${result.bytesAfterCompaction.toLocaleString('en')} | ` +
      `**${perValue(result.bytesAfterCompaction, result.pointsIn)}** | ${perValue(result.bytesAfterCompaction, result.pointsKept)} | ${result.maxError.toPrecision(6)} |`)
  }
}

async function main(): Promise<void> {
  console.log(`bench:segments — ${describeMachine()}${quick ? ' (quick)' : ''}`)
  const pressure = cpuPressureMeter()
  pressure.start()
  if (sdtOnly) {
    await lossySection()
    console.log(`\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; CPU pressure during the run ${pressure.percent()}`)
    return
  }
  codecThroughput()
  for (const makeWorkload of [cpuWorkload, sensorWorkload]) {
    const workload = makeWorkload()
    const lineProtocolBytes = workload.lineProtocol.reduce((n, b) => n + b.length, 0)
    const lz4Bytes = workload.lineProtocol.reduce((n, b) => n + compressSync(b).length, 0)
    const sluice = await runSluice(workload)
    console.log(`\n## ${workload.name}: ${workload.values.toLocaleString('en')} values`)
    console.log('| store | bytes on disk | bytes/value |')
    console.log('|---|---:|---:|')
    console.log(`| raw (int64 time + 64-bit value) | ${(workload.values * 16).toLocaleString('en')} | 16.000 |`)
    console.log(`| line protocol | ${lineProtocolBytes.toLocaleString('en')} | ${perValue(lineProtocolBytes, workload.values)} |`)
    console.log(`| line protocol, LZ4 per 5,000-line batch | ${lz4Bytes.toLocaleString('en')} | ${perValue(lz4Bytes, workload.values)} |`)
    console.log(`| Sluice segments, before compaction (${sluice.segmentsBeforeCompaction} segments) | ${sluice.bytesBeforeCompaction.toLocaleString('en')} | ${perValue(sluice.bytesBeforeCompaction, workload.values)} |`)
    console.log(`| **Sluice segments, after compaction** | ${sluice.bytesAfterCompaction.toLocaleString('en')} | **${perValue(sluice.bytesAfterCompaction, workload.values)}** |`)
    if (withPeers) {
      const peers: PeerResult[] = await measurePeers(workload.lineProtocol, workload.database)
      for (const peer of peers) {
        if (peer.bytes === null) console.log(`| ${peer.name} | n/a: ${peer.note} | |`)
        else console.log(`| ${peer.name} ${peer.version} (${peer.note}) | ${peer.bytes.toLocaleString('en')} | ${perValue(peer.bytes, workload.values)} |`)
      }
    }
    console.log(`\napply (${sluice.entries.toLocaleString('en')} entries; fsync on, background flush + tiered compaction; final flush included, parsing excluded): ${rate(workload.values, sluice.applySeconds)} values (${sluice.applySeconds.toFixed(2)} s)`)
    console.log(`flush of one memtable holding everything: ${rate(workload.values, sluice.flushSeconds)} values, ${(sluice.flushBytes / 2 ** 20 / sluice.flushSeconds).toFixed(1)} MiB/s written`)
    console.log(`full compaction: ${rate(workload.values, sluice.compactionSeconds)} values (${sluice.compactionSeconds.toFixed(2)} s)`)
    console.log(`scan of every (series, field): ${rate(sluice.scannedValues, sluice.scanSeconds)} values (${sluice.scannedValues.toLocaleString('en')} values)`)
  }
  await lossySection()
  console.log(`\npeak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; CPU pressure during the run ${pressure.percent()}`)
}

await main()
