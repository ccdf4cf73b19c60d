// The CPU-heavy half of a line protocol write, as one function of bytes in and bytes out, so that it
// can run on a parse worker (parse-pool.ts): parse, encode every point into sluice.ingest records,
// and summarise what the main thread still has to check (field type claims, tag keys, line errors).
//
// The records are encoded as if every point passes the field type check. The main thread checks the
// claims against the catalog; when none conflicts that is exact (checkFieldTypes accepts every point
// of a batch whose (measurement, field) pairs each have one type that matches the catalog), and when
// one does, the main thread parses the body again and checks point by point (write.ts).
//
// Records travel as one packed byte array, so a result is a handful of transferable buffers:
//   bytes       record i's key, then its value, back to back, records in order
//   ends        2 words per record: end of the key, end of the value (offsets into bytes)
//   partitions  1 word per record
// or, when the request asks for sections (the sink takes them: kafka-writer.ts, sectionFormat), as
// finished Kafka record sections, one or more per partition, compressed here (lib/kafka/record-batch.ts):
//   payloads    section i's payload, sections back to back
//   meta        4 words per section: partition, record count, end of its payload, its records' key and value bytes

import { IngestError, parseLineProtocol, toIngestRecords, type IngestErrorCodeValue, type LineError, type LineProtocolLimits, type ParsedBatch, type PrecisionUnit, type IngestRecordOut } from '../ingest/index.ts'
import { gunzipSync } from 'node:zlib'
import type { HttpErrorCodeValue, ReportedLineError } from './errors.ts'
import { gunzipFailure } from './body.ts'
import type { PartitionSection, RecordSectionFormat } from './kafka-writer.ts'
import { encodeRecordSection, type RecordBatchCodec, type RecordHeader } from '../../lib/kafka/record-batch.ts'

export interface EncodeRequest {
  /** The body in one buffer, or its chunks as received (body.ts's ReceivedBody), joined here; no chunks for an empty body. */
  body: Uint8Array | readonly Uint8Array[]
  precision: PrecisionUnit
  receivedAtNs: bigint
  limits: LineProtocolLimits
  maxErrorsReported: number
  tenant: string
  database: string
  partitions: number
  schemaId: number
  idempotencyKey: string | null
  /** Encode the good points of a body with unparsable lines (the dialects that write around them). */
  encodeAroundErrors: boolean
  /** Set when `body` is gzip-compressed: decompress it here, to at most maxBodyBytes. */
  gzip?: { maxBodyBytes: number }
  /** Encode record sections in this format (the sink's sectionFormat, headers merged with the write's) instead of records. */
  sections?: RecordSectionFormat
}

/** Distinct (measurement, field, type) triples in order of first appearance in the body. */
export interface FieldClaims {
  measurements: string[]
  fields: string[]
  types: Uint8Array
}

/** Distinct (measurement, tag key) pairs of the body. */
export interface TagKeyClaims {
  measurements: string[]
  keys: string[]
}

export interface PackedRecords {
  bytes: Uint8Array
  ends: Uint32Array
  partitions: Uint32Array
}

export interface PackedSections {
  codec: RecordBatchCodec
  payloads: Uint8Array
  meta: Uint32Array
}

export interface EncodedBody {
  kind: 'encoded'
  /** The request's body as it came (one buffer or its chunks), handed back (a worker transfers it back) for the point-by-point path. */
  body: Uint8Array | readonly Uint8Array[]
  pointCount: number
  rejectedLineCount: number
  parseErrors: ReportedLineError[]
  fieldClaims: FieldClaims
  tagKeys: TagKeyClaims
  /** Null when nothing was encoded (syntax errors in a dialect that then writes nothing) or sections were asked for. */
  records: PackedRecords | null
  /** The records as sections when the request asked for them (and something was encoded), else null. */
  sections: PackedSections | null
}

/** The parser refused the body as a whole (a limit); `code` is the IngestError's. */
export interface RefusedBody {
  kind: 'refused'
  body: Uint8Array | readonly Uint8Array[]
  code: IngestErrorCodeValue
  message: string
}

/** A gzip body that does not decompress (BAD_ENCODING) or not within maxBodyBytes (BODY_TOO_LARGE). */
export interface UndecodableBody {
  kind: 'undecodable'
  body: Uint8Array | readonly Uint8Array[]
  code: HttpErrorCodeValue
  message: string
}

export type EncodeResult = EncodedBody | RefusedBody | UndecodableBody

const MAX_LINE_ECHO_BYTES = 256
/** Smallest output chunk of the worker's gunzip (zlib's default is 16 KiB): see gunzipChunkBytes. */
const GUNZIP_CHUNK_BYTES = 64 * 1024

/** Line errors as answered to clients: with the line's text, cut at 256 bytes. */
export function reportLines(body: Buffer, errors: readonly LineError[]): ReportedLineError[] {
  return errors.map(error => {
    const reported: ReportedLineError = { line: error.line, reason: error.reason, code: error.code }
    if (error.column !== undefined) reported.column = error.column
    if (error.byteStart !== undefined && error.byteEnd !== undefined) {
      reported.text = body.toString('utf8', error.byteStart, Math.min(error.byteEnd, error.byteStart + MAX_LINE_ECHO_BYTES))
    }
    return reported
  })
}

/**
 * The gunzip output chunk for a body: the size its gzip trailer announces (ISIZE, the last 4 bytes)
 * plus one byte, so that a usual body inflates in one step into one buffer instead of chunks that
 * are then concatenated. The trailer is only a hint (the size modulo 2^32, of the last member only, or
 * made up): a body that inflates to more takes more chunks, within maxBodyBytes, and the same bytes.
 */
export function gunzipChunkBytes(gzipped: Uint8Array, maxBodyBytes: number): number {
  if (gzipped.length < 4) return GUNZIP_CHUNK_BYTES
  const at = gzipped.length - 4
  const announced = (gzipped[at]! | (gzipped[at + 1]! << 8) | (gzipped[at + 2]! << 16) | (gzipped[at + 3]! << 24)) >>> 0
  return Math.max(GUNZIP_CHUNK_BYTES, Math.min(announced, maxBodyBytes) + 1)
}

/**
 * Bodies up to this size are joined in one buffer per thread, reused from body to body: a fresh
 * buffer per body is memory to allocate, fault in and collect every time (TSBS bodies of 5,000 lines
 * are 1.7 MB). Larger bodies, up to maxBodyBytes, get a buffer of their own, so a rare large body
 * does not hold its size in every worker.
 */
export const MAX_JOIN_SCRATCH_BYTES = 4 * 1024 * 1024

let joinScratch = Buffer.allocUnsafeSlow(0)

/**
 * The chunks in one buffer, valid until the next call on this thread: everything encodeBody returns
 * is copied out of it (records, sections, line texts), and the body handed back is the chunks.
 */
function joinInScratch(chunks: readonly Uint8Array[]): Buffer {
  if (chunks.length === 1) return Buffer.from(chunks[0]!.buffer, chunks[0]!.byteOffset, chunks[0]!.byteLength)
  let bytes = 0
  for (const chunk of chunks) bytes += chunk.byteLength
  if (bytes > MAX_JOIN_SCRATCH_BYTES) return Buffer.concat(chunks, bytes)
  if (joinScratch.length < bytes) joinScratch = Buffer.allocUnsafeSlow(Math.min(MAX_JOIN_SCRATCH_BYTES, Math.max(bytes, 2 * joinScratch.length)))
  let at = 0
  for (const chunk of chunks) {
    joinScratch.set(chunk, at)
    at += chunk.byteLength
  }
  return joinScratch.subarray(0, bytes)
}

/** A body given as one buffer or as its chunks (EncodeRequest.body), as chunks. */
export function bodyChunksOf(body: EncodeRequest['body']): readonly Uint8Array[] {
  return body instanceof Uint8Array ? [body] : body
}

export function encodeBody(request: EncodeRequest): EncodeResult {
  const received = joinInScratch(bodyChunksOf(request.body))
  let body = received
  if (request.gzip !== undefined && received.length > 0) {
    try {
      body = gunzipSync(received, { maxOutputLength: request.gzip.maxBodyBytes, chunkSize: gunzipChunkBytes(received, request.gzip.maxBodyBytes) })
    } catch (error) {
      const failure = gunzipFailure(error as Error, request.gzip.maxBodyBytes)
      return { kind: 'undecodable', body: request.body, code: failure.code, message: failure.message }
    }
  }
  let batch: ParsedBatch
  try {
    batch = parseLineProtocol(body, { nowNs: request.receivedAtNs, precision: request.precision, limits: request.limits, maxErrorsReported: request.maxErrorsReported })
  } catch (error) {
    if (!(error instanceof IngestError)) throw error
    return { kind: 'refused', body: request.body, code: error.code, message: error.message }
  }
  try {
    const encode = batch.rejectedLineCount === 0 || request.encodeAroundErrors
    const encoded = encode
      ? toIngestRecords(batch, {
        tenant: request.tenant, database: request.database, partitions: request.partitions, source: 'http',
        receivedAtNs: request.receivedAtNs, idempotencyKey: request.idempotencyKey, schemaId: request.schemaId,
      })
      : null
    return {
      kind: 'encoded',
      body: request.body,
      pointCount: batch.pointCount,
      rejectedLineCount: batch.rejectedLineCount,
      parseErrors: reportLines(body, batch.errors),
      fieldClaims: fieldClaimsOf(batch),
      tagKeys: tagKeysOf(batch),
      records: encoded !== null && request.sections === undefined ? packRecords(encoded) : null,
      sections: encoded !== null && request.sections !== undefined ? packSections(encodeSections(encoded, request.sections), request.sections.codec) : null,
    }
  } finally {
    batch.release()
  }
}

/** The buffers of a result that a worker can transfer instead of copying. */
export function transferablesOf(result: EncodeResult): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>()
  const add = (array: Uint8Array | Uint32Array): void => {
    // Only arrays that own their whole buffer: transferring a pooled Buffer's would detach its neighbours.
    if (array.buffer instanceof ArrayBuffer && array.byteOffset === 0 && array.byteLength === array.buffer.byteLength) buffers.add(array.buffer)
  }
  for (const chunk of bodyChunksOf(result.body)) add(chunk)
  if (result.kind === 'encoded') {
    add(result.fieldClaims.types)
    if (result.records) {
      add(result.records.bytes)
      add(result.records.ends)
      add(result.records.partitions)
    }
    if (result.sections) {
      add(result.sections.payloads)
      add(result.sections.meta)
    }
  }
  return [...buffers]
}

/** Up to this many (measurement, field key) pairs, fieldClaimsOf marks them in an array (64 KiB), past it in a Set. */
const MAX_DENSE_CLAIM_PAIRS = 65_536

function fieldClaimsOf(batch: ParsedBatch): FieldClaims {
  const measurements: string[] = []
  const fields: string[] = []
  const types: number[] = []
  claimFields(batch, measurements, fields, types)
  return { measurements, fields, types: Uint8Array.from(types) }
}

/**
 * fieldClaimsOf's loop, a function of its own: Node 20's V8 optimized fieldClaimsOf on-stack within
 * the loop and entered that code again on later bodies, to deoptimize it after the loop, 14 times
 * in a bench:e2e day (docs/benchmarks.md, deoptimization loops).
 */
function claimFields(batch: ParsedBatch, measurements: string[], fields: string[], types: number[]): void {
  const keyCount = batch.fieldKeys.length
  const pairCount = batch.measurements.length * keyCount
  // Per (measurement id, field key id), a bit per type (FieldType, 1-5) seen so far: every field slot of the body is looked up.
  const dense = pairCount <= MAX_DENSE_CLAIM_PAIRS ? new Uint8Array(pairCount) : null
  const sparse = new Set<number>()
  for (let point = 0; point < batch.pointCount; point++) {
    const measurementId = batch.seriesMeasurement[batch.pointSeries[point]!]!
    for (let slot = batch.pointFieldStart[point]!; slot < batch.pointFieldStart[point + 1]!; slot++) {
      const type = batch.fieldType[slot]!
      const pair = measurementId * keyCount + batch.fieldKey[slot]!
      if (dense !== null) {
        if ((dense[pair]! & (1 << type)) !== 0) continue
        dense[pair] = dense[pair]! | (1 << type)
      } else {
        if (sparse.has(pair * 8 + type)) continue
        sparse.add(pair * 8 + type)
      }
      measurements.push(batch.measurements[measurementId]!)
      fields.push(batch.fieldKeys[batch.fieldKey[slot]!]!)
      types.push(type)
    }
  }
}

function tagKeysOf(batch: ParsedBatch): TagKeyClaims {
  const measurements: string[] = []
  const keys: string[] = []
  const seen = new Set<string>()
  for (let series = 0; series < batch.seriesCount; series++) {
    const measurementId = batch.seriesMeasurement[series]!
    for (let t = batch.seriesTagStart[series]!; t < batch.seriesTagStart[series + 1]!; t++) {
      const key = batch.tagKeys[t]!
      const pair = `${measurementId}\0${key}`
      if (seen.has(pair)) continue
      seen.add(pair)
      measurements.push(batch.measurements[measurementId]!)
      keys.push(key)
    }
  }
  return { measurements, keys }
}

export function packRecords(records: readonly IngestRecordOut[]): PackedRecords {
  let total = 0
  for (const record of records) total += record.key.length + record.value.length
  const bytes = new Uint8Array(total)
  const ends = new Uint32Array(records.length * 2)
  const partitions = new Uint32Array(records.length)
  let offset = 0
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    bytes.set(record.key, offset)
    offset += record.key.length
    ends[2 * i] = offset
    bytes.set(record.value, offset)
    offset += record.value.length
    ends[2 * i + 1] = offset
    partitions[i] = record.partition
  }
  return { bytes, ends, partitions }
}

/** The records of a packed result, as views into its one byte array (no copy). */
export function unpackRecords(packed: PackedRecords): IngestRecordOut[] {
  const records: IngestRecordOut[] = new Array(packed.partitions.length)
  const base = packed.bytes.byteOffset
  const buffer = packed.bytes.buffer
  let start = 0
  for (let i = 0; i < packed.partitions.length; i++) {
    const keyEnd = packed.ends[2 * i]!
    const valueEnd = packed.ends[2 * i + 1]!
    records[i] = {
      partition: packed.partitions[i]!,
      key: Buffer.from(buffer, base + start, keyEnd - start),
      value: Buffer.from(buffer, base + keyEnd, valueEnd - keyEnd),
    }
    start = valueEnd
  }
  return records
}


/**
 * The records as sections: per partition, in order, runs of at most maxSectionRecordBytes key and
 * value bytes (a single larger record alone), each encoded and compressed as the format says.
 */
export function encodeSections(records: readonly IngestRecordOut[], format: RecordSectionFormat): PartitionSection[] {
  const headers: RecordHeader[] = Object.entries(format.headers).map(([key, value]) => ({ key: Buffer.from(key), value: Buffer.from(value) }))
  const byPartition = new Map<number, IngestRecordOut[][]>()
  const runBytes = new Map<number, number>()
  for (const record of records) {
    const bytes = record.key.length + record.value.length
    let runs = byPartition.get(record.partition)
    if (runs === undefined) byPartition.set(record.partition, runs = [[]])
    const used = runBytes.get(record.partition) ?? 0
    if (used > 0 && used + bytes > format.maxSectionRecordBytes) {
      runs.push([])
      runBytes.set(record.partition, 0)
    }
    runs.at(-1)!.push(record)
    runBytes.set(record.partition, (runBytes.get(record.partition) ?? 0) + bytes)
  }
  const sections: PartitionSection[] = []
  for (const [partition, runs] of byPartition) {
    for (const run of runs) {
      let recordBytes = 0
      for (const record of run) recordBytes += record.key.length + record.value.length
      sections.push({ partition, section: encodeRecordSection(run, headers, format.codec), recordBytes })
    }
  }
  return sections
}

export function packSections(sections: readonly PartitionSection[], codec: RecordBatchCodec): PackedSections {
  let total = 0
  for (const { section } of sections) total += section.payload.length
  const payloads = new Uint8Array(total)
  const meta = new Uint32Array(sections.length * 4)
  let offset = 0
  sections.forEach(({ partition, section, recordBytes }, i) => {
    payloads.set(section.payload, offset)
    offset += section.payload.length
    meta[4 * i] = partition
    meta[4 * i + 1] = section.recordCount
    meta[4 * i + 2] = offset
    meta[4 * i + 3] = recordBytes
  })
  return { codec, payloads, meta }
}

/** The sections of a packed result, their payloads as views into its one byte array (no copy). */
export function unpackSections(packed: PackedSections): PartitionSection[] {
  const sections: PartitionSection[] = new Array(packed.meta.length / 4)
  let start = 0
  for (let i = 0; i < sections.length; i++) {
    const end = packed.meta[4 * i + 2]!
    const payload = packed.payloads.subarray(start, end)
    sections[i] = { partition: packed.meta[4 * i]!, section: { codec: packed.codec, recordCount: packed.meta[4 * i + 1]!, payload }, recordBytes: packed.meta[4 * i + 3]! }
    start = end
  }
  return sections
}
