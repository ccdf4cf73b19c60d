// A parse worker's message loop: takes EncodeRequests from the pool (parse-pool.ts), answers each with
// its EncodeResult, transferring the buffers. Runs in a worker_threads Worker, started through
// parse-worker-entry.mjs, which registers the TypeScript loader first.

import { parentPort } from 'node:worker_threads'
import { encodeBody, transferablesOf, type EncodeRequest } from './encode-body.ts'

export interface WorkerTask { id: number; request: EncodeRequest }
export type WorkerAnswer =
  | { id: number; ok: true; result: ReturnType<typeof encodeBody> }
  | { id: number; ok: false; message: string }
  /** Sent once, when the worker has loaded and listens: the pool counts it as started. */
  | { ready: true }

if (parentPort === null) throw new Error('parse-worker.ts runs in a worker thread only')
const port = parentPort
port.on('message', (task: WorkerTask) => {
  let answer: WorkerAnswer
  try {
    const result = encodeBody(task.request)
    answer = { id: task.id, ok: true, result }
    port.postMessage(answer, transferablesOf(result))
  } catch (error) {
    // A bug in parse or encode fails this request only; the worker stays up for the next.
    answer = { id: task.id, ok: false, message: (error as Error).stack ?? String(error) }
    port.postMessage(answer)
  }
})
port.postMessage({ ready: true } satisfies WorkerAnswer)
