// The query layer's named maximums. Hitting one is a LIMIT_EXCEEDED error, never silent growth.

export const QUERY_LIMITS = {
  /** Longest statement, in characters: a query is typed or generated, never a data dump. */
  maxSqlChars: 64 * 1024,
  /** Rows of a result (and groups × buckets of an aggregate): bounds the memory of one answer. */
  maxResultRows: 1_000_000,
  /** Buckets of a GROUP BY date_bin(...) per group and time range, so a 1 ns bin over a year is refused up front. */
  maxBucketsPerGroup: 10_000_000,
  /**
   * Points held at once for the aggregates that need every value (median, percentile, mode, stddev,
   * increase, irate, gauges, tracks): 16 bytes or more each, so about 320 MB at most.
   */
  maxCollectedPoints: 20_000_000,
  /**
   * Each cache of parsed statements (SQL statements, their ASTs, InfluxQL queries; statement-cache.ts):
   * a dashboard sends tens of distinct texts, so 1,000 hold them all; the bytes (an estimate) bound
   * long generated statements, and one entry takes at most a sixteenth of them.
   */
  statementCache: { maxEntries: 1_000, maxBytes: 32 * 1024 * 1024 },
} as const
