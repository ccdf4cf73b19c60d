// Sluice's line protocol parser against a real InfluxDB 1.6 (Debian's influxdb package): each edge
// case is written to influxd's /write and parsed by Sluice; both must accept and reject the same
// lines, and what InfluxDB stores (queried back with epoch=ns, types from SHOW FIELD KEYS) must equal
// Sluice's accepted points merged the way InfluxDB merges them (same series and time: fields unioned,
// last write wins). A second table lists where Sluice deliberately differs from 1.6, and asserts both
// sides of each difference, so a change on either side shows up here.
//
// influxd must be installed (.ci/run installs it); if it cannot start, the test fails.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startInfluxd, type Influxd } from './support/influxd.ts'
import { parseLineProtocol } from '../pipeline/ingest/line-protocol.ts'
import { parsePrecision, nanosecondsPerUnit } from '../pipeline/ingest/precision.ts'
import { checkFieldTypes, FieldTypeRegistry } from '../pipeline/ingest/field-types.ts'
import { FieldType, type FieldTypeValue } from '../pipeline/ingest/parsed-batch.ts'
import { parseJsonLossless, JsonNumber, type JsonValue } from '../pipeline/ingest/testing/lossless-json.ts'

interface EdgeCase {
  name: string
  body: string | Buffer
  /** InfluxDB 1.x spelling of the precision parameter (n, u, ms, s, m, h); omitted = nanoseconds. */
  precision?: string
  /** Written first, in its own request, to give the measurement its field types. */
  setup?: string
}

const longName = 'm'.repeat(65_530)

/** Cases where Sluice must do exactly what InfluxDB 1.6 does. */
const sameAsInfluxDb: EdgeCase[] = [
  // Escapes
  { name: 'escaped comma in measurement', body: 'c\\,pu value=42 1000' },
  { name: 'escaped space in measurement', body: 'c\\ pu value=42 1000' },
  { name: 'equals sign in measurement needs no escape', body: 'a=b f=1 1000' },
  { name: 'escaped =, space and comma in tag key and value', body: 'cpu,ho\\=st=local\\ host\\,x value=1 1000' },
  { name: 'backslash run before a space in a tag value', body: 'cpu,host=two\\\\\\ words v=1 1000' },
  { name: 'backslash before an ordinary character stays', body: 'cpu,tag=a\\b va\\lue=42 1000' },
  { name: 'escapes in a field key', body: 'm f\\,x\\=y\\ z=1 1000' },
  { name: 'escaped quote in a field key', body: 'm a\\"b=1 1000' },
  { name: 'quotes are part of names', body: '"m",t="q" "f"=1 1000' },
  // Quoting and strings
  { name: 'string with spaces, commas and equals signs', body: 'm s="x,y=z w" 1000' },
  { name: 'escaped quote in a string', body: 'm s="how\\"dy" 1000' },
  { name: 'escaped backslash in a string', body: 'm s="back\\\\slash" 1000' },
  { name: 'backslash-n in a string stays two characters', body: 'm s="a\\nb\\tc" 1000' },
  { name: 'empty string', body: 'm s="" 1000' },
  { name: 'raw newline inside a string', body: 'm s="multi\nline" 1000\nm2 v=2 1000' },
  { name: 'unbalanced quote', body: 'm s="unbalanced 1000' },
  { name: 'single quotes are not strings', body: "m s='single' 1000" },
  { name: 'quoted "true" is a string', body: 'm v="true" 1000' },
  // Types
  { name: 'float, integer, string and boolean in one point', body: 'm f=1.5,i=42i,s="x",b=true 1000' },
  { name: 'float syntaxes', body: 'm a=1.5e3,b=-0.5,c=.5,d=1.,e=1E+78,f=-0,g=0001.25 1000' },
  { name: 'negative zero', body: 'm v=-0. 1000' },
  { name: 'integer extremes', body: 'm max=9223372036854775807i,min=-9223372036854775808i,zero=-0i,padded=0009i 1000' },
  { name: 'integer out of range', body: 'm v=9223372036854775808i 1000' },
  { name: 'float out of range', body: 'm v=1e400 1000' },
  { name: 'decimal point in an integer', body: 'm v=1.0i 1000' },
  { name: 'NaN and Inf are not numbers', body: 'm v=NaN 1000\nm v=Inf 1000\nm v=-Inf 1000' },
  { name: 'every boolean spelling', body: 'm a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE 1000' },
  { name: 'invalid boolean spellings', body: 'm v=tRuE 1000\nm v=yes 1000\nm v=truee 1000' },
  { name: 'malformed numbers', body: 'm v=1a 1000\nm v=- 1000\nm v=. 1000\nm v=1.2.3 1000\nm v=1e 1000\nm v=+1 1000' },
  { name: 'missing field value', body: 'm v= 1000\nm v=,w=1 1000' },
  // Precision and time
  { name: 'precision s', body: 'm v=1 1465839830', precision: 's' },
  { name: 'precision ms', body: 'm v=1 1465839830123', precision: 'ms' },
  { name: 'precision u', body: 'm v=1 1465839830123456', precision: 'u' },
  { name: 'precision n', body: 'm v=1 1465839830123456789', precision: 'n' },
  { name: 'precision m', body: 'm v=1 24430663', precision: 'm' },
  { name: 'precision h', body: 'm v=1 407177', precision: 'h' },
  { name: 'no timestamp takes server time', body: 'm v=1' },
  { name: 'no timestamp, precision s: server time truncated', body: 'm v=1', precision: 's' },
  { name: 'no timestamp, precision ms: server time truncated', body: 'm v=1', precision: 'ms' },
  { name: 'nanosecond-sized timestamp at precision s overflows', body: 'm v=1 1465839830123456789', precision: 's' },
  { name: 'zero and negative timestamps', body: 'm v=1 0\nm v=2 -1\nm v=3 -1465839830123456789' },
  { name: 'edges of the time range', body: 'm v=1 -9223372036854775806\nm v=2 9223372036854775806\nm v=3 -9223372036854775807\nm v=4 9223372036854775807' },
  { name: 'malformed timestamps', body: 'm v=1 1.5\nm v=1 abc\nm v=1 12a\nm v=1 1 2\nm v=1 --1' },
  // Whitespace
  { name: 'several spaces between sections and trailing', body: 'cpu   value=1.0   1257894000000000000   ' },
  { name: 'leading spaces', body: '   m v=1 1000' },
  { name: 'trailing space without timestamp', body: 'm,t=x v=1 ' },
  { name: 'space after a tag comma', body: 'm, x=1 1000' },
  // Comments and empty lines
  { name: 'comments and empty lines between points', body: '# comment\nm v=1 1000\n\n   # indented comment\n\n\nm v=2 2000\n' },
  { name: 'empty body', body: '' },
  { name: 'only newlines', body: '\n\n\n' },
  // Unicode
  { name: 'non-ASCII names and values', body: '温度,地点=東京 値=22.5,説明="晴れ ☀" 1000' },
  { name: 'emoji measurement and field key', body: '🔥,ключ=значение 𝄞=1i 1000' },
  // Duplicates within a batch
  { name: 'same point twice: last write wins', body: 'm v=1 10\nm v=2 10' },
  { name: 'same series and time, other fields: union', body: 'm a=1 10\nm b=2 10' },
  { name: 'same field twice in one line', body: 'm a=1,a=2 10' },
  { name: 'tag order does not make another series', body: 'm,b=2,a=1 v=1 10\nm,a=1,b=2 v=2 10\nm,a=1,b=2 w=3 10' },
  // Structure errors and partial writes
  { name: 'bad line among good ones', body: 'cpu,host=a v=1 1000\ncpu,host=b\ncpu,host=c v=3 1000' },
  { name: 'no fields', body: 'cpu' },
  { name: 'empty tag value', body: 'cpu,a= v=1 1000' },
  { name: 'tag without value', body: 'cpu,region v=1 1000' },
  { name: 'unescaped equals in tag value', body: 'cpu,a=b=c v=1 1000' },
  { name: 'duplicate tag keys', body: 'cpu,b=2,c=3,b=1 v=1i 1000' },
  { name: 'trailing comma after fields', body: 'm v=1, 1000' },
  { name: 'empty field between commas', body: 'm v=1,,w=2 1000' },
  { name: 'tag named time is dropped', body: 'cpu,time=x v=1 1000\ncpu v=2 1000' },
  { name: 'field named time is dropped', body: 'm time=1,v=2 1000' },
  { name: 'only a field named time', body: 'm time=1 1000' },
  { name: 'series key over 65535 bytes', body: `${longName} value=1 1000` },
  // Field types
  { name: 'field type conflict with stored data', setup: 'm v=1 10', body: 'm v="s" 20\nm v=3 30' },
  { name: 'integer after float is a conflict', setup: 'm v=1 10', body: 'm v=2i 20' },
  { name: 'types are per measurement', setup: 'm v=1 10', body: 'other v="s" 20' },
]

interface Divergence extends EdgeCase {
  why: string
  influxdb: { status: number; storedPoints: number }
  sluice: { acceptedPoints: number; rejectedLines: number }
}

/** Where Sluice deliberately differs from InfluxDB 1.6, with both sides asserted. */
const divergences: Divergence[] = [
  { name: 'unsigned integer', body: 'm v=42u 1000', why: 'the Ingest issue asks for unsigned fields (InfluxDB 2.x has them); 1.6 is built without them ("invalid number")', influxdb: { status: 400, storedPoints: 0 }, sluice: { acceptedPoints: 1, rejectedLines: 0 } },
  { name: 'CRLF line endings', body: 'm v=1 1000\r\nm v=2 2000\r\n', why: 'the corpus accepts CRLF; 1.6 keeps the CR in the line and rejects it', influxdb: { status: 400, storedPoints: 0 }, sluice: { acceptedPoints: 2, rejectedLines: 0 } },
  { name: 'leading tab', body: '\tm v=1 1000', why: 'the corpus rejects a tab before the measurement; 1.6 skips it', influxdb: { status: 204, storedPoints: 1 }, sluice: { acceptedPoints: 0, rejectedLines: 1 } },
  { name: 'control byte in a measurement', body: 'x\u0001y v=1 1000', why: 'the corpus rejects control bytes in names; 1.6 stores them', influxdb: { status: 204, storedPoints: 1 }, sluice: { acceptedPoints: 0, rejectedLines: 1 } },
  { name: 'tab in a comment', body: '#\tcomment\nm v=1 1000', why: 'the corpus rejects control bytes in comments; 1.6 skips the line', influxdb: { status: 204, storedPoints: 1 }, sluice: { acceptedPoints: 1, rejectedLines: 1 } },
  { name: 'invalid UTF-8 in a tag value', body: Buffer.from('m,k=bad\xff v=1 1000', 'latin1'), why: 'the corpus rejects invalid UTF-8; 1.6 stores the bytes (Sluice\'s Avro and SQL layers need valid strings)', influxdb: { status: 204, storedPoints: 1 }, sluice: { acceptedPoints: 0, rejectedLines: 1 } },
  { name: 'text after a closing quote', body: 'm s="a"b 1000', why: 'the corpus rejects it; 1.6 stores the string a" (its scanner keeps the bytes up to the last quote)', influxdb: { status: 204, storedPoints: 1 }, sluice: { acceptedPoints: 0, rejectedLines: 1 } },
  { name: 'field type conflict inside one body', body: 'm v=1 10\nm v="s" 20', why: '1.6 fails the whole body with a bare "field type conflict" (yet registers the float type); Sluice drops only the conflicting point, as later InfluxDB versions do', influxdb: { status: 400, storedPoints: 0 }, sluice: { acceptedPoints: 1, rejectedLines: 1 } },
  { name: 'unknown precision', body: 'm v=1 1000', precision: 'xx', why: '1.6 silently reads an unknown precision as nanoseconds; Sluice refuses it (SLUICE_ERR_INVALID_PRECISION), as InfluxDB ≥1.8 and 2.x do', influxdb: { status: 204, storedPoints: 1 }, sluice: { acceptedPoints: 0, rejectedLines: 0 } },
]

type Stored = Map<string, Map<string, string>>

const WALL_CLOCK_WINDOW_NS = 300_000_000_000n

/** Time as a comparable key; a server-assigned time (near the wall clock) becomes "now" once checked. */
function timeKey(timeNs: bigint, wallNs: bigint, unitNs: bigint, where: string): string {
  const distance = timeNs > wallNs ? timeNs - wallNs : wallNs - timeNs
  if (distance > WALL_CLOCK_WINDOW_NS) return timeNs.toString()
  assert.equal(((timeNs % unitNs) + unitNs) % unitNs, 0n, `${where}: server time ${timeNs} is not truncated to ${unitNs} ns`)
  return 'now'
}

function seriesId(measurement: string, tags: Array<[string, string]>, time: string): string {
  return JSON.stringify([measurement, [...tags].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]))), time])
}

function valueKey(type: FieldTypeValue, value: unknown): string {
  if (type === FieldType.Float) return `float:${Object.is(value, -0) ? '-0' : String(value)}`
  return `${['', 'float', 'integer', 'unsigned', 'string', 'boolean'][type]}:${String(value)}`
}

interface SluiceOutcome { stored: Stored; acceptedPoints: number; rejectedLines: number; reasons: string[] }

function sluiceWrite(testCase: EdgeCase, wallNs: bigint): SluiceOutcome {
  const registry = new FieldTypeRegistry()
  const stored: Stored = new Map()
  let acceptedPoints = 0
  let rejectedLines = 0
  const reasons: string[] = []
  const unit = parsePrecision(testCase.precision)
  const apply = (body: Buffer, precisionUnit: typeof unit, counted: boolean): void => {
    const batch = parseLineProtocol(body, { nowNs: wallNs, precision: precisionUnit })
    const check = checkFieldTypes(batch, registry)
    registry.register(check.newFields)
    for (let point = 0; point < batch.pointCount; point++) {
      if (!check.accepted[point]) continue
      const view = batch.point(point)
      const id = seriesId(view.measurement, view.tags, timeKey(view.timestampNs, wallNs, BigInt(nanosecondsPerUnit[precisionUnit]), 'sluice'))
      const fields = stored.get(id) ?? new Map<string, string>()
      for (const field of view.fields) fields.set(field.key, valueKey(field.type, field.value))
      stored.set(id, fields)
    }
    if (counted) {
      acceptedPoints += check.acceptedCount
      rejectedLines += batch.rejectedLineCount + check.errors.length
      reasons.push(...batch.errors.map(error => error.reason), ...check.errors.map(error => error.reason))
    }
    batch.release()
  }
  if (testCase.setup !== undefined) apply(Buffer.from(testCase.setup), 'ns', false)
  apply(typeof testCase.body === 'string' ? Buffer.from(testCase.body) : testCase.body, unit, true)
  return { stored, acceptedPoints, rejectedLines, reasons }
}

type JsonObject = { [key: string]: JsonValue }

async function influxStored(influxd: Influxd, database: string, wallNs: bigint, unitNs: bigint): Promise<{ stored: Stored; points: number }> {
  const typesJson = parseJsonLossless(await influxd.query(database, 'SHOW FIELD KEYS')) as JsonObject
  const types = new Map<string, string>()
  for (const series of (((typesJson.results as JsonObject[])[0]!.series ?? []) as JsonObject[])) {
    for (const row of series.values as JsonValue[][]) types.set(`${series.name as string}\u0000${row[0] as string}`, row[1] as string)
  }
  // One SELECT per measurement: across measurements InfluxQL merges same-named fields of other types.
  const measurementsJson = parseJsonLossless(await influxd.query(database, 'SHOW MEASUREMENTS')) as JsonObject
  const measurementSeries = (((measurementsJson.results as JsonObject[])[0]!.series ?? []) as JsonObject[])[0]
  const names = ((measurementSeries?.values ?? []) as JsonValue[][]).map(row => row[0] as string)
  const allSeries: JsonObject[] = []
  for (const name of names) {
    const quoted = `"${name.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
    const selectJson = parseJsonLossless(await influxd.query(database, `SELECT * FROM ${quoted} GROUP BY *`)) as JsonObject
    allSeries.push(...(((selectJson.results as JsonObject[])[0]!.series ?? []) as JsonObject[]))
  }
  const stored: Stored = new Map()
  let points = 0
  for (const series of allSeries) {
    const measurement = series.name as string
    const tags = Object.entries((series.tags ?? {}) as JsonObject).map(([key, value]) => [key, value as string] as [string, string])
    const columns = series.columns as string[]
    for (const row of series.values as JsonValue[][]) {
      points++
      const id = seriesId(measurement, tags, timeKey((row[0] as JsonNumber).toBigInt(), wallNs, unitNs, 'influxd'))
      const fields = stored.get(id) ?? new Map<string, string>()
      for (let c = 1; c < columns.length; c++) {
        const value = row[c]
        if (value === null || value === undefined) continue
        const type = types.get(`${measurement}\u0000${columns[c]!}`)
        const typed = type === 'float' ? valueKey(FieldType.Float, (value as JsonNumber).toNumber())
          : type === 'integer' ? valueKey(FieldType.Integer, (value as JsonNumber).toBigInt())
          : type === 'unsigned' ? valueKey(FieldType.Unsigned, (value as JsonNumber).toBigInt())
          : type === 'string' ? valueKey(FieldType.String, value)
          : valueKey(FieldType.Boolean, value)
        fields.set(columns[c]!, typed)
      }
      stored.set(id, fields)
    }
  }
  return { stored, points }
}

interface InfluxOutcome { status: number; error: string; rejectedLines: number; stored: Stored; points: number }

let influxd: Influxd
let databaseCounter = 0

async function influxWrite(testCase: EdgeCase, wallNs: bigint): Promise<InfluxOutcome> {
  const database = `compare_${++databaseCounter}`
  await influxd.query('', `CREATE DATABASE ${database}`)
  if (testCase.setup !== undefined) {
    const setup = await influxd.write(database, Buffer.from(testCase.setup))
    assert.equal(setup.status, 204, `setup write failed: ${setup.body.toString()}`)
  }
  const answer = await influxd.write(database, typeof testCase.body === 'string' ? Buffer.from(testCase.body) : testCase.body, testCase.precision)
  const error = answer.body.length > 0 ? (JSON.parse(answer.body.toString('utf8')) as { error?: string }).error ?? '' : ''
  const unparsable = error.split("unable to parse '").length - 1
  const dropped = Number(/ dropped=(\d+)$/.exec(error)?.[1] ?? 0)
  const unitNs = BigInt(nanosecondsPerUnit[testCase.precision === 'xx' ? 'ns' : parsePrecision(testCase.precision)])
  const { stored, points } = await influxStored(influxd, database, wallNs, unitNs)
  await influxd.query('', `DROP DATABASE ${database}`)
  return { status: answer.status, error, rejectedLines: unparsable + dropped, stored, points }
}

function describe(stored: Stored): string {
  return JSON.stringify([...stored].map(([id, fields]) => [id, Object.fromEntries([...fields].sort())]).sort(), null, 1)
}

before(async () => {
  influxd = await startInfluxd()
})

after(async () => {
  await influxd?.stop()
})

test(`InfluxDB 1.6 and Sluice accept, reject and store the same for ${sameAsInfluxDb.length} edge cases`, async t => {
  assert.ok(sameAsInfluxDb.length >= 40)
  assert.match(influxd.version, /v1\.6\./, 'the comparison is against InfluxDB 1.6')
  for (const testCase of sameAsInfluxDb) {
    await t.test(testCase.name, async () => {
      const wallNs = BigInt(Date.now()) * 1_000_000n
      const influx = await influxWrite(testCase, wallNs)
      const sluice = sluiceWrite(testCase, wallNs)
      const context = `InfluxDB answered ${influx.status} ${influx.error}\nSluice rejected: ${JSON.stringify(sluice.reasons)}`
      assert.equal(sluice.rejectedLines === 0, influx.status === 204, context)
      assert.equal(sluice.rejectedLines, influx.rejectedLines, context)
      assert.equal(describe(sluice.stored), describe(influx.stored), context)
      for (const reason of sluice.reasons.filter(text => text.startsWith('field type conflict') || text.startsWith('invalid tag key') || text.startsWith('invalid field name'))) {
        assert.ok(influx.error.includes(reason), `InfluxDB's message differs from Sluice's "${reason}": ${influx.error}`)
      }
    })
  }
})

test(`${divergences.length} documented differences from InfluxDB 1.6 hold on both sides`, async t => {
  for (const divergence of divergences) {
    await t.test(`${divergence.name}: ${divergence.why}`, async () => {
      const wallNs = BigInt(Date.now()) * 1_000_000n
      const influx = await influxWrite(divergence, wallNs)
      assert.equal(influx.status, divergence.influxdb.status, `InfluxDB: ${influx.error}`)
      assert.equal(influx.points, divergence.influxdb.storedPoints, `InfluxDB stored ${describe(influx.stored)}`)
      if (divergence.precision === 'xx') {
        assert.throws(() => parsePrecision(divergence.precision), { code: 'SLUICE_ERR_INVALID_PRECISION' })
        return
      }
      const sluice = sluiceWrite(divergence, wallNs)
      assert.equal(sluice.acceptedPoints, divergence.sluice.acceptedPoints, JSON.stringify(sluice.reasons))
      assert.equal(sluice.rejectedLines, divergence.sluice.rejectedLines, JSON.stringify(sluice.reasons))
    })
  }
})
