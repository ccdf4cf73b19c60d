// The writer's queueing against a scripted stand-in for kafkajs (the real broker is exercised in
// integration/http-kafka-down.test.ts): group commit of concurrent writes into one transaction,
// the queue bound, deadlines of queued writes, and a failed transaction dropping its producer.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Kafka } from 'kafkajs'
import type { IngestRecordOut } from '../ingest/index.ts'
import { TransactionalKafkaWriter, type PartitionSection } from './kafka-writer.ts'
import { encodeRecordSection, RecordBatchCodec } from '../../lib/kafka/record-batch.ts'

interface Script {
  transactions: Array<{ messages: number; committed: boolean; sends?: Array<Array<{ partition: number }>> }>
  producersMade: number
  /** Per producer made: its transactional id, and whether it was disconnected. */
  made?: Array<{ id: string; disconnected: boolean; aborts: number }>
  fail: boolean
  /** Resolves the next send; while unset, sends complete at once. */
  hold: Promise<void> | undefined
}

function scriptedKafka(script: Script): Kafka {
  const producer = ({ transactionalId }: { transactionalId: string }) => {
    script.producersMade++
    const made = { id: transactionalId, disconnected: false, aborts: 0 }
    script.made?.push(made)
    return {
      connect: async () => {},
      disconnect: async () => { made.disconnected = true },
      transaction: async () => {
        const entry: Script['transactions'][number] = { messages: 0, committed: false }
        script.transactions.push(entry)
        return {
          send: async ({ messages }: { messages: Array<{ partition: number }> }) => {
            if (script.hold) await script.hold
            if (script.fail) throw new Error('broker gone')
            entry.messages += messages.length
            ;(entry.sends ??= []).push(messages)
          },
          commit: async () => { entry.committed = true },
          abort: async () => { made.aborts++ },
        }
      },
    }
  }
  return { producer } as unknown as Kafka
}

const silent = { info() {}, warn() {}, error() {} }
const records = (count: number, bytes = 10): IngestRecordOut[] =>
  Array.from({ length: count }, (_, i) => ({ partition: i % 3, key: Buffer.from(`k${i}`), value: Buffer.alloc(bytes) }))

function writer(script: Script, overrides: Partial<ConstructorParameters<typeof TransactionalKafkaWriter>[0]> = {}): TransactionalKafkaWriter {
  return new TransactionalKafkaWriter({
    kafka: scriptedKafka(script), topic: 't', transactionalIdPrefix: 'x', producers: 1, logger: silent,
    maxQueuedRecordBytes: 10_000, maxTransactionRecords: 1_000, maxTransactionBytes: 100_000, ...overrides,
  })
}

const newScript = (): Script => ({ transactions: [], producersMade: 0, fail: false, hold: undefined })

describe('TransactionalKafkaWriter', () => {
  it('fences at start its own transactional ids and those of an earlier run with more producers, keeping only its own', async () => {
    const script = { ...newScript(), made: [] as NonNullable<Script['made']> }
    const sink = writer(script, { producers: 1 })
    await sink.start()
    assert.deepEqual(script.made.map(({ id, aborts }) => [id, aborts]), [['x-0', 1], ['x-1', 1], ['x-2', 1], ['x-3', 1]])
    assert.deepEqual(script.made.map(({ disconnected }) => disconnected), [false, true, true, true])
    await sink.write(records(2), Date.now() + 1_000)
    assert.equal(script.producersMade, 4, 'the write went through the kept producer')
    await sink.close()
  })

  it('commits concurrent writes that queued behind a transaction together, in one transaction', async () => {
    const script = newScript()
    let release!: () => void
    script.hold = new Promise(resolve => { release = resolve })
    const sink = writer(script)
    const deadline = Date.now() + 10_000
    const first = sink.write(records(2), deadline)
    await new Promise(resolve => setImmediate(resolve))
    const queued = [sink.write(records(3), deadline), sink.write(records(4), deadline), sink.write(records(5), deadline)]
    release()
    script.hold = undefined
    await Promise.all([first, ...queued])
    assert.deepEqual(script.transactions.map(t => [t.messages, t.committed]), [[2, true], [12, true]])
    await sink.close()
  })

  it('sends a transaction in several produce requests when a partition would exceed maxPartitionBatchBytes, in order', async () => {
    const script = newScript()
    const sink = writer(script, { maxPartitionBatchBytes: 250 })
    // 9 records of ~102 bytes over partitions 0, 1, 2: at most two per partition per request.
    await sink.write(records(9, 100), Date.now() + 10_000)
    const sends = script.transactions[0]!.sends!
    assert.equal(script.transactions.length, 1)
    assert.equal(sends.length, 2)
    for (const send of sends) {
      for (const partition of [0, 1, 2]) assert.ok(send.filter(m => m.partition === partition).length <= 2)
    }
    assert.equal(sends.flat().length, 9)
    await sink.close()
  })

  it('sends sections of concurrent writes one per partition per produce request, each partition in write order, beside records', async () => {
    const script = newScript()
    let release!: () => void
    script.hold = new Promise(resolve => { release = resolve })
    const sink = writer(script, { compression: 'none' })
    assert.ok(sink.sectionFormat, 'kafkajs sends sections in this thread')
    const deadline = Date.now() + 10_000
    const first = sink.write(records(1), deadline)
    await new Promise(resolve => setImmediate(resolve))
    const section = (partition: number, count: number): PartitionSection => ({ partition, recordBytes: 10 * count, section: encodeRecordSection(records(count).map(r => ({ ...r, partition })), [], RecordBatchCodec.NONE) })
    const a = [section(0, 2), section(1, 1)]
    const b = [section(0, 3), section(2, 1)]
    const queued = [sink.writeSections(a, deadline), sink.write(records(3), deadline), sink.writeSections(b, deadline)]
    release()
    script.hold = undefined
    await Promise.all([first, ...queued])
    const sends = script.transactions[1]!.sends!
    assert.equal(script.transactions[1]!.messages, 2 + 1 + 3 + 3 + 1)
    // a's sections, then the plain write's records (a request holds sections or messages), then b's
    // sections: partitions 0 and 2 come after the records they follow in the group.
    assert.equal(sends.length, 3)
    const sectionsOf = (send: Array<{ partition: number }>): Array<[number, unknown]> =>
      [...new Set(send)].map(message => [message.partition, (message as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(message)[0]!]])
    assert.deepEqual(sectionsOf(sends[0]!), [[0, a[0]!.section], [1, a[1]!.section]])
    assert.deepEqual(sends[1]!.map(m => m.partition), [0, 1, 2])
    assert.deepEqual(sectionsOf(sends[2]!), [[0, b[0]!.section], [2, b[1]!.section]])
    await sink.close()
  })

  it('refuses a write that would overflow the queue with OVERLOADED, at once', async () => {
    const script = newScript()
    let release!: () => void
    script.hold = new Promise(resolve => { release = resolve })
    const sink = writer(script, { maxQueuedRecordBytes: 100 })
    const deadline = Date.now() + 10_000
    const inFlight = sink.write(records(1, 50), deadline)
    await new Promise(resolve => setImmediate(resolve))
    const queued = sink.write(records(1, 80), deadline)
    await assert.rejects(sink.write(records(1, 80), deadline), { code: 'SLUICE_ERR_OVERLOADED' })
    release()
    await Promise.all([inFlight, queued])
    await sink.close()
  })

  it('answers a write still queued at its deadline KAFKA_UNAVAILABLE and never sends it', async () => {
    const script = newScript()
    let release!: () => void
    script.hold = new Promise(resolve => { release = resolve })
    const sink = writer(script)
    const inFlight = sink.write(records(1), Date.now() + 10_000)
    await new Promise(resolve => setImmediate(resolve))
    await assert.rejects(sink.write(records(7), Date.now() + 20), { code: 'SLUICE_ERR_KAFKA_UNAVAILABLE' })
    release()
    await inFlight
    await sink.close()
    assert.deepEqual(script.transactions.map(t => t.messages), [1])
  })

  it('rejects every write of a failed transaction and makes a new producer for the next', async () => {
    const script = newScript()
    const sink = writer(script)
    script.fail = true
    await assert.rejects(sink.write(records(2), Date.now() + 10_000), { code: 'SLUICE_ERR_KAFKA_UNAVAILABLE', retriable: true })
    script.fail = false
    await sink.write(records(2), Date.now() + 10_000)
    assert.equal(script.producersMade, 2)
    assert.deepEqual(script.transactions.map(t => t.committed), [false, true])
    await sink.close()
    await assert.rejects(sink.write(records(1), Date.now() + 1_000), { code: 'SLUICE_ERR_KAFKA_UNAVAILABLE' })
  })
})
