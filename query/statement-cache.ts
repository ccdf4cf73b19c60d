// Parsed statements by their text, so a repeated query (a dashboard panel, a polling client) skips
// the parser: node-sql-parser's astify costs 0.4–2 ms per SQL statement, more than executing a small
// query. Bounded by entries and by an estimate of the bytes held, least recently used out first.
// What is cached is deeply frozen (frozenSize), so no caller can change what the next one gets: a
// planner that tried would throw (ES modules are strict), which the query tests would show.

import { LruCache } from '../lib/cache/lru.ts'

/** Bounds of one cache. */
export interface StatementCacheLimits {
  maxEntries: number
  /** Estimated bytes of the keys and values held (frozenSize). */
  maxBytes: number
}

export class StatementCache<V> {
  private readonly entries: LruCache<string, V>

  constructor(private readonly limits: StatementCacheLimits) {
    if (!(limits.maxEntries >= 1 && limits.maxBytes >= 1)) throw new RangeError('a statement cache needs maxEntries and maxBytes of at least 1')
    this.entries = new LruCache({ maxEntries: limits.maxEntries, maxWeight: limits.maxBytes })
  }

  /** The value cached for `text`, now the most recently used; undefined when not cached. */
  get(text: string): V | undefined {
    return this.entries.get(text)
  }

  /**
   * Caches a frozen value of `valueBytes` estimated bytes; a value bigger than a sixteenth of
   * maxBytes is not cached, so one huge statement cannot push out every other.
   */
  set(text: string, value: V, valueBytes: number): void {
    const bytes = valueBytes + 2 * text.length
    if (bytes > this.limits.maxBytes / 16) return
    this.entries.set(text, value, bytes)
  }

  get size(): number {
    return this.entries.size
  }

  /** Estimated bytes held, keys included. */
  get bytes(): number {
    return this.entries.weight
  }

  clear(): void {
    this.entries.clear()
  }
}

/** Estimated bytes of an object or array (header and slots); each property adds a slot. */
const OBJECT_BYTES = 64
const SLOT_BYTES = 16

/**
 * Freezes plain objects and arrays reachable from `value`, deeply, and returns an estimate of the
 * bytes they hold (strings at 2 bytes a character). Other objects (a RegExp) are left as they are:
 * an AST holds them only as stateless values.
 */
export function frozenSize(value: unknown): number {
  if (typeof value === 'string') return 2 * value.length
  if (value === null || typeof value !== 'object') return SLOT_BYTES
  const plain = Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null
  if (!plain) return OBJECT_BYTES
  Object.freeze(value)
  let bytes = OBJECT_BYTES
  for (const key of Object.keys(value)) bytes += SLOT_BYTES + frozenSize((value as Record<string, unknown>)[key])
  return bytes
}
