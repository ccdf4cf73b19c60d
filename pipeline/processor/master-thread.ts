// The master (the processor) in its own worker thread, so its Kafka work (fetching and
// decompressing sluice.ingest, building changelog entries, encoding transactional Produce
// requests) leaves the node's main thread, which serves HTTP and applies the replica.
//
// The master talks to the rest of the node only through Kafka, plus status that the membership
// and metrics read: the worker reports partitions, counters and transaction timings over its
// MessagePort (at most every STATUS_INTERVAL_MS, at once on an assignment), and answers lag and
// compression questions on request. Exactly-once does not depend on the thread: each partition's
// transactional producer fences the previous one however that one ended.
//
// A worker that exits without being asked to (an uncaught error, an out-of-memory) is logged at
// error level and started again; its partitions go back through the consumer group like a crashed
// node's. When a new worker cannot start, `onFatal` is called: never a silent half-node.
//
// Opt-in (`sluice node --master-thread`): on 2 cores it cost more CPU than it took off the main
// thread (docs/architecture.md, "Threads of a node").

import { Worker } from 'node:worker_threads'
import type { logCreator, LogEntry } from 'kafkajs'
import type { CompressionConfig, CompressionSettings } from '../transforms/index.ts'
import type { CompressionFilter, MasterHandle } from './master-status.ts'
import type { ProcessorStats } from './processor.ts'

/** How often the worker reports status when something changed. */
export const STATUS_INTERVAL_MS = 100
/**
 * The worker's master fetches until 1 MiB of sluice.ingest is there or 100 ms passed: with a core
 * of its own it commits a transaction for every few records otherwise. The TSBS day on one node
 * took 594 master transactions with 256 KiB and 50 ms, 348–402 with these, 120–126 on the main
 * thread; each costs the master, the broker and the replica.
 */
export const MASTER_THREAD_LINGER_MS = 100
export const MASTER_THREAD_LINGER_BYTES = 1024 * 1024
/** A worker that has not said it started (topics checked, group joined) by then is a failed start. */
const START_TIMEOUT_MS = 60_000

/** The kafkajs client settings the worker builds its own client from (no functions cross a thread). */
export interface WorkerKafkaConfig {
  clientId: string
  brokers: string[]
  connectionTimeout?: number
  requestTimeout?: number
  retry?: { retries?: number; initialRetryTime?: number; maxRetryTime?: number }
}

export interface MasterWorkerOptions {
  kafka: WorkerKafkaConfig
  changelogSchemaId: number
  /** Lossy compression per partition from this config (sluice.state-value id), or none. */
  lossy?: { config: CompressionConfig; stateSchemaId: number }
  sessionTimeoutMs?: number
}

export interface MasterThreadOptions extends MasterWorkerOptions {
  log: (event: Record<string, unknown>) => void
  /** Where kafkajs's warnings and errors from the worker go (the node's kafkajs logger). */
  kafkaLog?: logCreator
  /** Each committed transaction's wall time and records (the node's metrics). */
  observeTransaction: (seconds: number, records: number) => void
  /** A worker died and a new one could not start. */
  onFatal: (error: Error) => void
  /** Worker entry; default master-worker-entry.mjs beside this file. */
  workerUrl?: URL
}

export type ToWorker =
  | { type: 'request'; id: number; what: 'lag' }
  | { type: 'request'; id: number; what: 'compression' }
  | { type: 'request'; id: number; what: 'codecs'; tenant: string; database: string; fields: Array<[string, string]> }
  | { type: 'stop' }

export type FromWorker =
  | { type: 'started' }
  | { type: 'start-failed'; error: string }
  | { type: 'status'; partitions: number[]; stats: ProcessorStats; transactions: number[] }
  | { type: 'log'; event: Record<string, unknown> }
  | { type: 'kafkajs'; entry: LogEntry }
  | { type: 'answer'; id: number; value?: unknown; error?: string }
  | { type: 'stopped' }

const DEFAULT_WORKER_URL = new URL('./master-worker-entry.mjs', import.meta.url)

const emptyStats = (): ProcessorStats => ({
  recordsIn: 0, recordsSkipped: 0, recordsPoison: 0, pointsIn: 0, pointsKept: 0, commands: 0,
  transactionsCommitted: 0, transactionsAborted: 0, takeovers: 0,
})

interface Pending { resolve: (value: unknown) => void; reject: (error: Error) => void }

export class MasterThread implements MasterHandle {
  private worker: Worker | undefined
  private ownedPartitions: number[] = []
  /** Counters of workers that exited, so stats only grow over restarts. */
  private previousStats = emptyStats()
  private currentStats = emptyStats()
  private readonly pending = new Map<number, Pending>()
  private nextRequestId = 1
  private stopping = false
  private stoppedWorker: (() => void) | undefined
  /** Workers started again after an unexpected exit. */
  restarts = 0

  constructor(private readonly options: MasterThreadOptions) {}

  get stats(): Readonly<ProcessorStats> {
    const total = emptyStats()
    for (const key of Object.keys(total) as Array<keyof ProcessorStats>) total[key] = this.previousStats[key] + this.currentStats[key]
    return total
  }

  /** The running worker, for tests that crash it. */
  get thread(): Worker | undefined {
    return this.worker
  }

  partitions(): number[] {
    return [...this.ownedPartitions]
  }

  async lag(): Promise<Map<number, bigint>> {
    return await this.request({ what: 'lag' }) as Map<number, bigint>
  }

  async compressionFilters(): Promise<CompressionFilter[]> {
    return await this.request({ what: 'compression' }) as CompressionFilter[]
  }

  async codecs(tenant: string, database: string, fields: ReadonlyArray<readonly [string, string]>): Promise<CompressionSettings[]> {
    return await this.request({ what: 'codecs', tenant, database, fields: fields.map(([m, f]) => [m, f]) }) as CompressionSettings[]
  }

  /** Starts the worker; resolves once its master runs (topics exist, consumer group joined). */
  start(): Promise<void> {
    const worker = new Worker(this.options.workerUrl ?? DEFAULT_WORKER_URL, {
      name: 'sluice-master',
      workerData: { kafka: this.options.kafka, changelogSchemaId: this.options.changelogSchemaId, lossy: this.options.lossy, sessionTimeoutMs: this.options.sessionTimeoutMs } satisfies MasterWorkerOptions,
    })
    this.worker = worker
    const kafkaLog = this.options.kafkaLog?.(0)
    return new Promise<void>((resolve, reject) => {
      let started = false
      const timer = setTimeout(() => {
        if (started) return
        void worker.terminate()
        reject(new Error(`the master thread did not start within ${START_TIMEOUT_MS} ms`))
      }, START_TIMEOUT_MS)
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'started': started = true; clearTimeout(timer); resolve(); break
          case 'start-failed': clearTimeout(timer); reject(new Error(message.error)); void worker.terminate(); break
          case 'status': this.onStatus(message); break
          case 'log': this.options.log(message.event); break
          case 'kafkajs': kafkaLog?.(message.entry); break
          case 'answer': this.onAnswer(message); break
          case 'stopped': this.stoppedWorker?.(); break
        }
      })
      worker.on('error', error => this.options.log({ level: 'error', event: 'master thread error', error: String(error), stack: error.stack }))
      worker.on('exit', code => {
        clearTimeout(timer)
        if (this.worker === worker) this.worker = undefined
        this.previousStats = this.stats
        this.currentStats = emptyStats()
        this.ownedPartitions = []
        for (const [id, request] of this.pending) { request.reject(new Error(`the master thread exited (code ${code})`)); this.pending.delete(id) }
        if (!started) { reject(new Error(`the master thread exited with code ${code} before it started`)); return }
        if (!this.stopping) this.restart(code)
      })
    })
  }

  private restart(code: number): void {
    this.restarts++
    this.options.log({ level: 'error', event: 'master thread exited unexpectedly; starting it again', code, restarts: this.restarts })
    this.start().catch(error => this.options.onFatal(error as Error))
  }

  private onStatus(message: Extract<FromWorker, { type: 'status' }>): void {
    this.ownedPartitions = message.partitions
    this.currentStats = message.stats
    const t = message.transactions
    for (let i = 0; i + 1 < t.length; i += 2) this.options.observeTransaction(t[i]!, t[i + 1]!)
  }

  private onAnswer(message: Extract<FromWorker, { type: 'answer' }>): void {
    const request = this.pending.get(message.id)
    if (!request) return
    this.pending.delete(message.id)
    if (message.error !== undefined) request.reject(new Error(message.error))
    else request.resolve(message.value)
  }

  private request(question: { what: 'lag' } | { what: 'compression' } | { what: 'codecs'; tenant: string; database: string; fields: Array<[string, string]> }): Promise<unknown> {
    const worker = this.worker
    if (!worker) return Promise.reject(new Error('the master thread is not running'))
    const id = this.nextRequestId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage({ type: 'request', id, ...question } satisfies ToWorker)
    })
  }

  /** Stops the master (its consumer leaves the group, its producers disconnect), then the thread. */
  async stop(): Promise<void> {
    this.stopping = true
    const worker = this.worker
    if (!worker) return
    const exited = new Promise<void>(resolve => worker.once('exit', () => resolve()))
    await new Promise<void>(resolve => {
      this.stoppedWorker = resolve
      worker.once('exit', () => resolve())
      worker.postMessage({ type: 'stop' } satisfies ToWorker)
    })
    await worker.terminate()
    await exited
  }
}

/** Starts the master in its own worker thread. */
export async function startMasterThread(options: MasterThreadOptions): Promise<MasterThread> {
  const thread = new MasterThread(options)
  await thread.start()
  return thread
}
