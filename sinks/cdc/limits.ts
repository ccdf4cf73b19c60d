// The named limits of the change feed, with defaults and reasons.

export const cdcLimits = {
  /** Longest `where` filter: it is parsed per request, and a real filter is a few conditions. */
  maxFilterChars: 4_096,
  /** Change streams (SSE requests) open at once on one node; each holds a Kafka consumer. */
  maxStreams: 64,
  /** Partitions a resume token may name: the changelog's partition count is far below this. */
  maxTokenPartitions: 4_096,
  /** How often an idle stream sends a comment, so that proxies keep it open (many close after 30-60 s). */
  heartbeatMs: 15_000,
  /** How long a node with --cdc waits at start for sluice.changelog (created by the first processor) before failing. */
  changelogWaitMs: 30_000,
  /** Changelog records per CDC transaction (consume-transform-produce batch). */
  maxRecordsPerTransaction: 500,
  /** Events per CDC transaction: one upsert entry can hold many points, and a transaction must stay bounded. */
  maxEventsPerTransaction: 20_000,
} as const
