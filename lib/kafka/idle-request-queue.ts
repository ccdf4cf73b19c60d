// kafkajs 2.2.4 keeps every idle broker connection busy: after each response its request queue arms
// a timer to look for pending requests even when none is pending, with a delay of
// `throttledUntil - now` (negative when not throttled, so 1 ms), and that check arms the next one.
// Each connection of each client then runs a 1 ms timer loop for as long as it lives: about half of
// an idle node's CPU (docs/benchmarks.md, idle CPU). Importing this module replaces that method with
// one that arms a timer only while a request waits in the queue, throttled or over the in-flight
// limit, with the same delays kafkajs uses then. Sending, throttling and timeouts stay kafkajs's.

import { createRequire } from 'node:module'
import { isPatchedKafkajsRelease } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)

export const KAFKAJS_REQUEST_QUEUE_MODULE = require.resolve('kafkajs/src/network/requestQueue/index.js')

/** kafkajs's own delay before it looks again at a queue over its in-flight limit. */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10

/** The fields of kafkajs's RequestQueue the replacement reads and writes. */
interface RequestQueueState {
  pending: unknown[]
  throttledUntil: number
  throttleCheckTimeoutId: NodeJS.Timeout | null
  checkPendingRequests(): void
}

/**
 * Installs the replacement on kafkajs's RequestQueue (every queue, existing or future, in this
 * thread); true once installed. Another kafkajs release is left alone (false): its queue may differ.
 */
export function installIdleRequestQueue(): boolean {
  if (!isPatchedKafkajsRelease) return false
  const RequestQueue = require(KAFKAJS_REQUEST_QUEUE_MODULE) as { prototype: { scheduleCheckPendingRequests: (this: RequestQueueState) => void } }
  RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests
  return true
}

/** Arms one check while requests wait: at the end of a throttle, else after kafkajs's interval. */
export function scheduleCheckPendingRequests(this: RequestQueueState): void {
  if (this.pending.length === 0 || this.throttleCheckTimeoutId !== null) return
  const throttledForMs = this.throttledUntil - Date.now()
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null
    this.checkPendingRequests()
  }, throttledForMs > 0 ? throttledForMs : CHECK_PENDING_REQUESTS_INTERVAL_MS)
}

installIdleRequestQueue()
