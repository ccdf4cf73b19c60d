// What a node reads of its master (the processor), whether the master runs on the node's main
// thread or in its own worker thread (master-thread.ts): plain data only, so both answer alike.

import { resolveCompression, type CompressionConfig, type CompressionSettings, type FilterCounters } from '../transforms/index.ts'
import { LossyCompression } from './lossy.ts'
import type { Processor, ProcessorStats } from './processor.ts'
import type { SeriesCompression } from './compression.ts'

/** One (series, field) lossy-compression filter of a partition mastered here. */
export interface CompressionFilter {
  tenant: string
  database: string
  measurement: string
  field: string
  counters: FilterCounters
}

export interface MasterHandle {
  /** Partitions this node masters now. */
  partitions(): number[]
  /** Counters, as of the last report from the master when it runs in its own thread. */
  readonly stats: Readonly<ProcessorStats>
  /** Per partition mastered: sluice.ingest offsets not yet in a committed transaction. */
  lag(): Promise<Map<number, bigint>>
  /** The lossy-compression filters of the partitions mastered here. */
  compressionFilters(): Promise<CompressionFilter[]>
  /**
   * The codec of each (measurement, field) of a database now: a SET_CODEC override held by a
   * master here (any master holds them all), else the config's.
   */
  codecs(tenant: string, database: string, fields: ReadonlyArray<readonly [measurement: string, field: string]>): Promise<CompressionSettings[]>
  stop(): Promise<void>
}

export function compressionFiltersOf(compressors: readonly SeriesCompression[]): CompressionFilter[] {
  const out: CompressionFilter[] = []
  for (const compression of compressors) {
    if (!(compression instanceof LossyCompression)) continue
    for (const filter of compression.filters()) {
      const { pointsIn, pointsKept, maxError } = filter.counters
      out.push({ tenant: filter.tenant, database: filter.database, measurement: filter.measurement, field: filter.field, counters: { pointsIn, pointsKept, maxError } })
    }
  }
  return out
}

export function codecsOf(compressors: readonly SeriesCompression[], config: CompressionConfig, tenant: string, database: string, fields: ReadonlyArray<readonly [string, string]>): CompressionSettings[] {
  const lossy = compressors.find((compression): compression is LossyCompression => compression instanceof LossyCompression)
  return fields.map(([measurement, field]) => lossy ? lossy.codecOf(tenant, database, measurement, field) : resolveCompression(config, database, measurement, field))
}

/** The handle of a master running on this thread. */
export function inlineMaster(processor: Processor, config: CompressionConfig): MasterHandle {
  return {
    partitions: () => processor.partitions(),
    get stats() { return processor.stats },
    lag: () => processor.lag(),
    compressionFilters: async () => compressionFiltersOf(await processor.compressors()),
    codecs: async (tenant, database, fields) => codecsOf(await processor.compressors(), config, tenant, database, fields),
    stop: () => processor.stop(),
  }
}
