// How much one Fetch may bring back to the pipeline's consumers: the masters on sluice.ingest and
// the replicas on sluice.changelog. kafkajs's defaults (1 MiB a partition, 10 MiB a fetch) cut a
// backlog into 1 MiB pieces, and each piece costs a fetch round and, for a master, a transaction
// of its own: after the last write of bench:e2e's day at 64 connections a quarter to a third of the
// day was still in sluice.ingest, and the masters drained it 1 MiB a partition at a time
// (docs/benchmarks.md, "A fetch's size"). A fetch's answer is held in memory until its batches
// are processed: these bound that memory, whatever the backlog.

/** Bytes one fetch may return of one partition (kafkajs maxBytesPerPartition). */
export const PIPELINE_FETCH_PARTITION_BYTES = 8 * 1024 * 1024

/** Bytes one fetch may return in all (kafkajs maxBytes): six partitions' worth. */
export const PIPELINE_FETCH_BYTES = 6 * PIPELINE_FETCH_PARTITION_BYTES
