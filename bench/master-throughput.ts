// Points per second through the master (sluice.ingest → committed sluice.changelog) on one node,
// at several transaction sizes, with the commit latency per transaction; and, in the same run, the
// same records through the pure transform (decode, compress, encode; no Kafka), so the Kafka
// overhead shows as a ratio.
//
//   npm run bench:master                  # 2 days of the TSBS-like cpu workload (100 hosts, 10 fields)
//   npm run bench:master -- --hours 6     # shorter
//
// The ingest topic is filled first, then the master starts and drains it; a fresh broker per run.

import { parseArgs } from 'node:util'
import { rmSync } from 'node:fs'
import kafkajs from 'kafkajs'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { parseLineProtocol, toIngestRecords } from '../pipeline/ingest/index.ts'
import { sluiceRecordHeaders } from '../pipeline/source/record-format.ts'
import { processIngestRecord, startProcessor, noCompression, type SeriesCompression } from '../pipeline/processor/index.ts'
import { generateTsbsCpu } from './support/tsbs-cpu.ts'
import { cpuPressureMeter, describeMachine, median } from './support/report.ts'

const { Kafka, logLevel } = kafkajs
const { values: args } = parseArgs({ options: { hours: { type: 'string', default: '48' }, sizes: { type: 'string', default: '100,1000,5000' } } })
const PARTITIONS = 4
const workload = generateTsbsCpu({ hosts: 100, intervalSeconds: 10, durationSeconds: Number(args.hours) * 3_600, linesPerBatch: 5_000 })
const records = workload.batches.flatMap(body => {
  const batch = parseLineProtocol(body, { nowNs: 0n })
  return toIngestRecords(batch, { tenant: 'default', database: 'bench', partitions: PARTITIONS, source: 'bench', receivedAtNs: 0n })
})
const compressions: Record<string, () => SeriesCompression> = { off: () => noCompression }

console.log(`# master throughput, ${describeMachine()}`)
console.log(`workload: TSBS-like cpu, ${workload.lines.toLocaleString()} points (${workload.values.toLocaleString()} values), ${records.length.toLocaleString()} ingest records, ${PARTITIONS} partitions`)

// The pure transform: the same records through processIngestRecord, best of three.
for (const [name, compression] of Object.entries(compressions)) {
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
  console.log(`transform only, compression ${name}: ${Math.round(workload.lines / (Math.min(...runs) / 1000)).toLocaleString()} points/s`)
}

const pureRate = (() => {
  const settings = { changelogSchemaId: 3, compression: noCompression }
  const started = performance.now()
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    processIngestRecord({ partition: record.partition, offset: String(i), key: record.key, value: record.value, headers: sluiceRecordHeaders }, settings)
  }
  return workload.lines / ((performance.now() - started) / 1000)
})()

console.log('\n| transaction size (records) | points/s | values/s | transactions | commit ms p50 | commit ms p99 | master / transform | CPU pressure |')
console.log('|---|---|---|---|---|---|---|---|')
for (const size of args.sizes.split(',').map(Number)) {
  const broker = await startBrokerProcess()
  try {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
    const admin = kafka.admin()
    await admin.connect()
    await admin.createTopics({ topics: [{ topic: 'sluice.ingest', numPartitions: PARTITIONS }] })
    await admin.disconnect()
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    for (let i = 0; i < records.length; i += 200) {
      await producer.send({
        topic: 'sluice.ingest',
        acks: -1,
        messages: records.slice(i, i + 200).map(record => ({ partition: record.partition, key: record.key, value: record.value, headers: { ...sluiceRecordHeaders } })),
      })
    }
    await producer.disconnect()

    const pressure = cpuPressureMeter()
    pressure.start()
    const started = performance.now()
    const processor = await startProcessor({ kafka, changelogSchemaId: 3, maxRecordsPerTransaction: size, lingerMs: 20, log: () => {} })
    while (processor.stats.recordsIn < records.length) await new Promise(resolve => setTimeout(resolve, 20))
    const seconds = (performance.now() - started) / 1000
    const latencies = processor.recentTransactionMs().sort((a, b) => a - b)
    const p99 = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!
    const rate = workload.lines / seconds
    console.log(`| ${size} | ${Math.round(rate).toLocaleString()} | ${Math.round(rate * 10).toLocaleString()} | ${processor.stats.transactionsCommitted} | ${median(latencies).toFixed(1)} | ${p99.toFixed(1)} | ${(rate / pureRate).toFixed(2)} | ${pressure.percent()} |`)
    await processor.stop()
  } finally {
    await broker.stop()
    rmSync(broker.dataDir, { recursive: true, force: true })
  }
}
