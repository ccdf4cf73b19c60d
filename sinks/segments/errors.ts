// Error codes of segment storage. Codes only; HTTP status mapping belongs to the layer that serves.

export const StorageErrorCode = {
  /** A block, index or manifest failed its checksum or could not be decoded; never served as data. */
  CORRUPT: 'SLUICE_ERR_STORAGE_CORRUPT',
  /** A setting is out of range or unknown; the message names it. */
  INVALID_SETTING: 'SLUICE_ERR_STORAGE_INVALID_SETTING',
  /** An invariant broke (offsets went backwards, a manifest names a missing file...): stop loudly. */
  INVARIANT: 'SLUICE_ERR_STORAGE_INVARIANT',
  /** The store was closed, or a previous flush failed and the store refuses further writes. */
  CLOSED: 'SLUICE_ERR_STORAGE_CLOSED',
  /** A read named a series or field the store does not hold. */
  NOT_FOUND: 'SLUICE_ERR_STORAGE_NOT_FOUND',
} as const

export type StorageErrorCodeValue = (typeof StorageErrorCode)[keyof typeof StorageErrorCode]

export interface StorageErrorContext {
  partition?: number
  offset?: bigint
  file?: string
  block?: number
  seriesId?: string
  field?: string
}

export class StorageError extends Error {
  override readonly name = 'StorageError'

  constructor(
    readonly code: StorageErrorCodeValue,
    message: string,
    readonly context: StorageErrorContext = {},
    readonly retriable = false,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export function isStorageError(error: unknown, code?: StorageErrorCodeValue): error is StorageError {
  return error instanceof StorageError && (code === undefined || error.code === code)
}

export function invariant(condition: boolean, message: string, context: StorageErrorContext = {}): asserts condition {
  if (!condition) throw new StorageError(StorageErrorCode.INVARIANT, message, context)
}
