// The key part of a line (measurement and tag set), parsed once per distinct raw key per batch:
// unescaping, validation, tags sorted by key and the canonical series key InfluxDB builds
// (measurement escaped for ", " and tags for ",= ", joined by commas, tags in byte order of their keys).

import { isUtf8 } from 'node:buffer'
import type { LineProtocolLimits } from './limits.ts'

const BACKSLASH = 0x5c
const COMMA = 0x2c
const EQUALS = 0x3d
const SPACE = 0x20
const DELETE = 0x7f

export interface SeriesKeyOk {
  ok: true
  measurement: string
  /** Tag keys and values, sorted by key bytes. */
  tagKeys: string[]
  tagValues: string[]
  /** Canonical series key: `measurement,k1=v1,k2=v2` escaped the InfluxDB way. */
  key: string
  /** UTF-8 length of `key`, for InfluxDB's max key length check. */
  keyBytes: number
}

export interface SeriesKeyError {
  ok: false
  /** Absolute byte offset of the offending byte in the body. */
  offset: number
  reason: string
  limit: boolean
}

export type SeriesKeyParse = SeriesKeyOk | SeriesKeyError

function fail(offset: number, reason: string, limit = false): SeriesKeyError {
  return { ok: false, offset, reason, limit }
}

/** Unescapes buf[start, end): a backslash before one of `escapable` is dropped, any other stays. */
export function unescapeName(buf: Buffer, start: number, end: number, escapable: (byte: number) => boolean): Buffer {
  // A bounded scan: Buffer.indexOf would search the rest of the body when the name has no backslash.
  let backslash = start
  while (backslash < end && buf[backslash] !== BACKSLASH) backslash++
  if (backslash === end) return buf.subarray(start, end)
  const out = Buffer.allocUnsafe(end - start)
  let length = 0
  let i = start
  while (i < end) {
    const byte = buf[i]!
    if (byte === BACKSLASH && i + 1 < end && escapable(buf[i + 1]!)) {
      out[length++] = buf[i + 1]!
      i += 2
    } else {
      out[length++] = byte
      i++
    }
  }
  return out.subarray(0, length)
}

export const isMeasurementEscape = (byte: number): boolean => byte === COMMA || byte === SPACE
export const isTagEscape = (byte: number): boolean => byte === COMMA || byte === SPACE || byte === EQUALS

/** Escapes a measurement (`,` and space) or a tag key or value (also `=`) for the key region of a line. */
export function escapeName(name: string, tag: boolean): string {
  let out = ''
  let from = 0
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i)
    if (c === COMMA || c === SPACE || (tag && c === EQUALS)) {
      out += name.slice(from, i) + '\\'
      from = i
    }
  }
  return from === 0 ? name : out + name.slice(from)
}

const isControl = (byte: number): boolean => byte < SPACE || byte === DELETE

/**
 * Scans a name token in [i, end) up to an unescaped `,` (and `=` when stopAtEquals), or up to a
 * control byte when those are not allowed (names; tag values may hold them); returns its end.
 */
function scanName(buf: Buffer, i: number, end: number, stopAtEquals: boolean, allowControl: boolean, escapable: (byte: number) => boolean): number {
  while (i < end) {
    const byte = buf[i]!
    if (byte === BACKSLASH && i + 1 < end && escapable(buf[i + 1]!)) { i += 2; continue }
    if (byte === COMMA || (stopAtEquals && byte === EQUALS) || (!allowControl && isControl(byte))) return i
    i++
  }
  return i
}

function describe(buf: Buffer, i: number, end: number): string {
  if (i >= end) return 'end of key'
  const byte = buf[i]!
  return isControl(byte) ? `control character 0x${byte.toString(16).padStart(2, '0')}` : `'${String.fromCharCode(byte)}'`
}

interface RawTag { keyStart: number; key: Buffer; value: Buffer; valueStart: number }

function checkName(start: number, name: Buffer, what: string, limits: LineProtocolLimits): SeriesKeyError | undefined {
  if (name.length > limits.maxNameBytes) return fail(start, `${what} is ${name.length} bytes, over the limit maxNameBytes = ${limits.maxNameBytes}`, true)
  if (!isUtf8(name)) return fail(start, `${what} is not valid UTF-8`)
  return undefined
}

/**
 * Parses the key region buf[start, end): it holds no unescaped space and no line break (the caller
 * stopped there). Rejects empty names, empty tag values, an unescaped `=` in a tag value, duplicate
 * tag keys, a tag named `time`, invalid UTF-8, names over the limits, and control bytes anywhere but
 * in tag values (where InfluxData's corpus and InfluxDB 1.x both allow them).
 */
export function parseSeriesKey(buf: Buffer, start: number, end: number, limits: LineProtocolLimits): SeriesKeyParse {
  const measurementEnd = scanName(buf, start, end, false, false, isMeasurementEscape)
  if (measurementEnd === start) return fail(start, `missing measurement (found ${describe(buf, start, end)})`)
  if (measurementEnd < end && buf[measurementEnd] !== COMMA) return fail(measurementEnd, `invalid ${describe(buf, measurementEnd, end)} in measurement name`)
  const measurementBytes = unescapeName(buf, start, measurementEnd, isMeasurementEscape)
  const measurementError = checkName(start, measurementBytes, 'measurement name', limits)
  if (measurementError) return measurementError
  const measurement = measurementBytes.toString('utf8')

  const tags: RawTag[] = []
  let i = measurementEnd
  while (i < end) {
    i++ // the comma
    if (i >= end) return fail(i, 'missing tag key after comma')
    const keyStart = i
    i = scanName(buf, i, end, true, false, isTagEscape)
    if (i === keyStart) return fail(i, buf[i] === EQUALS ? 'missing tag key (empty tag key)' : `missing tag key (found ${describe(buf, i, end)})`)
    if (i >= end || buf[i] !== EQUALS) {
      return fail(i, `missing tag value: expected '=' after tag key "${buf.toString('utf8', keyStart, i)}", found ${describe(buf, i, end)}`)
    }
    const valueStart = ++i
    i = scanName(buf, i, end, true, true, isTagEscape)
    if (i === valueStart) return fail(i, `missing tag value for tag key "${buf.toString('utf8', keyStart, valueStart - 1)}"`)
    if (i < end && buf[i] === EQUALS) return fail(i, 'invalid tag format: unescaped "=" in tag value')
    if (tags.length === limits.maxTagsPerPoint) return fail(keyStart, `more than maxTagsPerPoint = ${limits.maxTagsPerPoint} tags`, true)
    tags.push({ keyStart, key: unescapeName(buf, keyStart, valueStart - 1, isTagEscape), value: unescapeName(buf, valueStart, i, isTagEscape), valueStart })
  }
  return buildSeries(measurement, tags, limits)
}

function buildSeries(measurement: string, tags: RawTag[], limits: LineProtocolLimits): SeriesKeyParse {
  for (const tag of tags) {
    const error = checkName(tag.keyStart, tag.key, 'tag key', limits) ?? checkName(tag.valueStart, tag.value, 'tag value', limits)
    if (error) return error
    if (tag.key.length === 4 && tag.key.toString('latin1') === 'time') {
      return fail(tag.keyStart, `invalid tag key: input tag "time" on measurement "${measurement}" is invalid`)
    }
  }
  if (tags.length > 1) {
    tags.sort((a, b) => Buffer.compare(a.key, b.key))
    for (let t = 1; t < tags.length; t++) {
      if (tags[t]!.key.equals(tags[t - 1]!.key)) {
        const second = Math.max(tags[t]!.keyStart, tags[t - 1]!.keyStart)
        return fail(second, `duplicate tags: tag key "${tags[t]!.key.toString('utf8')}" appears twice`)
      }
    }
  }
  const tagKeys = tags.map(tag => tag.key.toString('utf8'))
  const tagValues = tags.map(tag => tag.value.toString('utf8'))
  let key = escapeName(measurement, false)
  for (let t = 0; t < tags.length; t++) key += ',' + escapeName(tagKeys[t]!, true) + '=' + escapeName(tagValues[t]!, true)
  return { ok: true, measurement, tagKeys, tagValues, key, keyBytes: Buffer.byteLength(key) }
}
