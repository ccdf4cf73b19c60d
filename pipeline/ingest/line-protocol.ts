// InfluxDB line protocol parser: one pass over the bytes of a write body, columnar output
// (ParsedBatch), rejected lines reported with line, column and reason while the good lines are kept.
//
// Grammar: InfluxData's reference (line-protocol v2, the corpus in shared/testdata), with InfluxDB 1.x
// semantics where the two differ and 1.x is what clients rely on: string values unescape only \\ and
// \" (other backslashes stay literal); a field key also unescapes \"; a tag named `time` rejects the
// line and a field named `time` is dropped; timestamps must lie in 1.x's range ±9223372036854775806 ns.
// Unsigned integers (`42u`) are accepted although InfluxDB 1.6 rejects them. See
// line-protocol.corpus.test.ts and integration/influxdb-compare.test.ts for the evidence.
//
// Hot path rules: no regular expression, no string per line or per field (names are interned by
// their raw bytes; strings are decoded on access), 64-bit values written as 32-bit words.

import { isUtf8 } from 'node:buffer'
import { IngestError, IngestErrorCode, type IngestErrorCodeValue, type LineError } from './errors.ts'
import { defaultLineProtocolLimits, type LineProtocolLimits } from './limits.ts'
import { nanosecondsPerUnit, type PrecisionUnit } from './precision.ts'
import { ByteInterner, FNV_OFFSET, FNV_PRIME, HASH_MASK } from './byte-interner.ts'
import { parseSeriesKey, unescapeName } from './series-key.ts'
import { FieldType, ParsedBatch } from './parsed-batch.ts'
import { acquireColumnStore, type ColumnStore } from './column-store.ts'
import {
  scratch, readDecimal, withinMagnitude, scaleDecimal, decimalToWords, bigintToWords,
  INT64_MAX_MAGNITUDE, INT64_MIN_MAGNITUDE, UINT64_MAX_MAGNITUDE, TIME_MAX_MAGNITUDE,
} from './int64-words.ts'
import { SeriesDictionary } from './series-dictionary.ts'

export interface ParseOptions {
  /** Server time in nanoseconds; a line without a timestamp gets it, truncated to the precision. */
  nowNs: bigint
  /** Unit of the timestamps in the body. Default nanoseconds. */
  precision?: PrecisionUnit
  limits?: LineProtocolLimits
  /** How many rejected lines are described in `errors`; the rest are only counted. Default 1000. */
  maxErrorsReported?: number
}

// FieldType values, as local constants (see parsed-batch.ts).
const TYPE_FLOAT = 1
const TYPE_INTEGER = 2
const TYPE_UNSIGNED = 3
const TYPE_STRING = 4
const TYPE_BOOLEAN = 5
if (TYPE_FLOAT !== FieldType.Float || TYPE_INTEGER !== FieldType.Integer || TYPE_UNSIGNED !== FieldType.Unsigned ||
  TYPE_STRING !== FieldType.String || TYPE_BOOLEAN !== FieldType.Boolean) {
  throw new Error('line-protocol.ts field type constants disagree with FieldType')
}

const NEWLINE = 0x0a
const RETURN = 0x0d
const SPACE = 0x20
const QUOTE = 0x22
const HASH = 0x23
const COMMA = 0x2c
const MINUS = 0x2d
const DOT = 0x2e
const ZERO = 0x30
const NINE = 0x39
const EQUALS = 0x3d
const BACKSLASH = 0x5c
const DELETE = 0x7f
const FAILED = -1
const NO_PREDICTION = -2
/** Integers of at most this many digits fit 32 bits and take parseShortInteger's one pass. */
const SHORT_INTEGER_DIGITS = 9
/** Odd multiplier of the series key's word hash steps (2^32 / golden ratio). */
const WORD_HASH_PRIME = 0x9e3779b1 | 0
const MIN_TIME_NS = -9_223_372_036_854_775_806n
const MAX_TIME_NS = 9_223_372_036_854_775_806n
const FLOAT_OK = 0
const FLOAT_SYNTAX = 1
const FLOAT_RANGE = 2
const EXACT_POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15]

const isDigit = (byte: number): boolean => byte >= ZERO && byte <= NINE
const isFieldKeyEscape = (byte: number): boolean => byte === COMMA || byte === SPACE || byte === EQUALS || byte === QUOTE

function describeByte(byte: number | undefined): string {
  if (byte === undefined) return 'end of input'
  if (byte === NEWLINE || byte === RETURN) return 'end of line'
  if (byte < SPACE || byte === DELETE) return `control character 0x${byte.toString(16).padStart(2, '0')}`
  return `'${String.fromCharCode(byte)}'`
}

/** Initial capacities never exceed these (24 MiB and 52 MiB of arrays); beyond them arrays double. */
const MAX_INITIAL_POINTS = 1 << 20
const MAX_INITIAL_FIELDS = 1 << 22

/**
 * Initial array sizes from the first 64 KiB: `=` signs there (each point has at least one, and each
 * field one) scaled to the whole body, plus a margin, and never more than the shortest possible
 * lines could hold (`m v=1` is 6 bytes with its newline, `,a=1` 4 bytes per field).
 */
function estimateCounts(body: Buffer): { points: number; fields: number } {
  const sampleEnd = Math.min(body.length, 65_536)
  const { newlines, equals } = countSample(body, sampleEnd)
  const scale = (body.length / Math.max(1, sampleEnd)) * 1.1
  return {
    points: Math.min(Math.ceil(Math.min(newlines, equals) * scale), Math.ceil(body.length / 6), MAX_INITIAL_POINTS) + 16,
    fields: Math.min(Math.ceil(equals * scale), Math.ceil(body.length / 4), MAX_INITIAL_FIELDS) + 64,
  }
}

/**
 * Newlines and `=` signs in body[0, end), each counted from 1. The loop is a function of its own:
 * Node 20's V8 optimized estimateCounts on-stack within its loop, and that code, entered again on
 * every later body, was deoptimized ("lost precision") in the arithmetic after it, 156 times in a
 * bench:e2e day (npm run bench:e2e -- --node-stdout DIR with SLUICE_V8_FLAGS=--trace-deopt).
 */
function countSample(body: Buffer, end: number): { newlines: number; equals: number } {
  let newlines = 1
  let equals = 1
  for (let i = 0; i < end; i++) {
    const byte = body[i]
    if (byte === NEWLINE) newlines++
    else if (byte === EQUALS) equals++
  }
  return { newlines, equals }
}

/** Parses a whole write body. Throws IngestError (SLUICE_ERR_LIMIT_EXCEEDED) if it exceeds maxBodyBytes. */
export function parseLineProtocol(body: Buffer, options: ParseOptions): ParsedBatch {
  return new LineProtocolParser(body, options).parse()
}

class LineProtocolParser {
  private readonly buf: Buffer
  /** The body's bytes read as 32-bit words (the series key scan). */
  private readonly view: DataView
  private readonly length: number
  private readonly limits: LineProtocolLimits
  private readonly precisionFactor: number
  private readonly precisionPower: number
  private readonly precisionIsNs: boolean
  private readonly defaultTimeLow: number
  private readonly defaultTimeHigh: number
  private readonly maxErrorsReported: number

  private pos = 0
  private line = 1
  private lineStart = 0
  // The entry being parsed, for rollback and error positions.
  private entryStart = 0
  private entryLine = 1
  private entryLineStart = 0
  private fieldBase = 0

  private readonly store: ColumnStore
  private pointCount = 0
  private pointCapacity: number
  private timestampWords: Uint32Array
  private fieldCount = 0
  private fieldCapacity: number
  private fieldKey: Uint32Array
  private fieldType: Uint8Array
  private floatValues: Float64Array
  private valueWords: Uint32Array

  private readonly rawSeries: ByteInterner
  private readonly rawSeriesTarget: number[] = [] // series id, or -1 - index into rawSeriesErrors
  private readonly rawSeriesErrors: Array<{ offset: number; reason: string; limit: boolean }> = []
  private readonly seriesIdByKey = new Map<string, number>()
  private readonly series = new SeriesDictionary()

  private readonly rawFieldKeys: ByteInterner
  private readonly rawFieldTarget: number[] = [] // field key id, or -1 - index into rawFieldErrors
  private readonly rawFieldIsTime: boolean[] = []
  private readonly rawFieldErrors: Array<{ reason: string; code: IngestErrorCodeValue }> = []
  private readonly fieldKeyIdByName = new Map<string, number>()
  private readonly fieldKeys: string[] = []
  /** The raw field key ids of the last line that had each position, by position in the line (predictedFieldKey). */
  private readonly fieldKeyByPosition: number[] = []

  private readonly errors: LineError[] = []
  private rejectedCount = 0

  constructor(body: Buffer, options: ParseOptions) {
    const limits = options.limits ?? defaultLineProtocolLimits
    if (body.length > limits.maxBodyBytes) {
      throw new IngestError(IngestErrorCode.LIMIT_EXCEEDED, `body is ${body.length} bytes, over the limit maxBodyBytes = ${limits.maxBodyBytes}`)
    }
    this.buf = body
    this.view = new DataView(body.buffer, body.byteOffset, body.byteLength)
    this.length = body.length
    this.limits = limits
    this.maxErrorsReported = options.maxErrorsReported ?? 1000
    if (!Number.isSafeInteger(this.maxErrorsReported) || this.maxErrorsReported < 0) {
      throw new IngestError(IngestErrorCode.INVALID_OPTION, `maxErrorsReported must be a non-negative integer, got ${String(options.maxErrorsReported)}`)
    }
    if (options.nowNs < MIN_TIME_NS || options.nowNs > MAX_TIME_NS) {
      throw new IngestError(IngestErrorCode.INVALID_OPTION, `nowNs ${options.nowNs} is outside the time range ${MIN_TIME_NS} - ${MAX_TIME_NS}`)
    }
    const unitNs = nanosecondsPerUnit[options.precision ?? 'ns']
    if (unitNs === undefined) throw new IngestError(IngestErrorCode.INVALID_PRECISION, `unknown precision unit "${String(options.precision)}"`)
    this.precisionIsNs = unitNs === 1
    this.precisionFactor = unitNs % 1_000_000_000 === 0 ? unitNs / 1_000_000_000 : 1
    this.precisionPower = this.precisionFactor !== 1 ? 9 : Math.round(Math.log10(unitNs))
    const unit = BigInt(unitNs)
    const remainder = options.nowNs % unit
    bigintToWords(options.nowNs - (remainder < 0n ? remainder + unit : remainder))
    this.defaultTimeLow = scratch.wordLow
    this.defaultTimeHigh = scratch.wordHigh

    const estimate = estimateCounts(body)
    this.store = acquireColumnStore(estimate.points, estimate.fields)
    this.pointCapacity = this.store.pointCapacity
    this.timestampWords = this.store.timestampWords
    this.fieldCapacity = this.store.fieldCapacity
    this.fieldKey = this.store.fieldKey
    this.fieldType = this.store.fieldType
    this.floatValues = this.store.floatValues
    this.valueWords = this.store.valueWords
    this.rawSeries = new ByteInterner(body)
    this.rawFieldKeys = new ByteInterner(body)
  }

  parse(): ParsedBatch {
    const buf = this.buf
    const length = this.length
    while (this.pos < length) {
      let pos = this.pos
      while (pos < length && buf[pos] === SPACE) pos++
      if (pos >= length) break
      const byte = buf[pos]!
      this.beginEntry(pos)
      if (byte === NEWLINE) {
        this.nextLine(pos + 1)
      } else if (byte === RETURN && pos + 1 === length) {
        this.pos = length
      } else if (byte === RETURN && buf[pos + 1] === NEWLINE) {
        this.nextLine(pos + 2)
      } else if (byte === HASH) {
        this.skipComment(pos)
      } else {
        this.parseEntry(pos)
      }
    }
    return this.finish()
  }

  private beginEntry(pos: number): void {
    this.entryStart = pos
    this.entryLine = this.line
    this.entryLineStart = this.lineStart
    this.fieldBase = this.fieldCount
  }

  private nextLine(pos: number): void {
    this.pos = pos
    this.line++
    this.lineStart = pos
  }

  /** A comment runs to the end of the line and may hold no control character (tabs included). */
  private skipComment(start: number): void {
    const buf = this.buf
    let pos = start + 1
    while (pos < this.length) {
      const byte = buf[pos]!
      if (byte === NEWLINE) { this.nextLine(pos + 1); return }
      if (byte === RETURN && (pos + 1 === this.length || buf[pos + 1] === NEWLINE)) {
        if (pos + 1 === this.length) this.pos = this.length
        else this.nextLine(pos + 2)
        return
      }
      if (byte < SPACE || byte === DELETE) {
        this.reject(pos, `invalid ${describeByte(byte)} in comment`)
        return
      }
      pos++
    }
    this.pos = this.length
  }

  private parseEntry(start: number): void {
    const buf = this.buf
    const length = this.length
    // The key region (measurement and tags) ends at the first unescaped space or line break.
    // Four bytes a step while none of them can end it (every byte that can is at most a space), with
    // one hash step per word: the series key is most of a line's bytes. From the first group holding
    // such a byte on, one byte a step, with one comparison per byte on the way (a backslash before a
    // space is looked at only on a space). The same bytes take the same steps, so hash the same.
    let pos = start
    let hash = FNV_OFFSET
    const view = this.view
    while (pos + 4 <= length) {
      const word = view.getUint32(pos, true)
      // Whether some byte of the word is below 0x21 (at most a space): bytes of 0x80 and up never are.
      if (((word - 0x21212121) & ~word & 0x80808080) !== 0) break
      hash = Math.imul(hash ^ word, WORD_HASH_PRIME)
      hash ^= hash >>> 15 // the multiply carries low bits up only; bring the high bytes down to the slot bits
      pos += 4
    }
    while (pos < length) {
      const byte = buf[pos]!
      if (byte <= SPACE && (byte === NEWLINE || byte === RETURN || (byte === SPACE && (pos === start || buf[pos - 1] !== BACKSLASH)))) break
      hash = Math.imul(hash ^ byte, FNV_PRIME)
      pos++
    }
    const series = this.seriesFor(start, pos, hash & HASH_MASK)
    if (series < 0) {
      const error = this.rawSeriesErrors[-1 - series]!
      this.reject(start + error.offset, error.reason, error.limit ? IngestErrorCode.LIMIT_EXCEEDED : IngestErrorCode.LINE_PROTOCOL)
      return
    }
    if (pos >= length || buf[pos] !== SPACE) {
      this.reject(pos, 'missing fields')
      return
    }
    while (pos < length && buf[pos] === SPACE) pos++
    pos = this.parseFields(pos, series)
    if (pos === FAILED) return
    pos = this.parseTimestamp(pos)
    if (pos === FAILED) return
    if (pos - start > this.limits.maxLineBytes) {
      this.reject(start, `line is ${pos - start} bytes, over the limit maxLineBytes = ${this.limits.maxLineBytes}`, IngestErrorCode.LIMIT_EXCEEDED)
      return
    }
    this.commitPoint(series)
    if (pos < length && buf[pos] === RETURN) pos++
    if (pos < length) this.nextLine(pos + 1)
    else this.pos = length
  }

  /** Series id for the raw key region buf[start, end), parsing it the first time it is seen. */
  private seriesFor(start: number, end: number, hash: number): number {
    const raw = this.rawSeries.find(start, end, hash)
    if (raw !== -1) return this.rawSeriesTarget[raw]!
    this.rawSeries.add(start, end, hash)
    const parsed = parseSeriesKey(this.buf, start, end, this.limits)
    let target: number
    if (!parsed.ok) {
      target = -1 - this.rawSeriesErrors.length
      this.rawSeriesErrors.push({ offset: parsed.offset - start, reason: parsed.reason, limit: parsed.limit })
    } else {
      const known = this.seriesIdByKey.get(parsed.key)
      if (known !== undefined) {
        target = known
      } else {
        target = this.series.add(parsed)
        this.seriesIdByKey.set(parsed.key, target)
      }
    }
    this.rawSeriesTarget.push(target)
    return target
  }

  /** Parses the field set from pos; returns the position after it (at the timestamp or end of line). */
  private parseFields(pos: number, series: number): number {
    const buf = this.buf
    const length = this.length
    const fieldsStart = pos
    let fieldsSeen = 0
    for (;;) {
      const keyStart = pos
      let rawKey = this.predictedFieldKey(fieldsSeen, keyStart)
      if (rawKey === NO_PREDICTION) {
        rawKey = this.scanFieldKey(keyStart)
        if (rawKey === FAILED) return FAILED
        if (fieldsSeen < this.fieldKeyByPosition.length) this.fieldKeyByPosition[fieldsSeen] = rawKey
        else this.fieldKeyByPosition.push(rawKey)
      }
      pos = keyStart + this.rawFieldKeys.lengthOf(rawKey)
      if (this.rawFieldTarget[rawKey]! < 0) {
        const error = this.rawFieldErrors[-1 - this.rawFieldTarget[rawKey]!]!
        return this.reject(keyStart, error.reason, error.code)
      }
      if (++fieldsSeen > this.limits.maxFieldsPerPoint) {
        return this.reject(keyStart, `more than maxFieldsPerPoint = ${this.limits.maxFieldsPerPoint} fields`, IngestErrorCode.LIMIT_EXCEEDED)
      }
      // InfluxDB 1.x: series key + 4 ("#!~#") + field key must fit MaxKeyLength.
      const keySize = this.series.seriesKeyBytes[series]! + 4 + (pos - keyStart)
      if (keySize > this.limits.maxSeriesKeyBytes) {
        return this.reject(keyStart, `max key length exceeded: ${keySize} > ${this.limits.maxSeriesKeyBytes} (maxSeriesKeyBytes)`, IngestErrorCode.LIMIT_EXCEEDED)
      }
      pos++ // '='
      if (this.fieldCount === this.fieldCapacity) this.growFields()
      const slot = this.fieldCount
      pos = this.parseValue(pos, slot)
      if (pos === FAILED) return FAILED
      // A field named `time` is dropped, as InfluxDB 1.x does (its slot is reused by the next field).
      if (!this.rawFieldIsTime[rawKey]) {
        this.fieldKey[slot] = this.rawFieldTarget[rawKey]!
        this.fieldCount = slot + 1
      }
      if (pos >= length) break
      const byte = buf[pos]!
      if (byte === COMMA) { pos++; continue }
      if (byte !== SPACE && byte !== NEWLINE && byte !== RETURN) {
        return this.reject(pos, `unexpected ${describeByte(byte)} after the value of field "${buf.toString('utf8', keyStart, pos)}"`)
      }
      break
    }
    if (this.fieldCount === this.fieldBase) {
      const measurement = this.series.measurements[this.series.seriesMeasurement[series]!]!
      return this.reject(fieldsStart, `invalid field name: input field "time" on measurement "${measurement}" is invalid`)
    }
    return pos
  }

  /**
   * The raw field key id at `start` if it is the one the last line had in this position, followed by
   * '=' (lines of one measurement repeat their keys in order), else NO_PREDICTION. Scanning these
   * bytes would end at that '=' and find the same key: the scan depends only on the bytes it reads.
   */
  private predictedFieldKey(position: number, start: number): number {
    if (position >= this.fieldKeyByPosition.length) return NO_PREDICTION
    const rawKey = this.fieldKeyByPosition[position]!
    const end = start + this.rawFieldKeys.lengthOf(rawKey)
    return end < this.length && this.buf[end] === EQUALS && this.rawFieldKeys.matchesAt(rawKey, start) ? rawKey : NO_PREDICTION
  }

  /** Scans the field key at keyStart up to its '='; returns its raw key id, or FAILED (line rejected). */
  private scanFieldKey(keyStart: number): number {
    const buf = this.buf
    const length = this.length
    let pos = keyStart
    let hash = FNV_OFFSET
    // InfluxDB 1.x reads a field key twice: its line scan takes a backslash and the next byte as
    // a pair (so in `f\\,g` the comma separates fields), while it finds the '=' by looking only
    // at the byte before. The two disagree on an '=' after an escaped backslash (`f\\=`): the
    // scan checks a value after it, the split does not, so InfluxDB accepts or refuses such a
    // line by accident of what follows, sometimes storing a mangled key. Sluice refuses it.
    let previous = 0
    let pairEscaped = false
    while (pos < length) {
      const byte = buf[pos]!
      if (byte === EQUALS || byte === COMMA || byte <= SPACE || byte === DELETE) {
        if (byte === EQUALS && previous === BACKSLASH && !pairEscaped) {
          return this.reject(pos, `ambiguous field key "${buf.toString('utf8', keyStart, pos + 1)}": '=' after an escaped backslash (write \\\\\\= for a backslash and an '=' in the key)`)
        }
        const escaped = byte === EQUALS ? previous === BACKSLASH : pairEscaped
        if (!escaped || byte < SPACE || byte === DELETE) break
      }
      hash = Math.imul(hash ^ byte, FNV_PRIME)
      pairEscaped = byte === BACKSLASH && !pairEscaped
      previous = byte
      pos++
    }
    if (pos === keyStart) return this.reject(pos, buf[pos] === EQUALS ? 'missing field key' : `missing field key (found ${describeByte(buf[pos])})`)
    if (pos >= length || buf[pos] !== EQUALS) {
      return this.reject(pos, `missing field value: expected '=' after field key "${buf.toString('utf8', keyStart, pos)}", found ${describeByte(buf[pos])}`)
    }
    return this.fieldKeyFor(keyStart, pos, hash & HASH_MASK)
  }

  /** Field key id for the raw key buf[start, end) (unescaped, validated once per distinct raw key). */
  private fieldKeyFor(start: number, end: number, hash: number): number {
    const raw = this.rawFieldKeys.find(start, end, hash)
    if (raw !== -1) return raw
    const id = this.rawFieldKeys.add(start, end, hash)
    const name = unescapeName(this.buf, start, end, isFieldKeyEscape)
    let target: number
    let isTime = false
    if (name.length > this.limits.maxNameBytes) {
      target = -1 - this.rawFieldErrors.length
      this.rawFieldErrors.push({ reason: `field key is ${name.length} bytes, over the limit maxNameBytes = ${this.limits.maxNameBytes}`, code: IngestErrorCode.LIMIT_EXCEEDED })
    } else if (!isUtf8(name)) {
      target = -1 - this.rawFieldErrors.length
      this.rawFieldErrors.push({ reason: 'field key is not valid UTF-8', code: IngestErrorCode.LINE_PROTOCOL })
    } else {
      const text = name.toString('utf8')
      isTime = text === 'time'
      const known = this.fieldKeyIdByName.get(text)
      if (known !== undefined) {
        target = known
      } else {
        target = this.fieldKeys.length
        this.fieldKeyIdByName.set(text, target)
        this.fieldKeys.push(text)
      }
    }
    this.rawFieldTarget.push(target)
    this.rawFieldIsTime.push(isTime)
    return id
  }

  /** Parses one field value at pos into `slot`; returns the position after it. */
  private parseValue(pos: number, slot: number): number {
    const buf = this.buf
    const first = buf[pos]
    if (first === QUOTE) return this.parseString(pos, slot)
    if (first !== undefined && isDigit(first)) {
      const end = this.shortIntegerValue(pos, slot)
      if (end !== FAILED) return end
    }
    // Unquoted values run to a comma, a space or the end of the line.
    let end = pos
    while (end < this.length) {
      const byte = buf[end]!
      if (byte === COMMA || byte === SPACE || byte === NEWLINE || byte === RETURN) break
      end++
    }
    if (first === undefined || end === pos) return this.reject(pos, 'missing field value')
    if (isDigit(first) || first === MINUS || first === DOT) {
      const last = buf[end - 1]!
      if (last === 0x69 /* i */) return this.parseInteger(pos, end, slot) ? end : FAILED
      if (last === 0x75 /* u */) return this.parseUnsigned(pos, end, slot) ? end : FAILED
      const status = this.parseFloat(pos, end, slot)
      if (status === FLOAT_SYNTAX) return this.reject(pos, `invalid number ${this.quoted(pos, end)}`)
      if (status === FLOAT_RANGE) return this.reject(pos, `float ${this.quoted(pos, end)} is out of range`)
      this.fieldType[slot] = TYPE_FLOAT
      return end
    }
    const boolean = this.parseBoolean(pos, end)
    if (boolean === FAILED) return this.reject(pos, `invalid field value ${this.quoted(pos, end)} (not a number, string or boolean)`)
    this.fieldType[slot] = TYPE_BOOLEAN
    this.floatValues[slot] = boolean
    return end
  }

  private quoted(start: number, end: number): string {
    return JSON.stringify(this.buf.toString('utf8', start, Math.min(end, start + 64)))
  }

  /** A quoted string: any bytes but an unescaped `"`, raw newlines included. */
  private parseString(quote: number, slot: number): number {
    const buf = this.buf
    const length = this.length
    let pos = quote + 1
    let highBit = 0
    while (pos < length) {
      const byte = buf[pos]!
      if (byte === QUOTE) break
      if (byte === BACKSLASH && pos + 1 < length && (buf[pos + 1] === QUOTE || buf[pos + 1] === BACKSLASH)) {
        pos += 2
        continue
      }
      if (byte === NEWLINE) { this.line++; this.lineStart = pos + 1 }
      highBit |= byte
      pos++
    }
    if (pos >= length) return this.reject(quote, 'unbalanced quotes: string field value has no closing quote')
    if (highBit >= 0x80 && !isUtf8(buf.subarray(quote + 1, pos))) return this.reject(quote, 'string field value is not valid UTF-8')
    this.fieldType[slot] = TYPE_STRING
    this.valueWords[slot * 2] = quote + 1
    this.valueWords[slot * 2 + 1] = pos
    return pos + 1
  }

  private parseInteger(start: number, end: number, slot: number): boolean {
    const negative = this.buf[start] === MINUS
    const digitsStart = negative ? start + 1 : start
    if (end - 1 - digitsStart <= SHORT_INTEGER_DIGITS && this.parseShortInteger(digitsStart, end - 1, negative, slot)) return true
    if (!this.allDigits(digitsStart, end - 1)) { this.reject(start, `invalid integer ${this.quoted(start, end)}`); return false }
    if (!readDecimal(this.buf, digitsStart, end - 1) || !withinMagnitude(negative ? INT64_MIN_MAGNITUDE : INT64_MAX_MAGNITUDE)) {
      this.reject(start, `integer ${this.quoted(start, end)} is out of range of a signed 64-bit integer`)
      return false
    }
    decimalToWords(scratch.hi, scratch.lo, negative)
    this.fieldType[slot] = TYPE_INTEGER
    this.valueWords[slot * 2] = scratch.wordLow
    this.valueWords[slot * 2 + 1] = scratch.wordHigh
    return true
  }

  /**
   * Most integer fields are short: up to 9 digits in one pass, the words straight from a 32-bit
   * value, instead of the digit check, the two-part decimal and its conversion the general path
   * makes. False (nothing written) when buf[start, end) is empty or holds a non-digit.
   */
  private parseShortInteger(start: number, end: number, negative: boolean, slot: number): boolean {
    if (start >= end) return false
    const buf = this.buf
    let value = 0
    for (let i = start; i < end; i++) {
      const digit = buf[i]! - ZERO
      if (digit < 0 || digit > 9) return false
      value = value * 10 + digit
    }
    this.fieldType[slot] = TYPE_INTEGER
    this.valueWords[slot * 2] = negative ? (-value >>> 0) : value
    this.valueWords[slot * 2 + 1] = negative && value !== 0 ? 0xffffffff : 0
    return true
  }

  /**
   * The common integer field, a few digits then `i` (`27i`), read in one pass: up to
   * SHORT_INTEGER_DIGITS digits, an `i`, then the value's end (a comma, space, line break or the
   * body's end). What the general path would make of the same bytes, written to `slot`; FAILED,
   * with nothing written, for anything else, which the general path then parses.
   */
  private shortIntegerValue(start: number, slot: number): number {
    const buf = this.buf
    const length = this.length
    const limit = Math.min(length, start + SHORT_INTEGER_DIGITS)
    let value = 0
    let pos = start
    for (; pos < limit; pos++) {
      const digit = buf[pos]! - ZERO
      if (digit < 0 || digit > 9) break
      value = value * 10 + digit
    }
    if (pos >= length || buf[pos] !== 0x69 /* i */) return FAILED
    pos++
    if (pos < length) {
      const byte = buf[pos]!
      if (byte !== COMMA && byte !== SPACE && byte !== NEWLINE && byte !== RETURN) return FAILED
    }
    this.fieldType[slot] = TYPE_INTEGER
    this.valueWords[slot * 2] = value
    this.valueWords[slot * 2 + 1] = 0
    return pos
  }

  private parseUnsigned(start: number, end: number, slot: number): boolean {
    if (!this.allDigits(start, end - 1)) { this.reject(start, `invalid unsigned integer ${this.quoted(start, end)}`); return false }
    if (!readDecimal(this.buf, start, end - 1) || !withinMagnitude(UINT64_MAX_MAGNITUDE)) {
      this.reject(start, `unsigned integer ${this.quoted(start, end)} is out of range of an unsigned 64-bit integer`)
      return false
    }
    decimalToWords(scratch.hi, scratch.lo, false)
    this.fieldType[slot] = TYPE_UNSIGNED
    this.valueWords[slot * 2] = scratch.wordLow
    this.valueWords[slot * 2 + 1] = scratch.wordHigh
    return true
  }

  private allDigits(start: number, end: number): boolean {
    if (start >= end) return false
    for (let i = start; i < end; i++) if (!isDigit(this.buf[i]!)) return false
    return true
  }

  /**
   * Go's strconv.ParseFloat for decimal text: [-](digits[.digits]|.digits)[(e|E)[+|-]digits]. Hex
   * floats, inf and nan are refused (InfluxDB 1.x refuses them too). Writes floatValues[slot] and
   * returns a status, not the double, so no number is boxed per field.
   */
  private parseFloat(start: number, end: number, slot: number): number {
    const buf = this.buf
    let i = start
    const negative = buf[i] === MINUS
    if (negative) i++
    let mantissa = 0
    let digits = 0
    let fractionDigits = 0
    while (i < end && isDigit(buf[i]!)) { mantissa = mantissa * 10 + (buf[i]! - ZERO); digits++; i++ }
    if (i < end && buf[i] === DOT) {
      i++
      while (i < end && isDigit(buf[i]!)) { mantissa = mantissa * 10 + (buf[i]! - ZERO); digits++; fractionDigits++; i++ }
    }
    if (digits === 0) return FLOAT_SYNTAX
    let exponent = false
    if (i < end && (buf[i] === 0x65 || buf[i] === 0x45)) {
      i++
      if (i < end && (buf[i] === 0x2b || buf[i] === MINUS)) i++
      const exponentStart = i
      while (i < end && isDigit(buf[i]!)) i++
      if (i === exponentStart) return FLOAT_SYNTAX
      exponent = true
    }
    if (i !== end) return FLOAT_SYNTAX
    if (!exponent && digits <= 15) {
      // Both operands exact, so the one division is correctly rounded (Clinger's fast path).
      const value = fractionDigits === 0 ? mantissa : mantissa / EXACT_POW10[fractionDigits]!
      this.floatValues[slot] = negative ? -value : value
      return FLOAT_OK
    }
    const value = Number(buf.toString('latin1', start, end))
    if (!Number.isFinite(value)) return FLOAT_RANGE
    this.floatValues[slot] = value
    return FLOAT_OK
  }

  /** 1 or 0 for t, T, true, True, TRUE, f, F, false, False, FALSE; FAILED otherwise. */
  private parseBoolean(start: number, end: number): number {
    const buf = this.buf
    const size = end - start
    const first = buf[start]!
    if (size === 1) return first === 0x74 || first === 0x54 ? 1 : first === 0x66 || first === 0x46 ? 0 : FAILED
    const text = size === 4 || size === 5 ? buf.toString('latin1', start, end) : ''
    if (text === 'true' || text === 'True' || text === 'TRUE') return 1
    if (text === 'false' || text === 'False' || text === 'FALSE') return 0
    return FAILED
  }

  /** The optional timestamp and the end of the line; returns the position of the line end. */
  private parseTimestamp(pos: number): number {
    const buf = this.buf
    const length = this.length
    while (pos < length && buf[pos] === SPACE) pos++
    if (this.atLineEnd(pos)) {
      this.setTimestamp(this.defaultTimeLow, this.defaultTimeHigh)
      return pos
    }
    const start = pos
    while (pos < length && (isDigit(buf[pos]!) || buf[pos] === MINUS)) pos++
    if (pos === start || (pos < length && buf[pos] !== SPACE && buf[pos] !== NEWLINE && buf[pos] !== RETURN)) {
      return this.reject(start, `bad timestamp: ${this.quoted(start, this.tokenEnd(start))}`)
    }
    const end = pos
    while (pos < length && buf[pos] === SPACE) pos++
    if (!this.atLineEnd(pos)) return this.reject(pos, `unexpected text after timestamp: ${this.quoted(pos, this.tokenEnd(pos))}`)
    const negative = buf[start] === MINUS
    if (!this.allDigits(negative ? start + 1 : start, end)) return this.reject(start, `bad timestamp: ${this.quoted(start, end)}`)
    if (!readDecimal(buf, negative ? start + 1 : start, end) || !withinMagnitude(negative ? INT64_MIN_MAGNITUDE : INT64_MAX_MAGNITUDE)) {
      return this.reject(start, `bad timestamp: ${this.quoted(start, end)} is out of range of a 64-bit integer`)
    }
    if ((!this.precisionIsNs && !scaleDecimal(this.precisionFactor, this.precisionPower)) || !withinMagnitude(TIME_MAX_MAGNITUDE)) {
      return this.reject(start, 'time outside range -9223372036854775806 - 9223372036854775806')
    }
    decimalToWords(scratch.hi, scratch.lo, negative)
    this.setTimestamp(scratch.wordLow, scratch.wordHigh)
    return pos
  }

  private atLineEnd(pos: number): boolean {
    if (pos >= this.length) return true
    const byte = this.buf[pos]
    return byte === NEWLINE || (byte === RETURN && (pos + 1 === this.length || this.buf[pos + 1] === NEWLINE))
  }

  private tokenEnd(pos: number): number {
    while (pos < this.length && this.buf[pos] !== SPACE && this.buf[pos] !== NEWLINE) pos++
    return pos
  }

  private setTimestamp(low: number, high: number): void {
    if (this.pointCount === this.pointCapacity) this.growPoints()
    this.timestampWords[this.pointCount * 2] = low
    this.timestampWords[this.pointCount * 2 + 1] = high
  }

  private commitPoint(series: number): void {
    const point = this.pointCount++
    this.store.pointSeries[point] = series
    this.store.pointFieldStart[point] = this.fieldBase
    this.store.pointLine[point] = this.entryLine
  }

  /**
   * Records a rejected entry and resumes after the next newline from the offending byte (as the
   * reference decoder does). Returns FAILED so callers can `return this.reject(...)`.
   */
  private reject(at: number, reason: string, code: IngestErrorCodeValue = IngestErrorCode.LINE_PROTOCOL): number {
    this.fieldCount = this.fieldBase
    this.rejectedCount++
    const buf = this.buf
    const newline = buf.indexOf(NEWLINE, at)
    const resume = newline === -1 ? this.length : newline + 1
    if (this.errors.length < this.maxErrorsReported) {
      let line = this.entryLine
      let lineStart = this.entryLineStart
      for (let nl = buf.indexOf(NEWLINE, this.entryStart); nl !== -1 && nl < at; nl = buf.indexOf(NEWLINE, nl + 1)) {
        line++
        lineStart = nl + 1
      }
      let byteEnd = newline === -1 ? this.length : newline
      if (byteEnd > this.entryStart && buf[byteEnd - 1] === RETURN) byteEnd--
      this.errors.push({ line, column: at - lineStart + 1, reason, code, byteStart: this.entryStart, byteEnd })
    }
    let line = this.entryLine
    for (let nl = buf.indexOf(NEWLINE, this.entryLineStart); nl !== -1 && nl < resume; nl = buf.indexOf(NEWLINE, nl + 1)) line++
    this.line = line
    this.lineStart = resume
    this.pos = resume
    return FAILED
  }

  private growPoints(): void {
    this.store.growPoints()
    this.pointCapacity = this.store.pointCapacity
    this.timestampWords = this.store.timestampWords
  }

  private growFields(): void {
    this.store.growFields()
    this.fieldCapacity = this.store.fieldCapacity
    this.fieldKey = this.store.fieldKey
    this.fieldType = this.store.fieldType
    this.floatValues = this.store.floatValues
    this.valueWords = this.store.valueWords
  }

  private finish(): ParsedBatch {
    this.store.pointFieldStart[this.pointCount] = this.fieldCount
    return new ParsedBatch({
      body: this.buf,
      store: this.store,
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
      linesSeen: this.line,
    })
  }
}
