import { test } from 'node:test'
import assert from 'node:assert/strict'
import { KafkaError } from '../protocol/errors.ts'
import type { StoredBatch } from './batch-scan.ts'
import { lastSequenceOf, ProducerState } from './producer-state.ts'

const code = (expected: number) => (error: unknown): boolean => error instanceof KafkaError && error.code === expected

function batch(fields: Partial<StoredBatch> & { baseOffset: bigint }): StoredBatch {
  const lastOffsetDelta = fields.lastOffsetDelta ?? 0
  return {
    position: 0, sizeBytes: 100, maxTimestamp: 0n, producerId: 1n, producerEpoch: 0, baseSequence: 0,
    isTransactional: false, isControl: false, controlType: -1, ...fields,
    lastOffsetDelta, lastOffset: fields.baseOffset + BigInt(lastOffsetDelta),
  }
}

test('lastSequenceOf wraps past INT32_MAX to 0', () => {
  assert.equal(lastSequenceOf(5, 4), 9)
  assert.equal(lastSequenceOf(0x7fffffff, 0), 0x7fffffff)
  assert.equal(lastSequenceOf(0x7fffffff, 1), 0)
  assert.equal(lastSequenceOf(0x7ffffffe, 3), 1)
})

test('check applies the rules in order: epoch before duplicate before sequence before transaction state', () => {
  const state = new ProducerState()
  state.record(batch({ baseOffset: 10n, producerEpoch: 2, baseSequence: 0, lastOffsetDelta: 1, isTransactional: true }), 0)
  assert.throws(() => state.check(1n, 1, 0, 1, true), code(47), 'rule 1 wins over a duplicate of an older epoch')
  assert.equal(state.check(1n, 2, 0, 1, false), 10n, 'rule 2 wins over rule 6')
  assert.throws(() => state.check(1n, 3, 4, 4, true), code(45))
  assert.throws(() => state.check(1n, 2, 3, 3, true), code(45))
  assert.throws(() => state.check(1n, 2, 2, 2, false), code(48))
  assert.equal(state.check(1n, 2, 2, 2, true), null)
  assert.equal(state.check(2n, 0, 77, 80, false), null, 'rule 5')
})

test('a marker with a newer epoch resets the cache: the next batch must start at 0', () => {
  const state = new ProducerState()
  state.record(batch({ baseOffset: 0n, producerEpoch: 0, baseSequence: 0, isTransactional: true }), 0)
  const completed = state.record(batch({ baseOffset: 1n, producerEpoch: 1, isControl: true, controlType: 0, baseSequence: -1 }), 0)
  assert.deepEqual(completed, { producerId: 1n, firstOffset: 0n, lastOffset: 1n, lastStableOffset: 2n, aborted: true })
  assert.throws(() => state.check(1n, 1, 1, 1, false), code(45))
  assert.equal(state.check(1n, 1, 0, 0, false), null)
  assert.equal(state.record(batch({ baseOffset: 2n, producerEpoch: 1, isControl: true, controlType: 1 }), 0), null, 'a repeated marker changes nothing')
})

test('a completed transaction records the LSO that follows it', () => {
  const state = new ProducerState()
  state.record(batch({ baseOffset: 0n, producerId: 1n, isTransactional: true }), 0)
  state.record(batch({ baseOffset: 1n, producerId: 2n, isTransactional: true }), 0)
  assert.equal(state.firstOpenOffset(), 0n)
  const first = state.record(batch({ baseOffset: 2n, producerId: 1n, isControl: true, controlType: 0 }), 0)
  assert.equal(first?.lastStableOffset, 1n)
  assert.equal(state.firstOpenOffset(), 1n)
  const second = state.record(batch({ baseOffset: 3n, producerId: 2n, isControl: true, controlType: 1 }), 0)
  assert.deepEqual(second, { producerId: 2n, firstOffset: 1n, lastOffset: 3n, lastStableOffset: 4n, aborted: false })
  assert.equal(state.firstOpenOffset(), null)
})

test('snapshots round-trip and reject damage', () => {
  const state = new ProducerState()
  for (let i = 0; i < 7; i++) state.record(batch({ baseOffset: BigInt(i * 2), producerId: 3n, producerEpoch: 4, baseSequence: i * 2, lastOffsetDelta: 1, maxTimestamp: 99n }), 1234)
  state.record(batch({ baseOffset: 20n, producerId: 8n, isTransactional: true }), 1234)
  const bytes = state.encode(21n)
  const { offset, state: copy } = ProducerState.decode(bytes)
  assert.equal(offset, 21n)
  assert.equal(copy.producerCount, 2)
  assert.equal(copy.check(3n, 4, 12, 13, false), 12n)
  assert.throws(() => copy.check(3n, 4, 2, 3, false), code(45), 'only the last five are cached')
  assert.ok(copy.hasOpenTransaction(8n))
  assert.equal(copy.firstOpenOffset(), 20n)
  assert.equal(copy.expire(1234 + 10, 10), 1)
  const damaged = Buffer.from(bytes)
  damaged[25] ^= 1
  assert.throws(() => ProducerState.decode(damaged), /checksum/)
  const future = Buffer.from(bytes)
  future[4] = 9
  assert.throws(() => ProducerState.decode(future), /version/)
})
