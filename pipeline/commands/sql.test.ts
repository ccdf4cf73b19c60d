import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CommandError, parseCommandSql, type CommandContext, type MeasurementColumns } from './sql.ts'
import { parseTimestamp as parseTimeLiteral } from '../../lib/time/rfc3339.ts'
import { formatExpression, parseExpression } from '../../sinks/segments/index.ts'

const air: MeasurementColumns = {
  tags: new Set(['station', 'region']),
  fields: new Map([['pressure', 'float'], ['visibility', 'integer'], ['count', 'unsigned'], ['ok', 'boolean'], ['note', 'string']] as const),
}
const context: CommandContext = {
  tenant: 't1', database: 'weather', nowNs: 42n, commandId: 'c-1',
  columns: measurement => (measurement === 'air' ? air : undefined),
}
const ns = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n

function refused(sql: string, code: string, message: RegExp): void {
  assert.throws(() => parseCommandSql(sql, context), (error: unknown) => {
    assert.ok(error instanceof CommandError, `CommandError, got ${String(error)}`)
    assert.equal(error.code, code)
    assert.match(error.message, message)
    return true
  }, sql)
}

test('UPDATE of fields: constants typed by the catalog, tag, time and field conditions', () => {
  const command = parseCommandSql(
    "UPDATE air SET pressure = 68, visibility = -3, count = 7, ok = true, note = 'it''s' WHERE station = 'XiaoMaiDao' AND region IN ('n', 's') AND time >= '2023-01-14T16:00:00Z' AND time < 1673712180000000000 AND pressure = 68.5 AND note <> 'x'",
    context)
  assert.deepEqual(command, {
    commandId: 'c-1', tenant: 't1', database: 'weather', measurement: 'air', kind: 'UPDATE_FIELDS',
    where: {
      tags: [{ key: 'station', values: ['XiaoMaiDao'] }, { key: 'region', values: ['n', 's'] }],
      fromNs: ns('2023-01-14T16:00:00Z'),
      toNs: 1673712180000000000n,
      fieldPredicate: `"pressure" = 68.5 AND "note" != 'x'`,
    },
    set: [
      { name: 'pressure', value: 68 },
      { name: 'visibility', value: -3n },
      { name: 'count', value: { unsigned: 7n } },
      { name: 'ok', value: true },
      { name: 'note', value: "it's" },
    ],
    issuedAtNs: 42n,
  })
})

test('UPDATE of tags renames series; WHERE true is explicit consent', () => {
  const command = parseCommandSql("UPDATE air SET station = 'new', region = NULL WHERE station IN ('a', 'b')", context)
  assert.equal(command.kind, 'UPDATE_TAGS')
  assert.deepEqual(command.set, [{ name: 'station', value: 'new' }, { name: 'region', value: '' }])
  assert.deepEqual(command.where, { tags: [{ key: 'station', values: ['a', 'b'] }], fromNs: null, toNs: null, fieldPredicate: null })
  assert.deepEqual(parseCommandSql('UPDATE air SET pressure = 1.5 WHERE true', context).where, { tags: [], fromNs: null, toNs: null, fieldPredicate: null })
})

test('DELETE: tags and time ranges, bounds intersected; BETWEEN includes both ends', () => {
  const command = parseCommandSql("DELETE FROM air WHERE station = 'a' AND time BETWEEN '2023-01-01' AND '2023-02-01' AND time > '2023-01-10T00:00:00.000000001Z'", context)
  assert.equal(command.kind, 'DELETE')
  assert.deepEqual(command.set, [])
  assert.deepEqual(command.where, { tags: [{ key: 'station', values: ['a'] }], fromNs: ns('2023-01-10T00:00:00Z') + 2n, toNs: ns('2023-02-01T00:00:00Z') + 1n, fieldPredicate: null })
  assert.deepEqual(parseCommandSql('DELETE FROM air', context).where, { tags: [], fromNs: null, toNs: null, fieldPredicate: null })
  assert.deepEqual(parseCommandSql("DELETE FROM air WHERE station = 'a' AND station IN ('a', 'b')", context).where.tags, [{ key: 'station', values: ['a'] }])
})

test('what is refused, with the reason', () => {
  refused('UPDATE air SET pressure = 1', 'unsupported', /without WHERE/)
  refused("UPDATE air SET station = 'x', pressure = 1 WHERE true", 'unsupported', /tags and fields cannot be updated in the same statement/)
  refused("UPDATE air SET station = 'x' WHERE time > 0", 'unsupported', /tags only/)
  refused("UPDATE air SET station = 'x' WHERE pressure > 0", 'unsupported', /tags only/)
  refused('UPDATE air SET time = 1 WHERE true', 'unsupported', /time column cannot be updated/)
  refused("UPDATE air SET pressure = 'high' WHERE true", 'bad_value', /pressure" is float/)
  refused('UPDATE air SET visibility = 1.5 WHERE true', 'bad_value', /visibility" is integer/)
  refused('UPDATE air SET count = -1 WHERE true', 'bad_value', /count" is unsigned/)
  refused('UPDATE air SET visibility = 9223372036854775808 WHERE true', 'bad_value', /integer/)
  refused('UPDATE air SET humidity = 1 WHERE true', 'unknown_column', /humidity/)
  refused('DELETE FROM water WHERE true', 'unknown_table', /"water" not found in database "weather"/)
  refused('DELETE FROM air WHERE pressure > 3', 'unsupported', /tags and time only/)
  refused("DELETE FROM air WHERE station = 'a' OR station = 'b'", 'unsupported', /use IN/)
  refused("DELETE FROM air WHERE station = 'a' AND station = 'b'", 'bad_value', /exclude each other/)
  refused("DELETE FROM air WHERE time > 'yesterday'", 'bad_value', /RFC 3339/)
  refused('DELETE FROM air WHERE station LIKE 1', 'unsupported', /LIKE|only = and IN/)
  refused('SELECT * FROM air', 'unsupported', /only UPDATE and DELETE/)
  refused('DELETE FROM air WHERE', 'syntax', /syntax/)
})

test('RFC 3339 time literals to the nanosecond, offsets, and rollover refused', () => {
  assert.equal(parseTimeLiteral('1970-01-01T00:00:00.000000001Z'), 1n)
  assert.equal(parseTimeLiteral('1970-01-01T08:00:00+08:00'), 0n)
  assert.equal(parseTimeLiteral('2023-01-14 16:03:00'), ns('2023-01-14T16:03:00Z'))
  assert.equal(parseTimeLiteral('2023-01-14'), ns('2023-01-14T00:00:00Z'))
  assert.equal(parseTimeLiteral('2023-02-30'), null)
  assert.equal(parseTimeLiteral('2023-01-14T25:00:00Z'), null)
  assert.equal(parseTimeLiteral('now'), null)
})

test('UPDATE with expressions: canonical text typed by the catalog; constants beside them travel as expressions too', () => {
  const command = parseCommandSql("UPDATE air SET pressure = pressure * 1.8 + 32, visibility = -(visibility - count) / 2 % 7, note = 'a' || 'b', ok = true WHERE station = 'a' AND pressure > 0", context)
  assert.equal(command.kind, 'UPDATE_EXPRESSIONS')
  assert.deepEqual(command.set, [])
  assert.deepEqual(command.expressions, [
    { name: 'pressure', type: 'float', expression: '(("pressure" * 1.8) + 32)' },
    { name: 'visibility', type: 'integer', expression: '(((-("visibility" - "count")) / 2) % 7)' },
    { name: 'note', type: 'string', expression: "'ab'" },
    { name: 'ok', type: 'boolean', expression: 'true' },
  ])
  assert.equal(command.where.fieldPredicate, '"pressure" > 0')
  for (const { expression } of command.expressions!) assert.equal(formatExpression(parseExpression(expression)), expression, 'what replicas parse formats back to the same text')
  assert.deepEqual(parseCommandSql('UPDATE air SET pressure = abs(pressure - -2) WHERE true', context).expressions, [{ name: 'pressure', type: 'float', expression: 'abs(("pressure" - -2))' }])
  assert.deepEqual(parseCommandSql('UPDATE air SET pressure = visibility - pressure WHERE true', context).expressions, [{ name: 'pressure', type: 'float', expression: '("visibility" - "pressure")' }])
})

test('expressions refused with the part at fault', () => {
  refused('UPDATE air SET visibility = visibility * 1.5 WHERE true', 'bad_value', /visibility.*1\.5 is not an integer/)
  refused('UPDATE air SET visibility = pressure + 1 WHERE true', 'bad_value', /field "pressure" is float/)
  refused('UPDATE air SET pressure = note + 1 WHERE true', 'bad_value', /field "note" is string/)
  refused('UPDATE air SET pressure = sqrt(pressure) WHERE true', 'unsupported', /the function sqrt\(\)/)
  refused('UPDATE air SET pressure = humidity + 1 WHERE true', 'unknown_column', /column "humidity" not found/)
  refused('UPDATE air SET pressure = station + 1 WHERE true', 'unsupported', /"station" is a tag/)
  refused('UPDATE air SET pressure = time + 1 WHERE true', 'unsupported', /time column/)
  refused('UPDATE air SET ok = NOT ok WHERE true', 'unsupported', /the operator NOT in NOT ok/)
  refused("UPDATE air SET note = note || 'x' WHERE true", 'unsupported', /\|\| of anything but string constants/)
  refused('UPDATE air SET visibility = 9223372036854775808, pressure = pressure + 1 WHERE true', 'bad_value', /integer/)
})
