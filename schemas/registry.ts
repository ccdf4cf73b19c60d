// The schema registry core: subjects, versions, global ids, compatibility levels, soft and permanent
// deletes, with Confluent's semantics. No HTTP (registry-routes.ts) and no Kafka: every change is
// written as `_schemas` records through a SchemaStore and applied only once the store acknowledged
// them, so the registry is exactly what replaying the topic gives (applyRecord).
//
// One writer at a time: writes are serialised in-process, and ids are allocated from the state.
// Across processes the store decides who writes: before each write the registry calls the store's
// beforeWrite, where a shared store takes the writer's role (fencing the previous writer) and
// replays the topic to its end, so the state the write is computed from is the whole topic's.
// Others' writes arrive through applyRecord. Reads are synchronous.

import { canonicalSchemaText } from './canonical.ts'
import { checkCompatibility, DEFAULT_COMPATIBILITY, parseCompatibilityLevel, type CompatibilityLevelValue, type CompatibilityResult } from './compatibility.ts'
import { parseAvroSchema, type AvroType } from './avro-types.ts'
import { SchemaError, SchemaErrorCode } from './errors.ts'
import { schemaLimits, type SchemaLimits } from './limits.ts'
import { parseSchemaTopicRecord, recordsFor, type RegistryChange, type SchemaTopicRecord, type SchemaVersionRecord } from './schemas-topic.ts'

/** Where `_schemas` records go: in production a Kafka producer (acks=all) on the compacted topic. */
export interface SchemaStore {
  /** Appends the records in order; resolves once all are durably acknowledged, rejects otherwise. */
  append(records: readonly SchemaTopicRecord[]): Promise<void>
  /**
   * Called before every write operation, inside the registry's one-writer-at-a-time section and
   * before it reads its state: a shared store makes this process the writer (fencing any other)
   * and replays what others wrote, so ids and versions are allocated from the whole topic.
   */
  beforeWrite?(): Promise<void>
}

/** A store that keeps the records in memory: tests, and a registry that need not survive a restart. */
export class MemorySchemaStore implements SchemaStore {
  readonly records: SchemaTopicRecord[] = []

  async append(records: readonly SchemaTopicRecord[]): Promise<void> {
    this.records.push(...records)
  }

  /** What log compaction would keep: the last record of each key, in the order they were written. */
  compacted(): SchemaTopicRecord[] {
    const last = new Map<string, SchemaTopicRecord>()
    for (const record of this.records) {
      last.delete(record.key)
      last.set(record.key, record)
    }
    return [...last.values()]
  }
}

/** A version number, or the latest live version ("latest" or -1 in Confluent's URLs). */
export type VersionSpec = number | 'latest'

/** The body of Confluent's register and lookup requests. */
export interface SchemaInput {
  schema: string
  /** AVRO only; absent means AVRO. */
  schemaType?: string
  /** Schema references are not supported; must be absent or empty. */
  references?: readonly unknown[]
}

export interface SubjectVersion {
  subject: string
  version: number
  id: number
  /** Canonical schema text. */
  schema: string
}

export interface RegisteredSchema {
  id: number
  /** Canonical schema text. */
  schema: string
  readonly avro: AvroType
}

export interface SchemaRegistryOptions {
  store: SchemaStore
  limits?: Partial<Pick<SchemaLimits, 'maxSchemaBytes' | 'maxSubjectBytes' | 'maxSubjects' | 'maxSchemas' | 'maxVersionsPerSubject'>>
}

const MAX_VERSION = 0x7fffffff

/** Parses a version of a URL: a positive 32-bit integer, "latest" or -1. */
export function parseVersion(text: string | number): VersionSpec {
  if (text === 'latest' || text === -1 || text === '-1') return 'latest'
  const version = typeof text === 'number' ? text : /^\d{1,10}$/.test(text) ? Number(text) : NaN
  if (!Number.isInteger(version) || version < 1 || version > MAX_VERSION) {
    throw new SchemaError(SchemaErrorCode.INVALID_VERSION, `The specified version '${text}' is not a valid version id. Allowed values are between [1, ${MAX_VERSION}] and the string "latest"`)
  }
  return version
}

interface SchemaEntry {
  schema: string
  /** Versions (live or soft-deleted) that use this id; at 0 the id is gone. */
  references: number
  avro?: AvroType
}

function subjectNotFound(subject: string): SchemaError {
  return new SchemaError(SchemaErrorCode.SUBJECT_NOT_FOUND, `Subject '${subject}' not found.`, { subject })
}

function versionNotFound(subject: string, version: VersionSpec): SchemaError {
  return new SchemaError(SchemaErrorCode.VERSION_NOT_FOUND, `Version ${version} not found.`, { subject, ...(typeof version === 'number' ? { version } : {}) })
}

function byVersion(a: SchemaVersionRecord, b: SchemaVersionRecord): number {
  return a.version - b.version
}

/** How often a write is tried when the store fails it (see exclusive). */
const STORE_ATTEMPTS = 4

export class SchemaRegistry {
  private readonly store: SchemaStore
  private readonly limits: Pick<SchemaLimits, 'maxSchemaBytes' | 'maxSubjectBytes' | 'maxSubjects' | 'maxSchemas' | 'maxVersionsPerSubject'>
  private readonly subjectVersions = new Map<string, Map<number, SchemaVersionRecord>>()
  private readonly schemasById = new Map<number, SchemaEntry>()
  private readonly idsBySchema = new Map<string, number>()
  private readonly subjectLevels = new Map<string, CompatibilityLevelValue>()
  private globalLevel: CompatibilityLevelValue | undefined
  private maxId = 0
  private writes: Promise<unknown> = Promise.resolve()

  constructor(options: SchemaRegistryOptions) {
    if (typeof options?.store?.append !== 'function') throw new TypeError('SchemaRegistry: options.store must have an append(records) method')
    this.store = options.store
    this.limits = { ...schemaLimits, ...options.limits }
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isInteger(value) || value < 1) throw new TypeError(`SchemaRegistry: limits.${name} must be a positive integer, got ${String(value)}`)
    }
  }

  // ---- reads ----

  /** Subjects with at least one live version (or any version, with includeDeleted), sorted. */
  subjects(options: { includeDeleted?: boolean } = {}): string[] {
    const names: string[] = []
    for (const [subject, versions] of this.subjectVersions) {
      if (options.includeDeleted || [...versions.values()].some((v) => !v.deleted)) names.push(subject)
    }
    return names.sort()
  }

  /** The version numbers of a subject, ascending. */
  versions(subject: string, options: { includeDeleted?: boolean } = {}): number[] {
    return this.versionRecords(subject, options.includeDeleted ?? false).map((v) => v.version)
  }

  version(subject: string, version: VersionSpec, options: { includeDeleted?: boolean } = {}): SubjectVersion {
    return this.publicVersion(this.findVersion(subject, version, options.includeDeleted ?? false))
  }

  /** The schema with this global id; soft-deleted versions keep their id resolvable, as in Confluent. */
  schemaById(id: number): RegisteredSchema {
    const entry = Number.isInteger(id) ? this.schemasById.get(id) : undefined
    if (!entry) throw new SchemaError(SchemaErrorCode.SCHEMA_NOT_FOUND, `Schema ${id} not found`, { schemaId: id })
    const avro = (): AvroType => (entry.avro ??= parseAvroSchema(JSON.parse(entry.schema)))
    return { id, schema: entry.schema, get avro() { return avro() } }
  }

  /** The (subject, version) pairs that use a schema id. */
  subjectVersionsById(id: number, options: { includeDeleted?: boolean } = {}): Array<{ subject: string; version: number }> {
    this.schemaById(id)
    const pairs: Array<{ subject: string; version: number }> = []
    for (const [subject, versions] of this.subjectVersions) {
      for (const v of versions.values()) {
        if (v.id === id && (options.includeDeleted || !v.deleted)) pairs.push({ subject, version: v.version })
      }
    }
    return pairs.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : a.version - b.version))
  }

  /** The live version of `subject` whose schema equals the given one (Confluent's POST /subjects/:subject). */
  lookup(subject: string, input: SchemaInput): SubjectVersion {
    const { canonical } = this.parseInput(input)
    const live = this.versionRecords(subject, false)
    const match = live.find((v) => v.schema === canonical)
    if (!match) throw new SchemaError(SchemaErrorCode.SCHEMA_NOT_FOUND, 'Schema not found', { subject })
    return this.publicVersion(match)
  }

  /** The level in force for a subject: its own, else the global one. */
  compatibilityLevel(subject?: string): CompatibilityLevelValue {
    return (subject === undefined ? undefined : this.subjectLevels.get(subject)) ?? this.globalLevel ?? DEFAULT_COMPATIBILITY
  }

  /** The subject's own level; SUBJECT_COMPATIBILITY_NOT_CONFIGURED when it has none. */
  subjectCompatibilityLevel(subject: string): CompatibilityLevelValue {
    const level = this.subjectLevels.get(subject)
    if (!level) throw new SchemaError(SchemaErrorCode.SUBJECT_COMPATIBILITY_NOT_CONFIGURED, `Subject '${subject}' does not have subject-level compatibility configured`, { subject })
    return level
  }

  /**
   * Would `input` be accepted under `subject`? Against one version (`version`: a number or
   * "latest") by the level's direction, or against all live versions as the level says ("all").
   * A subject with no version accepts anything when asked about "latest" or "all".
   */
  checkCompatibility(subject: string, input: SchemaInput, version: VersionSpec | 'all'): CompatibilityResult {
    const { avro } = this.parseInput(input)
    const level = this.compatibilityLevel(subject)
    const live = this.versionRecords(subject, false, version === 'latest' || version === 'all')
    if (live.length === 0) return { compatible: true, messages: [] }
    if (version === 'all') return checkCompatibility(avro, live.map((v) => this.existing(v)), level)
    const target = this.findVersion(subject, version, false)
    return checkCompatibility(avro, [this.existing(target)], level.replace('_TRANSITIVE', '') as CompatibilityLevelValue)
  }

  // ---- writes ----

  /**
   * Registers a schema under a subject and returns its global id and version. Idempotent: a schema
   * equal (canonically) to a live version of the subject returns that version, and one registered
   * under any subject reuses its id. Rejects INVALID_SCHEMA, INCOMPATIBLE, INVALID_SUBJECT, LIMIT_EXCEEDED.
   */
  async register(subject: string, input: SchemaInput): Promise<{ id: number; version: number }> {
    this.assertSubject(subject)
    const parsed = this.parseInput(input)
    return this.exclusive(async () => {
      const versions = this.subjectVersions.get(subject)
      const live = this.versionRecords(subject, false, true)
      const same = live.find((v) => v.schema === parsed.canonical)
      if (same) return { id: same.id, version: same.version }

      const level = this.compatibilityLevel(subject)
      const result = checkCompatibility(parsed.avro, live.map((v) => this.existing(v)), level)
      if (!result.compatible) {
        throw new SchemaError(SchemaErrorCode.INCOMPATIBLE, `Schema being registered is incompatible with an earlier schema for subject "${subject}" (${level}), details: ${result.messages.join('; ')}`, { subject })
      }
      const existingId = this.idsBySchema.get(parsed.canonical)
      this.assertRoom(subject, versions, existingId)
      const id = existingId ?? this.maxId + 1
      const version = versions && versions.size > 0 ? Math.max(...versions.keys()) + 1 : 1
      await this.commit([{ kind: 'version', version: { subject, version, id, schema: parsed.canonical, deleted: false } }])
      this.schemasById.get(id)!.avro ??= parsed.avro
      return { id, version }
    })
  }

  /** Sets the compatibility level of a subject (which need not exist yet) or, with null, the global one. */
  async setCompatibility(subject: string | null, level: unknown): Promise<CompatibilityLevelValue> {
    if (subject !== null) this.assertSubject(subject)
    const parsed = parseCompatibilityLevel(level)
    return this.exclusive(async () => {
      await this.commit([{ kind: 'config', subject, level: parsed }])
      return parsed
    })
  }

  /** Removes a subject's level (or resets the global one, with null); returns the level removed. */
  deleteCompatibility(subject: string | null): Promise<CompatibilityLevelValue> {
    return this.exclusive(async () => {
      const previous = subject === null ? this.compatibilityLevel() : this.subjectCompatibilityLevel(subject)
      await this.commit([{ kind: 'config', subject, level: null }])
      return previous
    })
  }

  /**
   * Deletes a subject. Soft (default): its versions stay in the topic marked deleted, their ids
   * resolvable. Permanent: only after a soft delete; the versions and the subject's level are removed.
   * Returns the versions deleted.
   */
  deleteSubject(subject: string, options: { permanent?: boolean } = {}): Promise<number[]> {
    return this.exclusive(async () => {
      const all = this.versionRecords(subject, true)
      const live = all.filter((v) => !v.deleted)
      if (!options.permanent) {
        if (live.length === 0) throw new SchemaError(SchemaErrorCode.ALREADY_SOFT_DELETED, `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`, { subject })
        await this.commit(live.map((v) => ({ kind: 'version', version: { ...v, deleted: true } })))
        return live.map((v) => v.version)
      }
      if (live.length > 0) throw new SchemaError(SchemaErrorCode.NOT_SOFT_DELETED, `Subject '${subject}' was not deleted first before being permanently deleted`, { subject })
      const changes: RegistryChange[] = [{ kind: 'purge', subject, versions: all.map((v) => v.version), idWatermark: this.maxId }]
      if (this.subjectLevels.has(subject)) changes.push({ kind: 'config', subject, level: null })
      await this.commit(changes)
      return all.map((v) => v.version)
    })
  }

  /** Deletes one version, soft or (after a soft delete) permanently; returns its number. */
  deleteVersion(subject: string, version: VersionSpec, options: { permanent?: boolean } = {}): Promise<number> {
    return this.exclusive(async () => {
      const target = this.findVersion(subject, version, options.permanent ?? false)
      const context = { subject, version: target.version }
      if (!options.permanent) {
        if (target.deleted) throw new SchemaError(SchemaErrorCode.ALREADY_SOFT_DELETED, `Subject '${subject}' Version ${target.version} was soft deleted. Set permanent=true to delete permanently`, context)
        await this.commit([{ kind: 'version', version: { ...target, deleted: true } }])
        return target.version
      }
      if (!target.deleted) throw new SchemaError(SchemaErrorCode.NOT_SOFT_DELETED, `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`, context)
      await this.commit([{ kind: 'purge', subject, versions: [target.version], idWatermark: this.maxId }])
      return target.version
    })
  }

  // ---- replay ----

  /**
   * Applies one `_schemas` record, as read from the topic (key and value as Kafka gives them;
   * value null = tombstone). Idempotent: applying a record twice, or a prefix of the topic again,
   * leaves the same state. Returns "ignored" for keys the registry does not use (NOOP, others').
   */
  applyRecord(key: string | Buffer, value: string | Buffer | null): 'applied' | 'ignored' {
    const record = parseSchemaTopicRecord(key, value)
    switch (record.keytype) {
      case 'SCHEMA':
        if (record.value) this.putVersion(record.value)
        else this.removeVersion(record.subject, record.version)
        return 'applied'
      case 'CONFIG':
        if (record.subject === null) this.globalLevel = record.level ?? undefined
        else if (record.level === null) this.subjectLevels.delete(record.subject)
        else this.subjectLevels.set(record.subject, record.level)
        return 'applied'
      case 'DELETE_SUBJECT':
        for (const v of this.subjectVersions.get(record.subject)?.values() ?? []) {
          if (v.version <= record.upToVersion) v.deleted = true
        }
        return 'applied'
      case 'ID_WATERMARK':
        this.maxId = Math.max(this.maxId, record.id)
        return 'applied'
      case 'IGNORED':
        return 'ignored'
    }
  }

  // ---- internals ----

  private putVersion(record: SchemaVersionRecord): void {
    let schema: string
    try {
      schema = canonicalSchemaText(JSON.parse(record.schema))
    } catch (error) {
      throw new SchemaError(SchemaErrorCode.SCHEMAS_TOPIC_RECORD, `bad _schemas record: schema of ${record.subject} v${record.version} is not JSON`, { subject: record.subject, version: record.version }, { cause: error })
    }
    const known = this.schemasById.get(record.id)
    if (known && known.schema !== schema) {
      throw new SchemaError(SchemaErrorCode.SCHEMAS_TOPIC_RECORD, `bad _schemas record: ${record.subject} v${record.version} gives id ${record.id} to a schema other than the one it names`, { subject: record.subject, version: record.version, schemaId: record.id })
    }
    this.removeVersion(record.subject, record.version)
    let versions = this.subjectVersions.get(record.subject)
    if (!versions) this.subjectVersions.set(record.subject, (versions = new Map()))
    versions.set(record.version, { ...record, schema })
    const entry = this.schemasById.get(record.id)
    if (entry) entry.references++
    else {
      this.schemasById.set(record.id, { schema, references: 1 })
      this.idsBySchema.set(schema, record.id)
    }
    this.maxId = Math.max(this.maxId, record.id)
  }

  private removeVersion(subject: string, version: number): void {
    const versions = this.subjectVersions.get(subject)
    const old = versions?.get(version)
    if (!versions || !old) return
    versions.delete(version)
    if (versions.size === 0) this.subjectVersions.delete(subject)
    const entry = this.schemasById.get(old.id)!
    if (--entry.references === 0) {
      this.schemasById.delete(old.id)
      this.idsBySchema.delete(entry.schema)
    }
  }

  /** Runs write operations one at a time, in call order, whether the previous one failed or not. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const attempt = async (): Promise<T> => {
      if (this.store.beforeWrite) {
        try {
          await this.store.beforeWrite()
        } catch (error) {
          throw new SchemaError(SchemaErrorCode.STORE, `Error in the backend data store: ${(error as Error)?.message ?? String(error)}`, {}, { cause: error })
        }
      }
      return work()
    }
    // A store error leaves nothing applied, and work recomputes from the state, so it is safe to
    // run again: a shared store fails a write when another process became the writer meanwhile.
    const guarded = async (): Promise<T> => {
      for (let tries = 1; ; tries++) {
        try {
          return await attempt()
        } catch (error) {
          if (!(error instanceof SchemaError && error.retriable) || tries === STORE_ATTEMPTS) throw error
          await new Promise(resolve => setTimeout(resolve, 20 * tries + Math.random() * 30))
        }
      }
    }
    const run = this.writes.then(guarded, guarded)
    this.writes = run.catch(() => undefined)
    return run
  }

  /** Writes the records of `changes` to the store, then applies them; on a store failure nothing is applied. */
  private async commit(changes: readonly RegistryChange[]): Promise<void> {
    const records = changes.flatMap(recordsFor)
    try {
      await this.store.append(records)
    } catch (error) {
      throw new SchemaError(SchemaErrorCode.STORE, `Error in the backend data store: ${(error as Error)?.message ?? String(error)}`, {}, { cause: error })
    }
    for (const record of records) this.applyRecord(record.key, record.value)
  }

  private parseInput(input: SchemaInput): { canonical: string; avro: AvroType } {
    if (typeof input !== 'object' || input === null || typeof input.schema !== 'string') {
      throw new SchemaError(SchemaErrorCode.INVALID_SCHEMA, 'Invalid schema: the request needs a "schema" string')
    }
    if (input.schemaType !== undefined && String(input.schemaType).toUpperCase() !== 'AVRO') {
      throw new SchemaError(SchemaErrorCode.INVALID_SCHEMA, `Invalid schema: schemaType ${String(input.schemaType)} is not supported; this registry holds AVRO schemas only`)
    }
    if (input.references !== undefined && (!Array.isArray(input.references) || input.references.length > 0)) {
      throw new SchemaError(SchemaErrorCode.INVALID_SCHEMA, 'Invalid schema: schema references are not supported')
    }
    let json: unknown
    try {
      json = JSON.parse(input.schema)
    } catch (error) {
      throw new SchemaError(SchemaErrorCode.INVALID_SCHEMA, `Invalid schema: not JSON: ${(error as Error).message}`, {}, { cause: error })
    }
    const canonical = canonicalSchemaText(json)
    const bytes = Buffer.byteLength(canonical)
    if (bytes > this.limits.maxSchemaBytes) {
      throw new SchemaError(SchemaErrorCode.INVALID_SCHEMA, `Invalid schema: ${bytes} bytes exceeds maxSchemaBytes (${this.limits.maxSchemaBytes})`)
    }
    const knownId = this.idsBySchema.get(canonical)
    const avro = knownId !== undefined ? this.schemaById(knownId).avro : parseAvroSchema(json)
    return { canonical, avro }
  }

  private assertSubject(subject: string): void {
    const bytes = typeof subject === 'string' ? Buffer.byteLength(subject) : 0
    // eslint-disable-next-line no-control-regex
    if (bytes === 0 || bytes > this.limits.maxSubjectBytes || /[\u0000-\u001f\u007f]/.test(subject)) {
      throw new SchemaError(SchemaErrorCode.INVALID_SUBJECT, `The specified subject is not valid: it must be 1 to ${this.limits.maxSubjectBytes} UTF-8 bytes without control characters`, typeof subject === 'string' ? { subject } : {})
    }
  }

  private assertRoom(subject: string, versions: Map<number, SchemaVersionRecord> | undefined, existingId: number | undefined): void {
    const limits = this.limits
    if (!versions && this.subjectVersions.size >= limits.maxSubjects) {
      throw new SchemaError(SchemaErrorCode.LIMIT_EXCEEDED, `maxSubjects (${limits.maxSubjects}) reached; delete subjects permanently to make room`, { subject })
    }
    if (versions && versions.size >= limits.maxVersionsPerSubject) {
      throw new SchemaError(SchemaErrorCode.LIMIT_EXCEEDED, `maxVersionsPerSubject (${limits.maxVersionsPerSubject}) reached for subject '${subject}'`, { subject })
    }
    if (existingId === undefined && this.schemasById.size >= limits.maxSchemas) {
      throw new SchemaError(SchemaErrorCode.LIMIT_EXCEEDED, `maxSchemas (${limits.maxSchemas}) reached`, { subject })
    }
    if (existingId === undefined && this.maxId >= MAX_VERSION) {
      throw new SchemaError(SchemaErrorCode.LIMIT_EXCEEDED, `schema ids exhausted (${MAX_VERSION})`, { subject })
    }
  }

  /**
   * The subject's versions, ascending; SUBJECT_NOT_FOUND when there are none to show, unless
   * `emptyIsFine`.
   */
  private versionRecords(subject: string, includeDeleted: boolean, emptyIsFine = false): SchemaVersionRecord[] {
    const versions = [...(this.subjectVersions.get(subject)?.values() ?? [])].filter((v) => includeDeleted || !v.deleted).sort(byVersion)
    if (versions.length === 0 && !emptyIsFine) throw subjectNotFound(subject)
    return versions
  }

  private findVersion(subject: string, version: VersionSpec, includeDeleted: boolean): SchemaVersionRecord {
    const versions = this.versionRecords(subject, includeDeleted)
    const found = version === 'latest' ? versions[versions.length - 1] : versions.find((v) => v.version === version)
    if (!found) throw versionNotFound(subject, version)
    return found
  }

  private existing(record: SchemaVersionRecord): { version: number; avro: AvroType } {
    return { version: record.version, avro: this.schemaById(record.id).avro }
  }

  private publicVersion(record: SchemaVersionRecord): SubjectVersion {
    return { subject: record.subject, version: record.version, id: record.id, schema: record.schema }
  }
}
