// The records of the compacted `_schemas` topic, the registry's only storage. Replaying the topic
// from the start rebuilds the registry; compaction keeps the last record per key. The layout is
// Confluent's own (its Kafka store writes the same keys and values), plus one key of Sluice's:
//
//   key (JSON)                                                        value (JSON, or null = tombstone)
//   {"keytype":"SCHEMA","subject":S,"version":V,"magic":1}           {"subject":S,"version":V,"id":I,"schema":TEXT,"deleted":false}
//                                                                    null: version V of S permanently deleted
//   {"keytype":"CONFIG","subject":S|null,"magic":0}                   {"compatibilityLevel":"BACKWARD"}; null: config removed
//   {"keytype":"DELETE_SUBJECT","subject":S,"magic":0}                {"subject":S,"version":V}: versions ≤ V soft-deleted (read only)
//   {"keytype":"NOOP","magic":0}                                      ignored
//   {"keytype":"ID_WATERMARK","magic":0}                              {"id":I}: ids ≤ I were handed out (Sluice's)
//
// ID_WATERMARK exists because a permanently deleted schema's records are tombstones, which compaction
// removes; without it a replay could hand that schema's id to a different schema, and old records
// framed with the id would decode with the wrong schema.

import { SchemaError, SchemaErrorCode } from './errors.ts'
import { parseCompatibilityLevel, type CompatibilityLevelValue } from './compatibility.ts'

export const SCHEMAS_TOPIC = '_schemas'

export interface SchemaTopicRecord {
  key: string
  /** null: a tombstone. */
  value: string | null
}

/** A version of a subject as the topic stores it. */
export interface SchemaVersionRecord {
  subject: string
  version: number
  id: number
  /** Canonical schema text. */
  schema: string
  deleted: boolean
}

/** A state change of the registry; recordsFor turns it into `_schemas` records. */
export type RegistryChange =
  /** A new version, or a version rewritten with `deleted: true` (soft delete). */
  | { kind: 'version'; version: SchemaVersionRecord }
  /** Versions removed for good; `idWatermark` is the highest id ever handed out. */
  | { kind: 'purge'; subject: string; versions: readonly number[]; idWatermark: number }
  /** A compatibility level set, for a subject or (subject null) globally; level null removes it. */
  | { kind: 'config'; subject: string | null; level: CompatibilityLevelValue | null }

/** A parsed `_schemas` record, validated. */
export type ParsedSchemaTopicRecord =
  | { keytype: 'SCHEMA'; subject: string; version: number; value: SchemaVersionRecord | null }
  | { keytype: 'CONFIG'; subject: string | null; level: CompatibilityLevelValue | null }
  | { keytype: 'DELETE_SUBJECT'; subject: string; upToVersion: number }
  | { keytype: 'ID_WATERMARK'; id: number }
  | { keytype: 'IGNORED'; reason: string }

// Keys are built with a fixed field order: compaction compares key bytes, so one key must always
// serialise the same way.
function schemaKey(subject: string, version: number): string {
  return `{"keytype":"SCHEMA","subject":${JSON.stringify(subject)},"version":${version},"magic":1}`
}

function configKey(subject: string | null): string {
  return `{"keytype":"CONFIG","subject":${JSON.stringify(subject)},"magic":0}`
}

const ID_WATERMARK_KEY = '{"keytype":"ID_WATERMARK","magic":0}'

function versionValue(record: SchemaVersionRecord): string {
  return JSON.stringify({ subject: record.subject, version: record.version, id: record.id, schema: record.schema, deleted: record.deleted })
}

/** The `_schemas` records that express `change`, in the order they must be written. */
export function recordsFor(change: RegistryChange): SchemaTopicRecord[] {
  switch (change.kind) {
    case 'version':
      return [{ key: schemaKey(change.version.subject, change.version.version), value: versionValue(change.version) }]
    case 'purge':
      // The watermark first: if the tombstones are written and the watermark is not, an id could be reused.
      return [
        { key: ID_WATERMARK_KEY, value: JSON.stringify({ id: change.idWatermark }) },
        ...change.versions.map((version) => ({ key: schemaKey(change.subject, version), value: null })),
      ]
    case 'config':
      return [{ key: configKey(change.subject), value: change.level === null ? null : JSON.stringify({ compatibilityLevel: change.level }) }]
  }
}

function bad(message: string, cause?: unknown): SchemaError {
  return new SchemaError(SchemaErrorCode.SCHEMAS_TOPIC_RECORD, `bad _schemas record: ${message}`, {}, { cause })
}

function parseJson(text: string | Buffer, what: string): Record<string, unknown> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text.toString())
  } catch (error) {
    throw bad(`${what} is not JSON`, error)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw bad(`${what} is not a JSON object`)
  return parsed as Record<string, unknown>
}

function positiveInt(value: unknown, what: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 0x7fffffff) throw bad(`${what} must be a positive 32-bit integer, got ${String(value)}`)
  return value as number
}

function subjectOf(value: unknown, what: string): string {
  if (typeof value !== 'string') throw bad(`${what} must be a string`)
  return value
}

function parseSchemaValue(value: Record<string, unknown>, subject: string, version: number): SchemaVersionRecord {
  if (value.subject !== subject || value.version !== version) throw bad(`value names ${String(value.subject)} v${String(value.version)} under key ${subject} v${version}`)
  if (typeof value.schema !== 'string') throw bad(`schema of ${subject} v${version} must be a string`)
  if (value.schemaType !== undefined && value.schemaType !== 'AVRO') throw bad(`${subject} v${version} has schemaType ${String(value.schemaType)}; only AVRO is supported`)
  return { subject, version, id: positiveInt(value.id, 'id'), schema: value.schema, deleted: value.deleted === true }
}

/** Parses and validates one `_schemas` record, as read from Kafka. */
export function parseSchemaTopicRecord(key: string | Buffer, value: string | Buffer | null): ParsedSchemaTopicRecord {
  const parsedKey = parseJson(key, 'key')
  switch (parsedKey.keytype) {
    case 'SCHEMA': {
      const subject = subjectOf(parsedKey.subject, 'key subject')
      const version = positiveInt(parsedKey.version, 'key version')
      return { keytype: 'SCHEMA', subject, version, value: value === null ? null : parseSchemaValue(parseJson(value, 'value'), subject, version) }
    }
    case 'CONFIG': {
      const subject = parsedKey.subject === null || parsedKey.subject === undefined ? null : subjectOf(parsedKey.subject, 'key subject')
      if (value === null) return { keytype: 'CONFIG', subject, level: null }
      const level = parseJson(value, 'value').compatibilityLevel
      // Newer Confluent versions write config records that may carry other settings and no level.
      if (level === undefined || level === null) return { keytype: 'CONFIG', subject, level: null }
      try {
        return { keytype: 'CONFIG', subject, level: parseCompatibilityLevel(level) }
      } catch (error) {
        throw bad(`config of ${subject ?? '(global)'} has compatibility level ${String(level)}`, error)
      }
    }
    case 'DELETE_SUBJECT': {
      const subject = subjectOf(parsedKey.subject, 'key subject')
      if (value === null) return { keytype: 'IGNORED', reason: 'DELETE_SUBJECT tombstone' }
      return { keytype: 'DELETE_SUBJECT', subject, upToVersion: positiveInt(parseJson(value, 'value').version, 'version') }
    }
    case 'ID_WATERMARK':
      if (value === null) return { keytype: 'IGNORED', reason: 'ID_WATERMARK tombstone' }
      return { keytype: 'ID_WATERMARK', id: positiveInt(parseJson(value, 'value').id, 'id') }
    default:
      // NOOP, and keys of newer versions or other registries (MODE, CONTEXT...): not ours to judge.
      return { keytype: 'IGNORED', reason: `keytype ${String(parsedKey.keytype)}` }
  }
}
