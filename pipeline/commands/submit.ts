// Puts a command into sluice.ingest: the same record on every partition, in one Kafka transaction,
// so each master writes it into its changelog partition at a definite position, and a command is
// on all partitions or on none. The answer lists those positions (ingest partition → offset), which
// is how a client learns when the command is applied: a replica that has applied the changelog past
// the entry of ingest offset o on partition p has applied the command there.

import type { Kafka, Producer } from 'kafkajs'
import { encodeIngestRecord, type IngestCommand } from '../../schemas/index.ts'
import { sluiceRecordHeaders } from '../source/record-format.ts'

export interface CommandPosition {
  partition: number
  offset: string
}

/**
 * `producer` must be transactional and is used for this one transaction (callers serialise access:
 * kafkajs allows one open transaction per producer).
 */
export async function submitCommand(producer: Producer, command: IngestCommand, options: { topic: string; partitions: number; schemaId: number }): Promise<CommandPosition[]> {
  const value = encodeIngestRecord({ batch: null, command }, { schemaId: options.schemaId })
  const key = `command ${command.commandId}`
  const transaction = await producer.transaction()
  try {
    const sent = await transaction.send({
      topic: options.topic,
      acks: -1,
      messages: Array.from({ length: options.partitions }, (_, partition) => ({ partition, key, value, headers: { ...sluiceRecordHeaders } })),
    })
    await transaction.commit()
    return sent
      .map(metadata => ({ partition: metadata.partition, offset: metadata.baseOffset! }))
      .sort((a, b) => a.partition - b.partition)
  } catch (error) {
    await transaction.abort().catch(() => undefined)
    throw error
  }
}

/**
 * A node's command writer: one transactional producer (transactional id `sluice-commands-<node>`),
 * one command at a time. A failed transaction drops the producer; the next command starts a new
 * one, whose InitProducerId aborts anything the old one left open.
 */
export class CommandWriter {
  private producer: Producer | null = null
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly options: { kafka: Kafka; transactionalId: string; topic: string; partitions: number; schemaId: number }) {}

  submit(command: IngestCommand): Promise<CommandPosition[]> {
    const run = async (): Promise<CommandPosition[]> => {
      this.producer ??= this.options.kafka.producer({ transactionalId: this.options.transactionalId, idempotent: true, maxInFlightRequests: 1 })
      const producer = this.producer
      try {
        await producer.connect()
        return await submitCommand(producer, command, this.options)
      } catch (error) {
        this.producer = null
        await producer.disconnect().catch(() => undefined)
        throw error
      }
    }
    const result = this.queue.then(run, run)
    this.queue = result.catch(() => undefined)
    return result
  }

  async close(): Promise<void> {
    await this.queue
    await this.producer?.disconnect().catch(() => undefined)
    this.producer = null
  }
}
