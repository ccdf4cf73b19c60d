import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { defaultBrokerConfig, type BrokerConfig } from '../config.ts'
import { silentLogger } from '../logger.ts'
import { MetaLog } from '../meta/meta-log.ts'
import { ErrorCode } from '../protocol/errors.ts'
import { TxnCoordinator, type MarkerWriter, type TopicPartition, type TxnOffsetSink } from './coordinator.ts'
import { PRODUCER_ID_BLOCK_SIZE } from './limits.ts'
import type { TxnRecord } from './state.ts'

const root = mkdtempSync(join(tmpdir(), 'sluice-txn-'))
after(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshDir = (): string => join(root, `d${dirs++}`)

interface MarkerCall { partitions: TopicPartition[]; producerId: bigint; producerEpoch: number; commit: boolean; coordinatorEpoch: number }

/** Records every marker request; can be told to fail or to hold writes until released. */
class FakeMarkers implements MarkerWriter {
  calls: MarkerCall[] = []
  failNext = 0
  private gate: Promise<void> | undefined
  constructor(private readonly events: string[] = []) {}

  async writeMarkers(partitions: ReadonlyArray<TopicPartition>, producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number): Promise<void> {
    this.calls.push({ partitions: partitions.map(p => ({ ...p })), producerId, producerEpoch, commit, coordinatorEpoch })
    this.events.push(`markers:${commit ? 'commit' : 'abort'}`)
    if (this.gate) await this.gate
    if (this.failNext > 0) {
      this.failNext -= 1
      throw new Error('disk on fire')
    }
  }

  /** Holds every write until the returned function is called. */
  hold(): () => void {
    let release!: () => void
    this.gate = new Promise(resolve => { release = resolve })
    return () => { this.gate = undefined; release() }
  }
}

class FakeOffsets implements TxnOffsetSink {
  calls: Array<{ groupId: string; producerId: bigint; commit: boolean }> = []
  constructor(private readonly events: string[] = []) {}
  completeTxnOffsets(groupId: string, producerId: bigint, commit: boolean): void {
    this.calls.push({ groupId, producerId, commit })
    this.events.push(`offsets:${groupId}`)
  }
}

interface Harness {
  coordinator: TxnCoordinator
  markers: FakeMarkers
  offsets: FakeOffsets
  clock: { ms: number }
  config: BrokerConfig
  events: string[]
}

async function open(options: { dataDir?: string; config?: Partial<BrokerConfig>; clockMs?: number; markers?: FakeMarkers } = {}): Promise<Harness> {
  const events: string[] = []
  const config: BrokerConfig = {
    ...defaultBrokerConfig, transactionAbortCheckIntervalMs: 3_600_000, ...options.config, dataDir: options.dataDir ?? freshDir(),
  }
  const clock = { ms: options.clockMs ?? 1_000_000 }
  const markers = options.markers ?? new FakeMarkers(events)
  const offsets = new FakeOffsets(events)
  const coordinator = await TxnCoordinator.open({ config, logger: silentLogger, markers, offsets, now: () => clock.ms })
  return { coordinator, markers, offsets, clock, config, events }
}

const P0: TopicPartition = { topic: 'orders', partition: 0 }
const P1: TopicPartition = { topic: 'orders', partition: 1 }
const Q0: TopicPartition = { topic: 'audit', partition: 0 }
const exists = (topic: string, partition: number): boolean => (topic === 'orders' && partition < 3) || (topic === 'audit' && partition === 0)

/** InitProducerId for `id`, then adds the partitions and groups; returns the producer. */
async function begin(h: Harness, id: string, partitions: TopicPartition[], groups: string[] = []): Promise<{ producerId: bigint; producerEpoch: number }> {
  const init = await h.coordinator.initProducerId(id, 60_000, 1)
  assert.equal(init.errorCode, ErrorCode.NONE)
  const { producerId, producerEpoch } = init
  if (partitions.length > 0) {
    const results = await h.coordinator.addPartitions(id, producerId, producerEpoch, partitions, exists, 1)
    assert.ok(results.every(r => r.errorCode === ErrorCode.NONE), JSON.stringify(results, (_k, v) => typeof v === 'bigint' ? String(v) : v))
  }
  for (const group of groups) assert.equal(await h.coordinator.addOffsets(id, producerId, producerEpoch, group, 1), ErrorCode.NONE)
  return { producerId, producerEpoch }
}

function readTxnLog(dataDir: string): TxnRecord[] {
  const { log, records } = MetaLog.open<TxnRecord>(join(dataDir, 'meta', 'txn.log'))
  log.close()
  return records
}

/** Polls (every event-loop turn, up to 2 s) until the predicate holds. */
async function until(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached in 2 s')
    await new Promise(resolve => setImmediate(resolve))
  }
}

const codes = (results: Array<{ errorCode: number }>): number[] => results.map(r => r.errorCode)

describe('InitProducerId', () => {
  test('null transactional id: a fresh producer id with epoch 0 every time', async () => {
    const h = await open()
    const a = await h.coordinator.initProducerId(null, 60_000, 0)
    const b = await h.coordinator.initProducerId(null, 60_000, 1)
    assert.deepEqual([a.errorCode, a.producerEpoch, b.errorCode, b.producerEpoch], [0, 0, 0, 0])
    assert.notEqual(a.producerId, b.producerId)
    await h.coordinator.close()
  })

  test('"" is INVALID_REQUEST; a timeout above the maximum or not positive is INVALID_TRANSACTION_TIMEOUT', async () => {
    const h = await open({ config: { transactionMaxTimeoutMs: 900_000 } })
    assert.deepEqual(await h.coordinator.initProducerId('', 60_000, 1), { errorCode: ErrorCode.INVALID_REQUEST, producerId: -1n, producerEpoch: -1 })
    assert.equal((await h.coordinator.initProducerId('t', 900_001, 1)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT)
    assert.equal((await h.coordinator.initProducerId('t', 0, 1)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT)
    assert.equal((await h.coordinator.initProducerId('t', 900_000, 1)).errorCode, ErrorCode.NONE)
    await h.coordinator.close()
  })

  test('unknown id: new producer id, epoch 0, Empty; again from Empty or Complete*: same id, epoch + 1', async () => {
    const h = await open()
    const first = await h.coordinator.initProducerId('t', 60_000, 1)
    assert.equal(first.producerEpoch, 0)
    assert.equal(h.coordinator.describe('t')?.state, 'Empty')
    const second = await h.coordinator.initProducerId('t', 30_000, 1)
    assert.deepEqual([second.producerId, second.producerEpoch], [first.producerId, 1])
    assert.equal(h.coordinator.describe('t')?.timeoutMs, 30_000)
    await h.coordinator.addPartitions('t', second.producerId, 1, [P0], exists, 1)
    assert.equal(await h.coordinator.endTxn('t', second.producerId, 1, true, 1), ErrorCode.NONE)
    assert.equal(h.coordinator.describe('t')?.state, 'CompleteCommit')
    const third = await h.coordinator.initProducerId('t', 30_000, 1)
    assert.deepEqual([third.errorCode, third.producerId, third.producerEpoch], [0, first.producerId, 2])
    assert.equal(h.coordinator.describe('t')?.state, 'Empty')
    await h.coordinator.close()
  })

  test('while PrepareCommit or PrepareAbort: CONCURRENT_TRANSACTIONS', async () => {
    const h = await open()
    for (const commit of [true, false]) {
      const id = `t-${commit}`
      const { producerId, producerEpoch } = await begin(h, id, [P0])
      const release = h.markers.hold()
      const ending = h.coordinator.endTxn(id, producerId, producerEpoch, commit, 1)
      assert.equal(h.coordinator.describe(id)?.state, commit ? 'PrepareCommit' : 'PrepareAbort')
      assert.equal((await h.coordinator.initProducerId(id, 60_000, 1)).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS)
      release()
      assert.equal(await ending, ErrorCode.NONE)
    }
    await h.coordinator.close()
  })
})

describe('AddPartitionsToTxn and AddOffsetsToTxn', () => {
  test('unknown id or producer id mismatch: INVALID_PRODUCER_ID_MAPPING', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [])
    assert.deepEqual(codes(await h.coordinator.addPartitions('nobody', producerId, producerEpoch, [P0, P1], exists, 1)), [49, 49])
    assert.deepEqual(codes(await h.coordinator.addPartitions('t', producerId + 1n, producerEpoch, [P0], exists, 1)), [49])
    assert.equal(await h.coordinator.addOffsets('nobody', producerId, producerEpoch, 'g', 1), 49)
    assert.equal(await h.coordinator.addOffsets('t', producerId + 1n, producerEpoch, 'g', 1), 49)
    await h.coordinator.close()
  })

  test('wrong epoch: INVALID_PRODUCER_EPOCH (47) below v2, PRODUCER_FENCED (90) from v2', async () => {
    const h = await open()
    await h.coordinator.initProducerId('t', 60_000, 1)
    const { producerId, producerEpoch } = await h.coordinator.initProducerId('t', 60_000, 1)
    for (const [version, expected] of [[0, 47], [1, 47], [2, 90]] as const) {
      assert.deepEqual(codes(await h.coordinator.addPartitions('t', producerId, producerEpoch - 1, [P0], exists, version)), [expected])
      assert.deepEqual(codes(await h.coordinator.addPartitions('t', producerId, producerEpoch + 1, [P0], exists, version)), [expected])
      assert.equal(await h.coordinator.addOffsets('t', producerId, producerEpoch - 1, 'g', version), expected)
    }
    assert.equal(h.coordinator.describe('t')?.state, 'Empty')
    await h.coordinator.close()
  })

  test('while Prepare*: CONCURRENT_TRANSACTIONS', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [P0])
    const release = h.markers.hold()
    const ending = h.coordinator.endTxn('t', producerId, producerEpoch, true, 1)
    assert.deepEqual(codes(await h.coordinator.addPartitions('t', producerId, producerEpoch, [P1], exists, 1)), [51])
    assert.equal(await h.coordinator.addOffsets('t', producerId, producerEpoch, 'g', 1), 51)
    release()
    await ending
    await h.coordinator.close()
  })

  test('an unknown partition: 3 for it, 55 for the others, and nothing is added', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [])
    const missing = { topic: 'orders', partition: 7 }
    assert.deepEqual(codes(await h.coordinator.addPartitions('t', producerId, producerEpoch, [P0, missing, Q0], exists, 1)), [55, 3, 55])
    const described = h.coordinator.describe('t')
    assert.equal(described?.state, 'Empty')
    assert.deepEqual(described?.partitions, [])
    await h.coordinator.close()
  })

  test('adding moves Empty → Ongoing, records the start time once, and accumulates partitions and groups', async () => {
    const h = await open({ clockMs: 5_000 })
    const { producerId, producerEpoch } = await begin(h, 't', [])
    assert.deepEqual(codes(await h.coordinator.addPartitions('t', producerId, producerEpoch, [P0, P1], exists, 1)), [0, 0])
    h.clock.ms = 6_000
    assert.deepEqual(codes(await h.coordinator.addPartitions('t', producerId, producerEpoch, [P1, Q0], exists, 1)), [0, 0])
    assert.equal(await h.coordinator.addOffsets('t', producerId, producerEpoch, 'g1', 1), 0)
    assert.equal(await h.coordinator.addOffsets('t', producerId, producerEpoch, 'g1', 1), 0)
    const described = h.coordinator.describe('t')!
    assert.equal(described.state, 'Ongoing')
    assert.equal(described.txnStartMs, 5_000)
    assert.deepEqual(described.partitions, [P0, P1, Q0])
    assert.deepEqual(described.groups, ['g1'])
    await h.coordinator.close()
  })

  test('an add is answered only once durable, and Produce and TxnOffsetCommit are refused until then', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [P0])
    const adding = h.coordinator.addPartitions('t', producerId, producerEpoch, [P1], exists, 1)
    const addingGroup = h.coordinator.addOffsets('t', producerId, producerEpoch, 'g', 1)
    assert.equal(h.coordinator.describe('t')?.partitions.length, 2, 'the state machine has moved')
    assert.equal(readTxnLog(h.config.dataDir).at(-1)!.partitions.flatMap(([, indexes]) => indexes).length, 1, 'the log has not yet')
    assert.equal(h.coordinator.checkProduce('t', producerId, producerEpoch, 'orders', 1), ErrorCode.INVALID_TXN_STATE)
    assert.equal(h.coordinator.checkTxnOffsetCommit('t', producerId, producerEpoch, 'g'), ErrorCode.INVALID_TXN_STATE)
    assert.equal(h.coordinator.checkProduce('t', producerId, producerEpoch, 'orders', 0), ErrorCode.NONE, 'durable already')
    assert.deepEqual(codes(await adding), [0])
    assert.equal(readTxnLog(h.config.dataDir).at(-1)!.partitions.flatMap(([, indexes]) => indexes).length, 2)
    assert.equal(h.coordinator.checkProduce('t', producerId, producerEpoch, 'orders', 1), ErrorCode.NONE)
    assert.equal(await addingGroup, 0)
    assert.equal(h.coordinator.checkTxnOffsetCommit('t', producerId, producerEpoch, 'g'), ErrorCode.NONE)
    await h.coordinator.close()
  })

  test('AddOffsetsToTxn alone opens the transaction', async () => {
    const h = await open({ clockMs: 7_000 })
    const { producerId, producerEpoch } = await begin(h, 't', [])
    assert.equal(await h.coordinator.addOffsets('t', producerId, producerEpoch, 'g', 0), 0)
    assert.equal(h.coordinator.describe('t')?.state, 'Ongoing')
    assert.equal(h.coordinator.describe('t')?.txnStartMs, 7_000)
    await h.coordinator.close()
  })
})

describe('EndTxn', () => {
  test('commit: Prepare durable first, COMMIT markers to exactly the added partitions, then offsets, then Complete', async () => {
    const h = await open()
    const dataDir = h.config.dataDir
    const { producerId, producerEpoch } = await begin(h, 't', [P0, Q0], ['g1', 'g2'])
    const statesSeenByMarkers: string[] = []
    const original = h.markers.writeMarkers.bind(h.markers)
    h.markers.writeMarkers = async (...args) => {
      statesSeenByMarkers.push(readTxnLog(dataDir).at(-1)!.state)
      return original(...args)
    }
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch, true, 1), ErrorCode.NONE)
    assert.deepEqual(statesSeenByMarkers, ['PrepareCommit'])
    assert.deepEqual(h.markers.calls, [{ partitions: [P0, Q0], producerId, producerEpoch, commit: true, coordinatorEpoch: 0 }])
    assert.deepEqual(h.offsets.calls, [{ groupId: 'g1', producerId, commit: true }, { groupId: 'g2', producerId, commit: true }])
    assert.deepEqual(h.events, ['markers:commit', 'offsets:g1', 'offsets:g2'])
    assert.equal(readTxnLog(dataDir).at(-1)!.state, 'CompleteCommit')
    const described = h.coordinator.describe('t')!
    assert.equal(described.state, 'CompleteCommit')
    assert.deepEqual([described.partitions, described.groups], [[], []])
    await h.coordinator.close()
  })

  test('abort: ABORT markers and dropped offsets', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [P1], ['g'])
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch, false, 0), ErrorCode.NONE)
    assert.deepEqual(h.markers.calls, [{ partitions: [P1], producerId, producerEpoch, commit: false, coordinatorEpoch: 0 }])
    assert.deepEqual(h.offsets.calls, [{ groupId: 'g', producerId, commit: false }])
    assert.equal(h.coordinator.describe('t')?.state, 'CompleteAbort')
    await h.coordinator.close()
  })

  test('a transaction with only offsets writes no markers but completes its offsets', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [], ['g'])
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch, true, 1), ErrorCode.NONE)
    assert.deepEqual(h.markers.calls, [])
    assert.deepEqual(h.offsets.calls, [{ groupId: 'g', producerId, commit: true }])
    await h.coordinator.close()
  })

  test('from Empty: INVALID_TXN_STATE, for commit and abort', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [])
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch, true, 1), ErrorCode.INVALID_TXN_STATE)
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch, false, 1), ErrorCode.INVALID_TXN_STATE)
    await h.coordinator.close()
  })

  test('retries after Complete*: same result is NONE (no new markers), the other is INVALID_TXN_STATE', async () => {
    const h = await open()
    const committed = await begin(h, 'c', [P0])
    assert.equal(await h.coordinator.endTxn('c', committed.producerId, committed.producerEpoch, true, 1), 0)
    assert.equal(await h.coordinator.endTxn('c', committed.producerId, committed.producerEpoch, true, 1), 0)
    assert.equal(await h.coordinator.endTxn('c', committed.producerId, committed.producerEpoch, false, 1), 48)
    const aborted = await begin(h, 'a', [P0])
    assert.equal(await h.coordinator.endTxn('a', aborted.producerId, aborted.producerEpoch, false, 1), 0)
    assert.equal(await h.coordinator.endTxn('a', aborted.producerId, aborted.producerEpoch, false, 1), 0)
    assert.equal(await h.coordinator.endTxn('a', aborted.producerId, aborted.producerEpoch, true, 1), 48)
    assert.equal(h.markers.calls.length, 2)
    await h.coordinator.close()
  })

  test('unknown id or producer 49; wrong epoch 47 below v2 and 90 from v2', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [P0])
    assert.equal(await h.coordinator.endTxn('nobody', producerId, producerEpoch, true, 1), 49)
    assert.equal(await h.coordinator.endTxn('t', producerId + 1n, producerEpoch, true, 1), 49)
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch + 1, true, 0), 47)
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch + 1, true, 1), 47)
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch + 1, true, 2), 90)
    assert.equal(h.coordinator.describe('t')?.state, 'Ongoing')
    await h.coordinator.close()
  })

  test('a second EndTxn while the first is writing markers: same result 51, other result 48', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [P0])
    const release = h.markers.hold()
    const first = h.coordinator.endTxn('t', producerId, producerEpoch, true, 1)
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch, true, 1), 51)
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch, false, 1), 48)
    release()
    assert.equal(await first, 0)
    assert.equal(h.markers.calls.length, 1)
    await h.coordinator.close()
  })

  test('marker failure after the durable decision: NONE, stays PrepareCommit, and the periodic check finishes it', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [P0], ['g'])
    h.markers.failNext = 1
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch, true, 1), ErrorCode.NONE)
    assert.equal(h.coordinator.describe('t')?.state, 'PrepareCommit')
    assert.deepEqual(h.offsets.calls, [])
    assert.equal((await h.coordinator.initProducerId('t', 60_000, 1)).errorCode, 51)
    await h.coordinator.checkTimeouts()
    assert.equal(h.coordinator.describe('t')?.state, 'CompleteCommit')
    assert.equal(h.markers.calls.length, 2)
    assert.deepEqual(h.offsets.calls, [{ groupId: 'g', producerId, commit: true }])
    await h.coordinator.close()
  })
})

describe('Produce and TxnOffsetCommit checks', () => {
  test('checkProduce: producer and epoch must be current, the partition in the Ongoing txn', async () => {
    const h = await open()
    assert.equal(h.coordinator.checkProduce(null, 1n, 0, 'orders', 0), ErrorCode.INVALID_RECORD)
    const { producerId, producerEpoch } = await begin(h, 't', [])
    assert.equal(h.coordinator.checkProduce('nobody', producerId, producerEpoch, 'orders', 0), 49)
    assert.equal(h.coordinator.checkProduce('t', producerId + 1n, producerEpoch, 'orders', 0), 49)
    assert.equal(h.coordinator.checkProduce('t', producerId, producerEpoch, 'orders', 0), 48)
    await h.coordinator.addPartitions('t', producerId, producerEpoch, [P0], exists, 1)
    assert.equal(h.coordinator.checkProduce('t', producerId, producerEpoch, 'orders', 0), 0)
    assert.equal(h.coordinator.checkProduce('t', producerId, producerEpoch, 'orders', 1), 48)
    assert.equal(h.coordinator.checkProduce('t', producerId, producerEpoch, 'audit', 0), 48)
    assert.equal(h.coordinator.checkProduce('t', producerId, producerEpoch + 1, 'orders', 0), 47)
    await h.coordinator.endTxn('t', producerId, producerEpoch, true, 1)
    assert.equal(h.coordinator.checkProduce('t', producerId, producerEpoch, 'orders', 0), 48)
    await h.coordinator.close()
  })

  test('checkTxnOffsetCommit: the group must have been added in this txn', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [P0])
    assert.equal(h.coordinator.checkTxnOffsetCommit('t', producerId, producerEpoch, 'g'), 48)
    await h.coordinator.addOffsets('t', producerId, producerEpoch, 'g', 1)
    assert.equal(h.coordinator.checkTxnOffsetCommit('t', producerId, producerEpoch, 'g'), 0)
    assert.equal(h.coordinator.checkTxnOffsetCommit('t', producerId, producerEpoch, 'other'), 48)
    assert.equal(h.coordinator.checkTxnOffsetCommit('t', producerId, producerEpoch + 1, 'g'), 47)
    assert.equal(h.coordinator.checkTxnOffsetCommit('nobody', producerId, producerEpoch, 'g'), 49)
    await h.coordinator.endTxn('t', producerId, producerEpoch, true, 1)
    assert.equal(h.coordinator.checkTxnOffsetCommit('t', producerId, producerEpoch, 'g'), 48)
    await h.coordinator.close()
  })
})

describe('zombie fencing (brief §4.3, test 7.3-D)', () => {
  test('P2 InitProducerId aborts P1\'s Ongoing txn with the bumped epoch; every P1 request then gets 47', async () => {
    const h = await open()
    const p1 = await begin(h, 'X', [P0, P1], ['g'])
    const p2 = await h.coordinator.initProducerId('X', 60_000, 1)
    assert.deepEqual([p2.errorCode, p2.producerId, p2.producerEpoch], [0, p1.producerId, p1.producerEpoch + 1])
    assert.deepEqual(h.markers.calls, [{ partitions: [P0, P1], producerId: p1.producerId, producerEpoch: p1.producerEpoch + 1, commit: false, coordinatorEpoch: 0 }])
    assert.deepEqual(h.offsets.calls, [{ groupId: 'g', producerId: p1.producerId, commit: false }])
    assert.equal(h.coordinator.describe('X')?.state, 'Empty')

    assert.equal(h.coordinator.checkProduce('X', p1.producerId, p1.producerEpoch, 'orders', 0), 47)
    assert.deepEqual(codes(await h.coordinator.addPartitions('X', p1.producerId, p1.producerEpoch, [P0], exists, 0)), [47])
    assert.deepEqual(codes(await h.coordinator.addPartitions('X', p1.producerId, p1.producerEpoch, [P0], exists, 1)), [47])
    assert.equal(await h.coordinator.addOffsets('X', p1.producerId, p1.producerEpoch, 'g', 1), 47)
    assert.equal(h.coordinator.checkTxnOffsetCommit('X', p1.producerId, p1.producerEpoch, 'g'), 47)
    assert.equal(await h.coordinator.endTxn('X', p1.producerId, p1.producerEpoch, true, 1), 47)
    assert.equal(await h.coordinator.endTxn('X', p1.producerId, p1.producerEpoch, false, 0), 47)

    // P2 carries on normally.
    assert.deepEqual(codes(await h.coordinator.addPartitions('X', p2.producerId, p2.producerEpoch, [P0], exists, 1)), [0])
    assert.equal(h.coordinator.checkProduce('X', p2.producerId, p2.producerEpoch, 'orders', 0), 0)
    assert.equal(await h.coordinator.endTxn('X', p2.producerId, p2.producerEpoch, true, 1), 0)
    assert.deepEqual(h.markers.calls.at(-1), { partitions: [P0], producerId: p2.producerId, producerEpoch: p2.producerEpoch, commit: true, coordinatorEpoch: 0 })
    await h.coordinator.close()
  })

  test('the fence is persisted as PrepareAbort with the bumped epoch, never as PrepareEpochFence', async () => {
    const h = await open()
    await begin(h, 'X', [P0])
    await h.coordinator.initProducerId('X', 60_000, 1)
    const states = readTxnLog(h.config.dataDir).map(r => `${r.state}@${r.epoch}`)
    assert.deepEqual(states, ['Empty@0', 'Ongoing@0', 'PrepareAbort@1', 'CompleteAbort@1', 'Empty@1'])
    await h.coordinator.close()
  })
})

describe('timeouts and expiry', () => {
  test('an Ongoing txn past its timeout is aborted with a bumped epoch, fencing its producer', async () => {
    const h = await open({ clockMs: 0 })
    const init = await h.coordinator.initProducerId('t', 1_000, 1)
    await h.coordinator.addPartitions('t', init.producerId, init.producerEpoch, [P0], exists, 1)
    await h.coordinator.addOffsets('t', init.producerId, init.producerEpoch, 'g', 1)
    h.clock.ms = 1_000
    await h.coordinator.checkTimeouts()
    assert.equal(h.coordinator.describe('t')?.state, 'Ongoing', 'exactly at the timeout it is still alive')
    h.clock.ms = 1_001
    await h.coordinator.checkTimeouts()
    assert.equal(h.coordinator.describe('t')?.state, 'CompleteAbort')
    assert.deepEqual(h.markers.calls, [{ partitions: [P0], producerId: init.producerId, producerEpoch: init.producerEpoch + 1, commit: false, coordinatorEpoch: 0 }])
    assert.deepEqual(h.offsets.calls, [{ groupId: 'g', producerId: init.producerId, commit: false }])
    assert.equal(h.coordinator.checkProduce('t', init.producerId, init.producerEpoch, 'orders', 0), 47)
    assert.deepEqual(codes(await h.coordinator.addPartitions('t', init.producerId, init.producerEpoch, [P0], exists, 1)), [47])
    assert.equal(await h.coordinator.endTxn('t', init.producerId, init.producerEpoch, false, 1), 47)
    const again = await h.coordinator.initProducerId('t', 1_000, 1)
    assert.deepEqual([again.producerId, again.producerEpoch], [init.producerId, init.producerEpoch + 2])
    await h.coordinator.close()
  })

  test('the timer runs the check every transactionAbortCheckIntervalMs', async () => {
    const h = await open({ clockMs: 0, config: { transactionAbortCheckIntervalMs: 20 } })
    const init = await h.coordinator.initProducerId('t', 100, 1)
    await h.coordinator.addPartitions('t', init.producerId, init.producerEpoch, [P0], exists, 1)
    h.clock.ms = 500
    const deadline = Date.now() + 2_000
    while (h.coordinator.describe('t')?.state !== 'CompleteAbort' && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 10))
    assert.equal(h.coordinator.describe('t')?.state, 'CompleteAbort')
    await h.coordinator.close()
  })

  test('an id idle past transactionalIdExpirationMs becomes Dead and is forgotten, across a restart too', async () => {
    const h = await open({ clockMs: 0, config: { transactionalIdExpirationMs: 10_000 } })
    const first = await h.coordinator.initProducerId('idle', 60_000, 1)
    const busy = await begin(h, 'busy', [P0])
    h.clock.ms = 10_001
    await h.coordinator.checkTimeouts()
    assert.equal(h.coordinator.describe('idle'), undefined)
    assert.equal(h.coordinator.describe('busy')?.state, 'Ongoing', 'an open transaction does not expire (its timeout is 60 s)')
    assert.equal(readTxnLog(h.config.dataDir).find(r => r.id === 'idle' && r.state === 'Dead')?.id, 'idle')
    await h.coordinator.close()
    const reopened = await open({ dataDir: h.config.dataDir, clockMs: 10_002, config: { transactionalIdExpirationMs: 10_000 } })
    assert.equal(reopened.coordinator.describe('idle'), undefined)
    const again = await reopened.coordinator.initProducerId('idle', 60_000, 1)
    assert.equal(again.producerEpoch, 0)
    assert.notEqual(again.producerId, first.producerId)
    assert.notEqual(again.producerId, busy.producerId)
    await reopened.coordinator.close()
  })
})

describe('recovery', () => {
  test('a txn.log ending in PrepareCommit: open() writes the COMMIT markers, completes the offsets, persists CompleteCommit', async () => {
    const crashed = await open()
    const { producerId, producerEpoch } = await begin(crashed, 't', [P0, Q0], ['g'])
    crashed.markers.hold() // never released: the process "dies" with the markers unwritten
    void crashed.coordinator.endTxn('t', producerId, producerEpoch, true, 1)
    await until(() => crashed.markers.calls.length === 1) // markers start only once PrepareCommit is durable
    assert.equal(readTxnLog(crashed.config.dataDir).at(-1)!.state, 'PrepareCommit')

    const h = await open({ dataDir: crashed.config.dataDir })
    assert.deepEqual(h.markers.calls, [{ partitions: [P0, Q0], producerId, producerEpoch, commit: true, coordinatorEpoch: 0 }])
    assert.deepEqual(h.offsets.calls, [{ groupId: 'g', producerId, commit: true }])
    assert.equal(h.coordinator.describe('t')?.state, 'CompleteCommit')
    assert.equal(readTxnLog(h.config.dataDir).at(-1)!.state, 'CompleteCommit')
    assert.equal(await h.coordinator.endTxn('t', producerId, producerEpoch, true, 1), 0, 'the client\'s retry succeeds')
    await h.coordinator.close()
  })

  test('a fence interrupted after PrepareAbort is finished with the bumped epoch', async () => {
    const crashed = await open()
    const p1 = await begin(crashed, 'X', [P1])
    crashed.markers.hold()
    void crashed.coordinator.initProducerId('X', 60_000, 1)
    await until(() => crashed.markers.calls.length === 1) // markers start only once PrepareAbort is durable

    const h = await open({ dataDir: crashed.config.dataDir })
    assert.deepEqual(h.markers.calls, [{ partitions: [P1], producerId: p1.producerId, producerEpoch: p1.producerEpoch + 1, commit: false, coordinatorEpoch: 0 }])
    assert.equal(h.coordinator.describe('X')?.state, 'CompleteAbort')
    assert.equal(h.coordinator.checkProduce('X', p1.producerId, p1.producerEpoch, 'orders', 1), 47)
    const p2 = await h.coordinator.initProducerId('X', 60_000, 1)
    assert.deepEqual([p2.producerId, p2.producerEpoch], [p1.producerId, p1.producerEpoch + 2])
    await h.coordinator.close()
  })

  test('Ongoing stays Ongoing across a restart, and the timeout then aborts it', async () => {
    const first = await open({ clockMs: 0 })
    const init = await first.coordinator.initProducerId('t', 5_000, 1)
    await first.coordinator.addPartitions('t', init.producerId, init.producerEpoch, [P0], exists, 1)
    await first.coordinator.addOffsets('t', init.producerId, init.producerEpoch, 'g', 1)
    await first.coordinator.close()

    const h = await open({ dataDir: first.config.dataDir, clockMs: 1_000 })
    assert.equal(h.markers.calls.length, 0)
    const described = h.coordinator.describe('t')!
    assert.deepEqual([described.state, described.partitions, described.groups, described.txnStartMs], ['Ongoing', [P0], ['g'], 0])
    assert.equal(h.coordinator.checkProduce('t', init.producerId, init.producerEpoch, 'orders', 0), 0)
    h.clock.ms = 5_001
    await h.coordinator.checkTimeouts()
    assert.equal(h.coordinator.describe('t')?.state, 'CompleteAbort')
    assert.deepEqual(h.markers.calls, [{ partitions: [P0], producerId: init.producerId, producerEpoch: init.producerEpoch + 1, commit: false, coordinatorEpoch: 0 }])
    await h.coordinator.close()
  })

  test('producer ids are not reused after a reopen', async () => {
    const first = await open()
    const a = await first.coordinator.initProducerId(null, 60_000, 1)
    const b = await first.coordinator.initProducerId('t', 60_000, 1)
    await first.coordinator.close()
    const h = await open({ dataDir: first.config.dataDir })
    const c = await h.coordinator.initProducerId(null, 60_000, 1)
    const d = await h.coordinator.initProducerId('u', 60_000, 1)
    assert.deepEqual([a.producerId, b.producerId], [0n, 1n])
    assert.deepEqual([c.producerId, d.producerId], [PRODUCER_ID_BLOCK_SIZE, PRODUCER_ID_BLOCK_SIZE + 1n])
    const t = await h.coordinator.initProducerId('t', 60_000, 1)
    assert.deepEqual([t.producerId, t.producerEpoch], [b.producerId, 1])
    await h.coordinator.close()
  })

  test('a corrupt record stops open() loudly', async () => {
    const dataDir = freshDir()
    const { log } = MetaLog.open<unknown>(join(dataDir, 'meta', 'txn.log'))
    log.append({ v: 1, id: 't', pid: 'x', epoch: 0 })
    log.close()
    await assert.rejects(open({ dataDir }), /txn\.log: bad record/)
  })
})

describe('epoch exhaustion', () => {
  function seed(dataDir: string, record: Partial<TxnRecord>): void {
    const { log } = MetaLog.open<TxnRecord>(join(dataDir, 'meta', 'txn.log'))
    log.append({ v: 1, id: 't', pid: '900000', epoch: 0, state: 'Empty', timeoutMs: 60_000, partitions: [], groups: [], txnStartMs: -1, lastUpdateMs: 1_000_000, ...record })
    log.close()
  }

  test('InitProducerId bumps up to 32766, then hands out a new producer id with epoch 0', async () => {
    const dataDir = freshDir()
    seed(dataDir, { epoch: 32_765 })
    const h = await open({ dataDir })
    const bumped = await h.coordinator.initProducerId('t', 60_000, 1)
    assert.deepEqual([bumped.producerId, bumped.producerEpoch], [900_000n, 32_766])
    const rotated = await h.coordinator.initProducerId('t', 60_000, 1)
    assert.equal(rotated.producerEpoch, 0)
    assert.notEqual(rotated.producerId, 900_000n)
    assert.equal(h.coordinator.describe('t')?.producerId, rotated.producerId)
    await h.coordinator.close()
  })

  test('fencing at 32766 writes abort markers with 32767, then the new producer gets a new id', async () => {
    const dataDir = freshDir()
    seed(dataDir, { epoch: 32_766, state: 'Ongoing', partitions: [['orders', [0]]], txnStartMs: 1_000_000 })
    const h = await open({ dataDir })
    const p2 = await h.coordinator.initProducerId('t', 60_000, 1)
    assert.deepEqual(h.markers.calls, [{ partitions: [P0], producerId: 900_000n, producerEpoch: 32_767, commit: false, coordinatorEpoch: 0 }])
    assert.equal(p2.errorCode, 0)
    assert.equal(p2.producerEpoch, 0)
    assert.notEqual(p2.producerId, 900_000n)
    assert.equal(h.coordinator.checkProduce('t', 900_000n, 32_766, 'orders', 0), 49)
    await h.coordinator.close()
  })
})

describe('txn.log compaction', () => {
  test('a large log is rewritten to one record per live id, and reopens to the same state', async () => {
    const h = await open()
    const { producerId, producerEpoch } = await begin(h, 't', [P0])
    const group = (i: number): string => `group-with-a-longish-name-${i}`
    for (let i = 0; i < 400; i++) assert.equal(await h.coordinator.addOffsets('t', producerId, producerEpoch, group(i), 1), 0)
    await begin(h, 'other', [])
    const path = join(h.config.dataDir, 'meta', 'txn.log')
    assert.ok(statSync(path).size < 1024 * 1024, `compacted: ${statSync(path).size} bytes`)
    await h.coordinator.close()
    const records = readTxnLog(h.config.dataDir)
    assert.ok(records.length < 400, `${records.length} records`)
    const reopened = await open({ dataDir: h.config.dataDir })
    const described = reopened.coordinator.describe('t')!
    assert.equal(described.groups.length, 400)
    assert.deepEqual(described.partitions, [P0])
    assert.equal(reopened.coordinator.describe('other')?.state, 'Empty')
    await reopened.coordinator.close()
  })
})
