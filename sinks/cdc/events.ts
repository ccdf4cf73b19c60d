// Change events from changelog entries: the pure part of the change feed, no Kafka, no HTTP.
// One sluice.changelog entry gives
//   - an upsert: one event per point kept, op "c" (Sluice writes without reading, so it cannot
//     tell a new point from an overwrite: "c" means "upserted"), after = the point's fields;
//   - an UPDATE (fields, tags or expressions): one event, op "u", command = predicate and set;
//   - a DELETE: one event, op "d", command = predicate (tags and time range);
//   - a DROP_TABLE or DROP_DATABASE: one event, op "d", command.kind naming it, an empty predicate
//     (every point of source.table, or of every table of source.db when source.table is "");
//   - a DROP_FIELDS: one event, op "d", command.columns = the fields of source.table whose every
//     value is gone (the points keep their other fields);
//   - anything else: no event (SET_CODEC and SET_DATABASE_TTL change no stored point at their
//     position; points a TTL later expires leave no event, as no log entry removes them).
// A command reaches every partition (docs/sql-commands.md), so one statement gives one event per
// changelog partition; command.commandId groups them. (partition, offset, index) names an event.

import { CdcOp, CommandKind, type CdcEvent, type CdcOpValue, type ChangelogEntry, type IngestCommand } from '../../schemas/index.ts'

/** Where a changelog entry sits, and what the envelope says about who emitted it. */
export interface EntryPosition {
  partition: number
  offset: bigint
  /** Timestamp of the changelog record (Kafka's), ms since the epoch. */
  timestampMs: bigint
}

export interface EmitterInfo {
  /** Sluice version, for source.version. */
  version: string
  /** ts_ms of the envelope: when the event is emitted. */
  nowMs: bigint
}

export const CDC_CONNECTOR = 'sluice'

/** The op of a command's event, or undefined for a command that changes no data. */
export function commandOp(kind: string): CdcOpValue | undefined {
  if (kind === CommandKind.DELETE || kind === CommandKind.DROP_TABLE || kind === CommandKind.DROP_DATABASE || kind === CommandKind.DROP_FIELDS) return CdcOp.DELETE
  if (kind.startsWith('UPDATE_')) return CdcOp.UPDATE
  return undefined
}

/** How many events the entry gives (what eventsOf would return, without building them). */
export function eventCount(entry: ChangelogEntry): number {
  if (entry.upsert) return entry.upsert.points.length
  return commandOp(entry.command.kind) === undefined ? 0 : 1
}

/**
 * The events of one entry, starting at index `fromIndex` (a resumed reader skips the ones it has).
 * `key` is the changelog record's key: the series key of an upsert, "command <id>" of a command.
 */
export function eventsOf(entry: ChangelogEntry, key: string, at: EntryPosition, emitter: EmitterInfo, fromIndex = 0): CdcEvent[] {
  const events: CdcEvent[] = []
  if (entry.upsert) {
    const upsert = entry.upsert
    for (let index = fromIndex; index < upsert.points.length; index++) {
      const point = upsert.points[index]!
      events.push({
        before: null,
        after: { timeNs: point.timeNs, tags: upsert.tags, fields: point.fields },
        source: sourceOf(upsert.tenant, upsert.database, upsert.measurement, upsert.seriesKey, at, index, undefined, emitter),
        op: CdcOp.CREATE,
        ts_ms: emitter.nowMs,
        command: null,
      })
    }
    return events
  }
  const command = entry.command
  const op = commandOp(command.kind)
  if (op === undefined || fromIndex > 0) return events
  events.push({
    before: null,
    after: null,
    source: sourceOf(command.tenant, command.database, command.measurement, key, at, 0, command.issuedAtNs, emitter),
    op,
    ts_ms: emitter.nowMs,
    command: commandOf(command),
  })
  return events
}

function commandOf(command: IngestCommand): NonNullable<CdcEvent['command']> {
  return { commandId: command.commandId, kind: command.kind, where: command.where, set: command.set, expressions: command.expressions ?? null, columns: command.columns ?? null }
}

/** tsNs: a command's issuedAtNs; an upsert's entry does not carry receivedAtNs, so the record's timestamp stands in. */
function sourceOf(tenant: string, db: string, table: string, seriesKey: string, at: EntryPosition, index: number, tsNs: bigint | undefined, emitter: EmitterInfo): CdcEvent['source'] {
  return {
    version: emitter.version,
    connector: CDC_CONNECTOR,
    ts_ms: at.timestampMs,
    tenant,
    db,
    table,
    seriesKey,
    partition: at.partition,
    offset: at.offset,
    index,
    tsNs: tsNs ?? at.timestampMs * 1_000_000n,
  }
}
