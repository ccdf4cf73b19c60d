// The answer of a query: named, typed columns and rows of values in that order. Time and 64-bit
// integers are bigint (exact), floats number, missing values null. The HTTP route renders it.

import type { Value } from './accumulate.ts'

export type { Value }

export type ColumnTypeName = 'timestamp' | 'string' | 'float' | 'integer' | 'unsigned' | 'boolean'

export interface ResultColumn {
  name: string
  type: ColumnTypeName
}

export interface QueryStats {
  /** Points read from chunks (decoded blocks and memtables). */
  pointsScanned: number
  /** Points answered from block index statistics without decoding. */
  pointsFromBlockStats: number
  /** Blocks answered from their index statistics (EXPLAIN shows it). */
  blocksFromBlockStats?: number
  /** Chunks read by scans: decoded blocks and memtable runs, merged where they overlap (EXPLAIN shows it). */
  chunksScanned?: number
}

export interface QueryResult {
  columns: ResultColumn[]
  rows: Value[][]
  stats: QueryStats
}
