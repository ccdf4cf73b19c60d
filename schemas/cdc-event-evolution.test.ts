// CdcEvent version 1 → 2: Debezium's field names (the v1 names kept as aliases) and new fields with
// defaults. BACKWARD (the registry default, checked when a node registers sluice.cdc-value): a node
// of this version starts against a registry that holds version 1, and reads version 1 records.

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
