// Decoded segment blocks kept for the next scans, least recently used out first, bounded in bytes.
// A dashboard asks the same hours again every few seconds: from the cache a block costs a lookup
// instead of a read, a checksum and a decode (and the garbage of its arrays). Segment files never
// change, so an entry stays right until its segment is removed (forget). Columns handed out are
// shared: readers treat them as read-only, as they do a memtable's views.

import { LruCache } from '../../lib/cache/lru.ts'
import type { Column } from './encoding/block.ts'
import type { BlockEntry } from './segment-file.ts'

/** What a decoded column holds, in bytes (a string counted at two bytes a character). */
function columnBytes(column: Column): number {
  let bytes = column.times.byteLength
  const values = column.values
  if (Array.isArray(values)) for (const text of values) bytes += 16 + 2 * text.length
  else bytes += values.byteLength
  return bytes
}

export class DecodedBlockCache {
  private readonly blocks: LruCache<BlockEntry, Column>

  constructor(private readonly maxBytes: number) {
    this.blocks = new LruCache({ maxEntries: Number.MAX_SAFE_INTEGER, maxWeight: maxBytes })
  }

  get(block: BlockEntry): Column | undefined {
    return this.blocks.get(block)
  }

  /** Keeps a whole decoded block; one larger than an eighth of the budget is not kept. */
  put(block: BlockEntry, column: Column): void {
    const bytes = columnBytes(column)
    if (bytes > this.maxBytes / 8 || this.blocks.has(block)) return
    this.blocks.set(block, column, bytes)
  }

  /** Drops the blocks of a removed segment. */
  forget(blocks: readonly BlockEntry[]): void {
    if (this.blocks.size === 0) return
    for (const block of blocks) this.blocks.delete(block)
  }

  get size(): { blocks: number; bytes: number } {
    return { blocks: this.blocks.size, bytes: this.blocks.weight }
  }
}
