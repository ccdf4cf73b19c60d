// kafkajs's request queue with lib/kafka/idle-request-queue.ts installed: an idle queue arms no
// timer, and a request held back (in-flight limit, client-side throttle) is still sent.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import { installIdleRequestQueue, KAFKAJS_REQUEST_QUEUE_MODULE, scheduleCheckPendingRequests } from './idle-request-queue.ts'

const require = createRequire(import.meta.url)

interface Queue {
  pending: unknown[]
  throttleCheckTimeoutId: NodeJS.Timeout | null
  push(request: { entry: Record<string, unknown>; expectResponse: boolean; sendRequest(): void }): void
  fulfillRequest(response: { correlationId: number; payload: Buffer; size: number }): void
  maybeThrottle(throttleTimeMs: number): void
  destroy(): void
}

const RequestQueue = require(KAFKAJS_REQUEST_QUEUE_MODULE) as new (options: Record<string, unknown>) => Queue
const quiet = { debug() {}, info() {}, warn() {}, error() {} }

function queue(maxInFlightRequests: number | null): Queue {
  return new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 'test', broker: 'b:9092', logger: quiet })
}

/** Pushes request `correlationId`; `sent` lists the ids in the order the queue sent them. */
function push(q: Queue, correlationId: number, sent: number[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    q.push({
      entry: { apiKey: 1, apiName: 'Fetch', apiVersion: 11, correlationId, resolve, reject },
      expectResponse: true,
      sendRequest: () => { sent.push(correlationId) },
    })
  })
}

test('installed on kafkajs\'s RequestQueue, the release package.json pins', () => {
  assert.equal(installIdleRequestQueue(), true)
  assert.equal((RequestQueue as unknown as { prototype: Record<string, unknown> }).prototype.scheduleCheckPendingRequests, scheduleCheckPendingRequests)
})

test('a queue with nothing pending arms no timer after a response (kafkajs alone loops on a 1 ms one)', async () => {
  const q = queue(null)
  const sent: number[] = []
  const answered = push(q, 1, sent)
  assert.deepEqual(sent, [1])
  q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 })
  await answered
  assert.equal(q.throttleCheckTimeoutId, null, 'no check armed while nothing waits')
  q.destroy()
})

test('a request over the in-flight limit waits, then goes when the one before it is answered', async () => {
  const q = queue(1)
  const sent: number[] = []
  const first = push(q, 1, sent)
  const second = push(q, 2, sent)
  assert.deepEqual(sent, [1])
  assert.equal(q.pending.length, 1)
  q.fulfillRequest({ correlationId: 1, payload: Buffer.alloc(0), size: 0 })
  await first
  assert.deepEqual(sent, [1, 2])
  q.fulfillRequest({ correlationId: 2, payload: Buffer.alloc(0), size: 0 })
  await second
  assert.equal(q.pending.length, 0)
  q.destroy()
})

test('a request held back by a client-side throttle is sent by the armed check once the throttle ends', async () => {
  const q = queue(null)
  const sent: number[] = []
  q.maybeThrottle(30)
  const held = push(q, 7, sent)
  assert.deepEqual(sent, [], 'throttled: queued, not sent')
  assert.notEqual(q.throttleCheckTimeoutId, null, 'a check is armed for the end of the throttle')
  await new Promise<void>(resolve => { const poll = (): void => { if (sent.length > 0) resolve(); else setImmediate(poll) }; poll() })
  assert.deepEqual(sent, [7])
  q.fulfillRequest({ correlationId: 7, payload: Buffer.alloc(0), size: 0 })
  await held
  assert.equal(q.throttleCheckTimeoutId, null, 'nothing pending any more: no check armed')
  q.destroy()
})
