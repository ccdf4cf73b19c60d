// Error codes of the change feed (sinks/cdc/). Codes only; the /api/v1/changes route maps them to statuses.

export const CdcErrorCode = {
  /** A parameter of /api/v1/changes is missing or malformed (db, measurement, from); the message names it. */
  PARAMETER: 'SLUICE_ERR_CDC_PARAMETER',
  /** The `where` filter does not parse; the message names the character. */
  FILTER: 'SLUICE_ERR_CDC_FILTER',
  /** A resume token (Last-Event-ID or from=) is malformed or names partitions this feed does not have. */
  RESUME_TOKEN: 'SLUICE_ERR_CDC_RESUME_TOKEN',
  /** Too many change streams are open on this node (limits.maxStreams): retry later. */
  TOO_MANY_STREAMS: 'SLUICE_ERR_CDC_TOO_MANY_STREAMS',
  /** sluice.changelog is not there yet, or Kafka did not answer. */
  UNAVAILABLE: 'SLUICE_ERR_CDC_UNAVAILABLE',
  /** A changelog record does not decode: the feed stops rather than skip a change. */
  BAD_RECORD: 'SLUICE_ERR_CDC_BAD_RECORD',
} as const

export type CdcErrorCodeValue = (typeof CdcErrorCode)[keyof typeof CdcErrorCode]

export class CdcError extends Error {
  override readonly name = 'CdcError'

  constructor(
    readonly code: CdcErrorCodeValue,
    message: string,
    readonly context: { partition?: number; offset?: bigint } = {},
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export function isCdcError(error: unknown, code?: CdcErrorCodeValue): error is CdcError {
  return error instanceof CdcError && (code === undefined || error.code === code)
}
