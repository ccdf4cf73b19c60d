// toIngestRecords: what it encodes decodes back to the parsed points, one record per series, keyed and
// partitioned like Kafka's default partitioner, framed with the schema id, accepted mask honoured,
// oversized series split in order.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeIngestRecord, unframe, type IngestBatch } from '../../schemas/index.ts'
import { parseLineProtocol } from './line-protocol.ts'
import { partitionForSeriesKey } from './partitioner.ts'
import { DEFAULT_INGEST_SCHEMA_ID, toIngestRecords, type IngestRecordOptions } from './to-records.ts'

const options: IngestRecordOptions = { tenant: 't1', database: 'db1', partitions: 8, source: 'http', receivedAtNs: 1_700_000_000_123_456_789n }

function decodeAll(records: ReturnType<typeof toIngestRecords>, schemaId = DEFAULT_INGEST_SCHEMA_ID): IngestBatch[] {
  return records.map(record => {
    const { schemaId: id, payload } = unframe(record.value)
    assert.equal(id, schemaId)
    const decoded = decodeIngestRecord(payload)
    assert.equal(decoded.command, null)
    const batch = decoded.batch!
    assert.equal(record.key.toString('utf8'), batch.seriesKey)
    assert.equal(record.partition, partitionForSeriesKey(batch.seriesKey, options.partitions))
    return batch
  })
}

describe('toIngestRecords', () => {
  it('writes one record per series with every point and value, in body order', () => {
    const body = Buffer.from([
      'cpu,host=b,region=eu usage=1.5,count=3i,big=18446744073709551615u,ok=true,msg="a \\"q\\"" 1000',
      'mem,host=a free=10i 1000',
      'cpu,region=eu,host=b usage=2.5 2000',
      'bad line',
      'cpu,host=c usage=-0.25,ok=F 3000',
      'cpu,host=b,region=eu count=-9223372036854775808i 4000',
    ].join('\n'))
    const batch = parseLineProtocol(body, { nowNs: 0n })
    assert.equal(batch.errors.length, 1)
    const decoded = decodeAll(toIngestRecords(batch, { ...options, idempotencyKey: 'key-1' }))
    batch.release()
    assert.deepEqual(decoded.map(b => b.seriesKey).sort(), ['cpu,host=b,region=eu', 'cpu,host=c', 'mem,host=a'])
    const cpuB = decoded.find(b => b.seriesKey === 'cpu,host=b,region=eu')!
    assert.deepEqual(cpuB, {
      tenant: 't1', database: 'db1', measurement: 'cpu', seriesKey: 'cpu,host=b,region=eu',
      tags: [{ key: 'host', value: 'b' }, { key: 'region', value: 'eu' }],
      points: [
        { timeNs: 1000n, fields: [
          { name: 'usage', value: 1.5 }, { name: 'count', value: 3n }, { name: 'big', value: { unsigned: 18446744073709551615n } },
          { name: 'ok', value: true }, { name: 'msg', value: 'a "q"' },
        ] },
        { timeNs: 2000n, fields: [{ name: 'usage', value: 2.5 }] },
        { timeNs: 4000n, fields: [{ name: 'count', value: -9223372036854775808n }] },
      ],
      source: 'http', receivedAtNs: 1_700_000_000_123_456_789n, idempotencyKey: 'key-1',
    })
    const cpuC = decoded.find(b => b.seriesKey === 'cpu,host=c')!
    assert.deepEqual(cpuC.points, [{ timeNs: 3000n, fields: [{ name: 'usage', value: -0.25 }, { name: 'ok', value: false }] }])
    assert.equal(cpuC.idempotencyKey, 'key-1')
  })

  it('keeps every point of a large random body exactly once', () => {
    const lines: string[] = []
    for (let i = 0; i < 3000; i++) lines.push(`m${i % 3},host=h${i % 37} v=${i}i,f=${i / 4} ${i}`)
    const batch = parseLineProtocol(Buffer.from(lines.join('\n')), { nowNs: 0n })
    const decoded = decodeAll(toIngestRecords(batch, { ...options, schemaId: 77 }), 77)
    batch.release()
    assert.equal(decoded.length, 111) // (i mod 3, i mod 37) takes 111 distinct pairs: one record per series
    const seen = new Set<bigint>()
    for (const series of decoded) {
      let previous = -1n
      for (const point of series.points) {
        assert.ok(point.timeNs > previous, 'points of a series keep body order')
        previous = point.timeNs
        const i = Number(point.timeNs)
        assert.equal(series.seriesKey, `m${i % 3},host=h${i % 37}`)
        assert.deepEqual(point.fields, [{ name: 'v', value: BigInt(i) }, { name: 'f', value: i / 4 }])
        assert.ok(!seen.has(point.timeNs))
        seen.add(point.timeNs)
      }
    }
    assert.equal(seen.size, 3000)
  })

  it('leaves out the points the accepted mask rejects, and series left empty', () => {
    const batch = parseLineProtocol(Buffer.from('a v=1 1\nb v=2 2\na v=3 3'), { nowNs: 0n })
    const accepted = Uint8Array.from([1, 0, 0])
    const decoded = decodeAll(toIngestRecords(batch, { ...options, accepted }))
    batch.release()
    assert.deepEqual(decoded.map(b => [b.seriesKey, b.points.map(p => p.timeNs)]), [['a', [1n]]])
  })

  it('splits a series over maxRecordBytes into several records of the same key and partition, in order', () => {
    const lines: string[] = []
    for (let i = 0; i < 200; i++) lines.push(`log,app=x msg="${'y'.repeat(100)}" ${i}`)
    const batch = parseLineProtocol(Buffer.from(lines.join('\n')), { nowNs: 0n })
    const records = toIngestRecords(batch, { ...options, maxRecordBytes: 2000 })
    batch.release()
    assert.ok(records.length > 10)
    for (const record of records) assert.ok(record.value.length <= 2000, `record of ${record.value.length} bytes`)
    assert.equal(new Set(records.map(r => r.partition)).size, 1)
    const times = decodeAll(records).flatMap(b => b.points.map(p => Number(p.timeNs)))
    assert.deepEqual(times, Array.from({ length: 200 }, (_, i) => i))
  })

  it('returns no records for a body without points, and refuses bad options', () => {
    const batch = parseLineProtocol(Buffer.from('# only a comment\n'), { nowNs: 0n })
    assert.deepEqual(toIngestRecords(batch, options), [])
    assert.throws(() => toIngestRecords(batch, { ...options, partitions: 0 }), RangeError)
    batch.release()
    assert.throws(() => toIngestRecords(batch, options), /released/)
  })
})
