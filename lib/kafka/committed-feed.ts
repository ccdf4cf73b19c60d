// Records a writer committed to a topic partition, handed to a reader in the same thread with their
// offsets, so that the reader need not fetch back from Kafka what this process has just written.
//
// A node's master commits sluice.changelog, and the same node's replica reads it back: through the
// broker's Fetch, kafkajs's decoding and an LZ4 decompression, for bytes the process held a moment
// before. With the feed the master publishes each committed transaction's changelog records and the
// replica applies them at once when they continue exactly where it stands (replicaset/replica.ts).
// The feed is only a shortcut: Kafka stays the log, a reader checks every run's offsets against its
// own position, and whatever the feed cannot vouch for is read from Kafka as before.

/** Records committed to one partition, at consecutive offsets. */
export interface CommittedRun {
  partition: number
  /** Offset of values[0]; values[i] is at first + i. */
  first: bigint
  /**
   * Offsets in [from, first) hold nothing a reader applies: the writer's own transaction marker
   * of its previous run, and nothing else. Equal to first when the writer vouches for nothing below it.
   */
  from: bigint
  /**
   * Where a reader stands once it applied the records: past the writer's commit marker, which
   * follows the last record (first + values.length), as nothing else writes the partition.
   */
  through: bigint
  /** The records' values, as they are in the log. */
  values: readonly Buffer[]
}

export interface CommittedFeedListener {
  committed(run: CommittedRun): void
  /** Something was (or may have been) committed to `partition` that no run carries: read it from Kafka. */
  interrupted(partition: number): void
}

export class CommittedFeed {
  private readonly listeners = new Set<CommittedFeedListener>()

  /** Returns the unsubscribe. */
  subscribe(listener: CommittedFeedListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  publish(run: CommittedRun): void {
    for (const listener of this.listeners) listener.committed(run)
  }

  interrupt(partition: number): void {
    for (const listener of this.listeners) listener.interrupted(partition)
  }
}

/**
 * The offsets of one transaction's records in one partition, from each produce request's base
 * offset and record count: the first offset when the requests' records are consecutive, else
 * undefined (an answer without an offset, or a request retried into another place).
 */
export class ConsecutiveOffsets {
  private firstOffset: bigint | undefined
  private next: bigint | undefined
  private broken = false

  add(baseOffset: string | undefined, records: number): void {
    if (this.broken) return
    const base = baseOffset === undefined || !/^\d+$/.test(baseOffset) ? undefined : BigInt(baseOffset)
    if (base === undefined || (this.next !== undefined && base !== this.next)) { this.broken = true; return }
    this.firstOffset ??= base
    this.next = base + BigInt(records)
  }

  /** The first offset, when every request was added and all were consecutive. */
  get first(): bigint | undefined {
    return this.broken ? undefined : this.firstOffset
  }
}
