// Sluice's metrics, by the names GET /metrics shows them (docs/observability.md lists each with its
// labels; the web console reads them). One set per process, reached through metrics(); a component
// binds its children once (`metrics().pointsAccepted.labels('http')`) and increments them per event.

import { COUNT_BUCKETS, DURATION_BUCKETS_SECONDS, MetricsRegistry } from './registry.ts'

export const PointSource = { HTTP: 'http', MQTT: 'mqtt', KAFKA: 'kafka' } as const
export type PointSource = (typeof PointSource)[keyof typeof PointSource]
export const TransactionRole = { HTTP: 'http', MASTER: 'master', SOURCE: 'source', CDC: 'cdc' } as const
export type TransactionRole = (typeof TransactionRole)[keyof typeof TransactionRole]
export const QueryLanguage = { SQL: 'sql', INFLUXQL: 'influxql' } as const
export type QueryLanguage = (typeof QueryLanguage)[keyof typeof QueryLanguage]

export class SluiceMetrics {
  readonly httpRequests
  readonly httpRequestDuration
  readonly pointsAccepted
  readonly pointsRejected
  readonly queryDuration
  readonly transactionDuration
  readonly httpWriteStage
  readonly transactionRecords
  readonly masterPartitions
  readonly replicaAppliedEntries
  readonly replicaFeedEntries
  readonly replicaLagRecords
  readonly masterLagRecords
  readonly replicaAppliedOffset
  readonly storeMemtableBytes
  readonly storeFlushes
  readonly storeCompactions
  readonly storeBytesOnDisk
  readonly compressionPointsIn
  readonly compressionPointsKept
  readonly cdcEvents
  readonly mqttMessages

  constructor(readonly registry: MetricsRegistry = new MetricsRegistry()) {
    const r = registry
    this.httpRequests = r.counter('sluice_http_requests_total', 'HTTP requests answered, by route template, method and status code.', ['route', 'method', 'status'])
    this.httpRequestDuration = r.histogram('sluice_http_request_duration_seconds', 'Time from a request\'s arrival to its answer, by route template.', ['route'], DURATION_BUCKETS_SECONDS)
    this.pointsAccepted = r.counter('sluice_points_accepted_total', 'Points written to sluice.ingest, by source (http, mqtt, kafka).', ['source'])
    this.pointsRejected = r.counter('sluice_points_rejected_total', 'Lines, points or records refused at ingest, by source and reason.', ['source', 'reason'])
    this.queryDuration = r.histogram('sluice_query_duration_seconds', 'Query execution time, by language (sql, influxql); _count is the number of queries.', ['language'], DURATION_BUCKETS_SECONDS)
    this.transactionDuration = r.histogram('sluice_kafka_transaction_duration_seconds', 'Kafka transactions from begin to commit, by role (http, master, source, cdc).', ['role'], DURATION_BUCKETS_SECONDS)
    this.httpWriteStage = r.histogram('sluice_http_write_stage_seconds', 'Where a write request waits before its Kafka transaction, by stage: parse (its body handed to a parse worker until the answer, the wait for the worker included), kafka_queue (its records waiting for a write-path producer). The transaction is sluice_kafka_transaction_duration_seconds{role="http"}.', ['stage'], DURATION_BUCKETS_SECONDS)
    this.transactionRecords = r.histogram('sluice_kafka_transaction_records', 'Records consumed or produced per committed Kafka transaction, by role.', ['role'], COUNT_BUCKETS)
    this.masterPartitions = r.gauge('sluice_master_partitions', 'Ingest partitions this node is the master of.')
    this.replicaAppliedEntries = r.counter('sluice_replica_applied_entries_total', 'Changelog entries applied by this node\'s replica, by changelog partition.', ['partition'])
    this.replicaFeedEntries = r.counter('sluice_replica_feed_entries_total', 'Changelog entries this node\'s replica applied from its own master\'s committed transactions (the local feed) instead of fetching them, by changelog partition; included in sluice_replica_applied_entries_total.', ['partition'])
    this.masterLagRecords = r.gauge('sluice_master_lag_records', 'sluice.ingest offsets not yet in a committed master transaction (end offset minus committed offset), by partition this node masters.', ['partition'])
    this.replicaLagRecords = r.gauge('sluice_replica_lag_records', 'Changelog offsets not yet applied by this node\'s replica (end offset minus applied offset), by partition.', ['partition'])
    this.replicaAppliedOffset = r.gauge('sluice_replica_applied_offset', 'Next changelog offset this node\'s replica applies, by partition.', ['partition'])
    this.storeMemtableBytes = r.gauge('sluice_store_memtable_bytes', 'Estimated bytes in the memtables (active and frozen) of a partition\'s store.', ['partition'])
    this.storeFlushes = r.counter('sluice_store_flushes_total', 'Memtables written out as segment files, all partitions.')
    this.storeCompactions = r.counter('sluice_store_compactions_total', 'Compactions (segments merged into one of the next level), all partitions.')
    this.storeBytesOnDisk = r.gauge('sluice_store_bytes_on_disk', 'Bytes of the live segment files of a partition\'s store.', ['partition'])
    this.compressionPointsIn = r.counter('sluice_compression_points_in_total', 'Points the lossy compression of this node\'s masters saw, per database, measurement and field.', ['database', 'measurement', 'field'])
    this.compressionPointsKept = r.counter('sluice_compression_points_kept_total', 'Points the lossy compression of this node\'s masters kept, per database, measurement and field.', ['database', 'measurement', 'field'])
    this.cdcEvents = r.counter('sluice_cdc_events_total', 'Change events this node wrote to sluice.cdc.')
    this.mqttMessages = r.counter('sluice_mqtt_messages_total', 'MQTT messages the bridge finished, by result (acknowledged, dead_lettered).', ['result'])
  }
}

let current = new SluiceMetrics()

/** The process's metrics. */
export function metrics(): SluiceMetrics {
  return current
}

/** Replaces the process's metrics (benchmarks compare against a set nobody reads; tests start clean). */
export function installMetrics(next: SluiceMetrics): SluiceMetrics {
  const previous = current
  current = next
  return previous
}
