// kafkajs producing to and consuming from the embedded broker (a separate process, default
// settings, so flush policy 'always': nothing acknowledged before fdatasync), against the machine's
// own ceiling for the same bytes measured in the same run: a plain Node TCP server in its own
// process that appends to a file with the broker's group-commit cadence (bench/support/
// ceiling-server.ts), and reads the file back for the consume side. To tell the broker's cost from
// kafkajs's, the same Produce requests are also replayed over a raw socket, and the partition read
// with raw Fetch requests. Rounds alternate the order so a noisy neighbour hits every contender; the
// tables give medians, broker/ceiling and the CPU each process used.
//
// Run: npm run bench:broker [-- --quick] [-- --rounds 5] [-- --only "100 B"] [-- --profile DIR]
// --profile writes a V8 CPU profile of the broker process to DIR/broker-<pid>.cpuprofile; summarise
// it with: node --import tsx bench/support/profile-summary.ts DIR/broker-<pid>.cpuprofile

import '../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { parseArgs } from 'node:util'
import { rmSync } from 'node:fs'
import kafkajs from 'kafkajs'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { defaultBrokerConfig } from '../broker/index.ts'
import { startCeilingServer, CeilingClient, type CeilingServer } from './support/ceiling-client.ts'
import { cpuSecondsOfPid, cpuSecondsOfSelf } from './support/cpu.ts'
import { cpuPressureMeter, describeMachine, median, profileChildProcesses } from './support/report.ts'
import { captureProduceRequest, replayRequests, replay } from './support/produce-replay.ts'
import { fetchAll } from './support/fetch-replay.ts'

const { Kafka, logLevel } = kafkajs
type Producer = ReturnType<InstanceType<typeof Kafka>['producer']>

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    only: { type: 'string' },
    profile: { type: 'string' },
  },
})
const ROUNDS = Number(options.rounds ?? (options.quick ? 1 : 3))
const BYTES_PER_ROUND = (options.quick ? 16 : 64) * 1024 * 1024
const FLUSH_INTERVAL_MS = defaultBrokerConfig.flushIntervalMs
/** kafkajs consumer fetch size, and the ceiling's read size. */
const FETCH_MAX_BYTES = 10 * 1024 * 1024
const WARM_UP_SENDS = 5

interface Case { name: string; recordBytes: number; recordsPerSend: number; idempotent: boolean; transactional: boolean }
// Each send is one Produce request of ~100 KiB (100 B records) or ~500 KiB (10 KiB records): the
// batches a pipeline producer sends. Transactional: one transaction per send.
const allCases: Case[] = [
  { name: '100 B, plain', recordBytes: 100, recordsPerSend: 1000, idempotent: false, transactional: false },
  { name: '100 B, idempotent', recordBytes: 100, recordsPerSend: 1000, idempotent: true, transactional: false },
  { name: '100 B, transactional', recordBytes: 100, recordsPerSend: 1000, idempotent: true, transactional: true },
  { name: '10 KiB, plain', recordBytes: 10240, recordsPerSend: 50, idempotent: false, transactional: false },
  { name: '10 KiB, idempotent', recordBytes: 10240, recordsPerSend: 50, idempotent: true, transactional: false },
  { name: '10 KiB, transactional', recordBytes: 10240, recordsPerSend: 50, idempotent: true, transactional: true },
]
const cases = allCases.filter(c => options.only === undefined || c.name.includes(options.only))

/** performance.now() values, when the timed part is narrower than the whole call. */
interface Window { startedAt: number; endedAt: number }
interface Sample { seconds: number; serverCpuSeconds: number; clientCpuSeconds: number }
interface CaseResult { produce: Sample[]; replay: Sample[]; ceilingWrite: Sample[]; consume: Sample[]; rawFetch: Sample[]; ceilingRead: Sample[]; records: number; bytes: number }

/** Runs `work` and returns its wall time and the CPU time of the serving process and of this one. */
async function timed(serverPid: number, work: () => Promise<Window | void>): Promise<Sample> {
  const serverCpuBefore = cpuSecondsOfPid(serverPid)
  const clientCpuBefore = cpuSecondsOfSelf()
  const startedAt = performance.now()
  const window = (await work()) ?? { startedAt, endedAt: performance.now() }
  const seconds = (window.endedAt - window.startedAt) / 1000
  return { seconds, serverCpuSeconds: cpuSecondsOfPid(serverPid) - serverCpuBefore, clientCpuSeconds: cpuSecondsOfSelf() - clientCpuBefore }
}

function newProducer(kafka: InstanceType<typeof Kafka>, c: Case, id: string): Producer {
  if (c.transactional) return kafka.producer({ transactionalId: `bench-${id}`, idempotent: true, maxInFlightRequests: 1 })
  return kafka.producer({ idempotent: c.idempotent, maxInFlightRequests: c.idempotent ? 1 : 5 })
}

async function send(producer: Producer, c: Case, topic: string, messages: Array<{ value: Buffer }>): Promise<void> {
  if (!c.transactional) {
    await producer.send({ topic, acks: -1, messages })
    return
  }
  const transaction = await producer.transaction()
  await transaction.send({ topic, acks: -1, messages })
  await transaction.commit()
}

async function consumeAll(kafka: InstanceType<typeof Kafka>, topic: string, records: number): Promise<Window> {
  const consumer = kafka.consumer({ groupId: `bench-${topic}`, maxBytes: FETCH_MAX_BYTES, maxBytesPerPartition: FETCH_MAX_BYTES })
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  // The clock starts once the group is joined: the rebalance is not fetch throughput.
  let startedAt = performance.now()
  consumer.on(consumer.events.GROUP_JOIN, () => { startedAt = performance.now() })
  let seen = 0
  let finish!: () => void
  const done = new Promise<void>(resolveDone => { finish = resolveDone })
  await consumer.run({ eachBatch: async ({ batch }) => { seen += batch.messages.length; if (seen >= records) finish() } })
  await done
  const endedAt = performance.now()
  await consumer.disconnect()
  return { startedAt, endedAt }
}

async function runRound(ctx: { kafka: InstanceType<typeof Kafka>; broker: BrokerProcess; ceiling: CeilingServer; ceilingClient: CeilingClient; ceilingBytes: { value: number } },
  c: Case, producer: Producer, topic: string, result: CaseResult, brokerFirst: boolean): Promise<void> {
  const value = Buffer.alloc(c.recordBytes, 0x61)
  const messages = Array.from({ length: c.recordsPerSend }, () => ({ value }))
  const payload = Buffer.alloc(c.recordBytes * c.recordsPerSend, 0x61)
  const sends = Math.ceil(BYTES_PER_ROUND / payload.length)
  const records = sends * c.recordsPerSend
  const position = ctx.ceilingBytes.value

  const produce = async (): Promise<void> => {
    result.produce.push(await timed(ctx.broker.child.pid!, async () => { for (let i = 0; i < sends; i++) await send(producer, c, topic, messages) }))
  }
  const ceilingWrite = async (): Promise<void> => {
    result.ceilingWrite.push(await timed(ctx.ceiling.pid, async () => { for (let i = 0; i < sends; i++) await ctx.ceilingClient.append(payload) }))
    ctx.ceilingBytes.value += sends * payload.length
  }
  const consume = async (): Promise<void> => {
    result.consume.push(await timed(ctx.broker.child.pid!, () => consumeAll(ctx.kafka, topic, records)))
  }
  const ceilingRead = async (): Promise<void> => {
    result.ceilingRead.push(await timed(ctx.ceiling.pid, async () => {
      for (let done = 0; done < sends * payload.length;) done += (await ctx.ceilingClient.read(position + done, FETCH_MAX_BYTES)).length
    }))
  }
  // The same Produce request bytes without the kafkajs client (transactions need more than Produce).
  const replayed = async (): Promise<void> => {
    if (c.transactional) return
    const replayTopic = `${topic}-replay`
    const captured = await captureProduceRequest(ctx.broker.bootstrap, c.idempotent, replayTopic, messages)
    const requests = replayRequests(captured, sends, c.idempotent, c.recordsPerSend)
    result.replay.push(await timed(ctx.broker.child.pid!, () => replay(ctx.broker.port, requests)))
  }
  // The same partition read with raw Fetch requests, records counted from batch headers, not decoded.
  const rawFetch = async (): Promise<void> => {
    result.rawFetch.push(await timed(ctx.broker.child.pid!, () => fetchAll(ctx.broker.port, topic, records, FETCH_MAX_BYTES)))
  }
  const order = brokerFirst
    ? [produce, replayed, ceilingWrite, consume, rawFetch, ceilingRead]
    : [ceilingWrite, replayed, produce, ceilingRead, rawFetch, consume]
  for (const step of order) await step()
  result.records = records
  result.bytes = records * c.recordBytes
}

const mbPerSecond = (bytes: number, seconds: number): number => bytes / seconds / 1e6
const cores = (samples: Sample[], side: 'serverCpuSeconds' | 'clientCpuSeconds'): string =>
  median(samples.map(s => s[side] / s.seconds)).toFixed(2)

function replayCells(r: CaseResult, ceilingMbPerSecond: number): string {
  if (r.replay.length === 0) return 'n/a | n/a | n/a'
  const replayed = median(r.replay.map(s => mbPerSecond(r.bytes, s.seconds)))
  return `${replayed.toFixed(1)} | ${(replayed / ceilingMbPerSecond).toFixed(2)} | ${cores(r.replay, 'serverCpuSeconds')}`
}

function rawFetchCells(r: CaseResult, ceilingMbPerSecond: number): string {
  const fetched = median(r.rawFetch.map(s => mbPerSecond(r.bytes, s.seconds)))
  return `${fetched.toFixed(1)} | ${(fetched / ceilingMbPerSecond).toFixed(2)} | ${cores(r.rawFetch, 'serverCpuSeconds')}`
}

function report(results: Map<Case, CaseResult>): void {
  console.log(`\nProduce (acks=all): medians of ${ROUNDS} round(s); "cores" = CPU seconds per wall second of that process`)
  console.log('| case | records/s | MB/s | ceiling MB/s | broker/ceiling (range) | broker cores | client cores | ceiling server cores | replay MB/s | replay/ceiling | broker cores in replay |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const [c, r] of results) {
    const broker = median(r.produce.map(s => mbPerSecond(r.bytes, s.seconds)))
    const ceiling = median(r.ceilingWrite.map(s => mbPerSecond(r.bytes, s.seconds)))
    const ratios = r.produce.map((s, i) => r.ceilingWrite[i]!.seconds / s.seconds)
    console.log(`| ${c.name} | ${Math.round(median(r.produce.map(s => r.records / s.seconds)))} | ${broker.toFixed(1)} | ${ceiling.toFixed(1)} | ${(broker / ceiling).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${cores(r.produce, 'serverCpuSeconds')} | ${cores(r.produce, 'clientCpuSeconds')} | ${cores(r.ceilingWrite, 'serverCpuSeconds')} | ${replayCells(r, ceiling)} |`)
  }
  console.log(`\nConsume (fetch ${FETCH_MAX_BYTES >> 20} MiB, read_committed), same rounds`)
  console.log('| case | records/s | MB/s | ceiling read MB/s | broker/ceiling (range) | broker cores | client cores | raw fetch MB/s | raw fetch/ceiling | broker cores in raw fetch |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
  for (const [c, r] of results) {
    const broker = median(r.consume.map(s => mbPerSecond(r.bytes, s.seconds)))
    const ceiling = median(r.ceilingRead.map(s => mbPerSecond(r.bytes, s.seconds)))
    const ratios = r.consume.map((s, i) => r.ceilingRead[i]!.seconds / s.seconds)
    console.log(`| ${c.name} | ${Math.round(median(r.consume.map(s => r.records / s.seconds)))} | ${broker.toFixed(1)} | ${ceiling.toFixed(1)} | ${(broker / ceiling).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${cores(r.consume, 'serverCpuSeconds')} | ${cores(r.consume, 'clientCpuSeconds')} | ${rawFetchCells(r, ceiling)} |`)
  }
}

async function startBroker(): Promise<BrokerProcess> {
  if (options.profile === undefined) return startBrokerProcess()
  // Only the broker gets the profiler: the ceiling server starts after this is undone.
  const undo = profileChildProcesses(options.profile)
  try { return await startBrokerProcess() } finally { undo() }
}

async function main(): Promise<void> {
  console.log(`# broker throughput: ${describeMachine()}`)
  console.log(`# ${BYTES_PER_ROUND / 2 ** 20} MiB per case and round, ${ROUNDS} round(s), broker defaults (flush policy ${defaultBrokerConfig.flushPolicy}, group commit ≥ ${FLUSH_INTERVAL_MS} ms apart), ceiling with the same cadence`)
  const pressure = cpuPressureMeter()
  pressure.start()
  const broker = await startBroker()
  const ceiling = await startCeilingServer(FLUSH_INTERVAL_MS)
  const ceilingClient = await CeilingClient.connect(ceiling.port)
  // An interrupted run leaves no broker or ceiling server behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => { broker.child.kill('SIGKILL'); void ceiling.stop().finally(() => process.exit(130)) })
  }
  const kafka = new Kafka({ clientId: 'bench', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const ctx = { kafka, broker, ceiling, ceilingClient, ceilingBytes: { value: 0 } }
  const results = new Map<Case, CaseResult>()
  try {
    for (const [index, c] of cases.entries()) {
      const topics = Array.from({ length: ROUNDS }, (_, round) => `bench-${index}-${round}`)
      await admin.createTopics({ topics: [`bench-${index}-warm-up`, ...topics, ...(c.transactional ? [] : topics.map(t => `${t}-replay`))].map(topic => ({ topic, numPartitions: 1 })), waitForLeaders: true })
      const producer = newProducer(kafka, c, String(index))
      await producer.connect()
      const warmUp = Array.from({ length: c.recordsPerSend }, () => ({ value: Buffer.alloc(c.recordBytes, 0x62) }))
      for (let i = 0; i < WARM_UP_SENDS; i++) await send(producer, c, `bench-${index}-warm-up`, warmUp)
      const result: CaseResult = { produce: [], replay: [], ceilingWrite: [], consume: [], rawFetch: [], ceilingRead: [], records: 0, bytes: 0 }
      for (const [round, topic] of topics.entries()) {
        await runRound(ctx, c, producer, topic, result, round % 2 === 0)
        const last = (samples: Sample[]): string => mbPerSecond(result.bytes, samples.at(-1)!.seconds).toFixed(1)
        const replayNote = result.replay.length > 0 ? `, replay ${last(result.replay)}` : ''
        console.log(`# ${c.name}, round ${round + 1}: produce ${last(result.produce)} MB/s${replayNote}, ceiling ${last(result.ceilingWrite)}; consume ${last(result.consume)} MB/s, raw fetch ${last(result.rawFetch)}, ceiling ${last(result.ceilingRead)}`)
      }
      await producer.disconnect()
      results.set(c, result)
    }
  } finally {
    await admin.disconnect()
    ceilingClient.close()
    await ceiling.stop()
    await broker.stop()
    rmSync(broker.dataDir, { recursive: true, force: true })
  }
  report(results)
  console.log(`\nCPU pressure over the run (share of time some task waited for a core): ${pressure.percent()}`)
}

await main()
