// Metrics read at scrape time from the components of a node, through their own stats: the master's
// partitions, the replica's offsets, lag and stores, the change feed, the MQTT bridge, the Kafka
// source and the lossy-compression report. The shapes are structural, so lib/ imports no layer above it.

import type { SluiceMetrics } from './metrics.ts'

/** How long a scrape waits for the changelog end offsets (lag) before showing the last ones. */
export const END_OFFSETS_TIMEOUT_MS = 2_000

export interface NodeComponents {
  processor?: { partitions(): number[]; lag?(): Promise<ReadonlyMap<number, bigint>> } | undefined
  replica?: {
    appliedPositions(): ReadonlyArray<{ partition: number; appliedOffset: bigint }>
    endOffsets(): Promise<ReadonlyMap<number, bigint>>
    stores(): ReadonlyMap<number, { stats(): { memtableBytes: number; frozenMemtableBytes: number; segmentBytes: number; flushes?: number; compactions?: number } }>
  } | undefined
  cdc?: { readonly stats: { readonly eventsOut: number } } | undefined
  mqttBridge?: { stats(): { messagesAcknowledged: number; messagesDeadLettered: number; pointsWritten: number } } | undefined
  kafkaSource?: { readonly stats: { readonly pointsWritten: number; readonly recordsDeadLettered: number } } | undefined
  /** Lossy compression as decided by this node's masters. */
  compression?: (() => Promise<ReadonlyArray<{ database: string; measurement: string; field: string; pointsIn: number; pointsKept: number }>>) | undefined
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    work,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs) }),
  ]).finally(() => clearTimeout(timer))
}

/** Registers the collectors; returns a function that removes them. */
export function registerNodeCollectors(m: SluiceMetrics, components: NodeComponents): () => void {
  const removers: Array<() => void> = []
  const on = (collector: () => void | Promise<void>): void => { removers.push(m.registry.onCollect(collector)) }
  const { processor, replica, cdc, mqttBridge, kafkaSource, compression } = components
  if (processor) on(() => { m.masterPartitions.labels().set(processor.partitions().length) })
  if (processor?.lag) {
    const lagOf = processor.lag.bind(processor)
    on(async () => {
      m.masterLagRecords.clear()
      for (const [partition, lag] of await withTimeout(lagOf(), END_OFFSETS_TIMEOUT_MS)) m.masterLagRecords.labels(String(partition)).set(Number(lag))
    })
  }
  if (replica) {
    on(() => {
      let flushes = 0
      let compactions = 0
      for (const [partition, store] of replica.stores()) {
        const stats = store.stats()
        m.storeMemtableBytes.labels(String(partition)).set(stats.memtableBytes + stats.frozenMemtableBytes)
        m.storeBytesOnDisk.labels(String(partition)).set(stats.segmentBytes)
        flushes += stats.flushes ?? 0
        compactions += stats.compactions ?? 0
      }
      m.storeFlushes.labels().setTotal(flushes)
      m.storeCompactions.labels().setTotal(compactions)
    })
    on(async () => {
      const positions = replica.appliedPositions()
      for (const position of positions) m.replicaAppliedOffset.labels(String(position.partition)).set(Number(position.appliedOffset))
      const ends = await withTimeout(replica.endOffsets(), END_OFFSETS_TIMEOUT_MS)
      for (const position of positions) {
        const end = ends.get(position.partition)
        // The applied offset moves past transaction markers: a caught-up replica stands at the end.
        if (end !== undefined) m.replicaLagRecords.labels(String(position.partition)).set(Math.max(0, Number(end - position.appliedOffset)))
      }
    })
  }
  if (cdc) on(() => { m.cdcEvents.labels().setTotal(cdc.stats.eventsOut) })
  if (mqttBridge) {
    on(() => {
      const stats = mqttBridge.stats()
      m.mqttMessages.labels('acknowledged').setTotal(stats.messagesAcknowledged)
      m.mqttMessages.labels('dead_lettered').setTotal(stats.messagesDeadLettered)
      m.pointsAccepted.labels('mqtt').setTotal(stats.pointsWritten)
    })
  }
  if (kafkaSource) {
    on(() => {
      m.pointsAccepted.labels('kafka').setTotal(kafkaSource.stats.pointsWritten)
      m.pointsRejected.labels('kafka', 'dead_letter').setTotal(kafkaSource.stats.recordsDeadLettered)
    })
  }
  if (compression) {
    on(async () => {
      for (const row of await compression()) {
        m.compressionPointsIn.labels(row.database, row.measurement, row.field).setTotal(row.pointsIn)
        m.compressionPointsKept.labels(row.database, row.measurement, row.field).setTotal(row.pointsKept)
      }
    })
  }
  return () => { for (const remove of removers) remove() }
}
