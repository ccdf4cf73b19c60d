// Unit tests of the Telegraf JSON parser: both shapes, timestamp units, number typing, names and
// tags through the line protocol's rules, limits, and errors that name the metric and field.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseTelegrafJson, parseJsonTimestampUnits, MAX_JSON_DEPTH, type JsonParseOptions } from './json.ts'
import { parseLineProtocol } from './line-protocol.ts'
import { FieldType, type ParsedBatch, type PointView } from './parsed-batch.ts'
import { lineProtocolLimits } from './limits.ts'
import { IngestErrorCode } from './errors.ts'
import { toIngestRecords } from './to-records.ts'

const NOW_NS = 1_700_000_000_123_456_789n

function parse(text: string | Buffer, options: Partial<JsonParseOptions> = {}): ParsedBatch {
  return parseTelegrafJson(typeof text === 'string' ? Buffer.from(text) : text, { nowNs: NOW_NS, ...options })
}

function one(text: string, options: Partial<JsonParseOptions> = {}): PointView {
  const batch = parse(text, options)
  assert.deepEqual(batch.errors, [], `unexpected errors for ${text}`)
  assert.equal(batch.pointCount, 1)
  return batch.point(0)
}

function values(point: PointView): Record<string, unknown> {
  return Object.fromEntries(point.fields.map(field => [field.key, field.value]))
}

function rejected(text: string, options: Partial<JsonParseOptions> = {}): { line: number; reason: string; code: string } {
  const batch = parse(text, options)
  assert.equal(batch.pointCount, 0, `expected no point for ${text}`)
  assert.equal(batch.errors.length, 1, `expected one error for ${text}, got ${JSON.stringify(batch.errors)}`)
  const { line, reason, code } = batch.errors[0]!
  return { line, reason, code }
}

test('a single metric as Telegraf serializes it (timestamp in seconds by default)', () => {
  const point = one('{"fields":{"usage_idle":98.5,"n":4,"ok":true,"state":"up"},"name":"cpu","tags":{"host":"a","cpu":"cpu0"},"timestamp":1458229140}')
  assert.equal(point.measurement, 'cpu')
  assert.equal(point.seriesKey, 'cpu,cpu=cpu0,host=a')
  assert.deepEqual(point.tags, [['cpu', 'cpu0'], ['host', 'a']])
  assert.deepEqual(values(point), { usage_idle: 98.5, n: 4, ok: true, state: 'up' })
  assert.deepEqual(point.fields.map(field => field.type), [FieldType.Float, FieldType.Float, FieldType.Boolean, FieldType.String])
  assert.equal(point.timestampNs, 1_458_229_140_000_000_000n)
  assert.equal(point.line, 1)
})

test('the batch form {"metrics":[…]} and a bare array', () => {
  const text = '{"metrics":[{"fields":{"v":1},"name":"a","tags":{},"timestamp":1},{"fields":{"v":2},"name":"b","tags":{"t":"x"},"timestamp":2}]}'
  const batch = parse(text)
  assert.deepEqual(batch.errors, [])
  assert.deepEqual([...batch.points()].map(p => [p.seriesKey, p.timestampNs, p.line]), [['a', 1_000_000_000n, 1], ['b,t=x', 2_000_000_000n, 2]])
  const array = parse('[{"fields":{"v":1},"name":"a","timestamp":1}, {"fields":{"v":2},"name":"a","timestamp":2}]')
  assert.equal(array.pointCount, 2)
  assert.equal(array.seriesCount, 1)
  assert.equal(parse('{"metrics":[]}').pointCount, 0)
})

test('json_timestamp_units: ns, us, ms, s and truncation to a power of ten', () => {
  assert.equal(parseJsonTimestampUnits('1ns'), 1n)
  assert.equal(parseJsonTimestampUnits('1us'), 1_000n)
  assert.equal(parseJsonTimestampUnits('1µs'), 1_000n)
  assert.equal(parseJsonTimestampUnits('1ms'), 1_000_000n)
  assert.equal(parseJsonTimestampUnits('10ms'), 10_000_000n)
  assert.equal(parseJsonTimestampUnits('25ms'), 10_000_000n)
  assert.equal(parseJsonTimestampUnits('1s'), 1_000_000_000n)
  for (const bad of ['', '1m', '2s', '0s', 'ms', '1h', '-1s']) assert.throws(() => parseJsonTimestampUnits(bad), { code: IngestErrorCode.INVALID_OPTION }, bad)
  const metric = '{"fields":{"v":1},"name":"m","timestamp":1700000000123456789}'
  assert.equal(one(metric, { timestampUnits: '1ns' }).timestampNs, 1_700_000_000_123_456_789n, 'ns timestamps stay exact beyond 2^53')
  assert.equal(one('{"fields":{"v":1},"name":"m","timestamp":1700000000123}', { timestampUnits: '1ms' }).timestampNs, 1_700_000_000_123_000_000n)
  assert.equal(one('{"fields":{"v":1},"name":"m","timestamp":1700000000.5}').timestampNs, 1_700_000_000_500_000_000n, 'a fraction is scaled exactly')
  assert.equal(one('{"fields":{"v":1},"name":"m","timestamp":1.7e9}').timestampNs, 1_700_000_000_000_000_000n)
  assert.equal(one('{"fields":{"v":1},"name":"m","timestamp":-1}').timestampNs, -1_000_000_000n)
})

test('a missing or null timestamp takes the server time truncated to the unit', () => {
  assert.equal(one('{"fields":{"v":1},"name":"m"}').timestampNs, 1_700_000_000_000_000_000n)
  assert.equal(one('{"fields":{"v":1},"name":"m","timestamp":null}', { timestampUnits: '1ms' }).timestampNs, 1_700_000_000_123_000_000n)
  assert.equal(one('{"fields":{"v":1},"name":"m"}', { timestampUnits: '1ns' }).timestampNs, NOW_NS)
})

test('timestamps out of range or as strings are refused with the metric named', () => {
  assert.match(rejected('{"fields":{"v":1},"name":"m","timestamp":9223372037}').reason, /^metric: "timestamp" 9223372037: time outside range/)
  assert.match(rejected('{"fields":{"v":1},"name":"m","timestamp":9223372036854775807}', { timestampUnits: '1ns' }).reason, /time outside range/)
  assert.match(rejected('{"fields":{"v":1},"name":"m","timestamp":"2024-01-01T00:00:00Z"}').reason, /"timestamp" is a string/)
  assert.match(rejected('{"fields":{"v":1},"name":"m","timestamp":1e500}').reason, /time outside range/)
})

test('numbers are floats by default (Telegraf), integers only with numbers: infer', () => {
  const text = '{"fields":{"a":2,"b":2.5,"c":-7,"d":9007199254740993,"e":1e3,"f":18446744073709551615},"name":"m","timestamp":1}'
  const floats = one(text)
  assert.ok(floats.fields.every(field => field.type === FieldType.Float))
  assert.deepEqual(values(floats), { a: 2, b: 2.5, c: -7, d: 9007199254740992, e: 1000, f: 18446744073709551615 })
  const inferred = one(text, { numbers: 'infer' })
  assert.deepEqual(inferred.fields.map(field => field.type), [FieldType.Integer, FieldType.Float, FieldType.Integer, FieldType.Integer, FieldType.Float, FieldType.Float])
  assert.deepEqual(values(inferred), { a: 2n, b: 2.5, c: -7n, d: 9007199254740993n, e: 1000, f: 18446744073709551615 })
  assert.throws(() => parse(text, { numbers: 'integer' as never }), { code: IngestErrorCode.INVALID_OPTION })
  assert.match(rejected('{"fields":{"big":1e400},"name":"m"}').reason, /^metric: field "big": number 1e400 is out of range of a float/)
})

test('strings: JSON escapes and unicode decode exactly, raw and escaped', () => {
  const value = 'quote " backslash \\ newline \n tab \t unicode é 😀 \\" end\\'
  const point = one(JSON.stringify({ fields: { s: value, plain: 'héllo wörld', empty: '' }, name: 'm', timestamp: 1 }))
  assert.deepEqual(values(point), { s: value, plain: 'héllo wörld', empty: '' })
  assert.equal(one('{"fields":{"s":"\\u00e9\\ud83d\\ude00"},"name":"m"}').fields[0]!.value, 'é😀')
  assert.match(rejected('{"fields":{"s":"\\ud800"},"name":"m"}').reason, /field "s" holds a lone UTF-16 surrogate/)
  const invalid = Buffer.concat([Buffer.from('{"fields":{"s":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"},"name":"m"}')])
  assert.match(parse(invalid).errors[0]!.reason, /field "s": string value is not valid UTF-8/)
})

test('names and tags: escaping round-trips, the canonical series key is the line protocol one', () => {
  const point = one(JSON.stringify({ fields: { 'f,x=y z': 1 }, name: 'my cpu,x', tags: { 'ho=st': 'local host,x', t: 'a\\b' }, timestamp: 1 }))
  const fromLineProtocol = parseLineProtocol(Buffer.from('my\\ cpu\\,x,ho\\=st=local\\ host\\,x,t=a\\b f\\,x\\=y\\ z=1 1000000000'), { nowNs: NOW_NS }).point(0)
  assert.equal(point.measurement, 'my cpu,x')
  assert.deepEqual(point.tags, [['ho=st', 'local host,x'], ['t', 'a\\b']])
  assert.equal(point.seriesKey, fromLineProtocol.seriesKey)
  assert.deepEqual(point.fields.map(field => field.key), ['f,x=y z'])
  assert.deepEqual(one('{"fields":{"v":1},"name":"m","tags":{"empty":"","k":"v"}}').tags, [['k', 'v']], 'an empty tag value means no tag')
})

test('line protocol name rules apply: time tag, time field, control bytes, duplicates, empty names', () => {
  assert.match(rejected('{"fields":{"v":1},"name":"m","tags":{"time":"x"}}').reason, /invalid tag key: input tag "time" on measurement "m" is invalid/)
  assert.deepEqual(values(one('{"fields":{"v":1,"time":5},"name":"m"}')), { v: 1 }, 'a field named time is dropped')
  assert.match(rejected('{"fields":{"time":5},"name":"m"}').reason, /invalid field name: input field "time"/)
  assert.match(rejected('{"fields":{"v":1},"name":"a\\u0001b"}').reason, /control character/)
  assert.match(rejected('{"fields":{"a\\nb":1},"name":"m"}').reason, /field "a\\nb": a field key may hold no control character/)
  assert.match(rejected('{"fields":{"v":1},"name":""}').reason, /missing measurement/)
  assert.match(rejected('{"fields":{"v":1},"tags":{"a":"b"}}').reason, /missing measurement: no "name" member/)
  assert.match(rejected('{"fields":{"":1},"name":"m"}').reason, /missing field key/)
  assert.match(rejected('{"fields":{"v":1},"name":"m","tags":{"":"x"}}').reason, /missing tag key/)
  assert.match(rejected('{"fields":{},"name":"m"}').reason, /missing fields: "fields" has no value/)
  assert.match(rejected('{"fields":{"v":null},"name":"m"}').reason, /missing fields/)
  assert.match(rejected('{"name":"m"}').reason, /missing fields: no "fields" member/)
  assert.match(rejected('{"fields":{"v":1},"name":"m","name":"n"}').reason, /duplicate member "name"/)
  assert.match(rejected('{"fields":{"v":1},"name":"m","tags":{"a\\\\":"x"}}').reason, /ending with a backslash/)
  assert.deepEqual(values(one('{"fields":{"v":1,"n":null},"name":"m"}')), { v: 1 }, 'a null field is absent')
  assert.equal(one('{"fields":{"v":1},"name":"m","extra":{"nested":[1,2,{"x":null}]}}').measurement, 'm', 'unknown members are ignored')
})

test('wrong value shapes name the metric and the field or tag', () => {
  assert.deepEqual(rejected('{"fields":{"v":{"x":1}},"name":"m"}'), { line: 1, reason: 'metric: field "v": an object is not a field value (flatten nested values before sending)', code: IngestErrorCode.JSON })
  assert.match(rejected('{"fields":{"v":[1]},"name":"m"}').reason, /field "v": an array is not a field value/)
  assert.match(rejected('{"fields":{"v":1},"name":"m","tags":{"host":5}}').reason, /^metric: tag "host": value must be a string, found a number/)
  assert.match(rejected('{"fields":{"v":1},"name":7}').reason, /"name" must be a string, found a number/)
  assert.match(rejected('{"fields":[1],"name":"m"}').reason, /"fields" must be an object, found an array/)
  assert.match(rejected('{"fields":{"v":1},"name":"m","tags":"x"}').reason, /"tags" must be an object, found a string/)
})

test('in a batch, a bad metric is rejected alone and named by its index', () => {
  const batch = parse('{"metrics":[{"fields":{"v":1},"name":"a"},{"fields":{"v":{}},"name":"b"},{"fields":{"v":3},"name":"c"},{"name":"d"}]}')
  assert.deepEqual([...batch.points()].map(p => p.measurement), ['a', 'c'])
  assert.deepEqual([...batch.points()].map(p => p.line), [1, 3])
  assert.equal(batch.rejectedLineCount, 2)
  assert.deepEqual(batch.errors.map(error => [error.line, error.reason]), [
    [2, 'metrics[1]: field "v": an object is not a field value (flatten nested values before sending)'],
    [4, 'metrics[3]: missing fields: no "fields" member'],
  ])
  const text = batch.body.toString('utf8', batch.errors[0]!.byteStart, batch.errors[0]!.byteEnd)
  assert.equal(text, '{"fields":{"v":{}},"name":"b"}', 'the error range is the metric object')
})

test('invalid JSON rejects the whole body with the byte offset', () => {
  for (const text of ['', 'cpu v=1', '{"fields":{"v":1},"name":"m"', '{"fields":{"v":01},"name":"m"}', '{"fields":{"v":1,},"name":"m"}',
    '{"metrics":[{"fields":{"v":1},"name":"m"}] x', '{"name":"m\u0001"}', '{"metrics":{"a":1}}', '{"metrics":[1]}', '{"fields":{"v":1},"metrics":[]}',
    '{"fields":{"v":tru},"name":"m"}', '{"fields":{"v":"\\x"},"name":"m"}', '{"fields":{"v":1.},"name":"m"}', '{"fields":{"v":-},"name":"m"}']) {
    const batch = parse(text)
    assert.equal(batch.pointCount, 0, text)
    assert.equal(batch.errors.length, 1, text)
    assert.match(batch.errors[0]!.reason, /^invalid JSON at byte \d+/, text)
    assert.equal(batch.errors[0]!.code, IngestErrorCode.JSON)
  }
  const batch = parse('{"metrics":[{"fields":{"v":1},"name":"a"},{"fields":{"v":2},"name":"b"} oops]}')
  assert.equal(batch.pointCount, 0, 'earlier good metrics are not kept when the document is not JSON')
  assert.match(batch.errors[0]!.reason, /in metric 2/)
})

test('nesting is bounded, never recursed into without limit', () => {
  const deep = '{"fields":{"v":1},"name":"m","x":' + '['.repeat(MAX_JSON_DEPTH + 10) + ']'.repeat(MAX_JSON_DEPTH + 10) + '}'
  assert.match(parse(deep).errors[0]!.reason, /nesting deeper than 64 levels/)
  const ok = '{"fields":{"v":1},"name":"m","x":' + '['.repeat(10) + ']'.repeat(10) + '}'
  assert.equal(parse(ok).pointCount, 1)
})

test('limits: body, metric size, fields per point, tags per point, name and key lengths', () => {
  const limits = lineProtocolLimits({ maxBodyBytes: 1000, maxLineBytes: 80, maxFieldsPerPoint: 2, maxTagsPerPoint: 1, maxNameBytes: 8, maxSeriesKeyBytes: 20 })
  assert.throws(() => parse('{"metrics":[' + ' '.repeat(1000) + ']}', { limits }), { code: IngestErrorCode.LIMIT_EXCEEDED })
  assert.deepEqual(rejected('{"fields":{"v":"' + 'x'.repeat(80) + '"},"name":"m"}', { limits }).code, IngestErrorCode.LIMIT_EXCEEDED)
  assert.match(rejected('{"fields":{"a":1,"b":2,"c":3},"name":"m"}', { limits }).reason, /more than maxFieldsPerPoint = 2 fields/)
  assert.match(rejected('{"fields":{"a":1},"name":"m","tags":{"a":"1","b":"2"}}', { limits }).reason, /more than maxTagsPerPoint = 1 tags/)
  assert.match(rejected('{"fields":{"a":1},"name":"measurement"}', { limits }).reason, /measurement name is 11 bytes, over the limit maxNameBytes = 8/)
  assert.match(rejected('{"fields":{"abcdefghi":1},"name":"m"}', { limits }).reason, /field key is 9 bytes/)
  assert.match(rejected('{"fields":{"abcdefgh":1},"name":"m","tags":{"k":"abcdefgh"}}', { limits }).reason, /max key length exceeded: 24 > 20/)
})

test('the batch feeds toIngestRecords like a line protocol batch', () => {
  const json = parse('{"metrics":[{"fields":{"v":1.5,"s":"a\\"b"},"name":"m","tags":{"h":"x"},"timestamp":1},{"fields":{"v":2.5,"s":"c"},"name":"m","tags":{"h":"x"},"timestamp":2}]}')
  const lp = parseLineProtocol(Buffer.from('m,h=x v=1.5,s="a\\"b" 1000000000\nm,h=x v=2.5,s="c" 2000000000\n'), { nowNs: NOW_NS })
  const options = { tenant: 't', database: 'db', partitions: 8, source: 'kafka', receivedAtNs: 5n }
  assert.deepEqual(toIngestRecords(json, options), toIngestRecords(lp, options))
  json.release()
  lp.release()
})

test('random JSON-ish input only ever yields errors, never an exception', () => {
  const pieces = ['{', '}', '[', ']', '"', ':', ',', '"fields"', '"name"', '"tags"', '"timestamp"', '"metrics"', '1', '-', '.', 'e', 'true', 'null', '\\', '"m"', ' ', '\u00e9', '\\u12']
  let seed = 12345
  const random = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n }
  for (let i = 0; i < 3000; i++) {
    let text = ''
    const count = 1 + random(30)
    for (let j = 0; j < count; j++) text += pieces[random(pieces.length)]
    const batch = parse(text)
    for (const point of batch.points()) assert.ok(point.fields.length > 0)
    batch.release()
  }
})
