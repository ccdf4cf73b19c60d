// The resume token of a change stream: for every changelog partition, the next event to deliver,
// as (offset of its changelog entry, index of the event within the entry). Text form, one item per
// partition, partitions ascending:   <partition>:<offset>:<index>[,<partition>:<offset>:<index>…]
// e.g. "0:1532:0,1:877:12,2:0:0". Each SSE event's id is the token as of just after that event, so
// a client that reconnects with Last-Event-ID continues at the next event, on every partition.

import { CdcError, CdcErrorCode } from './errors.ts'
import { cdcLimits } from './limits.ts'

export interface StreamPosition {
  /** Offset of the changelog entry holding the next event. */
  offset: bigint
  /** Index of the next event within that entry (0 = the whole entry is still to come). */
  index: number
}

const ITEM = /^(\d{1,9}):(\d{1,19}):(\d{1,9})$/

export class ResumeToken {
  private constructor(private readonly positions: StreamPosition[]) {}

  /** Every partition at the same starting offset (index 0). */
  static at(offsets: readonly bigint[]): ResumeToken {
    return new ResumeToken(offsets.map(offset => ({ offset, index: 0 })))
  }

  /**
   * Parses a token for a feed of `partitions` partitions. A partition the token does not name
   * starts at offset `missingFrom` (the changelog's beginning): a token from before the changelog
   * had it names none.
   */
  static parse(text: string, partitions: number, missingFrom: (partition: number) => bigint): ResumeToken {
    const bad = (why: string): CdcError => new CdcError(CdcErrorCode.RESUME_TOKEN, `resume token "${text.slice(0, 80)}": ${why}`)
    const items = text.trim().split(',')
    if (items.length > cdcLimits.maxTokenPartitions) throw bad(`names ${items.length} partitions; at most ${cdcLimits.maxTokenPartitions}`)
    const positions: Array<StreamPosition | undefined> = new Array(partitions).fill(undefined)
    for (const item of items) {
      const match = ITEM.exec(item.trim())
      if (!match) throw bad(`"${item.slice(0, 40)}" is not <partition>:<offset>:<index>`)
      const partition = Number(match[1])
      const offset = BigInt(match[2]!)
      if (partition >= partitions) throw bad(`names partition ${partition}; sluice.changelog has ${partitions}`)
      if (offset > 0x7fffffffffffffffn) throw bad(`offset ${offset} of partition ${partition} is beyond 2^63 - 1`)
      if (positions[partition] !== undefined) throw bad(`names partition ${partition} twice`)
      positions[partition] = { offset, index: Number(match[3]) }
    }
    return new ResumeToken(positions.map((position, partition) => position ?? { offset: missingFrom(partition), index: 0 }))
  }

  get partitions(): number {
    return this.positions.length
  }

  position(partition: number): StreamPosition {
    return this.positions[partition]!
  }

  /** Whether the event (offset, index) of `partition` is at or after the position: not delivered yet. */
  isAhead(partition: number, offset: bigint, index: number): boolean {
    const position = this.positions[partition]!
    return offset > position.offset || (offset === position.offset && index >= position.index)
  }

  /** Moves past the event (offset, index) of `partition`. Positions only grow. */
  advance(partition: number, offset: bigint, index: number): void {
    if (!this.isAhead(partition, offset, index)) throw new Error(`resume token: partition ${partition} would move back to ${offset}:${index}`)
    this.positions[partition] = { offset, index: index + 1 }
  }

  /** Moves past a whole entry of `partition` that gave this stream no event (filtered out). */
  skipEntry(partition: number, offset: bigint): void {
    if (offset >= this.positions[partition]!.offset) this.positions[partition] = { offset: offset + 1n, index: 0 }
  }

  toString(): string {
    return this.positions.map((position, partition) => `${partition}:${position.offset}:${position.index}`).join(',')
  }
}
