// Long synchronous work on the main thread, cut into turns of the event loop.
//
// A node's main thread also answers HTTP requests and moves their Kafka transactions; a response
// from the broker waits for whatever task runs when it arrives. A replica's flush (about 200 ms of
// block encoding for one partition in bench:e2e's day) or the apply of one transaction's changelog
// (up to 80 ms) made every write's three round trips wait that long now and then: the write path's
// transactions took twice the broker's own time. Work that checks a TimeSlice between its steps
// and awaits `pause()` when one is due gives I/O a turn at least every few milliseconds.

import { setImmediate as nextTurn } from 'node:timers/promises'

/** How long one turn of sliced work runs before it lets the event loop take I/O. */
export const DEFAULT_SLICE_MS = 4

export class TimeSlice {
  private started = performance.now()

  constructor(private readonly sliceMs: number = DEFAULT_SLICE_MS) {}

  /** True once this turn has run sliceMs: the caller should `await pause()` before its next step. */
  get due(): boolean {
    return performance.now() - this.started >= this.sliceMs
  }

  /** Lets the event loop run its I/O callbacks (setImmediate), then starts a new turn. */
  async pause(): Promise<void> {
    await nextTurn()
    this.started = performance.now()
  }
}
