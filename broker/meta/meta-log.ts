// An append-only, checksummed record log for the broker's own state (topic catalog, group offsets,
// transactions, producer-id blocks). A request that changed state is answered only once the change
// is durable (fdatasync'd). A torn tail is cut off on open.
//
// Two ways to append, never mixed on one open log:
// - appendQueued() (the transaction log, on every transaction state change): group commit. Records
//   appended while a write is in flight, or within one event-loop turn, go out as one write and one
//   fdatasync on the libuv thread pool; the promise resolves once they are durable. Writes happen
//   strictly in append order and one at a time, so a later record is never durable before an
//   earlier one, and waiters are resolved in append order. rewriteQueued() takes its place in the
//   same queue. A failed write or fdatasync poisons the log: that batch and everything after it is
//   rejected (the tail on disk is unknown; open() after a restart decides what survived).
// - append() / rewrite() (rare changes: producer-id blocks, topics, group offsets): write and fsync
//   on the calling thread before returning.
//
// File layout: repeated frames of [length u32][crc32c u32 of payload][payload]. Payloads are
// UTF-8 JSON documents chosen by the owner of the log. JSON has no 64-bit integers, so owners
// write bigints as decimal strings themselves (JSON.stringify throws on a bigint, loudly).

import {
  close, closeSync, existsSync, fdatasync, fdatasyncSync, fsync, fsyncSync, ftruncateSync, mkdirSync, open, openSync,
  readFileSync, rename, renameSync, write, writeSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { crc32c } from '../record/crc32c.ts'

const FRAME_HEADER_BYTES = 8
const MAX_RECORD_BYTES = 64 * 1024 * 1024
/** One group-commit write holds at most this many bytes; more records start the next batch. */
const MAX_BATCH_BYTES = 4 * 1024 * 1024

export interface MetaLogOpen<T> {
  log: MetaLog<T>
  records: T[]
  /** Bytes cut from a torn or corrupt tail. */
  truncatedBytes: number
}

/** One queued write: records appended together (group commit) or a whole-file replacement. */
interface QueuedWrite {
  kind: 'append' | 'rewrite'
  frames: Buffer[]
  bytes: number
  done: Promise<void>
  resolve: () => void
  reject: (error: Error) => void
}

export class MetaLog<T> {
  /** Writes not yet started, in append order; the one being written is no longer here. */
  private readonly queue: QueuedWrite[] = []
  /** The write on the thread pool, if any. */
  private writing: QueuedWrite | undefined
  private drainScheduled = false
  private queuedWritesDone = 0
  private failure: Error | undefined
  private closed = false

  private constructor(private readonly path: string, private fd: number, private sizeBytes: number, private readonly durable: boolean) {}

  /** Opens (or creates) the log and returns every intact record. */
  static open<T>(path: string, options: { durable?: boolean } = {}): MetaLogOpen<T> {
    mkdirSync(dirname(path), { recursive: true })
    const bytes = existsSync(path) ? readFileSync(path) : Buffer.alloc(0)
    const records: T[] = []
    let at = 0
    while (at + FRAME_HEADER_BYTES <= bytes.length) {
      const length = bytes.readUInt32BE(at)
      const end = at + FRAME_HEADER_BYTES + length
      if (length > MAX_RECORD_BYTES || end > bytes.length) break
      if (crc32c(bytes, at + FRAME_HEADER_BYTES, end) !== bytes.readUInt32BE(at + 4)) break
      records.push(parse<T>(bytes.subarray(at + FRAME_HEADER_BYTES, end)))
      at = end
    }
    const fd = openSync(path, 'a+')
    if (at < bytes.length) {
      ftruncateSync(fd, at)
      fsyncSync(fd)
    }
    return { log: new MetaLog<T>(path, fd, at, options.durable ?? true), records, truncatedBytes: bytes.length - at }
  }

  /** The log's size once every queued write is done. */
  get bytes(): number { return this.sizeBytes }

  /** Appends records as one write and fsyncs before returning (blocks the event loop: rare changes only). */
  append(...records: T[]): void {
    this.assertIdle('append')
    const frames = Buffer.concat(records.map(frame))
    writeSync(this.fd, frames)
    if (this.durable) fdatasyncSync(this.fd)
    this.sizeBytes += frames.length
  }

  /**
   * Queues records for the next group commit and resolves once they are durable. Throws at once
   * (nothing queued) if the log is closed or an earlier write failed, so the owner can keep its
   * in-memory state unchanged.
   */
  appendQueued(...records: T[]): Promise<void> {
    this.assertWritable('appendQueued')
    const frames = records.map(frame)
    let bytes = 0
    for (const f of frames) bytes += f.length
    let batch = this.queue.at(-1)
    if (!batch || batch.kind !== 'append' || (batch.bytes > 0 && batch.bytes + bytes > MAX_BATCH_BYTES)) batch = this.enqueue('append')
    batch.frames.push(...frames)
    batch.bytes += bytes
    this.sizeBytes += bytes
    return batch.done
  }

  /**
   * Resolves once everything queued so far is durable; rejects if any of it failed (or an earlier
   * write did). Immediately settled when nothing is queued.
   */
  flushed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    const last = this.queue.at(-1) ?? this.writing
    return last ? last.done : Promise.resolve()
  }

  /** Group-commit writes finished so far (one write and one fdatasync each, however many records). */
  get queuedWrites(): number { return this.queuedWritesDone }

  /** True while a queued write has not finished. */
  get busy(): boolean { return this.writing !== undefined || this.queue.length > 0 }

  /** Replaces the whole log with a compacted set of records (write, fsync, rename, fsync dir). */
  rewrite(records: T[]): void {
    this.assertIdle('rewrite')
    const temporary = `${this.path}.compacting`
    const fd = openSync(temporary, 'w')
    const frames = Buffer.concat(records.map(frame))
    writeSync(fd, frames)
    fsyncSync(fd)
    closeSync(fd)
    renameSync(temporary, this.path)
    syncDirectory(dirname(this.path))
    closeSync(this.fd)
    this.fd = openSync(this.path, 'a+')
    this.sizeBytes = frames.length
  }

  /**
   * rewrite() in the group-commit queue: runs after every record queued before it is durable, and
   * records queued after it go to the new file. The records must be the owner's state as of now
   * (it includes what the earlier queued records say).
   */
  rewriteQueued(records: T[]): Promise<void> {
    this.assertWritable('rewriteQueued')
    const next = this.enqueue('rewrite')
    next.frames = records.map(frame)
    for (const f of next.frames) next.bytes += f.length
    this.sizeBytes = next.bytes
    return next.done
  }

  /** Waits for every queued write (those queued meanwhile too; failed ones are the owner's to report), then closes. */
  async closeWhenFlushed(): Promise<void> {
    while (this.busy) await this.flushed().catch(() => undefined)
    this.close()
  }

  /** Closes the file; queued writes must be finished first (closeWhenFlushed). */
  close(): void {
    if (this.closed) return
    if (this.busy) throw new Error(`meta log ${this.path}: close with writes in flight`)
    this.closed = true
    closeSync(this.fd)
  }

  // --- group commit ------------------------------------------------------------------------------

  private enqueue(kind: QueuedWrite['kind']): QueuedWrite {
    let resolve!: () => void
    let reject!: (error: Error) => void
    const done = new Promise<void>((res, rej) => { resolve = res; reject = rej })
    // Owners may drop a promise (a write nobody waits for); its failure still poisons the log.
    done.catch(() => undefined)
    const queued: QueuedWrite = { kind, frames: [], bytes: 0, done, resolve, reject }
    this.queue.push(queued)
    this.scheduleDrain()
    return queued
  }

  /** The first write of a burst waits for the end of this event-loop turn, so the turn's appends share it. */
  private scheduleDrain(): void {
    if (this.drainScheduled || this.writing) return
    this.drainScheduled = true
    setImmediate(() => {
      this.drainScheduled = false
      void this.drain()
    })
  }

  private async drain(): Promise<void> {
    while (!this.writing && this.queue.length > 0 && !this.failure) {
      const next = this.queue.shift()!
      this.writing = next
      try {
        if (next.kind === 'append') await this.writeBatch(next)
        else await this.replaceFile(next)
        this.writing = undefined
        this.queuedWritesDone += 1
        next.resolve()
      } catch (error) {
        this.writing = undefined
        this.poison(next, error as Error)
      }
    }
  }

  private async writeBatch(batch: QueuedWrite): Promise<void> {
    await writeAll(this.fd, batch.frames.length === 1 ? batch.frames[0]! : Buffer.concat(batch.frames, batch.bytes))
    if (this.durable) await callback<void>(done => fdatasync(this.fd, done))
  }

  private async replaceFile(rewrite: QueuedWrite): Promise<void> {
    const temporary = `${this.path}.compacting`
    const fd = await callback<number>(done => open(temporary, 'w', done))
    try {
      await writeAll(fd, Buffer.concat(rewrite.frames, rewrite.bytes))
      await callback<void>(done => fsync(fd, done))
    } finally {
      await callback<void>(done => close(fd, done))
    }
    await callback<void>(done => rename(temporary, this.path, done))
    await syncDirectoryQueued(dirname(this.path))
    const appendFd = await callback<number>(done => open(this.path, 'a+', done))
    const old = this.fd
    this.fd = appendFd
    await callback<void>(done => close(old, done))
  }

  private poison(failed: QueuedWrite, error: Error): void {
    this.failure = new Error(`meta log ${this.path}: write failed, log closed to writes: ${error.message}`, { cause: error })
    failed.reject(this.failure)
    for (const queued of this.queue.splice(0)) queued.reject(this.failure)
  }

  private assertWritable(operation: string): void {
    if (this.closed) throw new Error(`meta log ${this.path}: ${operation} after close`)
    if (this.failure) throw this.failure
  }

  private assertIdle(operation: string): void {
    this.assertWritable(operation)
    if (this.busy) throw new Error(`meta log ${this.path}: ${operation} while queued writes are in flight`)
  }
}

function frame(record: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(record))
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length)
  out.writeUInt32BE(payload.length, 0)
  out.writeUInt32BE(crc32c(payload), 4)
  payload.copy(out, FRAME_HEADER_BYTES)
  return out
}

function parse<T>(payload: Buffer): T {
  return JSON.parse(payload.toString('utf8')) as T
}

/** Runs a Node callback-style fs call as a promise (on the libuv thread pool). */
function callback<R>(start: (done: (error: NodeJS.ErrnoException | null, result: R) => void) => void): Promise<R> {
  return new Promise((resolve, reject) => start((error, result) => (error ? reject(error) : resolve(result))))
}

/** fs.write may write less than asked; loops until the whole buffer is in (the fd appends). */
async function writeAll(fd: number, buffer: Buffer): Promise<void> {
  let at = 0
  while (at < buffer.length) {
    const written = await callback<number>(done => write(fd, buffer, at, buffer.length - at, null, done))
    if (written <= 0) throw new Error(`write returned ${written}`)
    at += written
  }
}

export function syncDirectory(path: string): void {
  const fd = openSync(path, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}

async function syncDirectoryQueued(path: string): Promise<void> {
  const fd = await callback<number>(done => open(path, 'r', done))
  try {
    await callback<void>(done => fsync(fd, done))
  } finally {
    await callback<void>(done => close(fd, done))
  }
}
