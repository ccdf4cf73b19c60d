// Points per second through the master (sluice.ingest → committed sluice.changelog) on one node,
// at several transaction sizes, with the commit latency per transaction; and, in the same run, the
// same records through the pure transform (decode, compress, encode; no Kafka), so the Kafka
// overhead shows as a ratio.
//
//   npm run bench:master                  # 2 days of the TSBS-like cpu workload (100 hosts, 10 fields)
//   npm run bench:master -- --hours 6     # shorter
//   npm run bench:master -- --sizes 1000 --compressions off   # one row: the byte path (no lossy rows)
//
// "master CPU-s" is this process's user + system time from the master's start to the last commit:
// the master alone (the broker is another process), for comparing changes to the master's path
// between two checkouts run one after the other.
//
// The ingest topic is filled first, then the master starts and drains it; a fresh broker per run.

import '../lib/kafka/aborted-filter.ts' // the processor refuses to start without it
import '../lib/kafka/native-crc32c.ts' // before kafkajs loads, as bin/cli.ts does for a node
import '../lib/kafka/request-framing.ts'
import '../lib/kafka/message-grouping.ts'
import { parseArgs } from 'node:util'
import { rmSync } from 'node:fs'
import kafkajs from 'kafkajs'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { parseLineProtocol, toIngestRecords } from '../pipeline/ingest/index.ts'
import { sluiceRecordHeaders } from '../pipeline/source/record-format.ts'
import { LossyCompression, processIngestRecord, startProcessor, noCompression, type SeriesCompression } from '../pipeline/processor/index.ts'
import { parseCompressionConfig } from '../pipeline/transforms/index.ts'
import { generateTsbsCpu } from './support/tsbs-cpu.ts'
import { registerLz4Codec } from '../lib/kafka/lz4-codec.ts'
import { cpuPressureMeter, describeMachine, median } from './support/report.ts'

const { Kafka, logLevel, CompressionTypes } = kafkajs
const { values: args } = parseArgs({ options: { hours: { type: 'string', default: '24' }, sizes: { type: 'string', default: '100,1000,5000' }, compressions: { type: 'string', default: 'off,deadband(2),sdt(2)' } } })
const PARTITIONS = 4
const workload = generateTsbsCpu({ hosts: 100, intervalSeconds: 10, durationSeconds: Number(args.hours) * 3_600, linesPerBatch: 5_000 })
const records = workload.batches.flatMap(body => {
  const batch = parseLineProtocol(body, { nowNs: 0n })
  return toIngestRecords(batch, { tenant: 'default', database: 'bench', partitions: PARTITIONS, source: 'bench', receivedAtNs: 0n })
})
// The usage_* fields are integer random walks in 0..100: a band of 2 and a deviation of 2 drop most steps.
const lossy = (codec: string) => () => new LossyCompression({ config: parseCompressionConfig({ databases: { bench: { codec } } }), stateSchemaId: 4 })
const compressions: Record<string, () => SeriesCompression> = { off: () => noCompression, 'deadband(2)': lossy('DEADBAND(2)'), 'sdt(2)': lossy('SDT(2)') }

console.log(`# master throughput, ${describeMachine()}`)
console.log(`workload: TSBS-like cpu, ${workload.lines.toLocaleString()} points (${workload.values.toLocaleString()} values), ${records.length.toLocaleString()} ingest records, ${PARTITIONS} partitions`)

// The pure transform: the same records through processIngestRecord, best of three.
const chosen = new Set(args.compressions.split(','))
for (const name of chosen) if (!(name in compressions)) throw new Error(`--compressions: unknown ${name} (use ${Object.keys(compressions).join(', ')})`)
const pureRates = new Map<string, number>()
for (const [name, compression] of Object.entries(compressions)) {
  if (!chosen.has(name)) continue
  const runs: number[] = []
  for (let run = 0; run < 3; run++) {
    const settings = { changelogSchemaId: 3, compression: compression() }
    const started = performance.now()
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!
      processIngestRecord({ partition: record.partition, offset: String(i), key: record.key, value: record.value, headers: sluiceRecordHeaders }, settings)
    }
    runs.push(performance.now() - started)
  }
  pureRates.set(name, workload.lines / (Math.min(...runs) / 1000))
  console.log(`transform only, compression ${name}: ${Math.round(pureRates.get(name)!).toLocaleString()} points/s`)
}

console.log('\n| compression | transaction size (records) | points/s | values/s | values kept | transactions | commit ms p50 | commit ms p99 | master / transform | master CPU-s | master CPU-s per M values | CPU pressure |')
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|')
const runs = [
  ...args.sizes.split(',').map(Number).map(size => ({ name: 'off', size })),
  { name: 'deadband(2)', size: 1_000 },
  { name: 'sdt(2)', size: 1_000 },
].filter(run => chosen.has(run.name))
for (const { name, size } of runs) {
  const broker = await startBrokerProcess()
  try {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: 'sluice.ingest', numPartitions: PARTITIONS }] })
    await admin.disconnect()
    // LZ4, as the HTTP write path compresses sluice.ingest: the master decompresses what it fetches.
    registerLz4Codec()
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    for (let i = 0; i < records.length; i += 200) {
      await producer.send({
        topic: 'sluice.ingest',
        acks: -1,
        compression: CompressionTypes.LZ4,
        messages: records.slice(i, i + 200).map(record => ({ partition: record.partition, key: record.key, value: record.value, headers: { ...sluiceRecordHeaders } })),
      })
    }
    await producer.disconnect()

    const pressure = cpuPressureMeter()
    pressure.start()
    const cpuBefore = process.cpuUsage()
    const started = performance.now()
    const processor = await startProcessor({ kafka, changelogSchemaId: 3, maxRecordsPerTransaction: size, lingerMs: 20, log: () => {}, compressionFor: compressions[name] })
    while (processor.stats.recordsIn < records.length) await new Promise(resolve => setTimeout(resolve, 20))
    const seconds = (performance.now() - started) / 1000
    const cpu = process.cpuUsage(cpuBefore)
    const cpuSeconds = (cpu.user + cpu.system) / 1e6
    const latencies = processor.recentTransactionMs().sort((a, b) => a - b)
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!
    const rate = workload.lines / seconds
    const kept = await keptValues(processor)
    console.log(`| ${name} | ${size} | ${Math.round(rate).toLocaleString()} | ${Math.round(rate * 10).toLocaleString()} | ${kept} | ${processor.stats.transactionsCommitted} | ${median(latencies).toFixed(1)} | ${p99.toFixed(1)} | ${(rate / pureRates.get(name)!).toFixed(2)} | ${cpuSeconds.toFixed(2)} | ${(cpuSeconds / (workload.values / 1e6)).toFixed(3)} | ${pressure.percent()} |`)
    await processor.stop()
  } finally {
    await broker.stop()
    rmSync(broker.dataDir, { recursive: true, force: true })
  }
}

/** Share of values the masters kept (lossy compression), from their filters' counters. */
async function keptValues(processor: Awaited<ReturnType<typeof startProcessor>>): Promise<string> {
  let pointsIn = 0
  let pointsKept = 0
  for (const compression of await processor.compressors()) {
    if (!(compression instanceof LossyCompression)) return '100%'
    for (const row of compression.report()) { pointsIn += row.pointsIn; pointsKept += row.pointsKept }
  }
  return pointsIn === 0 ? '100%' : `${(100 * pointsKept / pointsIn).toFixed(1)}%`
}
