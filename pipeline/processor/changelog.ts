// What the master of an ingest partition writes for one ingest record: the pure part of the
// processor, no Kafka. A Sluice ingest record (header sluice-format) becomes one changelog entry
// (an upsert of the series' kept points, or the command as it came in); a record outside
// producers wrote in another format is not the master's (the Kafka source re-keys it); a Sluice
// record that does not decode is poison and goes to the dead-letter topic with the reason.
// Every Sluice ingest record gets exactly one entry, even an upsert whose points lossy compression
// all dropped, so a replica that has applied entry (p, o) knows it has passed ingest offset o of p.
// A SET_CODEC command is preceded by the upserts of the held points its flush released, which carry
// the ingest offset before the command's: every ingest offset still has exactly one entry of its own.

import {
  changelogEntryType, decodeIngestRecord, encodeFramed, encodeIngestRecord, spliceChangelogUpsert, unframe,
  type ChangelogEntry, type IngestRecord, type SeriesUpsert,
} from '../../schemas/index.ts'
import { headerText, SLUICE_INGEST_RECORD_FORMAT, SourceHeader, type RecordHeaders } from '../source/record-format.ts'
import type { SeriesCompression } from './compression.ts'

/** The value of `sluice-format` on changelog records. */
export const CHANGELOG_ENTRY_FORMAT = 'changelog-entry'
/** The headers of every changelog record (the same object: the master sends records that carry it as one section). */
export const CHANGELOG_HEADERS: Readonly<Record<string, string>> = Object.freeze({ [SourceHeader.FORMAT]: CHANGELOG_ENTRY_FORMAT })

export interface IngestInput {
  partition: number
  offset: string
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeaders
}

export interface OutputRecord {
  key: Buffer | string | null
  readonly value: Buffer | null
  headers: Record<string, string>
  /** When set, `value` is these parts joined: a record section writes them one after another instead (changelog-sections.ts). */
  readonly valueParts?: readonly Uint8Array[]
}

/**
 * An upsert spliced from its ingest record (spliceChangelogUpsert): its value is three parts, a few
 * bytes of its own around a view of the ingest record's bytes, joined into a buffer only when read
 * as `value` (a changelog record sent as a kafkajs message); the master's record sections write the
 * parts straight in. A buffer and a copy per entry were 144 MB over bench:e2e's day.
 */
class SplicedRecord implements OutputRecord {
  private joined: Buffer | undefined
  constructor(readonly key: Buffer | string, readonly valueParts: readonly Buffer[], private readonly valueBytes: number, readonly headers: Record<string, string>) {}

  get value(): Buffer {
    return (this.joined ??= Buffer.concat(this.valueParts, this.valueBytes))
  }
}

export type RecordOutcome =
  | { kind: 'skipped' }
  | { kind: 'changelog'; record: OutputRecord; pointsIn: number; pointsKept: number; command: boolean; before?: OutputRecord[] }
  | { kind: 'poison'; reason: string }

export interface ChangelogSettings {
  /** Registry id of sluice.changelog-value, for the Confluent header. */
  changelogSchemaId: number
  compression: SeriesCompression
}

export function processIngestRecord(input: IngestInput, settings: ChangelogSettings): RecordOutcome {
  if (headerText(input.headers, SourceHeader.FORMAT) !== SLUICE_INGEST_RECORD_FORMAT) return { kind: 'skipped' }
  if (!settings.compression.enabled && input.value && input.key) {
    // Every point is kept: the entry is spliced from the record's bytes, nothing is decoded.
    const spliced = splice(input, settings)
    if (spliced) return spliced
  }
  let record: IngestRecord
  try {
    if (!input.value) throw new Error('the record has no value')
    record = decodeIngestRecord(unframe(input.value).payload)
  } catch (error) {
    return { kind: 'poison', reason: `not a sluice.IngestRecord: ${(error as Error).message}` }
  }
  const ingestOffset = BigInt(input.offset)
  if (record.batch) {
    const batch = record.batch
    const points = settings.compression.apply(batch)
    // The kept points through the fast IngestBatch encoder, then spliced as for the byte path.
    const encoded = points === batch.points && input.value ? input.value : encodeIngestRecord({ batch: { ...batch, points }, command: null }, { schemaId: 0 })
    const spliced = spliceChangelogUpsert(encoded, { partition: input.partition, offset: ingestOffset, schemaId: settings.changelogSchemaId, pointsIn: batch.points.length })!
    return {
      kind: 'changelog',
      record: new SplicedRecord(batch.seriesKey, spliced.parts, spliced.bytes, CHANGELOG_HEADERS),
      pointsIn: batch.points.length,
      pointsKept: points.length,
      command: false,
    }
  }
  const entry: ChangelogEntry = { ingestPartition: input.partition, ingestOffset, upsert: null, command: record.command }
  const value = encodeFramed(changelogEntryType, settings.changelogSchemaId, entry)
  // A codec switch flushes filters: their held points go first. They carry the ingest offset before
  // the command's (a held point implies earlier records, so it is ≥ 0): the command's entry stays
  // the only one of its offset, and "applied the entry of ingest offset o" still means "passed o".
  let released: SeriesUpsert[]
  try {
    released = settings.compression.command(record.command, input.value!)
  } catch (error) {
    return { kind: 'poison', reason: `command ${record.command.commandId} (${record.command.kind}) cannot be applied: ${(error as Error).message}` }
  }
  const before = released.map(upsert => ({
    key: upsert.seriesKey,
    value: encodeFramed(changelogEntryType, settings.changelogSchemaId, { ingestPartition: input.partition, ingestOffset: ingestOffset - 1n, upsert, command: null }),
    headers: CHANGELOG_HEADERS,
  }))
  return {
    kind: 'changelog', record: { key: `command ${entry.command!.commandId}`, value, headers: CHANGELOG_HEADERS }, pointsIn: 0, pointsKept: 0, command: true,
    ...(before.length > 0 && { before }),
  }
}

/** The byte path: an upsert of every point, or null when the record is a command (or poison, found again by the slow path). */
function splice(input: IngestInput, settings: ChangelogSettings): RecordOutcome | null {
  let spliced: ReturnType<typeof spliceChangelogUpsert>
  try {
    spliced = spliceChangelogUpsert(input.value!, { partition: input.partition, offset: BigInt(input.offset), schemaId: settings.changelogSchemaId })
  } catch {
    return null
  }
  if (spliced === null) return null
  return { kind: 'changelog', record: new SplicedRecord(input.key!, spliced.parts, spliced.bytes, CHANGELOG_HEADERS), pointsIn: spliced.points, pointsKept: spliced.points, command: false }
}
