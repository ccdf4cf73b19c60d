// kafkajs groups a send's messages by partition (producer/groupMessagesPerPartition.js) by copying the
// partition's array for every message (`[...current, message]`): n messages to one partition cost
// n²/2 element copies and n arrays. A record section stands for one message per record
// (encoded-produce.ts sectionMessages), so a master's transaction of thousands of changelog records
// went through this per send (38 MB of arrays over bench:e2e's day, bench:e2e --allocation-profile).
// Importing this module before kafkajs loads puts a grouping in its place that appends to each
// partition's array instead: the same object of the same arrays, in the same order.
//
// kafkajs's sendMessages keeps the function it required: installed after kafkajs loaded, this changes
// nothing and says so (false), as for another kafkajs release.

import { isPatchedKafkajsRelease, kafkajsModulePath, replaceKafkajsModule } from './kafkajs-module.ts'

export const KAFKAJS_GROUPING_MODULE = kafkajsModulePath('src/producer/groupMessagesPerPartition.js')

export interface GroupArgs<M> {
  topic: string
  partitionMetadata: readonly unknown[]
  messages: readonly M[]
  partitioner: (args: { topic: string; partitionMetadata: readonly unknown[]; message: M }) => number
}

/** kafkajs's contract: partition → its messages in send order; {} when the topic has no partitions. */
export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {}
  if (partitionMetadata.length === 0) return result
  // forEach, as kafkajs's reduce, skips the holes of a sparse array.
  messages.forEach(message => {
    const partition = partitioner({ topic, partitionMetadata, message })
    const current = result[partition]
    if (current === undefined) result[partition] = [message]
    else current.push(message)
  })
  return result
}

/** Puts groupMessagesPerPartition in kafkajs's place; false (nothing changed) for another release or when kafkajs's own was loaded already. */
export function installMessageGrouping(): boolean {
  if (!isPatchedKafkajsRelease) return false
  return replaceKafkajsModule(KAFKAJS_GROUPING_MODULE, groupMessagesPerPartition)
}

installMessageGrouping()
