// The memtable: points applied since the last freeze, per (series, field), as growable typed
// arrays in apply order. A column is normalized (sorted by time, one value per time: the last
// applied wins) lazily, into fresh arrays, so a scan holding an older view is never disturbed.

import type { ChangelogColumns, FieldValue } from '../../schemas/index.ts'
import { type Column, type ColumnValues, type FieldTypeCode, FieldType, allocateValues, sliceValues } from './encoding/block.ts'

/** Estimated bytes of a column beyond its points, and of a point (time + value). */
const COLUMN_OVERHEAD_BYTES = 256
const POINT_BYTES = 16
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
/** Index of the low / high int32 word of a 64-bit slot in an Int32Array view of a BigInt64Array. */
const LOW_WORD = LITTLE_ENDIAN ? 0 : 1
const HIGH_WORD = LITTLE_ENDIAN ? 1 : 0

export function fieldTypeOf(value: FieldValue): FieldTypeCode {
  switch (typeof value) {
    case 'number': return FieldType.FLOAT
    case 'bigint': return FieldType.INTEGER
    case 'boolean': return FieldType.BOOLEAN
    case 'string': return FieldType.STRING
    default: return FieldType.UNSIGNED
  }
}

function storedValue(value: FieldValue): number | bigint | string {
  switch (typeof value) {
    case 'number': case 'bigint': case 'string': return value
    case 'boolean': return value ? 1 : 0
    default: return value.unsigned
  }
}

/** An Int32Array over a 64-bit typed array's memory; an empty one for other value arrays (never written). */
function wordsOf(values: ColumnValues): Int32Array {
  return values instanceof BigInt64Array || values instanceof BigUint64Array ? new Int32Array(values.buffer, values.byteOffset, 2 * values.length) : EMPTY_WORDS
}
const EMPTY_WORDS = new Int32Array(0)

export class MemColumn {
  length = 0
  /** Times strictly increasing over [0, length). */
  normalized = true
  stringBytes = 0
  private timesArray: BigInt64Array = new BigInt64Array(16)
  private valuesArray: ColumnValues
  /** Int32Array views of times and (64-bit types) values: appendColumnsValue copies words, never a bigint. */
  private timeWords: Int32Array = new Int32Array(this.timesArray.buffer)
  private valueWords: Int32Array

  constructor(readonly type: FieldTypeCode) {
    this.valuesArray = allocateValues(type, 16)
    this.valueWords = wordsOf(this.valuesArray)
  }

  get times(): BigInt64Array {
    return this.timesArray
  }

  set times(times: BigInt64Array) {
    this.timesArray = times
    this.timeWords = new Int32Array(times.buffer, times.byteOffset, 2 * times.length)
  }

  get values(): ColumnValues {
    return this.valuesArray
  }

  set values(values: ColumnValues) {
    this.valuesArray = values
    this.valueWords = wordsOf(values)
  }

  get estimatedBytes(): number {
    return COLUMN_OVERHEAD_BYTES + this.times.length * POINT_BYTES + this.stringBytes
  }

  append(timeNs: bigint, value: FieldValue): void {
    if (this.length === this.times.length) this.grow()
    if (this.normalized && this.length > 0 && this.times[this.length - 1]! >= timeNs) this.normalized = false
    this.times[this.length] = timeNs
    const stored = storedValue(value)
    if (typeof stored === 'string') this.stringBytes += 2 * stored.length + 16
    ;(this.values as unknown as (typeof stored)[])[this.length] = stored
    this.length++
  }

  /** Appends value k of a decoded changelog entry, whose type must be this column's. */
  appendColumnsValue(entry: ChangelogColumns, k: number): void {
    if (this.length === this.timesArray.length) this.grow()
    const at = this.length
    const point = entry.valuePoint[k]!
    const low = entry.timeWords[2 * point + LOW_WORD]!
    const high = entry.timeWords[2 * point + HIGH_WORD]!
    const timeWords = this.timeWords
    if (this.normalized && at > 0) {
      const lastHigh = timeWords[2 * (at - 1) + HIGH_WORD]!
      if (lastHigh > high || (lastHigh === high && timeWords[2 * (at - 1) + LOW_WORD]! >>> 0 >= low >>> 0)) this.normalized = false
    }
    timeWords[2 * at + LOW_WORD] = low
    timeWords[2 * at + HIGH_WORD] = high
    switch (this.type) {
      case FieldType.INTEGER: case FieldType.UNSIGNED:
        this.valueWords[2 * at] = entry.valueWords[2 * k]!
        this.valueWords[2 * at + 1] = entry.valueWords[2 * k + 1]!
        break
      case FieldType.FLOAT: case FieldType.BOOLEAN:
        (this.valuesArray as Float64Array | Uint8Array)[at] = entry.valueDoubles[k]!
        break
      default: {
        const text = entry.valueStrings[k]!
        this.stringBytes += 2 * text.length + 16
        ;(this.valuesArray as string[])[at] = text
      }
    }
    this.length = at + 1
  }

  private grow(): void {
    const capacity = this.times.length * 2
    const times = new BigInt64Array(capacity)
    times.set(this.times)
    const values = allocateValues(this.type, capacity)
    if (Array.isArray(values)) for (let i = 0; i < this.length; i++) values[i] = (this.values as string[])[i]!
    else (values as Float64Array).set(this.values as Float64Array)
    this.times = times
    this.values = values
  }

  /** The points sorted by time, the last applied value winning per time. */
  view(): Column {
    if (!this.normalized) this.normalize()
    return { type: this.type, times: this.times.subarray(0, this.length), values: sliceValues(this.values, 0, this.length) }
  }

  private normalize(): void {
    const order = Array.from({ length: this.length }, (_, i) => i)
    const times = this.times
    order.sort((a, b) => (times[a]! < times[b]! ? -1 : times[a]! > times[b]! ? 1 : a - b))
    let kept = 0
    for (let k = 0; k < order.length; k++) {
      if (k + 1 < order.length && times[order[k + 1]!] === times[order[k]!]) continue
      order[kept++] = order[k]!
    }
    this.rebuild(order, kept)
  }

  /** Keeps the points at positions order[0, count), in that order, in fresh arrays. */
  private rebuild(order: ArrayLike<number>, count: number): void {
    const capacity = Math.max(16, count)
    const times = new BigInt64Array(capacity)
    const values = allocateValues(this.type, capacity)
    const source = this.values as unknown as ArrayLike<unknown>
    const target = values as unknown as unknown[]
    this.stringBytes = 0
    for (let i = 0; i < count; i++) {
      times[i] = this.times[order[i]!]!
      target[i] = source[order[i]!]
      if (this.type === FieldType.STRING) this.stringBytes += 2 * (target[i] as string).length + 16
    }
    this.times = times
    this.values = values
    this.length = count
    this.normalized = true
  }

  /** Removes points with fromNs ≤ time < toNs (null = unbounded); returns how many. */
  deleteRange(fromNs: bigint | null, toNs: bigint | null): number {
    if (!this.normalized) this.normalize()
    const keep: number[] = []
    for (let i = 0; i < this.length; i++) {
      const t = this.times[i]!
      if ((fromNs !== null && t < fromNs) || (toNs !== null && t >= toNs)) keep.push(i)
    }
    const removed = this.length - keep.length
    if (removed > 0) this.rebuild(keep, keep.length)
    return removed
  }
}

export class Memtable {
  readonly columns = new Map<string, Map<string, MemColumn>>()
  /** Series whose catalog entry (field types) this memtable must carry into its segment. */
  readonly touchedSeries = new Set<string>()
  estimatedBytes = 0
  points = 0
  /** Assigned when frozen: the segment sequence number its data will have. */
  seq = -1

  column(seriesId: string, field: string, type: FieldTypeCode): MemColumn {
    let fields = this.columns.get(seriesId)
    if (!fields) this.columns.set(seriesId, fields = new Map())
    let column = fields.get(field)
    if (!column) {
      fields.set(field, column = new MemColumn(type))
      this.estimatedBytes += column.estimatedBytes
    }
    return column
  }

  /** Appends value k of a decoded changelog entry to `column` (of its type): Memtable.append without a FieldValue. */
  appendColumnsValue(column: MemColumn, entry: ChangelogColumns, k: number): void {
    if (column.length === column.times.length || column.type === FieldType.STRING) {
      const before = column.estimatedBytes
      column.appendColumnsValue(entry, k)
      this.estimatedBytes += column.estimatedBytes - before
    } else {
      column.appendColumnsValue(entry, k)
    }
    this.points++
  }

  append(column: MemColumn, timeNs: bigint, value: FieldValue): void {
    if (column.length === column.times.length || column.type === FieldType.STRING) {
      const before = column.estimatedBytes
      column.append(timeNs, value)
      this.estimatedBytes += column.estimatedBytes - before
    } else {
      column.append(timeNs, value)
    }
    this.points++
  }

  get(seriesId: string, field: string): MemColumn | undefined {
    return this.columns.get(seriesId)?.get(field)
  }

  deleteRange(seriesId: string, fromNs: bigint | null, toNs: bigint | null): void {
    const fields = this.columns.get(seriesId)
    if (!fields) return
    for (const [name, column] of fields) {
      const before = column.estimatedBytes
      this.points -= column.deleteRange(fromNs, toNs)
      this.estimatedBytes += column.estimatedBytes - before
      if (column.length === 0) fields.delete(name)
    }
    if (fields.size === 0) this.columns.delete(seriesId)
  }
}
