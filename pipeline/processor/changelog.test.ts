import assert from 'node:assert/strict'
import { test } from 'node:test'
import { changelogEntryType, decode, encodeIngestRecord, unframe } from '../../schemas/index.ts'
import { randomBatch, sampleCommand, seededRandom } from '../../schemas/testing/samples.ts'
import { sluiceRecordHeaders } from '../source/record-format.ts'
import { processIngestRecord } from './changelog.ts'
import { noCompression, type SeriesCompression } from './compression.ts'

/** Compression switched on but keeping everything: forces the decode-and-encode path. */
const keepAll: SeriesCompression = { ...noCompression, enabled: true }

test('the byte path and the decode path write the same changelog entry', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const batch = randomBatch(seededRandom(seed))
    if (batch.points.length === 0) continue
    const input = { partition: 2, offset: String(seed * 10), key: Buffer.from(batch.seriesKey), value: encodeIngestRecord({ batch, command: null }, { schemaId: 1 }), headers: sluiceRecordHeaders }
    const fast = processIngestRecord(input, { changelogSchemaId: 5, compression: noCompression })
    const slow = processIngestRecord(input, { changelogSchemaId: 5, compression: keepAll })
    assert.equal(fast.kind, 'changelog')
    assert.equal(slow.kind, 'changelog')
    if (fast.kind !== 'changelog' || slow.kind !== 'changelog') return
    assert.deepEqual(fast.record.value, slow.record.value, `seed ${seed}`)
    // The byte path's value is in parts, the ingest record's bytes among them as a view, not a copy.
    assert.ok(fast.record.valueParts !== undefined && fast.record.valueParts[1]!.buffer === input.value.buffer)
    assert.deepEqual(Buffer.concat(fast.record.valueParts), fast.record.value)
    assert.equal(fast.pointsIn, batch.points.length)
    assert.equal(String(fast.record.key), batch.seriesKey)
    const entry = decode(changelogEntryType, unframe(fast.record.value!).payload)
    assert.deepEqual([entry.ingestPartition, entry.ingestOffset, entry.upsert!.points.length], [2, BigInt(seed * 10), batch.points.length])
  }
})

test('commands pass through; raw records are skipped; undecodable Sluice records are poison', () => {
  const command = processIngestRecord({ partition: 0, offset: '7', key: null, value: encodeIngestRecord({ batch: null, command: sampleCommand }, { schemaId: 1 }), headers: sluiceRecordHeaders }, { changelogSchemaId: 5, compression: noCompression })
  assert.equal(command.kind, 'changelog')
  if (command.kind === 'changelog') {
    assert.equal(command.command, true)
    assert.equal(decode(changelogEntryType, unframe(command.record.value!).payload).command!.commandId, sampleCommand.commandId)
  }
  assert.deepEqual(processIngestRecord({ partition: 0, offset: '8', key: null, value: Buffer.from('cpu usage=1 1'), headers: {} }, { changelogSchemaId: 5, compression: noCompression }), { kind: 'skipped' })
  const poison = processIngestRecord({ partition: 0, offset: '9', key: Buffer.from('k'), value: Buffer.from([0, 0, 0, 0, 1, 2, 0xff]), headers: sluiceRecordHeaders }, { changelogSchemaId: 5, compression: noCompression })
  assert.equal(poison.kind, 'poison')
  if (poison.kind === 'poison') assert.match(poison.reason, /not a sluice.IngestRecord/)
})

test('a SET_CODEC record: the held points its flush released come first, as upserts carrying the offset before the command', async () => {
  const { LossyCompression } = await import('./lossy.ts')
  const { parseCompressionConfig } = await import('../transforms/index.ts')
  const lossy = new LossyCompression({ config: parseCompressionConfig({ databases: { db: { codec: 'SDT(1)' } } }), stateSchemaId: 4 })
  const points = [0, 1, 2].map(i => ({ timeNs: BigInt(i), fields: [{ name: 'f', value: i * 10 }] }))
  lossy.apply({ tenant: 't', database: 'db', measurement: 'm', seriesKey: 'm,host=a\\,b', tags: [{ key: 'host', value: 'a,b' }], points, source: null, receivedAtNs: 0n, idempotencyKey: null })
  const command = { ...sampleCommand, tenant: 't', database: 'db', measurement: 'm', kind: 'SET_CODEC' as const, set: [], codecs: [{ field: 'f', fieldType: 'float', codec: 'CODEC(DEFAULT)' }] }
  const outcome = processIngestRecord({ partition: 1, offset: '9', key: null, value: encodeIngestRecord({ batch: null, command }, { schemaId: 1 }), headers: sluiceRecordHeaders }, { changelogSchemaId: 5, compression: lossy })
  assert.equal(outcome.kind, 'changelog')
  if (outcome.kind !== 'changelog') return
  assert.equal(outcome.before?.length, 1)
  const flushed = decode(changelogEntryType, unframe(outcome.before![0]!.value!).payload)
  assert.deepEqual([flushed.ingestPartition, flushed.ingestOffset, flushed.upsert!.seriesKey], [1, 8n, 'm,host=a\\,b'])
  assert.deepEqual(flushed.upsert!.tags.map(tag => ({ ...tag })), [{ key: 'host', value: 'a,b' }])
  assert.deepEqual(flushed.upsert!.points.map(p => [p.timeNs, p.fields[0]!.value]), [[2n, 20]])
  assert.equal(decode(changelogEntryType, unframe(outcome.record.value!).payload).command!.kind, 'SET_CODEC')
  const state = lossy.takeChanges()
  assert.deepEqual(state.map(r => [r.key, r.value === null]), [['["codec","t","db","m","f"]', false], ['["t","db","m,host=a\\\\,b","f"]', true]], 'the override, then the dropped filter')
})

test('a SET_CODEC whose codec does not parse is poison, and changes nothing', async () => {
  const { LossyCompression } = await import('./lossy.ts')
  const { parseCompressionConfig } = await import('../transforms/index.ts')
  const lossy = new LossyCompression({ config: parseCompressionConfig(undefined), stateSchemaId: 4 })
  const command = { ...sampleCommand, kind: 'SET_CODEC' as const, set: [], codecs: [{ field: 'a', fieldType: 'float', codec: 'CODEC(SDT(1))' }, { field: 'b', fieldType: 'float', codec: 'CODEC(SDT(fast))' }] }
  const outcome = processIngestRecord({ partition: 0, offset: '3', key: null, value: encodeIngestRecord({ batch: null, command }, { schemaId: 1 }), headers: sluiceRecordHeaders }, { changelogSchemaId: 5, compression: lossy })
  assert.equal(outcome.kind, 'poison')
  if (outcome.kind === 'poison') assert.match(outcome.reason, /SET_CODEC\) cannot be applied: .*fast/)
  assert.equal(lossy.enabled, false)
  assert.deepEqual(lossy.takeChanges(), [])
})
