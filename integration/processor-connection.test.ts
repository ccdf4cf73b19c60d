// The master when its Kafka connection drops (issue 4, "Faults"): every connection goes through a
// proxy that, again and again, cuts the connection instead of delivering the answer to one of the
// master's requests (Fetch, AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn, Produce),
// the way a network loses an acknowledgement. The master reconnects and retries or takes its
// partitions over again; the committed changelog still holds every ingest record exactly once.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { startProcessor } from '../pipeline/processor/index.ts'
import { startFaultyProxy } from './support/faulty-proxy.ts'
import { kafkaClient, sleep } from './support/kafka.ts'
import { connectIngestProducer, createIngestTopic, readChangelog, sendLines } from './support/ingest.ts'

const PARTITIONS = 4
/** Fetch, Produce, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, TxnOffsetCommit. */
const API_KEYS = [1, 0, 24, 25, 26, 28]

test('lost answers and dropped connections: the master resumes without a duplicate or a gap', async t => {
  const direct = await startBrokerProcess()
  const proxy = await startFaultyProxy({ host: '127.0.0.1', port: direct.port })
  const broker = await direct.restartWith(['--advertised-port', String(proxy.port)])
  const bootstrap = `127.0.0.1:${proxy.port}`
  const kafka = kafkaClient(bootstrap)
  await createIngestTopic(kafka, PARTITIONS)
  const processor = await startProcessor({ kafka: kafkaClient(bootstrap), changelogSchemaId: 3, maxRecordsPerTransaction: 50, log: () => {} })
  try {
    const producer = await connectIngestProducer(kafka)
    let sent = 0
    for (let b = 0; b < 40; b++) {
      proxy.dropNextResponse(API_KEYS[b % API_KEYS.length]!)
      const lines = Array.from({ length: 200 }, (_, i) => {
        const n = b * 200 + i
        return `cpu,host=h${n % 50} usage=${n} ${1_700_000_000_000_000_000n + BigInt(n)}`
      })
      sent += await sendLines(producer, lines, { partitions: PARTITIONS })
      await sleep(150)
    }
    await producer.disconnect()

    const unique = new Set<string>()
    const changelog = await readChangelog(kafkaClient(bootstrap), read => {
      const last = read[read.length - 1]!.entry
      unique.add(`${last.ingestPartition}/${last.ingestOffset}`)
      return unique.size >= sent
    }, 60_000)
    t.diagnostic(`${sent} ingest records, ${proxy.droppedCount()} answers lost, ${processor.stats.transactionsAborted} transactions aborted, ${processor.stats.takeovers} takeovers`)
    assert.ok(proxy.droppedCount() >= 20, `answers were lost (${proxy.droppedCount()})`)
    assert.equal(unique.size, sent, 'every ingest record reached the committed changelog')
    assert.equal(changelog.length, sent, 'none twice')
    const values = changelog.flatMap(({ entry }) => entry.upsert!.points.map(point => point.fields[0]!.value as number)).sort((a, b) => a - b)
    assert.deepEqual(values, Array.from({ length: 8_000 }, (_, i) => i), 'every point once')
  } finally {
    await processor.stop().catch(() => {})
    await proxy.close()
    await broker.stop()
  }
})
