// schemas/: the Avro layer. It owns the .avsc schemas of every record Sluice writes to Kafka
// (sluice.ingest, sluice.changelog, sluice.state, sluice.cdc), their TypeScript types, the codec
// (exact 64-bit longs as bigint, a hand-written fast path for IngestBatch, Confluent wire framing),
// the evolution rules (evolution.md), and the schema registry: its core over the compacted `_schemas`
// topic and its Confluent-compatible HTTP routes.
// It does not own Kafka clients or topics (the `_schemas` store is an interface the caller
// implements), the HTTP server (routes are a fastify plugin), or what records mean to the
// processor and replicas (pipeline/, replicaset/).

export type {
  Tag, UnsignedValue, FieldValue, Field, Point, IngestBatch, IngestBatchV1, TagMatch, Predicate, IngestCommand,
  IngestCommandV1, IngestCommandV2, FieldExpression, FieldCodec,
  IngestRecord, SeriesUpsert, ChangelogEntry, Sample, DoorSlopes, CompressorState,
  CdcRow, CdcSource, CdcCommand, CdcEvent, CommandKindValue, CompressionAlgorithmValue, CdcOpValue,
} from './types.ts'
export { CommandKind, CompressionAlgorithm, CdcOp } from './types.ts'

export {
  ingestBatchType, ingestCommandType, ingestRecordType, changelogEntryType, compressorStateType, cdcEventType,
  ingestBatchV1Type, ingestCommandV1Type, ingestCommandV2Type, sluiceTypes, topicValueSubjects, type SluiceType,
} from './catalog.ts'
export { encode, decode, encodeFramed, frame, unframe, MAGIC_BYTE, FRAMING_HEADER_BYTES, type WriterSchema } from './codec.ts'
export {
  IngestBatchEncoder, encodeIngestBatch, decodeIngestBatch, encodeIngestRecord, decodeIngestRecord, FieldBranch,
  type IngestBatchHeader, type IngestBatchTrailer, type IngestBatchEncodeOptions, type FieldHead,
} from './ingest-batch-codec.ts'
export { scanIngestBatchPrefix, spliceChangelogUpsert, type IngestBatchPrefix } from './changelog-splice.ts'
export { decodeChangelogEntry, decodeChangelogColumns, ChangelogColumns } from './changelog-entry-codec.ts'
export { parseAvroSchema, sluiceAvroOptions, isUnsignedValue, INT64_MIN, INT64_MAX, UINT64_MAX, type AvroType } from './avro-types.ts'
export { canonicalSchemaText } from './canonical.ts'

export {
  CompatibilityLevel, DEFAULT_COMPATIBILITY, parseCompatibilityLevel, checkCompatibility,
  type CompatibilityLevelValue, type CompatibilityResult,
} from './compatibility.ts'
export {
  SchemaRegistry, MemorySchemaStore, parseVersion,
  type SchemaStore, type SchemaInput, type SubjectVersion, type RegisteredSchema, type VersionSpec, type SchemaRegistryOptions,
} from './registry.ts'
export { SCHEMAS_TOPIC, recordsFor, parseSchemaTopicRecord, type SchemaTopicRecord, type RegistryChange, type SchemaVersionRecord } from './schemas-topic.ts'
export { registryRoutes, toConfluentError, SCHEMA_REGISTRY_CONTENT_TYPE, CONFLUENT_ERRORS, type RegistryRoutesOptions, type ConfluentErrorBody } from './registry-routes.ts'

export { SchemaError, SchemaErrorCode, isSchemaError, type SchemaErrorCodeValue, type SchemaErrorContext } from './errors.ts'
export { schemaLimits, type SchemaLimits } from './limits.ts'
