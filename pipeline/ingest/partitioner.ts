// Partition choice for sluice.ingest: the same partition Kafka's Java client (DefaultPartitioner,
// keyed records) and kafkajs's Partitioners.DefaultPartitioner pick for a key, so that records Sluice
// routes itself and records outside producers send keyed by series key land together.
//
// Java: Utils.toPositive(Utils.murmur2(keyBytes)) % numPartitions, murmur2 with seed 0x9747b28c, all
// arithmetic on 32-bit ints (Math.imul here), toPositive = x & 0x7fffffff (not Math.abs).

const SEED = 0x9747b28c
const M = 0x5bd1e995

/** Kafka's murmur2 of `data` as a signed 32-bit integer (Java's int result). */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  let h = (SEED ^ length) | 0
  const wholeWordsEnd = length & ~3
  for (let i = 0; i < wholeWordsEnd; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)
    k = Math.imul(k, M)
    k ^= k >>> 24
    k = Math.imul(k, M)
    h = Math.imul(h, M) ^ k
  }
  // Java's switch falls through from 3 to 2 to 1; written as ifs (tsconfig forbids fallthrough).
  const tail = length & 3
  if (tail === 3) h ^= data[wholeWordsEnd + 2]! << 16
  if (tail >= 2) h ^= data[wholeWordsEnd + 1]! << 8
  if (tail >= 1) {
    h ^= data[wholeWordsEnd]!
    h = Math.imul(h, M)
  }
  h ^= h >>> 13
  h = Math.imul(h, M)
  h ^= h >>> 15
  return h | 0
}

/** The partition of a keyed record among `partitionCount` partitions, as Kafka's default partitioner picks it. */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partitionForKey: partition count must be a positive integer, got ${partitionCount}`)
  }
  return (murmur2(key) & 0x7fffffff) % partitionCount
}

/** The partition of a series key (UTF-8 bytes of the canonical key, as written as the record key). */
export function partitionForSeriesKey(seriesKey: string, partitionCount: number): number {
  return partitionForKey(Buffer.from(seriesKey, 'utf8'), partitionCount)
}
