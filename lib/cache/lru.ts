// A least-recently-used cache over a Map (which iterates in insertion order: a hit re-inserts its
// entry, so the first entry is the next to go), bounded by entries and by a weight the caller gives
// each value (estimated bytes). The statement cache, the decoded block cache and a worker's segment
// readers are built on it; what may enter (a value too big for its cache) stays their decision.

export interface LruLimits {
  /** Entries held at most. */
  maxEntries: number
  /** Sum of the entries' weights at most. */
  maxWeight: number
}

interface Entry<V> {
  value: V
  weight: number
}

export class LruCache<K, V> {
  private readonly entries = new Map<K, Entry<V>>()
  private heldWeight = 0

  /** `onEvict`: called with each entry the limits push out (not for delete or clear). */
  constructor(private readonly limits: LruLimits, private readonly onEvict?: (key: K, value: V) => void) {
    if (!(limits.maxEntries >= 1 && limits.maxWeight >= 0)) throw new RangeError('an LRU cache needs maxEntries of at least 1 and a maxWeight of at least 0')
  }

  /** The value of `key`, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.value
  }

  has(key: K): boolean {
    return this.entries.has(key)
  }

  /** Holds `value` as the most recently used (replacing the key's value), then evicts the least recently used beyond the limits. */
  set(key: K, value: V, weight = 1): void {
    const previous = this.entries.get(key)
    if (previous !== undefined) {
      this.entries.delete(key)
      this.heldWeight -= previous.weight
    }
    this.entries.set(key, { value, weight })
    this.heldWeight += weight
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.heldWeight <= this.limits.maxWeight) break
      this.entries.delete(oldest)
      this.heldWeight -= entry.weight
      this.onEvict?.(oldest, entry.value)
    }
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key)
    if (entry === undefined) return false
    this.entries.delete(key)
    this.heldWeight -= entry.weight
    return true
  }

  /** Entries from the least to the most recently used; deleting the current one while iterating is safe. */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (const [key, entry] of this.entries) yield [key, entry.value]
  }

  get size(): number {
    return this.entries.size
  }

  get weight(): number {
    return this.heldWeight
  }

  clear(): void {
    this.entries.clear()
    this.heldWeight = 0
  }
}
