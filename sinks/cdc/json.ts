// The JSON form of a change event (docs/cdc.md): Debezium's envelope without its schema part.
// Written by hand, not with JSON.stringify, because 64-bit integers must stay exact: integer and
// unsigned field values and offsets are JSON numbers with every digit; nanosecond times are strings
// (too big for a double), with an RFC 3339 "time" beside them for people.

import type { CdcEvent, CdcRow, Field, FieldValue, Predicate, Tag } from '../../schemas/index.ts'

export function cdcEventJson(event: CdcEvent): string {
  const source = event.source
  return '{"before":' + rowJson(event.before)
    + ',"after":' + rowJson(event.after)
    + ',"source":{"version":' + JSON.stringify(source.version)
    + ',"connector":' + JSON.stringify(source.connector)
    + ',"ts_ms":' + source.ts_ms.toString()
    + ',"tenant":' + JSON.stringify(source.tenant)
    + ',"db":' + JSON.stringify(source.db)
    + ',"table":' + JSON.stringify(source.table)
    + ',"seriesKey":' + JSON.stringify(source.seriesKey)
    + ',"partition":' + String(source.partition)
    + ',"offset":' + source.offset.toString()
    + ',"index":' + String(source.index)
    + ',"tsNs":"' + source.tsNs.toString() + '"}'
    + ',"op":"' + event.op + '"'
    + ',"ts_ms":' + event.ts_ms.toString()
    + ',"command":' + commandJson(event.command)
    + '}'
}

function rowJson(row: CdcRow | null): string {
  if (row === null) return 'null'
  return '{"time":"' + rfc3339Nanos(row.timeNs) + '","timeNs":"' + row.timeNs.toString() + '","tags":' + tagsJson(row.tags) + ',"fields":' + fieldsJson(row.fields) + '}'
}

function tagsJson(tags: readonly Tag[]): string {
  let out = '{'
  for (let i = 0; i < tags.length; i++) out += (i > 0 ? ',' : '') + JSON.stringify(tags[i]!.key) + ':' + JSON.stringify(tags[i]!.value)
  return out + '}'
}

function fieldsJson(fields: readonly Field[]): string {
  let out = '{'
  for (let i = 0; i < fields.length; i++) out += (i > 0 ? ',' : '') + JSON.stringify(fields[i]!.name) + ':' + valueJson(fields[i]!.value)
  return out + '}'
}

function valueJson(value: FieldValue): string {
  switch (typeof value) {
    case 'bigint': return value.toString()
    case 'number': return Number.isFinite(value) ? JSON.stringify(value) : JSON.stringify(String(value))
    case 'string': return JSON.stringify(value)
    case 'boolean': return value ? 'true' : 'false'
    default: return value.unsigned.toString()
  }
}

function commandJson(command: CdcEvent['command']): string {
  if (command === null) return 'null'
  return '{"commandId":' + JSON.stringify(command.commandId) + ',"kind":' + JSON.stringify(command.kind)
    + ',"where":' + predicateJson(command.where) + ',"set":' + fieldsJson(command.set)
    + ',"expressions":' + (command.expressions === null ? 'null' : JSON.stringify(command.expressions))
    + ',"columns":' + (command.columns === null ? 'null' : JSON.stringify(command.columns)) + '}'
}

function predicateJson(where: Predicate): string {
  const tags = '{' + where.tags.map(match => JSON.stringify(match.key) + ':' + JSON.stringify(match.values)).join(',') + '}'
  const bound = (ns: bigint | null): string => (ns === null ? 'null' : '"' + ns.toString() + '"')
  return '{"tags":' + tags + ',"fromNs":' + bound(where.fromNs) + ',"toNs":' + bound(where.toNs) + ',"fieldPredicate":' + JSON.stringify(where.fieldPredicate) + '}'
}

const NS_PER_MS = 1_000_000n

/** RFC 3339 UTC with nine fractional digits: 2023-11-14T22:13:20.123456789Z. */
export function rfc3339Nanos(timeNs: bigint): string {
  let ms = timeNs / NS_PER_MS
  let rest = timeNs % NS_PER_MS
  if (rest < 0n) { rest += NS_PER_MS; ms -= 1n }
  const date = new Date(Number(ms))
  if (Number.isNaN(date.getTime())) return timeNs.toString()
  const iso = date.toISOString() // …T22:13:20.123Z
  return iso.slice(0, -1) + rest.toString().padStart(6, '0') + 'Z'
}
