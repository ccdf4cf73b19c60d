// One partition's log: its segments, the offsets that govern visibility
// (logStart ≤ LSO ≤ HW ≤ LEO, brief §4.1), appends with the idempotence checks (§4.2),
// transaction markers (§4.3), reads of whole stored batches for either isolation level,
// timestamp lookups, retention and DeleteRecords. Records are read from disk on every fetch.
//
// Durability (flush policy): 'always' raises HW only after the group-commit fdatasync covering it;
// 'interval' raises HW at append and fsyncs every flushIntervalMs; 'os' raises HW at append and
// leaves flushing to the OS. In every mode a segment is fsynced when it is sealed (roll, close).

import { mkdirSync } from 'node:fs'
import type { FlushPolicy } from '../config.ts'
import type { Logger } from '../logger.ts'
import { syncDirectory } from '../meta/meta-log.ts'
import { ErrorCode, KafkaError } from '../protocol/errors.ts'
import { BATCH_HEADER_BYTES, buildControlBatch, ControlType, LOG_OVERHEAD_BYTES, stampBatch, type BatchHeader } from '../record/batch.ts'
import type { StoredBatch } from './batch-scan.ts'
import { writeCheckpoint } from './checkpoint.ts'
import type { Flushable, Flusher } from './flusher.ts'
import { MAX_OFFSETS_PER_SEGMENT } from './limits.ts'
import { recoverPartition } from './partition-recovery.ts'
import { lastSequenceOf, type ProducerState } from './producer-state.ts'
import { Segment } from './segment.ts'
import { writeSnapshot } from './snapshot-files.ts'
import type { TopicSettings } from './topic-configs.ts'
import { encodeTxnEntry, type TxnIndex } from './txn-index.ts'

export type { TopicSettings } from './topic-configs.ts'

export interface ReadResult {
  /** Whole stored batches, the first holding the fetch offset (it may start before it); null when none. */
  records: Buffer | null
  /** read_committed: aborted transactions overlapping the returned data, by first offset; read_uncommitted: null. */
  abortedTransactions: Array<{ producerId: bigint; firstOffset: bigint }> | null
  highWatermark: bigint
  lastStableOffset: bigint
  logStartOffset: bigint
}

export interface PartitionLogOptions {
  topic: string
  partition: number
  directory: string
  settings: TopicSettings
  flushPolicy: FlushPolicy
  flusher: Flusher
  producerIdExpirationMs: number
  /** The previous shutdown was clean: trust every segment's index files. */
  clean: boolean
  logger: Logger
  now: () => number
}

export class PartitionLog implements Flushable {
  readonly topic: string
  readonly partition: number
  readonly directory: string
  settings: TopicSettings
  private segments: Segment[]
  private logStart: bigint
  private highWater: bigint
  /** Everything below it is on disk (advanced by flushes and seals; checkpointed). */
  private recoveryPoint: bigint
  private checkpointed = { recoveryPoint: -1n, logStartOffset: -1n }
  private readonly producers: ProducerState
  private readonly aborted: TxnIndex
  private readonly listeners = new Set<() => void>()
  private waiters: Array<{ offsetExclusive: bigint; resolve: () => void; reject: (error: Error) => void }> = []
  private closedFlag = false

  private constructor(private readonly options: PartitionLogOptions) {
    this.topic = options.topic
    this.partition = options.partition
    this.directory = options.directory
    this.settings = options.settings
    mkdirSync(options.directory, { recursive: true })
    const recovered = recoverPartition({ directory: options.directory, clean: options.clean, nowMs: options.now(), logger: options.logger, context: this.context() })
    this.segments = recovered.segments
    this.logStart = recovered.logStartOffset
    this.producers = recovered.producers
    this.aborted = recovered.aborted
    // What survived recovery is on disk (the tail was just fsynced).
    this.highWater = this.logEndOffset
    this.recoveryPoint = this.logEndOffset
    const { report } = recovered
    if (report.scannedSegments > 0 || report.replayedBatches > 0) {
      options.logger.info('partition recovered', { ...this.context(), ...report, logStartOffset: this.logStart, logEndOffset: this.logEndOffset })
    }
    this.checkpoint()
    this.assertInvariants()
  }

  static open(options: PartitionLogOptions): PartitionLog {
    return new PartitionLog(options)
  }

  get logStartOffset(): bigint { return this.logStart }
  get logEndOffset(): bigint { return this.active.nextOffset }
  get highWatermark(): bigint { return this.highWater }
  get lastStableOffset(): bigint {
    const firstOpen = this.producers.firstOpenOffset()
    const bound = firstOpen !== null && firstOpen < this.highWater ? firstOpen : this.highWater
    return bound < this.logStart ? this.logStart : bound
  }
  get closed(): boolean { return this.closedFlag }
  get sizeBytes(): number { return this.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0) }
  get segmentCount(): number { return this.segments.length }
  private get active(): Segment { return this.segments[this.segments.length - 1]! }

  private context(): Record<string, unknown> {
    return { topic: this.topic, partition: this.partition }
  }

  private assertInvariants(): void {
    const lso = this.lastStableOffset
    if (!(this.logStart <= lso && lso <= this.highWater && this.highWater <= this.logEndOffset)) {
      throw new Error(`invariant: logStart ${this.logStart} ≤ LSO ${lso} ≤ HW ${this.highWater} ≤ LEO ${this.logEndOffset} broken in ${this.topic}-${this.partition}`)
    }
  }

  /**
   * Appends a validated produced batch after the §4.2 checks (which throw KafkaError 47, 45, 48).
   * A repeat of one of the producer's last five batches appends nothing and returns the original
   * base offset. The batch's baseOffset and leader epoch are stamped into `records` in place.
   */
  appendProduced(records: Buffer, header: BatchHeader, transactional: boolean): { baseOffset: bigint; duplicate: boolean } {
    this.assertOpen()
    if (records.length !== header.batchLength + LOG_OVERHEAD_BYTES) throw new Error('invariant: records must be exactly the validated batch')
    const lastSeq = lastSequenceOf(header.baseSequence, header.lastOffsetDelta)
    const duplicateOf = this.producers.check(header.producerId, header.producerEpoch, header.baseSequence, lastSeq, transactional)
    if (duplicateOf !== null) return { baseOffset: duplicateOf, duplicate: true }
    const baseOffset = this.logEndOffset
    stampBatch(records, baseOffset)
    this.appendBatch(records)
    return { baseOffset, duplicate: false }
  }

  /** Appends a COMMIT or ABORT marker for `producerId`; returns its offset. */
  appendMarker(producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number): bigint {
    this.assertOpen()
    const offset = this.logEndOffset
    const type = commit ? ControlType.COMMIT : ControlType.ABORT
    this.appendBatch(buildControlBatch({ baseOffset: offset, producerId, producerEpoch, type, coordinatorEpoch, timestampMs: BigInt(this.options.now()) }))
    // The closed transaction may have held the LSO back; fetches waiting on it must look again.
    this.notify()
    return offset
  }

  private appendBatch(batch: Buffer): void {
    const nowMs = this.options.now()
    this.maybeRoll(batch.length, BigInt(batch.readInt32BE(23)) + 1n, nowMs)
    const segment = this.active
    let stored: StoredBatch
    try {
      stored = segment.append(batch)
    } catch (error) {
      this.options.logger.error('log append failed', { ...this.context(), error: (error as Error).message })
      throw new KafkaError(ErrorCode.UNKNOWN_SERVER_ERROR, `storage write failed: ${(error as Error).message}`)
    }
    const completed = this.producers.record(stored, nowMs)
    if (completed?.aborted) {
      this.aborted.add(completed)
      segment.appendTxnEntry(encodeTxnEntry(completed))
    }
    if (this.options.flushPolicy !== 'always') this.publish(this.logEndOffset)
    this.options.flusher.markDirty(this)
  }

  private maybeRoll(incomingBytes: number, incomingOffsets: bigint, nowMs: number): void {
    const active = this.active
    if (active.isEmpty) return
    const full = active.sizeBytes + incomingBytes > this.settings.segmentBytes
    const old = nowMs - active.createdAtMs >= this.settings.segmentMs
    const offsetsExhausted = active.nextOffset + incomingOffsets - active.baseOffset > MAX_OFFSETS_PER_SEGMENT
    if (full || old || offsetsExhausted) this.roll(nowMs)
  }

  /** Seals the active segment (fsync + index files) and starts a new one at the log end. */
  private roll(nowMs: number): void {
    const sealed = this.active
    sealed.seal()
    this.onFlushed(sealed.nextOffset)
    this.segments.push(Segment.create(this.directory, sealed.nextOffset, nowMs))
    syncDirectory(this.directory)
    writeSnapshot(this.directory, this.producers, sealed.nextOffset)
    this.checkpoint()
    this.options.logger.debug('segment rolled', { ...this.context(), baseOffset: sealed.nextOffset })
  }

  flushTarget(): { fd: number; offsetExclusive: bigint } | null {
    if (this.closedFlag) return null
    return { fd: this.active.fileDescriptor, offsetExclusive: this.logEndOffset }
  }

  /** A flush failure is harmless when the partition is gone or a seal already synced that range. */
  flushFailureIsHarmless(offsetExclusive: bigint): boolean {
    return this.closedFlag || offsetExclusive <= this.recoveryPoint
  }

  onFlushed(offsetExclusive: bigint): void {
    if (offsetExclusive > this.recoveryPoint) this.recoveryPoint = offsetExclusive
    if (this.options.flushPolicy === 'always') this.publish(offsetExclusive)
  }

  /** Raises the high watermark, releases acks waiting for it and wakes fetches. */
  private publish(offsetExclusive: bigint): void {
    if (offsetExclusive <= this.highWater) return
    if (offsetExclusive > this.logEndOffset) throw new Error(`invariant: HW ${offsetExclusive} beyond LEO ${this.logEndOffset}`)
    this.highWater = offsetExclusive
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter(waiter => waiter.offsetExclusive <= offsetExclusive)
      this.waiters = this.waiters.filter(waiter => waiter.offsetExclusive > offsetExclusive)
      for (const waiter of ready) waiter.resolve()
    }
    this.notify()
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener()
  }

  /** Resolves once HW ≥ `offsetExclusive`, i.e. the records below it are durable per the flush policy. */
  waitDurable(offsetExclusive: bigint): Promise<void> {
    if (this.highWater >= offsetExclusive) return Promise.resolve()
    if (this.closedFlag) return Promise.reject(new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${this.topic}-${this.partition} was deleted`))
    if (offsetExclusive > this.logEndOffset) throw new Error(`invariant: waiting for ${offsetExclusive} beyond LEO ${this.logEndOffset}`)
    return new Promise((resolve, reject) => this.waiters.push({ offsetExclusive, resolve, reject }))
  }

  /** Calls `listener` whenever HW, LSO or the log start may have moved; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  hasOpenTransaction(producerId: bigint): boolean {
    return this.producers.hasOpenTransaction(producerId)
  }

  /**
   * Whole stored batches from the one holding `fetchOffset`, below HW (isolation 0) or LSO (1), up
   * to `maxBytes` but always at least one batch (KIP-74). Throws OFFSET_OUT_OF_RANGE outside
   * [logStart, LEO]; an offset in [upper bound, LEO] returns no records.
   */
  read(fetchOffset: bigint, maxBytes: number, isolationLevel: 0 | 1): ReadResult {
    this.assertOpen()
    if (fetchOffset < this.logStart || fetchOffset > this.logEndOffset) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `offset ${fetchOffset} outside [${this.logStart}, ${this.logEndOffset}] of ${this.topic}-${this.partition}`)
    }
    const highWatermark = this.highWater
    const lastStableOffset = this.lastStableOffset
    const upper = isolationLevel === 1 ? lastStableOffset : highWatermark
    const offsets = { highWatermark, lastStableOffset, logStartOffset: this.logStart }
    const records = fetchOffset < upper ? this.readRecords(fetchOffset, upper, maxBytes) : null
    if (isolationLevel === 0) return { ...offsets, records, abortedTransactions: null }
    const abortedTransactions = records ? this.aborted.collect(fetchOffset, lastOffsetIn(records) + 1n) : []
    return { ...offsets, records, abortedTransactions }
  }

  private readRecords(fetchOffset: bigint, upperExclusive: bigint, maxBytes: number): Buffer | null {
    for (let i = this.segmentIndexFor(fetchOffset); i < this.segments.length; i++) {
      const segment = this.segments[i]!
      const first = segment.findBatch(fetchOffset)
      if (first) return segment.readFrom(first, upperExclusive, maxBytes)
    }
    return null
  }

  /** Index of the last segment whose base offset is ≤ `offset` (0 if none). */
  private segmentIndexFor(offset: bigint): number {
    let low = 0
    let high = this.segments.length - 1
    let found = 0
    while (low <= high) {
      const middle = (low + high) >> 1
      if (this.segments[middle]!.baseOffset <= offset) { found = middle; low = middle + 1 } else high = middle - 1
    }
    return found
  }

  /**
   * ListOffsets by time: the first batch whose maxTimestamp is ≥ `timestampMs` (its base offset,
   * raised to the log start), if it lies below HW (or LSO for isolation level 1); else null.
   */
  offsetForTimestamp(timestampMs: bigint, isolationLevel: 0 | 1 = 0): { offset: bigint; timestamp: bigint } | null {
    this.assertOpen()
    const upper = isolationLevel === 1 ? this.lastStableOffset : this.highWater
    for (const segment of this.segments) {
      if (segment.nextOffset <= this.logStart || segment.maxTimestamp < timestampMs) continue
      const found = segment.findBatchByTimestamp(timestampMs, this.logStart)
      if (!found) continue
      if (found.baseOffset >= upper) return null
      return { offset: found.baseOffset < this.logStart ? this.logStart : found.baseOffset, timestamp: found.maxTimestamp }
    }
    return null
  }

  /** DeleteRecords: raises the log start offset (-1 means HW), durably; returns the new log start. */
  deleteRecordsBefore(offset: bigint): bigint {
    this.assertOpen()
    const target = offset === -1n ? this.highWater : offset
    if (target < 0n || target > this.highWater) {
      throw new KafkaError(ErrorCode.OFFSET_OUT_OF_RANGE, `cannot delete below ${offset}: the high watermark of ${this.topic}-${this.partition} is ${this.highWater}`)
    }
    if (target <= this.logStart) return this.logStart
    this.logStart = target
    let removed = 0
    while (this.segments.length > 1 && this.segments[0]!.nextOffset <= target) {
      this.segments.shift()!.delete()
      removed++
    }
    this.aborted.dropBefore(this.logStart)
    this.checkpoint()
    this.assertInvariants()
    this.options.logger.info('records deleted', { ...this.context(), logStartOffset: this.logStart, segmentsRemoved: removed })
    // A fetch waiting below the new start is out of range now, and the LSO is at least the start.
    this.notify()
    return this.logStart
  }

  /** Deletes whole non-active segments past retention.ms or beyond retention.bytes; returns how many. */
  applyRetention(nowMs: number): number {
    const { retentionMs, retentionBytes, retentionDeletes } = this.settings
    if (this.closedFlag || !retentionDeletes) return 0
    let totalBytes = this.sizeBytes
    let removed = 0
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!
      const expired = retentionMs >= 0 && oldest.maxTimestamp >= 0n && BigInt(nowMs) - oldest.maxTimestamp > BigInt(retentionMs)
      const oversize = retentionBytes >= 0 && totalBytes - oldest.sizeBytes >= retentionBytes
      if (!(expired || oversize) || oldest.nextOffset > this.highWater) break
      this.segments.shift()
      oldest.delete()
      totalBytes -= oldest.sizeBytes
      removed++
      if (this.segments[0]!.baseOffset > this.logStart) this.logStart = this.segments[0]!.baseOffset
    }
    if (removed === 0) return 0
    this.aborted.dropBefore(this.logStart)
    this.checkpoint()
    this.assertInvariants()
    this.options.logger.info('retention removed segments', { ...this.context(), segments: removed, logStartOffset: this.logStart })
    this.notify()
    return removed
  }

  /** Forgets idle producers (producer.id.expiration.ms); returns how many. */
  expireProducers(nowMs: number): number {
    return this.producers.expire(nowMs, this.options.producerIdExpirationMs)
  }

  /** Persists the recovery point and log start if either moved since the last checkpoint. */
  checkpoint(): void {
    if (this.closedFlag) return
    if (this.checkpointed.recoveryPoint === this.recoveryPoint && this.checkpointed.logStartOffset === this.logStart) return
    const next = { recoveryPoint: this.recoveryPoint, logStartOffset: this.logStart }
    writeCheckpoint(this.directory, next)
    this.checkpointed = next
  }

  private assertOpen(): void {
    if (this.closedFlag) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${this.topic}-${this.partition} is closed`)
  }

  /**
   * Clean shutdown (after the flusher drained): seals the active segment, writes a producer
   * snapshot at the log end and the checkpoint, and closes every file.
   */
  close(): void {
    if (this.closedFlag) return
    const active = this.active
    active.seal()
    this.onFlushed(active.nextOffset)
    writeSnapshot(this.directory, this.producers, active.nextOffset)
    this.checkpoint()
    this.closedFlag = true
    for (const segment of this.segments) segment.close()
    this.releaseWaiters()
  }

  /** Topic deletion: closes the files (the caller removes the directory); pending acks fail. */
  destroy(): void {
    if (this.closedFlag) return
    this.closedFlag = true
    for (const segment of this.segments) segment.close()
    this.releaseWaiters()
  }

  private releaseWaiters(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const waiter of waiters) {
      if (waiter.offsetExclusive <= this.highWater) waiter.resolve()
      else waiter.reject(new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${this.topic}-${this.partition} was closed`))
    }
    this.notify()
    this.listeners.clear()
  }
}

/** Last offset of the last batch in a buffer of whole batches. */
function lastOffsetIn(records: Buffer): bigint {
  let at = 0
  let last = -1n
  while (at + BATCH_HEADER_BYTES <= records.length) {
    last = records.readBigInt64BE(at) + BigInt(records.readInt32BE(at + 23))
    at += records.readInt32BE(at + 8) + LOG_OVERHEAD_BYTES
  }
  return last
}

