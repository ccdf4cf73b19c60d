// Telegraf's JSON metric format (its `json` serializer; outputs.kafka, outputs.http, outputs.file):
// one metric `{"fields":{…},"name":"…","tags":{…},"timestamp":N}`, or a batch `{"metrics":[…]}`
// (also accepted: a bare array of metrics). Parsed in one pass over the bytes into the same
// columnar ParsedBatch the line protocol parser builds, with the same limits and name rules, so
// everything downstream (field type checks, toIngestRecords) is shared.
//
// Choices, each following Telegraf or InfluxDB:
// - Numbers are floats by default. Telegraf's JSON input parser turns every JSON number into a
//   float field, and Go's encoder (which Telegraf's serializer uses) writes the float 2.0 as `2`, so
//   an integer-looking number does not mean an integer field: guessing would flip a float field to
//   integer whenever a reading happens to be whole, and InfluxDB then rejects the next fractional
//   one as a type conflict. `numbers: 'infer'` opts into integer fields for integer syntax within
//   the signed 64-bit range (exact: the text is read as a bigint).
// - Strings are string fields, true/false boolean fields; a null field is absent (no value). A
//   nested object or array as a field value is rejected (the serializer never nests).
// - `timestamp` is in units of `json_timestamp_units` (default 1s, as Telegraf's default; a
//   duration like "1ms" or "10ms", truncated to a power of ten as Telegraf does). A fractional
//   timestamp is scaled exactly and truncated to the nanosecond. A missing or null timestamp takes
//   the server time truncated to the unit, as a line without a timestamp does. String timestamps
//   (Telegraf's json_timestamp_format) are refused with a clear error.
// - Tag values must be strings; an empty tag value means no tag (InfluxDB drops such tags). Names
//   follow the line protocol rules (series-key.ts): no control bytes in names, no tag or field
//   named `time` (a `time` tag rejects the metric, a `time` field is dropped), valid UTF-8, limits.
//   A name ending in a backslash is refused: the canonical series key cannot express it (the same
//   limit as line protocol, influxdb#5231).
// - Unknown members of a metric are ignored; a duplicate member rejects the metric.
// - Errors: a metric that breaks a rule is rejected alone (its LineError's `line` is the 1-based
//   metric number, and the reason names `metrics[i]` and the field or tag); a body that is not JSON
//   at all is rejected whole, with the byte offset.

import { isUtf8 } from 'node:buffer'
import { IngestError, IngestErrorCode, type IngestErrorCodeValue, type LineError } from './errors.ts'
import { defaultLineProtocolLimits, type LineProtocolLimits } from './limits.ts'
import { escapeName, parseSeriesKey } from './series-key.ts'
import { FieldType, ParsedBatch } from './parsed-batch.ts'
import { acquireColumnStore, type ColumnStore } from './column-store.ts'
import { ByteInterner, FNV_OFFSET, FNV_PRIME, HASH_MASK } from './byte-interner.ts'
import { SeriesDictionary } from './series-dictionary.ts'

export const JsonNumbers = {
  /** Every number is a float field (Telegraf's json parser); the default. */
  Float: 'float',
  /** Integer syntax within int64 is an integer field; anything else a float field. */
  Infer: 'infer',
} as const

export type JsonNumbersValue = (typeof JsonNumbers)[keyof typeof JsonNumbers]

export interface JsonParseOptions {
  /** Server time in nanoseconds; a metric without a timestamp gets it, truncated to the unit. */
  nowNs: bigint
  /** Telegraf's json_timestamp_units: "1ns", "1us", "1ms", "1s" (default), or e.g. "10ms". */
  timestampUnits?: string
  /** How JSON numbers become fields; default 'float'. */
  numbers?: JsonNumbersValue
  limits?: LineProtocolLimits
  /** How many rejected metrics are described in `errors`; the rest are only counted. Default 1000. */
  maxErrorsReported?: number
}

/** Deepest nesting of arrays and objects skipped inside a metric; deeper input is refused, never recursed into. */
export const MAX_JSON_DEPTH = 64

const MIN_TIME_NS = -9_223_372_036_854_775_806n
const MAX_TIME_NS = 9_223_372_036_854_775_806n
const EXACT_POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]
const INT64_MIN = -9_223_372_036_854_775_808n
const INT64_MAX = 9_223_372_036_854_775_807n

const unitSuffixNs: Readonly<Record<string, bigint>> = Object.freeze({ ns: 1n, us: 1_000n, 'µs': 1_000n, 'μs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n })

/**
 * Nanoseconds per timestamp unit for a Telegraf json_timestamp_units duration: a positive integer
 * and ns, us (µs), ms or s, at most 1s, truncated to a power of ten ("10ms" stays 10 ms, "25ms" is 10 ms).
 */
export function parseJsonTimestampUnits(text: string): bigint {
  const match = /^(\d{1,10})(ns|us|µs|μs|ms|s)$/.exec(text.trim())
  const amount = match ? BigInt(match[1]!) * unitSuffixNs[match[2]!]! : 0n
  if (amount < 1n || amount > 1_000_000_000n) {
    throw new IngestError(IngestErrorCode.INVALID_OPTION, `invalid json_timestamp_units "${text}" (use a duration from 1ns to 1s, such as 1ns, 1us, 1ms, 1s)`)
  }
  let unit = 1n
  while (unit * 10n <= amount) unit *= 10n
  return unit
}

/** Parses a Telegraf JSON body. Throws IngestError (SLUICE_ERR_LIMIT_EXCEEDED) if it exceeds maxBodyBytes. */
export function parseTelegrafJson(body: Buffer, options: JsonParseOptions): ParsedBatch {
  return new TelegrafJsonParser(body, options).parse()
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const COLON = 0x3a
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const MINUS = 0x2d
const SPACE = 0x20
const EQUALS = 0x3d
const DOUBLE_QUOTE_ESCAPE = 0x22

const isWhitespace = (byte: number | undefined): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09
const isDigit = (byte: number | undefined): boolean => byte !== undefined && byte >= 0x30 && byte <= 0x39

/** A JSON syntax error: the body is rejected whole. */
class JsonSyntaxError extends Error {
  constructor(readonly offset: number, reason: string) { super(reason) }
}

/** The kinds of value a metric member can hold, as the scanner sees them. */
const ValueKind = { String: 1, Number: 2, True: 3, False: 4, Null: 5, Object: 6, Array: 7 } as const
type ValueKindValue = (typeof ValueKind)[keyof typeof ValueKind]
const kindNames: Readonly<Record<ValueKindValue, string>> = { 1: 'a string', 2: 'a number', 3: 'true', 4: 'false', 5: 'null', 6: 'an object', 7: 'an array' }

/** What the metric being parsed has collected; reset per metric. */
interface PendingMetric {
  ordinal: number
  start: number
  name: string | undefined
  tags: Array<[string, string]>
  timestampNs: bigint | undefined
  seen: number
  error: { reason: string; code: IngestErrorCodeValue } | undefined
  fieldBase: number
  /** Fields written so far (fields named `time` included; they are dropped at the end). */
  fieldsSeen: number
}

const MEMBER_FIELDS = 1
const MEMBER_NAME = 2
const MEMBER_TAGS = 4
const MEMBER_TIMESTAMP = 8

class TelegrafJsonParser {
  private readonly buf: Buffer
  private readonly length: number
  private readonly limits: LineProtocolLimits
  private readonly unitNs: bigint
  private readonly defaultTimeNs: bigint
  private readonly inferIntegers: boolean
  private readonly maxErrorsReported: number
  private pos = 0

  // The last string scanned: buf[stringStart, stringEnd) between the quotes.
  private stringStart = 0
  private stringEnd = 0
  private stringEscaped = false
  private stringHighBit = false
  /** FNV-1a of the string's raw bytes, for interning field keys without making a string. */
  private stringHash = 0

  private readonly store: ColumnStore
  private pointCount = 0
  private fieldCount = 0
  private readonly arena: string[] = []
  private arenaBytes = 0

  private readonly seriesIdByRawKey = new Map<string, number>()
  private readonly series = new SeriesDictionary()
  private readonly fieldKeyIdByName = new Map<string, number>()
  private readonly fieldKeys: string[] = []
  /** Per field key id: its bytes as InfluxDB counts them (line protocol escaped), for the max key length check. */
  private readonly fieldKeyEscapedBytes: number[] = []
  /** Raw (unescaped in JSON) field key bytes → field key id, or -1 - index into rawFieldKeyErrors. */
  private readonly rawFieldKeys: ByteInterner
  private readonly rawFieldKeyTarget: number[] = []
  private readonly rawFieldKeyErrors: Array<{ reason: string; code: IngestErrorCodeValue }> = []

  private errors: LineError[] = []
  private rejectedCount = 0
  private metricsSeen = 0
  private batchForm = false

  constructor(body: Buffer, options: JsonParseOptions) {
    const limits = options.limits ?? defaultLineProtocolLimits
    if (body.length > limits.maxBodyBytes) {
      throw new IngestError(IngestErrorCode.LIMIT_EXCEEDED, `body is ${body.length} bytes, over the limit maxBodyBytes = ${limits.maxBodyBytes}`)
    }
    this.maxErrorsReported = options.maxErrorsReported ?? 1000
    if (!Number.isSafeInteger(this.maxErrorsReported) || this.maxErrorsReported < 0) {
      throw new IngestError(IngestErrorCode.INVALID_OPTION, `maxErrorsReported must be a non-negative integer, got ${String(options.maxErrorsReported)}`)
    }
    if (options.nowNs < MIN_TIME_NS || options.nowNs > MAX_TIME_NS) {
      throw new IngestError(IngestErrorCode.INVALID_OPTION, `nowNs ${options.nowNs} is outside the time range ${MIN_TIME_NS} - ${MAX_TIME_NS}`)
    }
    const numbers = options.numbers ?? JsonNumbers.Float
    if (numbers !== JsonNumbers.Float && numbers !== JsonNumbers.Infer) {
      throw new IngestError(IngestErrorCode.INVALID_OPTION, `numbers must be "float" or "infer", got ${JSON.stringify(numbers)}`)
    }
    this.buf = body
    this.length = body.length
    this.limits = limits
    this.unitNs = parseJsonTimestampUnits(options.timestampUnits ?? '1s')
    const remainder = options.nowNs % this.unitNs
    this.defaultTimeNs = options.nowNs - (remainder < 0n ? remainder + this.unitNs : remainder)
    this.inferIntegers = numbers === JsonNumbers.Infer
    let braces = 1
    let colons = 1
    for (let i = 0; i < body.length; i++) {
      if (body[i] === OPEN_BRACE) braces++
      else if (body[i] === COLON) colons++
    }
    this.rawFieldKeys = new ByteInterner(body)
    this.store = acquireColumnStore(Math.min(braces, 1 << 20) + 4, Math.min(colons, 1 << 22) + 16)
  }

  parse(): ParsedBatch {
    try {
      this.parseDocument()
    } catch (error) {
      if (!(error instanceof JsonSyntaxError)) throw error
      this.rejectWhole(error)
    }
    return this.finish()
  }

  // ---- document structure ----

  private parseDocument(): void {
    this.skipWhitespace()
    const first = this.buf[this.pos]
    if (first === OPEN_BRACKET) {
      this.batchForm = true
      this.parseMetricArray()
    } else if (first === OPEN_BRACE) {
      this.parseTopObject()
    } else {
      throw new JsonSyntaxError(this.pos, `expected a JSON object ({"name":…} or {"metrics":[…]}), found ${this.describe(this.pos)}`)
    }
    this.skipWhitespace()
    if (this.pos < this.length) throw new JsonSyntaxError(this.pos, `unexpected ${this.describe(this.pos)} after the JSON value`)
  }

  /** The top object: a metric, or a batch `{"metrics":[…]}`. Members are read once, in order. */
  private parseTopObject(): void {
    // Numbered only once it turns out to be a metric, not the {"metrics":[…]} wrapper.
    const metric = this.beginMetric(this.pos, false)
    this.pos++
    let sawMetricMember = false
    let sawMetrics = false
    this.forEachMember(() => {
      if (this.stringIs('metrics') && !this.stringEscaped) {
        if (sawMetrics) throw new JsonSyntaxError(this.stringStart, 'duplicate "metrics" member')
        if (sawMetricMember) throw new JsonSyntaxError(this.stringStart, 'an object is either a metric or {"metrics":[…]}, not both')
        this.expectColon()
        if (this.buf[this.pos] !== OPEN_BRACKET) throw new JsonSyntaxError(this.pos, `"metrics" must be an array, found ${this.describe(this.pos)}`)
        sawMetrics = true
        this.batchForm = true
        this.parseMetricArray()
        return
      }
      if (sawMetrics && this.isMetricMember()) throw new JsonSyntaxError(this.stringStart, 'an object is either a metric or {"metrics":[…]}, not both')
      if (this.isMetricMember()) sawMetricMember = true
      this.parseMetricMember(metric)
    })
    if (!sawMetrics) {
      this.metricsSeen = 1
      this.endMetric(metric, this.pos)
    }
  }

  private parseMetricArray(): void {
    this.pos++ // [
    this.skipWhitespace()
    if (this.buf[this.pos] === CLOSE_BRACKET) { this.pos++; return }
    for (;;) {
      this.skipWhitespace()
      const start = this.pos
      if (this.buf[start] !== OPEN_BRACE) throw new JsonSyntaxError(start, `expected a metric object in the metrics array, found ${this.describe(start)}`)
      const metric = this.beginMetric(start)
      this.pos++
      this.forEachMember(() => this.parseMetricMember(metric))
      this.endMetric(metric, this.pos)
      this.skipWhitespace()
      const byte = this.buf[this.pos]
      if (byte === COMMA) { this.pos++; continue }
      if (byte === CLOSE_BRACKET) { this.pos++; return }
      throw new JsonSyntaxError(this.pos, `expected ',' or ']' in the metrics array, found ${this.describe(this.pos)}`)
    }
  }

  /** Calls `member` for each member of the object whose '{' was just consumed; the key string is scanned. */
  private forEachMember(member: () => void): void {
    this.skipWhitespace()
    if (this.buf[this.pos] === CLOSE_BRACE) { this.pos++; return }
    for (;;) {
      this.skipWhitespace()
      if (this.buf[this.pos] !== QUOTE) throw new JsonSyntaxError(this.pos, `expected a member name in quotes, found ${this.describe(this.pos)}`)
      this.scanString()
      member()
      this.skipWhitespace()
      const byte = this.buf[this.pos]
      if (byte === COMMA) { this.pos++; continue }
      if (byte === CLOSE_BRACE) { this.pos++; return }
      throw new JsonSyntaxError(this.pos, `expected ',' or '}' after an object member, found ${this.describe(this.pos)}`)
    }
  }

  // ---- one metric ----

  private beginMetric(start: number, counted = true): PendingMetric {
    if (counted) this.metricsSeen++
    return { ordinal: counted ? this.metricsSeen : 1, start, name: undefined, tags: [], timestampNs: undefined, seen: 0, error: undefined, fieldBase: this.fieldCount, fieldsSeen: 0 }
  }

  private isMetricMember(): boolean {
    return !this.stringEscaped && (this.stringIs('fields') || this.stringIs('name') || this.stringIs('tags') || this.stringIs('timestamp'))
  }

  /** One member of a metric object; the member name was just scanned. Rule breaks mark the metric, syntax errors throw. */
  private parseMetricMember(metric: PendingMetric): void {
    const member = this.stringEscaped ? 0 : this.stringIs('fields') ? MEMBER_FIELDS : this.stringIs('name') ? MEMBER_NAME
      : this.stringIs('tags') ? MEMBER_TAGS : this.stringIs('timestamp') ? MEMBER_TIMESTAMP : 0
    const memberName = this.buf.toString('utf8', this.stringStart, this.stringEnd)
    this.expectColon()
    if (member === 0) { this.skipValue(0); return }
    if (metric.seen & member) {
      this.fail(metric, `duplicate member "${memberName}"`)
      this.skipValue(0)
      return
    }
    metric.seen |= member
    if (member === MEMBER_FIELDS) this.parseFields(metric)
    else if (member === MEMBER_NAME) this.parseName(metric)
    else if (member === MEMBER_TAGS) this.parseTags(metric)
    else this.parseTimestamp(metric)
  }

  private parseName(metric: PendingMetric): void {
    const kind = this.scanValue(0)
    if (kind !== ValueKind.String) { this.fail(metric, `"name" must be a string, found ${kindNames[kind]}`); return }
    const name = this.decodeScannedString(metric, '"name"')
    if (name === undefined) return
    if (name.length === 0) { this.fail(metric, 'missing measurement: "name" is empty'); return }
    metric.name = name
  }

  private parseTags(metric: PendingMetric): void {
    if (this.buf[this.pos] !== OPEN_BRACE) {
      const kind = this.scanValue(0)
      if (kind !== ValueKind.Null) this.fail(metric, `"tags" must be an object, found ${kindNames[kind]}`)
      return
    }
    this.pos++
    this.forEachMember(() => {
      const key = this.decodeScannedString(metric, 'a tag key')
      this.expectColon()
      const kind = this.scanValue(0)
      if (key === undefined) return
      if (kind !== ValueKind.String) { this.fail(metric, `tag "${key}": value must be a string, found ${kindNames[kind]}`); return }
      const value = this.decodeScannedString(metric, `tag "${key}"`)
      if (value === undefined) return
      if (key.length === 0) { this.fail(metric, 'missing tag key (empty tag key)'); return }
      if (value.length === 0) return // InfluxDB drops a tag with an empty value
      metric.tags.push([key, value])
    })
  }

  private parseFields(metric: PendingMetric): void {
    if (this.buf[this.pos] !== OPEN_BRACE) {
      const kind = this.scanValue(0)
      this.fail(metric, `"fields" must be an object, found ${kindNames[kind]}`)
      return
    }
    this.pos++
    this.forEachMember(() => {
      const keyId = this.scannedFieldKey(metric)
      this.expectColon()
      const valueStart = this.pos
      const kind = this.scanValue(0)
      if (keyId < 0 || metric.error !== undefined) return
      this.addField(metric, keyId, kind, valueStart)
    })
  }

  /** The field key id of the string just scanned, validated once per distinct key; -1 (metric failed) if invalid. */
  private scannedFieldKey(metric: PendingMetric): number {
    if (this.stringEscaped) {
      const name = this.decodeScannedString(metric, 'a field key')
      if (name === undefined) return -1
      return this.fieldKeyTarget(metric, this.fieldKeyFor(name))
    }
    const { stringStart: start, stringEnd: end, stringHash: hash } = this
    const raw = this.rawFieldKeys.find(start, end, hash)
    if (raw !== -1) return this.fieldKeyTarget(metric, this.rawFieldKeyTarget[raw]!)
    this.rawFieldKeys.add(start, end, hash)
    let target: number | { reason: string; code: IngestErrorCodeValue }
    if (this.stringHighBit && !isUtf8(this.buf.subarray(start, end))) target = { reason: 'a field key is not valid UTF-8', code: IngestErrorCode.JSON }
    else target = this.fieldKeyFor(this.buf.toString('utf8', start, end))
    if (typeof target !== 'number') {
      this.rawFieldKeyErrors.push(target)
      target = -this.rawFieldKeyErrors.length
    }
    this.rawFieldKeyTarget.push(target)
    return this.fieldKeyTarget(metric, target)
  }

  private fieldKeyTarget(metric: PendingMetric, target: number | { reason: string; code: IngestErrorCodeValue }): number {
    if (typeof target === 'number' && target < 0) target = this.rawFieldKeyErrors[-1 - target]!
    if (typeof target === 'number') return target
    this.fail(metric, target.reason, target.code)
    return -1
  }

  /** The id of a field key, or why it is refused (the line protocol's rules for field keys). */
  private fieldKeyFor(name: string): number | { reason: string; code: IngestErrorCodeValue } {
    const known = this.fieldKeyIdByName.get(name)
    if (known !== undefined) return known
    if (name.length === 0) return { reason: 'missing field key (empty field key)', code: IngestErrorCode.JSON }
    if (hasControlCharacter(name)) return { reason: `field ${JSON.stringify(name)}: a field key may hold no control character`, code: IngestErrorCode.JSON }
    const nameBytes = Buffer.byteLength(name)
    if (nameBytes > this.limits.maxNameBytes) {
      return { reason: `field "${name.slice(0, 64)}…": field key is ${nameBytes} bytes, over the limit maxNameBytes = ${this.limits.maxNameBytes}`, code: IngestErrorCode.LIMIT_EXCEEDED }
    }
    const id = this.fieldKeys.length
    this.fieldKeyIdByName.set(name, id)
    this.fieldKeys.push(name)
    this.fieldKeyEscapedBytes.push(nameBytes + countFieldKeyEscapes(name))
    return id
  }

  /** Writes one field into the next slot; the value was scanned from valueStart to this.pos. */
  private addField(metric: PendingMetric, keyId: number, kind: ValueKindValue, valueStart: number): void {
    if (kind === ValueKind.Null) return
    const key = this.fieldKeys[keyId]!
    if (kind === ValueKind.Object || kind === ValueKind.Array) {
      this.fail(metric, `field "${key}": ${kindNames[kind]} is not a field value (flatten nested values before sending)`)
      return
    }
    if (metric.fieldsSeen >= this.limits.maxFieldsPerPoint) {
      this.fail(metric, `more than maxFieldsPerPoint = ${this.limits.maxFieldsPerPoint} fields`, IngestErrorCode.LIMIT_EXCEEDED)
      return
    }
    if (this.fieldCount === this.store.fieldCapacity) this.store.growFields()
    const slot = this.fieldCount
    if (kind === ValueKind.String) this.setStringValue(slot, metric, key)
    else if (kind === ValueKind.True || kind === ValueKind.False) {
      this.store.fieldType[slot] = FieldType.Boolean
      this.store.floatValues[slot] = kind === ValueKind.True ? 1 : 0
    } else this.setNumberValue(slot, metric, key, valueStart, this.pos)
    if (metric.error !== undefined) return
    this.store.fieldKey[slot] = keyId
    metric.fieldsSeen++
    this.fieldCount = slot + 1
  }

  private setStringValue(slot: number, metric: PendingMetric, key: string): void {
    const words = this.store.valueWords
    this.store.fieldType[slot] = FieldType.String
    if (!this.stringEscaped) {
      // Raw JSON string bytes hold no backslash and no quote: decodeStringValue reads them as they are.
      if (this.stringHighBit && !isUtf8(this.buf.subarray(this.stringStart, this.stringEnd))) {
        this.fail(metric, `field "${key}": string value is not valid UTF-8`)
        return
      }
      words[slot * 2] = this.stringStart
      words[slot * 2 + 1] = this.stringEnd
      return
    }
    const value = this.decodeScannedString(metric, `field "${key}"`)
    if (value === undefined) return
    // Stored line-protocol escaped (\\ and \") after the JSON body, where decodeStringValue undoes it.
    const escaped = value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')
    const start = this.length + this.arenaBytes
    this.arena.push(escaped)
    this.arenaBytes += Buffer.byteLength(escaped)
    words[slot * 2] = start
    words[slot * 2 + 1] = this.length + this.arenaBytes
  }

  private setNumberValue(slot: number, metric: PendingMetric, key: string, start: number, end: number): void {
    if (this.inferIntegers && this.isIntegerText(start, end)) {
      const value = BigInt(this.buf.toString('latin1', start, end))
      if (value >= INT64_MIN && value <= INT64_MAX) {
        this.store.fieldType[slot] = FieldType.Integer
        this.store.integerValues[slot] = value
        return
      }
    }
    const value = this.numberValue(start, end)
    if (!Number.isFinite(value)) {
      this.fail(metric, `field "${key}": number ${this.buf.toString('latin1', start, Math.min(end, start + 64))} is out of range of a float`)
      return
    }
    this.store.fieldType[slot] = FieldType.Float
    this.store.floatValues[slot] = value
  }

  private parseTimestamp(metric: PendingMetric): void {
    const start = this.pos
    const kind = this.scanValue(0)
    if (kind === ValueKind.Null) return
    if (kind === ValueKind.String) {
      this.fail(metric, '"timestamp" is a string: only Unix epoch numbers are supported (leave json_timestamp_format unset)')
      return
    }
    if (kind !== ValueKind.Number) { this.fail(metric, `"timestamp" must be a number, found ${kindNames[kind]}`); return }
    const timeNs = this.timestampDigits(start, this.pos) ?? scaleTimestamp(this.buf.toString('latin1', start, this.pos), this.unitNs)
    if (timeNs === undefined || timeNs < MIN_TIME_NS || timeNs > MAX_TIME_NS) {
      this.fail(metric, `"timestamp" ${this.buf.toString('latin1', start, Math.min(this.pos, start + 64))}: time outside range ${MIN_TIME_NS} - ${MAX_TIME_NS}`)
      return
    }
    metric.timestampNs = timeNs
  }

  /** A timestamp of at most 15 plain digits (no sign, fraction or exponent) in ns, or undefined for the general path. */
  private timestampDigits(start: number, end: number): bigint | undefined {
    if (end - start > 15) return undefined
    let value = 0
    for (let i = start; i < end; i++) {
      const byte = this.buf[i]!
      if (!isDigit(byte)) return undefined
      value = value * 10 + (byte - 0x30)
    }
    return BigInt(value) * this.unitNs
  }

  /** The metric object ended at `end`: validate what it collected and commit it, or reject it. */
  private endMetric(metric: PendingMetric, end: number): void {
    if (metric.error === undefined && end - metric.start > this.limits.maxLineBytes) {
      this.fail(metric, `metric is ${end - metric.start} bytes, over the limit maxLineBytes = ${this.limits.maxLineBytes}`, IngestErrorCode.LIMIT_EXCEEDED)
    }
    if (metric.error === undefined && metric.name === undefined) this.fail(metric, 'missing measurement: no "name" member')
    if (metric.error === undefined && metric.fieldsSeen === 0) {
      this.fail(metric, metric.seen & MEMBER_FIELDS ? 'missing fields: "fields" has no value' : 'missing fields: no "fields" member')
    }
    const series = metric.error === undefined ? this.seriesFor(metric) : -1
    if (series >= 0) this.checkFieldKeys(metric, series)
    if (metric.error !== undefined) {
      this.reject(metric, end)
      return
    }
    this.commitPoint(metric, series)
  }

  private checkFieldKeys(metric: PendingMetric, series: number): void {
    let kept = 0
    for (let slot = metric.fieldBase; slot < this.fieldCount; slot++) {
      const keyId = this.store.fieldKey[slot]!
      const name = this.fieldKeys[keyId]!
      const keySize = this.series.seriesKeyBytes[series]! + 4 + this.fieldKeyEscapedBytes[keyId]!
      if (keySize > this.limits.maxSeriesKeyBytes) {
        this.fail(metric, `field "${name.slice(0, 64)}": max key length exceeded: ${keySize} > ${this.limits.maxSeriesKeyBytes} (maxSeriesKeyBytes)`, IngestErrorCode.LIMIT_EXCEEDED)
        return
      }
      if (name === 'time') continue // dropped, as InfluxDB 1.x and the line protocol parser do
      this.copySlot(slot, metric.fieldBase + kept++)
    }
    this.fieldCount = metric.fieldBase + kept
    if (kept === 0) this.fail(metric, `invalid field name: input field "time" on measurement "${metric.name}" is invalid`)
  }

  private copySlot(from: number, to: number): void {
    if (from === to) return
    const store = this.store
    store.fieldKey[to] = store.fieldKey[from]!
    store.fieldType[to] = store.fieldType[from]!
    store.valueWords[to * 2] = store.valueWords[from * 2]!
    store.valueWords[to * 2 + 1] = store.valueWords[from * 2 + 1]!
  }

  /** The series id of the metric's measurement and tags, validated by the line protocol's own series key parser. */
  private seriesFor(metric: PendingMetric): number {
    const rawKey = this.rawSeriesKey(metric)
    if (rawKey === undefined) return -1
    const known = this.seriesIdByRawKey.get(rawKey)
    if (known !== undefined) return known
    const bytes = Buffer.from(rawKey, 'utf8')
    const parsed = parseSeriesKey(bytes, 0, bytes.length, this.limits)
    if (!parsed.ok) {
      this.fail(metric, parsed.reason, parsed.limit ? IngestErrorCode.LIMIT_EXCEEDED : IngestErrorCode.JSON)
      return -1
    }
    const id = this.series.add(parsed)
    this.seriesIdByRawKey.set(rawKey, id)
    return id
  }

  /** The metric's key as line protocol text (`m,k=v`), escaped so that parseSeriesKey reads the names back exactly. */
  private rawSeriesKey(metric: PendingMetric): string | undefined {
    const name = metric.name!
    if (name.endsWith('\\') && metric.tags.length > 0) {
      this.fail(metric, 'measurement name ends with a backslash, which a series key cannot express')
      return undefined
    }
    let key = escapeName(name, false)
    for (let t = 0; t < metric.tags.length; t++) {
      const [tagKey, tagValue] = metric.tags[t]!
      if (tagKey.endsWith('\\') || (tagValue.endsWith('\\') && t < metric.tags.length - 1)) {
        this.fail(metric, `tag "${tagKey}": a tag key or value ending with a backslash cannot be expressed in a series key`)
        return undefined
      }
      key += ',' + escapeName(tagKey, true) + '=' + escapeName(tagValue, true)
    }
    return key
  }

  private commitPoint(metric: PendingMetric, series: number): void {
    if (this.pointCount === this.store.pointCapacity) this.store.growPoints()
    const point = this.pointCount++
    this.store.pointSeries[point] = series
    this.store.pointFieldStart[point] = metric.fieldBase
    this.store.pointLine[point] = metric.ordinal
    this.store.timestamps[point] = metric.timestampNs ?? this.defaultTimeNs
  }

  /** Marks the metric rejected with its first rule break; parsing continues to the end of its object. */
  private fail(metric: PendingMetric, reason: string, code: IngestErrorCodeValue = IngestErrorCode.JSON): void {
    if (metric.error === undefined) metric.error = { reason, code }
  }

  private reject(metric: PendingMetric, end: number): void {
    this.fieldCount = metric.fieldBase
    this.rejectedCount++
    if (this.errors.length >= this.maxErrorsReported) return
    const where = this.batchForm ? `metrics[${metric.ordinal - 1}]` : 'metric'
    this.errors.push({ line: metric.ordinal, reason: `${where}: ${metric.error!.reason}`, code: metric.error!.code, byteStart: metric.start, byteEnd: end })
  }

  private rejectWhole(error: JsonSyntaxError): void {
    this.pointCount = 0
    this.fieldCount = 0
    this.arena.length = 0
    this.arenaBytes = 0
    this.rejectedCount = Math.max(1, this.metricsSeen)
    this.errors = [{
      line: Math.max(1, this.metricsSeen),
      reason: `invalid JSON at byte ${error.offset}${this.metricsSeen > 0 ? ` (in metric ${this.metricsSeen})` : ''}: ${error.message}; nothing in this body was accepted`,
      code: IngestErrorCode.JSON,
      byteStart: 0,
      byteEnd: this.length,
    }]
  }

  private finish(): ParsedBatch {
    const store = this.store
    store.pointFieldStart[this.pointCount] = this.fieldCount
    const body = this.arena.length === 0 ? this.buf : Buffer.concat([this.buf, Buffer.from(this.arena.join(''), 'utf8')])
    return new ParsedBatch({
      body,
      store,
      pointCount: this.pointCount,
      fieldCount: this.fieldCount,
      seriesKeys: this.series.seriesKeys,
      seriesMeasurement: this.series.seriesMeasurement,
      seriesTagStart: this.series.seriesTagStart,
      tagKeys: this.series.tagKeys,
      tagValues: this.series.tagValues,
      measurements: this.series.measurements,
      fieldKeys: this.fieldKeys,
      errors: this.errors,
      rejectedLineCount: this.rejectedCount,
      linesSeen: Math.max(1, this.metricsSeen),
    })
  }

  // ---- scanner ----

  private skipWhitespace(): void {
    while (this.pos < this.length && isWhitespace(this.buf[this.pos])) this.pos++
  }

  private expectColon(): void {
    this.skipWhitespace()
    if (this.buf[this.pos] !== COLON) throw new JsonSyntaxError(this.pos, `expected ':' after a member name, found ${this.describe(this.pos)}`)
    this.pos++
    this.skipWhitespace()
  }

  private describe(pos: number): string {
    if (pos >= this.length) return 'end of input'
    const byte = this.buf[pos]!
    return byte < SPACE || byte >= 0x7f ? `byte 0x${byte.toString(16).padStart(2, '0')}` : `'${String.fromCharCode(byte)}'`
  }

  private stringIs(text: string): boolean {
    if (this.stringEnd - this.stringStart !== text.length) return false
    for (let i = 0; i < text.length; i++) if (this.buf[this.stringStart + i] !== text.charCodeAt(i)) return false
    return true
  }

  /** Scans the string whose opening quote is at pos; leaves pos after the closing quote. */
  private scanString(): void {
    const buf = this.buf
    const quote = this.pos
    let pos = quote + 1
    let escaped = false
    let highBit = 0
    let hash = FNV_OFFSET
    for (;;) {
      if (pos >= this.length) throw new JsonSyntaxError(quote, 'unterminated string')
      const byte = buf[pos]!
      if (byte === QUOTE) break
      if (byte < SPACE) throw new JsonSyntaxError(pos, `control byte 0x${byte.toString(16).padStart(2, '0')} inside a string (it must be escaped)`)
      if (byte === BACKSLASH) {
        escaped = true
        const next = buf[pos + 1]
        if (next === 0x75 /* u */) {
          for (let h = pos + 2; h < pos + 6; h++) if (!isHexDigit(buf[h])) throw new JsonSyntaxError(pos, 'invalid \\u escape (expected four hex digits)')
          pos += 6
          continue
        }
        if (next === undefined || !'"\\/bfnrt'.includes(String.fromCharCode(next))) throw new JsonSyntaxError(pos, 'invalid escape in string')
        pos += 2
        continue
      }
      highBit |= byte
      hash = Math.imul(hash ^ byte, FNV_PRIME)
      pos++
    }
    this.stringHash = hash & HASH_MASK
    this.stringStart = quote + 1
    this.stringEnd = pos
    this.stringEscaped = escaped
    this.stringHighBit = highBit >= 0x80
    this.pos = pos + 1
  }

  /** The last scanned string as a JS string, or undefined (and the metric failed) if it is not valid UTF-8. */
  private decodeScannedString(metric: PendingMetric, what: string): string | undefined {
    const { stringStart: start, stringEnd: end } = this
    if (!this.stringEscaped) {
      if (this.stringHighBit && !isUtf8(this.buf.subarray(start, end))) { this.fail(metric, `${what} is not valid UTF-8`); return undefined }
      return this.buf.toString('utf8', start, end)
    }
    if (this.stringHighBit && !isUtf8(this.buf.subarray(start, end))) { this.fail(metric, `${what} is not valid UTF-8`); return undefined }
    const text = JSON.parse(this.buf.toString('utf8', start - 1, end + 1)) as string
    if (Buffer.from(text, 'utf8').toString('utf8') !== text) { this.fail(metric, `${what} holds a lone UTF-16 surrogate (\\uD800-\\uDFFF), which is not valid UTF-8`); return undefined }
    return text
  }

  /** Scans any JSON value at pos (after whitespace) and returns its kind; objects and arrays are skipped. */
  private scanValue(depth: number): ValueKindValue {
    this.skipWhitespace()
    const buf = this.buf
    const byte = buf[this.pos]
    if (byte === QUOTE) { this.scanString(); return ValueKind.String }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) { this.skipValue(depth); return byte === OPEN_BRACE ? ValueKind.Object : ValueKind.Array }
    if (this.matchWord('true')) return ValueKind.True
    if (this.matchWord('false')) return ValueKind.False
    if (this.matchWord('null')) return ValueKind.Null
    if (this.isNumberStart(this.pos)) { this.scanNumber(); return ValueKind.Number }
    throw new JsonSyntaxError(this.pos, `expected a value, found ${this.describe(this.pos)}`)
  }

  /** Skips any value at pos, iterating into objects and arrays up to MAX_JSON_DEPTH. */
  private skipValue(depth: number): void {
    this.skipWhitespace()
    const open = this.buf[this.pos]
    if (open !== OPEN_BRACE && open !== OPEN_BRACKET) { this.scanValue(depth); return }
    if (depth >= MAX_JSON_DEPTH) throw new JsonSyntaxError(this.pos, `nesting deeper than ${MAX_JSON_DEPTH} levels`)
    const close = open === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET
    this.pos++
    this.skipWhitespace()
    if (this.buf[this.pos] === close) { this.pos++; return }
    for (;;) {
      this.skipWhitespace()
      if (open === OPEN_BRACE) {
        if (this.buf[this.pos] !== QUOTE) throw new JsonSyntaxError(this.pos, `expected a member name in quotes, found ${this.describe(this.pos)}`)
        this.scanString()
        this.expectColon()
      }
      this.skipValue(depth + 1)
      this.skipWhitespace()
      const byte = this.buf[this.pos]
      if (byte === COMMA) { this.pos++; continue }
      if (byte === close) { this.pos++; return }
      throw new JsonSyntaxError(this.pos, `expected ',' or '${String.fromCharCode(close)}', found ${this.describe(this.pos)}`)
    }
  }

  private matchWord(word: string): boolean {
    for (let i = 0; i < word.length; i++) if (this.buf[this.pos + i] !== word.charCodeAt(i)) return false
    this.pos += word.length
    return true
  }

  private isNumberStart(pos: number): boolean {
    const byte = this.buf[pos]
    return byte === MINUS || isDigit(byte)
  }

  /** JSON number grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? */
  private scanNumber(): void {
    const buf = this.buf
    const start = this.pos
    let pos = start
    if (buf[pos] === MINUS) pos++
    if (buf[pos] === 0x30) pos++
    else if (isDigit(buf[pos])) while (isDigit(buf[pos])) pos++
    else throw new JsonSyntaxError(pos, 'invalid number')
    if (buf[pos] === 0x2e) {
      pos++
      if (!isDigit(buf[pos])) throw new JsonSyntaxError(pos, 'invalid number: digits must follow the decimal point')
      while (isDigit(buf[pos])) pos++
    }
    if (buf[pos] === 0x65 || buf[pos] === 0x45) {
      pos++
      if (buf[pos] === 0x2b || buf[pos] === MINUS) pos++
      if (!isDigit(buf[pos])) throw new JsonSyntaxError(pos, 'invalid number: digits must follow the exponent')
      while (isDigit(buf[pos])) pos++
    }
    this.pos = pos
  }

  /**
   * The double nearest to the JSON number buf[start, end). Up to 15 digits without exponent, both
   * operands of one division are exact, so the result is correctly rounded (Clinger's fast path);
   * anything else goes through Number().
   */
  private numberValue(start: number, end: number): number {
    const buf = this.buf
    let i = start
    const negative = buf[i] === MINUS
    if (negative) i++
    let mantissa = 0
    let digits = 0
    let fractionDigits = 0
    let fraction = false
    for (; i < end; i++) {
      const byte = buf[i]!
      if (byte === 0x2e) { fraction = true; continue }
      if (!isDigit(byte) || ++digits > 15) return Number(buf.toString('latin1', start, end))
      mantissa = mantissa * 10 + (byte - 0x30)
      if (fraction) fractionDigits++
    }
    const value = fractionDigits === 0 ? mantissa : mantissa / EXACT_POW10[fractionDigits]!
    return negative ? -value : value
  }

  private isIntegerText(start: number, end: number): boolean {
    for (let i = start; i < end; i++) {
      const byte = this.buf[i]
      if (byte === 0x2e || byte === 0x65 || byte === 0x45) return false
    }
    return true
  }
}

function isHexDigit(byte: number | undefined): boolean {
  return byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66))
}

function hasControlCharacter(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c < SPACE || c === 0x7f) return true
  }
  return false
}


/** Bytes line protocol escaping adds to a field key (InfluxDB counts the escaped key against MaxKeyLength). */
function countFieldKeyEscapes(name: string): number {
  let count = 0
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === COMMA || c === SPACE || c === EQUALS || c === DOUBLE_QUOTE_ESCAPE) count++
  }
  return count
}

/** A JSON number of timestamp units as exact nanoseconds (truncated toward zero), or undefined if absurdly large. */
function scaleTimestamp(text: string, unitNs: bigint): bigint | undefined {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text)
  if (!match) return undefined
  const fraction = match[3] ?? ''
  const exponent = Number(match[4] ?? '0')
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400 || match[2]!.length + fraction.length > 400) return undefined
  let numerator = BigInt(match[2]! + fraction) * unitNs
  let denominator = 10n ** BigInt(fraction.length)
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent)
  else denominator *= 10n ** BigInt(-exponent)
  const magnitude = numerator / denominator
  return match[1] === '-' ? -magnitude : magnitude
}
