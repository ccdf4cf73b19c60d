// A pool of worker threads that parse and encode write bodies (encode-body.ts), so that a node uses
// every core for the CPU-heavy half of a write while the main thread keeps auth, idempotency, the
// field type check and the Kafka transaction. A body's chunks are transferred to a worker, not copied,
// when each owns its buffer (they do as Node's HTTP parser hands them over); the worker joins them, and
// the result comes back as transferred buffers.
//
// Failure: a worker that exits or throws outside a task fails every task it holds with
// WORKER_FAILED (500, nothing written: records reach Kafka only after the main thread has the
// result) and is replaced by a fresh one. A task still unanswered at its deadline fails the same way
// and its worker is terminated and replaced, since it may be stuck.

import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { bodyChunksOf, type EncodeRequest, type EncodeResult } from './encode-body.ts'
import { HttpApiError, HttpErrorCode } from './errors.ts'
import type { Logger } from './kafka-writer.ts'
import type { WorkerAnswer, WorkerTask } from './parse-worker.ts'

/**
 * Body bytes handed to the workers and not yet answered, across the pool. Default 256 MiB (ten
 * bodies of the largest size maxBodyBytes allows): over it a write is refused with OVERLOADED (503,
 * or 429 on /api/v2/write) instead of the queue growing without bound.
 */
export const DEFAULT_MAX_QUEUED_BODY_BYTES = 256 * 1024 * 1024

/**
 * Parse workers by default: one per core Node may use but one, which the request thread (HTTP, the
 * Kafka transactions) and, in a node, the master and the replica share. One per core had every core
 * oversubscribed: on 2 cores bench:e2e took 0.81-0.87 of the node CPU with one worker and applied
 * 1.15-1.17x the values/s (docs/benchmarks.md).
 */
export function defaultParseWorkers(): number {
  return Math.max(1, availableParallelism() - 1)
}

export interface ParsePoolOptions {
  /** Worker threads. Default: defaultParseWorkers(). */
  size?: number
  maxQueuedBodyBytes?: number
  logger?: Pick<Logger, 'warn'>
  /** The worker's entry module; a seam for tests (a worker that crashes on cue). */
  workerUrl?: URL
}

interface Pending {
  resolve: (result: EncodeResult) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
  bytes: number
}

class PoolWorker {
  readonly tasks = new Map<number, Pending>()
  /** Whether the worker said it listens; one that fails before is respawned after a backoff, not at once. */
  online = false
  /** Settles when the worker is ready or has failed to start. */
  readonly started: Promise<void>
  markStarted: (error?: Error) => void = () => {}
  constructor(readonly thread: Worker) {
    this.started = new Promise<void>((resolve, reject) => {
      this.markStarted = error => (error === undefined ? resolve() : reject(error))
    })
    this.started.catch(() => {}) // read by ready() only
  }
}

/** Backoff before respawning a worker that failed before it started (a broken install): 100 ms doubling to 5 s. */
const FIRST_RESPAWN_DELAY_MS = 100
const MAX_RESPAWN_DELAY_MS = 5_000

const DEFAULT_WORKER_URL = new URL('./parse-worker-entry.mjs', import.meta.url)

export class ParsePool {
  readonly size: number
  /** A slot is undefined while its worker waits to be respawned. */
  private readonly workers: Array<PoolWorker | undefined> = []
  private failedStarts = 0
  private readonly maxQueuedBodyBytes: number
  private readonly workerUrl: URL
  private queuedBodyBytes = 0
  private nextTaskId = 1
  private closed = false
  /** Workers replaced after a crash or a missed deadline, for logs and tests. */
  restarts = 0

  constructor(private readonly options: ParsePoolOptions = {}) {
    this.size = options.size ?? defaultParseWorkers()
    if (!Number.isInteger(this.size) || this.size < 1) throw new RangeError(`ParsePool: size must be a positive integer, got ${this.size}`)
    this.maxQueuedBodyBytes = options.maxQueuedBodyBytes ?? DEFAULT_MAX_QUEUED_BODY_BYTES
    this.workerUrl = options.workerUrl ?? DEFAULT_WORKER_URL
    for (let i = 0; i < this.size; i++) this.workers.push(this.spawn())
  }

  /** Parses and encodes the body on a worker; each chunk that owns its buffer is detached (transferred). */
  encode(request: EncodeRequest, deadlineMs: number): Promise<EncodeResult> {
    if (this.closed) return Promise.reject(new HttpApiError(HttpErrorCode.WORKER_FAILED, 'the parse workers are shut down; nothing was written'))
    const chunks = bodyChunksOf(request.body)
    let bytes = 0
    for (const chunk of chunks) bytes += chunk.byteLength
    if (this.queuedBodyBytes > 0 && this.queuedBodyBytes + bytes > this.maxQueuedBodyBytes) {
      return Promise.reject(new HttpApiError(HttpErrorCode.OVERLOADED, `the parse queue is full (${this.queuedBodyBytes} bytes waiting, limit ${this.maxQueuedBodyBytes}); retry later`))
    }
    const worker = this.leastBusy()
    if (worker === undefined) return Promise.reject(new HttpApiError(HttpErrorCode.WORKER_FAILED, 'no parse worker is running (they fail to start; see the log); nothing was written'))
    const id = this.nextTaskId++
    return new Promise<EncodeResult>((resolve, reject) => {
      const timer = setTimeout(() => this.missedDeadline(worker, id), Math.max(0, deadlineMs - Date.now()))
      worker.tasks.set(id, { resolve, reject, timer, bytes })
      this.queuedBodyBytes += bytes
      const task: WorkerTask = { id, request }
      worker.thread.postMessage(task, ownedBuffers(chunks))
    })
  }

  /** Resolves once every worker has started (a node awaits it before it listens: no first request waits for a thread). */
  async ready(): Promise<void> {
    await Promise.all(this.workers.map(worker => worker?.started))
  }

  /** Stops every worker; tasks in progress fail with WORKER_FAILED. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.workers.map(worker => worker?.thread.terminate()))
  }

  private leastBusy(): PoolWorker | undefined {
    let best: PoolWorker | undefined
    for (const worker of this.workers) if (worker !== undefined && (best === undefined || worker.tasks.size < best.tasks.size)) best = worker
    return best
  }

  private spawn(): PoolWorker {
    const worker = new PoolWorker(new Worker(this.workerUrl, { name: 'sluice-parse' }))
    worker.thread.unref() // an idle pool does not keep the process alive
    worker.thread.on('message', (answer: WorkerAnswer) => this.answered(worker, answer))
    worker.thread.on('error', error => this.failed(worker, `the parse worker failed: ${error.message}`, error))
    worker.thread.on('exit', code => this.failed(worker, `the parse worker exited with code ${code}`))
    return worker
  }

  private take(worker: PoolWorker, id: number): Pending | undefined {
    const pending = worker.tasks.get(id)
    if (pending === undefined) return undefined
    worker.tasks.delete(id)
    clearTimeout(pending.timer)
    this.queuedBodyBytes -= pending.bytes
    return pending
  }

  private answered(worker: PoolWorker, answer: WorkerAnswer): void {
    if ('ready' in answer) {
      worker.online = true
      this.failedStarts = 0
      worker.markStarted()
      return
    }
    const pending = this.take(worker, answer.id)
    if (pending === undefined) return
    if (answer.ok) pending.resolve(answer.result)
    else pending.reject(new HttpApiError(HttpErrorCode.INTERNAL, 'internal error while parsing the body; nothing was written', { cause: new Error(answer.message) }))
  }

  /** Fails the worker's tasks and puts a fresh worker in its place (once per worker: error, then exit). */
  private failed(worker: PoolWorker, reason: string, cause?: Error): void {
    const index = this.workers.indexOf(worker)
    if (index === -1) return
    worker.markStarted(new HttpApiError(HttpErrorCode.WORKER_FAILED, `a parse worker did not start: ${reason}`, cause === undefined ? {} : { cause }))
    for (const id of [...worker.tasks.keys()]) {
      this.take(worker, id)!.reject(new HttpApiError(HttpErrorCode.WORKER_FAILED, `${reason}; nothing was written`, cause === undefined ? {} : { cause }))
    }
    void worker.thread.terminate() // after an 'error' the thread may still be winding down
    if (this.closed) return
    this.restarts++
    this.options.logger?.warn({ event: 'parse_worker_restarted', reason, restarts: this.restarts }, 'parse worker replaced')
    if (worker.online) {
      this.workers[index] = this.spawn()
      return
    }
    // It never started: respawning at once would spin. Leave the slot empty for a growing while.
    this.workers[index] = undefined
    const delayMs = Math.min(MAX_RESPAWN_DELAY_MS, FIRST_RESPAWN_DELAY_MS * 2 ** this.failedStarts++)
    setTimeout(() => {
      if (!this.closed && this.workers[index] === undefined) this.workers[index] = this.spawn()
    }, delayMs).unref()
  }

  private missedDeadline(worker: PoolWorker, id: number): void {
    if (!worker.tasks.has(id)) return
    this.failed(worker, 'the parse worker did not answer before the write deadline')
  }
}

/** The buffers of `chunks` that each chunk owns whole: transferring a pooled Buffer's would detach its neighbours. */
function ownedBuffers(chunks: readonly Uint8Array[]): ArrayBuffer[] {
  const owned: ArrayBuffer[] = []
  for (const chunk of chunks) {
    const buffer = chunk.buffer
    if (buffer instanceof ArrayBuffer && chunk.byteOffset === 0 && chunk.byteLength === buffer.byteLength && !owned.includes(buffer)) owned.push(buffer)
  }
  return owned
}
