// A scan worker's message loop: takes ScanTasks from the pool (pool.ts), answers each with its
// partial log, transferring the buffers. Runs in a worker_threads Worker through worker-entry.mjs.

import { parentPort } from 'node:worker_threads'
import { runScanTask } from './scan-task.ts'
import type { WorkerAnswer, WorkerRequest } from './pool.ts'

if (parentPort === null) throw new Error('query/parallel/worker.ts runs in a worker thread only')
const port = parentPort
port.on('message', (request: WorkerRequest) => {
  let ran: ReturnType<typeof runScanTask>
  try {
    ran = runScanTask(request.task)
  } catch (error) {
    // Storage errors (a corrupt block) and bugs fail this query only; the worker stays up.
    port.postMessage({ id: request.id, failure: (error as Error).message ?? String(error) } satisfies WorkerAnswer)
    return
  }
  port.postMessage({ id: request.id, answer: ran.answer } satisfies WorkerAnswer, ran.transfer)
})
port.postMessage({ ready: true } satisfies WorkerAnswer)
