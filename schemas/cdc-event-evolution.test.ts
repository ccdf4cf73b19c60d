// CdcEvent version 1 → 2: Debezium's field names (the v1 names kept as aliases) and new fields with
// defaults. BACKWARD (the registry default, checked when a node registers sluice.cdc-value): a node
// of this version starts against a registry that holds version 1, and reads version 1 records.
// Version 2 → 3: command.columns (the fields a DROP_FIELDS dropped), optional with a default: FULL.

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { parseAvroSchema } from './avro-types.ts'
import { cdcEventType, readSchemaFile } from './catalog.ts'
import { decode } from './codec.ts'
import { MemorySchemaStore, SchemaRegistry } from './registry.ts'
import { plain } from './testing/samples.ts'

const FROZEN_V1 = 'history/cdc-event.v1.avsc'
const FROZEN_V1_SHA256 = '0f21ba500aa4c247b9b8b16caca3e8d5840586ab5627460aca767aa8b0b24c8b'
const FROZEN_V2 = 'history/cdc-event.v2.avsc'
const FROZEN_V2_SHA256 = '0844dca34db3c13e1a44556212ba995dca6656f9d637b0959670807a1fc61a5f'

describe('CdcEvent v1 → v2', () => {
  const v1Text = JSON.stringify(readSchemaFile(FROZEN_V1))
  const v1 = parseAvroSchema(JSON.parse(v1Text))

  it('keeps the frozen v1 file unchanged', () => {
    assert.equal(createHash('sha256').update(readFileSync(new URL(FROZEN_V1, import.meta.url))).digest('hex'), FROZEN_V1_SHA256)
  })

  it('reads a v1 record with the v2 schema through the aliases and defaults', () => {
    const written = v1.toBuffer({
      before: null,
      after: { timeNs: 5n, tags: [{ key: 'host', value: 'a' }], fields: [{ name: 'f', value: 1.5 }] },
      source: { tenant: 't', database: 'db1', measurement: 'cpu', seriesKey: 'cpu,host=a', changelogPartition: 2, changelogOffset: 9n, tsNs: 3n },
      op: 'c',
      tsMs: 7n,
    })
    const read = decode(cdcEventType, written, { schema: v1Text, avro: v1 })
    assert.deepEqual(plain(read), {
      before: null,
      after: { timeNs: 5n, tags: [{ key: 'host', value: 'a' }], fields: [{ name: 'f', value: 1.5 }] },
      source: { version: '', connector: 'sluice', ts_ms: 0n, tenant: 't', db: 'db1', table: 'cpu', seriesKey: 'cpu,host=a', partition: 2, offset: 9n, index: 0, tsNs: 3n },
      op: 'c',
      ts_ms: 7n,
      command: null,
    })
  })

  it('is accepted by a registry holding v1 under the default level (BACKWARD), not under FULL', async () => {
    const registry = new SchemaRegistry({ store: new MemorySchemaStore() })
    await registry.register('sluice.cdc-value', { schema: v1Text })
    const { id } = await registry.register('sluice.cdc-value', { schema: cdcEventType.schema })
    assert.equal((await registry.register('sluice.cdc-value', { schema: cdcEventType.schema })).id, id)
    const strict = new SchemaRegistry({ store: new MemorySchemaStore() })
    await strict.setCompatibility('sluice.cdc-value', 'FULL')
    await strict.register('sluice.cdc-value', { schema: v1Text })
    await assert.rejects(strict.register('sluice.cdc-value', { schema: cdcEventType.schema }), /FORWARD/)
  })
})

describe('CdcEvent v2 → v3', () => {
  const v2Text = JSON.stringify(readSchemaFile(FROZEN_V2))
  const v2 = parseAvroSchema(JSON.parse(v2Text))
  const command = { commandId: 'c-1', kind: 'DELETE', where: { tags: [{ key: 'host', values: ['a'] }], fromNs: 1n, toNs: null, fieldPredicate: null }, set: [], expressions: null }
  const source = { version: '1.0.0', connector: 'sluice', ts_ms: 4n, tenant: 't', db: 'db1', table: 'cpu', seriesKey: 'command c-1', partition: 2, offset: 9n, index: 0, tsNs: 3n }

  it('keeps the frozen v2 file unchanged', () => {
    assert.equal(createHash('sha256').update(readFileSync(new URL(FROZEN_V2, import.meta.url))).digest('hex'), FROZEN_V2_SHA256)
  })

  it('reads a v2 command event with the v3 schema (columns null), and a v2 reader skips v3 columns', () => {
    const written = v2.toBuffer({ before: null, after: null, source, op: 'd', ts_ms: 7n, command })
    assert.deepEqual(plain(decode(cdcEventType, written, { schema: v2Text, avro: v2 })), { before: null, after: null, source, op: 'd', ts_ms: 7n, command: { ...command, columns: null } })
    const v3Written = cdcEventType.avro.toBuffer({ before: null, after: null, source, op: 'd', ts_ms: 7n, command: { ...command, kind: 'DROP_FIELDS', columns: ['volts'] } })
    const byV2 = v2.createResolver(cdcEventType.avro)
    assert.deepEqual(plain(v2.fromBuffer(v3Written, byV2)), { before: null, after: null, source, op: 'd', ts_ms: 7n, command: { ...command, kind: 'DROP_FIELDS' } })
  })

  it('is accepted by a registry holding v2 under FULL, and by one holding v1 and v2 under the default level', async () => {
    const full = new SchemaRegistry({ store: new MemorySchemaStore() })
    await full.setCompatibility('sluice.cdc-value', 'FULL')
    await full.register('sluice.cdc-value', { schema: v2Text })
    await full.register('sluice.cdc-value', { schema: cdcEventType.schema })
    const registry = new SchemaRegistry({ store: new MemorySchemaStore() })
    await registry.register('sluice.cdc-value', { schema: JSON.stringify(readSchemaFile(FROZEN_V1)) })
    await registry.register('sluice.cdc-value', { schema: v2Text })
    const { id } = await registry.register('sluice.cdc-value', { schema: cdcEventType.schema })
    assert.equal((await registry.register('sluice.cdc-value', { schema: cdcEventType.schema })).id, id)
  })
})
