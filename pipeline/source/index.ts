// pipeline/source: the Kafka source. It owns recognising what outside producers write to
// sluice.ingest (line protocol, Telegraf JSON, Confluent-framed Avro), re-keying it exactly once
// into Sluice's own IngestRecords by series key, and dead-lettering what cannot be parsed. It does
// not own the formats' grammars (pipeline/ingest), the schemas (schemas/), or applying points (the
// processor). See docs/kafka-source.md.

export {
  startKafkaSource, resolveKafkaSourceOptions, INGEST_TOPIC, DEAD_LETTER_TOPIC, SOURCE_GROUP_ID, SOURCE_TRANSACTIONAL_ID_PREFIX,
  DeadLetterHeader, OriginHeader, type KafkaSource, type KafkaSourceOptions, type KafkaSourceStats,
} from './kafka-source.ts'
export { transformRecord, batchToLineProtocol, type SchemaLookup, type SourceCatalog, type SourceRecord, type TransformResult, type TransformSettings, type Rejection } from './transform.ts'
export {
  recogniseRecord, headerText, RecordFormat, SourceHeader, SLUICE_INGEST_RECORD_FORMAT, sluiceRecordHeaders, knownContentTypes,
  type RecordFormatValue, type Recognition, type RecordHeaders,
} from './record-format.ts'
export { registerKafkaCodecs, zstdCodec } from './codecs.ts'
export { SourceError, SourceErrorCode, type SourceErrorCodeValue } from './errors.ts'
