// How the Kafka source tells what a sluice.ingest record holds: Sluice's own Avro IngestRecords
// (marked by the `sluice-format` header, already keyed and partitioned: skipped), or an outside
// producer's line protocol, Telegraf JSON or Confluent-framed Avro, declared by a `content-type`
// header or, without one, recognised from the first bytes. See docs/kafka-source.md.

/** Header names the source reads and writes (lower case; Kafka header names are case-sensitive, matched here without case). */
export const SourceHeader = {
  /** Set on every record Sluice itself writes to sluice.ingest; its value names the format. */
  FORMAT: 'sluice-format',
  /** Declares an outside record's format (MIME type). */
  CONTENT_TYPE: 'content-type',
  /** Tenant of an outside line protocol or JSON record (else the source's default tenant). */
  TENANT: 'sluice-tenant',
  /** Database of an outside line protocol or JSON record (else the source's default database). */
  DATABASE: 'sluice-database',
  /** Timestamp precision of a line protocol record: ns, us, ms, s, m, h (else the default, ns). */
  PRECISION: 'sluice-precision',
  /** json_timestamp_units of a JSON record: 1ns, 1us, 1ms, 1s (else the default, 1s). */
  JSON_TIMESTAMP_UNITS: 'sluice-json-timestamp-units',
} as const

/** The value of `sluice-format` on Sluice's own records: an Avro sluice.IngestRecord with Confluent framing. */
export const SLUICE_INGEST_RECORD_FORMAT = 'ingest-record'

/** Headers every record Sluice writes to sluice.ingest must carry, so that the source skips it and the processor takes it. */
export const sluiceRecordHeaders: Readonly<Record<string, string>> = Object.freeze({ [SourceHeader.FORMAT]: SLUICE_INGEST_RECORD_FORMAT })

export const RecordFormat = {
  /** Sluice's own record: nothing to do. */
  Sluice: 'sluice',
  LineProtocol: 'line-protocol',
  Json: 'json',
  Avro: 'avro',
  /** Not recognised: dead-lettered with the reason. */
  Unknown: 'unknown',
} as const

export type RecordFormatValue = (typeof RecordFormat)[keyof typeof RecordFormat]

export interface Recognition {
  format: RecordFormatValue
  /** How it was decided: "header sluice-format", "content-type text/plain", "sniffed: '{'"… (logged and dead-lettered). */
  how: string
}

/** Kafka headers as kafkajs hands them over: a value may be a Buffer, a string, an array of them, or undefined. */
export type RecordHeaders = Record<string, Buffer | string | Array<Buffer | string> | undefined> | undefined

/** The last value of a header, as text, matching the name without case; undefined if absent. */
export function headerText(headers: RecordHeaders, name: string): string | undefined {
  if (!headers) return undefined
  let found: Buffer | string | Array<Buffer | string> | undefined
  for (const key of Object.keys(headers)) if (key.toLowerCase() === name) found = headers[key]
  if (Array.isArray(found)) found = found[found.length - 1]
  return found === undefined ? undefined : found.toString()
}

const contentTypes: Readonly<Record<string, RecordFormatValue>> = Object.freeze({
  'text/plain': RecordFormat.LineProtocol,
  'application/x-influxdb-line-protocol': RecordFormat.LineProtocol,
  'application/x-influx-line-protocol': RecordFormat.LineProtocol,
  'text/x-influx-line-protocol': RecordFormat.LineProtocol,
  'application/json': RecordFormat.Json,
  'text/json': RecordFormat.Json,
  'application/avro': RecordFormat.Avro,
  'avro/binary': RecordFormat.Avro,
  'application/vnd.apache.avro+binary': RecordFormat.Avro,
  'application/vnd.confluent.avro': RecordFormat.Avro,
})

/** The formats a `content-type` header may name (its parameters, such as charset, are ignored). */
export const knownContentTypes: readonly string[] = Object.freeze(Object.keys(contentTypes))

const isJsonStart = (byte: number): boolean => byte === 0x7b || byte === 0x5b
const isSpace = (byte: number): boolean => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d

/**
 * Decides a record's format: the `sluice-format` header first (Sluice's own), then `content-type`,
 * then the bytes: magic byte 0 and a 4-byte schema id (Confluent Avro; no line protocol or JSON
 * text starts with a NUL), `{` or `[` after optional whitespace (JSON; a line protocol measurement
 * cannot start with either without being an error anyway), anything else line protocol.
 */
export function recogniseRecord(headers: RecordHeaders, value: Buffer | null): Recognition {
  const sluiceFormat = headerText(headers, SourceHeader.FORMAT)
  if (sluiceFormat !== undefined) {
    if (sluiceFormat === SLUICE_INGEST_RECORD_FORMAT) return { format: RecordFormat.Sluice, how: `header ${SourceHeader.FORMAT}: ${sluiceFormat}` }
    return { format: RecordFormat.Unknown, how: `unknown ${SourceHeader.FORMAT} "${sluiceFormat.slice(0, 64)}" (Sluice writes "${SLUICE_INGEST_RECORD_FORMAT}")` }
  }
  const contentType = headerText(headers, SourceHeader.CONTENT_TYPE)
  if (contentType !== undefined) {
    const mime = contentType.split(';')[0]!.trim().toLowerCase()
    const format = contentTypes[mime]
    if (format === undefined) return { format: RecordFormat.Unknown, how: `unsupported content-type "${contentType.slice(0, 64)}" (known: ${knownContentTypes.join(', ')})` }
    return { format, how: `content-type ${mime}` }
  }
  if (value === null || value.length === 0) return { format: RecordFormat.Unknown, how: 'empty value' }
  if (value[0] === 0) return { format: RecordFormat.Avro, how: 'sniffed: magic byte 0 (Confluent framing)' }
  let i = 0
  while (i < value.length && isSpace(value[i]!)) i++
  if (i < value.length && isJsonStart(value[i]!)) return { format: RecordFormat.Json, how: `sniffed: '${String.fromCharCode(value[i]!)}'` }
  return { format: RecordFormat.LineProtocol, how: 'sniffed: text' }
}
