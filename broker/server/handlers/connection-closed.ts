// Waiting on a connection's `closed` promise without leaking: a promise reaction can never be
// removed, so attaching one per request (every long-poll Fetch, every Produce waiting for fsync)
// would grow the connection's reaction list for as long as it lives. Instead one reaction per
// connection fans out to listeners that requests add and remove.

interface CloseWatch { closed: boolean; listeners: Set<() => void> }

const watches = new WeakMap<Promise<void>, CloseWatch>()

function watchOf(closed: Promise<void>): CloseWatch {
  let watch = watches.get(closed)
  if (!watch) {
    const created: CloseWatch = { closed: false, listeners: new Set() }
    void closed.then(() => {
      created.closed = true
      for (const listener of [...created.listeners]) listener()
      created.listeners.clear()
    })
    watches.set(closed, created)
    watch = created
  }
  return watch
}

/** Calls `listener` once when the connection closes (at once, asynchronously, if it already has); returns the unsubscribe function. */
export function onConnectionClosed(closed: Promise<void>, listener: () => void): () => void {
  const watch = watchOf(closed)
  if (watch.closed) {
    queueMicrotask(listener)
    return () => {}
  }
  watch.listeners.add(listener)
  return () => { watch.listeners.delete(listener) }
}

/** Whether the connection is known to have closed. */
export function connectionClosed(closed: Promise<void>): boolean {
  return watchOf(closed).closed
}
