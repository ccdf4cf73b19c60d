// The pure half of the Kafka source: one raw sluice.ingest record in, Sluice's own IngestRecords
// (keyed by series key, partition chosen) and/or a rejection out. No Kafka here, so every rule is
// unit-tested; kafka-source.ts runs it inside the transaction.
//
// Every format ends in a ParsedBatch and toIngestRecords, so outside records get exactly the
// validation and encoding of HTTP writes. Avro batches are turned back into line protocol text for
// that: the line protocol parser is the one place that knows every name and value rule.

import {
  parseLineProtocol, parseTelegrafJson, parsePrecision, parseJsonTimestampUnits, toIngestRecords,
  IngestError, type ParsedBatch, type IngestRecordOut, type LineProtocolLimits, type PrecisionUnit, type JsonNumbersValue,
  type FieldTypeCheck, type LineError,
} from '../ingest/index.ts'
import {
  decode, unframe, ingestBatchType, ingestRecordType, isSchemaError,
  type AvroType, type IngestBatch, type IngestRecord, type FieldValue,
} from '../../schemas/index.ts'
import { recogniseRecord, headerText, RecordFormat, SourceHeader, type RecordFormatValue, type RecordHeaders } from './record-format.ts'
import { SourceErrorCode } from './errors.ts'

/** What the source knows about schema ids: the node's schema registry (SchemaRegistry has this method). */
export interface SchemaLookup {
  /** The schema registered under `id`; throws (SLUICE_ERR_SCHEMA_NOT_FOUND) if there is none. */
  schemaById(id: number): { schema: string; avro: AvroType }
}

/**
 * What the write path knows about databases and field types, the same for the HTTP API and the
 * source (pipeline/http's WriteCatalog has this shape). Errors with `retriable: true`, or without
 * a string `code`, are infrastructure trouble: the transaction is aborted and the chunk read again.
 * Any other error refuses the record (dead-lettered with its code and message).
 */
export interface SourceCatalog {
  /** Resolves if the database exists (or was created); throws if it may not be written. */
  requireDatabase(tenant: string, database: string): Promise<void>
  /** Field type stability across every writer: which points are accepted, and the conflicts. */
  checkFieldTypes(tenant: string, database: string, batch: ParsedBatch): Promise<FieldTypeCheck>
}

export interface TransformSettings {
  /** Partitions of sluice.ingest. */
  partitions: number
  /** Registry id of sluice.ingest-value, for the Confluent header of the records written. */
  ingestSchemaId: number
  defaultTenant: string
  /** Database for outside text records without a sluice-database header; none means such records are dead-lettered. */
  defaultDatabase: string | undefined
  precision: PrecisionUnit
  jsonTimestampUnits: string
  jsonNumbers: JsonNumbersValue
  limits: LineProtocolLimits
  /** Needed for Avro records; without it they are dead-lettered. */
  schemas: SchemaLookup | undefined
  /** Rejected lines listed in a dead-letter reason; the rest are counted. */
  maxReasonsPerRecord: number
  /** Database admission and field type checks; without it every database is accepted and types are not checked. */
  catalog?: SourceCatalog | undefined
}

export interface SourceRecord {
  topic: string
  partition: number
  offset: string
  /** Kafka record timestamp, ms since the epoch (as kafkajs gives it, a decimal string). */
  timestampMs: string
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeaders
}

export interface Rejection {
  code: string
  reason: string
  /** Some points of the record were written and others refused. */
  partial: boolean
}

export interface TransformResult {
  format: RecordFormatValue
  /** How the format was decided. */
  how: string
  /** Records for sluice.ingest, in body order per series. */
  records: IngestRecordOut[]
  points: number
  rejection: Rejection | undefined
}

const SOURCE_NAME = 'kafka'

function rejected(format: RecordFormatValue, how: string, code: string, reason: string): TransformResult {
  return { format, how, records: [], points: 0, rejection: { code, reason, partial: false } }
}

/**
 * Turns one raw record into IngestRecords and/or a rejection. Never throws for bad data; rejects
 * only when the catalog has infrastructure trouble (see SourceCatalog).
 */
export async function transformRecord(record: SourceRecord, settings: TransformSettings, receivedAtNs: bigint): Promise<TransformResult> {
  const { format, how } = recogniseRecord(record.headers, record.value)
  const value = record.value ?? Buffer.alloc(0)
  switch (format) {
    case RecordFormat.Sluice:
      return { format, how, records: [], points: 0, rejection: undefined }
    case RecordFormat.Unknown:
      return rejected(format, how, SourceErrorCode.UNRECOGNISED, `record format not recognised: ${how}`)
    case RecordFormat.Avro:
      return transformAvro(record, value, settings, receivedAtNs, how)
    case RecordFormat.LineProtocol:
    case RecordFormat.Json:
      return transformText(record, value, format, settings, receivedAtNs, how)
  }
}

function idempotencyKeyOf(record: SourceRecord): string {
  return `kafka:${record.topic}:${record.partition}:${record.offset}`
}

/** Server time for points without a timestamp: the Kafka record's timestamp, so a re-read record gives the same points. */
function recordTimeNs(record: SourceRecord, fallbackNs: bigint): bigint {
  const ms = /^\d{1,15}$/.test(record.timestampMs) ? BigInt(record.timestampMs) : -1n
  return ms > 0n ? ms * 1_000_000n : fallbackNs
}

async function transformText(record: SourceRecord, value: Buffer, format: RecordFormatValue, settings: TransformSettings, receivedAtNs: bigint, how: string): Promise<TransformResult> {
  const tenant = headerText(record.headers, SourceHeader.TENANT) ?? settings.defaultTenant
  const database = headerText(record.headers, SourceHeader.DATABASE) ?? settings.defaultDatabase
  if (database === undefined || database.length === 0) {
    return rejected(format, how, SourceErrorCode.NO_DATABASE, `no database: set the ${SourceHeader.DATABASE} header or the source's default database`)
  }
  if (tenant.length === 0) return rejected(format, how, SourceErrorCode.BAD_HEADER, `empty ${SourceHeader.TENANT} header`)
  let batch: ParsedBatch
  try {
    batch = parseText(record, value, format, settings)
  } catch (error) {
    if (!(error instanceof IngestError)) throw error
    return rejected(format, how, error.code, error.message)
  }
  try {
    return await finishBatch(batch, format, how, settings, { tenant, database, receivedAtNs, idempotencyKey: idempotencyKeyOf(record) })
  } finally {
    batch.release()
  }
}

function parseText(record: SourceRecord, value: Buffer, format: RecordFormatValue, settings: TransformSettings): ParsedBatch {
  const nowNs = recordTimeNs(record, BigInt(Date.now()) * 1_000_000n)
  if (format === RecordFormat.Json) {
    const unitsHeader = headerText(record.headers, SourceHeader.JSON_TIMESTAMP_UNITS)
    const timestampUnits = unitsHeader ?? settings.jsonTimestampUnits
    if (unitsHeader !== undefined) parseJsonTimestampUnits(unitsHeader) // throws a clear INVALID_OPTION
    return parseTelegrafJson(value, { nowNs, timestampUnits, numbers: settings.jsonNumbers, limits: settings.limits })
  }
  const precisionHeader = headerText(record.headers, SourceHeader.PRECISION)
  const precision = precisionHeader === undefined ? settings.precision : parsePrecision(precisionHeader)
  return parseLineProtocol(value, { nowNs, precision, limits: settings.limits })
}

interface BatchContext { tenant: string; database: string; receivedAtNs: bigint; idempotencyKey: string | null }

/** The catalog's verdict on a parsed batch: the accepted mask and type conflicts, or a refusal of the whole record. */
async function admit(batch: ParsedBatch, settings: TransformSettings, context: BatchContext): Promise<FieldTypeCheck | { code: string; reason: string } | undefined> {
  const catalog = settings.catalog
  if (!catalog || batch.pointCount === 0) return undefined
  try {
    await catalog.requireDatabase(context.tenant, context.database)
    return await catalog.checkFieldTypes(context.tenant, context.database, batch)
  } catch (error) {
    const { code, retriable } = error as { code?: unknown; retriable?: unknown }
    if (retriable === true || typeof code !== 'string') throw error
    return { code, reason: (error as Error).message }
  }
}

/** toIngestRecords for the accepted points, and a rejection naming the refused lines or metrics. */
async function finishBatch(batch: ParsedBatch, format: RecordFormatValue, how: string, settings: TransformSettings, context: BatchContext): Promise<TransformResult> {
  const verdict = await admit(batch, settings, context)
  if (verdict !== undefined && !('accepted' in verdict)) {
    return { format, how, records: [], points: 0, rejection: { code: verdict.code, reason: verdict.reason, partial: false } }
  }
  const acceptedCount = verdict?.acceptedCount ?? batch.pointCount
  const errors: LineError[] = verdict && verdict.errors.length > 0 ? [...batch.errors, ...verdict.errors].sort((a, b) => a.line - b.line) : [...batch.errors]
  const rejectedCount = batch.rejectedLineCount + (verdict?.errors.length ?? 0)
  const records = acceptedCount === 0 ? [] : toIngestRecords(batch, {
    tenant: context.tenant,
    database: context.database,
    partitions: settings.partitions,
    source: SOURCE_NAME,
    receivedAtNs: context.receivedAtNs,
    idempotencyKey: context.idempotencyKey,
    schemaId: settings.ingestSchemaId,
    ...(verdict ? { accepted: verdict.accepted } : {}),
  })
  let rejection: Rejection | undefined
  if (rejectedCount > 0) {
    const unit = format === RecordFormat.Json ? 'metric' : 'line'
    const listed = errors.slice(0, settings.maxReasonsPerRecord).map(error => `${unit} ${error.line}: ${error.reason}`)
    const more = rejectedCount - listed.length
    rejection = {
      code: errors[0]?.code ?? SourceErrorCode.UNRECOGNISED,
      reason: `${rejectedCount} ${unit}${rejectedCount === 1 ? '' : 's'} rejected (${acceptedCount} points written): ${listed.join('; ')}${more > 0 ? `; and ${more} more` : ''}`,
      partial: acceptedCount > 0,
    }
  } else if (acceptedCount === 0) {
    rejection = { code: SourceErrorCode.NO_POINTS, reason: 'the record holds no point', partial: false }
  }
  return { format, how, records, points: acceptedCount, rejection }
}

// ---- Avro ----

async function transformAvro(record: SourceRecord, value: Buffer, settings: TransformSettings, receivedAtNs: bigint, how: string): Promise<TransformResult> {
  const format = RecordFormat.Avro
  if (!settings.schemas) return rejected(format, how, SourceErrorCode.AVRO, 'Avro record, but the source has no schema registry to look its schema id up in')
  let decoded: IngestRecord
  try {
    decoded = decodeAvro(value, settings.schemas)
  } catch (error) {
    if (!isSchemaError(error)) throw error
    return rejected(format, how, SourceErrorCode.AVRO, `Avro record not readable as sluice.IngestRecord or sluice.IngestBatch: ${error.message}`)
  }
  if (decoded.batch === null) {
    return rejected(format, how, SourceErrorCode.COMMAND, `an ${decoded.command.kind} command from a Kafka producer is not applied: commands enter through the HTTP API`)
  }
  const batch = decoded.batch
  if (batch.tenant.length === 0 || batch.database.length === 0) return rejected(format, how, SourceErrorCode.AVRO, 'IngestBatch has an empty tenant or database')
  const text = batchToLineProtocol(batch)
  if (typeof text !== 'string') return rejected(format, how, SourceErrorCode.AVRO, text.reason)
  let parsed: ParsedBatch
  try {
    parsed = parseLineProtocol(Buffer.from(text, 'utf8'), { nowNs: receivedAtNs, limits: settings.limits })
  } catch (error) {
    if (!(error instanceof IngestError)) throw error
    return rejected(format, how, error.code, error.message)
  }
  try {
    return await finishBatch(parsed, format, how, settings, {
      tenant: batch.tenant, database: batch.database, receivedAtNs, idempotencyKey: batch.idempotencyKey ?? idempotencyKeyOf(record),
    })
  } finally {
    parsed.release()
  }
}

/** Reads a Confluent-framed record written with sluice.IngestRecord, sluice.IngestBatch, or a registered schema either can read. */
function decodeAvro(value: Buffer, schemas: SchemaLookup): IngestRecord {
  const { schemaId, payload } = unframe(value)
  const writer = schemas.schemaById(schemaId)
  if (writerRecordName(writer.schema) === ingestBatchType.name) {
    return { batch: decode(ingestBatchType, payload, writer) as IngestBatch, command: null }
  }
  return decode(ingestRecordType, payload, writer)
}

function writerRecordName(schema: string): string | undefined {
  try {
    const parsed = JSON.parse(schema) as { name?: unknown; namespace?: unknown }
    if (typeof parsed.name !== 'string') return undefined
    return parsed.name.includes('.') || typeof parsed.namespace !== 'string' ? parsed.name : `${parsed.namespace}.${parsed.name}`
  } catch {
    return undefined
  }
}

const escapeMeasurement = (text: string): string => text.replace(/[, ]/g, '\\$&')
const escapeTag = (text: string): string => text.replace(/[,= ]/g, '\\$&')
const escapeString = (text: string): string => text.replace(/[\\"]/g, '\\$&')

/** An IngestBatch as line protocol text (one line per point), or the reason it cannot be one. */
export function batchToLineProtocol(batch: IngestBatch): string | { reason: string } {
  let key = escapeMeasurement(batch.measurement)
  for (const tag of batch.tags) key += `,${escapeTag(tag.key)}=${escapeTag(tag.value)}`
  const lines: string[] = []
  for (const point of batch.points) {
    if (point.fields.length === 0) return { reason: `point at ${point.timeNs} has no field` }
    const fields: string[] = []
    for (const field of point.fields) {
      const value = fieldText(field.value)
      if (typeof value !== 'string') return { reason: `field "${field.name}": ${value.reason}` }
      fields.push(`${escapeTag(field.name)}=${value}`)
    }
    lines.push(`${key} ${fields.join(',')} ${point.timeNs}`)
  }
  return lines.join('\n')
}

function fieldText(value: FieldValue): string | { reason: string } {
  switch (typeof value) {
    case 'bigint': return `${value}i`
    case 'number': return Number.isFinite(value) ? String(value) : { reason: `${value} is not a valid field value (InfluxDB refuses NaN and infinities)` }
    case 'string': return `"${escapeString(value)}"`
    case 'boolean': return value ? 'true' : 'false'
    default: return `${value.unsigned}u`
  }
}
