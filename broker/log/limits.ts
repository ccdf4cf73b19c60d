// The storage engine's named limits, each with its unit and the reason for its value.

/** A sparse offset-index entry (and at most one time-index entry) per this many bytes of log, like Kafka's index.interval.bytes. */
export const INDEX_INTERVAL_BYTES = 4096

/** Batches remembered per producer for duplicate detection: idempotent clients keep ≤ 5 requests in flight (brief §4.2). */
export const DEDUPE_BATCHES = 5

/** Recovery and header walks read the log in chunks of this size, so a 1 GiB segment never sits in the heap. */
export const SCAN_CHUNK_BYTES = 1024 * 1024

/** Reads for one fetch partition never allocate more than this, unless a single batch is larger (KIP-74). */
export const MAX_READ_BYTES = 64 * 1024 * 1024

/** A stored batch larger than this is treated as corruption during recovery (Kafka caps message.max.bytes at ~2 GiB; frames here at 100 MiB). */
export const MAX_STORED_BATCH_BYTES = 128 * 1024 * 1024

/** Offsets in a segment are indexed relative to its base as u32, so a segment rolls before holding more. */
export const MAX_OFFSETS_PER_SEGMENT = 0xffff_ffffn

/** Positions in a segment are u32; segment.bytes may not exceed this (Kafka's segment.bytes is an int32). */
export const MAX_SEGMENT_BYTES = 0x7fff_ffff

/** Smallest segment.bytes accepted (Kafka's minimum; with it every batch gets its own segment). */
export const MIN_SEGMENT_BYTES = 14

/** Producer-state snapshots kept per partition; older ones can never be the newest at or below the log end. */
export const SNAPSHOTS_KEPT = 2

/** Partitions per topic: a guard against a typo creating millions of directories. */
export const MAX_PARTITIONS_PER_TOPIC = 10_000

/** Kafka's topic name limit (`[a-zA-Z0-9._-]{1,249}`, not "." or ".."). */
export const MAX_TOPIC_NAME_CHARS = 249
