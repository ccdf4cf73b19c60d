// The named limits of the replica set, with defaults and reasons.

import { fetchWaitMs } from '../lib/kafka/long-poll.ts'

export const replicaLimits = {
  /** Longest read-your-writes wait a caller may ask for: a query must not hold a connection forever. */
  maxWaitMs: 60_000,
  /** Default read-your-writes wait when the caller names none. */
  defaultWaitMs: 5_000,
  /** Read-your-writes waits pending at once; beyond it a wait is refused (retriable) instead of queued. */
  maxWaiters: 10_000,
  /** Ingest positions one wait may name (one per ingest partition is the useful maximum). */
  maxWaitPositions: 4_096,
  /**
   * Changelog offsets read again below a store's durable offset at start, only to learn which
   * ingest offsets those entries carried (read-your-writes after a restart). Each transaction is
   * at least one entry and one marker, so a few offsets usually find one; re-reading is cheap,
   * and entries below the applied offset are not applied twice (the store ignores them).
   */
  rewindOffsets: 256n,
  /**
   * How long start-up waits for sluice.changelog to exist before going on without it (then the
   * replica starts consuming in the background once a processor creates the topic).
   */
  topicWaitMs: 5_000,
  /** How long copying one partition's store from a peer may take before the next peer is tried. */
  snapshotTimeoutMs: 10 * 60_000,
  /**
   * Bytes of changelog feed runs (lib/kafka/committed-feed.ts) one partition holds while its fetch
   * catches up with them; the oldest are dropped past it (Kafka has them).
   */
  feedQueueBytes: 8 * 1024 * 1024,
  /**
   * A partition following the feed fetches from Kafka again when no run came for this long: a master
   * elsewhere may have taken the partition before this node's master noticed it lost it.
   */
  feedQuietMs: 2_000,
} as const

export interface ReplicaTimings {
  /** Flush a partition's memtable when it holds entries older than this (bounds replay after a crash). Default 5 s. */
  flushIntervalMs: number
  /** Session timeout of the replica's own consumer group (it is the only member). Default 10 s. */
  sessionTimeoutMs: number
  /** Heartbeat interval of the replica's consumer. Default 1 s. */
  heartbeatIntervalMs: number
  /**
   * Longest a fetch waits at the broker for new records (lib/kafka/long-poll.ts). The broker answers
   * as soon as a record is readable, so this sets only how often an idle replica asks. Default 500 ms.
   */
  maxWaitTimeMs: number
}

export const defaultReplicaTimings: ReplicaTimings = {
  flushIntervalMs: 5_000,
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  maxWaitTimeMs: fetchWaitMs(1_000), // bounded by the heartbeat interval above
}
