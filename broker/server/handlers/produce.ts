// Produce (brief §3.5, §4.2): per partition, validate the one batch, check the transaction with the
// coordinator, append with the idempotence rules, then answer once the records are durable
// (acks 1 or -1, bounded by timeoutMs) or not at all (acks 0).

import type { ProduceRequest, ProduceResponse } from '../../protocol/apis/produce.ts'
import { produceApi } from '../../protocol/apis/produce.ts'
import { ErrorCode, KafkaError, type ErrorCodeValue } from '../../protocol/errors.ts'
import { isTransactional, validateProducedBatch } from '../../record/batch.ts'
import { NO_RESPONSE, route, type BrokerParts } from '../context.ts'
import { onConnectionClosed } from './connection-closed.ts'

type PartitionResponse = ProduceResponse['responses'][number]['partitionResponses'][number]

/** A partition's answer and, once appended, the promise that it is durable. */
interface Pending { response: PartitionResponse; durable?: Promise<void> }

export const produceRoute = route(produceApi, async (request, context, broker) => {
  if (request.acks !== 0 && request.acks !== 1 && request.acks !== -1) return everyPartition(request, ErrorCode.INVALID_REQUIRED_ACKS)
  const pending = request.topicData.map(topic => ({
    name: topic.name,
    partitions: topic.partitionData.map(data => appendOne(broker, request.transactionalId, topic.name, data.index, data.records, context.apiVersion)),
  }))
  if (request.acks === 0) return NO_RESPONSE
  await awaitDurable(pending.flatMap(topic => topic.partitions), request.timeoutMs, context.closed)
  return {
    responses: pending.map(topic => ({ name: topic.name, partitionResponses: topic.partitions.map(p => p.response) })),
    throttleTimeMs: 0,
  }
})

function appendOne(broker: BrokerParts, transactionalId: string | null, topicName: string, partition: number, records: Buffer | null, apiVersion: number): Pending {
  const response: PartitionResponse = { index: partition, errorCode: ErrorCode.NONE, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n }
  try {
    const topic = broker.logs.ensureTopic(topicName)
    const log = topic ? broker.logs.partition(topicName, partition) : undefined
    if (!log) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `no partition ${topicName}-${partition}`)
    const header = validateProducedBatch(records, apiVersion, log.settings.maxMessageBytes)
    const transactional = isTransactional(header)
    if (transactional) {
      const code = broker.txns.checkProduce(transactionalId, header.producerId, header.producerEpoch, topicName, partition)
      if (code !== ErrorCode.NONE) throw new KafkaError(code as ErrorCodeValue, `transaction check for ${topicName}-${partition}`)
    }
    const { baseOffset } = log.appendProduced(records!, header, transactional)
    response.baseOffset = baseOffset
    response.logStartOffset = log.logStartOffset
    return { response, durable: log.waitDurable(baseOffset + BigInt(header.lastOffsetDelta) + 1n) }
  } catch (error) {
    if (!(error instanceof KafkaError)) throw error
    response.errorCode = error.code
    broker.logger.debug('produce refused', { topic: topicName, partition, code: error.code, error: error.message })
    return { response }
  }
}

/**
 * Waits until every appended partition is durable, timeoutMs passes (those not yet durable get
 * REQUEST_TIMED_OUT, though their records stay appended, as in Kafka), or the connection closes.
 */
async function awaitDurable(partitions: Pending[], timeoutMs: number, closed: Promise<void>): Promise<void> {
  const waiting = partitions.filter(p => p.durable)
  if (waiting.length === 0) return
  const settled = new Set<Pending>()
  const all = Promise.all(waiting.map(p => p.durable!.then(
    () => { settled.add(p) },
    (error: unknown) => {
      if (!(error instanceof KafkaError)) throw error
      p.response.errorCode = error.code
      settled.add(p)
    },
  )))
  let timer: NodeJS.Timeout | undefined
  let unsubscribe = (): void => {}
  const deadline = new Promise<void>(resolve => {
    timer = setTimeout(resolve, Math.max(timeoutMs, 0))
    unsubscribe = onConnectionClosed(closed, resolve)
  })
  try {
    await Promise.race([all, deadline])
  } finally {
    clearTimeout(timer)
    unsubscribe()
  }
  for (const p of waiting) if (!settled.has(p)) p.response.errorCode = ErrorCode.REQUEST_TIMED_OUT
}

function everyPartition(request: ProduceRequest, errorCode: number): ProduceResponse {
  return {
    responses: request.topicData.map(topic => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map(data => ({ index: data.index, errorCode, baseOffset: -1n, logAppendTimeMs: -1n, logStartOffset: -1n })),
    })),
    throttleTimeMs: 0,
  }
}
