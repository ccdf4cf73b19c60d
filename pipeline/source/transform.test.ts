// Unit tests of the Kafka source's pure half: recognising a record's format, and turning line
// protocol, Telegraf JSON and Confluent-framed Avro into keyed IngestRecords or rejections.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { recogniseRecord, headerText, RecordFormat, SourceHeader, sluiceRecordHeaders } from './record-format.ts'
import { transformRecord, batchToLineProtocol, type SourceRecord, type TransformSettings, type SourceCatalog } from './transform.ts'
import { resolveKafkaSourceOptions } from './kafka-source.ts'
import { lineProtocolLimits, partitionForSeriesKey, IngestErrorCode, FieldTypeRegistry, FieldType, checkFieldTypes } from '../ingest/index.ts'
import {
  SchemaRegistry, MemorySchemaStore, frame, encode, unframe, decodeIngestRecord,
  ingestRecordType, ingestBatchType, ingestBatchV1Type, type IngestBatch, type IngestRecord,
} from '../../schemas/index.ts'
import { SourceErrorCode } from './errors.ts'

const PARTITIONS = 8

async function registry(): Promise<{ registry: SchemaRegistry; recordId: number; batchId: number; v1Id: number }> {
  const registry = new SchemaRegistry({ store: new MemorySchemaStore() })
  const recordId = (await registry.register('sluice.ingest-value', { schema: ingestRecordType.schema })).id
  const batchId = (await registry.register('outside-batch', { schema: ingestBatchType.schema })).id
  const v1Id = (await registry.register('outside-batch-v1', { schema: ingestBatchV1Type.schema })).id
  return { registry, recordId, batchId, v1Id }
}

function settings(overrides: Partial<TransformSettings> = {}): TransformSettings {
  return {
    partitions: PARTITIONS, ingestSchemaId: 1, defaultTenant: 'default', defaultDatabase: 'telegraf', precision: 'ns',
    jsonTimestampUnits: '1s', jsonNumbers: 'float', limits: lineProtocolLimits(), schemas: undefined, maxReasonsPerRecord: 20, ...overrides,
  }
}

function record(value: string | Buffer | null, headers: SourceRecord['headers'] = {}, key: string | null = null): SourceRecord {
  return {
    topic: 'sluice.ingest', partition: 3, offset: '42', timestampMs: '1700000000123',
    key: key === null ? null : Buffer.from(key), value: typeof value === 'string' ? Buffer.from(value) : value, headers,
  }
}

function decoded(value: Buffer): IngestRecord {
  return decodeIngestRecord(unframe(value).payload)
}

test('recognition: sluice-format header, then content-type, then the first bytes', async () => {
  const lp = Buffer.from('cpu v=1')
  assert.equal(recogniseRecord({ ...sluiceRecordHeaders }, lp).format, RecordFormat.Sluice)
  assert.equal(recogniseRecord({ 'sluice-format': 'avro-v9' }, lp).format, RecordFormat.Unknown)
  assert.equal(recogniseRecord({ 'Content-Type': 'application/json; charset=utf-8' }, lp).format, RecordFormat.Json, 'the header decides, whatever the bytes')
  assert.equal(recogniseRecord({ 'content-type': Buffer.from('text/plain; charset=utf-8') }, Buffer.from('{')).format, RecordFormat.LineProtocol)
  assert.equal(recogniseRecord({ 'content-type': 'application/avro' }, lp).format, RecordFormat.Avro)
  assert.match(recogniseRecord({ 'content-type': 'application/xml' }, lp).how, /unsupported content-type "application\/xml"/)
  assert.equal(recogniseRecord({}, Buffer.from([0, 0, 0, 0, 1, 2])).format, RecordFormat.Avro)
  assert.equal(recogniseRecord(undefined, Buffer.from(' \n{"name":"m"}')).format, RecordFormat.Json)
  assert.equal(recogniseRecord({}, Buffer.from('[{"name":"m"}]')).format, RecordFormat.Json)
  assert.equal(recogniseRecord({}, lp).format, RecordFormat.LineProtocol)
  assert.equal(recogniseRecord({}, Buffer.from('# comment\ncpu v=1')).format, RecordFormat.LineProtocol)
  assert.equal(recogniseRecord({}, null).format, RecordFormat.Unknown)
  assert.equal(recogniseRecord({}, Buffer.alloc(0)).format, RecordFormat.Unknown)
})

test('headerText: case-insensitive names, buffers, repeated headers take the last', async () => {
  assert.equal(headerText({ 'Sluice-Database': Buffer.from('db') }, SourceHeader.DATABASE), 'db')
  assert.equal(headerText({ 'sluice-database': ['a', Buffer.from('b')] }, SourceHeader.DATABASE), 'b')
  assert.equal(headerText({}, SourceHeader.DATABASE), undefined)
  assert.equal(headerText(undefined, SourceHeader.DATABASE), undefined)
})

test('line protocol: one record per series, keyed by series key, on the partition of that key', async () => {
  const result = (await transformRecord(record('cpu,host=b,region=x v=1 1\ncpu,host=a v=2 2\ncpu,region=x,host=b v=3 3\n'), settings(), 5n))
  assert.equal(result.format, RecordFormat.LineProtocol)
  assert.equal(result.rejection, undefined)
  assert.equal(result.points, 3)
  assert.deepEqual(result.records.map(r => r.key.toString()), ['cpu,host=b,region=x', 'cpu,host=a'])
  for (const out of result.records) assert.equal(out.partition, partitionForSeriesKey(out.key.toString(), PARTITIONS))
  const first = decoded(result.records[0]!.value).batch!
  assert.deepEqual(first.points.map(p => p.timeNs), [1n, 3n], 'order within a series is kept')
  assert.equal(first.database, 'telegraf')
  assert.equal(first.tenant, 'default')
  assert.equal(first.source, 'kafka')
  assert.equal(first.receivedAtNs, 5n)
  assert.equal(first.idempotencyKey, 'kafka:sluice.ingest:3:42')
})

test('tenant, database and precision come from headers; the record timestamp stands in for missing ones', async () => {
  const headers = { 'sluice-tenant': 'acme', 'sluice-database': 'plant', 'sluice-precision': 'ms' }
  const batch = decoded((await transformRecord(record('m v=1 1700000000000\nm v=2', headers), settings(), 5n)).records[0]!.value).batch!
  assert.equal(batch.tenant, 'acme')
  assert.equal(batch.database, 'plant')
  assert.deepEqual(batch.points.map(p => p.timeNs), [1_700_000_000_000_000_000n, 1_700_000_000_123_000_000n])
  const bad = (await transformRecord(record('m v=1', { 'sluice-precision': 'fortnight' }), settings(), 5n))
  assert.equal(bad.rejection?.code, IngestErrorCode.INVALID_PRECISION)
  const noDatabase = (await transformRecord(record('m v=1'), settings({ defaultDatabase: undefined }), 5n))
  assert.equal(noDatabase.rejection?.code, SourceErrorCode.NO_DATABASE)
  assert.match(noDatabase.rejection!.reason, /sluice-database/)
})

test('a record with some bad lines writes the good ones and is dead-lettered as partial', async () => {
  const result = (await transformRecord(record('m v=1 1\nm v= 2\nm v=3 3\nbad\n'), settings(), 5n))
  assert.equal(result.points, 2)
  assert.equal(result.records.length, 1)
  assert.equal(result.rejection?.partial, true)
  assert.match(result.rejection!.reason, /^2 lines rejected \(2 points written\): line 2: .*; line 4: missing fields/)
  const all = (await transformRecord(record('nonsense'), settings(), 5n))
  assert.equal(all.points, 0)
  assert.equal(all.rejection?.partial, false)
  assert.equal(all.rejection?.code, IngestErrorCode.LINE_PROTOCOL)
  assert.equal((await transformRecord(record('# only a comment\n'), settings(), 5n)).rejection?.code, SourceErrorCode.NO_POINTS)
  assert.equal((await transformRecord(record(null), settings(), 5n)).rejection?.code, SourceErrorCode.UNRECOGNISED)
})

test('Telegraf JSON, single and batch, with the units header', async () => {
  const single = (await transformRecord(record('{"fields":{"v":1},"name":"cpu","tags":{"host":"a"},"timestamp":1700000000}'), settings(), 5n))
  assert.equal(single.format, RecordFormat.Json)
  assert.deepEqual(decoded(single.records[0]!.value).batch!.points, [{ timeNs: 1_700_000_000_000_000_000n, fields: [{ name: 'v', value: 1 }] }])
  const batch = (await transformRecord(record('{"metrics":[{"fields":{"v":1},"name":"cpu","timestamp":1700000000001},{"fields":{"v":{}},"name":"cpu"}]}', { 'sluice-json-timestamp-units': '1ms' }), settings(), 5n))
  assert.equal(decoded(batch.records[0]!.value).batch!.points[0]!.timeNs, 1_700_000_000_001_000_000n)
  assert.match(batch.rejection!.reason, /^1 metric rejected \(1 points written\): metric 2: metrics\[1\]: field "v"/)
  assert.equal((await transformRecord(record('{"fields":{"v":1},"name":"m"}', { 'sluice-json-timestamp-units': '1 week' }), settings(), 5n)).rejection?.code, IngestErrorCode.INVALID_OPTION)
})

const outsideBatch: IngestBatch = {
  tenant: 'acme', database: 'plant', measurement: 'boiler temp', seriesKey: 'WRONG KEY', tags: [{ key: 'unit', value: 'b,1' }, { key: 'site', value: 'x=y' }],
  points: [
    { timeNs: 1_700_000_000_000_000_001n, fields: [{ name: 'celsius', value: 71.25 }, { name: 'count', value: 3n }, { name: 'raw', value: { unsigned: 18_446_744_073_709_551_615n } }, { name: 'note', value: 'say "hi" \\ bye' }, { name: 'ok', value: true }] },
    { timeNs: 1_700_000_000_000_000_002n, fields: [{ name: 'celsius', value: 1e21 }] },
  ],
  source: 'plc', receivedAtNs: 1n, idempotencyKey: 'upstream-7',
}

test('Confluent Avro: IngestRecord, IngestBatch and an older registered IngestBatch are re-keyed with canonical keys', async () => {
  const { registry: schemas, recordId, batchId, v1Id } = await registry()
  const asRecord = frame(recordId, encode(ingestRecordType, { batch: outsideBatch, command: null }))
  const asBatch = frame(batchId, encode(ingestBatchType, outsideBatch))
  const { idempotencyKey: _, ...v1 } = outsideBatch
  const asV1 = frame(v1Id, encode(ingestBatchV1Type, v1))
  for (const value of [asRecord, asBatch, asV1]) {
    const result = (await transformRecord(record(value), settings({ schemas }), 5n))
    assert.equal(result.format, RecordFormat.Avro)
    assert.equal(result.rejection, undefined, result.rejection?.reason)
    assert.equal(result.records.length, 1)
    const out = result.records[0]!
    assert.equal(out.key.toString(), 'boiler\\ temp,site=x\\=y,unit=b\\,1', 'the series key is recomputed, not trusted')
    assert.equal(out.partition, partitionForSeriesKey(out.key.toString(), PARTITIONS))
    const batch = decoded(out.value).batch!
    assert.equal(batch.tenant, 'acme')
    assert.equal(batch.database, 'plant')
    assert.deepEqual(batch.tags, [{ key: 'site', value: 'x=y' }, { key: 'unit', value: 'b,1' }])
    assert.deepEqual(batch.points, outsideBatch.points)
    assert.equal(batch.idempotencyKey, value === asV1 ? 'kafka:sluice.ingest:3:42' : 'upstream-7')
  }
})

test('Avro records that cannot be taken are rejected with the reason', async () => {
  const { registry: schemas, recordId } = await registry()
  const good = frame(recordId, encode(ingestRecordType, { batch: outsideBatch, command: null }))
  assert.match((await transformRecord(record(good), settings(), 5n)).rejection!.reason, /no schema registry/)
  assert.match((await transformRecord(record(frame(999, Buffer.from([1, 2]))), settings({ schemas }), 5n)).rejection!.reason, /not readable.*999/i)
  assert.equal((await transformRecord(record(good.subarray(0, good.length - 3)), settings({ schemas }), 5n)).rejection!.code, SourceErrorCode.AVRO)
  const command = frame(recordId, encode(ingestRecordType, { batch: null, command: {
    commandId: 'c1', tenant: 't', database: 'd', measurement: 'm', kind: 'DELETE', where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null }, set: [], issuedAtNs: 1n,
  } }))
  assert.equal((await transformRecord(record(command), settings({ schemas }), 5n)).rejection!.code, SourceErrorCode.COMMAND)
  const nan = frame(recordId, encode(ingestRecordType, { batch: { ...outsideBatch, points: [{ timeNs: 1n, fields: [{ name: 'v', value: NaN }] }] }, command: null }))
  assert.match((await transformRecord(record(nan), settings({ schemas }), 5n)).rejection!.reason, /field "v": NaN is not a valid field value/)
  const timeTag = frame(recordId, encode(ingestRecordType, { batch: { ...outsideBatch, tags: [{ key: 'time', value: 'x' }] }, command: null }))
  assert.match((await transformRecord(record(timeTag), settings({ schemas }), 5n)).rejection!.reason, /invalid tag key: input tag "time"/)
})

test("Sluice's own records are skipped untouched", async () => {
  const result = (await transformRecord(record('garbage that would be rejected', { ...sluiceRecordHeaders }), settings(), 5n))
  assert.equal(result.format, RecordFormat.Sluice)
  assert.deepEqual(result.records, [])
  assert.equal(result.rejection, undefined)
})

test('batchToLineProtocol escapes names and values the way the parser reads them back', async () => {
  assert.equal(batchToLineProtocol({ ...outsideBatch, points: outsideBatch.points.slice(0, 1) }),
    'boiler\\ temp,unit=b\\,1,site=x\\=y celsius=71.25,count=3i,raw=18446744073709551615u,note="say \\"hi\\" \\\\ bye",ok=true 1700000000000000001')
})

test('options are validated once, naming the setting', async () => {
  assert.throws(() => resolveKafkaSourceOptions({ brokers: ['x:1'], bogus: 1 } as never), /unknown option "bogus"/)
  assert.throws(() => resolveKafkaSourceOptions({}), /give brokers or kafka/)
  assert.throws(() => resolveKafkaSourceOptions({ brokers: ['x:1'], precision: 'fortnight' }), /invalid precision/)
  assert.throws(() => resolveKafkaSourceOptions({ brokers: ['x:1'], jsonTimestampUnits: '1h' }), /json_timestamp_units/)
  assert.throws(() => resolveKafkaSourceOptions({ brokers: ['x:1'], maxRecordsPerTransaction: 0 }), /maxRecordsPerTransaction must be a positive integer/)
  assert.throws(() => resolveKafkaSourceOptions({ brokers: ['x:1'], limits: { maxLineBytes: -1 } }), /maxLineBytes/)
  assert.equal(resolveKafkaSourceOptions({ brokers: ['x:1'] }).groupId, 'sluice.source')
})

test('with a catalog: unknown databases are refused, field type conflicts dropped per point, outages retried', async () => {
  const known = new FieldTypeRegistry()
  known.set('m', 'v', FieldType.String)
  const catalog: SourceCatalog = {
    async requireDatabase(_tenant, database) {
      if (database === 'missing') throw Object.assign(new Error(`database not found: "${database}"`), { code: 'SLUICE_ERR_DATABASE_NOT_FOUND', retriable: false })
      if (database === 'down') throw Object.assign(new Error('control store unreachable'), { code: 'SLUICE_ERR_UNAVAILABLE', retriable: true })
    },
    async checkFieldTypes(_tenant, _database, batch) { return checkFieldTypes(batch, known) },
  }
  const mixed = await transformRecord(record('m v="a" 1\nm v=1 2\nm v="b" 3'), settings({ catalog }), 5n)
  assert.equal(mixed.points, 2)
  assert.deepEqual(decoded(mixed.records[0]!.value).batch!.points.map(p => p.timeNs), [1n, 3n])
  assert.equal(mixed.rejection?.partial, true)
  assert.equal(mixed.rejection?.code, IngestErrorCode.FIELD_TYPE_CONFLICT)
  assert.match(mixed.rejection!.reason, /^1 line rejected \(2 points written\): line 2: field type conflict: input field "v" on measurement "m" is type float, already exists as type string/)
  const missing = await transformRecord(record('m v="a" 1', { 'sluice-database': 'missing' }), settings({ catalog }), 5n)
  assert.deepEqual(missing.rejection, { code: 'SLUICE_ERR_DATABASE_NOT_FOUND', reason: 'database not found: "missing"', partial: false })
  await assert.rejects(transformRecord(record('m v="a" 1', { 'sluice-database': 'down' }), settings({ catalog }), 5n), /control store unreachable/)
})
