// kafkajs producing to and consuming from the embedded broker (a separate process, default fsync
// policy), against the machine's own ceiling for the same bytes: a plain Node TCP socket into a
// file with the same fsync cadence. Reports records/s, MB/s and broker/ceiling.
//
// Run: npm run bench:broker            (or: node --import tsx bench/broker-throughput.ts [--quick])

import { createServer, connect, type Socket } from 'node:net'
import { openSync, writeSync, fdatasync, closeSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir, cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import kafkajs from 'kafkajs'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { defaultBrokerConfig } from '../broker/config.ts'

const { Kafka, logLevel } = kafkajs
const quick = process.argv.includes('--quick')
const TOTAL_BYTES = (quick ? 16 : 64) * 1024 * 1024
const FLUSH_INTERVAL_MS = defaultBrokerConfig.flushIntervalMs

interface Case { name: string; recordBytes: number; messagesPerSend: number; idempotent: boolean; transactional: boolean }
const cases: Case[] = [
  { name: '100 B, acks=all', recordBytes: 100, messagesPerSend: 1000, idempotent: false, transactional: false },
  { name: '100 B, idempotent', recordBytes: 100, messagesPerSend: 1000, idempotent: true, transactional: false },
  { name: '100 B, transactional', recordBytes: 100, messagesPerSend: 1000, idempotent: true, transactional: true },
  { name: '10 KiB, acks=all', recordBytes: 10240, messagesPerSend: 50, idempotent: false, transactional: false },
  { name: '10 KiB, idempotent', recordBytes: 10240, messagesPerSend: 50, idempotent: true, transactional: false },
  { name: '10 KiB, transactional', recordBytes: 10240, messagesPerSend: 50, idempotent: true, transactional: true },
]

/** The ceiling: frames of the same size written to a file, fdatasync'd in groups, acked after. */
async function ceiling(recordBytes: number, messagesPerSend: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ceiling-'))
  const fd = openSync(join(dir, 'log'), 'a')
  let waiting: Socket[] = []
  let syncing = false
  const flush = (): void => {
    if (syncing || waiting.length === 0) return
    syncing = true
    const acking = waiting
    waiting = []
    fdatasync(fd, () => { syncing = false; for (const socket of acking) socket.write(Buffer.from([1])); setTimeout(flush, FLUSH_INTERVAL_MS) })
  }
  const server = createServer(socket => {
    let pending = 0
    const frameBytes = recordBytes * messagesPerSend
    socket.on('data', chunk => {
      writeSync(fd, chunk)
      pending += chunk.length
      while (pending >= frameBytes) { pending -= frameBytes; waiting.push(socket); flush() }
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const client = connect(port, '127.0.0.1')
  await new Promise(resolve => client.once('connect', resolve))
  const frame = Buffer.alloc(recordBytes * messagesPerSend, 0x61)
  const sends = Math.ceil(TOTAL_BYTES / frame.length)
  const started = performance.now()
  for (let i = 0; i < sends; i++) {
    const acked = new Promise(resolve => client.once('data', resolve))
    client.write(frame)
    await acked
  }
  const seconds = (performance.now() - started) / 1000
  client.destroy(); server.close(); closeSync(fd); rmSync(dir, { recursive: true, force: true })
  return (sends * frame.length) / seconds
}

async function produce(bootstrap: string, c: Case, topic: string): Promise<{ bytesPerSecond: number; recordsPerSecond: number; records: number }> {
  const kafka = new Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: logLevel.NOTHING })
  const producer = kafka.producer(c.transactional
    ? { transactionalId: `bench-${topic}`, idempotent: true, maxInFlightRequests: 1 }
    : { idempotent: c.idempotent, maxInFlightRequests: c.idempotent ? 1 : 5 })
  await producer.connect()
  const value = Buffer.alloc(c.recordBytes, 0x61)
  const messages = Array.from({ length: c.messagesPerSend }, () => ({ value }))
  const sends = Math.ceil(TOTAL_BYTES / (c.recordBytes * c.messagesPerSend))
  const started = performance.now()
  for (let i = 0; i < sends; i++) {
    if (c.transactional) {
      const txn = await producer.transaction()
      await txn.send({ topic, acks: -1, messages })
      await txn.commit()
    } else {
      await producer.send({ topic, acks: -1, messages })
    }
  }
  const seconds = (performance.now() - started) / 1000
  await producer.disconnect()
  const records = sends * c.messagesPerSend
  return { bytesPerSecond: (records * c.recordBytes) / seconds, recordsPerSecond: records / seconds, records }
}

async function consume(bootstrap: string, topic: string, records: number, recordBytes: number): Promise<{ bytesPerSecond: number; recordsPerSecond: number }> {
  const kafka = new Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: `bench-${topic}`, maxBytes: 10 << 20, maxBytesPerPartition: 10 << 20 })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  let seen = 0
  let finish!: () => void
  const done = new Promise<void>(resolve => { finish = resolve })
  const started = performance.now()
  await consumer.run({ eachBatch: async ({ batch }) => { seen += batch.messages.length; if (seen >= records) finish() } })
  await done
  const seconds = (performance.now() - started) / 1000
  await consumer.disconnect()
  return { bytesPerSecond: (records * recordBytes) / seconds, recordsPerSecond: records / seconds }
}

const mb = (bytesPerSecond: number): string => (bytesPerSecond / 1e6).toFixed(1)

async function main(): Promise<void> {
  console.log(`# broker throughput, ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`)
  console.log(`# ${TOTAL_BYTES / 2 ** 20} MiB per case, flush policy always (group commit every ${FLUSH_INTERVAL_MS} ms)`)
  console.log('| case | produce rec/s | produce MB/s | ceiling MB/s | broker/ceiling | consume rec/s | consume MB/s |')
  console.log('|---|---:|---:|---:|---:|---:|---:|')
  const broker = await startBrokerProcess({ args: ['--config', 'segmentBytes=268435456'] })
  try {
    for (const [index, c] of cases.entries()) {
      const topic = `bench-${index}`
      const produced = await produce(broker.bootstrap, c, topic)
      const reference = await ceiling(c.recordBytes, c.messagesPerSend)
      const consumed = await consume(broker.bootstrap, topic, produced.records, c.recordBytes)
      console.log(`| ${c.name} | ${Math.round(produced.recordsPerSecond)} | ${mb(produced.bytesPerSecond)} | ${mb(reference)} | ${(produced.bytesPerSecond / reference).toFixed(2)} | ${Math.round(consumed.recordsPerSecond)} | ${mb(consumed.bytesPerSecond)} |`)
    }
  } finally {
    await broker.stop()
    rmSync(broker.dataDir, { recursive: true, force: true })
  }
}

await main()
