// Field type stability: conflicts with known types and within a batch, InfluxDB's message shape.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseLineProtocol } from './line-protocol.ts'
import { checkFieldTypes, FieldTypeRegistry, fieldTypeConflictMessage } from './field-types.ts'
import { FieldType } from './parsed-batch.ts'
import { IngestErrorCode } from './errors.ts'

const parse = (text: string) => parseLineProtocol(Buffer.from(text), { nowNs: 0n })

test('the message has InfluxDB 1.x\'s wording (checked against influxd in integration/influxdb-compare.test.ts)', () => {
  assert.equal(fieldTypeConflictMessage('x', 'm', FieldType.String, FieldType.Float),
    'field type conflict: input field "x" on measurement "m" is type string, already exists as type float')
  assert.equal(fieldTypeConflictMessage('n', 'cpu', FieldType.Integer, FieldType.Unsigned),
    'field type conflict: input field "n" on measurement "cpu" is type integer, already exists as type unsigned')
  assert.equal(fieldTypeConflictMessage('b', 'cpu', FieldType.Boolean, FieldType.String),
    'field type conflict: input field "b" on measurement "cpu" is type boolean, already exists as type string')
})

test('a point conflicting with a known type is rejected, naming its line; the others pass', () => {
  const known = new FieldTypeRegistry()
  known.set('m', 'v', FieldType.Float)
  const batch = parse('m v=1 1\nm v="s" 2\nm v=3i 3\nother v="s" 4')
  const check = checkFieldTypes(batch, known)
  assert.deepEqual([...check.accepted], [1, 0, 0, 1])
  assert.equal(check.acceptedCount, 2)
  assert.deepEqual(check.errors.map(error => [error.line, error.code]), [[2, IngestErrorCode.FIELD_TYPE_CONFLICT], [3, IngestErrorCode.FIELD_TYPE_CONFLICT]])
  assert.equal(check.errors[0]!.reason, 'field type conflict: input field "v" on measurement "m" is type string, already exists as type float')
  assert.equal(check.errors[1]!.reason, 'field type conflict: input field "v" on measurement "m" is type integer, already exists as type float')
  assert.deepEqual(check.newFields, [{ measurement: 'other', field: 'v', type: FieldType.String }])
})

test('within a batch the first type wins and later conflicting points are rejected', () => {
  const batch = parse('m v=1 1\nm v="s" 2\nm v=2,w=true 3\nm w=1i 4')
  const check = checkFieldTypes(batch, new FieldTypeRegistry())
  assert.deepEqual([...check.accepted], [1, 0, 1, 0])
  assert.deepEqual(check.errors.map(error => error.line), [2, 4])
  assert.match(check.errors[1]!.reason, /input field "w" on measurement "m" is type integer, already exists as type boolean/)
  assert.deepEqual(check.newFields, [{ measurement: 'm', field: 'v', type: FieldType.Float }, { measurement: 'm', field: 'w', type: FieldType.Boolean }])
})

test('a rejected point does not establish its types', () => {
  const known = new FieldTypeRegistry()
  known.set('m', 'v', FieldType.Float)
  const check = checkFieldTypes(parse('m v="s",w="first" 1\nm w=1i 2'), known)
  assert.deepEqual([...check.accepted], [0, 1])
  assert.deepEqual(check.newFields, [{ measurement: 'm', field: 'w', type: FieldType.Integer }])
})

test('one field twice in a line with two types is a conflict', () => {
  const check = checkFieldTypes(parse('m a=1,a="x" 1\nm b=1,b=2 2'), new FieldTypeRegistry())
  assert.deepEqual([...check.accepted], [0, 1])
  assert.match(check.errors[0]!.reason, /input field "a" on measurement "m" is type string, already exists as type float/)
})

test('registering a checked batch makes its types known to the next one', () => {
  const registry = new FieldTypeRegistry()
  registry.register(checkFieldTypes(parse('m v=1u 1'), registry).newFields)
  assert.equal(registry.get('m', 'v'), FieldType.Unsigned)
  const check = checkFieldTypes(parse('m v=1i 2'), registry)
  assert.equal(check.acceptedCount, 0)
  assert.match(check.errors[0]!.reason, /is type integer, already exists as type unsigned/)
})
