import { test } from 'node:test'
import assert from 'node:assert/strict'
import { appendFileSync, cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KafkaError } from '../protocol/errors.ts'
import type { LogManager } from './log-manager.ts'
import type { PartitionLog } from './partition-log.ts'
import { batchesIn, openLogs, produced, temporaryDirectory, type ProducedBatch } from './testing.ts'

const append = (log: PartitionLog, batch: ProducedBatch): { baseOffset: bigint; duplicate: boolean } =>
  log.appendProduced(batch.records, batch.header, batch.transactional)

const errorCode = (code: number) => (error: unknown): boolean => error instanceof KafkaError && error.code === code

async function withLog(overrides: Parameters<typeof openLogs>[1], body: (log: PartitionLog, logs: LogManager, dataDir: string) => Promise<void> | void, configs: Record<string, string> = {}): Promise<void> {
  const dir = temporaryDirectory()
  const logs = await openLogs(dir.path, overrides)
  try {
    logs.createTopic('t', 1, configs)
    await body(logs.partition('t', 0)!, logs, dir.path)
  } finally {
    await logs.close().catch(() => {})
    dir.remove()
  }
}

test('append and read round trip: offsets, values, and whole batches', () => withLog({}, log => {
  assert.equal(append(log, produced({ count: 3, prefix: 'a' })).baseOffset, 0n)
  assert.equal(append(log, produced({ count: 2, prefix: 'b' })).baseOffset, 3n)
  assert.equal(append(log, produced({ count: 1, prefix: 'c' })).baseOffset, 5n)
  assert.equal(log.logEndOffset, 6n)
  const read = log.read(0n, 1 << 20, 0)
  assert.deepEqual(batchesIn(read.records).map(b => [b.baseOffset, b.values]), [[0n, ['a0', 'a1', 'a2']], [3n, ['b0', 'b1']], [5n, ['c0']]])
  assert.equal(read.highWatermark, 6n)
  assert.equal(read.lastStableOffset, 6n)
  assert.equal(read.logStartOffset, 0n)
  assert.equal(read.abortedTransactions, null)
}))

test('a read from the middle of a batch starts with that whole batch', () => withLog({}, log => {
  append(log, produced({ count: 5 }))
  append(log, produced({ count: 5, prefix: 'w' }))
  const read = log.read(7n, 1 << 20, 0)
  assert.deepEqual(batchesIn(read.records).map(b => b.baseOffset), [5n])
  assert.deepEqual(batchesIn(log.read(4n, 1 << 20, 0).records).map(b => b.baseOffset), [0n, 5n])
}))

test('maxBytes below one batch still returns that one batch; otherwise only whole batches that fit', () => withLog({}, log => {
  const one = produced({ count: 10, valueBytes: 100 })
  const size = one.records.length
  append(log, one)
  append(log, produced({ count: 10, valueBytes: 100 }))
  append(log, produced({ count: 10, valueBytes: 100 }))
  assert.deepEqual(batchesIn(log.read(0n, 1, 0).records).map(b => b.baseOffset), [0n])
  assert.deepEqual(batchesIn(log.read(0n, 0, 0).records).map(b => b.baseOffset), [0n])
  assert.deepEqual(batchesIn(log.read(0n, size * 2 + 5, 0).records).map(b => b.baseOffset), [0n, 10n])
  assert.deepEqual(batchesIn(log.read(10n, size, 0).records).map(b => b.baseOffset), [10n])
}))

test('offsets outside [logStart, LEO] are OFFSET_OUT_OF_RANGE; LEO itself returns nothing', () => withLog({}, log => {
  append(log, produced({ count: 2 }))
  assert.throws(() => log.read(3n, 1000, 0), errorCode(1))
  assert.throws(() => log.read(-1n, 1000, 0), errorCode(1))
  assert.equal(log.read(2n, 1000, 0).records, null)
}))

test('idempotence rules 1-6 in order, with the exact codes', () => withLog({}, log => {
  const pid = 42n
  // Rule 5: an unknown producer may start anywhere.
  assert.deepEqual(append(log, produced({ producerId: pid, epoch: 1, sequence: 7, count: 2 })), { baseOffset: 0n, duplicate: false })
  assert.equal(append(log, produced({ producerId: pid, epoch: 1, sequence: 9, count: 3 })).baseOffset, 2n)
  // Rule 1: an older epoch.
  assert.throws(() => append(log, produced({ producerId: pid, epoch: 0, sequence: 12 })), errorCode(47))
  // Rule 2: a duplicate of a cached batch returns its original offset and appends nothing.
  assert.deepEqual(append(log, produced({ producerId: pid, epoch: 1, sequence: 7, count: 2 })), { baseOffset: 0n, duplicate: true })
  assert.deepEqual(append(log, produced({ producerId: pid, epoch: 1, sequence: 9, count: 3 })), { baseOffset: 2n, duplicate: true })
  assert.equal(log.logEndOffset, 5n)
  // Rule 4: a gap, or an overlap that is not an exact duplicate.
  assert.throws(() => append(log, produced({ producerId: pid, epoch: 1, sequence: 13 })), errorCode(45))
  assert.throws(() => append(log, produced({ producerId: pid, epoch: 1, sequence: 8, count: 2 })), errorCode(45))
  assert.equal(append(log, produced({ producerId: pid, epoch: 1, sequence: 12 })).baseOffset, 5n)
  // Rule 3: a new epoch must start at 0.
  assert.throws(() => append(log, produced({ producerId: pid, epoch: 2, sequence: 13 })), errorCode(45))
  assert.equal(append(log, produced({ producerId: pid, epoch: 2, sequence: 0 })).baseOffset, 6n)
  assert.throws(() => append(log, produced({ producerId: pid, epoch: 1, sequence: 13 })), errorCode(47))
  // Rule 6: a non-transactional batch while the producer's transaction is open.
  const txnPid = 43n
  append(log, produced({ producerId: txnPid, epoch: 0, sequence: 0, transactional: true }))
  assert.ok(log.hasOpenTransaction(txnPid))
  assert.throws(() => append(log, produced({ producerId: txnPid, epoch: 0, sequence: 1 })), errorCode(48))
  assert.equal(append(log, produced({ producerId: txnPid, epoch: 0, sequence: 1, transactional: true })).baseOffset, 8n)
}))

test('only the last five batches are remembered; sequence numbers wrap at INT32_MAX', () => withLog({}, log => {
  const pid = 5n
  for (let seq = 0; seq < 6; seq++) append(log, produced({ producerId: pid, epoch: 0, sequence: seq }))
  assert.deepEqual(append(log, produced({ producerId: pid, epoch: 0, sequence: 1 })), { baseOffset: 1n, duplicate: true })
  assert.throws(() => append(log, produced({ producerId: pid, epoch: 0, sequence: 0 })), errorCode(45), 'the sixth-last batch is out of order, not a duplicate')
  const wrap = 6n
  append(log, produced({ producerId: wrap, epoch: 0, sequence: 0x7fffffff - 1, count: 2 }))
  assert.equal(append(log, produced({ producerId: wrap, epoch: 0, sequence: 0 })).duplicate, false)
}))

test('producer id -1 skips every check (kafkajs epoch 0, kafka-python epoch -1)', () => withLog({}, log => {
  const plain = produced({ producerId: -1n, epoch: -1, sequence: -1 })
  assert.equal(append(log, plain).baseOffset, 0n)
  assert.equal(append(log, produced({ producerId: -1n, epoch: -1, sequence: -1 })).baseOffset, 1n)
  assert.equal(append(log, produced()).baseOffset, 2n)
}))

test('markers move the LSO; read_committed stops at it and lists aborted transactions sorted by first offset', () => withLog({}, async (log, logs) => {
  const [a, c] = [1n, 3n]
  append(log, produced({ producerId: a, epoch: 0, sequence: 0, transactional: true, count: 2 })) // 0-1
  append(log, produced({ prefix: 'plain' })) // 2
  append(log, produced({ producerId: c, epoch: 0, sequence: 0, transactional: true })) // 3
  assert.equal(log.lastStableOffset, 0n)
  assert.equal(log.highWatermark, 4n)
  assert.equal(log.read(0n, 1 << 20, 1).records, null)
  assert.deepEqual(log.read(0n, 1 << 20, 1).abortedTransactions, [])
  let changes = 0
  const unsubscribe = log.onChange(() => { changes++ })
  await logs.writeMarkers([{ topic: 't', partition: 0 }], a, 0, false, 0) // abort at 4
  assert.ok(changes > 0, 'a marker wakes fetch waiters')
  unsubscribe()
  assert.equal(log.lastStableOffset, 3n)
  let committed = log.read(0n, 1 << 20, 1)
  assert.deepEqual(batchesIn(committed.records).map(x => x.baseOffset), [0n, 2n])
  assert.deepEqual(committed.abortedTransactions, [{ producerId: a, firstOffset: 0n }])
  await logs.writeMarkers([{ topic: 't', partition: 0 }], c, 0, true, 0) // commit at 5
  assert.equal(log.lastStableOffset, 6n)
  committed = log.read(0n, 1 << 20, 1)
  assert.deepEqual(batchesIn(committed.records).map(x => [x.baseOffset, x.isControl]), [[0n, false], [2n, false], [3n, false], [4n, true], [5n, true]])
  assert.deepEqual(committed.abortedTransactions, [{ producerId: a, firstOffset: 0n }])
  assert.deepEqual(log.read(5n, 1 << 20, 1).abortedTransactions, [], 'the abort marker lies before the fetch offset')
  assert.equal(log.read(0n, 1 << 20, 0).abortedTransactions, null)
  assert.equal(log.hasOpenTransaction(c), false)

  // Two overlapping transactions aborted in the opposite order to their starts.
  append(log, produced({ producerId: 10n, epoch: 0, sequence: 0, transactional: true })) // 6
  append(log, produced({ producerId: 11n, epoch: 0, sequence: 0, transactional: true })) // 7
  await logs.writeMarkers([{ topic: 't', partition: 0 }], 11n, 0, false, 0) // 8
  await logs.writeMarkers([{ topic: 't', partition: 0 }], 10n, 0, false, 0) // 9
  assert.deepEqual(log.read(6n, 1 << 20, 1).abortedTransactions, [{ producerId: 10n, firstOffset: 6n }, { producerId: 11n, firstOffset: 7n }])
  assert.deepEqual(log.read(0n, 1 << 20, 1).abortedTransactions?.map(t => t.firstOffset), [0n, 6n, 7n])
  // A fetch whose data ends before a transaction starts does not list it.
  assert.deepEqual(log.read(0n, 1, 1).abortedTransactions, [{ producerId: a, firstOffset: 0n }])
}))

test("flush policy 'always' raises HW only after fdatasync; waitDurable resolves then", () => withLog({ flushPolicy: 'always', flushIntervalMs: 2 }, async log => {
  const { baseOffset } = append(log, produced({ count: 3 }))
  assert.equal(log.logEndOffset, 3n)
  assert.equal(log.highWatermark, 0n, 'not durable yet, so not visible')
  assert.equal(log.read(0n, 1000, 0).records, null)
  await log.waitDurable(baseOffset + 3n)
  assert.equal(log.highWatermark, 3n)
  assert.equal(batchesIn(log.read(0n, 1000, 0).records).length, 1)
  // Many appends in one tick share rounds and all become durable.
  const waits = Array.from({ length: 20 }, () => { const r = append(log, produced()); return log.waitDurable(r.baseOffset + 1n) })
  await Promise.all(waits)
  assert.equal(log.highWatermark, 23n)
}))

test("flush policy 'interval' makes records visible at once", () => withLog({ flushPolicy: 'interval', flushIntervalMs: 5 }, async log => {
  append(log, produced())
  assert.equal(log.highWatermark, 1n)
  await log.waitDurable(1n)
}))

test('segments roll by size and by age; reads and lookups cross segments', async () => {
  const dir = temporaryDirectory()
  let nowMs = 1_000_000
  const logs = await openLogs(dir.path, {}, () => nowMs)
  try {
    logs.createTopic('t', 1, { 'segment.bytes': '300', 'segment.ms': '60000' })
    const log = logs.partition('t', 0)!
    for (let i = 0; i < 6; i++) append(log, produced({ count: 2, valueBytes: 50 })) // ~190 bytes each
    assert.equal(log.segmentCount, 6)
    nowMs += 10
    const files = readdirSync(join(dir.path, 'topics', 't-0'))
    assert.ok(files.includes('00000000000000000000.log') && files.includes('00000000000000000002.log') && files.includes('00000000000000000002.index'))
    assert.deepEqual(batchesIn(log.read(3n, 1 << 20, 0).records).map(b => b.baseOffset), [2n])
    logs.alterConfigs('t', { 'segment.bytes': '100000', 'segment.ms': '60000' })
    append(log, produced())
    append(log, produced())
    assert.equal(log.segmentCount, 6, 'the active segment grows while it is young and small')
    nowMs += 60_000
    append(log, produced())
    assert.equal(log.segmentCount, 7, 'an old active segment rolls')
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('sparse index lookups find the right batch in large segments, before and after sealing', async () => {
  const dir = temporaryDirectory()
  let logs = await openLogs(dir.path)
  try {
    logs.createTopic('t', 1, {})
    let log = logs.partition('t', 0)!
    for (let i = 0; i < 600; i++) append(log, produced({ count: 3, valueBytes: 40, timestampMs: 1_000n + BigInt(i) }))
    const check = (l: PartitionLog): void => {
      for (const offset of [0n, 1n, 2n, 3n, 899n, 900n, 1000n, 1799n]) {
        const first = batchesIn(l.read(offset, 1, 0).records)[0]!
        assert.ok(first.baseOffset <= offset && offset <= first.lastOffset, `offset ${offset} in batch ${first.baseOffset}-${first.lastOffset}`)
      }
      assert.deepEqual(l.offsetForTimestamp(1_300n), { offset: 900n, timestamp: 1_300n })
    }
    check(log)
    await logs.close()
    logs = await openLogs(dir.path)
    log = logs.partition('t', 0)!
    check(log)
    append(log, produced())
    assert.equal(log.logEndOffset, 1801n)
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('offsetForTimestamp: first batch whose max timestamp reaches t, or null', () => withLog({}, log => {
  append(log, produced({ count: 2, timestampMs: 1000n }))
  append(log, produced({ count: 2, timestampMs: 2000n }))
  append(log, produced({ count: 2, timestampMs: 3000n }))
  assert.deepEqual(log.offsetForTimestamp(0n), { offset: 0n, timestamp: 1000n })
  assert.deepEqual(log.offsetForTimestamp(1500n), { offset: 2n, timestamp: 2000n })
  assert.deepEqual(log.offsetForTimestamp(3000n), { offset: 4n, timestamp: 3000n })
  assert.equal(log.offsetForTimestamp(3001n), null)
}))

test('deleteRecordsBefore raises the log start durably; -1 means HW; beyond HW is out of range', async () => {
  const dir = temporaryDirectory()
  let logs = await openLogs(dir.path)
  try {
    logs.createTopic('t', 1, { 'segment.bytes': '200' })
    let log = logs.partition('t', 0)!
    for (let i = 0; i < 5; i++) append(log, produced({ count: 2, valueBytes: 50 }))
    let changes = 0
    const unsubscribe = log.onChange(() => { changes++ })
    assert.throws(() => log.deleteRecordsBefore(11n), errorCode(1))
    assert.equal(changes, 0)
    assert.equal(log.deleteRecordsBefore(5n), 5n)
    assert.equal(changes, 1, 'a fetch parked below the new log start is woken (it is out of range now)')
    unsubscribe()
    assert.equal(log.deleteRecordsBefore(3n), 5n, 'never lowers')
    assert.throws(() => log.read(4n, 1000, 0), errorCode(1))
    assert.deepEqual(batchesIn(log.read(5n, 1000, 0).records).map(b => b.baseOffset), [4n], 'the batch holding the log start')
    assert.ok(log.segmentCount < 5, 'segments wholly below the log start are gone')
    assert.deepEqual(log.offsetForTimestamp(0n)?.offset, 5n)
    // Unclean restart: the checkpoint, not the clean-shutdown path, carries the log start.
    const copy = temporaryDirectory()
    cpSync(dir.path, copy.path, { recursive: true })
    const crashed = await openLogs(copy.path)
    assert.equal(crashed.partition('t', 0)!.logStartOffset, 5n)
    await crashed.close()
    copy.remove()
    assert.equal(log.deleteRecordsBefore(-1n), 10n)
    await logs.close()
    logs = await openLogs(dir.path)
    log = logs.partition('t', 0)!
    assert.equal(log.logStartOffset, 10n)
    assert.equal(log.read(10n, 1000, 0).records, null)
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('retention by size and by time deletes whole old segments, never the active one', async () => {
  const dir = temporaryDirectory()
  let nowMs = 1_700_000_100_000
  const logs = await openLogs(dir.path, {}, () => nowMs)
  try {
    logs.createTopic('bysize', 1, { 'segment.bytes': '200', 'retention.bytes': '500' })
    const sized = logs.partition('bysize', 0)!
    for (let i = 0; i < 8; i++) append(sized, produced({ count: 2, valueBytes: 50 }))
    const before = sized.segmentCount
    let changes = 0
    sized.onChange(() => { changes++ })
    logs.runMaintenance()
    assert.equal(changes, 1, 'a fetch parked on the partition is woken when its log start moves')
    assert.ok(sized.segmentCount < before && sized.segmentCount >= 1)
    assert.ok(sized.sizeBytes >= 500 - 200 && sized.sizeBytes < 500 + 200, `kept ${sized.sizeBytes} bytes`)
    assert.equal(sized.logStartOffset, BigInt((before - sized.segmentCount) * 2))
    assert.throws(() => sized.read(0n, 1000, 0), errorCode(1))

    logs.createTopic('bytime', 1, { 'segment.bytes': '200', 'retention.ms': '60000' })
    const timed = logs.partition('bytime', 0)!
    for (let i = 0; i < 3; i++) append(timed, produced({ count: 2, valueBytes: 50, timestampMs: BigInt(nowMs - 120_000) }))
    append(timed, produced({ count: 2, valueBytes: 50, timestampMs: BigInt(nowMs) }))
    logs.runMaintenance()
    assert.equal(timed.segmentCount, 1)
    assert.equal(timed.logStartOffset, 6n)
    nowMs += 3_600_000
    logs.runMaintenance()
    assert.equal(timed.segmentCount, 1, 'the active segment stays however old')

    logs.createTopic('compacted', 1, { 'segment.bytes': '200', 'retention.bytes': '1', 'cleanup.policy': 'compact' })
    const compacted = logs.partition('compacted', 0)!
    for (let i = 0; i < 4; i++) append(compacted, produced({ count: 2, valueBytes: 50 }))
    logs.runMaintenance()
    assert.equal(compacted.logStartOffset, 0n, 'compact-only topics are not trimmed by retention')
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('recovery cuts a torn or corrupt tail and keeps every complete batch', async () => {
  const dir = temporaryDirectory()
  let logs = await openLogs(dir.path)
  const logFile = join(dir.path, 'topics', 't-0', '00000000000000000000.log')
  try {
    logs.createTopic('t', 1, {})
    let log = logs.partition('t', 0)!
    for (let i = 0; i < 10; i++) append(log, produced({ count: 2, prefix: `b${i}-` }))
    await logs.close()
    const goodBytes = statSync(logFile).size
    // Half a batch after a clean shutdown: the index no longer matches, so the segment is scanned.
    appendFileSync(logFile, produced({ count: 5 }).records.subarray(0, 40))
    logs = await openLogs(dir.path)
    log = logs.partition('t', 0)!
    assert.equal(log.logEndOffset, 20n)
    assert.equal(statSync(logFile).size, goodBytes)
    assert.equal(batchesIn(log.read(0n, 1 << 20, 0).records).length, 10)
    assert.equal(append(log, produced()).baseOffset, 20n)

    // A crash image (copied while open), with a corrupted byte inside the last batch.
    const copy = temporaryDirectory()
    cpSync(dir.path, copy.path, { recursive: true })
    const copiedLog = join(copy.path, 'topics', 't-0', '00000000000000000000.log')
    const bytes = readFileSync(copiedLog)
    bytes[bytes.length - 3] ^= 0xff
    writeFileSync(copiedLog, bytes)
    const recovered = await openLogs(copy.path)
    const partition = recovered.partition('t', 0)!
    assert.equal(partition.logEndOffset, 20n, 'the corrupt last batch is cut')
    assert.deepEqual(batchesIn(partition.read(18n, 1 << 20, 0).records).map(b => b.values), [['b9-0', 'b9-1']])
    await recovered.close()
    copy.remove()
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('a corrupt sealed segment cuts the log there and drops the later segments', async () => {
  const dir = temporaryDirectory()
  const logs = await openLogs(dir.path)
  logs.createTopic('t', 1, { 'segment.bytes': '200' })
  const log = logs.partition('t', 0)!
  for (let i = 0; i < 5; i++) append(log, produced({ count: 2, valueBytes: 50 }))
  const copy = temporaryDirectory()
  try {
    cpSync(dir.path, copy.path, { recursive: true })
    // The crash image has no clean-shutdown marker and its checkpoint trusts segments below 8.
    const second = join(copy.path, 'topics', 't-0', '00000000000000000002.log')
    writeFileSync(second, Buffer.alloc(10))
    writeFileSync(join(copy.path, 'topics', 't-0', 'partition.checkpoint'), Buffer.alloc(3)) // unreadable: rescan all
    const recovered = await openLogs(copy.path)
    assert.equal(recovered.partition('t', 0)!.logEndOffset, 2n)
    assert.equal(recovered.partition('t', 0)!.segmentCount, 2)
    await recovered.close()
  } finally {
    await logs.close()
    dir.remove()
    copy.remove()
  }
})

test('producer state and the aborted index survive clean and unclean restarts', async () => {
  const dir = temporaryDirectory()
  let logs = await openLogs(dir.path, {}, () => 5_000)
  try {
    logs.createTopic('t', 1, { 'segment.bytes': '400' })
    let log = logs.partition('t', 0)!
    const first = produced({ producerId: 9n, epoch: 3, sequence: 0, count: 2 })
    append(log, first)
    append(log, produced({ producerId: 9n, epoch: 3, sequence: 2, count: 2, valueBytes: 120 }))
    append(log, produced({ producerId: 20n, epoch: 0, sequence: 0, transactional: true })) // 4
    await logs.writeMarkers([{ topic: 't', partition: 0 }], 20n, 0, false, 0) // 5
    append(log, produced({ producerId: 21n, epoch: 0, sequence: 0, transactional: true })) // 6, stays open
    await logs.close()

    logs = await openLogs(dir.path, {}, () => 6_000)
    log = logs.partition('t', 0)!
    assert.deepEqual(append(log, produced({ producerId: 9n, epoch: 3, sequence: 0, count: 2 })), { baseOffset: 0n, duplicate: true })
    assert.throws(() => append(log, produced({ producerId: 9n, epoch: 2, sequence: 4 })), errorCode(47))
    assert.equal(log.lastStableOffset, 6n, 'the open transaction still holds the LSO')
    assert.deepEqual(log.read(4n, 1 << 20, 1).abortedTransactions, [{ producerId: 20n, firstOffset: 4n }], 'a read returns one segment at most: start in the one holding the markers')
    append(log, produced({ producerId: 22n, epoch: 0, sequence: 0, transactional: true })) // 7
    await logs.writeMarkers([{ topic: 't', partition: 0 }], 22n, 0, false, 0) // 8

    // Unclean: a copy of the running broker's files, replayed from the last snapshot.
    const copy = temporaryDirectory()
    cpSync(dir.path, copy.path, { recursive: true })
    const crashed = await openLogs(copy.path, {}, () => 7_000)
    const recovered = crashed.partition('t', 0)!
    assert.equal(recovered.logEndOffset, 9n)
    assert.equal(recovered.lastStableOffset, 6n)
    assert.ok(recovered.hasOpenTransaction(21n))
    assert.deepEqual(append(recovered, produced({ producerId: 9n, epoch: 3, sequence: 2, count: 2, valueBytes: 120 })), { baseOffset: 2n, duplicate: true })
    await crashed.writeMarkers([{ topic: 't', partition: 0 }], 21n, 0, false, 0)
    assert.deepEqual(recovered.read(4n, 1 << 20, 1).abortedTransactions?.map(t => t.firstOffset), [4n, 6n, 7n])
    await crashed.close()
    copy.remove()
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('idle producers expire after producer.id.expiration.ms; then any sequence is accepted', async () => {
  const dir = temporaryDirectory()
  let nowMs = 0
  const logs = await openLogs(dir.path, { producerIdExpirationMs: 1000 }, () => nowMs)
  try {
    logs.createTopic('t', 1, {})
    const log = logs.partition('t', 0)!
    append(log, produced({ producerId: 1n, epoch: 0, sequence: 0 }))
    append(log, produced({ producerId: 2n, epoch: 0, sequence: 0, transactional: true }))
    nowMs = 5000
    assert.equal(log.expireProducers(nowMs), 1, 'a producer with an open transaction is kept')
    assert.equal(append(log, produced({ producerId: 1n, epoch: 0, sequence: 50 })).duplicate, false)
  } finally {
    await logs.close()
    dir.remove()
  }
})
