// The replica apply loop: on every node, for every partition of sluice.changelog, read the
// committed changelog (read_committed) and apply it in log order to one PartitionStore.
//
// Kafka is the write-ahead log: each store's manifest holds the next changelog offset to apply,
// written atomically with the data it describes, so at start each partition is sought to its
// store's durableOffset and nothing else is trusted (no committed consumer offsets). A kill -9 at
// any moment loses only the memtable, which the replay rebuilds from the same entries in the same
// order: the recovered store is the store of a replica that never crashed.
//
// kafkajs has no manual assignment, so the replica joins a consumer group of its own; the group
// id names this process's incarnation, so a restart after kill -9 never waits for the dead member
// of the previous incarnation to leave (a session timeout), and no other node shares it: the
// only member is assigned every partition.

import { requireAbortedFilter } from '../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import { openPartitionStore, type PartitionStore, type StoreSettings } from '../sinks/index.ts'
import { ChangelogColumns, decodeChangelogColumns, unframe } from '../schemas/index.ts'
import { ReplicaError, ReplicaErrorCode } from './errors.ts'
import { defaultReplicaTimings, replicaLimits, type ReplicaTimings } from './limits.ts'
import { linkSnapshot, receiveSnapshot, SNAPSHOT_CONTENT_TYPE, type LinkedSnapshot } from './snapshot.ts'
import { endSpan, metrics, startProcessSpan } from '../lib/telemetry/index.ts'
import { installResponseReassembly } from '../lib/kafka/response-reassembly.ts'
import { PIPELINE_FETCH_BYTES, PIPELINE_FETCH_PARTITION_BYTES } from '../lib/kafka/fetch-size.ts'
import { restartWhenKafkajsGivesUp } from '../lib/kafka/consumer-restart.ts'
import type { CommittedFeed, CommittedRun } from '../lib/kafka/committed-feed.ts'
import { TimeSlice } from '../lib/time/time-slice.ts'

export const CHANGELOG_TOPIC = 'sluice.changelog'
export const REPLICA_LOCK_FILE = 'LOCK'

/** The pid in a replica directory's LOCK file when that process is alive, else undefined. */
export function lockHolder(dir: string): number | undefined {
  let pid: number
  try {
    pid = Number(readFileSync(join(dir, REPLICA_LOCK_FILE), 'utf8').trim())
  } catch {
    return undefined
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  try {
    process.kill(pid, 0)
    return pid
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined
  }
}
export const REPLICA_GROUP_PREFIX = 'sluice.replica.'

/** A position in sluice.ingest, as the write API and /api/v1/sql answer it. */
export interface IngestPosition {
  partition: number
  offset: bigint
}

export interface PartitionPosition {
  /** Changelog partition. */
  partition: number
  /** Next changelog offset to apply: entries below it are applied (maybe only in memory). */
  appliedOffset: bigint
  /** Next changelog offset after a restart (the manifest's). */
  durableOffset: bigint
  /** Next changelog offset to read, past transaction markers and aborted records: compare with the end offset for lag. */
  consumedOffset: bigint
  /** Highest ingest offset applied, per ingest partition, of the entries this partition carried. */
  ingest: IngestPosition[]
}

export interface ReplicaChecksum {
  /** SHA-256 hex over every partition's (partition, appliedOffset, store checksum), by partition. */
  checksum: string
  partitions: Array<{ partition: number; appliedOffset: bigint; checksum: string }>
}

export type ReplicaState = 'starting' | 'running' | 'failed' | 'stopped'

/** The replica's lifecycle: the transitions allowed from each state. */
const TRANSITIONS: Record<ReplicaState, readonly ReplicaState[]> = {
  starting: ['running', 'failed', 'stopped'],
  running: ['failed', 'stopped'],
  failed: ['stopped'],
  stopped: [],
}

/** SHA-256 hex over (partition, applied offset, store checksum) lines, by partition: what /api/v1/replicaset/checksum reports. */
export function combineChecksums(partitions: ReadonlyArray<{ partition: number; appliedOffset: bigint; checksum: string }>): string {
  const hash = createHash('sha256')
  for (const p of [...partitions].sort((a, b) => a.partition - b.partition)) hash.update(`${p.partition}:${p.appliedOffset}:${p.checksum}\n`)
  return hash.digest('hex')
}

export interface ReplicaOptions {
  kafka: Kafka
  nodeId: string
  /** The replica's directory: one store per partition under `<dir>/changelog-<p>`. */
  dir: string
  /** Partitions of sluice.changelog (the same count as sluice.ingest). */
  partitions: number
  /** Store settings other than the partition (memtable size, retention...). */
  storeSettings?: Partial<Omit<StoreSettings, 'partition'>>
  timings?: Partial<ReplicaTimings>
  /**
   * Other members of the set, for a partition whose changelog start is gone (retention removed
   * offsets this replica never applied): its store is copied from one of them (replicaset/snapshot.ts).
   */
  peers?: () => Promise<Peer[]>
  /** Sent as `Authorization: Bearer <secret>` when fetching a snapshot from a peer. */
  clusterSecret?: string
  /**
   * This node's master's committed changelog, with offsets (lib/kafka/committed-feed.ts): a run that
   * continues exactly where a store stands is applied from it instead of fetched back from Kafka.
   */
  changelogFeed?: CommittedFeed
  log?: (event: Record<string, unknown>) => void
}

export interface Peer {
  id: string
  /** http://host:port of the peer's API. */
  url: string
  /** The changelog offset the peer applied, per partition, when known (its member record). */
  appliedOffsets?: ReadonlyMap<number, bigint>
}

/** A partition this replica has not yet read up to the changelog end it saw when it started. */
export interface CatchingUp {
  partition: number
  /** Next changelog offset to read. */
  position: bigint
  /** The changelog end offset at start. */
  target: bigint
}

/** What the replica holds for one changelog partition. */
interface PartitionReplica {
  partition: number
  store: PartitionStore
  consumedOffset: bigint
  ingest: Map<number, bigint>
  lastFlushMs: number
  /** Serialises apply, flush and close of this partition: a store takes one caller at a time. */
  chain: Promise<unknown>
  /** Each entry of this partition is decoded into it, then applied from it (no object per point). */
  decoded: ChangelogColumns
  /** Runs of the changelog feed not applied yet, oldest first, and their values' bytes. */
  runs: Array<{ run: CommittedRun; bytes: number }>
  runBytes: number
  /** Following the feed: fetching this partition is paused, and runs are applied as they come. */
  local: boolean
  /** When the last run came (a partition following the feed fetches again when none came for a while). */
  lastRunMs: number
}

interface Waiter {
  positions: IngestPosition[]
  resolve: () => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

const stderrLog = (event: Record<string, unknown>): void => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'replica', ...event })}\n`)
}

export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const replica = new Replica(options)
  try {
    await replica.start()
  } catch (error) {
    await replica.stop().catch(() => {})
    throw error
  }
  return replica
}

export class Replica {
  readonly groupId: string
  private readonly timings: ReplicaTimings
  private readonly log: (event: Record<string, unknown>) => void
  private readonly parts = new Map<number, PartitionReplica>()
  /** stores()'s answer, made again when a partition's store is opened. */
  private storesByPartition: ReadonlyMap<number, PartitionStore> | null = null
  private readonly applied = new Map<number, bigint>()
  private readonly waiters = new Set<Waiter>()
  private consumer: Consumer | undefined
  private unsubscribeFeed: () => void = () => {}
  private cancelRestart: () => Promise<void> = async () => {}
  private admin: Admin | undefined
  private flushTimer: NodeJS.Timeout | undefined
  private stateValue: ReplicaState = 'starting'
  private failure: Error | undefined
  /** Changelog end offsets when consuming began; undefined until then. Cleared once reached. */
  private catchUpTarget: Map<number, bigint> | undefined
  private caughtUp = false
  private locked = false

  constructor(private readonly options: ReplicaOptions) {
    if (!Number.isInteger(options.partitions) || options.partitions < 1) {
      throw new ReplicaError(ReplicaErrorCode.INVALID_ARGUMENT, `partitions must be a positive integer, not ${options.partitions}`)
    }
    this.timings = { ...defaultReplicaTimings, ...options.timings }
    this.log = options.log ?? stderrLog
    this.groupId = `${REPLICA_GROUP_PREFIX}${options.nodeId}.${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  }

  get state(): ReplicaState {
    return this.stateValue
  }

  private transition(to: ReplicaState, reason: string): void {
    const from = this.stateValue
    if (!TRANSITIONS[from].includes(to)) {
      throw new ReplicaError(ReplicaErrorCode.FAILED, `invalid replica transition ${from} → ${to} (${reason})`)
    }
    this.stateValue = to
    this.log({ event: 'replica_state', from, to, reason })
  }

  /** Why the apply loop stopped, when state is 'failed'. */
  get error(): Error | undefined {
    return this.failure
  }

  /**
   * Claims the replica directory with a LOCK file holding this process's pid, so that `sluice
   * restore` (and a second node on the same directory) refuse while it runs. A LOCK whose process
   * is gone (kill -9) is taken over.
   */
  private lock(): void {
    mkdirSync(this.options.dir, { recursive: true })
    const path = join(this.options.dir, REPLICA_LOCK_FILE)
    const holder = lockHolder(this.options.dir)
    if (holder !== undefined && holder !== process.pid) {
      throw new ReplicaError(ReplicaErrorCode.FAILED, `${this.options.dir} is in use by process ${holder} (${path}); stop it first`)
    }
    writeFileSync(path, `${process.pid}\n`)
    this.locked = true
  }

  private storeDir(partition: number): string {
    return join(this.options.dir, `changelog-${partition}`)
  }

  private async openStore(partition: number): Promise<PartitionStore> {
    const store = await openPartitionStore(this.storeDir(partition), {
      ...this.options.storeSettings,
      partition,
      onWarning: warning => this.log({ event: 'store_warning', partition, ...warning, offset: String(warning.offset) }),
    })
    this.parts.set(partition, { partition, store, consumedOffset: store.appliedOffset, ingest: new Map(), lastFlushMs: Date.now(), chain: Promise.resolve(), decoded: new ChangelogColumns(), runs: [], runBytes: 0, local: false, lastRunMs: 0 })
    this.storesByPartition = null
    this.log({ event: 'store_opened', partition, durableOffset: String(store.durableOffset) })
    return store
  }

  async start(): Promise<void> {
    this.lock()
    rmSync(join(this.options.dir, 'snapshots'), { recursive: true, force: true }) // links of snapshots a crash left behind
    for (let partition = 0; partition < this.options.partitions; partition++) await this.openStore(partition)
    this.admin = this.options.kafka.admin()
    await this.admin.connect()
    if (await this.topicReady(this.admin, replicaLimits.topicWaitMs)) {
      await this.copyGonePartitions(this.admin)
      await this.runConsumer()
      return
    }
    // No sluice.changelog yet (no processor has run): serve the stores as they are and start
    // consuming once a processor creates the topic.
    this.log({ event: 'replica_waiting_for_topic', topic: CHANGELOG_TOPIC })
    const admin = this.admin
    void (async () => {
      while (this.stateValue === 'starting' && !(await this.topicReady(admin, 1_000))) { /* poll */ }
      if (this.stateValue === 'starting') await this.runConsumer()
    })().catch(error => this.fail(error as Error, -1))
  }

  /**
   * Where the changelog no longer starts at or below a store's applied offset, replaying cannot
   * rebuild it: the store is replaced by a peer's copy whose manifest covers the changelog start.
   * Throws, naming every peer tried, when no peer can give one: serving a store with a gap in
   * the middle would be silently wrong.
   */
  private async copyGonePartitions(admin: Admin): Promise<void> {
    const offsets = await admin.fetchTopicOffsets(CHANGELOG_TOPIC)
    for (const { partition, low } of offsets) {
      const part = this.parts.get(partition)
      const start = BigInt(low)
      if (!part || part.store.appliedOffset >= start) continue
      const applied = part.store.appliedOffset
      this.log({ event: 'replica_changelog_start_gone', partition, appliedOffset: String(applied), changelogStart: String(start) })
      const peers = (await this.options.peers?.().catch(() => []) ?? [])
        .filter(peer => (peer.appliedOffsets?.get(partition) ?? start) >= start)
        .sort((a, b) => Number((b.appliedOffsets?.get(partition) ?? 0n) - (a.appliedOffsets?.get(partition) ?? 0n)))
      const failures: string[] = []
      await part.store.close()
      let copied: bigint | undefined
      for (const peer of peers) {
        try {
          const started = Date.now()
          const answer = await fetch(`${peer.url}/api/v1/replicaset/snapshot/${partition}`, {
            headers: this.options.clusterSecret ? { authorization: `Bearer ${this.options.clusterSecret}` } : {},
            signal: AbortSignal.timeout(replicaLimits.snapshotTimeoutMs),
          })
          if (answer.status !== 200 || answer.body === null || !answer.headers.get('content-type')?.startsWith(SNAPSHOT_CONTENT_TYPE)) {
            throw new Error(`HTTP ${answer.status}: ${(await answer.text()).slice(0, 200)}`)
          }
          copied = await receiveSnapshot(answer.body, this.storeDir(partition), { partition, atLeast: start })
          this.log({ event: 'replica_snapshot_copied', partition, peer: peer.id, appliedOffset: String(copied), ms: Date.now() - started })
          break
        } catch (error) {
          failures.push(`${peer.id} (${peer.url}): ${(error as Error).message}`)
        }
      }
      await this.openStore(partition)
      if (copied === undefined) {
        throw new ReplicaError(ReplicaErrorCode.TOPIC,
          `${CHANGELOG_TOPIC} partition ${partition} now starts at offset ${start}, but this replica applied it only up to ${applied}: ` +
          `the entries in between are gone, and no peer gave a copy of its store (${failures.length > 0 ? failures.join('; ') : 'no healthy peer with that partition is known'})`,
          { partition, offset: applied })
      }
    }
  }

  /**
   * Hard-links partition `partition`'s durable store into a private directory, after a flush so
   * it holds everything applied: what GET /api/v1/replicaset/snapshot/:partition sends.
   * `release` removes the links.
   */
  async snapshot(partition: number): Promise<LinkedSnapshot & { contentType: string; release(): void }> {
    const part = this.parts.get(partition)
    if (!part) throw new ReplicaError(ReplicaErrorCode.INVALID_ARGUMENT, `no changelog partition ${partition} (the set has ${this.options.partitions})`)
    if (this.stateValue !== 'running') throw new ReplicaError(ReplicaErrorCode.FAILED, `the replica is ${this.stateValue}`, {}, true)
    return this.exclusive(part, async () => {
      await part.store.flush()
      const root = join(this.options.dir, 'snapshots')
      mkdirSync(root, { recursive: true })
      const linked = linkSnapshot(this.storeDir(partition), join(root, `${partition}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`))
      return { ...linked, contentType: SNAPSHOT_CONTENT_TYPE, release: () => rmSync(linked.dir, { recursive: true, force: true }) }
    })
  }

  /**
   * Merges every partition's segments into one, partition by partition (between apply batches),
   * purging deleted and expired points; returns each partition's segments and bytes before and after.
   */
  async compact(): Promise<Array<{ partition: number; before: { segments: number; bytes: number }; after: { segments: number; bytes: number }; ms: number }>> {
    if (this.stateValue !== 'running') throw new ReplicaError(ReplicaErrorCode.FAILED, `the replica is ${this.stateValue}`, {}, true)
    const results = []
    for (const part of [...this.parts.values()].sort((a, b) => a.partition - b.partition)) {
      results.push(await this.exclusive(part, async () => {
        const started = Date.now()
        const before = part.store.stats()
        await part.store.compactAll()
        const after = part.store.stats()
        this.log({ event: 'replica_compacted', partition: part.partition, segmentsBefore: before.segments, segmentsAfter: after.segments, bytesBefore: before.segmentBytes, bytesAfter: after.segmentBytes })
        return { partition: part.partition, before: { segments: before.segments, bytes: before.segmentBytes }, after: { segments: after.segments, bytes: after.segmentBytes }, ms: Date.now() - started }
      }))
    }
    return results
  }

  /**
   * Partitions not yet read up to the changelog end seen when consuming began: while any remain
   * the replica is catching up and its data is older than the set's. Empty once caught up (and
   * from then on: later lag is replication delay, reported by the membership).
   */
  catchingUp(): CatchingUp[] {
    if (this.caughtUp) return []
    const target = this.catchUpTarget
    if (target === undefined || this.stateValue !== 'running') {
      return [...this.parts.values()].map(part => ({ partition: part.partition, position: part.consumedOffset, target: target?.get(part.partition) ?? -1n }))
    }
    // A transaction marker may end the log: one offset short counts as caught up.
    const behind = [...this.parts.values()]
      .map(part => ({ partition: part.partition, position: part.consumedOffset, target: target.get(part.partition) ?? 0n }))
      .filter(p => p.position + 1n < p.target)
    if (behind.length === 0) {
      this.caughtUp = true
      this.log({ event: 'replica_caught_up' })
    }
    return behind
  }

  private async runConsumer(): Promise<void> {
    this.catchUpTarget = await this.endOffsets()
    installResponseReassembly() // this thread's kafkajs hands on fetched changelog batches without copying each response (response-reassembly.ts)
    requireAbortedFilter() // read_committed must drop every aborted record (aborted-filter.ts)
    const consumer = this.options.kafka.consumer({
      groupId: this.groupId,
      readUncommitted: false,
      sessionTimeout: this.timings.sessionTimeoutMs,
      heartbeatInterval: this.timings.heartbeatIntervalMs,
      maxWaitTimeInMs: this.timings.maxWaitTimeMs,
      maxBytesPerPartition: PIPELINE_FETCH_PARTITION_BYTES,
      maxBytes: PIPELINE_FETCH_BYTES,
      retry: { retries: 10 },
    })
    this.consumer = consumer
    if (this.options.changelogFeed !== undefined) {
      this.unsubscribeFeed = this.options.changelogFeed.subscribe({ committed: run => this.takeRun(run), interrupted: partition => this.feedInterrupted(partition) })
    }
    // Seek on every assignment: the stores' manifests are the truth, never committed offsets.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assigned = payload.memberAssignment[CHANGELOG_TOPIC] ?? []
      if (assigned.length !== this.options.partitions) {
        this.log({ event: 'replica_assignment_incomplete', group: this.groupId, assigned, partitions: this.options.partitions })
      }
      for (const partition of assigned) {
        const part = this.parts.get(partition)
        if (!part) continue
        // Fetched again, also when it followed the feed (a rebalance keeps a pause, a restarted consumer
        // does not): the feed is taken up again once a run meets the store.
        part.local = false
        if (this.stateValue !== 'failed') consumer.resume([{ topic: CHANGELOG_TOPIC, partitions: [partition] }])
        const from = part.store.appliedOffset > replicaLimits.rewindOffsets ? part.store.appliedOffset - replicaLimits.rewindOffsets : 0n
        consumer.seek({ topic: CHANGELOG_TOPIC, partition, offset: String(from) })
      }
    })
    // Batches of only markers or aborted records never reach eachBatch; this event still moves the
    // read position, and the applied offset past them once everything before the batch is applied.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const part = this.parts.get(payload.partition)
      if (part && payload.topic === CHANGELOG_TOPIC) {
        const next = BigInt(payload.lastOffset) + 1n
        if (next > part.consumedOffset) part.consumedOffset = next
        if (payload.batchSize === 0 && payload.firstOffset !== null && part.store.appliedOffset >= BigInt(payload.firstOffset) && this.stateValue !== 'failed') {
          part.store.skipTo(next)
        }
      }
    })
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.log({ event: 'replica_consumer_crash', error: payload.error.message, restart: payload.restart })
    })
    const consume = async (): Promise<void> => {
      await consumer.connect()
      await consumer.subscribe({ topic: CHANGELOG_TOPIC, fromBeginning: true })
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: this.options.partitions,
        eachBatchAutoResolve: false,
        eachBatch: payload => this.applyBatch(payload),
      })
    }
    this.cancelRestart = restartWhenKafkajsGivesUp(consumer, consume, {
      stopped: () => this.stateValue === 'stopped' || this.stateValue === 'failed',
      log: fields => this.log(fields),
    })
    await consume()
    if (this.stateValue !== 'starting') { await consumer.disconnect(); return } // stopped while connecting
    this.flushTimer = setInterval(() => this.flushIdle(), Math.max(100, Math.floor(this.timings.flushIntervalMs / 2)))
    this.flushTimer.unref()
    this.transition('running', 'consuming sluice.changelog')
    this.log({ event: 'replica_started', group: this.groupId, partitions: this.options.partitions })
  }

  /**
   * Whether sluice.changelog exists with the expected partition count, polling up to `waitMs`.
   * Lists topics first: a metadata request for a missing topic could auto-create it with the
   * broker's default partition count.
   */
  private async topicReady(admin: Admin, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs
    for (;;) {
      try {
        if ((await admin.listTopics()).includes(CHANGELOG_TOPIC)) {
          const metadata = await admin.fetchTopicMetadata({ topics: [CHANGELOG_TOPIC] })
          const count = metadata.topics[0]?.partitions.length ?? 0
          if (count === this.options.partitions) return true
          throw new ReplicaError(ReplicaErrorCode.TOPIC, `${CHANGELOG_TOPIC} has ${count} partitions; the replica expects ${this.options.partitions} (the partition count of sluice.ingest)`)
        }
      } catch (error) {
        if (error instanceof ReplicaError) throw error
        this.log({ event: 'replica_topic_check_failed', error: (error as Error).message })
      }
      if (Date.now() >= deadline || this.stateValue !== 'starting') return false
      await new Promise(resolve => setTimeout(resolve, 250))
    }
  }

  private exclusive<T>(part: PartitionReplica, work: () => Promise<T>): Promise<T> {
    const run = part.chain.then(work)
    part.chain = run.catch(() => {})
    return run
  }

  private applyBatch(payload: EachBatchPayload): Promise<void> {
    const part = this.parts.get(payload.batch.partition)
    if (!part || payload.batch.topic !== CHANGELOG_TOPIC) return Promise.resolve()
    return this.exclusive(part, () => this.applyBatchInTurn(part, payload))
  }

  /**
   * One fetched batch applied, in the partition's turn. A method, not a closure made per batch: V8
   * optimized each such closure on its own, as its loop grew hot within its one call (5 compiles of
   * the same code in a bench:e2e day, node --trace-opt), and ran the loop unoptimized until then.
   */
  private async applyBatchInTurn(part: PartitionReplica, { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (this.stateValue !== 'running' && this.stateValue !== 'starting') return
    // The apply span links to each entry's creation context: the master's transaction span (traceparent header).
    const span = startProcessSpan({ tracerName: 'sluice-replica', topic: CHANGELOG_TOPIC, partition: part.partition, consumerGroup: this.groupId, records: batch.messages, attributes: { 'sluice.node': this.options.nodeId } })
    const appliedEntries = metrics().replicaAppliedEntries.labels(String(part.partition))
    try {
      let whole = true
      const slice = new TimeSlice() // a fetched batch takes up to 100 ms to apply: the write path gets turns meanwhile
      for (const message of batch.messages) {
        if (slice.due) await slice.pause()
        if (!isRunning() || isStale()) { whole = false; break }
        const offset = BigInt(message.offset)
        if (message.value === null) throw new ReplicaError(ReplicaErrorCode.FAILED, 'a changelog record without a value', { partition: part.partition, offset })
        const entry = decodeChangelogColumns(unframe(message.value).payload, part.decoded)
        const { ingestPartition, ingestOffset } = entry
        await part.store.applyColumns(entry, offset)
        appliedEntries.inc()
        this.noteIngest(part, ingestPartition, ingestOffset)
        if (offset + 1n > part.consumedOffset) part.consumedOffset = offset + 1n
        resolveOffset(message.offset)
      }
      // The batch's last offset counts markers and aborted records: nothing after the last entry is left to apply.
      if (whole) part.store.skipTo(BigInt(batch.lastOffset()) + 1n)
      if (part.runs.length > 0) await this.applyRuns(part)
      if (Date.now() - part.lastFlushMs >= this.timings.flushIntervalMs) await this.flushPartition(part)
    } catch (error) {
      endSpan(span, error)
      this.fail(error as Error, part.partition)
      return
    }
    endSpan(span)
    this.wakeWaiters()
    await heartbeat()
  }

  /**
   * A run of this node's master's committed changelog: queued (the oldest dropped past
   * replicaLimits.feedQueueBytes: Kafka still has them) and applied in the partition's turn.
   */
  private takeRun(run: CommittedRun): void {
    const part = this.parts.get(run.partition)
    if (!part || (this.stateValue !== 'running' && this.stateValue !== 'starting')) return
    let bytes = 0
    for (const value of run.values) bytes += value.length
    part.runs.push({ run, bytes })
    part.runBytes += bytes
    part.lastRunMs = Date.now()
    while (part.runBytes > replicaLimits.feedQueueBytes && part.runs.length > 1) part.runBytes -= part.runs.shift()!.bytes
    this.exclusive(part, () => this.applyRunsInTurn(part)).catch(error => this.fail(error as Error, part.partition))
  }

  private feedInterrupted(partition: number): void {
    const part = this.parts.get(partition)
    if (!part) return
    part.runs = []
    part.runBytes = 0
    if (part.local) this.fetchAgain(part)
  }

  private async applyRunsInTurn(part: PartitionReplica): Promise<void> {
    if (this.stateValue !== 'running' && this.stateValue !== 'starting') return
    await this.applyRuns(part)
    if (Date.now() - part.lastFlushMs >= this.timings.flushIntervalMs) await this.flushPartition(part)
    this.wakeWaiters()
  }

  /**
   * Applies the queued runs that continue where the store stands: a run's records are the log's
   * records at its offsets, and the offsets between it and the store hold only the master's own
   * commit marker (CommittedRun.from). A run further on means something between is not in the
   * feed: the partition is fetched again (fetchAgain), and the run waits until the fetched records
   * reach it.
   *
   * Fetching stops (the partition follows the feed) once a run leaves the store right after its
   * records or their marker, the last thing its master wrote: the replica's fetch, answered as soon
   * as a commit makes records readable, is usually quicker than the master's commit answer, so the
   * first runs arrive applied already, and only the next ones can be taken from the feed.
   */
  private async applyRuns(part: PartitionReplica): Promise<void> {
    const appliedEntries = metrics().replicaAppliedEntries.labels(String(part.partition))
    const slice = new TimeSlice() // one transaction's changelog takes up to 80 ms to apply: the write path gets turns meanwhile
    while (part.runs.length > 0) {
      const { run, bytes } = part.runs[0]!
      const at = part.store.appliedOffset
      const end = run.first + BigInt(run.values.length)
      if (end <= at) {
        part.runs.shift()
        part.runBytes -= bytes
        if (!part.local && part.runs.length === 0 && at <= end + 1n) this.followFeed(part)
        continue
      }
      if (run.from > at) {
        if (part.local) this.fetchAgain(part)
        return
      }
      part.runs.shift()
      part.runBytes -= bytes
      if (!part.local) this.followFeed(part)
      for (let i = at > run.first ? Number(at - run.first) : 0; i < run.values.length; i++) {
        if (slice.due) await slice.pause()
        const entry = decodeChangelogColumns(unframe(run.values[i]!).payload, part.decoded)
        const { ingestPartition, ingestOffset } = entry
        await part.store.applyColumns(entry, run.first + BigInt(i))
        appliedEntries.inc()
        this.noteIngest(part, ingestPartition, ingestOffset)
      }
      metrics().replicaFeedEntries.labels(String(part.partition)).inc(run.values.length)
      part.store.skipTo(run.through) // past the run's commit marker, as a fetching replica stands
      if (run.through > part.consumedOffset) part.consumedOffset = run.through
    }
  }

  /** Stops fetching the partition: its master's runs continue where its store stands. */
  private followFeed(part: PartitionReplica): void {
    part.local = this.steerConsumer(consumer => consumer.pause([{ topic: CHANGELOG_TOPIC, partitions: [part.partition] }]))
  }

  /**
   * Fetches the partition again from one below its store's applied offset: after a run that is its
   * commit marker, which Kafka may write only after it answered the commit (a fetch past the log's
   * end would be refused); the store ignores what it has.
   */
  private fetchAgain(part: PartitionReplica): void {
    part.local = false
    if (this.stateValue !== 'running' && this.stateValue !== 'starting') return
    const from = part.store.appliedOffset > 0n ? part.store.appliedOffset - 1n : 0n
    this.steerConsumer(consumer => {
      consumer.seek({ topic: CHANGELOG_TOPIC, partition: part.partition, offset: String(from) })
      consumer.resume([{ topic: CHANGELOG_TOPIC, partitions: [part.partition] }])
    })
  }

  /**
   * Pauses, seeks or resumes the consumer; false when it is not running (kafkajs refuses then: it
   * is between a crash and its restart, whose assignment seeks every partition to its store anew).
   */
  private steerConsumer(steer: (consumer: Consumer) => void): boolean {
    if (this.consumer === undefined) return false
    try {
      steer(this.consumer)
      return true
    } catch {
      return false
    }
  }

  private noteIngest(part: PartitionReplica, ingestPartition: number, ingestOffset: bigint): void {
    const known = part.ingest.get(ingestPartition)
    if (known === undefined || ingestOffset > known) part.ingest.set(ingestPartition, ingestOffset)
    const total = this.applied.get(ingestPartition)
    if (total === undefined || ingestOffset > total) this.applied.set(ingestPartition, ingestOffset)
  }

  private async flushPartition(part: PartitionReplica): Promise<void> {
    part.lastFlushMs = Date.now()
    if (part.store.appliedOffset === part.store.durableOffset) return
    await part.store.flush()
  }

  private flushIdle(): void {
    if (this.stateValue !== 'running') return
    for (const part of this.parts.values()) {
      // A partition following the feed that heard nothing for a while asks Kafka again: a master
      // elsewhere may be writing it before this node's master learns it lost the partition.
      if (part.local && Date.now() - part.lastRunMs >= replicaLimits.feedQuietMs) this.fetchAgain(part)
      if (Date.now() - part.lastFlushMs < this.timings.flushIntervalMs) continue
      this.exclusive(part, () => this.flushPartition(part)).catch(error => this.fail(error as Error, part.partition))
    }
  }

  /** `partition` is -1 for a failure of the whole replica (the topic, the consumer). */
  private fail(error: Error, partition: number): void {
    if (this.stateValue === 'failed' || this.stateValue === 'stopped') return
    this.transition('failed', error.message)
    this.failure = error
    this.log({ event: 'replica_failed', partition, error: error.message, code: (error as { code?: string }).code })
    const stopped = new ReplicaError(ReplicaErrorCode.FAILED, `the replica stopped: ${error.message}`, { partition }, false, { cause: error })
    for (const waiter of this.waiters) { clearTimeout(waiter.timer); waiter.reject(stopped) }
    this.waiters.clear()
    this.consumer?.pause([{ topic: CHANGELOG_TOPIC }])
  }

  /** Per changelog partition: what is applied, durable and read, and the ingest offsets it covers. */
  appliedPositions(): PartitionPosition[] {
    return [...this.parts.values()].map(part => ({
      partition: part.partition,
      appliedOffset: part.store.appliedOffset,
      durableOffset: part.store.durableOffset,
      consumedOffset: part.consumedOffset > part.store.appliedOffset ? part.consumedOffset : part.store.appliedOffset,
      ingest: [...part.ingest].sort(([a], [b]) => a - b).map(([partition, offset]) => ({ partition, offset })),
    }))
  }

  /** Highest ingest offset applied per ingest partition, over all changelog partitions. */
  appliedIngest(): IngestPosition[] {
    return [...this.applied].sort(([a], [b]) => a - b).map(([partition, offset]) => ({ partition, offset }))
  }

  private satisfied(positions: readonly IngestPosition[]): boolean {
    return positions.every(position => (this.applied.get(position.partition) ?? -1n) >= position.offset)
  }

  /**
   * Resolves once every ingest position (a record of sluice.ingest) has been applied, i.e. this
   * replica applied the changelog entry of that record or of a later record of its partition.
   * Rejects with SLUICE_ERR_REPLICA_WAIT_TIMEOUT after `timeoutMs`, naming what is missing.
   */
  waitForIngestPositions(positions: readonly IngestPosition[], timeoutMs: number = replicaLimits.defaultWaitMs): Promise<void> {
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > replicaLimits.maxWaitMs) {
      return Promise.reject(new ReplicaError(ReplicaErrorCode.INVALID_ARGUMENT, `timeoutMs must be an integer in [0, ${replicaLimits.maxWaitMs}], not ${timeoutMs}`))
    }
    if (positions.length > replicaLimits.maxWaitPositions) {
      return Promise.reject(new ReplicaError(ReplicaErrorCode.INVALID_ARGUMENT, `at most ${replicaLimits.maxWaitPositions} positions per wait, not ${positions.length}`))
    }
    for (const position of positions) {
      if (!Number.isInteger(position.partition) || position.partition < 0 || typeof position.offset !== 'bigint' || position.offset < 0n) {
        return Promise.reject(new ReplicaError(ReplicaErrorCode.INVALID_ARGUMENT, `a position is {partition: integer ≥ 0, offset: integer ≥ 0}, not ${JSON.stringify({ partition: position.partition, offset: String(position.offset) })}`))
      }
    }
    if (this.stateValue === 'failed') return Promise.reject(new ReplicaError(ReplicaErrorCode.FAILED, `the replica stopped: ${this.failure?.message}`))
    if (this.stateValue === 'stopped') return Promise.reject(new ReplicaError(ReplicaErrorCode.STOPPED, 'the replica is stopped'))
    if (this.satisfied(positions)) return Promise.resolve()
    if (this.waiters.size >= replicaLimits.maxWaiters) {
      return Promise.reject(new ReplicaError(ReplicaErrorCode.TOO_MANY_WAITERS, `${replicaLimits.maxWaiters} read-your-writes waits are pending; retry later`, {}, true))
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        positions: [...positions],
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter)
          const missing = waiter.positions
            .filter(position => !this.satisfied([position]))
            .map(position => ({ partition: position.partition, offset: String(position.offset), applied: this.applied.has(position.partition) ? String(this.applied.get(position.partition)) : null }))
          reject(new ReplicaError(ReplicaErrorCode.WAIT_TIMEOUT,
            `the replica did not apply ingest ${missing.map(m => `${m.partition}:${m.offset} (applied ${m.applied ?? 'none'})`).join(', ')} within ${timeoutMs} ms`,
            { node: this.options.nodeId, missing }, true))
        }, timeoutMs),
      }
      this.waiters.add(waiter)
    })
  }

  private wakeWaiters(): void {
    for (const waiter of this.waiters) {
      if (!this.satisfied(waiter.positions)) continue
      clearTimeout(waiter.timer)
      this.waiters.delete(waiter)
      waiter.resolve()
    }
  }

  /**
   * The content checksum of every partition with the applied offset it was taken at, and one
   * value over all of them: two replicas at equal offsets report equal values.
   */
  checksum(): ReplicaChecksum {
    const partitions = [...this.parts.values()]
      .sort((a, b) => a.partition - b.partition)
      .map(part => ({ partition: part.partition, appliedOffset: part.store.appliedOffset, checksum: part.store.checksum() }))
    return { checksum: combineChecksums(partitions), partitions }
  }

  /** The stores, by changelog partition, for the query layer (the same map until a store is opened). */
  stores(): ReadonlyMap<number, PartitionStore> {
    this.storesByPartition ??= new Map([...this.parts].map(([partition, part]) => [partition, part.store]))
    return this.storesByPartition
  }

  /** End offsets (high watermarks) of sluice.changelog, by partition. */
  async endOffsets(): Promise<Map<number, bigint>> {
    if (!this.admin) return new Map()
    const offsets = await this.admin.fetchTopicOffsets(CHANGELOG_TOPIC)
    return new Map(offsets.map(o => [o.partition, BigInt(o.high)]))
  }

  /** Stops consuming, flushes every store (a clean stop replays nothing) and closes them. */
  async stop(): Promise<void> {
    if (this.stateValue === 'stopped') return
    const failed = this.stateValue === 'failed'
    this.transition('stopped', 'stop requested')
    this.unsubscribeFeed()
    await this.cancelRestart()
    clearInterval(this.flushTimer)
    for (const waiter of this.waiters) { clearTimeout(waiter.timer); waiter.reject(new ReplicaError(ReplicaErrorCode.STOPPED, 'the replica is stopping')) }
    this.waiters.clear()
    await this.consumer?.disconnect().catch(error => this.log({ event: 'replica_disconnect_failed', error: (error as Error).message }))
    for (const part of this.parts.values()) {
      await this.exclusive(part, async () => {
        if (!failed) await part.store.flush().catch(error => this.log({ event: 'replica_flush_failed', partition: part.partition, error: (error as Error).message }))
        await part.store.close()
      })
    }
    await this.admin?.disconnect().catch(() => {})
    if (this.locked) rmSync(join(this.options.dir, REPLICA_LOCK_FILE), { force: true })
    this.log({ event: 'replica_stopped' })
  }
}
