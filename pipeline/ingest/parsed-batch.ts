// The columnar result of parsing one write body: no object per point or field. Points index into
// per-batch dictionaries (series, measurements, field keys) and own a contiguous run of field slots;
// values live in typed arrays chosen by each slot's type tag.
//
// Layout, for point p and field slot f:
//   pointSeries[p]      series id (seriesKeys[], seriesMeasurement[], tags from seriesTagStart[])
//   pointFieldStart[p]  first field slot; point p owns slots [pointFieldStart[p], pointFieldStart[p+1])
//   pointLine[p]        1-based line where the point starts
//   timestampsNs[p]     nanoseconds since the epoch (BigInt64Array)
//   fieldKey[f]         field key id (fieldKeys[])
//   fieldType[f]        FieldType
//   floatValues[f]      Float: the value; Boolean: 0 or 1
//   integerValues[f]    Integer (BigInt64Array); Unsigned: the same 8 bytes read as BigUint64Array
//   String slots keep the byte range of the escaped text in the body (two 32-bit words of the 8-byte
//   integer slot) and are decoded on access, so a string costs nothing until someone reads it.

import type { LineError } from './errors.ts'
import { releaseColumnStore, type ColumnStore } from './column-store.ts'

export const FieldType = {
  Float: 1,
  Integer: 2,
  Unsigned: 3,
  String: 4,
  Boolean: 5,
} as const

export type FieldTypeValue = (typeof FieldType)[keyof typeof FieldType]

/** InfluxDB's names for the field types, as in "already exists as type float". */
export const fieldTypeNames: Readonly<Record<FieldTypeValue, string>> = Object.freeze({
  1: 'float', 2: 'integer', 3: 'unsigned', 4: 'string', 5: 'boolean',
})

export type FieldValue = number | bigint | string | boolean

/** A convenience view of one point, for tests and slow paths; the hot path reads the arrays. */
export interface PointView {
  index: number
  line: number
  measurement: string
  seriesKey: string
  tags: Array<[string, string]>
  fields: Array<{ key: string; type: FieldTypeValue; value: FieldValue }>
  timestampNs: bigint
}

export interface ParsedBatchColumns {
  body: Buffer
  store: ColumnStore
  pointCount: number
  fieldCount: number
  seriesKeys: string[]
  seriesMeasurement: number[]
  seriesTagStart: number[]
  tagKeys: string[]
  tagValues: string[]
  measurements: string[]
  fieldKeys: string[]
  errors: LineError[]
  rejectedLineCount: number
  linesSeen: number
}

const BACKSLASH = 0x5c
const QUOTE = 0x22

/** Unescapes a string field value the InfluxDB 1.x way: only `\\` and `\"`; any other backslash stays. */
export function decodeStringValue(body: Buffer, start: number, end: number): string {
  // A bounded scan: Buffer.indexOf would search the rest of the body when the value has no backslash.
  let backslash = start
  while (backslash < end && body[backslash] !== BACKSLASH) backslash++
  if (backslash === end) return body.toString('utf8', start, end)
  const out = Buffer.allocUnsafe(end - start)
  let length = 0
  for (let i = start; i < end; i++) {
    const byte = body[i]!
    if (byte === BACKSLASH && i + 1 < end && (body[i + 1] === BACKSLASH || body[i + 1] === QUOTE)) {
      out[length++] = body[++i]!
    } else {
      out[length++] = byte
    }
  }
  return out.toString('utf8', 0, length)
}

/**
 * One parsed write body. It keeps a reference to the body (string values and error ranges point into
 * it), so the caller must not reuse that buffer while the batch is in use.
 */
export class ParsedBatch {
  readonly body: Buffer
  readonly pointCount: number
  readonly fieldCount: number
  readonly pointSeries: Uint32Array
  /** pointCount + 1 entries; the last one is fieldCount. */
  readonly pointFieldStart: Uint32Array
  readonly pointLine: Uint32Array
  readonly timestampsNs: BigInt64Array
  readonly fieldKey: Uint32Array
  readonly fieldType: Uint8Array
  readonly floatValues: Float64Array
  readonly integerValues: BigInt64Array
  readonly unsignedValues: BigUint64Array
  /** timestampsNs as little-endian 32-bit word pairs (low, high): what encoders read without a bigint per point. */
  readonly timestampWords: Uint32Array
  /** The 8-byte value slots as word pairs: integers' and unsigned integers' (low, high), strings' byte range in the body. */
  readonly valueWords: Uint32Array
  readonly seriesKeys: readonly string[]
  readonly seriesMeasurement: readonly number[]
  /** seriesCount + 1 entries into tagKeys/tagValues. */
  readonly seriesTagStart: readonly number[]
  readonly tagKeys: readonly string[]
  readonly tagValues: readonly string[]
  readonly measurements: readonly string[]
  readonly fieldKeys: readonly string[]
  /** Rejected lines, in body order (the first maxErrorsReported of them). */
  readonly errors: readonly LineError[]
  /** All rejected lines, described or not. */
  readonly rejectedLineCount: number
  /** Lines in the body (1 + newlines seen), for reporting. */
  readonly linesSeen: number
  private store: ColumnStore | undefined

  constructor(columns: ParsedBatchColumns) {
    const store = columns.store
    const points = columns.pointCount
    const fields = columns.fieldCount
    this.store = store
    this.body = columns.body
    this.pointCount = points
    this.fieldCount = fields
    this.pointSeries = store.pointSeries.subarray(0, points)
    this.pointFieldStart = store.pointFieldStart.subarray(0, points + 1)
    this.pointLine = store.pointLine.subarray(0, points)
    this.timestampsNs = store.timestamps.subarray(0, points)
    this.fieldKey = store.fieldKey.subarray(0, fields)
    this.fieldType = store.fieldType.subarray(0, fields)
    this.floatValues = store.floatValues.subarray(0, fields)
    this.integerValues = store.integerValues.subarray(0, fields)
    this.unsignedValues = new BigUint64Array(this.integerValues.buffer, 0, fields)
    this.timestampWords = store.timestampWords.subarray(0, points * 2)
    this.valueWords = store.valueWords.subarray(0, fields * 2)
    this.seriesKeys = columns.seriesKeys
    this.seriesMeasurement = columns.seriesMeasurement
    this.seriesTagStart = columns.seriesTagStart
    this.tagKeys = columns.tagKeys
    this.tagValues = columns.tagValues
    this.measurements = columns.measurements
    this.fieldKeys = columns.fieldKeys
    this.errors = columns.errors
    this.rejectedLineCount = columns.rejectedLineCount
    this.linesSeen = columns.linesSeen
  }

  /**
   * Hands the typed arrays back for reuse by a later parse. Call it once the batch has been consumed
   * (encoded, produced); afterwards none of its arrays or accessors may be used.
   */
  release(): void {
    if (!this.store) throw new Error('ParsedBatch released twice')
    releaseColumnStore(this.store)
    this.store = undefined
  }

  private assertLive(): void {
    if (!this.store) throw new Error('ParsedBatch used after release()')
  }

  get released(): boolean {
    return this.store === undefined
  }

  get seriesCount(): number {
    return this.seriesKeys.length
  }

  measurementOf(point: number): string {
    return this.measurements[this.seriesMeasurement[this.pointSeries[point]!]!]!
  }

  seriesKeyOf(point: number): string {
    return this.seriesKeys[this.pointSeries[point]!]!
  }

  /** The decoded value of a string field slot. */
  stringValue(slot: number): string {
    this.assertLive()
    return decodeStringValue(this.body, this.valueWords[slot * 2]!, this.valueWords[slot * 2 + 1]!)
  }

  /** The value of a field slot as a JS value: number (float), bigint (integer, unsigned), string, boolean. */
  fieldValue(slot: number): FieldValue {
    switch (this.fieldType[slot] as FieldTypeValue) {
      case FieldType.Float: return this.floatValues[slot]!
      case FieldType.Integer: return this.integerValues[slot]!
      case FieldType.Unsigned: return this.unsignedValues[slot]!
      case FieldType.String: return this.stringValue(slot)
      case FieldType.Boolean: return this.floatValues[slot] === 1
    }
  }

  tagsOf(series: number): Array<[string, string]> {
    const tags: Array<[string, string]> = []
    for (let t = this.seriesTagStart[series]!; t < this.seriesTagStart[series + 1]!; t++) tags.push([this.tagKeys[t]!, this.tagValues[t]!])
    return tags
  }

  point(index: number): PointView {
    this.assertLive()
    const series = this.pointSeries[index]!
    const fields: PointView['fields'] = []
    for (let slot = this.pointFieldStart[index]!; slot < this.pointFieldStart[index + 1]!; slot++) {
      fields.push({ key: this.fieldKeys[this.fieldKey[slot]!]!, type: this.fieldType[slot] as FieldTypeValue, value: this.fieldValue(slot) })
    }
    return {
      index,
      line: this.pointLine[index]!,
      measurement: this.measurements[this.seriesMeasurement[series]!]!,
      seriesKey: this.seriesKeys[series]!,
      tags: this.tagsOf(series),
      fields,
      timestampNs: this.timestampsNs[index]!,
    }
  }

  *points(): IterableIterator<PointView> {
    for (let p = 0; p < this.pointCount; p++) yield this.point(p)
  }
}
