// A parse worker for tests (ParsePool's workerUrl seam): a body that starts with "CRASH" ends the
// thread, one that starts with "HANG" never answers; any other body is encoded as the real worker
// (parse-worker.ts) does.
import { parentPort } from 'node:worker_threads'
import '../../../lib/loader/register.mjs'

const { encodeBody, transferablesOf } = await import('../encode-body.ts')
// The body is one buffer or its chunks as received; the markers are short enough to sit in the first chunk.
const firstBytes = body => (body instanceof Uint8Array ? body : body[0] ?? new Uint8Array(0))
const startsWith = (body, text) => {
  const first = firstBytes(body)
  return Buffer.from(first.buffer, first.byteOffset, Math.min(first.byteLength, text.length)).toString('latin1') === text
}

parentPort.on('message', task => {
  if (startsWith(task.request.body, 'CRASH')) process.exit(3)
  if (startsWith(task.request.body, 'HANG')) for (;;);
  const result = encodeBody(task.request)
  parentPort.postMessage({ id: task.id, ok: true, result }, transferablesOf(result))
})
parentPort.postMessage({ ready: true })
