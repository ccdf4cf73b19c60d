// The registry core: Confluent's semantics for subjects, versions, ids, levels and deletes, and the
// `_schemas` topic as its only storage (a replay rebuilds the same registry).

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ingestBatchType } from './catalog.ts'
import { MemorySchemaStore, parseVersion, SchemaRegistry, type SchemaStore } from './registry.ts'
import type { SchemaTopicRecord } from './schemas-topic.ts'

const record = (name: string, fields: unknown[] = []): string => JSON.stringify({ type: 'record', name, fields })
const A1 = record('A', [{ name: 'x', type: 'long' }])
const A2 = record('A', [{ name: 'x', type: 'long' }, { name: 'y', type: ['null', 'string'], default: null }])
const A_BAD = record('A', [{ name: 'x', type: 'long' }, { name: 'z', type: 'string' }])
const B1 = record('B')

function setUp(store = new MemorySchemaStore()): { store: MemorySchemaStore; registry: SchemaRegistry } {
  return { store, registry: new SchemaRegistry({ store }) }
}

/** Everything a client can observe, for comparing a registry with its replay. */
function snapshot(registry: SchemaRegistry): unknown {
  return {
    global: registry.compatibilityLevel(),
    subjects: registry.subjects({ includeDeleted: true }).map((subject) => ({
      subject,
      live: registry.subjects().includes(subject),
      level: (() => { try { return registry.subjectCompatibilityLevel(subject) } catch { return null } })(),
      versions: registry.versions(subject, { includeDeleted: true }).map((v) => registry.version(subject, v, { includeDeleted: true })),
    })),
  }
}

function replay(records: readonly SchemaTopicRecord[]): SchemaRegistry {
  const registry = new SchemaRegistry({ store: new MemorySchemaStore() })
  for (const { key, value } of records) registry.applyRecord(key, value)
  return registry
}

describe('SchemaRegistry: register and read', () => {
  it('registers versions under a subject with global ids', async () => {
    const { registry } = setUp()
    assert.deepEqual(await registry.register('a-value', { schema: A1 }), { id: 1, version: 1 })
    assert.deepEqual(await registry.register('a-value', { schema: A2 }), { id: 2, version: 2 })
    assert.deepEqual(await registry.register('b-value', { schema: B1 }), { id: 3, version: 1 })
    assert.deepEqual(registry.subjects(), ['a-value', 'b-value'])
    assert.deepEqual(registry.versions('a-value'), [1, 2])
    assert.deepEqual(registry.version('a-value', 'latest'), { subject: 'a-value', version: 2, id: 2, schema: A2 })
    assert.deepEqual(registry.version('a-value', 1).schema, A1)
    assert.equal(registry.schemaById(3).schema, B1)
    assert.equal(registry.schemaById(3).avro.name, 'B')
  })

  it('is idempotent: the same schema (any whitespace or key order) returns the existing id and writes nothing', async () => {
    const { registry, store } = setUp()
    await registry.register('a-value', { schema: A1 })
    const written = store.records.length
    const reformatted = JSON.stringify({ fields: [{ type: 'long', name: 'x' }], name: 'A', type: 'record' }, null, 2)
    assert.deepEqual(await registry.register('a-value', { schema: reformatted }), { id: 1, version: 1 })
    assert.equal(store.records.length, written)
    // Under another subject: a new version, the same global id.
    assert.deepEqual(await registry.register('other', { schema: reformatted }), { id: 1, version: 1 })
    assert.deepEqual(registry.subjectVersionsById(1), [{ subject: 'a-value', version: 1 }, { subject: 'other', version: 1 }])
  })

  it('looks a schema up under a subject', async () => {
    const { registry } = setUp()
    await registry.register('a-value', { schema: A1 })
    assert.deepEqual(registry.lookup('a-value', { schema: A1 }), { subject: 'a-value', version: 1, id: 1, schema: A1 })
    assert.throws(() => registry.lookup('a-value', { schema: A2 }), { code: 'SLUICE_ERR_SCHEMA_NOT_FOUND' })
    assert.throws(() => registry.lookup('nope', { schema: A1 }), { code: 'SLUICE_ERR_SUBJECT_NOT_FOUND', message: "Subject 'nope' not found." })
  })

  it('answers not-found errors with Confluent\'s messages', async () => {
    const { registry } = setUp()
    await registry.register('a-value', { schema: A1 })
    assert.throws(() => registry.versions('nope'), { code: 'SLUICE_ERR_SUBJECT_NOT_FOUND' })
    assert.throws(() => registry.version('a-value', 9), { code: 'SLUICE_ERR_SCHEMA_VERSION_NOT_FOUND', message: 'Version 9 not found.' })
    assert.throws(() => registry.schemaById(99), { code: 'SLUICE_ERR_SCHEMA_NOT_FOUND', message: 'Schema 99 not found' })
  })

  it('refuses invalid schemas, subjects and unsupported features', async () => {
    const { registry } = setUp()
    const invalid = { code: 'SLUICE_ERR_SCHEMA_INVALID' }
    await assert.rejects(registry.register('s', { schema: '{not json' }), invalid)
    await assert.rejects(registry.register('s', { schema: '{"type":"record","name":"R"}' }), invalid)
    await assert.rejects(registry.register('s', { schema: '"nosuchtype"' }), invalid)
    await assert.rejects(registry.register('s', { schema: A1, schemaType: 'PROTOBUF' }), { ...invalid, message: /AVRO schemas only/ })
    await assert.rejects(registry.register('s', { schema: A1, references: [{ name: 'x', subject: 'y', version: 1 }] }), { ...invalid, message: /references/ })
    await assert.rejects(registry.register('', { schema: A1 }), { code: 'SLUICE_ERR_SCHEMA_INVALID_SUBJECT' })
    await assert.rejects(registry.register('a\nb', { schema: A1 }), { code: 'SLUICE_ERR_SCHEMA_INVALID_SUBJECT' })
    await assert.rejects(registry.register('x'.repeat(256), { schema: A1 }), { code: 'SLUICE_ERR_SCHEMA_INVALID_SUBJECT' })
    const small = new SchemaRegistry({ store: new MemorySchemaStore(), limits: { maxSchemaBytes: 20 } })
    await assert.rejects(small.register('s', { schema: A1 }), { ...invalid, message: /maxSchemaBytes \(20\)/ })
    assert.deepEqual(await registry.register('s', { schema: A1, schemaType: 'AVRO', references: [] }), { id: 1, version: 1 })
  })

  it('enforces its count limits', async () => {
    const registry = new SchemaRegistry({ store: new MemorySchemaStore(), limits: { maxSubjects: 1, maxVersionsPerSubject: 1 } })
    await registry.register('one', { schema: A1 })
    await assert.rejects(registry.register('two', { schema: B1 }), { code: 'SLUICE_ERR_SCHEMA_LIMIT_EXCEEDED', message: /maxSubjects/ })
    await assert.rejects(registry.register('one', { schema: A2 }), { code: 'SLUICE_ERR_SCHEMA_LIMIT_EXCEEDED', message: /maxVersionsPerSubject/ })
    assert.throws(() => new SchemaRegistry({ store: new MemorySchemaStore(), limits: { maxSchemas: 0 } }), /maxSchemas/)
  })

  it('parses versions as Confluent URLs give them', () => {
    assert.equal(parseVersion('latest'), 'latest')
    assert.equal(parseVersion('-1'), 'latest')
    assert.equal(parseVersion('7'), 7)
    for (const bad of ['0', '-2', 'x', '1.5', '2147483648', '']) {
      assert.throws(() => parseVersion(bad), { code: 'SLUICE_ERR_SCHEMA_INVALID_VERSION' }, bad)
    }
  })
})

describe('SchemaRegistry: compatibility', () => {
  it('defaults to BACKWARD, per subject or global', async () => {
    const { registry } = setUp()
    assert.equal(registry.compatibilityLevel(), 'BACKWARD')
    await registry.register('a-value', { schema: A1 })
    await assert.rejects(registry.register('a-value', { schema: A_BAD }), { code: 'SLUICE_ERR_SCHEMA_INCOMPATIBLE', message: /incompatible with an earlier schema for subject "a-value"/ })
    assert.throws(() => registry.subjectCompatibilityLevel('a-value'), { code: 'SLUICE_ERR_SUBJECT_COMPATIBILITY_NOT_CONFIGURED' })
    assert.equal(await registry.setCompatibility('a-value', 'none'), 'NONE')
    assert.equal(registry.subjectCompatibilityLevel('a-value'), 'NONE')
    assert.deepEqual(await registry.register('a-value', { schema: A_BAD }), { id: 2, version: 2 })
    assert.equal(await registry.setCompatibility(null, 'FULL'), 'FULL')
    assert.equal(registry.compatibilityLevel('other'), 'FULL')
    assert.equal(registry.compatibilityLevel('a-value'), 'NONE')
    assert.equal(await registry.deleteCompatibility('a-value'), 'NONE')
    assert.equal(registry.compatibilityLevel('a-value'), 'FULL')
    assert.equal(await registry.deleteCompatibility(null), 'FULL')
    assert.equal(registry.compatibilityLevel(), 'BACKWARD')
    await assert.rejects(registry.setCompatibility('a-value', 'SIDEWAYS'), { code: 'SLUICE_ERR_SCHEMA_INVALID_COMPATIBILITY' })
    await assert.rejects(registry.deleteCompatibility('a-value'), { code: 'SLUICE_ERR_SUBJECT_COMPATIBILITY_NOT_CONFIGURED' })
  })

  it('checks against the latest only, or every live version when transitive', async () => {
    const { registry } = setUp()
    await registry.setCompatibility('s', 'NONE')
    await registry.register('s', { schema: record('A', [{ name: 'x', type: 'long' }]) })
    await registry.register('s', { schema: record('A', [{ name: 'x', type: 'long' }, { name: 'y', type: 'string' }]) })
    // Needs y (no default) and drops x: reads version 2 data, not version 1 data.
    const candidate = { schema: record('A', [{ name: 'y', type: 'string' }]) }
    await registry.setCompatibility('s', 'BACKWARD')
    assert.deepEqual(registry.checkCompatibility('s', candidate, 'latest'), { compatible: true, messages: [] })
    assert.equal(registry.checkCompatibility('s', candidate, 1).compatible, false)
    await registry.setCompatibility('s', 'BACKWARD_TRANSITIVE')
    const all = registry.checkCompatibility('s', candidate, 'all')
    assert.equal(all.compatible, false)
    assert.match(all.messages.join('\n'), /version 1.*default-less A\.y/)
    assert.equal(registry.checkCompatibility('s', candidate, 'latest').compatible, true, 'one version: the level\'s direction only')
    await assert.rejects(registry.register('s', candidate), { code: 'SLUICE_ERR_SCHEMA_INCOMPATIBLE' })
  })

  it('accepts anything for a subject without versions, unless a missing version is named', () => {
    const { registry } = setUp()
    assert.deepEqual(registry.checkCompatibility('new', { schema: A1 }, 'latest'), { compatible: true, messages: [] })
    assert.deepEqual(registry.checkCompatibility('new', { schema: A1 }, 'all'), { compatible: true, messages: [] })
    assert.throws(() => registry.checkCompatibility('new', { schema: A1 }, 1), { code: 'SLUICE_ERR_SUBJECT_NOT_FOUND' })
    assert.throws(() => registry.checkCompatibility('new', { schema: '{' }, 'latest'), { code: 'SLUICE_ERR_SCHEMA_INVALID' })
  })
})

describe('SchemaRegistry: deletes', () => {
  it('soft-deletes a subject: hidden, ids still resolvable, re-registering continues the numbering', async () => {
    const { registry } = setUp()
    await registry.register('s', { schema: A1 })
    await registry.register('s', { schema: A2 })
    assert.deepEqual(await registry.deleteSubject('s'), [1, 2])
    assert.deepEqual(registry.subjects(), [])
    assert.deepEqual(registry.subjects({ includeDeleted: true }), ['s'])
    assert.throws(() => registry.versions('s'), { code: 'SLUICE_ERR_SUBJECT_NOT_FOUND' })
    assert.deepEqual(registry.versions('s', { includeDeleted: true }), [1, 2])
    assert.equal(registry.schemaById(1).schema, A1)
    await assert.rejects(registry.deleteSubject('s'), { code: 'SLUICE_ERR_SCHEMA_ALREADY_SOFT_DELETED' })
    // Deleted versions take no part in compatibility, and the id of an equal schema is reused.
    assert.deepEqual(await registry.register('s', { schema: A1 }), { id: 1, version: 3 })
  })

  it('deletes permanently only after a soft delete, and frees the id', async () => {
    const { registry } = setUp()
    await registry.register('s', { schema: A1 })
    await registry.setCompatibility('s', 'FULL')
    await assert.rejects(registry.deleteSubject('s', { permanent: true }), { code: 'SLUICE_ERR_SCHEMA_NOT_SOFT_DELETED' })
    await registry.deleteSubject('s')
    assert.deepEqual(await registry.deleteSubject('s', { permanent: true }), [1])
    assert.deepEqual(registry.subjects({ includeDeleted: true }), [])
    assert.throws(() => registry.schemaById(1), { code: 'SLUICE_ERR_SCHEMA_NOT_FOUND' })
    assert.throws(() => registry.subjectCompatibilityLevel('s'), { code: 'SLUICE_ERR_SUBJECT_COMPATIBILITY_NOT_CONFIGURED' })
    await assert.rejects(registry.deleteSubject('s'), { code: 'SLUICE_ERR_SUBJECT_NOT_FOUND' })
  })

  it('deletes single versions, soft then permanent', async () => {
    const { registry } = setUp()
    await registry.register('s', { schema: A1 })
    await registry.register('s', { schema: A2 })
    assert.equal(await registry.deleteVersion('s', 'latest'), 2)
    assert.deepEqual(registry.versions('s'), [1])
    await assert.rejects(registry.deleteVersion('s', 2), { code: 'SLUICE_ERR_SCHEMA_VERSION_NOT_FOUND' })
    await assert.rejects(registry.deleteVersion('s', 1, { permanent: true }), { code: 'SLUICE_ERR_SCHEMA_NOT_SOFT_DELETED', context: { subject: 's', version: 1 } })
    assert.equal(await registry.deleteVersion('s', 2, { permanent: true }), 2)
    assert.deepEqual(registry.versions('s', { includeDeleted: true }), [1])
  })
})

describe('SchemaRegistry: the _schemas topic', () => {
  it('rebuilds the same registry by replaying the log, or its compacted form', async () => {
    const { registry, store } = setUp()
    await registry.register('a', { schema: A1 })
    await registry.register('a', { schema: A2 })
    await registry.register('b', { schema: B1 })
    await registry.register('c', { schema: ingestBatchType.schema })
    await registry.setCompatibility('a', 'FULL')
    await registry.setCompatibility(null, 'FORWARD')
    await registry.deleteVersion('a', 1)
    await registry.deleteSubject('b')
    await registry.deleteSubject('b', { permanent: true })
    assert.deepEqual(snapshot(replay(store.records)), snapshot(registry))
    assert.deepEqual(snapshot(replay(store.compacted())), snapshot(registry))
    // Applying records again changes nothing (a consumer re-reading its own writes).
    for (const { key, value } of store.records) registry.applyRecord(key, value)
    assert.deepEqual(snapshot(replay(store.compacted())), snapshot(registry))
  })

  it('writes Confluent\'s keys and values', async () => {
    const { registry, store } = setUp()
    await registry.register('a', { schema: A1 })
    await registry.setCompatibility('a', 'FULL')
    await registry.setCompatibility(null, 'NONE')
    assert.deepEqual(store.records, [
      { key: '{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}', value: JSON.stringify({ subject: 'a', version: 1, id: 1, schema: A1, deleted: false }) },
      { key: '{"keytype":"CONFIG","subject":"a","magic":0}', value: '{"compatibilityLevel":"FULL"}' },
      { key: '{"keytype":"CONFIG","subject":null,"magic":0}', value: '{"compatibilityLevel":"NONE"}' },
    ])
  })

  it('never reuses the id of a permanently deleted schema, even after compaction', async () => {
    const { registry, store } = setUp()
    await registry.register('keep', { schema: A1 })
    await registry.register('gone', { schema: B1 })
    await registry.deleteSubject('gone')
    await registry.deleteSubject('gone', { permanent: true })
    // Compaction drops the tombstones too (delete.retention.ms); only the watermark remembers id 2.
    const compacted = store.compacted().filter((record) => record.value !== null)
    const rebuilt = new SchemaRegistry({ store })
    for (const { key, value } of compacted) rebuilt.applyRecord(key, value)
    assert.deepEqual(await rebuilt.register('new', { schema: record('C') }), { id: 3, version: 1 })
  })

  it('reads records written by Confluent: non-canonical text, DELETE_SUBJECT, NOOP, unknown keys', () => {
    const registry = replay([
      { key: '{"keytype":"NOOP","magic":0}', value: null },
      { key: '{"magic":1,"keytype":"SCHEMA","subject":"t-value","version":1}', value: '{"subject":"t-value","version":1,"id":21,"schema":"{\\"type\\": \\"string\\"}","deleted":false}' },
      { key: '{"keytype":"SCHEMA","subject":"t-value","version":2,"magic":1}', value: '{"subject":"t-value","version":2,"id":22,"schemaType":"AVRO","schema":"\\"long\\""}' },
      { key: '{"keytype":"DELETE_SUBJECT","subject":"t-value","magic":0}', value: '{"subject":"t-value","version":1}' },
      { key: '{"keytype":"MODE","subject":null,"magic":0}', value: '{"mode":"READWRITE"}' },
    ])
    assert.deepEqual(registry.versions('t-value'), [2])
    assert.equal(registry.schemaById(21).schema, '{"type":"string"}')
    assert.equal(registry.applyRecord('{"keytype":"NOOP","magic":0}', null), 'ignored')
  })

  it('stops loudly on a record it cannot trust', () => {
    const bad = { code: 'SLUICE_ERR_SCHEMAS_TOPIC_RECORD' }
    const registry = new SchemaRegistry({ store: new MemorySchemaStore() })
    assert.throws(() => registry.applyRecord('not json', null), bad)
    assert.throws(() => registry.applyRecord('{"keytype":"SCHEMA","subject":"s","version":0,"magic":1}', null), bad)
    assert.throws(() => registry.applyRecord('{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', '{"subject":"t","version":1,"id":1,"schema":"\\"int\\""}'), bad)
    assert.throws(() => registry.applyRecord('{"keytype":"CONFIG","subject":null,"magic":0}', '{"compatibilityLevel":"SIDEWAYS"}'), bad)
    assert.equal(registry.applyRecord('{"keytype":"CONFIG","subject":"s","magic":0}', '{"normalize":true}'), 'applied')
    registry.applyRecord('{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}', '{"subject":"s","version":1,"id":1,"schema":"\\"int\\""}')
    assert.throws(() => registry.applyRecord('{"keytype":"SCHEMA","subject":"u","version":1,"magic":1}', '{"subject":"u","version":1,"id":1,"schema":"\\"long\\""}'), { ...bad, message: /id 1 to a schema other/ })
  })

  it('retries a write the store failed, from the current state', async () => {
    const records: SchemaTopicRecord[] = []
    let failures = 2
    const store: SchemaStore = {
      async append(batch) {
        if (failures-- > 0) throw new Error('PRODUCER_FENCED')
        records.push(...batch)
      },
    }
    const registry = new SchemaRegistry({ store })
    assert.deepEqual(await registry.register('s', { schema: A1 }), { id: 1, version: 1 })
    assert.equal(records.length, 1)
  })

  it('applies nothing when the store keeps failing, and the call may be retried', async () => {
    const records: SchemaTopicRecord[] = []
    let failures = 4
    const store: SchemaStore = {
      async append(batch) {
        if (failures-- > 0) throw new Error('NOT_ENOUGH_REPLICAS')
        records.push(...batch)
      },
    }
    const registry = new SchemaRegistry({ store })
    await assert.rejects(registry.register('s', { schema: A1 }), (error: Error & { code?: string; retriable?: boolean }) => error.code === 'SLUICE_ERR_SCHEMA_STORE' && error.retriable === true && /NOT_ENOUGH_REPLICAS/.test(error.message))
    assert.deepEqual(registry.subjects({ includeDeleted: true }), [])
    assert.deepEqual(await registry.register('s', { schema: A1 }), { id: 1, version: 1 })
    assert.equal(records.length, 1)
  })

  it('serialises concurrent writes: distinct ids and versions, in call order', async () => {
    const { registry } = setUp()
    await registry.setCompatibility('s', 'NONE')
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => registry.register('s', { schema: record(`R${i}`) })))
    assert.deepEqual(results, Array.from({ length: 10 }, (_, i) => ({ id: i + 1, version: i + 1 })))
  })
})
