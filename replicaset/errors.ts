// Error codes of the replica set (replicaset/). Codes only; the HTTP routes of this layer map them.

export const ReplicaErrorCode = {
  /** A read-your-writes wait passed its deadline before the replica applied the positions. */
  WAIT_TIMEOUT: 'SLUICE_ERR_REPLICA_WAIT_TIMEOUT',
  /** Too many read-your-writes waits at once (limits.maxWaiters): retry later. */
  TOO_MANY_WAITERS: 'SLUICE_ERR_REPLICA_TOO_MANY_WAITERS',
  /** A position, timeout or setting is malformed or out of range; the message names it. */
  INVALID_ARGUMENT: 'SLUICE_ERR_REPLICA_INVALID_ARGUMENT',
  /** sluice.changelog is missing or has another partition count than expected. */
  TOPIC: 'SLUICE_ERR_REPLICA_TOPIC',
  /** The apply loop stopped on an error (a bad changelog record, a failed flush): the node must restart. */
  FAILED: 'SLUICE_ERR_REPLICA_FAILED',
  /** The replica is stopped. */
  STOPPED: 'SLUICE_ERR_REPLICA_STOPPED',
} as const

export type ReplicaErrorCodeValue = (typeof ReplicaErrorCode)[keyof typeof ReplicaErrorCode]

export interface ReplicaErrorContext {
  partition?: number
  offset?: bigint
  node?: string
  /** Ingest positions still not applied when a wait gave up. */
  missing?: Array<{ partition: number; offset: string; applied: string | null }>
}

export class ReplicaError extends Error {
  override readonly name = 'ReplicaError'

  constructor(
    readonly code: ReplicaErrorCodeValue,
    message: string,
    readonly context: ReplicaErrorContext = {},
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export function isReplicaError(error: unknown, code?: ReplicaErrorCodeValue): error is ReplicaError {
  return error instanceof ReplicaError && (code === undefined || error.code === code)
}
