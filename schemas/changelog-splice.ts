// The master's hot path when a batch is written as it came (no lossy compression): a
// sluice.ChangelogEntry upsert built from the bytes of the sluice.IngestRecord, with no decoding of
// points into objects. It works because SeriesUpsert begins with the same six fields, in the same
// order and with the same types, as IngestBatch (tenant, database, measurement, seriesKey, tags,
// points); schemas/evolution.md keeps it that way, and changelog-splice.test.ts checks the result
// against avsc's encoding of the same entry.
//
//   IngestRecord payload:   02 | IngestBatch[tenant … points | source | receivedAtNs | idempotencyKey] | 00
//   ChangelogEntry payload: zigzag(partition) zigzag(offset) 02 | tenant … points | zigzag(pointsIn) | 00
//
// The scan checks the framing of every value it skips (lengths within bounds, union branches known),
// so a truncated or corrupt record is refused with the offset where it went wrong.

import { FRAMING_HEADER_BYTES, MAGIC_BYTE } from './codec.ts'
import { SchemaError, SchemaErrorCode } from './errors.ts'

/** Where the shared prefix of an IngestBatch ends, and how many points it holds. */
export interface IngestBatchPrefix {
  /** Offset in the payload of the batch's first byte (its tenant). */
  start: number
  /** Offset just past its points array. */
  end: number
  points: number
}

function corrupt(what: string, at: number): SchemaError {
  return new SchemaError(SchemaErrorCode.DECODE, `malformed sluice.IngestRecord: ${what} at byte ${at}`)
}

/**
 * The value the last readVarint call read: a module scratch, so the scan allocates nothing per value
 * (an object holding the position, and a closure per array, cost the master a third of its splice).
 */
let varintValue = 0

/** Reads a zigzag varint of up to 64 bits (exact up to 2^53; used for lengths and counts) into varintValue; returns the position after it. */
function readVarint(buf: Buffer, pos: number, end: number): number {
  if (pos < end) {
    const first = buf[pos]!
    if (first < 0x80) {
      varintValue = (first >>> 1) ^ -(first & 1)
      return pos + 1
    }
  }
  let result = 0
  let scale = 1
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw corrupt('truncated varint', pos)
    const byte = buf[pos++]!
    result += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) {
      varintValue = result % 2 === 0 ? result / 2 : -(result + 1) / 2
      return pos
    }
    scale *= 128
  }
  throw corrupt('varint longer than 10 bytes', pos)
}

function skipVarint(buf: Buffer, pos: number, end: number): number {
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw corrupt('truncated varint', pos)
    if ((buf[pos++]! & 0x80) === 0) return pos
  }
  throw corrupt('varint longer than 10 bytes', pos)
}

function skipBytes(buf: Buffer, pos: number, end: number): number {
  pos = readVarint(buf, pos, end)
  const length = varintValue
  if (length < 0 || pos + length > end) throw corrupt(`string of ${length} bytes`, pos)
  return pos + length
}

/**
 * Reads an Avro array block's head at `pos`: the block's item count goes to varintValue (0 ends the
 * array), checked against the bytes left; returns the position of its first item.
 */
function readBlockHead(buf: Buffer, pos: number, end: number): number {
  pos = readVarint(buf, pos, end)
  let count = varintValue
  if (count < 0) {
    count = -count
    pos = skipVarint(buf, pos, end) // the block's byte size
  }
  if (count > end - pos) throw corrupt(`array block of ${count} items`, pos)
  varintValue = count
  return pos
}

/** Skips one Field (name, then the value in its union branch); returns the position after it. */
function skipField(buf: Buffer, pos: number, end: number): number {
  pos = skipBytes(buf, pos, end) // name
  pos = readVarint(buf, pos, end)
  const valueBranch = varintValue
  switch (valueBranch) {
    case 0: return skipVarint(buf, pos, end) // long
    case 1: case 2: // double, Uint64
      if (pos + 8 > end) throw corrupt('truncated 8-byte value', pos)
      return pos + 8
    case 3: return skipBytes(buf, pos, end) // string
    case 4:
      if (pos >= end) throw corrupt('truncated boolean', pos)
      return pos + 1
    default: throw corrupt(`union branch ${valueBranch} of a field value`, pos)
  }
}

/** Skips the points array at `pos`; returns the position after it and leaves the point count in varintValue. */
function skipPoints(buf: Buffer, pos: number, end: number): number {
  let points = 0
  for (;;) {
    pos = readBlockHead(buf, pos, end)
    const count = varintValue
    if (count === 0) break
    for (let point = 0; point < count; point++) {
      pos = skipVarint(buf, pos, end) // timeNs
      for (;;) {
        pos = readBlockHead(buf, pos, end)
        const fields = varintValue
        if (fields === 0) break
        for (let field = 0; field < fields; field++) pos = skipField(buf, pos, end)
      }
    }
    points += count
  }
  varintValue = points
  return pos
}

/**
 * Scans the IngestRecord payload (after the Confluent header) of a batch record: where the
 * IngestBatch's shared prefix lies and how many points it has. Returns null for a command record.
 */
export function scanIngestBatchPrefix(payload: Buffer): IngestBatchPrefix | null {
  const end = payload.length
  let pos = readVarint(payload, 0, end)
  const branch = varintValue
  if (branch === 0) return null
  if (branch !== 1) throw corrupt(`union branch ${branch} of IngestRecord.batch`, 0)
  const start = pos
  for (let i = 0; i < 4; i++) pos = skipBytes(payload, pos, end) // tenant, database, measurement, seriesKey
  for (;;) {
    pos = readBlockHead(payload, pos, end)
    const tags = varintValue
    if (tags === 0) break
    for (let tag = 0; tag < tags; tag++) pos = skipBytes(payload, skipBytes(payload, pos, end), end)
  }
  pos = skipPoints(payload, pos, end)
  return { start, end: pos, points: varintValue }
}

function writeZigzag(out: Buffer, pos: number, value: bigint): number {
  let zigzag = value >= 0n ? value << 1n : ((-value) << 1n) - 1n
  while (zigzag >= 0x80n) {
    out[pos++] = Number(zigzag & 0x7fn) | 0x80
    zigzag >>= 7n
  }
  out[pos++] = Number(zigzag)
  return pos
}

/** A spliced ChangelogEntry upsert as three parts: its own head and tail around the ingest record's shared bytes (a view, not a copy). */
export interface SplicedUpsert {
  /** Confluent header, partition, offset and the upsert branch; then the shared IngestBatch prefix; then pointsIn and the null command. */
  parts: [head: Buffer, shared: Buffer, tail: Buffer]
  /** The value's length: the parts' lengths summed. */
  bytes: number
  points: number
}

/** Head (Confluent header, 2 zigzags, branch) and tail (a zigzag, a byte) at their longest. */
const HEAD_MAX_BYTES = FRAMING_HEADER_BYTES + 10 + 10 + 1
const TAIL_MAX_BYTES = 10 + 1

/**
 * The Confluent-framed ChangelogEntry upsert of an ingest batch record written as it came (every
 * point kept), as parts whose middle one is a view of `ingestRecord` (which must then stay as it is
 * while the parts are in use): the master writes them straight into its record sections, without a
 * buffer per entry. `ingestRecord` is the framed sluice.ingest value; null for a command record.
 * `pointsIn` (default: the record's point count) is what the entry says came in, for a record
 * re-encoded after lossy compression dropped some.
 */
export function spliceChangelogUpsert(ingestRecord: Buffer, options: { partition: number; offset: bigint; schemaId: number; pointsIn?: number }): SplicedUpsert | null {
  if (ingestRecord.length < FRAMING_HEADER_BYTES || ingestRecord[0] !== MAGIC_BYTE) throw corrupt('no Confluent header', 0)
  const payload = ingestRecord.subarray(FRAMING_HEADER_BYTES)
  const prefix = scanIngestBatchPrefix(payload)
  if (prefix === null) return null
  // Head and tail share one small buffer (from Node's pool): two views of it.
  const own = Buffer.allocUnsafe(HEAD_MAX_BYTES + TAIL_MAX_BYTES)
  own[0] = MAGIC_BYTE
  own.writeUInt32BE(options.schemaId, 1)
  let pos = writeZigzag(own, FRAMING_HEADER_BYTES, BigInt(options.partition))
  pos = writeZigzag(own, pos, options.offset)
  own[pos++] = 2 // upsert: branch 1 of ["null", SeriesUpsert]
  const head = own.subarray(0, pos)
  let tailEnd = writeZigzag(own, HEAD_MAX_BYTES, BigInt(options.pointsIn ?? prefix.points))
  own[tailEnd++] = 0 // command: null
  const tail = own.subarray(HEAD_MAX_BYTES, tailEnd)
  const shared = payload.subarray(prefix.start, prefix.end)
  return { parts: [head, shared, tail], bytes: head.length + shared.length + tail.length, points: prefix.points }
}
