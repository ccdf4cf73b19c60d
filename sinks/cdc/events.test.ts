import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cdcEventType, decode, encodeFramed, unframe, type ChangelogEntry, type IngestCommand } from '../../schemas/index.ts'
import { plain } from '../../schemas/testing/samples.ts'
import { eventCount, eventsOf } from './events.ts'
import { cdcEventJson, rfc3339Nanos } from './json.ts'

const at = { partition: 2, offset: 1_234n, timestampMs: 1_700_000_000_500n }
const emitter = { version: '9.9.9', nowMs: 1_700_000_001_000n }

const upsert: ChangelogEntry = {
  ingestPartition: 2,
  ingestOffset: 77n,
  upsert: {
    tenant: 'acme', database: 'metrics', measurement: 'cpu', seriesKey: 'cpu,host=a,region=eu',
    tags: [{ key: 'host', value: 'a' }, { key: 'region', value: 'eu' }],
    points: [
      { timeNs: 1_700_000_000_123_456_789n, fields: [{ name: 'usage', value: 0.5 }, { name: 'n', value: -(2n ** 63n) }] },
      { timeNs: 1_700_000_001_000_000_000n, fields: [{ name: 'bytes', value: { unsigned: 2n ** 64n - 1n } }, { name: 'ok', value: true }, { name: 'note', value: 'é "q"' }] },
    ],
    pointsIn: 3,
  },
  command: null,
}

function commandEntry(command: Partial<IngestCommand>): ChangelogEntry {
  return {
    ingestPartition: 2,
    ingestOffset: 78n,
    upsert: null,
    command: {
      commandId: 'c-1', tenant: 'acme', database: 'metrics', measurement: 'cpu', kind: 'DELETE',
      where: { tags: [{ key: 'host', values: ['a', 'b'] }], fromNs: 1_000n, toNs: 2_000n, fieldPredicate: null },
      set: [], issuedAtNs: 1_700_000_000_900_000_000n, ...command,
    },
  }
}

describe('change events from changelog entries', () => {
  it('maps an upsert to one op c event per point, with its position and index', () => {
    const events = eventsOf(upsert, 'cpu,host=a,region=eu', at, emitter)
    assert.equal(events.length, 2)
    assert.equal(eventCount(upsert), 2)
    for (const [index, event] of events.entries()) {
      assert.equal(event.op, 'c')
      assert.equal(event.before, null)
      assert.equal(event.command, null)
      assert.deepEqual(event.after, { timeNs: upsert.upsert!.points[index]!.timeNs, tags: upsert.upsert!.tags, fields: upsert.upsert!.points[index]!.fields })
      assert.deepEqual(event.source, {
        version: '9.9.9', connector: 'sluice', ts_ms: 1_700_000_000_500n, tenant: 'acme', db: 'metrics', table: 'cpu',
        seriesKey: 'cpu,host=a,region=eu', partition: 2, offset: 1_234n, index, tsNs: 1_700_000_000_500_000_000n,
      })
      assert.equal(event.ts_ms, 1_700_000_001_000n)
    }
  })

  it('starts an upsert at fromIndex (a resumed reader skips what it has)', () => {
    const events = eventsOf(upsert, 'k', at, emitter, 1)
    assert.deepEqual(events.map(event => event.source.index), [1])
    assert.deepEqual(eventsOf(upsert, 'k', at, emitter, 2), [])
  })

  it('maps an UPDATE of fields to one op u event carrying predicate and assignments', () => {
    const entry = commandEntry({ kind: 'UPDATE_FIELDS', set: [{ name: 'usage', value: 1.5 }], where: { tags: [], fromNs: null, toNs: 5n, fieldPredicate: '"usage" > 0.9' } })
    const [event, ...rest] = eventsOf(entry, 'command c-1', at, emitter)
    assert.deepEqual(rest, [])
    assert.equal(event!.op, 'u')
    assert.equal(event!.before, null)
    assert.equal(event!.after, null)
    assert.deepEqual(event!.command, { commandId: 'c-1', kind: 'UPDATE_FIELDS', where: { tags: [], fromNs: null, toNs: 5n, fieldPredicate: '"usage" > 0.9' }, set: [{ name: 'usage', value: 1.5 }], expressions: null, columns: null })
    assert.equal(event!.source.seriesKey, 'command c-1')
    assert.equal(event!.source.index, 0)
    assert.equal(event!.source.tsNs, 1_700_000_000_900_000_000n)
  })

  it('maps an UPDATE of tags to op u with the new tag values', () => {
    const [event] = eventsOf(commandEntry({ kind: 'UPDATE_TAGS', set: [{ name: 'host', value: 'z' }] }), 'command c-1', at, emitter)
    assert.equal(event!.op, 'u')
    assert.equal(event!.command!.kind, 'UPDATE_TAGS')
    assert.deepEqual(event!.command!.set, [{ name: 'host', value: 'z' }])
  })

  it('maps an UPDATE with expressions to op u carrying the canonical expressions', () => {
    const expressions = [{ name: 'usage', type: 'float', expression: '(("usage" * 1.8) + 32)' }]
    const [event] = eventsOf(commandEntry({ kind: 'UPDATE_EXPRESSIONS', expressions }), 'command c-1', at, emitter)
    assert.equal(event!.op, 'u')
    assert.deepEqual(event!.command!.expressions, expressions)
    assert.deepEqual(event!.command!.set, [])
    assert.deepEqual(JSON.parse(cdcEventJson(event!)).command.expressions, expressions)
  })

  it('maps a DELETE to op d with its tag predicate and time range', () => {
    const [event] = eventsOf(commandEntry({}), 'command c-1', at, emitter)
    assert.equal(event!.op, 'd')
    assert.equal(event!.after, null)
    assert.deepEqual(event!.command!.where, { tags: [{ key: 'host', values: ['a', 'b'] }], fromNs: 1_000n, toNs: 2_000n, fieldPredicate: null })
    assert.deepEqual(eventsOf(commandEntry({}), 'command c-1', at, emitter, 1), [], 'index 1 is past a command\'s only event')
  })

  it('gives no event for a command that changes no data (SET_CODEC, SET_DATABASE_TTL)', () => {
    for (const kind of ['SET_CODEC', 'SET_DATABASE_TTL'] as const) {
      const entry = commandEntry({ kind })
      assert.deepEqual(eventsOf(entry, 'command c-1', at, emitter), [], kind)
      assert.equal(eventCount(entry), 0, kind)
    }
  })

  it('maps DROP TABLE and DROP DATABASE to op d over every point of the table or database', () => {
    const all = { tags: [], fromNs: null, toNs: null, fieldPredicate: null }
    const [table, ...none] = eventsOf(commandEntry({ kind: 'DROP_TABLE', where: all }), 'command c-1', at, emitter)
    assert.deepEqual(none, [])
    assert.equal(table!.op, 'd')
    assert.equal(table!.command!.kind, 'DROP_TABLE')
    assert.deepEqual(table!.command!.where, all)
    const database = commandEntry({ kind: 'DROP_DATABASE', measurement: '', where: all })
    assert.equal(eventCount(database), 1)
    const [dropped] = eventsOf(database, 'command c-1', at, emitter)
    assert.equal(dropped!.op, 'd')
    assert.equal(dropped!.source.table, '', 'every table of source.db')
    assert.equal(JSON.parse(cdcEventJson(dropped!)).command.kind, 'DROP_DATABASE')
  })

  it('maps ALTER TABLE ... DROP (DROP_FIELDS) to op d naming the dropped fields in command.columns', () => {
    const all = { tags: [], fromNs: null, toNs: null, fieldPredicate: null }
    const entry = commandEntry({ kind: 'DROP_FIELDS', where: all, columns: ['volts', 'amps'] })
    assert.equal(eventCount(entry), 1)
    const [event, ...none] = eventsOf(entry, 'command c-1', at, emitter)
    assert.deepEqual(none, [])
    assert.equal(event!.op, 'd')
    assert.equal(event!.source.table, 'cpu')
    assert.equal(event!.command!.kind, 'DROP_FIELDS')
    assert.deepEqual(event!.command!.columns, ['volts', 'amps'])
    assert.deepEqual(JSON.parse(cdcEventJson(event!)).command.columns, ['volts', 'amps'])
    const [deleted] = eventsOf(commandEntry({}), 'command c-1', at, emitter)
    assert.equal(deleted!.command!.columns, null, 'other commands carry no columns')
    assert.equal(JSON.parse(cdcEventJson(deleted!)).command.columns, null)
  })

  it('encodes every kind of event as Avro (sluice.cdc-value) and back exactly', () => {
    const events = [...eventsOf(upsert, 'k', at, emitter), ...eventsOf(commandEntry({ kind: 'UPDATE_FIELDS', set: [{ name: 'n', value: 3n }] }), 'command c-1', at, emitter), ...eventsOf(commandEntry({}), 'command c-1', at, emitter), ...eventsOf(commandEntry({ kind: 'UPDATE_EXPRESSIONS', expressions: [{ name: 'n', type: 'integer', expression: '("n" % 7)' }] }), 'command c-1', at, emitter), ...eventsOf(commandEntry({ kind: 'DROP_FIELDS', columns: ['n'] }), 'command c-1', at, emitter)]
    for (const event of events) {
      const framed = encodeFramed(cdcEventType, 17, event)
      const { schemaId, payload } = unframe(framed)
      assert.equal(schemaId, 17)
      assert.deepEqual(plain(decode(cdcEventType, payload)), plain(event))
    }
  })

  it('writes JSON with exact 64-bit values and Debezium names', () => {
    const [first, second] = eventsOf(upsert, 'cpu,host=a,region=eu', at, emitter)
    const json = cdcEventJson(first!)
    assert.match(json, /"n":-9223372036854775808[,}]/)
    assert.match(json, /"offset":1234,/)
    const parsed = JSON.parse(json)
    assert.deepEqual(parsed.after, { time: '2023-11-14T22:13:20.123456789Z', timeNs: '1700000000123456789', tags: { host: 'a', region: 'eu' }, fields: { usage: 0.5, n: -9223372036854776000 } })
    assert.deepEqual(parsed.source, { version: '9.9.9', connector: 'sluice', ts_ms: 1700000000500, tenant: 'acme', db: 'metrics', table: 'cpu', seriesKey: 'cpu,host=a,region=eu', partition: 2, offset: 1234, index: 0, tsNs: '1700000000500000000' })
    assert.equal(parsed.op, 'c')
    assert.equal(parsed.before, null)
    assert.equal(parsed.command, null)
    assert.match(cdcEventJson(second!), /"bytes":18446744073709551615,"ok":true,"note":"é \\"q\\""/)
    const deleted = JSON.parse(cdcEventJson(eventsOf(commandEntry({}), 'command c-1', at, emitter)[0]!))
    assert.deepEqual(deleted.command, { commandId: 'c-1', kind: 'DELETE', where: { tags: { host: ['a', 'b'] }, fromNs: '1000', toNs: '2000', fieldPredicate: null }, set: {}, expressions: null, columns: null })
    assert.equal(deleted.op, 'd')
  })

  it('formats nanosecond times as RFC 3339, before 1970 too', () => {
    assert.equal(rfc3339Nanos(0n), '1970-01-01T00:00:00.000000000Z')
    assert.equal(rfc3339Nanos(-1n), '1969-12-31T23:59:59.999999999Z')
  })
})
