// Lossy-compression settings of one field, and their validation. A setting is plain data: it comes
// from the config file (config.ts), from a CODEC clause in DDL (codec-clause.ts), or from code.

import { TransformError, TransformErrorCode } from './errors.ts'
import { MAX_INTERVAL_LIMIT_NS } from './limits.ts'

/** Deadband (PI's exception test): keep a point when it leaves the band around the last kept value. */
export interface DeadbandSettings {
  readonly algorithm: 'deadband'
  /** Half-width of the band, > 0: in value units, or a fraction of |last kept value| when `relative` (0.05 = 5%). */
  readonly band: number
  readonly relative?: boolean
  /** No point is kept less than this after the last kept one (default 0). */
  readonly minIntervalNs?: bigint
  /** A point this long or longer after the last kept one is kept whatever its value (default: no limit). */
  readonly maxIntervalNs?: bigint
}

/** Swinging door trending (PI's compression test): every dropped point within `deviation` of the line between kept points. */
export interface SdtSettings {
  readonly algorithm: 'sdt'
  /** Compression deviation, > 0, in value units. */
  readonly deviation: number
  readonly minIntervalNs?: bigint
  readonly maxIntervalNs?: bigint
}

/** Lossy compression explicitly off (to override a database- or measurement-level setting). */
export interface OffSettings {
  readonly algorithm: 'off'
}

export type CompressionSettings = DeadbandSettings | SdtSettings | OffSettings

export type CompressionAlgorithmName = CompressionSettings['algorithm']


function fail(message: string, path: string | undefined): never {
  throw new TransformError(TransformErrorCode.COMPRESSION_CONFIG, path ? `${path}: ${message}` : message, path ? { path } : {})
}

function checkInterval(name: string, value: bigint | undefined, path: string | undefined): void {
  if (value === undefined) return
  if (typeof value !== 'bigint') fail(`${name} must be a bigint of nanoseconds, got ${typeof value}`, path)
  if (value < 0n) fail(`${name} must be ≥ 0, got ${value}`, path)
  if (value > MAX_INTERVAL_LIMIT_NS) fail(`${name} must be ≤ 2^53 ns (about 104 days), got ${value}`, path)
}

/** Throws SLUICE_ERR_COMPRESSION_CONFIG naming the setting when `settings` is out of range; returns it otherwise. */
export function validateSettings<S extends CompressionSettings>(settings: S, path?: string): S {
  if (settings.algorithm === 'off') return settings
  const amount = settings.algorithm === 'sdt' ? settings.deviation : settings.band
  const amountName = settings.algorithm === 'sdt' ? 'deviation' : 'band'
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) fail(`${amountName} must be a finite number > 0, got ${String(amount)}`, path)
  checkInterval('minIntervalNs', settings.minIntervalNs, path)
  checkInterval('maxIntervalNs', settings.maxIntervalNs, path)
  if (settings.maxIntervalNs !== undefined && settings.maxIntervalNs <= 0n) fail(`maxIntervalNs must be > 0, got ${settings.maxIntervalNs}`, path)
  if (settings.maxIntervalNs !== undefined && settings.maxIntervalNs < (settings.minIntervalNs ?? 0n)) {
    fail(`maxIntervalNs (${settings.maxIntervalNs}) must be ≥ minIntervalNs (${settings.minIntervalNs})`, path)
  }
  return settings
}

/** The intervals as the filters compare them: doubles of nanoseconds, exact up to 2^53. */
export function intervalsOf(settings: DeadbandSettings | SdtSettings): { minIntervalNs: number; maxIntervalNs: number } {
  return {
    minIntervalNs: Number(settings.minIntervalNs ?? 0n),
    maxIntervalNs: settings.maxIntervalNs === undefined ? Number.POSITIVE_INFINITY : Number(settings.maxIntervalNs),
  }
}
