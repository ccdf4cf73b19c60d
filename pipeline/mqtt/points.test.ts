import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FieldType, parseLineProtocol } from '../ingest/index.ts'
import { toLineProtocol } from './points.ts'

test('names with spaces, commas, equals signs and backslashes survive the line protocol round trip', () => {
  const { body, refused } = toLineProtocol([{
    measurement: 'my meas,x', tags: [['tag key', 'a=b,c d'], ['empty', '']],
    fields: [{ name: 'f=1, 2', type: FieldType.String, value: 'say "hi" \\o/' }, { name: 'u', type: FieldType.Unsigned, value: 18446744073709551615n }],
    timeNs: -5n,
  }])
  assert.deepEqual(refused, [])
  const batch = parseLineProtocol(body, { nowNs: 0n })
  assert.deepEqual(batch.errors, [])
  const [point] = [...batch.points()]
  assert.equal(point!.measurement, 'my meas,x')
  assert.deepEqual(point!.tags, [['tag key', 'a=b,c d']], 'an empty tag is left out, as InfluxDB does')
  assert.deepEqual(point!.fields, [{ key: 'f=1, 2', type: FieldType.String, value: 'say "hi" \\o/' }, { key: 'u', type: FieldType.Unsigned, value: 18446744073709551615n }])
  assert.equal(point!.timestampNs, -5n)
  batch.release()
})

test('a point that line protocol cannot express is refused alone, with the reason', () => {
  const { body, refused } = toLineProtocol([
    { measurement: 'm', tags: [['k', 'line\nbreak']], fields: [{ name: 'v', type: FieldType.Float, value: 1 }], timeNs: 1n },
    { measurement: 'm', tags: [], fields: [{ name: 'v', type: FieldType.Float, value: Number.NaN }], timeNs: 2n },
    { measurement: 'm', tags: [], fields: [], timeNs: 3n },
    { measurement: 'm', tags: [], fields: [{ name: 'v', type: FieldType.Boolean, value: false }], timeNs: 4n },
  ])
  assert.deepEqual(refused, [
    'point 1: tag "k" "line\\nbreak" holds a line break',
    'point 2: field "v": NaN is not a valid field value (NaN and infinities are refused)',
    'point 3: a point of "m" has no field',
  ])
  assert.equal(body.toString(), 'm v=false 4')
})
