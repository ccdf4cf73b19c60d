// Hand-written TypeScript mirrors of the .avsc files beside this one: the JS values avsc (and the fast
// IngestBatch codec) read and write. Every Avro long is a bigint (exact 64-bit); an Avro int is a
// number; an optional field (["null", T] with default null) is `T | null`. No schema has a union
// of two records, so avsc never "wraps" a union value (catalog.test.ts checks).
// catalog.test.ts checks sample values of each type against its schema.

/** sluice.Tag */
export interface Tag {
  key: string
  value: string
}

/** sluice.Uint64: an unsigned 64-bit integer, 0 ≤ unsigned ≤ 2^64 − 1 (fixed(8), big-endian on the wire). */
export interface UnsignedValue {
  unsigned: bigint
}

/**
 * The value union of sluice.Field, one JS type per Avro branch (in the union's order):
 * bigint → long (InfluxDB integer), number → double (float), UnsignedValue → sluice.Uint64 (unsigned),
 * string → string, boolean → boolean.
 */
export type FieldValue = bigint | number | UnsignedValue | string | boolean

/** sluice.Field: a field value, or in a command an assignment (field name or tag key, new value). */
export interface Field {
  name: string
  value: FieldValue
}

/** sluice.Point */
export interface Point {
  /** Nanoseconds since the Unix epoch. */
  timeNs: bigint
  fields: Field[]
}

/** sluice.IngestBatch (version 2): one series' points, the value of a sluice.ingest record. */
export interface IngestBatch {
  tenant: string
  database: string
  measurement: string
  /** Canonical series key (measurement, then tags sorted by key, InfluxDB escaping); the Kafka key. */
  seriesKey: string
  /** Sorted by key bytes. */
  tags: Tag[]
  points: Point[]
  /** "http", "mqtt", "kafka", or null. */
  source: string | null
  receivedAtNs: bigint
  /** Since version 2. */
  idempotencyKey: string | null
}

/** sluice.IngestBatch version 1 (history/ingest-batch.v1.avsc), for tests of schema evolution. */
export type IngestBatchV1 = Omit<IngestBatch, 'idempotencyKey'>

export const CommandKind = {
  UPDATE_FIELDS: 'UPDATE_FIELDS',
  UPDATE_TAGS: 'UPDATE_TAGS',
  DELETE: 'DELETE',
  /** Since IngestCommand version 2. */
  UPDATE_EXPRESSIONS: 'UPDATE_EXPRESSIONS',
  /** Since IngestCommand version 2. */
  SET_CODEC: 'SET_CODEC',
  /** Since IngestCommand version 3: the database's time to live (ttlNs) from this log position on. */
  SET_DATABASE_TTL: 'SET_DATABASE_TTL',
  /** Since IngestCommand version 3: every point of the database deleted, its field types forgotten. */
  DROP_DATABASE: 'DROP_DATABASE',
  /** Since IngestCommand version 3: every point of the measurement deleted, its field types forgotten. */
  DROP_TABLE: 'DROP_TABLE',
  /** Since IngestCommand version 3: the values of some fields (columns) of the measurement deleted, their types forgotten. */
  DROP_FIELDS: 'DROP_FIELDS',
} as const

/** sluice.CommandKind */
export type CommandKindValue = (typeof CommandKind)[keyof typeof CommandKind]

/** sluice.TagMatch: the tag `key` equals one of `values`. */
export interface TagMatch {
  key: string
  values: string[]
}

/** sluice.Predicate: all tag matches AND fromNs ≤ time < toNs AND the field predicate. */
export interface Predicate {
  tags: TagMatch[]
  /** Inclusive; null = unbounded. */
  fromNs: bigint | null
  /** Exclusive; null = unbounded. */
  toNs: bigint | null
  /** SQL boolean expression over fields; UPDATE_FIELDS only. */
  fieldPredicate: string | null
}

/** sluice.IngestCommand: an UPDATE, a DELETE, a codec change or a database/table change (TTL, DROP). */
export interface IngestCommand {
  commandId: string
  tenant: string
  database: string
  measurement: string
  kind: CommandKindValue
  where: Predicate
  /** Assignments of an UPDATE (for UPDATE_TAGS, string values only); empty for DELETE. */
  set: Field[]
  issuedAtNs: bigint
  /** Since version 2: the assignments of an UPDATE_EXPRESSIONS; null (or absent) otherwise. */
  expressions?: FieldExpression[] | null
  /** Since version 2: the fields of a SET_CODEC and their new codec; null (or absent) otherwise. */
  codecs?: FieldCodec[] | null
  /** Since version 3: a SET_DATABASE_TTL's time to live in ns; null (keep forever, or another kind) or absent. */
  ttlNs?: bigint | null
  /** Since version 3: the fields a DROP_FIELDS drops; null (or absent) otherwise. */
  columns?: string[] | null
}

/** sluice.FieldExpression: a field, the type its value is computed in, and the expression's canonical text. */
export interface FieldExpression {
  name: string
  type: string
  expression: string
}

/** sluice.FieldCodec: a field's lossy compression from the command's log position on (a canonical CODEC clause). */
export interface FieldCodec {
  field: string
  fieldType: string | null
  codec: string
}

/** sluice.IngestCommand version 1 (history/ingest-command.v1.avsc), for tests of schema evolution. */
export type IngestCommandV1 = Omit<IngestCommand, 'expressions' | 'codecs' | 'ttlNs' | 'columns'>

/** sluice.IngestCommand version 2 (history/ingest-command.v2.avsc), for tests of schema evolution. */
export type IngestCommandV2 = Omit<IngestCommand, 'ttlNs' | 'columns'>

/**
 * sluice.IngestRecord, the value schema of sluice.ingest: a wrapper record with two optional fields,
 * exactly one of them set (not a top-level union: Confluent clients register only named schemas,
 * and a new kind of record is then a new optional field).
 */
export type IngestRecord =
  | { batch: IngestBatch; command: null }
  | { batch: null; command: IngestCommand }

/** sluice.SeriesUpsert: one series' kept points, after lossy compression. */
export interface SeriesUpsert {
  tenant: string
  database: string
  measurement: string
  seriesKey: string
  tags: Tag[]
  points: Point[]
  /** Points of the ingest batch before lossy compression. */
  pointsIn: number
}

/** sluice.ChangelogEntry, the value of a sluice.changelog record: an upsert or an applied command (exactly one). */
export type ChangelogEntry = {
  /** The ingest partition and offset of the record that produced this entry. */
  ingestPartition: number
  ingestOffset: bigint
} & (
  | { upsert: SeriesUpsert; command: null }
  | { upsert: null; command: IngestCommand }
)

export const CompressionAlgorithm = {
  DEADBAND: 'DEADBAND',
  SWINGING_DOOR: 'SWINGING_DOOR',
  NONE: 'NONE',
} as const

/** sluice.CompressionAlgorithm */
export type CompressionAlgorithmValue = (typeof CompressionAlgorithm)[keyof typeof CompressionAlgorithm]

/** sluice.Sample */
export interface Sample {
  timeNs: bigint
  value: number
}

/** sluice.DoorSlopes: value units per nanosecond, from lastKept. */
export interface DoorSlopes {
  upper: number
  lower: number
}

/** sluice.CompressorState: the value of a sluice.state record (compacted, key = series + field). */
export interface CompressorState {
  tenant: string
  database: string
  seriesKey: string
  field: string
  algorithm: CompressionAlgorithmValue
  lastKept: Sample
  lastSeen: Sample | null
  slopes: DoorSlopes | null
  pointsIn: bigint
  pointsKept: bigint
  maxErrorSeen: number
}

/** sluice.CdcRow */
export interface CdcRow {
  timeNs: bigint
  tags: Tag[]
  fields: Field[]
}

/** sluice.CdcSource: Debezium's source block (docs/cdc.md). */
export interface CdcSource {
  /** The Sluice version that emitted the event. */
  version: string
  /** Always "sluice". */
  connector: string
  /** Timestamp of the changelog record, ms since the epoch. */
  ts_ms: bigint
  tenant: string
  /** Database. */
  db: string
  /** Measurement. */
  table: string
  /** Series key of an upsert; "command <commandId>" for a command. */
  seriesKey: string
  /** sluice.changelog partition and offset of the entry, and the event's position in it. */
  partition: number
  offset: bigint
  index: number
  /** issuedAtNs of a command; for an upsert the changelog record's timestamp, in ns. */
  tsNs: bigint
}

/** sluice.CdcCommand: an UPDATE or DELETE as the changelog carries it. */
export interface CdcCommand {
  commandId: string
  /** An IngestCommand kind, as a string. */
  kind: string
  where: Predicate
  set: Field[]
  /** The assignments of an UPDATE_EXPRESSIONS; null otherwise. */
  expressions: FieldExpression[] | null
  /** Since version 3: the fields a DROP_FIELDS deleted; null otherwise. */
  columns: string[] | null
}

export const CdcOp = {
  CREATE: 'c',
  UPDATE: 'u',
  DELETE: 'd',
} as const

/** The values of CdcEvent.op (an Avro string, as in Debezium). */
export type CdcOpValue = (typeof CdcOp)[keyof typeof CdcOp]

/** sluice.CdcEvent (version 2): the value of a sluice.cdc record. */
export interface CdcEvent {
  before: CdcRow | null
  after: CdcRow | null
  source: CdcSource
  op: CdcOpValue
  /** When Sluice emitted the event, ms since the epoch. */
  ts_ms: bigint
  /** The command of an op u or d event; null for an upsert. */
  command: CdcCommand | null
}
