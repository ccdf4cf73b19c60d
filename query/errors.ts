// Errors of the query layer: one class with a literal-union code, so the HTTP edge maps codes to
// statuses without reading messages. Every message names the part of the statement refused.

export const QueryErrorCode = {
  /** The SQL does not parse. */
  SYNTAX: 'SLUICE_ERR_QUERY_SYNTAX',
  /** Valid SQL that Sluice does not execute (a clause, function or form; docs/query.md lists them). */
  UNSUPPORTED: 'SLUICE_ERR_QUERY_UNSUPPORTED',
  /** The table (measurement) has no visible series in the database. */
  UNKNOWN_TABLE: 'SLUICE_ERR_QUERY_UNKNOWN_TABLE',
  /** A column that is neither time, a tag nor a field of the table. */
  UNKNOWN_COLUMN: 'SLUICE_ERR_QUERY_UNKNOWN_COLUMN',
  /** A function applied to a column of a type it does not take (sum of a string). */
  TYPE_MISMATCH: 'SLUICE_ERR_QUERY_TYPE_MISMATCH',
  /** A constant Sluice cannot read (a malformed timestamp or interval, a negative LIMIT). */
  BAD_VALUE: 'SLUICE_ERR_QUERY_BAD_VALUE',
  /** The result would pass a named limit (query/limits.ts). */
  LIMIT_EXCEEDED: 'SLUICE_ERR_QUERY_LIMIT_EXCEEDED',
  /** A scan worker thread died during the query (query/parallel): nothing was answered; retrying may succeed. */
  WORKER_FAILED: 'SLUICE_ERR_QUERY_WORKER_FAILED',
} as const

export type QueryErrorCodeValue = (typeof QueryErrorCode)[keyof typeof QueryErrorCode]

export class QueryError extends Error {
  readonly retriable = false

  /** Where a syntax error is: 1-based line and column of the statement. */
  readonly line: number | undefined
  readonly column: number | undefined

  constructor(readonly code: QueryErrorCodeValue, message: string, position?: { line: number; column: number }) {
    super(message)
    this.name = 'QueryError'
    this.line = position?.line
    this.column = position?.column
  }
}

export function isQueryError(error: unknown): error is QueryError {
  return error instanceof QueryError
}
