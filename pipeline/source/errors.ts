// Error codes of the Kafka source. A record the source cannot take is data (dead-lettered with its
// code and reason), not an exception; SourceError is thrown for bad options and for Kafka failures
// that stop a transaction (those are retried by re-reading from the committed offsets).

export const SourceErrorCode = {
  /** The record's format could not be recognised (unknown content-type or sluice-format, empty value). */
  UNRECOGNISED: 'SLUICE_ERR_SOURCE_UNRECOGNISED',
  /** Neither a sluice-database header nor a default database says where the points go. */
  NO_DATABASE: 'SLUICE_ERR_SOURCE_NO_DATABASE',
  /** A header setting (precision, JSON timestamp units, tenant, database) has an invalid value. */
  BAD_HEADER: 'SLUICE_ERR_SOURCE_BAD_HEADER',
  /** A Confluent-framed record could not be read: unknown schema id, not an IngestRecord/IngestBatch, bad bytes. */
  AVRO: 'SLUICE_ERR_SOURCE_AVRO',
  /** An UPDATE or DELETE command arrived from an outside producer; commands enter through the HTTP API. */
  COMMAND: 'SLUICE_ERR_SOURCE_COMMAND',
  /** The record parsed but held no point (empty text, or only comments). */
  NO_POINTS: 'SLUICE_ERR_SOURCE_NO_POINTS',
  /** Options failed validation at start. */
  INVALID_OPTION: 'SLUICE_ERR_SOURCE_INVALID_OPTION',
} as const

export type SourceErrorCodeValue = (typeof SourceErrorCode)[keyof typeof SourceErrorCode]

export class SourceError extends Error {
  readonly code: SourceErrorCodeValue
  readonly retriable: boolean

  constructor(code: SourceErrorCodeValue, message: string, retriable = false) {
    super(message)
    this.name = 'SourceError'
    this.code = code
    this.retriable = retriable
  }
}
