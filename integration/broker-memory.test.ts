// The log lives on disk, not in the heap (issue "Memory stays bounded"): a broker process that
// takes in and serves 768 MiB keeps a small resident set that does not grow with the log, and
// reopening that log after a restart costs no more memory than an empty one.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { kafkaClient } from './support/kafka.ts'

const MiB = 1024 * 1024
const RECORD_BYTES = 256 * 1024
const RECORDS_PER_SEND = 3 // 768 KiB per request, under the 1 MiB message limit
const ROUNDS = 4
const SENDS_PER_ROUND = 256 // 192 MiB per round, 768 MiB in all

/** Resident set of a process in MiB, from /proc (Linux). */
function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  assert.ok(match, 'VmRSS in /proc/<pid>/status')
  return Number(match[1]) / 1024
}

test('RSS stays small and flat while the log grows to 768 MiB, and after reopening it', async t => {
  // What an empty broker holds, in this run: the bound for the reopened one is relative to it.
  const empty = await startBrokerProcess()
  const probe = kafkaClient(empty.bootstrap).admin()
  await probe.connect()
  const emptyRss = rssMiB(empty.child.pid!)
  await probe.disconnect()
  await empty.stop()
  rmSync(empty.dataDir, { recursive: true, force: true })
  let broker = await startBrokerProcess({ args: ['--config', 'segmentBytes=67108864'] })
  try {
    const kafka = kafkaClient(broker.bootstrap)
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const payload = Buffer.alloc(RECORD_BYTES, 0x5a)
    const messages = Array.from({ length: RECORDS_PER_SEND }, () => ({ value: payload }))
    const samples: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      for (let send = 0; send < SENDS_PER_ROUND; send++) await producer.send({ topic: 'bulk', acks: -1, messages })
      samples.push(rssMiB(broker.child.pid!))
    }
    await producer.disconnect()
    const logMiB = (ROUNDS * SENDS_PER_ROUND * RECORDS_PER_SEND * RECORD_BYTES) / MiB
    t.diagnostic(`log ${logMiB} MiB; broker RSS after each quarter: ${samples.map(s => s.toFixed(0)).join(', ')} MiB`)
    assert.equal(logMiB, 768)
    assert.ok(Math.max(...samples) < 256, `RSS stays under 256 MiB (saw ${Math.max(...samples).toFixed(0)})`)
    assert.ok(samples[ROUNDS - 1]! - samples[0]! < 64, `RSS does not grow with the log (${samples[0]!.toFixed(0)} → ${samples[ROUNDS - 1]!.toFixed(0)} MiB)`)

    // Read the whole log back from the start: fetches read from the files, not from a heap copy.
    const consumer = kafka.consumer({ groupId: 'bulk-reader', maxBytes: 8 * MiB, maxBytesPerPartition: 8 * MiB })
    await consumer.connect()
    await consumer.subscribe({ topics: ['bulk'], fromBeginning: true })
    const total = ROUNDS * SENDS_PER_ROUND * RECORDS_PER_SEND
    let read = 0
    let peakWhileReading = 0
    await new Promise<void>((resolve, reject) => {
      consumer.run({
        eachBatch: async ({ batch }) => {
          read += batch.messages.length
          peakWhileReading = Math.max(peakWhileReading, rssMiB(broker.child.pid!))
          if (read >= total) resolve()
        },
      }).catch(reject)
    })
    await consumer.disconnect()
    t.diagnostic(`read ${read} records back; broker RSS peak while serving them: ${peakWhileReading.toFixed(0)} MiB`)
    assert.equal(read, total)
    assert.ok(peakWhileReading < 256, `RSS stays under 256 MiB while serving the log (saw ${peakWhileReading.toFixed(0)})`)

    assert.equal(await broker.stop(), 0)
    broker = await broker.restart()
    const reopened = rssMiB(broker.child.pid!)
    t.diagnostic(`RSS right after reopening the 768 MiB log: ${reopened.toFixed(0)} MiB (an empty broker: ${emptyRss.toFixed(0)} MiB)`)
    assert.ok(reopened < emptyRss + 64, `reopening does not load the log into memory (RSS ${reopened.toFixed(0)} MiB, empty broker ${emptyRss.toFixed(0)} MiB)`)
  } finally {
    await broker.stop()
    rmSync(broker.dataDir, { recursive: true, force: true })
  }
})
