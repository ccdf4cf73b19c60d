// pipeline/ingest: turns write bodies into validated, columnar batches of points. It owns the line
// protocol grammar and Telegraf's JSON format, their limits and field type stability; it does not talk HTTP, Kafka or storage.

export { parseLineProtocol, type ParseOptions } from './line-protocol.ts'
export { ParsedBatch, FieldType, fieldTypeNames, decodeStringValue, type FieldTypeValue, type FieldValue, type PointView } from './parsed-batch.ts'
export { checkFieldTypes, fieldTypeConflictMessage, FieldTypeRegistry, type FieldTypeLookup, type FieldTypeCheck, type NewField } from './field-types.ts'
export { lineProtocolLimits, defaultLineProtocolLimits, type LineProtocolLimits } from './limits.ts'
export { parsePrecision, Precision, nanosecondsPerUnit, type PrecisionUnit } from './precision.ts'
export { IngestError, IngestErrorCode, type IngestErrorCodeValue, type LineError } from './errors.ts'
export { murmur2, partitionForKey, partitionForSeriesKey } from './partitioner.ts'
export { toIngestRecords, DEFAULT_INGEST_SCHEMA_ID, DEFAULT_MAX_RECORD_BYTES, type IngestRecordOptions, type IngestRecordOut } from './to-records.ts'
export { parseTelegrafJson, parseJsonTimestampUnits, JsonNumbers, MAX_JSON_DEPTH, type JsonParseOptions, type JsonNumbersValue } from './json.ts'
