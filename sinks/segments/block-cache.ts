// Decoded segment blocks kept for the next scans, least recently used out first, bounded in bytes.
// A dashboard asks the same hours again every few seconds: from the cache a block costs a lookup
// instead of a read, a checksum and a decode (and the garbage of its arrays). Segment files never
// change, so an entry stays right until its segment is removed (forget). Columns handed out are
// shared: readers treat them as read-only, as they do a memtable's views.

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
  /** Insertion order is recency: a hit moves its block to the end. */
  private readonly blocks = new Map<BlockEntry, { column: Column; bytes: number }>()
  private bytes = 0

  constructor(private readonly maxBytes: number) {}

  get(block: BlockEntry): Column | undefined {
    const kept = this.blocks.get(block)
    if (!kept) return undefined
    this.blocks.delete(block)
    this.blocks.set(block, kept)
    return kept.column
  }

  /** Keeps a whole decoded block; one larger than an eighth of the budget is not kept. */
  put(block: BlockEntry, column: Column): void {
    const bytes = columnBytes(column)
    if (bytes > this.maxBytes / 8 || this.blocks.has(block)) return
    this.blocks.set(block, { column, bytes })
    this.bytes += bytes
    for (const [oldest, kept] of this.blocks) {
      if (this.bytes <= this.maxBytes) break
      this.blocks.delete(oldest)
      this.bytes -= kept.bytes
    }
  }

  /** Drops the blocks of a removed segment. */
  forget(blocks: readonly BlockEntry[]): void {
    if (this.blocks.size === 0) return
    for (const block of blocks) {
      const kept = this.blocks.get(block)
      if (!kept) continue
      this.blocks.delete(block)
      this.bytes -= kept.bytes
    }
  }

  get size(): { blocks: number; bytes: number } {
    return { blocks: this.blocks.size, bytes: this.bytes }
  }
}
