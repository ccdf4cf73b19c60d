// pipeline/processor: the master. Exactly-once consume-transform-produce from sluice.ingest to
// sluice.changelog (plus compressor state to sluice.state), one Kafka transaction per chunk.

export { startProcessor, ProcessorTopic, MASTERS_GROUP_ID, MASTER_TRANSACTIONAL_ID_PREFIX, PoisonHeader, type Processor, type ProcessorOptions, type ProcessorStats } from './processor.ts'
export { processIngestRecord, CHANGELOG_ENTRY_FORMAT, type IngestInput, type OutputRecord, type RecordOutcome, type ChangelogSettings } from './changelog.ts'
export { noCompression, type SeriesCompression, type StateRecord } from './compression.ts'
export { LossyCompression, stateKey, measurementOfSeriesKey, type LossyCompressionOptions } from './lossy.ts'
export { inlineMaster, type MasterHandle, type CompressionFilter } from './master-status.ts'
export { startMasterThread, MasterThread, type MasterThreadOptions } from './master-thread.ts'
