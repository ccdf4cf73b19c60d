// The master's worker thread (master-thread.ts starts it): its own kafkajs client and processor,
// status and log events to the node's main thread over the MessagePort.

import '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { parentPort, workerData } from 'node:worker_threads'
import kafkajs from 'kafkajs'
import { LossyCompression } from './lossy.ts'
import { startProcessor, type Processor } from './processor.ts'
import { codecsOf, compressionFiltersOf } from './master-status.ts'
import { MASTER_THREAD_LINGER_BYTES, MASTER_THREAD_LINGER_MS, STATUS_INTERVAL_MS, type FromWorker, type MasterWorkerOptions, type ToWorker } from './master-thread.ts'
import { EMPTY_COMPRESSION_CONFIG } from '../transforms/index.ts'

const { Kafka, logLevel } = kafkajs
const options = workerData as MasterWorkerOptions
const port = parentPort!

function post(message: FromWorker): void {
  port.postMessage(message)
}

/** Seconds and records of the transactions committed since the last status, flattened in pairs. */
let transactions: number[] = []
let lastStatus = ''
let processor: Processor | undefined

function sendStatus(force = false): void {
  if (!processor) return
  const partitions = processor.partitions()
  const stats = { ...processor.stats }
  const key = JSON.stringify([partitions, stats])
  if (!force && key === lastStatus && transactions.length === 0) return
  lastStatus = key
  post({ type: 'status', partitions, stats, transactions })
  transactions = []
}

const kafka = new Kafka({
  ...options.kafka,
  logLevel: logLevel.WARN,
  // The entries go to the node's kafkajs logger; anything not cloneable is sent as text.
  logCreator: () => entry => {
    try {
      post({ type: 'kafkajs', entry })
    } catch {
      post({ type: 'kafkajs', entry: { ...entry, log: { ...entry.log, message: String(entry.log.message) } } as typeof entry })
    }
  },
})

async function answer(message: Extract<ToWorker, { type: 'request' }>): Promise<unknown> {
  if (!processor) throw new Error('the master is not running')
  switch (message.what) {
    case 'lag': return await processor.lag()
    case 'compression': return compressionFiltersOf(await processor.compressors())
    case 'codecs': return codecsOf(await processor.compressors(), options.lossy?.config ?? EMPTY_COMPRESSION_CONFIG, message.tenant, message.database, message.fields)
  }
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'stop') {
    clearInterval(timer)
    void (processor?.stop() ?? Promise.resolve()).finally(() => {
      sendStatus(true)
      post({ type: 'stopped' })
      port.close()
    })
    return
  }
  answer(message).then(
    value => post({ type: 'answer', id: message.id, value }),
    error => post({ type: 'answer', id: message.id, error: (error as Error).message }),
  )
})

const timer = setInterval(() => sendStatus(), STATUS_INTERVAL_MS)

try {
  const lossy = options.lossy
  processor = await startProcessor({
    kafka,
    changelogSchemaId: options.changelogSchemaId,
    // Larger transactions than the main thread's master, which other work delays into large batches anyway.
    lingerMs: MASTER_THREAD_LINGER_MS,
    lingerBytes: MASTER_THREAD_LINGER_BYTES,
    ...(lossy ? { compressionFor: () => new LossyCompression({ config: lossy.config, stateSchemaId: lossy.stateSchemaId }) } : {}),
    ...(options.sessionTimeoutMs !== undefined ? { sessionTimeoutMs: options.sessionTimeoutMs } : {}),
    log: event => {
      post({ type: 'log', event })
      if (event.event === 'assignment') sendStatus(true)
    },
    observeTransaction: (seconds, records) => { transactions.push(seconds, records) },
  })
  post({ type: 'started' })
} catch (error) {
  clearInterval(timer)
  post({ type: 'start-failed', error: `the master could not start: ${(error as Error).message}` })
}
