// Membership of the replica set: each node writes its member record to Redis on a heartbeat (id,
// HTTP address, partitions it masters, applied offset and lag per changelog partition, health);
// a record expires when its heartbeats stop. Readers (GET /api/v1/replicaset, `sluice status`)
// list the live records. Kafka decides who masters what; Redis only reports it.
//
// Redis keys:
//   sluice:replicaset:member:<nodeId>   JSON MemberRecord, with a TTL of memberTtlMs
//   sluice:replicaset:members           sorted set of node ids, score = expiry time in ms (index for listing)

import type { Redis } from 'ioredis'
import type { StoreStats } from '../sinks/index.ts'
import type { PartitionPosition, Replica } from './replica.ts'

export const MEMBER_KEY_PREFIX = 'sluice:replicaset:member:'
export const MEMBERS_INDEX_KEY = 'sluice:replicaset:members'

export type MemberHealth = 'ok' | 'catching-up' | 'failed' | 'no-replica'

export interface MemberPartition {
  partition: number
  /** Next changelog offset to apply. */
  appliedOffset: string
  /** Changelog end offset (high watermark) when the heartbeat was written; null if unknown. */
  endOffset: string | null
  /** endOffset − the replica's read position (past transaction markers); null if unknown. */
  lag: string | null
  /** The partition's store: live segment files, their bytes and levels, memtable bytes (what compaction changes). */
  store?: {
    segments: number; segmentBytes: number; levels: number[]; memtableBytes: number
    /** The compaction running in this store, if any: series merged of its inputs' series. */
    compacting?: { inputs: number; inputBytes: number; series: number; seriesDone: number; startedAt: string }
  }
}

/** A partition the replica has not yet read up to the changelog end seen at its start: how far it is. */
export interface MemberCatchingUp {
  partition: number
  /** Next changelog offset to read. */
  position: string
  /** The changelog end offset to reach; null while the replica is not yet reading. */
  target: string | null
}

export interface MemberRecord {
  id: string
  /** http://host:port of the node's API. */
  address: string
  startedAt: string
  heartbeatAt: string
  /** Ingest partitions this node is master of now (consumer group sluice.masters). */
  masters: number[]
  partitions: MemberPartition[]
  health: MemberHealth
  /** Why health is not ok, for a human. */
  detail?: string
  /** While the replica catches up after its start: each partition still behind and how far it is. */
  catchingUp?: MemberCatchingUp[]
  /** When this node became master of each partition it masters now (ISO time, as seen by its heartbeat). */
  masterSince?: Array<{ partition: number; since: string }>
}

/** Where member records live: Redis for a set, memory for a single node without Redis. */
export interface MemberStore {
  put(record: MemberRecord, ttlMs: number): Promise<void>
  remove(id: string): Promise<void>
  list(): Promise<MemberRecord[]>
}

export class RedisMemberStore implements MemberStore {
  constructor(private readonly redis: Redis) {}

  async put(record: MemberRecord, ttlMs: number): Promise<void> {
    const expiresAt = Date.now() + ttlMs
    await this.redis.multi()
      .set(MEMBER_KEY_PREFIX + record.id, JSON.stringify(record), 'PX', ttlMs)
      .zadd(MEMBERS_INDEX_KEY, expiresAt, record.id)
      .exec()
  }

  async remove(id: string): Promise<void> {
    await this.redis.multi().del(MEMBER_KEY_PREFIX + id).zrem(MEMBERS_INDEX_KEY, id).exec()
  }

  async list(): Promise<MemberRecord[]> {
    await this.redis.zremrangebyscore(MEMBERS_INDEX_KEY, '-inf', Date.now())
    const ids = await this.redis.zrange(MEMBERS_INDEX_KEY, 0, -1)
    if (ids.length === 0) return []
    const values = await this.redis.mget(ids.map(id => MEMBER_KEY_PREFIX + id))
    return values.flatMap(value => {
      const record = value === null ? undefined : parseMemberRecord(value)
      return record ? [record] : []
    }).sort((a, b) => a.id.localeCompare(b.id))
  }
}

export class MemoryMemberStore implements MemberStore {
  private readonly records = new Map<string, { record: MemberRecord; expiresAt: number }>()
  async put(record: MemberRecord, ttlMs: number): Promise<void> { this.records.set(record.id, { record, expiresAt: Date.now() + ttlMs }) }
  async remove(id: string): Promise<void> { this.records.delete(id) }
  async list(): Promise<MemberRecord[]> {
    const now = Date.now()
    return [...this.records.values()].filter(r => r.expiresAt > now).map(r => r.record).sort((a, b) => a.id.localeCompare(b.id))
  }
}

/** Parses a stored record; null for anything that is not one (a record from another version, garbage). */
export function parseMemberRecord(text: string): MemberRecord | null {
  try {
    const value = JSON.parse(text) as Partial<MemberRecord>
    if (typeof value.id !== 'string' || typeof value.address !== 'string' || !Array.isArray(value.masters) || !Array.isArray(value.partitions)) return null
    return value as MemberRecord
  } catch {
    return null
  }
}

export interface MembershipOptions {
  store: MemberStore
  nodeId: string
  /** http://host:port of this node's API; a function, as it is known only once the node listens. */
  address: () => string
  /** Partitions this node masters now (the processor's), or none without a processor. */
  masters: () => number[]
  replica: Replica | undefined
  /** Heartbeat period. Default 1 s. */
  heartbeatIntervalMs?: number
  /** A record lives this long after its last heartbeat. Default 5 s: a few missed beats, not a pause of the event loop. */
  memberTtlMs?: number
  /** Lag (records) above which a partition counts as catching up. Default 10,000. */
  caughtUpLag?: bigint
  log?: (event: Record<string, unknown>) => void
}

export interface ReplicaSetView {
  node: string
  members: MemberRecord[]
  /** Per ingest partition seen in any member's masters: the members claiming it (normally one). */
  masters: Array<{ partition: number; nodes: string[] }>
  /**
   * The latest master change among the live members: which node took which partition, and when
   * (a failover, or a rebalance as nodes join and leave). Null when no member masters anything.
   */
  lastFailover: { partition: number; node: string; at: string } | null
}

/** Runs the heartbeat of this node; `view()` reads the whole set. */
export class Membership {
  private timer: NodeJS.Timeout | undefined
  private readonly startedAt = new Date().toISOString()
  private readonly heartbeatIntervalMs: number
  private readonly memberTtlMs: number
  private readonly caughtUpLag: bigint
  private beating: Promise<void> | undefined
  private stopped = false
  /** Partition → when this node was first seen mastering it (since it last did not). */
  private readonly masterSince = new Map<number, string>()

  constructor(private readonly options: MembershipOptions) {
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 1_000
    this.memberTtlMs = options.memberTtlMs ?? 5_000
    this.caughtUpLag = options.caughtUpLag ?? 10_000n
    if (this.memberTtlMs <= this.heartbeatIntervalMs) throw new Error(`memberTtlMs (${this.memberTtlMs}) must exceed heartbeatIntervalMs (${this.heartbeatIntervalMs})`)
  }

  async start(): Promise<void> {
    await this.beat()
    this.timer = setInterval(() => { this.beating ??= this.beat().finally(() => { this.beating = undefined }) }, this.heartbeatIntervalMs)
    this.timer.unref()
  }

  /** This node's record as of now. */
  async record(): Promise<MemberRecord> {
    const replica = this.options.replica
    let ends = new Map<number, bigint>()
    let detail: string | undefined
    if (replica && replica.state === 'running') {
      try {
        ends = await replica.endOffsets()
      } catch (error) {
        detail = `changelog end offsets unknown: ${(error as Error).message}`
      }
    }
    const stores = replica?.stores()
    const partitions = (replica?.appliedPositions() ?? []).map(position => memberPartition(position, ends.get(position.partition), stores?.get(position.partition)?.stats()))
    const catchingUp = replica && replica.state !== 'failed' ? replica.catchingUp() : []
    const masters = [...this.options.masters()].sort((a, b) => a - b)
    let health: MemberHealth = 'ok'
    if (!replica) health = 'no-replica'
    else if (replica.state === 'failed') { health = 'failed'; detail = replica.error?.message }
    else if (replica.state !== 'running' || partitions.some(p => p.lag === null || BigInt(p.lag) > this.caughtUpLag)) health = 'catching-up'
    return {
      id: this.options.nodeId,
      address: this.options.address(),
      startedAt: this.startedAt,
      heartbeatAt: new Date().toISOString(),
      masters,
      partitions,
      health,
      ...(detail !== undefined ? { detail } : {}),
      ...(catchingUp.length > 0 ? { catchingUp: catchingUp.map(p => ({ partition: p.partition, position: String(p.position), target: p.target < 0n ? null : String(p.target) })) } : {}),
      masterSince: this.mastersSince(masters),
    }
  }

  /** Notes when each partition became this node's, forgetting the ones it lost. */
  private mastersSince(masters: number[]): Array<{ partition: number; since: string }> {
    const now = new Date().toISOString()
    for (const partition of this.masterSince.keys()) if (!masters.includes(partition)) this.masterSince.delete(partition)
    for (const partition of masters) if (!this.masterSince.has(partition)) this.masterSince.set(partition, now)
    return masters.map(partition => ({ partition, since: this.masterSince.get(partition)! }))
  }

  private async beat(): Promise<void> {
    if (this.stopped) return
    try {
      await this.options.store.put(await this.record(), this.memberTtlMs)
    } catch (error) {
      this.options.log?.({ event: 'membership_heartbeat_failed', error: (error as Error).message })
    }
  }

  async view(): Promise<ReplicaSetView> {
    const members = await this.options.store.list()
    return { node: this.options.nodeId, members, masters: mastersOf(members), lastFailover: lastMasterChange(members) }
  }

  /** Stops the heartbeat and removes this node's record (others see it leave at once). */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.beating
    await this.options.store.remove(this.options.nodeId).catch(() => {})
  }
}

function memberPartition(position: PartitionPosition, end: bigint | undefined, stats: StoreStats | undefined): MemberPartition {
  const lag = end === undefined ? null : end > position.consumedOffset ? end - position.consumedOffset : 0n
  return {
    partition: position.partition, appliedOffset: String(position.appliedOffset), endOffset: end === undefined ? null : String(end), lag: lag === null ? null : String(lag),
    ...(stats ? {
      store: {
        segments: stats.segments, segmentBytes: stats.segmentBytes, levels: stats.levels, memtableBytes: stats.memtableBytes + stats.frozenMemtableBytes,
        ...(stats.compacting ? { compacting: { inputs: stats.compacting.inputs, inputBytes: stats.compacting.inputBytes, series: stats.compacting.series, seriesDone: stats.compacting.seriesDone, startedAt: new Date(stats.compacting.startedAtMs).toISOString() } } : {}),
      },
    } : {}),
  }
}

/** The most recent partition a live member took as master (records of older versions carry no masterSince). */
export function lastMasterChange(members: readonly MemberRecord[]): ReplicaSetView['lastFailover'] {
  let last: ReplicaSetView['lastFailover'] = null
  for (const member of members) {
    for (const { partition, since } of member.masterSince ?? []) {
      if (last === null || since > last.at) last = { partition, node: member.id, at: since }
    }
  }
  return last
}

export function mastersOf(members: readonly MemberRecord[]): Array<{ partition: number; nodes: string[] }> {
  const byPartition = new Map<number, string[]>()
  for (const member of members) {
    for (const partition of member.masters) byPartition.set(partition, [...byPartition.get(partition) ?? [], member.id])
  }
  return [...byPartition].sort(([a], [b]) => a - b).map(([partition, nodes]) => ({ partition, nodes }))
}

/** The set at a glance, for `sluice status`: one line per member, then the masters per partition. */
export function formatReplicaSet(members: readonly MemberRecord[], now = Date.now()): string {
  if (members.length === 0) return 'no live members (no heartbeat in Redis)\n'
  const rows = [['NODE', 'ADDRESS', 'HEALTH', 'MASTERS', 'LAG (total)', 'LAG per partition', 'HEARTBEAT']]
  for (const m of members) {
    const lags = m.partitions.map(p => p.lag ?? '?')
    const total = m.partitions.reduce((sum, p) => sum + (p.lag === null ? 0n : BigInt(p.lag)), 0n)
    const age = ((now - Date.parse(m.heartbeatAt)) / 1000).toFixed(1)
    rows.push([m.id, m.address, m.health, m.masters.join(',') || '-', String(total), lags.join(' '), `${age}s ago`])
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)))
  const lines = rows.map(r => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd())
  const masters = mastersOf(members)
  const partitionCount = Math.max(0, ...members.map(m => m.partitions.length))
  const masterLine = Array.from({ length: partitionCount }, (_, p) => `${p}=${masters.find(x => x.partition === p)?.nodes.join('+') ?? 'none'}`)
  return `${lines.join('\n')}\n\nmaster per partition: ${masterLine.join(' ') || '-'}\n`
}
