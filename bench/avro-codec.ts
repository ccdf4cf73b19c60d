// Avro codec throughput on the hot record, a 1,000-point IngestBatch (one series, four fields per
// point: two doubles, an integer, a boolean; nanosecond timestamps): Sluice's hand-written codec,
// avsc with the same bigint long (the general path), and JSON.stringify / JSON.parse of the same
// data (bigints as strings) as the reference. Reports points/s, bytes per record, and each one's
// time relative to JSON.
//
// Run: node --import tsx bench/avro-codec.ts [--quick]

import { cpus } from 'node:os'
import { changelogEntryType, decodeIngestBatch, encode, encodeIngestBatch, ingestBatchType, type ChangelogEntry } from '../schemas/index.ts'
import { decodeChangelogEntry } from '../schemas/changelog-entry-codec.ts'
import { benchmarkBatch } from '../schemas/testing/samples.ts'

const quick = process.argv.includes('--quick')
const POINTS = 1_000
const ROUNDS = quick ? 3 : 7
const MIN_ROUND_MS = quick ? 200 : 500

const batch = benchmarkBatch(POINTS)
const avroBytes = encodeIngestBatch(batch)
const jsonText = JSON.stringify(batch, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))
if (!avroBytes.equals(ingestBatchType.avro.toBuffer(batch))) throw new Error('fast codec and avsc disagree')
// The same points as the changelog entry a master writes for them (what a replica decodes).
const entry: ChangelogEntry = {
  ingestPartition: 0, ingestOffset: 42n, command: null,
  upsert: { tenant: batch.tenant, database: batch.database, measurement: batch.measurement, seriesKey: batch.seriesKey, tags: batch.tags, points: batch.points, pointsIn: batch.points.length },
}
const entryBytes = encode(changelogEntryType, entry)

let sink = 0

/** Median of ROUNDS rounds, each at least MIN_ROUND_MS of back-to-back calls; returns records per second. */
function measure(run: () => number): number {
  for (let i = 0; i < 20; i++) sink += run() // warm-up: let the JIT settle
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
    rates.push(calls / (Number(elapsedNs) / 1e9))
  }
  rates.sort((a, b) => a - b)
  return rates[Math.floor(rates.length / 2)]!
}

const cases: Array<{ name: string; run: () => number }> = [
  { name: 'encode  sluice (hand-written)', run: () => encodeIngestBatch(batch).length },
  { name: 'encode  avsc (bigint long)', run: () => ingestBatchType.avro.toBuffer(batch).length },
  { name: 'encode  JSON.stringify', run: () => JSON.stringify(batch, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)).length },
  { name: 'decode  sluice (hand-written)', run: () => decodeIngestBatch(avroBytes).points.length },
  { name: 'decode  avsc (bigint long)', run: () => (ingestBatchType.avro.fromBuffer(avroBytes) as { points: unknown[] }).points.length },
  { name: 'decode  JSON.parse', run: () => (JSON.parse(jsonText) as { points: unknown[] }).points.length },
  { name: 'changelog decode sluice', run: () => decodeChangelogEntry(entryBytes).upsert!.points.length },
  { name: 'changelog decode avsc', run: () => (changelogEntryType.avro.fromBuffer(entryBytes) as ChangelogEntry).upsert!.points.length },
]

console.log(`IngestBatch of ${POINTS} points × 4 fields; Avro ${avroBytes.length} bytes, JSON ${Buffer.byteLength(jsonText)} bytes`)
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}; median of ${ROUNDS} rounds of ≥${MIN_ROUND_MS} ms\n`)
const results = cases.map(({ name, run }) => ({ name, recordsPerSecond: measure(run) }))
/** The reference of a row: JSON for IngestBatch encode/decode, avsc for the changelog entry decode. */
const referenceRate = (name: string): number => name.startsWith('changelog')
  ? results.find((r) => r.name === 'changelog decode avsc')!.recordsPerSecond
  : results.find((r) => r.name.startsWith(name.slice(0, 6)) && r.name.includes('JSON'))!.recordsPerSecond
console.log('case                            points/s      records/s   µs/record   vs reference (JSON; changelog: avsc)')
for (const { name, recordsPerSecond } of results) {
  const ratio = recordsPerSecond / referenceRate(name)
  console.log(`${name.padEnd(30)}  ${(recordsPerSecond * POINTS / 1e6).toFixed(2).padStart(6)} M  ${recordsPerSecond.toFixed(0).padStart(11)}  ${(1e6 / recordsPerSecond).toFixed(1).padStart(10)}   ${ratio.toFixed(2)}×`)
}
if (sink === 0) console.log('(unreachable)')
