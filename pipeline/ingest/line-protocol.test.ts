// Unit tests of the line protocol parser: escapes, quoting, types, precision, whitespace, comments,
// empty lines, unicode, limits, error positions, and the columnar batch and its accessors.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseLineProtocol, type ParseOptions } from './line-protocol.ts'
import { FieldType, type ParsedBatch, type PointView } from './parsed-batch.ts'
import { lineProtocolLimits, defaultLineProtocolLimits } from './limits.ts'
import { parsePrecision } from './precision.ts'
import { IngestErrorCode } from './errors.ts'

const NOW_NS = 1_700_000_000_123_456_789n

function parse(text: string | Buffer, options: Partial<ParseOptions> = {}): ParsedBatch {
  return parseLineProtocol(typeof text === 'string' ? Buffer.from(text) : text, { nowNs: NOW_NS, ...options })
}

/** The single point of a one-line body that must parse. */
function one(text: string, options: Partial<ParseOptions> = {}): PointView {
  const batch = parse(text, options)
  assert.deepEqual(batch.errors, [], `unexpected errors for ${JSON.stringify(text)}`)
  assert.equal(batch.pointCount, 1)
  return batch.point(0)
}

function fieldValues(point: PointView): Record<string, unknown> {
  return Object.fromEntries(point.fields.map(field => [field.key, field.value]))
}

/** The reasons for rejecting a body that must have exactly one bad line. */
function rejected(text: string | Buffer, options: Partial<ParseOptions> = {}): { line: number; column?: number; reason: string; code: string } {
  const batch = parse(text, options)
  assert.equal(batch.rejectedLineCount, 1, `expected one rejected line for ${JSON.stringify(text)}, got ${JSON.stringify(batch.errors)}`)
  const { line, column, reason, code } = batch.errors[0]!
  return { line, column, reason, code }
}

test('a typical line: measurement, sorted tags, typed fields, timestamp', () => {
  const point = one('cpu,region=west,host=a usage=1.5,count=42i,total=7u,note="ok",up=true 1700000000000000000')
  assert.equal(point.measurement, 'cpu')
  assert.deepEqual(point.tags, [['host', 'a'], ['region', 'west']])
  assert.equal(point.seriesKey, 'cpu,host=a,region=west')
  assert.deepEqual(point.fields.map(field => field.type), [FieldType.Float, FieldType.Integer, FieldType.Unsigned, FieldType.String, FieldType.Boolean])
  assert.deepEqual(fieldValues(point), { usage: 1.5, count: 42n, total: 7n, note: 'ok', up: true })
  assert.equal(point.timestampNs, 1_700_000_000_000_000_000n)
  assert.equal(point.line, 1)
})

test('escapes in measurement, tag keys, tag values and field keys', () => {
  assert.equal(one('c\\,pu v=1').measurement, 'c,pu')
  assert.equal(one('c\\ pu v=1').measurement, 'c pu')
  assert.equal(one('a=b v=1').measurement, 'a=b')
  assert.equal(one('m\\=x v=1').measurement, 'm\\=x', 'measurements do not escape =')
  const point = one('cpu,ho\\=st=local\\ host\\,x,t=a\\b f\\,x\\=y\\ z=1,a\\"b=2,va\\lue=3')
  assert.deepEqual(point.tags, [['ho=st', 'local host,x'], ['t', 'a\\b']])
  assert.deepEqual(point.fields.map(field => field.key), ['f,x=y z', 'a"b', 'va\\lue'])
  assert.deepEqual(one('cpu,host=two\\\\\\ words v=1').tags, [['host', 'two\\\\ words']])
  assert.deepEqual(one('cpu,host=two\\\\ words v=1', {}).fields.length, 1)
})

test('a field key splits on a comma or space after a backslash pair, as InfluxDB 1.6 does', () => {
  // Found by integration/line-protocol-fuzz.test.ts against influxd 1.6: `m f\\,g=1` is refused there.
  assert.match(rejected('m f\\\\,g=1 1000').reason, /missing field value/)
  assert.match(rejected('m f\\\\ g=1 1000').reason, /missing field value/)
  assert.deepEqual(one('m f\\\\\\,g=1 1000').fields.map(field => field.key), ['f\\\\,g'], 'three backslashes: a pair, then an escaped comma')
  assert.deepEqual(one('m f\\,g=1 1000').fields.map(field => field.key), ['f,g'])
  // influxd 1.6 refuses `f\\=y z=1` (its scan) but stores `f\\=1,g=2` as one field "f\=1,g": refused here.
  assert.match(rejected('m f\\\\=y\\ z=1 1000').reason, /ambiguous field key/)
  assert.match(rejected('m f\\\\=1,g=2 1000').reason, /ambiguous field key/)
  assert.deepEqual(one('m f\\\\\\=y=1 1000').fields.map(field => field.key), ['f\\\\=y'], 'a backslash pair (kept as two, as InfluxDB keeps it), then an escaped =')
})

test('the canonical series key escapes the InfluxDB way and ignores tag order', () => {
  const batch = parse('m\\ x,b=2\\,y,a=1\\=z v=1 1\nm\\ x,a=1\\=z,b=2\\,y v=2 2')
  assert.equal(batch.seriesCount, 1)
  assert.equal(batch.seriesKeyOf(0), 'm\\ x,a=1\\=z,b=2\\,y')
  assert.equal(batch.pointSeries[0], batch.pointSeries[1])
})

test('string values: quotes, backslashes, commas, raw newlines; other escapes stay literal (InfluxDB 1.x)', () => {
  assert.deepEqual(fieldValues(one('m s="x,y=z w"')), { s: 'x,y=z w' })
  assert.deepEqual(fieldValues(one('m s="how\\"dy"')), { s: 'how"dy' })
  assert.deepEqual(fieldValues(one('m s="back\\\\slash"')), { s: 'back\\slash' })
  assert.deepEqual(fieldValues(one('m s="a\\nb\\tc\\d"')), { s: 'a\\nb\\tc\\d' })
  assert.deepEqual(fieldValues(one('m s=""')), { s: '' })
  assert.deepEqual(fieldValues(one('m s="true"')), { s: 'true' })
  const batch = parse('m s="multi\nline" 5\nm v=2 6')
  assert.equal(batch.pointCount, 2)
  assert.equal(batch.point(0).fields[0]!.value, 'multi\nline')
  assert.equal(batch.point(1).line, 3, 'a newline inside a string counts as a line')
})

test('string errors: unbalanced quote, text after the closing quote, single quotes', () => {
  assert.match(rejected('m s="abc').reason, /unbalanced quotes/)
  assert.match(rejected('m s="a"b').reason, /unexpected 'b' after the value/)
  assert.match(rejected("m s='x'").reason, /invalid field value/)
})

test('floats: every syntax Go accepts, and no NaN, Inf, hex or plus sign', () => {
  assert.deepEqual(fieldValues(one('m a=1,b=-1.5,c=.5,d=1.,e=1e5,f=1E+78,g=-0.25e-3,h=0001.25,i=123456789012345678901234')), {
    a: 1, b: -1.5, c: 0.5, d: 1, e: 1e5, f: 1e78, g: -0.25e-3, h: 1.25, i: 123456789012345678901234,
  })
  assert.ok(Object.is(one('m v=-0.').fields[0]!.value, -0))
  assert.equal(one('m v=0.1').fields[0]!.value, 0.1)
  assert.equal(one('m v=3.141592653589793').fields[0]!.value, Math.PI)
  assert.equal(one('m v=1e-400').fields[0]!.value, 0)
  for (const bad of ['.', '-.', '-', '1a', '1.2.3', '1e', '1e+', 'NaN', '-Inf', '-inf', '0x10', '1_000', '42+3']) {
    assert.equal(parse(`m v=${bad}`).rejectedLineCount, 1, `v=${bad} should be rejected`)
  }
  assert.match(rejected('m v=+1').reason, /invalid field value/)
  assert.match(rejected('m v=1e400').reason, /out of range/)
})

test('integers and unsigned integers, at and beyond their limits', () => {
  assert.deepEqual(fieldValues(one('m a=9223372036854775807i,b=-9223372036854775808i,c=-0i,d=0009i,e=1234567890123i')), {
    a: 9223372036854775807n, b: -9223372036854775808n, c: 0n, d: 9n, e: 1234567890123n,
  })
  assert.deepEqual(fieldValues(one('m a=18446744073709551615u,b=0u,c=9223372036854775808u')), { a: 18446744073709551615n, b: 0n, c: 9223372036854775808n })
  assert.match(rejected('m v=9223372036854775808i').reason, /out of range/)
  assert.match(rejected('m v=-9223372036854775809i').reason, /out of range/)
  assert.match(rejected('m v=18446744073709551616u').reason, /out of range/)
  assert.match(rejected('m v=-1u').reason, /invalid unsigned/)
  for (const bad of ['1.0i', '1e5i', '-i', '1ii', '9i10', '1.5u', '0x1i']) {
    assert.equal(parse(`m v=${bad}`).rejectedLineCount, 1, `v=${bad} should be rejected`)
  }
})

test('booleans: the ten spellings and nothing else', () => {
  assert.deepEqual(fieldValues(one('m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE')), {
    a: true, b: true, c: true, d: true, e: true, f: false, g: false, h: false, i: false, j: false,
  })
  for (const bad of ['tRuE', 'yes', 'truee', 'fals', 'Tr']) assert.equal(parse(`m v=${bad}`).rejectedLineCount, 1, bad)
})

test('precision scales timestamps; a missing timestamp takes now, truncated to the precision', () => {
  assert.equal(one('m v=1 1465839830', { precision: 's' }).timestampNs, 1_465_839_830_000_000_000n)
  assert.equal(one('m v=1 1465839830123', { precision: 'ms' }).timestampNs, 1_465_839_830_123_000_000n)
  assert.equal(one('m v=1 1465839830123456', { precision: 'us' }).timestampNs, 1_465_839_830_123_456_000n)
  assert.equal(one('m v=1 24430663', { precision: 'm' }).timestampNs, 24_430_663n * 60_000_000_000n)
  assert.equal(one('m v=1 407177', { precision: 'h' }).timestampNs, 407_177n * 3_600_000_000_000n)
  assert.equal(one('m v=1 -5', { precision: 's' }).timestampNs, -5_000_000_000n)
  assert.equal(one('m v=1').timestampNs, NOW_NS)
  assert.equal(one('m v=1', { precision: 'us' }).timestampNs, 1_700_000_000_123_456_000n)
  assert.equal(one('m v=1', { precision: 'ms' }).timestampNs, 1_700_000_000_123_000_000n)
  assert.equal(one('m v=1', { precision: 's' }).timestampNs, 1_700_000_000_000_000_000n)
  assert.equal(one('m v=1', { precision: 'h', nowNs: -1n }).timestampNs, -3_600_000_000_000n, 'truncation rounds down before 1970')
  assert.match(rejected('m v=1 1465839830123456789', { precision: 's' }).reason, /time outside range/)
  assert.match(rejected('m v=1 9223372036854775', { precision: 'ms' }).reason, /time outside range/)
  assert.equal(one('m v=1 9223372036', { precision: 's' }).timestampNs, 9_223_372_036_000_000_000n)
  assert.match(rejected('m v=1 9223372037', { precision: 's' }).reason, /time outside range/)
  assert.equal(one('m v=1 -9223372036854775', { precision: 'us' }).timestampNs, -9_223_372_036_854_775_000n)
  assert.match(rejected('m v=1 9223372036854776', { precision: 'us' }).reason, /time outside range/)
  assert.equal(one('m v=1 2562047', { precision: 'h' }).timestampNs, 2_562_047n * 3_600_000_000_000n)
  assert.match(rejected('m v=1 2562048', { precision: 'h' }).reason, /time outside range/)
})

test('precision spellings of InfluxDB 1.x and 2.x; unknown ones are refused', () => {
  const spellings: Array<[string | undefined, string]> = [[undefined, 'ns'], ['', 'ns'], ['n', 'ns'], ['ns', 'ns'], ['u', 'us'], ['us', 'us'], ['µs', 'us'], ['ms', 'ms'], ['s', 's'], ['m', 'm'], ['h', 'h']]
  for (const [parameter, unit] of spellings) assert.equal(parsePrecision(parameter), unit)
  assert.throws(() => parsePrecision('xx'), { code: IngestErrorCode.INVALID_PRECISION, message: /invalid precision "xx"/ })
})

test('timestamps: the InfluxDB 1.x range, signs and garbage', () => {
  assert.equal(one('m v=1 -9223372036854775806').timestampNs, -9223372036854775806n)
  assert.equal(one('m v=1 9223372036854775806').timestampNs, 9223372036854775806n)
  assert.equal(one('m v=1 0').timestampNs, 0n)
  assert.equal(one('m v=1 -1').timestampNs, -1n)
  assert.match(rejected('m v=1 9223372036854775807').reason, /time outside range/)
  assert.match(rejected('m v=1 -9223372036854775807').reason, /time outside range/)
  assert.match(rejected('m v=1 92233720368547758070').reason, /out of range of a 64-bit integer/)
  for (const bad of ['1.5', 'abc', '12a', '--1', '1-2', '-', '"1"']) assert.match(rejected(`m v=1 ${bad}`).reason, /bad timestamp/, bad)
  assert.match(rejected('m v=1 1 2').reason, /unexpected text after timestamp/)
})

test('whitespace: runs of spaces, leading and trailing spaces, CRLF; tabs are not whitespace', () => {
  const point = one('   cpu   value=1.0   1257894000000000000   ')
  assert.equal(point.timestampNs, 1257894000000000000n)
  assert.equal(one('m,t=x v=1 ').timestampNs, NOW_NS)
  const crlf = parse('m v=1 1\r\nm v=2 2\r\n\r\nm v=3\r')
  assert.equal(crlf.pointCount, 3)
  assert.deepEqual(crlf.errors, [])
  assert.equal(crlf.point(2).line, 4)
  assert.match(rejected('\tm v=1').reason, /missing measurement/)
  assert.match(rejected('m\tv=1').reason, /invalid control character 0x09 in measurement name/)
  assert.match(rejected('m v=1\t1').reason, /invalid number/)
  assert.match(rejected('m v=1\rx').reason, /bad timestamp|unexpected text/)
  assert.match(rejected('m, x=1').reason, /missing tag key/)
})

test('comments and empty lines are skipped; control bytes in a comment are not', () => {
  const batch = parse('# comment\nm v=1 1\n\n   # indented comment\n\n\nm v=2 2\n#last')
  assert.deepEqual(batch.errors, [])
  assert.deepEqual([...batch.points()].map(point => point.line), [2, 7])
  assert.equal(parse('').pointCount, 0)
  assert.equal(parse('\n\n\n').rejectedLineCount, 0)
  assert.equal(parse('   ').rejectedLineCount, 0)
  const tab = rejected('#\tcomment\nm v=1')
  assert.deepEqual([tab.line, tab.column], [1, 2])
  assert.match(tab.reason, /in comment/)
})

test('unicode names and values; invalid UTF-8 is rejected', () => {
  const point = one('温度,地点=東京 値=22.5,説明="晴れ ☀" 1')
  assert.equal(point.measurement, '温度')
  assert.deepEqual(point.tags, [['地点', '東京']])
  assert.deepEqual(fieldValues(point), { 値: 22.5, 説明: '晴れ ☀' })
  assert.equal(one('🔥,ключ=значение 𝄞=1i').seriesKey, '🔥,ключ=значение')
  // Tags sort by UTF-8 bytes, as InfluxDB's byte comparison does (UTF-16 order would put U+FF21 last).
  assert.deepEqual(one('m,\u{1F600}=a,\uFF21=b v=1').tags.map(tag => tag[0]), ['\uFF21', '\u{1F600}'])
  for (const bad of ['m,k=bad\xff v=1', 'bad\xff v=1', 'm,bad\xff=v v=1', 'm bad\xff=1', 'm s="bad\xff"']) {
    assert.match(rejected(Buffer.from(bad, 'latin1')).reason, /UTF-8/, bad)
  }
})

test('control bytes are allowed in tag values and strings only', () => {
  assert.deepEqual(one('m,k=x\u0001y v=1').tags, [['k', 'x\u0001y']])
  assert.deepEqual(fieldValues(one('m s="x\u0001y"')), { s: 'x\u0001y' })
  assert.match(rejected('x\u0001y v=1').reason, /control character 0x01/)
  assert.match(rejected('m,x\u0001y=v v=1').reason, /control character 0x01/)
  assert.match(rejected('m x\u0001y=1').reason, /control character 0x01/)
})

test('structure errors name the line, the column and the reason; good lines are kept', () => {
  const batch = parse('cpu,host=a v=1 1\ncpu,host=b\ncpu,host=c v=3 3\ncpu,a= v=1\n\ncpu,b=2,c=3,b=1 v=1i\nm v=1,\nm time=1')
  assert.equal(batch.pointCount, 2)
  assert.deepEqual([...batch.points()].map(point => point.line), [1, 3])
  assert.deepEqual(batch.errors.map(error => [error.line, error.column]), [[2, 11], [4, 7], [6, 13], [7, 7], [8, 3]])
  assert.match(batch.errors[0]!.reason, /missing fields/)
  assert.match(batch.errors[1]!.reason, /missing tag value/)
  assert.match(batch.errors[2]!.reason, /duplicate tags: tag key "b"/)
  assert.match(batch.errors[3]!.reason, /missing field key/)
  assert.match(batch.errors[4]!.reason, /invalid field name: input field "time" on measurement "m" is invalid/)
  assert.ok(batch.errors.every(error => error.code === IngestErrorCode.LINE_PROTOCOL))
  const text = batch.errors[0]!
  assert.equal(batch.body.toString('utf8', text.byteStart, text.byteEnd), 'cpu,host=b')
})

test('more structure errors', () => {
  const reasons: Array<[string, RegExp]> = [
    ['cpu', /missing fields/],
    ['cpu ', /missing field key/],
    ['cpu,', /missing tag key/],
    [',cpu v=1', /missing measurement/],
    ['cpu,region v=1', /missing tag value: expected '='/],
    ['cpu,=a v=1', /empty tag key/],
    ['cpu,a=b=c v=1', /unescaped "=" in tag value/],
    ['m =1', /missing field key/],
    ['m v', /expected '=' after field key "v"/],
    ['m v=', /missing field value/],
    ['m v=,w=1', /missing field value/],
    ['m v=1,,w=2', /missing field key/],
    ['cpu,time=x v=1', /invalid tag key: input tag "time" on measurement "cpu" is invalid/],
  ]
  for (const [text, reason] of reasons) assert.match(rejected(text).reason, reason, text)
})

test('error positions: line and column of the offending byte, CRLF and multi-line strings counted', () => {
  const batch = parse('m v=1\r\nm s="a\nb" x\nm v=oops\n\n   m v=1 12a')
  assert.deepEqual(batch.errors.map(error => [error.line, error.column]), [[3, 4], [4, 5], [6, 10]])
  assert.equal(batch.pointCount, 1)
})

test('a field named time is dropped, as InfluxDB 1.x does', () => {
  const point = one('m time=1,v=2,time="x"')
  assert.deepEqual(fieldValues(point), { v: 2 })
})

test('duplicates within a batch are kept in order (the apply stage merges: last write wins)', () => {
  const batch = parse('m v=1 10\nm v=2 10\nm a=1,a=2 10')
  assert.equal(batch.pointCount, 3)
  assert.deepEqual(batch.point(2).fields.map(field => field.value), [1, 2])
  assert.equal(batch.seriesCount, 1)
})

test('limits: each one names itself, and the defaults are InfluxDB-sized', () => {
  assert.equal(defaultLineProtocolLimits.maxBodyBytes, 25_000_000)
  assert.equal(defaultLineProtocolLimits.maxSeriesKeyBytes, 65_535)
  const limits = lineProtocolLimits({ maxBodyBytes: 100, maxLineBytes: 40, maxTagsPerPoint: 2, maxFieldsPerPoint: 2, maxNameBytes: 8 })
  assert.throws(() => parse('m v=1\n'.repeat(20), { limits }), { code: IngestErrorCode.LIMIT_EXCEEDED, message: /maxBodyBytes = 100/ })
  const cases: Array<[string, RegExp]> = [
    ['m s="0123456789012345678901234567890123456789"', /maxLineBytes = 40/],
    ['m,a=1,b=2,c=3 v=1', /maxTagsPerPoint = 2/],
    ['m a=1,b=2,c=3', /maxFieldsPerPoint = 2/],
    ['measurement v=1', /measurement name is 11 bytes, over the limit maxNameBytes = 8/],
    ['m,tagkey123=v v=1', /tag key is 9 bytes/],
    ['m,k=tagvalue1 v=1', /tag value is 9 bytes/],
    ['m fieldkey1=1', /field key is 9 bytes/],
  ]
  for (const [text, reason] of cases) {
    const error = rejected(text, { limits })
    assert.match(error.reason, reason, text)
    assert.equal(error.code, IngestErrorCode.LIMIT_EXCEEDED, text)
  }
  const long = `${'m'.repeat(65_530)} value=1`
  assert.match(rejected(long).reason, /max key length exceeded: 65539 > 65535/)
  assert.throws(() => parse('m v=1', { nowNs: 9223372036854775807n }), { code: IngestErrorCode.INVALID_OPTION, message: /nowNs/ })
  assert.throws(() => parse('m v=1', { precision: 'weeks' as never }), { code: IngestErrorCode.INVALID_PRECISION })
  assert.throws(() => parse('m v=1', { maxErrorsReported: -1 }), { code: IngestErrorCode.INVALID_OPTION })
  assert.throws(() => lineProtocolLimits({ maxLineBytes: 0 }), { code: IngestErrorCode.INVALID_OPTION, message: /maxLineBytes must be a positive integer/ })
  assert.throws(() => lineProtocolLimits({ maxLines: 5 } as never), { code: IngestErrorCode.INVALID_OPTION, message: /unknown line protocol limit "maxLines"/ })
})

test('only the first maxErrorsReported errors are described; all are counted', () => {
  const batch = parse('bad\n'.repeat(50) + 'm v=1', { maxErrorsReported: 10 })
  assert.equal(batch.errors.length, 10)
  assert.equal(batch.rejectedLineCount, 50)
  assert.equal(batch.pointCount, 1)
})

test('columnar arrays: offsets, types and the shared value slot', () => {
  const batch = parse('a,t=1 f=1.5,i=-2i 10\nb u=3u,s="x\\"y",b=false 20\na,t=1 i=5i 30')
  assert.equal(batch.pointCount, 3)
  assert.equal(batch.fieldCount, 6)
  assert.deepEqual([...batch.pointFieldStart], [0, 2, 5, 6])
  assert.deepEqual([...batch.pointSeries], [0, 1, 0])
  assert.deepEqual([...batch.timestampsNs], [10n, 20n, 30n])
  assert.deepEqual([...batch.fieldType], [FieldType.Float, FieldType.Integer, FieldType.Unsigned, FieldType.String, FieldType.Boolean, FieldType.Integer])
  assert.deepEqual(batch.measurements, ['a', 'b'])
  assert.deepEqual(batch.fieldKeys, ['f', 'i', 'u', 's', 'b'])
  assert.deepEqual([...batch.fieldKey], [0, 1, 2, 3, 4, 1])
  assert.equal(batch.floatValues[0], 1.5)
  assert.equal(batch.integerValues[1], -2n)
  assert.equal(batch.unsignedValues[2], 3n)
  assert.equal(batch.stringValue(3), 'x"y')
  assert.equal(batch.floatValues[4], 0)
  assert.equal(batch.measurementOf(2), 'a')
  assert.deepEqual(batch.tagsOf(0), [['t', '1']])
})

test('many distinct series and fields, and bodies whose start underestimates the rest', () => {
  const lines: string[] = []
  for (let i = 0; i < 5000; i++) lines.push(`m,host=h${i} v=${i}i 1`)
  const wide = Array.from({ length: 200 }, (_, f) => `f${f}=${f}`).join(',')
  for (let i = 0; i < 2000; i++) lines.push(`w,host=h${i % 7} ${wide} ${i}`)
  const batch = parse(lines.join('\n'))
  assert.deepEqual(batch.errors, [])
  assert.equal(batch.pointCount, 7000)
  assert.equal(batch.seriesCount, 5007)
  assert.equal(batch.fieldCount, 5000 + 2000 * 200)
  assert.equal(batch.point(4999).tags[0]![1], 'h4999')
  assert.equal(batch.point(4999).fields[0]!.value, 4999n)
  assert.equal(batch.point(6999).fields[199]!.value, 199)
  assert.equal(batch.point(6999).timestampNs, 1999n)
})

test('release() hands the arrays back for the next parse, and a released batch refuses use', () => {
  const first = parse('m v=1 1\nm v=2 2')
  first.release()
  assert.ok(first.released)
  assert.throws(() => first.point(0), /after release/)
  assert.throws(() => first.release(), /released twice/)
  const second = parse('n w=3i 3')
  assert.deepEqual(fieldValues(second.point(0)), { w: 3n })
  second.release()
})

test('64-bit integers and timestamps survive exactly across their whole range (randomised, seeded)', () => {
  let seed = 12345
  const random = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 4294967296 }
  const randomBits = (bits: number): bigint => {
    let value = 0n
    for (let b = 0; b < bits; b += 16) value = (value << 16n) | BigInt(Math.floor(random() * 65536))
    return value & ((1n << BigInt(bits)) - 1n)
  }
  const lines: string[] = []
  const expected: Array<[bigint, bigint, bigint]> = []
  for (let i = 0; i < 3000; i++) {
    const bits = 1 + Math.floor(random() * 63)
    const signed = random() < 0.5 ? -randomBits(bits) : randomBits(bits)
    const unsigned = randomBits(1 + Math.floor(random() * 64))
    const time = (random() < 0.5 ? -1n : 1n) * (randomBits(bits) % 9223372036854775806n)
    lines.push(`m i=${signed}i,u=${unsigned}u ${time}`)
    expected.push([signed, unsigned, time])
  }
  const batch = parse(lines.join('\n'))
  assert.deepEqual(batch.errors, [])
  for (let p = 0; p < expected.length; p++) {
    const [signed, unsigned, time] = expected[p]!
    assert.equal(batch.integerValues[batch.pointFieldStart[p]!], signed)
    assert.equal(batch.unsignedValues[batch.pointFieldStart[p]! + 1], unsigned)
    assert.equal(batch.timestampsNs[p], time)
  }
  const units: Array<['us' | 'ms' | 's' | 'm' | 'h', bigint]> = [['us', 1_000n], ['ms', 1_000_000n], ['s', 1_000_000_000n], ['m', 60_000_000_000n], ['h', 3_600_000_000_000n]]
  for (const [unit, scale] of units) {
    const values = Array.from({ length: 300 }, () => (random() < 0.5 ? -1n : 1n) * (randomBits(62) % (9223372036854775806n / scale)))
    const scaled = parse(values.map(value => `m v=1 ${value}`).join('\n'), { precision: unit })
    assert.deepEqual(scaled.errors, [])
    values.forEach((value, p) => assert.equal(scaled.timestampsNs[p], value * scale, `${value} ${unit}`))
  }
})

test('integer fields of every length read back as the same bigint, on the short path (up to 9 digits) and past it', () => {
  const values = ['0', '-0', '7', '-7', '00000042', '123456789', '-123456789', '999999999', '-999999999', '1000000000', '-1000000000',
    '4294967295', '4294967296', '-4294967296', '000000000123', '9223372036854775807', '-9223372036854775808']
  const batch = parse(values.map((v, i) => `m v=${v}i ${i}`).join('\n'))
  assert.deepEqual(batch.errors, [])
  assert.deepEqual(Array.from(batch.points(), p => p.fields[0]!.value), values.map(v => BigInt(v)))
  assert.deepEqual(parse('m v=-i\nm v=1a2i\nm v=12-3i').errors.map(e => e.reason), ['invalid integer "-i"', 'invalid integer "1a2i"', 'invalid integer "12-3i"'])
})

test('timestamps of every length read back the same on the plain-digits path (up to 19) and past it, in any precision', () => {
  const times = ['0', '7', '000000000000000000042', '999999999', '1000000000', '1451606400000000000', '9223372036854775806', '-9223372036854775806', '-5']
  const batch = parse(times.map(t => `m v=1 ${t}`).join('\n'))
  assert.deepEqual(batch.errors, [])
  assert.deepEqual(Array.from(batch.points(), p => p.timestampNs), times.map(t => BigInt(t)))
  assert.equal(parse('m v=1 1451606400', { precision: 's' }).point(0).timestampNs, 1_451_606_400_000_000_000n)
  assert.deepEqual(parse('m v=1 9223372036854775807\nm v=1 9999999999999999999\nm v=1 12-3\nm v=1 12x').errors.map(e => e.reason), [
    'time outside range -9223372036854775806 - 9223372036854775806',
    'bad timestamp: "9999999999999999999" is out of range of a 64-bit integer',
    'bad timestamp: "12-3"',
    'bad timestamp: "12x"',
  ])
  assert.deepEqual(parse('m v=1 9300000000', { precision: 's' }).errors.map(e => e.reason), ['time outside range -9223372036854775806 - 9223372036854775806'])
})
