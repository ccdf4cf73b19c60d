// kafkajs's grouping of messages by partition replaced (message-grouping.ts): the object kafkajs's
// own groupMessagesPerPartition returns, for any messages and partitioner.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createRequire } from 'node:module'
import fc from 'fast-check'
import { groupMessagesPerPartition, installMessageGrouping, KAFKAJS_GROUPING_MODULE, type GroupArgs } from './message-grouping.ts'
import { pristineKafkajsModule } from './kafkajs-module.ts'

const require = createRequire(import.meta.url)
type Group = (args: GroupArgs<unknown>) => Record<string, unknown[]>

/** A second copy of kafkajs's module, as kafkajs ships it. */
function pristineGrouping(): Group {
  return pristineKafkajsModule<Group>(KAFKAJS_GROUPING_MODULE)
}

test('installed before kafkajs loads: its producer groups with groupMessagesPerPartition', () => {
  assert.equal(installMessageGrouping(), true)
  assert.equal(installMessageGrouping(), true, 'twice is once')
  require('kafkajs/src/producer/sendMessages.js')
  assert.equal(require(KAFKAJS_GROUPING_MODULE), groupMessagesPerPartition)
})

test('groups as kafkajs does: the same partitions, in the same key order, each with its messages in order', () => {
  const pristine = pristineGrouping()
  assert.notEqual(pristine, groupMessagesPerPartition)
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 300 }), fc.integer({ min: 0, max: 12 }),
    (targets, partitionCount) => {
      const messages = targets.map((partition, i) => ({ partition, i }))
      const args = { topic: 't', partitionMetadata: Array.from({ length: partitionCount }, (_, p) => ({ partitionId: p })), messages, partitioner: ({ message }: { message: { partition: number } }) => message.partition }
      const ours = groupMessagesPerPartition(args as GroupArgs<unknown>)
      const theirs = pristine(args as GroupArgs<unknown>)
      assert.deepEqual(Object.keys(ours), Object.keys(theirs))
      assert.deepEqual(ours, theirs)
    },
  ))
  // One object many times (a record section's messages) and a sparse array's holes.
  const same = { partition: 3 }
  const sparse = [same, same, , same] // eslint-disable-line no-sparse-arrays
  const args = { topic: 't', partitionMetadata: [{}], messages: sparse, partitioner: () => 3 } as unknown as GroupArgs<unknown>
  assert.deepEqual(groupMessagesPerPartition(args), pristine(args))
  assert.equal(groupMessagesPerPartition(args)[3]!.length, 3)
})
