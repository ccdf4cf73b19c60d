// Committed consumer-group offsets and pending transactional offsets, kept in memory and in a
// fsynced meta-log (meta/offsets.log) that is replayed on start and compacted when it grows.
// A change is applied in memory at once and group-committed to offsets.log off the event loop
// (MetaLog.appendQueued); whoever answers a request that changed or read offsets waits for
// flushed() first, so no client hears of an offset a crash could still undo.

import { join } from 'node:path'
import { MetaLog } from '../meta/meta-log.ts'
import type { Logger } from '../logger.ts'

export interface CommittedOffset { offset: bigint; metadata: string | null; commitTimestampMs: number }
export interface OffsetEntry { topic: string; partition: number; offset: bigint; metadata: string | null }

type OffsetRecord =
  | { type: 'commit'; group: string; at: number; offsets: Array<[topic: string, partition: number, offset: string, metadata: string | null]> }
  | { type: 'stage'; group: string; pid: string; offsets: Array<[topic: string, partition: number, offset: string, metadata: string | null]> }
  | { type: 'complete'; group: string; pid: string; commit: boolean; at: number }
  | { type: 'delete'; group: string }

/** Rewrite the log once it holds this many records beyond the live state. */
const COMPACT_AFTER_RECORDS = 100_000

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`

export class OffsetStore {
  private readonly committed = new Map<string, Map<string, CommittedOffset & { topic: string; partition: number }>>()
  private readonly pending = new Map<string, Map<bigint, OffsetEntry[]>>()
  private recordsSinceCompaction = 0

  private constructor(private readonly log: MetaLog<OffsetRecord>) {}

  static open(dataDir: string, logger: Logger): OffsetStore {
    const { log, records, truncatedBytes } = MetaLog.open<OffsetRecord>(join(dataDir, 'meta', 'offsets.log'))
    if (truncatedBytes > 0) logger.warn('truncated torn offsets log tail', { bytes: truncatedBytes })
    const store = new OffsetStore(log)
    for (const record of records) store.apply(record)
    store.recordsSinceCompaction = records.length
    return store
  }

  private apply(record: OffsetRecord): void {
    switch (record.type) {
      case 'commit':
        this.putCommitted(record.group, record.offsets.map(([topic, partition, offset, metadata]) => ({ topic, partition, offset: BigInt(offset), metadata })), record.at)
        return
      case 'stage': {
        const byPid = this.pending.get(record.group) ?? new Map<bigint, OffsetEntry[]>()
        const list = byPid.get(BigInt(record.pid)) ?? []
        list.push(...record.offsets.map(([topic, partition, offset, metadata]) => ({ topic, partition, offset: BigInt(offset), metadata })))
        byPid.set(BigInt(record.pid), list)
        this.pending.set(record.group, byPid)
        return
      }
      case 'complete': {
        const byPid = this.pending.get(record.group)
        const list = byPid?.get(BigInt(record.pid))
        if (!list) return
        byPid!.delete(BigInt(record.pid))
        if (record.commit) this.putCommitted(record.group, list, record.at)
        return
      }
      case 'delete':
        this.committed.delete(record.group)
        this.pending.delete(record.group)
    }
  }

  private putCommitted(group: string, offsets: OffsetEntry[], atMs: number): void {
    const map = this.committed.get(group) ?? new Map()
    for (const o of offsets) map.set(key(o.topic, o.partition), { topic: o.topic, partition: o.partition, offset: o.offset, metadata: o.metadata, commitTimestampMs: atMs })
    this.committed.set(group, map)
  }

  /** Queues the record (throws at once, changing nothing, if offsets.log is closed or failed), applies it, resolves once durable. */
  private write(record: OffsetRecord): Promise<void> {
    const durable = this.log.appendQueued(record)
    this.apply(record)
    if (++this.recordsSinceCompaction > COMPACT_AFTER_RECORDS) this.compact()
    return durable
  }

  private compact(): void {
    const live: OffsetRecord[] = []
    for (const [group, map] of this.committed) {
      for (const o of map.values()) live.push({ type: 'commit', group, at: o.commitTimestampMs, offsets: [[o.topic, o.partition, o.offset.toString(), o.metadata]] })
    }
    for (const [group, byPid] of this.pending) {
      for (const [pid, list] of byPid) live.push({ type: 'stage', group, pid: pid.toString(), offsets: list.map(o => [o.topic, o.partition, o.offset.toString(), o.metadata]) })
    }
    // Queued behind the records it summarises; a failure poisons the log, so later writes fail loudly.
    void this.log.rewriteQueued(live)
    this.recordsSinceCompaction = live.length
  }

  commit(group: string, offsets: OffsetEntry[], nowMs: number): Promise<void> {
    return this.write({ type: 'commit', group, at: nowMs, offsets: offsets.map(o => [o.topic, o.partition, o.offset.toString(), o.metadata]) })
  }

  stage(group: string, producerId: bigint, offsets: OffsetEntry[]): Promise<void> {
    return this.write({ type: 'stage', group, pid: producerId.toString(), offsets: offsets.map(o => [o.topic, o.partition, o.offset.toString(), o.metadata]) })
  }

  complete(group: string, producerId: bigint, commit: boolean, nowMs: number): Promise<void> {
    if (!this.pending.get(group)?.has(producerId)) return this.log.flushed()
    return this.write({ type: 'complete', group, pid: producerId.toString(), commit, at: nowMs })
  }

  hasPending(group: string, producerId: bigint): boolean {
    return this.pending.get(group)?.has(producerId) ?? false
  }

  deleteGroup(group: string): Promise<void> {
    return this.write({ type: 'delete', group })
  }

  get(group: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.committed.get(group)?.get(key(topic, partition))
  }

  all(group: string): Array<CommittedOffset & { topic: string; partition: number }> {
    return [...(this.committed.get(group)?.values() ?? [])]
  }

  groups(): string[] { return [...this.committed.keys()] }

  hasOffsets(group: string): boolean { return (this.committed.get(group)?.size ?? 0) > 0 }

  /** Latest commit time in the group, for retention. */
  lastCommitMs(group: string): number {
    let last = 0
    for (const o of this.committed.get(group)?.values() ?? []) if (o.commitTimestampMs > last) last = o.commitTimestampMs
    return last
  }

  /** Resolves once every change so far is durable; rejects if offsets.log failed. */
  flushed(): Promise<void> { return this.log.flushed() }

  close(): Promise<void> { return this.log.closeWhenFlushed() }
}
