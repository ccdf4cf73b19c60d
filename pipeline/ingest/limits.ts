// The named maximums of the ingest stage, their defaults and why. Every limit is enforced with an error
// that names it (SLUICE_ERR_LIMIT_EXCEEDED), and validated once when the options are built.

import { IngestError, IngestErrorCode } from './errors.ts'

export interface LineProtocolLimits {
  /**
   * Largest body accepted by one write. Default 25,000,000 bytes: InfluxDB 1.x's `max-body-size`
   * default, so a client that works against InfluxDB 1.x is not refused here.
   */
  maxBodyBytes: number
  /**
   * Largest single entry (a point, with its newline). Default 1 MiB: InfluxDB ≥1.8 caps string field
   * values at 1 MiB (MaxFieldValueLength), and a point must fit one Kafka record, whose broker default
   * limit (message.max.bytes) is about 1 MB.
   */
  maxLineBytes: number
  /** Tags per point. Default 256: far above Telegraf's inputs (≤ 20) and keeps per-point tag sorting cheap. */
  maxTagsPerPoint: number
  /** Fields per point. Default 1024: Telegraf's widest inputs (procstat, nvidia_smi) use under 100. */
  maxFieldsPerPoint: number
  /**
   * Longest measurement name, tag key, tag value or field key, in unescaped bytes. Default 65,535:
   * InfluxDB's MaxKeyLength, so no name InfluxDB accepts is refused for its length alone.
   */
  maxNameBytes: number
  /**
   * Longest series key plus field key, counted as InfluxDB 1.x does (escaped key + 4 + field key).
   * Default 65,535, InfluxDB's MaxKeyLength ("max key length exceeded: N > 65535").
   */
  maxSeriesKeyBytes: number
}

export const defaultLineProtocolLimits: Readonly<LineProtocolLimits> = Object.freeze({
  maxBodyBytes: 25_000_000,
  maxLineBytes: 1_048_576,
  maxTagsPerPoint: 256,
  maxFieldsPerPoint: 1024,
  maxNameBytes: 65_535,
  maxSeriesKeyBytes: 65_535,
})

const limitNames = Object.keys(defaultLineProtocolLimits) as Array<keyof LineProtocolLimits>

/** Defaults overlaid with `overrides`; rejects unknown keys and values that are not positive integers. */
export function lineProtocolLimits(overrides: Partial<LineProtocolLimits> = {}): LineProtocolLimits {
  for (const key of Object.keys(overrides)) {
    if (!limitNames.includes(key as keyof LineProtocolLimits)) {
      throw new IngestError(IngestErrorCode.INVALID_OPTION, `unknown line protocol limit "${key}" (known: ${limitNames.join(', ')})`)
    }
  }
  const limits = { ...defaultLineProtocolLimits, ...overrides }
  for (const key of limitNames) {
    const value = limits[key]
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new IngestError(IngestErrorCode.INVALID_OPTION, `line protocol limit ${key} must be a positive integer, got ${String(value)}`)
    }
  }
  return limits
}
