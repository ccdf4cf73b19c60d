// kafkajs's response reassembly (network/connection.js processData) and socket reads as kafkajs
// ships them against Sluice's replacement (lib/kafka/response-reassembly.ts), in one process,
// interleaved round by round so that the machine's load falls on both alike: CPU milliseconds per
// round (the process's, so the garbage collector's threads count), medians, kafkajs / replacement per
// round, and the main isolate's full (mark-compact) collections.
//
// - reassembly: the day's socket reads, made before the clock starts, through kafkajs's processData
//   and through the replacement's;
// - loopback: the day's responses asked for one at a time over a loopback socket from a stand-in
//   broker in a child process (bench/support/response-server.ts, so its CPU is not counted): kafkajs's
//   'data' events into kafkajs's processData, against the replacement's reads in place (ResponseReads)
//   into its processData.
//
// A round is one bench:e2e day of the responses a node's kafkajs connections reassembled, as a probe
// in processData counted them (bench:e2e --targets "Sluice 1 node", 1 round, 06:26 UTC 2026-11-30):
// 2,844 responses, 96.5 MB, 4,168 socket reads; 2,603 responses under 1 KB (Produce, heartbeats,
// offsets), 230 Fetch responses of 64 KB to 1.4 MB carrying 96.2 MB. Here the sizes are drawn around
// each class's mean, the large ones among the small, and each response reaches processData in reads
// of at most 64 KiB (a loopback socket's reads), each read a buffer of its own, made before the clock
// starts. Each handed-on payload is checked against the response it came from on the first round.
//
// Run: npm run bench:response-reassembly [-- --rounds 15] [-- --days 1] [-- --only reassembly|loopback]

import { parseArgs } from 'node:util'
import { spawn } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import { PerformanceObserver, constants as perfConstants, performance, type PerformanceEntry } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { KAFKAJS_CONNECTION_MODULE, processData, ResponseReads, type ConnectionState } from '../lib/kafka/response-reassembly.ts'
import { pristineKafkajsModule } from '../lib/kafka/kafkajs-module.ts'
import { cpuPressureMeter, describeMachine, median } from './support/report.ts'
import { seededRandom } from '../lib/testing/seeded-random.ts'

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '15' }, days: { type: 'string', default: '1' }, only: { type: 'string' } } })
const ROUNDS = Number(options.rounds)
/** Days of responses per round. */
const DAYS = Number(options.days)

/** A loopback socket's read (Node's stream reads on TCP). */
const READ_BYTES = 65_536
/** The day's responses by class: how many, and their mean size including the size prefix (the probe's figures). */
const DAY = [
  { count: 2_603, meanBytes: 98 },
  { count: 11, meanBytes: 1_200 },
  { count: 2, meanBytes: 47_000 },
  { count: 123, meanBytes: 188_400 },
  { count: 82, meanBytes: 493_500 },
  { count: 23, meanBytes: 1_413_000 },
]

type ProcessData = (this: ConnectionState, rawData: Buffer) => unknown
const kafkajsProcessData = pristineKafkajsModule<{ prototype: { processData: ProcessData } }>(KAFKAJS_CONNECTION_MODULE).prototype.processData


interface Day {
  reads: Buffer[]
  /** Per response in order: its size and its first payload byte, to check what is handed on. */
  sizes: number[]
  firstBytes: number[]
  bytes: number
}

function dayOfResponses(seed: number): Day {
  const next = seededRandom(seed)
  const sizes = DAY.flatMap(({ count, meanBytes }) => Array.from({ length: count * DAYS }, () => Math.max(9, Math.round(meanBytes * (0.5 + next())))))
  for (let i = sizes.length - 1; i > 0; i--) { // the large among the small
    const j = Math.floor(next() * (i + 1))
    ;[sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!]
  }
  const reads: Buffer[] = []
  const firstBytes: number[] = []
  let bytes = 0
  sizes.forEach((framedBytes, correlationId) => {
    const framed = Buffer.allocUnsafe(framedBytes).fill(correlationId & 0xff)
    framed.writeInt32BE(framedBytes - 4, 0)
    framed.writeInt32BE(correlationId, 4)
    firstBytes.push(framed[8]!)
    for (let at = 0; at < framedBytes; at += READ_BYTES) reads.push(Buffer.from(framed.subarray(at, at + READ_BYTES)))
    bytes += framedBytes
  })
  return { reads, sizes, firstBytes, bytes }
}

/** A fresh connection's reassembly state; `onResponse` sees each response handed on. */
function connectionState(onResponse: (size: number, correlationId: number, payload: Buffer) => void): ConnectionState {
  return {
    chunks: [], bytesBuffered: 0, bytesNeeded: 4, authHandlers: null, authExpectResponse: false,
    requestQueue: { fulfillRequest: ({ size, correlationId, payload }) => onResponse(size, correlationId, payload) },
  }
}

/** Throws unless response `index` of the day came whole. */
function checkResponse(day: Day, index: number, size: number, correlationId: number, payload: Buffer): void {
  if (correlationId !== index || size !== day.sizes[index]! - 4 || payload.length !== size - 4 || (payload.length > 0 && payload[0] !== day.firstBytes[index])) {
    throw new Error(`response ${index}: got correlation id ${correlationId}, size ${size}`)
  }
}

/** Feeds the day's reads through `reassemble` on a fresh connection. */
function reassembleDay(day: Day, reassemble: ProcessData, check: boolean): void {
  let handedOn = 0
  const state = connectionState((size, correlationId, payload) => {
    if (check) checkResponse(day, handedOn, size, correlationId, payload)
    handedOn++
  })
  for (const read of day.reads) reassemble.call(state, read)
  if (handedOn !== day.sizes.length) throw new Error(`${handedOn} of ${day.sizes.length} responses handed on`)
}

type Reader = 'kafkajs' | 'sluice'

/** The day's responses asked for one at a time from the stand-in broker at `port`, read as `reader` reads. */
async function fetchDay(day: Day, port: number, reader: Reader, check: boolean): Promise<void> {
  let answered: () => void = () => {}
  let handedOn = 0
  const state = connectionState((size, correlationId, payload) => {
    if (check) checkResponse(day, handedOn, size, correlationId, payload)
    handedOn++
    answered()
  })
  let socket: Socket
  if (reader === 'kafkajs') {
    socket = connect({ host: '127.0.0.1', port })
    socket.on('data', data => kafkajsProcessData.call(state, data))
  } else {
    const reading = Object.assign(state, { processData })
    const reads = new ResponseReads(reading)
    socket = connect({ host: '127.0.0.1', port, onread: { buffer: reads.nextBuffer, callback: reads.onRead } })
  }
  socket.setNoDelay(true)
  await once(socket, 'connect')
  const request = Buffer.alloc(12)
  request.writeInt32BE(8, 0)
  for (let index = 0; index < day.sizes.length; index++) {
    const response = new Promise<void>(resolve => { answered = resolve })
    request.writeInt32BE(index, 4)
    request.writeInt32BE(day.sizes[index]!, 8)
    socket.write(Buffer.from(request))
    await response
  }
  socket.destroy()
  if (handedOn !== day.sizes.length) throw new Error(`${handedOn} of ${day.sizes.length} responses handed on`)
}

async function cpuMs(run: () => unknown): Promise<{ ms: number; from: number; to: number }> {
  const from = performance.now()
  const start = process.cpuUsage()
  await run()
  const used = process.cpuUsage(start)
  return { ms: (used.user + used.system) / 1000, from, to: performance.now() }
}

/** Full collections of this isolate, with their start times (performance.now()). */
function fullCollections(): { startTimes(): number[] } {
  const times: number[] = []
  const observer = new PerformanceObserver(list => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      if (entry.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) times.push(entry.startTime)
    }
  })
  observer.observe({ entryTypes: ['gc'] })
  return { startTimes: () => { observer.disconnect(); return times } }
}

/** Runs the two contenders in turns, round by round, and prints their figures under `name`. */
async function compare(name: string, contenders: Record<Reader, () => Promise<void> | void>): Promise<void> {
  const collections = fullCollections()
  const rounds = { kafkajs: [] as { ms: number; from: number; to: number }[], sluice: [] as { ms: number; from: number; to: number }[] }
  for (let round = 0; round < ROUNDS; round++) {
    const order: Reader[] = round % 2 === 0 ? ['kafkajs', 'sluice'] : ['sluice', 'kafkajs']
    for (const which of order) rounds[which].push(await cpuMs(contenders[which]))
  }
  await new Promise(resolve => setTimeout(resolve, 50)) // the observer's last entries
  const starts = collections.startTimes()
  const fullOf = (which: Reader): number => starts.filter(at => rounds[which].some(({ from, to }) => at >= from && at <= to)).length
  const ms = (which: Reader): number[] => rounds[which].map(round => round.ms)
  const ratios = ms('kafkajs').map((value, round) => value / ms('sluice')[round]!).sort((a, b) => a - b)
  console.log(`${name}: kafkajs ${median(ms('kafkajs')).toFixed(2)} ms, Sluice ${median(ms('sluice')).toFixed(2)} ms CPU per round (medians); kafkajs / Sluice per round median ${median(ratios).toFixed(2)}, range ${ratios[0]!.toFixed(2)}-${ratios.at(-1)!.toFixed(2)}; full collections in ${ROUNDS} rounds: kafkajs ${fullOf('kafkajs')}, Sluice ${fullOf('sluice')}`)
}

/** The stand-in broker, a child process; its port. */
async function startServer(): Promise<{ port: number; stop(): void }> {
  const script = fileURLToPath(new URL('./support/response-server.ts', import.meta.url))
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] })
  const [line] = (await once(child.stdout!, 'data')) as [Buffer]
  return { port: Number(line.toString().trim()), stop: () => { child.stdin!.end(); child.kill() } }
}

async function main(): Promise<void> {
  const day = dayOfResponses(1)
  console.log(`# kafkajs response reassembly, ${describeMachine()}; ${ROUNDS} rounds, interleaved; a round: ${day.sizes.length} responses, ${(day.bytes / 1e6).toFixed(1)} MB in ${day.reads.length} reads of at most ${READ_BYTES} bytes`)
  const pressure = cpuPressureMeter()
  pressure.start()
  if (options.only === undefined || options.only === 'reassembly') {
    const contenders = { kafkajs: kafkajsProcessData, sluice: processData as ProcessData }
    for (const reassemble of Object.values(contenders)) reassembleDay(day, reassemble, true) // checks, and warms both up
    await compare('reassembly', { kafkajs: () => reassembleDay(day, contenders.kafkajs, false), sluice: () => reassembleDay(day, contenders.sluice, false) })
  }
  if (options.only === undefined || options.only === 'loopback') {
    const server = await startServer()
    try {
      for (const reader of ['kafkajs', 'sluice'] as const) await fetchDay(day, server.port, reader, true)
      await compare('loopback', { kafkajs: () => fetchDay(day, server.port, 'kafkajs', false), sluice: () => fetchDay(day, server.port, 'sluice', false) })
    } finally {
      server.stop()
    }
  }
  console.log(`CPU pressure over the run: ${pressure.percent()}`)
}

await main()
