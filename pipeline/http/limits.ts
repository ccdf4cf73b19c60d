// The named maximums of the HTTP write API, their defaults and why. Overridden through the node's
// configuration (bin/node-config.ts) and validated once, at start-up.

export interface HttpLimits {
  /**
   * Largest request body, compressed as sent and again after gunzip. Default 25,000,000 bytes:
   * InfluxDB 1.x's max-body-size, so what InfluxDB accepts is not refused here; over it → 413, which
   * Telegraf's v2 output answers by splitting the batch.
   */
  maxBodyBytes: number
  /**
   * Record bytes waiting for Kafka across all requests of this node (queued, not yet in a transaction).
   * Default 256 MiB: ten full-size requests. A request that would go over it is refused at once with
   * 503 (/write) or 429 (/api/v2/write) and Retry-After, instead of the queue growing without bound.
   */
  maxQueuedRecordBytes: number
  /**
   * Longest a request waits for Kafka before it is answered 503. Default 10,000 ms. A request still
   * queued at its deadline is dropped from the queue (nothing written); one whose transaction is in
   * flight waits for that transaction's outcome, which the producer's own timeouts bound.
   */
  writeTimeoutMs: number
  /** Retry-After sent with 503/429. Default 5 s (Telegraf's v2 output waits max(Retry-After, its backoff)). */
  retryAfterSeconds: number
  /**
   * The write producers' transaction.timeout.ms. Default 30,000: a transaction a crashed or cut-off
   * node leaves open is aborted by the broker after this, and read_committed readers of its partitions
   * wait at most that long. Far above the time a healthy transaction takes (milliseconds).
   */
  transactionTimeoutMs: number
  /**
   * Key and value bytes of one partition's records in one produce request. Default 900,000: kafkajs
   * sends a partition's records as one record batch, and the broker refuses a batch over its
   * message.max.bytes (1,048,588 by default) even uncompressed; larger transactions are sent in
   * several produce requests, still inside the one transaction.
   */
  maxPartitionBatchBytes: number
  /** Records in one Kafka transaction (a group commit of concurrent requests). Default 100,000. */
  maxTransactionRecords: number
  /** Record bytes in one Kafka transaction. Default 64 MiB; one request larger than that still goes alone. */
  maxTransactionBytes: number
  /** How long a completed write is remembered under its Idempotency-Key. Default 24 h (the window). */
  idempotencyTtlMs: number
  /**
   * How long an Idempotency-Key stays claimed by a request in progress. Default 60 s: well over
   * writeTimeoutMs, so a live request never loses its claim; a crashed node's claim expires.
   */
  idempotencyPendingTtlMs: number
  /** Longest Idempotency-Key accepted, in bytes. Default 255, as the IETF draft suggests. */
  maxIdempotencyKeyBytes: number
  /** Line errors listed in a 400/422 answer; the rest are counted. Default 100. */
  maxErrorsReported: number
}

export const defaultHttpLimits: Readonly<HttpLimits> = Object.freeze({
  maxBodyBytes: 25_000_000,
  maxQueuedRecordBytes: 256 * 1024 * 1024,
  writeTimeoutMs: 10_000,
  retryAfterSeconds: 5,
  transactionTimeoutMs: 30_000,
  maxPartitionBatchBytes: 900_000,
  maxTransactionRecords: 100_000,
  maxTransactionBytes: 64 * 1024 * 1024,
  idempotencyTtlMs: 24 * 60 * 60 * 1000,
  idempotencyPendingTtlMs: 60_000,
  maxIdempotencyKeyBytes: 255,
  maxErrorsReported: 100,
})

const limitNames = Object.keys(defaultHttpLimits) as Array<keyof HttpLimits>

/** Defaults overlaid with `overrides`; rejects unknown names and values that are not positive integers. */
export function httpLimits(overrides: Partial<HttpLimits> = {}): HttpLimits {
  for (const name of Object.keys(overrides)) {
    if (!limitNames.includes(name as keyof HttpLimits)) throw new TypeError(`unknown HTTP limit "${name}" (known: ${limitNames.join(', ')})`)
  }
  const limits = { ...defaultHttpLimits, ...overrides }
  for (const name of limitNames) {
    if (!Number.isSafeInteger(limits[name]) || limits[name] <= 0) throw new TypeError(`HTTP limit ${name} must be a positive integer, got ${String(limits[name])}`)
  }
  if (limits.idempotencyPendingTtlMs <= limits.writeTimeoutMs) {
    throw new TypeError(`HTTP limit idempotencyPendingTtlMs (${limits.idempotencyPendingTtlMs}) must exceed writeTimeoutMs (${limits.writeTimeoutMs})`)
  }
  return limits
}
