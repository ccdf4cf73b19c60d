// Schema evolution (evolution.md) on IngestBatch version 1 → 2 (version 2 adds idempotencyKey with
// default null): old records stay readable with the current schema, through Avro resolution and
// through the registry, and the registry's compatibility checker refuses changes that would break them.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { ingestBatchType, ingestBatchV1Type, ingestCommandType, ingestCommandV1Type, ingestCommandV2Type, readSchemaFile } from './catalog.ts'
import { decode, encodeFramed, unframe } from './codec.ts'
import { MemorySchemaStore, SchemaRegistry } from './registry.ts'
import { plain, sampleBatch, sampleCommand } from './testing/samples.ts'
import type { IngestBatch, IngestBatchV1 } from './types.ts'

/** Frozen files and their SHA-256: a frozen schema is the writer schema of records already in Kafka. */
const FROZEN = {
  'history/ingest-batch.v1.avsc': '4b2356818b570e1813a8e9eef06df18e68d8afbd76980e71d917610a144defda',
  'history/ingest-command.v1.avsc': '6005c8d134459203de8a2d45a7079910834f8b07e0214601e1db1cc97e89345a',
  'history/ingest-command.v2.avsc': 'cd300d41f28352f71b8ad50c2538497bf3e7506ff224ac77ec82ee07a654502a',
}

const { idempotencyKey: _dropped, ...v1Record } = sampleBatch
const recordV1: IngestBatchV1 = v1Record

type Json = Record<string, unknown>

/** The current IngestBatch schema (standalone JSON), changed by `edit`. */
function editedBatchSchema(edit: (schema: Json) => void): string {
  const schema = JSON.parse(ingestBatchType.schema) as Json
  edit(schema)
  return JSON.stringify(schema)
}

function fieldOf(record: Json, name: string): Json {
  return (record.fields as Json[]).find((field) => field.name === name)!
}

async function registryWith(subject: string, level: string, ...schemas: string[]): Promise<SchemaRegistry> {
  const registry = new SchemaRegistry({ store: new MemorySchemaStore() })
  await registry.setCompatibility(subject, level)
  for (const schema of schemas) await registry.register(subject, { schema })
  return registry
}

describe('IngestBatch v1 → v2', () => {
  it('keeps the frozen history files unchanged', () => {
    for (const [file, sha256] of Object.entries(FROZEN)) {
      assert.equal(createHash('sha256').update(readFileSync(new URL(file, import.meta.url))).digest('hex'), sha256, `${file} is frozen: never edit it`)
    }
  })

  it('differs from v1 only by the optional idempotencyKey', () => {
    const v1 = readSchemaFile('history/ingest-batch.v1.avsc') as Json
    const v2 = readSchemaFile('ingest-batch.avsc') as Json
    const names = (schema: Json): string[] => (schema.fields as Json[]).map((field) => field.name as string)
    assert.deepEqual(names(v2), [...names(v1), 'idempotencyKey'])
    assert.deepEqual(fieldOf(v2, 'idempotencyKey').default, null)
    assert.deepEqual(v1.fields, (v2.fields as Json[]).slice(0, -1))
  })

  it('reads a record written with v1 using the current schema (Avro resolution)', () => {
    const written = ingestBatchV1Type.avro.toBuffer(recordV1)
    const read = decode(ingestBatchType, written, ingestBatchV1Type)
    assert.deepEqual(plain(read), { ...recordV1, idempotencyKey: null })
    // Without the writer schema the bytes do not parse as v2: resolution is what makes them readable.
    assert.throws(() => decode(ingestBatchType, written), { code: 'SLUICE_ERR_SCHEMA_DECODE' })
  })

  it('lets a v1 reader read v2 records too (FULL)', () => {
    const written = ingestBatchType.avro.toBuffer(sampleBatch)
    assert.deepEqual(plain(decode(ingestBatchV1Type, written, ingestBatchType)), plain(recordV1))
  })

  it('goes through the registry: v2 registers after v1, and v1-framed records decode as v2', async () => {
    const registry = await registryWith('sluice.IngestBatch-value', 'FULL_TRANSITIVE', ingestBatchV1Type.schema)
    const v1 = registry.version('sluice.IngestBatch-value', 'latest')
    const v2 = await registry.register('sluice.IngestBatch-value', { schema: ingestBatchType.schema })
    assert.deepEqual([v1.version, v2.version], [1, 2])
    assert.notEqual(v1.id, v2.id)

    const framed = encodeFramed(ingestBatchV1Type, v1.id, recordV1)
    const { schemaId, payload } = unframe(framed)
    const read: IngestBatch = decode(ingestBatchType, payload, registry.schemaById(schemaId))
    assert.equal(read.idempotencyKey, null)
    assert.deepEqual(plain(read.points), plain(recordV1.points))
  })
})

describe('IngestCommand v1 → v2 (expressions, codecs, two appended kinds)', () => {
  it('reads a v1 command with v2 (absent fields are null) and registers v2 after v1 under BACKWARD_TRANSITIVE, not FULL', async () => {
    const written = ingestCommandV1Type.avro.toBuffer(sampleCommand)
    const { ttlNs: _ttl, columns: _columns, ...v2Command } = sampleCommand
    assert.deepEqual(plain(decode(ingestCommandV2Type, written, ingestCommandV1Type)), plain(v2Command))
    const backward = await registryWith('sluice.IngestCommand-value', 'BACKWARD_TRANSITIVE', ingestCommandV1Type.schema)
    assert.equal((await backward.register('sluice.IngestCommand-value', { schema: ingestCommandV2Type.schema })).version, 2)
    // New kinds without an enum default: readers first (evolution.md rule 6).
    const full = await registryWith('sluice.IngestCommand-value', 'FULL_TRANSITIVE', ingestCommandV1Type.schema)
    await assert.rejects(full.register('sluice.IngestCommand-value', { schema: ingestCommandV2Type.schema }), { code: 'SLUICE_ERR_SCHEMA_INCOMPATIBLE' })
  })

  it('a v1 reader cannot resolve v2 at all: it fails loudly rather than guess a kind', () => {
    const codec = ingestCommandV2Type.avro.toBuffer({ ...sampleCommand, kind: 'SET_CODEC', set: [], codecs: [{ field: 'pressure', fieldType: 'float', codec: 'CODEC(SDT(0.5))' }], expressions: null })
    assert.throws(() => decode(ingestCommandV1Type, codec, ingestCommandV2Type), { code: 'SLUICE_ERR_SCHEMA_INCOMPATIBLE', message: /CommandKind/ })
    const v2 = decode(ingestCommandV2Type, codec)
    assert.deepEqual(plain(v2.codecs), [{ field: 'pressure', fieldType: 'float', codec: 'CODEC(SDT(0.5))' }])
  })
})

describe('IngestCommand v2 → v3 (ttlNs, columns, four appended kinds)', () => {
  it('reads v1 and v2 commands with v3 (the new fields are null) and registers v3 after both under BACKWARD_TRANSITIVE, not FULL', async () => {
    const codec = { ...sampleCommand, kind: 'SET_CODEC' as const, set: [], codecs: [{ field: 'pressure', fieldType: 'float', codec: 'CODEC(SDT(0.5))' }] }
    assert.deepEqual(plain(decode(ingestCommandType, ingestCommandV2Type.avro.toBuffer(codec), ingestCommandV2Type)), plain({ ...codec, ttlNs: null, columns: null }))
    assert.deepEqual(plain(decode(ingestCommandType, ingestCommandV1Type.avro.toBuffer(sampleCommand), ingestCommandV1Type)), plain({ ...sampleCommand, ttlNs: null, columns: null }))
    const backward = await registryWith('sluice.IngestCommand-value', 'BACKWARD_TRANSITIVE', ingestCommandV1Type.schema, ingestCommandV2Type.schema)
    assert.equal((await backward.register('sluice.IngestCommand-value', { schema: ingestCommandType.schema })).version, 3)
    const full = await registryWith('sluice.IngestCommand-value', 'FULL_TRANSITIVE', ingestCommandV2Type.schema)
    await assert.rejects(full.register('sluice.IngestCommand-value', { schema: ingestCommandType.schema }), { code: 'SLUICE_ERR_SCHEMA_INCOMPATIBLE' })
  })

  it('a v2 reader fails loudly on a v3 kind, and reads a v3 record of an old kind', () => {
    const ttl = ingestCommandType.avro.toBuffer({ ...sampleCommand, measurement: '', kind: 'SET_DATABASE_TTL', set: [], ttlNs: 604_800_000_000_000n, columns: null })
    assert.throws(() => decode(ingestCommandV2Type, ttl, ingestCommandType), { code: 'SLUICE_ERR_SCHEMA_INCOMPATIBLE', message: /CommandKind/ })
    assert.equal(decode(ingestCommandType, ttl).ttlNs, 604_800_000_000_000n)
    const drop = ingestCommandType.avro.toBuffer({ ...sampleCommand, kind: 'DROP_FIELDS', set: [], columns: ['pressure'] })
    assert.deepEqual(decode(ingestCommandType, drop).columns, ['pressure'])
  })
})

describe('incompatible changes are refused', () => {
  const subject = 'sluice.IngestBatch-value'
  const incompatible = { code: 'SLUICE_ERR_SCHEMA_INCOMPATIBLE' }

  it('a new field without a default (BACKWARD)', async () => {
    const registry = await registryWith(subject, 'BACKWARD', ingestBatchType.schema)
    const v3 = editedBatchSchema((schema) => (schema.fields as Json[]).push({ name: 'precision', type: 'string' }))
    await assert.rejects(registry.register(subject, { schema: v3 }), { ...incompatible, message: /default-less .*precision/ })
    assert.equal(registry.checkCompatibility(subject, { schema: v3 }, 'latest').compatible, false)
    // With a default it is fine, and a new version.
    const fixed = editedBatchSchema((schema) => (schema.fields as Json[]).push({ name: 'precision', type: ['null', 'string'], default: null }))
    assert.equal((await registry.register(subject, { schema: fixed })).version, 2)
  })

  it('a type change that is not a promotion, and a narrowed union (BACKWARD)', async () => {
    const registry = await registryWith(subject, 'BACKWARD', ingestBatchType.schema)
    const stringTime = ingestBatchType.schema.replace('"name":"timeNs","type":"long"', '"name":"timeNs","type":"string"')
    assert.notEqual(stringTime, ingestBatchType.schema)
    await assert.rejects(registry.register(subject, { schema: stringTime }), incompatible)
    const noBoolean = ingestBatchType.schema.replace(',"string","boolean"]', ',"string"]')
    assert.notEqual(noBoolean, ingestBatchType.schema)
    await assert.rejects(registry.register(subject, { schema: noBoolean }), incompatible)
    // Promotion is fine: receivedAtNs long → double reads every old long.
    const promoted = ingestBatchType.schema.replace('"name":"receivedAtNs","type":"long"', '"name":"receivedAtNs","type":"double"')
    assert.equal((await registry.register(subject, { schema: promoted })).version, 2)
  })

  it('a removed enum symbol without an enum default (BACKWARD)', async () => {
    const registry = await registryWith('sluice.IngestCommand-value', 'BACKWARD', ingestCommandType.schema)
    const noDelete = ingestCommandType.schema.replace('"symbols":["UPDATE_FIELDS","UPDATE_TAGS","DELETE","UPDATE_EXPRESSIONS","SET_CODEC","SET_DATABASE_TTL","DROP_DATABASE","DROP_TABLE","DROP_FIELDS"]', '"symbols":["UPDATE_FIELDS","UPDATE_TAGS","UPDATE_EXPRESSIONS","SET_CODEC","SET_DATABASE_TTL","DROP_DATABASE","DROP_TABLE","DROP_FIELDS"]')
    assert.notEqual(noDelete, ingestCommandType.schema)
    await assert.rejects(registry.register('sluice.IngestCommand-value', { schema: noDelete }), incompatible)
  })

  it('a removed field without a default (FULL), which BACKWARD alone allows', async () => {
    const withoutSource = editedBatchSchema((schema) => { schema.fields = (schema.fields as Json[]).filter((field) => field.name !== 'tenant') })
    const full = await registryWith(subject, 'FULL', ingestBatchType.schema)
    await assert.rejects(full.register(subject, { schema: withoutSource }), { ...incompatible, message: /FORWARD: version 1 cannot read/ })
    const backward = await registryWith(subject, 'BACKWARD', ingestBatchType.schema)
    assert.equal((await backward.register(subject, { schema: withoutSource })).version, 2)
  })

  it('an appended symbol without default: BACKWARD yes, FORWARD no (readers first, evolution.md rule 6)', async () => {
    const withTruncate = ingestCommandType.schema.replace('"symbols":["UPDATE_FIELDS","UPDATE_TAGS","DELETE","UPDATE_EXPRESSIONS","SET_CODEC","SET_DATABASE_TTL","DROP_DATABASE","DROP_TABLE","DROP_FIELDS"]', '"symbols":["UPDATE_FIELDS","UPDATE_TAGS","DELETE","UPDATE_EXPRESSIONS","SET_CODEC","SET_DATABASE_TTL","DROP_DATABASE","DROP_TABLE","DROP_FIELDS","TRUNCATE"]')
    const backward = await registryWith('c', 'BACKWARD_TRANSITIVE', ingestCommandType.schema)
    assert.equal((await backward.register('c', { schema: withTruncate })).version, 2)
    const full = await registryWith('c', 'FULL_TRANSITIVE', ingestCommandType.schema)
    await assert.rejects(full.register('c', { schema: withTruncate }), incompatible)
  })
})
