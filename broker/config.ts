// The broker's settings: one typed object with defaults, each limit named with its unit and why.

export type FlushPolicy = 'always' | 'interval' | 'os'

export interface BrokerConfig {
  nodeId: number
  /** Host and port the broker listens on; port 0 picks a free one. */
  host: string
  port: number
  /** Host and port written into Metadata and FindCoordinator answers. Default: host and the bound port. */
  advertisedHost?: string
  advertisedPort?: number
  dataDir: string
  clusterId?: string
  /** 'always': nothing is acknowledged or visible before fdatasync (group commit). */
  flushPolicy: FlushPolicy
  /** Group-commit window for 'always', and the fsync period for 'interval'. */
  flushIntervalMs: number
  autoCreateTopics: boolean
  defaultPartitions: number
  segmentBytes: number
  segmentMs: number
  /** -1 keeps everything. */
  retentionMs: number
  retentionBytes: number
  retentionCheckIntervalMs: number
  /** Kafka's max.message.bytes: one batch larger than this is MESSAGE_TOO_LARGE. */
  maxMessageBytes: number
  /** Kafka's socket.request.max.bytes: a larger frame closes the connection. */
  maxFrameBytes: number
  groupMinSessionTimeoutMs: number
  groupMaxSessionTimeoutMs: number
  groupInitialRebalanceDelayMs: number
  offsetsRetentionMs: number
  offsetMetadataMaxBytes: number
  transactionMaxTimeoutMs: number
  transactionAbortCheckIntervalMs: number
  transactionalIdExpirationMs: number
  producerIdExpirationMs: number
}

export const defaultBrokerConfig: Omit<BrokerConfig, 'dataDir'> = {
  nodeId: 0,
  host: '127.0.0.1',
  port: 9092,
  flushPolicy: 'always',
  flushIntervalMs: 2,
  autoCreateTopics: true,
  defaultPartitions: 1,
  segmentBytes: 1 << 30,
  segmentMs: 7 * 24 * 3600_000,
  retentionMs: 7 * 24 * 3600_000,
  retentionBytes: -1,
  retentionCheckIntervalMs: 60_000,
  maxMessageBytes: 1_048_588,
  maxFrameBytes: 100 * 1024 * 1024,
  groupMinSessionTimeoutMs: 1_000,
  groupMaxSessionTimeoutMs: 1_800_000,
  groupInitialRebalanceDelayMs: 0,
  offsetsRetentionMs: 7 * 24 * 3600_000,
  offsetMetadataMaxBytes: 4096,
  transactionMaxTimeoutMs: 900_000,
  transactionAbortCheckIntervalMs: 10_000,
  transactionalIdExpirationMs: 7 * 24 * 3600_000,
  producerIdExpirationMs: 24 * 3600_000,
}
