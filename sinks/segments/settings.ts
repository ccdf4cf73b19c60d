// The named limits of a partition store, with defaults and reasons, validated once at open.

import { StorageError, StorageErrorCode } from './errors.ts'

export interface StoreSettings {
  /** The changelog partition this store holds, for error context and logs. */
  partition: number
  /** Estimated bytes of the active memtable before it is frozen and flushed. Bounds memory: at most two memtables exist. */
  memtableMaxBytes: number
  /** Points per block, at most. Bigger blocks compress better; smaller ones decode less for a narrow read. */
  blockMaxPoints: number
  /**
   * Blocks end on multiples of this many nanoseconds since the epoch (date_bin's buckets) once they
   * hold blockMinPoints, so a query's hourly buckets (the default, one hour) contain whole blocks and
   * are answered from block statistics. 0n: blocks are cut at blockMaxPoints only.
   */
  blockAlignNs: bigint
  /**
   * Points a block holds before an aligned boundary may end it: fewer, larger blocks for slow
   * series (a block costs about 25 bytes of index and headers on top of its values). Above blockMaxPoints it acts as
   * blockMaxPoints.
   */
  blockMinPoints: number
  /** Adjacent segments of one level merged into one of the next level. */
  compactionFanIn: number
  /** Run compaction in the background after each flush. Tests and benchmarks may drive it by hand. */
  autoCompact: boolean
  /** Time to live per database, in nanoseconds; absent = keep forever. */
  retentionNs: Record<string, bigint>
  /** Now in nanoseconds since the epoch, for retention; a seam for tests. */
  clockNs: () => bigint
  /** Points per chunk a scan yields, at most. */
  scanChunkMaxPoints: number
  /** Bytes of decoded segment blocks a store keeps for the next scans (block-cache.ts); 0 keeps none. */
  blockCacheBytes: number
  /** fsync segment files, the manifest and the directory. Off only in benchmarks of CPU cost. */
  fsync: boolean
  /** Called for entries or commands the store skips (type conflicts, unsupported predicates). */
  onWarning: (warning: StoreWarning) => void
}

export interface StoreWarning {
  kind: 'field-type-conflict' | 'unsupported-command'
  offset: bigint
  message: string
}

export const defaultStoreSettings: StoreSettings = {
  partition: 0,
  memtableMaxBytes: 64 * 1024 * 1024,
  blockMaxPoints: 8192,
  blockAlignNs: 3_600_000_000_000n,
  blockMinPoints: 128,
  compactionFanIn: 4,
  autoCompact: true,
  retentionNs: {},
  clockNs: () => BigInt(Date.now()) * 1_000_000n,
  scanChunkMaxPoints: 8192,
  blockCacheBytes: 8 * 1024 * 1024,
  fsync: true,
  onWarning: () => {},
}

const LIMITS = {
  memtableMaxBytes: [64 * 1024, 4 * 1024 * 1024 * 1024],
  blockMaxPoints: [2, 1 << 20],
  blockMinPoints: [1, 1 << 20],
  compactionFanIn: [2, 64],
  scanChunkMaxPoints: [1, 1 << 22],
  blockCacheBytes: [0, 16 * 1024 * 1024 * 1024],
} as const

export function resolveSettings(partial: Partial<StoreSettings> = {}): StoreSettings {
  for (const key of Object.keys(partial)) {
    if (!(key in defaultStoreSettings)) throw new StorageError(StorageErrorCode.INVALID_SETTING, `unknown storage setting "${key}"`)
  }
  const settings = { ...defaultStoreSettings, ...partial }
  for (const [key, [min, max]] of Object.entries(LIMITS)) {
    const value = settings[key as keyof typeof LIMITS]
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new StorageError(StorageErrorCode.INVALID_SETTING, `storage setting ${key} must be an integer in [${min}, ${max}], got ${value}`)
    }
  }
  if (typeof settings.blockAlignNs !== 'bigint' || settings.blockAlignNs < 0n) {
    throw new StorageError(StorageErrorCode.INVALID_SETTING, `storage setting blockAlignNs must be a bigint ≥ 0 (0n: no alignment), got ${String(settings.blockAlignNs)}`)
  }
  if (partial.blockMinPoints !== undefined && partial.blockMinPoints > settings.blockMaxPoints) {
    throw new StorageError(StorageErrorCode.INVALID_SETTING, `storage setting blockMinPoints (${partial.blockMinPoints}) must not exceed blockMaxPoints (${settings.blockMaxPoints})`)
  }
  for (const [database, ttl] of Object.entries(settings.retentionNs)) {
    if (typeof ttl !== 'bigint' || ttl <= 0n) {
      throw new StorageError(StorageErrorCode.INVALID_SETTING, `storage setting retentionNs.${database} must be a positive bigint`)
    }
  }
  return settings
}
