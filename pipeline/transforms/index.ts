// pipeline/transforms: the pure, per-point transforms the master applies before writing the
// changelog; for now lossy compression (deadband and swinging door trending), its settings (config
// file and CODEC clauses), its state as the Avro CompressorState record, and its report.
// It owns no Kafka, no I/O and no clock: the processor (pipeline/processor) feeds it points in log
// order, keeps one filter per (series, field), and writes the decisions and states it returns.
// Semantics: docs/lossy-compression.md.

export { Decision, keepsCurrent, emitsHeld, type DecisionFlag } from './decision.ts'
export { KeepAllFilter, type LossyFilter, type FilterCounters, type StateIdentity } from './filter.ts'
export { DeadbandFilter } from './deadband.ts'
export { SwingingDoorFilter } from './swinging-door.ts'
export { createFilter } from './create-filter.ts'
export { isCompressible, numberOf, fieldValueLike } from './field-values.ts'
export {
  validateSettings,
  type CompressionSettings, type DeadbandSettings, type SdtSettings, type OffSettings, type CompressionAlgorithmName,
} from './settings.ts'
export { parseCodecClause, parseCodecSpec, parseDuration, formatCodec, formatDuration } from './codec-clause.ts'
export {
  resolveCompression, withCompression, parseCompressionConfig, parseCompressionSettings, COMPRESSION_OFF, EMPTY_COMPRESSION_CONFIG,
  type CompressionConfig, type DatabaseCompression, type MeasurementCompression,
} from './config.ts'
export { CompressionReport, type CompressionReportRow } from './report.ts'
export { MAX_INTERVAL_LIMIT_NS, ERROR_HULL_MAX_VERTICES } from './limits.ts'
export { TransformError, TransformErrorCode, type TransformErrorCodeValue, type TransformErrorContext } from './errors.ts'
