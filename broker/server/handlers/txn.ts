// Transaction coordinator APIs: InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn. Thin:
// decode, call broker.txns, encode. (TxnOffsetCommit goes to the group coordinator; see group.ts.)

import { addOffsetsToTxnApi } from '../../protocol/apis/add-offsets-to-txn.ts'
import { addPartitionsToTxnApi } from '../../protocol/apis/add-partitions-to-txn.ts'
import { endTxnApi } from '../../protocol/apis/end-txn.ts'
import { initProducerIdApi } from '../../protocol/apis/init-producer-id.ts'
import { route } from '../context.ts'

export const txnRoutes = [
  route(initProducerIdApi, async (request, context, broker) => ({
    throttleTimeMs: 0,
    ...(await broker.txns.initProducerId(request.transactionalId, request.transactionTimeoutMs, context.apiVersion)),
  })),

  route(addPartitionsToTxnApi, async (request, context, broker) => {
    const partitions = request.topics.flatMap(topic => topic.partitions.map(partition => ({ topic: topic.name, partition })))
    const results = await broker.txns.addPartitions(request.transactionalId, request.producerId, request.producerEpoch, partitions,
      (topic, partition) => broker.logs.partition(topic, partition) !== undefined, context.apiVersion)
    // Results come back one per requested partition, in request order.
    let at = 0
    return {
      throttleTimeMs: 0,
      results: request.topics.map(topic => ({
        name: topic.name,
        resultsByPartition: topic.partitions.map(partitionIndex => ({ partitionIndex, partitionErrorCode: results[at++]!.errorCode })),
      })),
    }
  }),

  route(addOffsetsToTxnApi, async (request, context, broker) => ({
    throttleTimeMs: 0,
    errorCode: await broker.txns.addOffsets(request.transactionalId, request.producerId, request.producerEpoch, request.groupId, context.apiVersion),
  })),

  route(endTxnApi, async (request, context, broker) => ({
    throttleTimeMs: 0,
    errorCode: await broker.txns.endTxn(request.transactionalId, request.producerId, request.producerEpoch, request.committed, context.apiVersion),
  })),
]
