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

/** Reads a zigzag varint of up to 64 bits as a JS number (exact up to 2^53; used for lengths and counts). */
function varint(buf: Buffer, at: { pos: number }, end: number): number {
  let result = 0
  let scale = 1
  let pos = at.pos
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw corrupt('truncated varint', pos)
    const byte = buf[pos++]!
    result += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) {
      at.pos = pos
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2
    }
    scale *= 128
  }
  throw corrupt('varint longer than 10 bytes', pos)
}

function skipVarint(buf: Buffer, at: { pos: number }, end: number): void {
  let pos = at.pos
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw corrupt('truncated varint', pos)
    if ((buf[pos++]! & 0x80) === 0) {
      at.pos = pos
      return
    }
  }
  throw corrupt('varint longer than 10 bytes', pos)
}

function skipBytes(buf: Buffer, at: { pos: number }, end: number): void {
  const length = varint(buf, at, end)
  if (length < 0 || at.pos + length > end) throw corrupt(`string of ${length} bytes`, at.pos)
  at.pos += length
}

/** Calls `item` for every item of an Avro array; returns the item count. */
function skipArray(buf: Buffer, at: { pos: number }, end: number, item: () => void): number {
  let total = 0
  for (;;) {
    let count = varint(buf, at, end)
    if (count === 0) return total
    if (count < 0) {
      count = -count
      skipVarint(buf, at, end) // the block's byte size
    }
    if (count > end - at.pos) throw corrupt(`array block of ${count} items`, at.pos)
    for (let i = 0; i < count; i++) item()
    total += count
  }
}

/**
 * Scans the IngestRecord payload (after the Confluent header) of a batch record: where the
 * IngestBatch's shared prefix lies and how many points it has. Returns null for a command record.
 */
export function scanIngestBatchPrefix(payload: Buffer): IngestBatchPrefix | null {
  const end = payload.length
  const at = { pos: 0 }
  const branch = varint(payload, at, end)
  if (branch === 0) return null
  if (branch !== 1) throw corrupt(`union branch ${branch} of IngestRecord.batch`, 0)
  const start = at.pos
  for (let i = 0; i < 4; i++) skipBytes(payload, at, end) // tenant, database, measurement, seriesKey
  skipArray(payload, at, end, () => { skipBytes(payload, at, end); skipBytes(payload, at, end) })
  const points = skipArray(payload, at, end, () => {
    skipVarint(payload, at, end) // timeNs
    skipArray(payload, at, end, () => {
      skipBytes(payload, at, end) // name
      const valueBranch = varint(payload, at, end)
      switch (valueBranch) {
        case 0: skipVarint(payload, at, end); break // long
        case 1: case 2: // double, Uint64
          if (at.pos + 8 > end) throw corrupt('truncated 8-byte value', at.pos)
          at.pos += 8
          break
        case 3: skipBytes(payload, at, end); break // string
        case 4:
          if (at.pos >= end) throw corrupt('truncated boolean', at.pos)
          at.pos += 1
          break
        default: throw corrupt(`union branch ${valueBranch} of a field value`, at.pos)
      }
    })
  })
  return { start, end: at.pos, points }
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

/**
 * The Confluent-framed ChangelogEntry upsert of an ingest batch record written as it came (every
 * point kept), and its point count. `ingestRecord` is the framed sluice.ingest value; null for a
 * command record. `pointsIn` (default: the record's point count) is what the entry says came in,
 * for a record re-encoded after lossy compression dropped some.
 */
export function spliceChangelogUpsert(ingestRecord: Buffer, options: { partition: number; offset: bigint; schemaId: number; pointsIn?: number }): { value: Buffer; points: number } | null {
  if (ingestRecord.length < FRAMING_HEADER_BYTES || ingestRecord[0] !== MAGIC_BYTE) throw corrupt('no Confluent header', 0)
  const payload = ingestRecord.subarray(FRAMING_HEADER_BYTES)
  const prefix = scanIngestBatchPrefix(payload)
  if (prefix === null) return null
  const shared = prefix.end - prefix.start
  const out = Buffer.allocUnsafe(FRAMING_HEADER_BYTES + 10 + 10 + 1 + shared + 10 + 1)
  out[0] = MAGIC_BYTE
  out.writeUInt32BE(options.schemaId, 1)
  let pos = writeZigzag(out, FRAMING_HEADER_BYTES, BigInt(options.partition))
  pos = writeZigzag(out, pos, options.offset)
  out[pos++] = 2 // upsert: branch 1 of ["null", SeriesUpsert]
  payload.copy(out, pos, prefix.start, prefix.end)
  pos += shared
  pos = writeZigzag(out, pos, BigInt(options.pointsIn ?? prefix.points))
  out[pos++] = 0 // command: null
  return { value: out.subarray(0, pos), points: prefix.points }
}
