// The named maximums of the schemas layer, each with its reason. Hitting one gives a SchemaError
// with code SLUICE_ERR_SCHEMA_LIMIT_EXCEEDED (or INVALID_SCHEMA / INVALID_SUBJECT) naming it.

export interface SchemaLimits {
  maxSchemaBytes: number
  maxSubjectBytes: number
  maxSubjects: number
  maxSchemas: number
  maxVersionsPerSubject: number
  maxEncodedRecordBytes: number
  maxRequestBodyBytes: number
}

export const schemaLimits: Readonly<SchemaLimits> = Object.freeze({
  /**
   * Largest canonical schema text the registry accepts. A `_schemas` record carries the schema
   * JSON-escaped inside its value, and must stay under Kafka's default message.max.bytes (1 MiB).
   */
  maxSchemaBytes: 512 * 1024,
  /** Longest subject name, in UTF-8 bytes: a Kafka topic name (249) plus "-value" fits. */
  maxSubjectBytes: 255,
  /** Most subjects a registry holds (live or soft-deleted); keeps the in-memory index bounded. */
  maxSubjects: 10_000,
  /** Most distinct schemas (global ids) a registry holds. */
  maxSchemas: 100_000,
  /** Most versions under one subject, deleted ones included. */
  maxVersionsPerSubject: 10_000,
  /**
   * Largest record the Avro writer will build. An ingest record is one series' batch; anything near
   * this is a batching bug upstream, and Kafka would refuse it anyway (default limit 1 MiB).
   */
  maxEncodedRecordBytes: 16 * 1024 * 1024,
  /** Largest HTTP body the registry routes read: a schema of maxSchemaBytes, JSON-escaped, fits. */
  maxRequestBodyBytes: 2 * 1024 * 1024,
})
