// Loads the .avsc files beside this module into typed handles, one per record Sluice writes.
//
// A file may refer to a named type defined in a file loaded before it ("sluice.Point"), as Avro's
// own tools allow for multi-file schemas, so each definition exists once. What is registered and
// what readers get is the standalone form: every referenced type inlined at its first use, in
// canonical text (canonical.ts). `SluiceType.schema` is that text.

import { readFileSync } from 'node:fs'
import { canonicalSchemaText } from './canonical.ts'
import { parseAvroSchema, type AvroType } from './avro-types.ts'
import type { CdcEvent, ChangelogEntry, CompressorState, IngestBatch, IngestBatchV1, IngestCommand, IngestCommandV1, IngestCommandV2, IngestRecord } from './types.ts'

/** A hand-written codec for one type, checked byte for byte against avsc in tests (codec.ts uses it). */
export interface FastCodec<T> {
  encode(value: T): Buffer
  decode(payload: Buffer): T
}

/** One Avro schema of Sluice and the TypeScript type of its values. */
export interface SluiceType<T> {
  /** Full name of the record ("sluice.IngestBatch"). */
  readonly name: string
  /** The .avsc file, relative to schemas/. */
  readonly file: string
  /** Standalone canonical schema text: what the registry stores, and what readers parse. */
  readonly schema: string
  readonly avro: AvroType
  /** Never set: carries T, so that encode(type, value) checks the value's type. */
  readonly __value?: T
}

const NAMED_TYPES = new Set(['record', 'error', 'enum', 'fixed'])
const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'])

type Json = unknown
type JsonObject = Record<string, Json>

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function fullName(name: string, namespace: string | undefined): string {
  return name.includes('.') || !namespace ? name : `${namespace}.${name}`
}

/**
 * Calls `visit` for each named type definition in `schema`, with its full name; Avro's namespace
 * rule applies (a nested definition without namespace takes its enclosing one).
 */
function forEachDefinition(schema: Json, namespace: string | undefined, visit: (name: string, definition: JsonObject) => void): void {
  if (Array.isArray(schema)) {
    for (const branch of schema) forEachDefinition(branch, namespace, visit)
    return
  }
  if (!isObject(schema)) return
  let inner = namespace
  if (NAMED_TYPES.has(schema.type as string) && typeof schema.name === 'string') {
    const name = fullName(schema.name, typeof schema.namespace === 'string' ? schema.namespace : namespace)
    visit(name, schema)
    inner = namespaceOf(name)
  }
  if (Array.isArray(schema.fields)) {
    for (const field of schema.fields) if (isObject(field)) forEachDefinition(field.type, inner, visit)
  }
  if (schema.items !== undefined) forEachDefinition(schema.items, inner, visit)
  if (schema.values !== undefined) forEachDefinition(schema.values, inner, visit)
  if (typeof schema.type === 'object') forEachDefinition(schema.type, inner, visit)
}

function namespaceOf(name: string): string | undefined {
  return name.includes('.') ? name.slice(0, name.lastIndexOf('.')) : undefined
}

/**
 * Replaces the first reference to each type of `library` by its definition (recursively), giving a
 * schema that stands alone. An inlined definition keeps its full name: it gets an explicit namespace
 * where the enclosing one differs.
 */
export function inlineReferences(schema: Json, library: ReadonlyMap<string, JsonObject>): Json {
  const defined = new Set<string>()
  const walk = (node: Json, namespace: string | undefined): Json => {
    if (typeof node === 'string') {
      if (PRIMITIVES.has(node)) return node
      const name = fullName(node, namespace)
      const definition = library.get(name)
      if (defined.has(name) || !definition) return node
      const copy = structuredClone(definition)
      if (!String(copy.name).includes('.') && namespaceOf(name) !== namespace) copy.namespace = namespaceOf(name)
      return walk(copy, namespace)
    }
    if (Array.isArray(node)) return node.map((branch) => walk(branch, namespace))
    if (!isObject(node)) return node
    let inner = namespace
    if (NAMED_TYPES.has(node.type as string) && typeof node.name === 'string') {
      const name = fullName(node.name, typeof node.namespace === 'string' ? node.namespace : namespace)
      defined.add(name)
      inner = namespaceOf(name)
    }
    const out: JsonObject = { ...node }
    if (Array.isArray(node.fields)) {
      out.fields = node.fields.map((field) => (isObject(field) ? { ...field, type: walk(field.type, inner) } : field))
    }
    if (node.items !== undefined) out.items = walk(node.items, inner)
    if (node.values !== undefined) out.values = walk(node.values, inner)
    if (typeof node.type === 'object' && node.type !== null) out.type = walk(node.type, inner)
    return out
  }
  return walk(schema, undefined)
}

const SCHEMA_DIRECTORY = new URL('./', import.meta.url)

/** Reads a .avsc file of schemas/ as JSON. */
export function readSchemaFile(file: string): Json {
  return JSON.parse(readFileSync(new URL(file, SCHEMA_DIRECTORY), 'utf8')) as Json
}

/** Every named definition of the loaded files, by full name; a name defined twice is a bug. */
const library = new Map<string, JsonObject>()

function load<T>(name: string, file: string): SluiceType<T> {
  const written = readSchemaFile(file)
  forEachDefinition(written, undefined, (definitionName, definition) => {
    if (library.has(definitionName)) throw new Error(`${file}: ${definitionName} is already defined by an earlier .avsc file`)
    library.set(definitionName, definition)
  })
  const standalone = inlineReferences(written, library)
  return { name, file, schema: canonicalSchemaText(standalone), avro: parseAvroSchema(standalone) }
}

// In dependency order: a file may refer only to types of the files above it.
export const ingestBatchType: SluiceType<IngestBatch> = load('sluice.IngestBatch', 'ingest-batch.avsc')
export const ingestCommandType: SluiceType<IngestCommand> = load('sluice.IngestCommand', 'ingest-command.avsc')
export const ingestRecordType: SluiceType<IngestRecord> = load('sluice.IngestRecord', 'ingest-record.avsc')
export const changelogEntryType: SluiceType<ChangelogEntry> = load('sluice.ChangelogEntry', 'changelog-entry.avsc')
export const compressorStateType: SluiceType<CompressorState> = load('sluice.CompressorState', 'compressor-state.avsc')
export const cdcEventType: SluiceType<CdcEvent> = load('sluice.CdcEvent', 'cdc-event.avsc')

/** Frozen earlier versions, for evolution tests; never used to write. */
export const ingestBatchV1Type: SluiceType<IngestBatchV1> = (() => {
  const written = readSchemaFile('history/ingest-batch.v1.avsc')
  return { name: 'sluice.IngestBatch', file: 'history/ingest-batch.v1.avsc', schema: canonicalSchemaText(written), avro: parseAvroSchema(written) }
})()

export const ingestCommandV1Type: SluiceType<IngestCommandV1> = (() => {
  const written = readSchemaFile('history/ingest-command.v1.avsc')
  return { name: 'sluice.IngestCommand', file: 'history/ingest-command.v1.avsc', schema: canonicalSchemaText(written), avro: parseAvroSchema(written) }
})()

export const ingestCommandV2Type: SluiceType<IngestCommandV2> = (() => {
  const written = readSchemaFile('history/ingest-command.v2.avsc')
  return { name: 'sluice.IngestCommand', file: 'history/ingest-command.v2.avsc', schema: canonicalSchemaText(written), avro: parseAvroSchema(written) }
})()

export const sluiceTypes = [ingestBatchType, ingestCommandType, ingestRecordType, changelogEntryType, compressorStateType, cdcEventType] as const

/**
 * The value schema of each Sluice topic, under Confluent's default TopicNameStrategy subject
 * "<topic>-value". Register these explicitly: @kafkajs/confluent-schema-registry would otherwise
 * derive the subject from the record name.
 */
export const topicValueSubjects = Object.freeze({
  'sluice.ingest-value': ingestRecordType,
  'sluice.changelog-value': changelogEntryType,
  'sluice.state-value': compressorStateType,
  'sluice.cdc-value': cdcEventType,
})
