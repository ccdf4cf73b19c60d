// Group commit (brief §6.3). Partitions mark themselves dirty after a write; a round takes every
// dirty partition's active segment and the log end offset written so far, fdatasyncs them in
// parallel on the libuv pool, and then tells each partition that everything below that offset is
// on disk. Under flush policy 'always' that is when the high watermark rises and acks are
// released; under 'interval' the HW rose at append and the round only moves the recovery point.
//
// Scheduling: 'always' starts a round at once when idle and otherwise at most one round per
// flushIntervalMs, so concurrent producers share an fsync; 'interval' runs a round
// flushIntervalMs after the first dirtying write; 'os' never flushes (the flusher is unused).

import { fdatasync } from 'node:fs'
import type { FlushPolicy } from '../config.ts'

export interface Flushable {
  /** Null when the partition was closed or deleted since it was marked dirty. */
  flushTarget(): { fd: number; offsetExclusive: bigint } | null
  /** Everything below `offsetExclusive` is durable. */
  onFlushed(offsetExclusive: bigint): void
  /** True when a failed flush lost nothing: the partition is gone, or a segment seal already synced the range. */
  flushFailureIsHarmless(offsetExclusive: bigint): boolean
  readonly closed: boolean
}

export class Flusher {
  private dirty = new Set<Flushable>()
  private running: Promise<void> | null = null
  /** Cancels the scheduled round, if one is scheduled. */
  private cancelScheduled: (() => void) | null = null
  private lastRoundStartMs = -Infinity

  constructor(
    private readonly policy: FlushPolicy,
    private readonly intervalMs: number,
    /** A failed fdatasync: the page cache may never reach the disk, so nothing more may be acknowledged. */
    private readonly onFatal: (error: Error) => void,
  ) {}

  markDirty(log: Flushable): void {
    if (this.policy === 'os') return
    this.dirty.add(log)
    this.schedule()
  }

  private schedule(): void {
    if (this.running || this.cancelScheduled || this.dirty.size === 0) return
    const delayMs = this.policy === 'interval' ? this.intervalMs : Math.max(0, this.lastRoundStartMs + this.intervalMs - Date.now())
    const start = (): void => { this.cancelScheduled = null; void this.round() }
    if (delayMs === 0) {
      const immediate = setImmediate(start)
      this.cancelScheduled = () => clearImmediate(immediate)
    } else {
      const timer = setTimeout(start, delayMs)
      this.cancelScheduled = () => clearTimeout(timer)
    }
  }

  private round(): Promise<void> {
    if (this.running) return this.running
    const targets = [...this.dirty].flatMap(log => {
      const target = log.flushTarget()
      return target ? [{ log, ...target }] : []
    })
    this.dirty.clear()
    this.lastRoundStartMs = Date.now()
    this.running = (async () => {
      try {
        await Promise.all(targets.map(target => this.flushOne(target)))
      } finally {
        this.running = null
        this.schedule()
      }
    })()
    return this.running
  }

  private async flushOne(target: { log: Flushable; fd: number; offsetExclusive: bigint }): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => fdatasync(target.fd, error => (error ? reject(error) : resolve())))
    } catch (error) {
      // A partition deleted, or a segment sealed and then removed by retention mid-round, may have
      // closed the descriptor: then nothing was lost.
      if (target.log.flushFailureIsHarmless(target.offsetExclusive)) return
      this.onFatal(error as Error)
      return
    }
    if (!target.log.closed) target.log.onFlushed(target.offsetExclusive)
  }

  /** Flushes everything dirty now and waits for it (shutdown, tests). */
  async drain(): Promise<void> {
    for (;;) {
      this.cancelScheduled?.()
      this.cancelScheduled = null
      if (!this.running && this.dirty.size === 0) return
      await (this.running ?? this.round())
    }
  }
}
