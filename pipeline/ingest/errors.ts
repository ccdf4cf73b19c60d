// Error codes of the ingest stage. A rejected line is data (a LineError in the parse result), not an
// exception; IngestError is thrown only for whole-request failures, such as a body over its limit.

export const IngestErrorCode = {
  /** A line could not be parsed; the reason names the line, the column and the rule it broke. */
  LINE_PROTOCOL: 'SLUICE_ERR_LINE_PROTOCOL',
  /** A JSON body (Telegraf's json format) is not valid JSON, or a metric in it breaks a rule; the reason names the metric and field. */
  JSON: 'SLUICE_ERR_JSON',
  /** A configured limit was exceeded; the reason names the limit, its value and the size seen. */
  LIMIT_EXCEEDED: 'SLUICE_ERR_LIMIT_EXCEEDED',
  /** A field arrived with a type other than the one its measurement already has. */
  FIELD_TYPE_CONFLICT: 'SLUICE_ERR_FIELD_TYPE_CONFLICT',
  /** The precision parameter is not one of the known units. */
  INVALID_PRECISION: 'SLUICE_ERR_INVALID_PRECISION',
  /** A limits or options object failed validation at construction. */
  INVALID_OPTION: 'SLUICE_ERR_INVALID_OPTION',
} as const

export type IngestErrorCodeValue = (typeof IngestErrorCode)[keyof typeof IngestErrorCode]

export class IngestError extends Error {
  readonly code: IngestErrorCodeValue
  readonly retriable = false

  constructor(code: IngestErrorCodeValue, message: string) {
    super(message)
    this.name = 'IngestError'
    this.code = code
  }
}

/** One rejected line (or point) of a write. `line` and `column` are 1-based and point at the offending byte. */
export interface LineError {
  line: number
  column?: number
  reason: string
  code: IngestErrorCodeValue
  /** Byte range of the rejected entry in the body, for echoing it back ("unable to parse '…'"). */
  byteStart?: number
  byteEnd?: number
}
