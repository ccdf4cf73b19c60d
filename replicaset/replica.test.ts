// The replica's read-your-writes wait before anything is applied (argument checks, the timeout
// error), and the combined checksum over real PartitionStores. (Applying, recovery and waits that succeed run against real processes in
// integration/replicaset*.test.ts.)

import '../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { test } from 'node:test'
import assert from 'node:assert/strict'
import kafkajs from 'kafkajs'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPartitionStore, type PartitionStore } from '../sinks/index.ts'
import { randomLog } from '../sinks/segments/testing/random-log.ts' // the storage layer's own random changelog, for tests
import { combineChecksums, Replica } from './replica.ts'
import { isReplicaError, ReplicaErrorCode } from './errors.ts'
import { replicaLimits } from './limits.ts'

const kafka = new kafkajs.Kafka({ brokers: ['127.0.0.1:1'], logLevel: kafkajs.logLevel.NOTHING })
const replica = (): Replica => new Replica({ kafka, nodeId: 'unit', dir: '/nonexistent', partitions: 2 })

test('a wait that nothing satisfies times out with a code, the node and what is missing', async () => {
  const started = Date.now()
  await assert.rejects(replica().waitForIngestPositions([{ partition: 1, offset: 7n }], 50), error => {
    assert.ok(isReplicaError(error, ReplicaErrorCode.WAIT_TIMEOUT))
    assert.equal(error.retriable, true)
    assert.deepEqual(error.context, { node: 'unit', missing: [{ partition: 1, offset: '7', applied: null }] })
    assert.match(error.message, /did not apply ingest 1:7 \(applied none\) within 50 ms/)
    return true
  })
  assert.ok(Date.now() - started >= 45)
})

test('an empty wait returns at once; bad positions and timeouts are refused', async () => {
  await replica().waitForIngestPositions([], 10)
  const invalid = (error: unknown): boolean => isReplicaError(error, ReplicaErrorCode.INVALID_ARGUMENT)
  await assert.rejects(replica().waitForIngestPositions([{ partition: -1, offset: 0n }], 10), invalid)
  await assert.rejects(replica().waitForIngestPositions([{ partition: 0, offset: -1n }], 10), invalid)
  await assert.rejects(replica().waitForIngestPositions([], replicaLimits.maxWaitMs + 1), invalid)
  assert.throws(() => new Replica({ kafka, nodeId: 'unit', dir: '/nonexistent', partitions: 0 }), invalid)
})

test('the group id names the node and this incarnation, never a previous one', () => {
  const [a, b] = [replica(), replica()]
  assert.match(a.groupId, /^sluice\.replica\.unit\./)
  assert.notEqual(a.groupId, b.groupId)
})

test('the combined checksum depends on content and offsets, not on flush history or partition order', async () => {
  const log = randomLog({ seed: 7, entries: 400 })
  const dir = mkdtempSync(join(tmpdir(), 'sluice-replica-unit-'))
  const [a, b] = await Promise.all(['a', 'b'].map(name => openPartitionStore(join(dir, name), { partition: 0, fsync: false, autoCompact: false })))
  for (let i = 0; i < log.length; i++) {
    await a!.apply(log[i]!, BigInt(i))
    await b!.apply(log[i]!, BigInt(i))
    if (i % 50 === 49) await b!.flush() // b has segments, a only a memtable
  }
  const at = (store: PartitionStore | undefined, partition: number) => ({ partition, appliedOffset: store!.appliedOffset, checksum: store!.checksum() })
  assert.equal(combineChecksums([at(a, 0), at(a, 1)]), combineChecksums([at(b, 1), at(b, 0)]))
  assert.notEqual(combineChecksums([at(a, 0)]), combineChecksums([{ ...at(a, 0), appliedOffset: a!.appliedOffset + 1n }]), 'the offsets count')
  await a!.close()
  await b!.close()
})
