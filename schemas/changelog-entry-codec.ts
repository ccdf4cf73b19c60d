// sluice.ChangelogEntry decoded by hand, for the replica's apply loop: one pass over the Avro
// binary with the same readers as the IngestBatch codec (field names and tag strings interned,
// exact longs through two uint32 words instead of avsc's 8-byte Buffer per long), so a point costs
// its own object and nothing else. Commands are rare and keep avsc's decoding.
// changelog-entry-codec.test.ts checks it equals avsc's decode on random entries.
//
//   ChangelogEntry: int ingestPartition | long ingestOffset
//                   | union{null, SeriesUpsert: tenant database measurement seriesKey tags points int pointsIn}
//                   | union{null, IngestCommand}

import { AvroReader } from './avro-binary.ts'
import { SchemaError, SchemaErrorCode } from './errors.ts'
import { readBranch, readOptionalCommandToEnd, readSeriesPoints } from './ingest-batch-codec.ts'
import type { ChangelogEntry, SeriesUpsert } from './types.ts'

const RECORD = 'sluice.ChangelogEntry'

function readSeriesUpsert(reader: AvroReader): SeriesUpsert {
  const { tenant, database, measurement, seriesKey, tags, points } = readSeriesPoints(reader)
  return { tenant, database, measurement, seriesKey, tags, points, pointsIn: reader.int() }
}

/** Decodes a ChangelogEntry payload (without the Confluent header); equal to avsc's decode of it. */
export function decodeChangelogEntry(payload: Buffer): ChangelogEntry {
  const reader = new AvroReader(payload)
  const ingestPartition = reader.int()
  const ingestOffset = reader.long()
  const upsert = readBranch(reader, RECORD, 'upsert') ? readSeriesUpsert(reader) : null
  const command = readOptionalCommandToEnd(reader, payload, RECORD)
  if ((upsert === null) === (command === null)) {
    throw new SchemaError(SchemaErrorCode.DECODE, `sluice.ChangelogEntry holds ${upsert === null ? 'neither upsert nor command' : 'both an upsert and a command'}; exactly one is allowed`)
  }
  return upsert !== null ? { ingestPartition, ingestOffset, upsert, command: null } : { ingestPartition, ingestOffset, upsert: null, command: command! }
}
