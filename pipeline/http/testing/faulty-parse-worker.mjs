// A parse worker for tests (ParsePool's workerUrl seam): a body that starts with "CRASH" ends the
// thread, one that starts with "HANG" never answers; any other body is encoded as the real worker
// (parse-worker.ts) does.
import { parentPort } from 'node:worker_threads'
import '../../../lib/loader/register.mjs'

const { encodeBody, transferablesOf } = await import('../encode-body.ts')
const startsWith = (body, text) => Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, text.length)).toString('latin1') === text

parentPort.on('message', task => {
  if (startsWith(task.request.body, 'CRASH')) process.exit(3)
  if (startsWith(task.request.body, 'HANG')) for (;;);
  const result = encodeBody(task.request)
  parentPort.postMessage({ id: task.id, ok: true, result }, transferablesOf(result))
})
parentPort.postMessage({ ready: true })
