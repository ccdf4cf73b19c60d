// Error codes of the transforms layer: lossy-compression settings (config file, CODEC clauses) and
// compressor state read back from sluice.state. Codes only; HTTP status mapping lives at the edge.

export const TransformErrorCode = {
  /** A compression setting (JSON config or CODEC clause) is malformed or out of range; the message names the offending part. */
  COMPRESSION_CONFIG: 'SLUICE_ERR_COMPRESSION_CONFIG',
  /** A CompressorState record cannot be resumed (e.g. lastSeen before lastKept, a non-finite value). */
  COMPRESSOR_STATE: 'SLUICE_ERR_COMPRESSOR_STATE',
} as const

export type TransformErrorCodeValue = (typeof TransformErrorCode)[keyof typeof TransformErrorCode]

export interface TransformErrorContext {
  /** Where in a config: "databases.plant.measurements.boiler.fields.temp", or the CODEC text. */
  path?: string
  /** 0-based character offset of the offending part in a CODEC clause. */
  offset?: number
  seriesKey?: string
  field?: string
}

export class TransformError extends Error {
  readonly code: TransformErrorCodeValue
  readonly retriable = false
  readonly context: TransformErrorContext

  constructor(code: TransformErrorCodeValue, message: string, context: TransformErrorContext = {}) {
    super(message)
    this.name = 'TransformError'
    this.code = code
    this.context = context
  }
}
