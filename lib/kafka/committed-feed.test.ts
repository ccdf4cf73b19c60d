import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CommittedFeed, ConsecutiveOffsets, type CommittedRun } from './committed-feed.ts'

test('consecutive produce answers give the first offset; a gap, a missing or a negative offset give none', () => {
  const offsets = (answers: Array<[string | undefined, number]>): bigint | undefined => {
    const consecutive = new ConsecutiveOffsets()
    for (const [base, records] of answers) consecutive.add(base, records)
    return consecutive.first
  }
  assert.equal(offsets([]), undefined)
  assert.equal(offsets([['7', 3]]), 7n)
  assert.equal(offsets([['7', 3], ['10', 2], ['12', 1]]), 7n)
  assert.equal(offsets([['7', 3], ['11', 2]]), undefined, 'one offset between two requests')
  assert.equal(offsets([['7', 3], ['9', 2]]), undefined, 'overlapping')
  assert.equal(offsets([['7', 3], [undefined, 2]]), undefined, 'an answer without an offset')
  assert.equal(offsets([['-1', 3]]), undefined, 'Kafka answers -1 when it does not know')
  assert.equal(offsets([['9007199254740993', 1], ['9007199254740994', 1]]), 9007199254740993n, 'offsets past 2^53')
})

test('the feed hands runs and interruptions to every subscriber until it unsubscribes', () => {
  const feed = new CommittedFeed()
  const seen: string[] = []
  const listener = (name: string) => ({
    committed: (run: CommittedRun) => seen.push(`${name} run ${run.partition}@${run.first}`),
    interrupted: (partition: number) => seen.push(`${name} interrupted ${partition}`),
  })
  const stopA = feed.subscribe(listener('a'))
  feed.subscribe(listener('b'))
  feed.publish({ partition: 2, first: 5n, from: 4n, through: 7n, values: [Buffer.from('x')] })
  stopA()
  feed.interrupt(3)
  assert.deepEqual(seen, ['a run 2@5', 'b run 2@5', 'b interrupted 3'])
})
