// A small pool of scan worker threads (worker.ts) for parallel aggregates. A task goes to the
// least busy worker; its answer comes back as transferred buffers.
//
// Failure: a worker that exits or errors fails every task it holds with WORKER_FAILED (the query
// gets a clear error, nothing is half-answered) and a fresh worker takes its slot, so the next query
// finds a full pool. A worker that fails before it ever started is not respawned at once (a broken
// install would spin): its slot stays empty and tasks go to the others, or fail when none is left.

import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { QueryError, QueryErrorCode } from '../errors.ts'
import type { ScanAnswer, ScanTask } from './scan-task.ts'

export interface WorkerRequest { id: number; task: ScanTask }
export type WorkerAnswer =
  | { id: number; answer: ScanAnswer }
  /** The task threw something other than a query error (a corrupt block, a bug). */
  | { id: number; failure: string }
  | { ready: true }

/** Default workers: one per core beyond the main thread's, at most two (measured: docs/benchmarks.md). */
export function defaultScanWorkers(): number {
  return Math.max(1, Math.min(2, availableParallelism() - 1))
}

export interface ScanPoolOptions {
  size?: number
  /** The worker's entry module; a seam for tests (a worker that dies on cue). */
  workerUrl?: URL
}

interface Pending {
  resolve: (answer: ScanAnswer) => void
  reject: (error: Error) => void
}

interface Slot {
  thread: Worker
  tasks: Map<number, Pending>
  online: boolean
  /** Settles when the worker has loaded its modules, or has failed. */
  started: Promise<void>
  markStarted: () => void
}

const DEFAULT_WORKER_URL = new URL('./worker-entry.mjs', import.meta.url)

export class ScanPool {
  readonly size: number
  private readonly slots: Array<Slot | undefined> = []
  private readonly workerUrl: URL
  private nextTaskId = 1
  private closed = false
  /** Workers replaced after a crash, for tests and logs. */
  restarts = 0

  constructor(options: ScanPoolOptions = {}) {
    this.size = options.size ?? defaultScanWorkers()
    if (!Number.isInteger(this.size) || this.size < 1 || this.size > 64) throw new RangeError(`ScanPool: size must be an integer in [1, 64], got ${this.size}`)
    this.workerUrl = options.workerUrl ?? DEFAULT_WORKER_URL
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn())
  }

  /** Workers running now (a slot whose worker never started is empty). */
  get running(): number {
    return this.slots.filter((slot) => slot !== undefined).length
  }

  /**
   * Runs `task` on worker `preferred` (modulo the size), or the least busy one when that slot is
   * empty; `transfer` lists buffers of the task to move, not copy.
   */
  run(task: ScanTask, transfer: ArrayBuffer[], preferred = 0): Promise<ScanAnswer> {
    if (this.closed) return Promise.reject(new QueryError(QueryErrorCode.WORKER_FAILED, 'the scan workers are shut down'))
    let slot = this.slots[preferred % this.size]
    if (slot === undefined) for (const candidate of this.slots) if (candidate !== undefined && (slot === undefined || candidate.tasks.size < slot.tasks.size)) slot = candidate
    if (slot === undefined) return Promise.reject(new QueryError(QueryErrorCode.WORKER_FAILED, 'no scan worker is running (they failed to start)'))
    const id = this.nextTaskId++
    const target = slot
    return new Promise<ScanAnswer>((resolve, reject) => {
      target.tasks.set(id, { resolve, reject })
      target.thread.ref() // a query in progress keeps the process alive; an idle pool does not
      target.thread.postMessage({ id, task } satisfies WorkerRequest, transfer)
    })
  }

  /** Resolves once every worker has loaded (or failed): a caller awaits it so no first query waits for a thread to start. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot?.started))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.slots.map((slot) => slot?.thread.terminate()))
  }

  private spawn(): Slot {
    let markStarted = (): void => {}
    const started = new Promise<void>((resolve) => { markStarted = resolve })
    const slot: Slot = { thread: new Worker(this.workerUrl, { name: 'sluice-scan' }), tasks: new Map(), online: false, started, markStarted }
    slot.thread.unref()
    slot.thread.on('message', (message: WorkerAnswer) => this.answered(slot, message))
    slot.thread.on('error', (error) => this.failed(slot, `a scan worker failed: ${error.message}`))
    slot.thread.on('exit', (code) => this.failed(slot, `a scan worker exited with code ${code}`))
    return slot
  }

  private answered(slot: Slot, message: WorkerAnswer): void {
    if ('ready' in message) { slot.online = true; slot.markStarted(); return }
    const pending = slot.tasks.get(message.id)
    if (pending === undefined) return
    slot.tasks.delete(message.id)
    if (slot.tasks.size === 0) slot.thread.unref()
    if ('answer' in message) pending.resolve(message.answer)
    else pending.reject(new QueryError(QueryErrorCode.WORKER_FAILED, `a scan worker could not read: ${message.failure}`))
  }

  /** Fails the worker's tasks and puts a fresh worker in its slot (once: an error is followed by an exit). */
  private failed(slot: Slot, reason: string): void {
    const index = this.slots.indexOf(slot)
    if (index === -1) return
    slot.markStarted()
    for (const pending of slot.tasks.values()) pending.reject(new QueryError(QueryErrorCode.WORKER_FAILED, `${reason} during the query; it was not answered, retry it`))
    slot.tasks.clear()
    void slot.thread.terminate()
    if (this.closed) return
    this.restarts++
    this.slots[index] = slot.online ? this.spawn() : undefined
  }
}
