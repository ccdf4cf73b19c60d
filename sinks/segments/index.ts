// sinks/segments: segment storage, the LSM of one changelog partition (memtable, LZ4 columnar
// segment files, compaction, manifest with the applied changelog offset). It owns the files in
// its directory and the meaning of upserts, UPDATE/DELETE commands and retention in storage.
// It does not own Kafka: the replica apply loop (replicaset/) reads sluice.changelog and calls
// apply(); Kafka is the write-ahead log. Format: docs/segment-format.md.

export {
  openPartitionStore, PartitionStore, segmentFileName,
  type ScanRequest, type SeriesQuery, type SeriesListing, type BlockAggregate, type AggregatePlan, type StoreStats,
} from './store.ts'
export { readManifest, MANIFEST_FILE, type Manifest } from './manifest.ts'
export { pinReadView, openReadView, estimateRead, pinnedSegments, storeNumber, READ_VIEWS_SUPPORTED, type ReadView, type PinnedView, type ViewRequest, type ReadEstimate } from './read-view.ts'
export { type StoreSettings, type StoreWarning, defaultStoreSettings } from './settings.ts'
export { FieldType, FIELD_TYPE_NAMES, lowerBound, type FieldTypeCode, type Column, type ColumnValues, type BlockStats } from './encoding/block.ts'
export { StorageError, StorageErrorCode, isStorageError, type StorageErrorCodeValue, type StorageErrorContext } from './errors.ts'
export { canonicalSeriesKey, seriesId } from './series.ts'
export { parseFieldPredicate, type Comparison } from './field-predicate.ts'
export {
  parseExpression, formatExpression, checkExpression, fieldsOf, ExpressionError, MAX_EXPRESSION_CHARS,
  type Expression, type ExpressionType, type BinaryOperator,
} from './field-expression.ts'
