import { test } from 'node:test'
import assert from 'node:assert/strict'
import sparkplugPayload from 'sparkplug-payload'
import { FieldType, type ParsedBatch, type PointView } from '../ingest/index.ts'
import { parseBridgeConfig } from './config.ts'
import { MessageDecoder } from './decode.ts'
import { MqttBridgeError, MqttErrorCode } from './errors.ts'
import { scaleDecimal, timeToNs } from './json-payload.ts'

const NOW = 1_700_000_000_000_000_000n
const sparkplug = sparkplugPayload.get('spBv1.0')!

function decoder(subscriptions: unknown[]): MessageDecoder {
  return new MessageDecoder(parseBridgeConfig({ database: 'db', subscriptions }))
}

function points(batch: ParsedBatch | null): Array<Omit<PointView, 'index' | 'line' | 'seriesKey'>> {
  assert.ok(batch, 'a batch')
  const out = [...batch.points()].map(({ measurement, tags, fields, timestampNs }) => ({ measurement, tags, fields, timestampNs }))
  batch.release()
  return out
}

function refusedWith(code: string, pattern: RegExp, work: () => unknown): void {
  assert.throws(work, (error: unknown) => {
    assert.ok(error instanceof MqttBridgeError, String(error))
    assert.equal(error.code, code)
    assert.match(error.message, pattern)
    return true
  })
}

test('plain numbers: one field, measurement and tags from the topic, the time of arrival', () => {
  const d = decoder([{ topic: 'factory/+site/+line/+sensor', measurement: '{sensor}', format: 'number', tags: { plant: 'north' }, topicTag: 'topic' }])
  const decoded = d.decode('factory/berlin/l2/temp', Buffer.from(' 21.5\n'), NOW)
  assert.equal(decoded.database, 'db')
  assert.deepEqual(points(decoded.batch), [{
    measurement: 'temp',
    tags: [['line', 'l2'], ['plant', 'north'], ['site', 'berlin'], ['topic', 'factory/berlin/l2/temp']],
    fields: [{ key: 'value', type: FieldType.Float, value: 21.5 }],
    timestampNs: NOW,
  }])
  const integers = decoder([{ topic: 'c/+name', measurement: 'counts', format: 'number', number: { field: 'n', type: 'integer' } }])
  assert.deepEqual(points(integers.decode('c/x', Buffer.from('-9223372036854775808'), NOW).batch)[0]!.fields, [{ key: 'n', type: FieldType.Integer, value: -9223372036854775808n }])
  refusedWith(MqttErrorCode.PAYLOAD, /"1\.5" is not an integer/, () => integers.decode('c/x', Buffer.from('1.5'), NOW))
  refusedWith(MqttErrorCode.PAYLOAD, /"hot" is not a number/, () => d.decode('factory/a/b/c', Buffer.from('hot'), NOW))
  refusedWith(MqttErrorCode.PAYLOAD, /out of the float range/, () => d.decode('factory/a/b/c', Buffer.from('1e999'), NOW))
})

test('line protocol: passed through, or rewritten with the topic tags (which win) and a measurement', () => {
  const plain = decoder([{ topic: 'lp/#', format: 'line-protocol', lineProtocol: { precision: 'ms' } }])
  assert.deepEqual(points(plain.decode('lp/x', Buffer.from('cpu,host=a usage=1i 1700000000000'), NOW).batch), [{
    measurement: 'cpu', tags: [['host', 'a']], fields: [{ key: 'usage', type: FieldType.Integer, value: 1n }], timestampNs: NOW,
  }])
  const tagged = decoder([{ topic: 'dev/+host/+kind', measurement: 'm_{kind}', format: 'line-protocol' }])
  const decoded = tagged.decode('dev/b/x', Buffer.from('cpu,host=a,zone=z usage=0.5,name="q\\"x" 5\nbroken line\ncpu usage=2 6'), NOW)
  assert.equal(decoded.refused.length, 1)
  assert.match(decoded.refused[0]!, /^line 2/)
  assert.deepEqual(points(decoded.batch), [
    { measurement: 'm_x', tags: [['host', 'b'], ['zone', 'z']], fields: [{ key: 'usage', type: FieldType.Float, value: 0.5 }, { key: 'name', type: FieldType.String, value: 'q"x' }], timestampNs: 5n },
    { measurement: 'm_x', tags: [['host', 'b']], fields: [{ key: 'usage', type: FieldType.Float, value: 2 }], timestampNs: 6n },
  ])
  refusedWith(MqttErrorCode.PAYLOAD, /line 1/, () => plain.decode('lp/x', Buffer.from('nothing good'), NOW))
  refusedWith(MqttErrorCode.NO_POINTS, /no point/, () => plain.decode('lp/x', Buffer.from('# only a comment\n'), NOW))
})

test('JSON: fields, tags and time from paths; arrays give one point per element; bad elements are refused alone', () => {
  const d = decoder([{
    topic: 'env/+device', measurement: 'env', format: 'json',
    json: { fields: { temp: 'data.t', hum: { path: 'data.h', type: 'integer' }, ok: 'flags[0]', label: 'meta["a.b"]' }, tags: { room: 'meta.room' }, time: { path: 'ts', format: 'ms' } },
  }])
  const one = d.decode('env/d1', Buffer.from('{"data":{"t":20.5,"h":40},"flags":[true],"meta":{"room":12,"a.b":"x"},"ts":1700000000123}'), NOW)
  assert.deepEqual(points(one.batch), [{
    measurement: 'env', tags: [['device', 'd1'], ['room', '12']],
    fields: [{ key: 'temp', type: FieldType.Float, value: 20.5 }, { key: 'hum', type: FieldType.Integer, value: 40n }, { key: 'ok', type: FieldType.Boolean, value: true }, { key: 'label', type: FieldType.String, value: 'x' }],
    timestampNs: 1_700_000_000_123_000_000n,
  }])
  const many = d.decode('env/d2', Buffer.from('[{"data":{"t":1},"ts":1000},{"data":{"h":1.5},"ts":2000},{"data":{},"ts":3000},{"data":{"t":3}}]'), NOW)
  assert.equal(many.refused.length, 3)
  assert.match(many.refused[0]!, /element 1, data\.h: field "hum" is integer, and 1\.5 is not a 64-bit integer/)
  assert.match(many.refused[1]!, /element 2: none of the field paths/)
  assert.match(many.refused[2]!, /element 3: no time at ts/)
  assert.deepEqual(points(many.batch).map(point => point.timestampNs), [1_000_000_000n])
  refusedWith(MqttErrorCode.PAYLOAD, /not JSON/, () => d.decode('env/d1', Buffer.from('{"data":'), NOW))
  const arrival = decoder([{ topic: 'a', measurement: 'm', format: 'json', json: { fields: { v: 'v' } } }])
  assert.equal(points(arrival.decode('a', Buffer.from('{"v":1}'), NOW).batch)[0]!.timestampNs, NOW, 'no time path: the arrival time')
})

test('JSON time formats: unix s/ms/us/ns exactly (numbers or strings) and RFC 3339', () => {
  assert.equal(timeToNs(1700000000.5, 's', 't'), 1_700_000_000_500_000_000n)
  assert.equal(timeToNs('1700000000123456789', 'ns', 't'), 1_700_000_000_123_456_789n)
  assert.equal(timeToNs(1700000000123456, 'us', 't'), 1_700_000_000_123_456_000n)
  assert.equal(timeToNs('2023-11-14T22:13:20.25Z', 'rfc3339', 't'), 1_700_000_000_250_000_000n)
  assert.equal(timeToNs('2023-11-15T00:13:20+02:00', 'rfc3339', 't'), 1_700_000_000_000_000_000n)
  assert.equal(scaleDecimal('1.7e9', 9), 1_700_000_000_000_000_000n)
  assert.equal(scaleDecimal('-1.5', 3), -1500n)
  assert.throws(() => timeToNs('yesterday', 'rfc3339', 't'), /not an RFC 3339 time/)
  assert.throws(() => timeToNs(true, 'ms', 't'), /not a number of ms/)
  assert.throws(() => timeToNs(1e300, 's', 't'), /outside the nanosecond range/)
})

test('no matching subscription, and measurements that come out empty, are refused', () => {
  const d = decoder([{ topic: 'a/+m', measurement: '{m}', format: 'number' }])
  refusedWith(MqttErrorCode.NO_ROUTE, /no subscription's topic template matches "b\/x"/, () => d.decode('b/x', Buffer.from('1'), NOW))
  refusedWith(MqttErrorCode.TOPIC, /measurement "\{m\}" is empty/, () => d.decode('a/', Buffer.from('1'), NOW))
  const first = decoder([{ topic: 'a/x', measurement: 'first', format: 'number' }, { topic: 'a/+', measurement: 'second', format: 'number' }])
  assert.equal(points(first.decode('a/x', Buffer.from('1'), NOW).batch)[0]!.measurement, 'first', 'the first matching subscription wins')
  const big = new MessageDecoder(parseBridgeConfig({ database: 'db', limits: { maxPayloadBytes: 4 }, subscriptions: [{ topic: 'a', measurement: 'm', format: 'number' }] }))
  refusedWith(MqttErrorCode.PAYLOAD, /over maxPayloadBytes = 4/, () => big.decode('a', Buffer.from('12345'), NOW))
})

test('Sparkplug B: births declare aliases, data messages by alias get the birth names, types map to fields', () => {
  const d = decoder([{ topic: 'spBv1.0/#', format: 'sparkplug', measurement: 'plc', tags: { site: 'north' } }])
  const birth = sparkplug.encodePayload({
    timestamp: 1_700_000_000_000, seq: 0, metrics: [
      { name: 'Inputs/Temp', alias: 1, type: 'Double', value: 20.25 },
      { name: 'Count', alias: 2, type: 'Int64', value: -5 },
      { name: 'Big', alias: 3, type: 'UInt64', value: '18446744073709551615' },
      { name: 'Run', alias: 4, type: 'Boolean', value: true },
      { name: 'Mode', alias: 5, type: 'String', value: 'auto' },
      { name: 'Missing', alias: 6, type: 'Int32', value: null, isNull: true },
    ],
  })
  const born = d.decode('spBv1.0/G1/DBIRTH/E1/D1', Buffer.from(birth), NOW)
  assert.deepEqual(points(born.batch), [{
    measurement: 'plc', tags: [['device_id', 'D1'], ['edge_node_id', 'E1'], ['group_id', 'G1'], ['site', 'north']],
    fields: [
      { key: 'Inputs/Temp', type: FieldType.Float, value: 20.25 }, { key: 'Count', type: FieldType.Integer, value: -5n },
      { key: 'Big', type: FieldType.Unsigned, value: 18446744073709551615n }, { key: 'Run', type: FieldType.Boolean, value: true },
      { key: 'Mode', type: FieldType.String, value: 'auto' },
    ],
    timestampNs: 1_700_000_000_000_000_000n,
  }])
  const data = sparkplug.encodePayload({
    timestamp: 1_700_000_001_000, seq: 1, metrics: [
      { alias: 1, type: 'Double', value: 21.5 },
      { alias: 2, type: 'Int64', value: 7, timestamp: 1_700_000_001_500 },
      { alias: 99, type: 'Double', value: 1 },
    ],
  })
  const decoded = d.decode('spBv1.0/G1/DDATA/E1/D1', Buffer.from(data), NOW)
  assert.equal(decoded.refusedCode, MqttErrorCode.SPARKPLUG_ALIAS)
  assert.deepEqual(decoded.refused, ['metric 2: alias 99 was declared by no birth certificate of G1/E1/D1'])
  assert.deepEqual(points(decoded.batch).map(point => [point.timestampNs, point.fields]), [
    [1_700_000_001_000_000_000n, [{ key: 'Inputs/Temp', type: FieldType.Float, value: 21.5 }]],
    [1_700_000_001_500_000_000n, [{ key: 'Count', type: FieldType.Integer, value: 7n }]],
  ])
  // Another device has no birth yet: every alias is unknown, the message is refused whole.
  refusedWith(MqttErrorCode.SPARKPLUG_ALIAS, /alias 1 was declared by no birth certificate of G1\/E1\/D2/, () => d.decode('spBv1.0/G1/DDATA/E1/D2', Buffer.from(data), NOW))
  // An NBIRTH of the edge node forgets its devices' births.
  d.decode('spBv1.0/G1/NBIRTH/E1', Buffer.from(sparkplug.encodePayload({ timestamp: 1, metrics: [{ name: 'bdSeq', type: 'Int64', value: 0 }] })), NOW).batch?.release()
  refusedWith(MqttErrorCode.SPARKPLUG_ALIAS, /alias 1/, () => d.decode('spBv1.0/G1/DDATA/E1/D1', Buffer.from(data), NOW))
})

test('Sparkplug B: messages without points, bad topics, bad payloads', () => {
  const d = decoder([{ topic: 'spBv1.0/#', format: 'sparkplug' }])
  const death = d.decode('spBv1.0/G1/NDEATH/E1', Buffer.from(sparkplug.encodePayload({ metrics: [{ name: 'bdSeq', type: 'Int64', value: 1 }] })), NOW)
  assert.equal(death.batch, null, 'NDEATH carries no points')
  assert.equal(d.decode('spBv1.0/STATE/host1', Buffer.from('ONLINE'), NOW).batch, null, 'STATE carries no points')
  refusedWith(MqttErrorCode.TOPIC, /not a Sparkplug B topic/, () => d.decode('spBv1.0/G1/NDATA', Buffer.alloc(0), NOW))
  refusedWith(MqttErrorCode.TOPIC, /device messages and only they name a device/, () => d.decode('spBv1.0/G1/NDATA/E1/D1', Buffer.alloc(0), NOW))
  refusedWith(MqttErrorCode.PAYLOAD, /not a Sparkplug B payload/, () => d.decode('spBv1.0/G1/NDATA/E1', Buffer.from('garbage data here'), NOW))
  const dataset = sparkplug.encodePayload({ timestamp: 5, metrics: [{ name: 'blob', type: 'Bytes', value: new Uint8Array([1, 2]) }, { name: 'v', type: 'Float', value: 1.5 }] })
  const partial = d.decode('spBv1.0/G1/NBIRTH/E1', Buffer.from(dataset), NOW)
  assert.deepEqual(partial.refused, ['metric 0 "blob": type Bytes is not written (only numbers, booleans and strings are)'])
  assert.deepEqual(points(partial.batch)[0]!.fields, [{ key: 'v', type: FieldType.Float, value: 1.5 }])
})

test('config validation names the setting', () => {
  const refuses = (document: unknown, pattern: RegExp): void => {
    assert.throws(() => parseBridgeConfig(document), (error: unknown) => error instanceof MqttBridgeError && error.code === MqttErrorCode.CONFIG && pattern.test(error.message), JSON.stringify(document))
  }
  refuses({ subscriptions: [] }, /subscriptions must be a non-empty array/)
  refuses({ subscription: [] }, /unknown setting "subscription"/)
  refuses({ subscriptions: [{ topic: 'a', format: 'number', measurement: 'm' }] }, /subscriptions\[0\]\.database is required/)
  refuses({ database: 'd', subscriptions: [{ topic: 'a', format: 'json', measurement: 'm' }] }, /subscriptions\[0\]\.json must be an object/)
  refuses({ database: 'd', subscriptions: [{ topic: 'a', format: 'json', measurement: 'm', json: { fields: { v: 'v' }, time: { path: 't', format: 'minutes' } } }] }, /subscriptions\[0\]\.json\.time\.format must be one of s, ms, us, ns, rfc3339/)
  refuses({ database: 'd', subscriptions: [{ topic: 'a', format: 'number' }] }, /measurement is required for format "number"/)
  refuses({ database: 'd', subscriptions: [{ topic: 'a', format: 'number', measurement: 'm', json: {} }] }, /json is only for format "json"/)
  refuses({ database: 'd', subscriptions: [{ topic: 'a', format: 'xml', measurement: 'm' }] }, /format must be one of/)
  refuses({ database: 'd', subscriptions: [{ topic: 'a', format: 'number', measurement: 'm', sparkplug: {} }] }, /sparkplug is only for format "sparkplug"/)
  refuses({ database: 'd', subscriptions: [{ topic: 'a', format: 'sparkplug', sparkplug: { requestRebirth: 'yes' } }] }, /sparkplug\.requestRebirth must be true or false/)
  refuses({ database: 'd', subscriptions: [{ topic: 'a', qos: 2, format: 'number', measurement: 'm' }] }, /qos must be an integer from 0 to 1/)
  refuses({ database: 'd', limits: { maxPendingMessages: 0 }, subscriptions: [{ topic: 'a', format: 'number', measurement: 'm' }] }, /limits\.maxPendingMessages/)
  refuses({ mqtt: 'http://x', database: 'd', subscriptions: [{ topic: 'a', format: 'number', measurement: 'm' }] }, /mqtt must be a URL/)
  const config = parseBridgeConfig({ database: 'd', clientId: 'b1', subscriptions: [{ topic: 'x/+a/+b', database: 'db_{a}', format: 'number', measurement: 'm' }] }, { url: 'mqtt://127.0.0.1:1999' })
  assert.equal(config.url, 'mqtt://127.0.0.1:1999')
  assert.deepEqual(config.subscriptions[0]!.tagLevels, [{ name: 'b', index: 1 }], 'levels used by the database are not tags')
  assert.equal(config.subscriptions[0]!.qos, 1)
})
