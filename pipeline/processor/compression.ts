// The processor's view of lossy compression: per ingest partition, something that takes one
// series' batch and returns the points to keep, keeps its state per (series, field), hands out the
// state records that changed since the last transaction, and restores from sluice.state on takeover.

import type { IngestBatch, IngestCommand, Point, SeriesUpsert } from '../../schemas/index.ts'

export interface StateRecord {
  key: string
  /** Confluent-framed CompressorState; null deletes the key (compaction drops it). */
  value: Buffer | null
}

export interface SeriesCompression {
  /** The points of `batch` to write, fields dropped by compression removed, empty points omitted. */
  apply(batch: IngestBatch): Point[]
  /** State records changed since the last call, for the transaction being built. */
  takeChanges(): StateRecord[]
  /**
   * A command at its log position (`record`: its ingest record value as it came). SET_CODEC switches
   * fields' settings; the points its flush released come back, one upsert per series, to be written
   * before the command's entry. Other commands: nothing.
   */
  command(command: IngestCommand, record: Buffer): SeriesUpsert[]
  /** Applies a record read back from sluice.state (restore on takeover). */
  restore(key: Buffer, value: Buffer | null): void
  /** Whether any (series, field) of any database is compressed: without, nothing is restored. */
  readonly enabled: boolean
}

/** Compression off: every point is kept as it came, and there is no state. */
export const noCompression: SeriesCompression = {
  apply: batch => batch.points,
  takeChanges: () => [],
  command: () => [],
  restore: () => {},
  enabled: false,
}
