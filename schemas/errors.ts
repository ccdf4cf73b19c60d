// Error codes of the schemas layer: Avro encoding and decoding, Confluent wire framing, the schema
// registry and its `_schemas` topic. Codes only; the mapping to HTTP statuses and Confluent
// error_code numbers lives in registry-routes.ts, and nowhere else.

export const SchemaErrorCode = {
  /** A framed record is shorter than its 5-byte header or does not start with magic byte 0. */
  FRAMING: 'SLUICE_ERR_SCHEMA_FRAMING',
  /** A value does not match the schema it is encoded with; the message names the first bad path. */
  ENCODE: 'SLUICE_ERR_SCHEMA_ENCODE',
  /** Bytes could not be decoded with the schema (truncated, trailing bytes, bad union index...). */
  DECODE: 'SLUICE_ERR_SCHEMA_DECODE',
  /** A schema text is not valid JSON or not a valid Avro schema, or uses an unsupported feature. */
  INVALID_SCHEMA: 'SLUICE_ERR_SCHEMA_INVALID',
  /** A candidate schema breaks the subject's compatibility level. */
  INCOMPATIBLE: 'SLUICE_ERR_SCHEMA_INCOMPATIBLE',
  /** No (live) version is registered under the subject. */
  SUBJECT_NOT_FOUND: 'SLUICE_ERR_SUBJECT_NOT_FOUND',
  /** The subject exists but the version does not. */
  VERSION_NOT_FOUND: 'SLUICE_ERR_SCHEMA_VERSION_NOT_FOUND',
  /** No schema has this id, or the schema is not registered under the subject. */
  SCHEMA_NOT_FOUND: 'SLUICE_ERR_SCHEMA_NOT_FOUND',
  /** A version is neither a positive 32-bit integer nor "latest" (or -1). */
  INVALID_VERSION: 'SLUICE_ERR_SCHEMA_INVALID_VERSION',
  /** A subject name is empty, too long or contains control characters. */
  INVALID_SUBJECT: 'SLUICE_ERR_SCHEMA_INVALID_SUBJECT',
  /** A compatibility level is not one of the seven Confluent levels. */
  INVALID_COMPATIBILITY: 'SLUICE_ERR_SCHEMA_INVALID_COMPATIBILITY',
  /** GET of a subject's compatibility level when only the global one is set. */
  SUBJECT_COMPATIBILITY_NOT_CONFIGURED: 'SLUICE_ERR_SUBJECT_COMPATIBILITY_NOT_CONFIGURED',
  /** A soft delete of a subject or version that is already soft-deleted. */
  ALREADY_SOFT_DELETED: 'SLUICE_ERR_SCHEMA_ALREADY_SOFT_DELETED',
  /** A permanent delete of a subject or version that was not soft-deleted first. */
  NOT_SOFT_DELETED: 'SLUICE_ERR_SCHEMA_NOT_SOFT_DELETED',
  /** A named limit (limits.ts) was hit; the message names the limit, its value and the size seen. */
  LIMIT_EXCEEDED: 'SLUICE_ERR_SCHEMA_LIMIT_EXCEEDED',
  /** The `_schemas` store failed to append; nothing was applied, the call may be retried. */
  STORE: 'SLUICE_ERR_SCHEMA_STORE',
  /** A `_schemas` record could not be parsed while replaying the topic. */
  SCHEMAS_TOPIC_RECORD: 'SLUICE_ERR_SCHEMAS_TOPIC_RECORD',
} as const

export type SchemaErrorCodeValue = (typeof SchemaErrorCode)[keyof typeof SchemaErrorCode]

export interface SchemaErrorContext {
  subject?: string
  version?: number
  schemaId?: number
  /** Path of the offending value inside a record, for ENCODE errors (e.g. "points.3.fields.0.value"). */
  path?: string
}

export class SchemaError extends Error {
  readonly code: SchemaErrorCodeValue
  readonly retriable: boolean
  readonly context: SchemaErrorContext

  constructor(code: SchemaErrorCodeValue, message: string, context: SchemaErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SchemaError'
    this.code = code
    this.retriable = code === SchemaErrorCode.STORE
    this.context = context
  }
}

export function isSchemaError(error: unknown): error is SchemaError {
  return error instanceof SchemaError
}
