// The transaction coordinator (brief §4.3): one state machine per transactional id, persisted in
// meta/txn.log (fdatasynced before any answer), with markers written synchronously before EndTxn is
// answered (brief §0.6), fencing of zombie producers, timeouts, expiry and crash recovery.
//
// Commit order (brief §6.3): txn.log Prepare* (fsync) → a marker in every partition of the txn
// (durable) → the groups' pending offsets applied or dropped → txn.log Complete* (fsync) → answer.
// A crash anywhere after Prepare* is finished by open(); a duplicate marker is harmless.
//
// Durability without blocking the event loop: a transition changes the in-memory state at once and
// queues its record in txn.log's group commit (MetaLog.appendQueued: one write and one fdatasync on
// the thread pool for every record of an event-loop turn, in append order). Every answer of the
// coordinator's APIs waits for txn.log to be durable up to that point (answer()), so no client hears
// of a state that a crash could still undo. The produce and TxnOffsetCommit checks run synchronously
// and accept only what both the latest and the durable state (durableTxns) accept.

import { join } from 'node:path'
import type { BrokerConfig } from '../config.ts'
import type { Logger } from '../logger.ts'
import { MetaLog } from '../meta/meta-log.ts'
import { ErrorCode } from '../protocol/errors.ts'
import {
  COORDINATOR_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, PRODUCER_EPOCH_EXHAUSTED, PRODUCER_EPOCH_MAX,
  TXN_LOG_COMPACT_GROWTH_FACTOR, TXN_LOG_COMPACT_MIN_BYTES,
} from './limits.ts'
import { ProducerIdManager } from './pid-manager.ts'
import {
  NO_TXN_START_MS, TxnState, canTransition, containsAll, fromRecord, isIdle, isPrepare, partitionList, toRecord,
  withPartitions, type TxnMetadata, type TxnRecord,
} from './state.ts'

/** Appends a control batch to every listed partition and resolves once all are durable (LogManager). */
export interface MarkerWriter {
  writeMarkers(partitions: ReadonlyArray<{ topic: string; partition: number }>, producerId: bigint, producerEpoch: number, commit: boolean, coordinatorEpoch: number): Promise<void>
}

/** Applies (commit) or drops (abort) a group's pending TxnOffsetCommit offsets of a producer (GroupCoordinator). */
export interface TxnOffsetSink {
  /** Resolves once the outcome is durable (before Complete* is written). */
  completeTxnOffsets(groupId: string, producerId: bigint, commit: boolean): Promise<void> | void
}

export interface TxnCoordinatorOptions {
  config: BrokerConfig
  logger: Logger
  markers: MarkerWriter
  offsets: TxnOffsetSink
  /** Milliseconds since the epoch; a seam so tests can move time. */
  now?: () => number
}

export interface InitProducerIdResult { errorCode: number; producerId: bigint; producerEpoch: number }
export interface TopicPartition { topic: string; partition: number }
export interface PartitionResult extends TopicPartition { errorCode: number }

export interface TxnDescription {
  transactionalId: string
  producerId: bigint
  producerEpoch: number
  state: TxnState
  timeoutMs: number
  partitions: TopicPartition[]
  groups: string[]
  txnStartMs: number
  lastUpdateMs: number
}

const { Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, PrepareEpochFence, Dead } = TxnState
const noPartitions: ReadonlyMap<string, ReadonlySet<number>> = new Map()
const noGroups: ReadonlySet<string> = new Set()
/** Fields reset when a transaction completes or a producer (re)initialises. */
const noTxn = { partitions: noPartitions, groups: noGroups, txnStartMs: NO_TXN_START_MS } as const

/** AddPartitionsToTxn, AddOffsetsToTxn and EndTxn answer PRODUCER_FENCED from v2; older versions get 47. */
const PRODUCER_FENCED_FROM_VERSION = 2
const fencedCode = (apiVersion: number): number =>
  apiVersion >= PRODUCER_FENCED_FROM_VERSION ? ErrorCode.PRODUCER_FENCED : ErrorCode.INVALID_PRODUCER_EPOCH

const refused = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: NO_PRODUCER_ID, producerEpoch: NO_PRODUCER_EPOCH })
const granted = (meta: { producerId: bigint; producerEpoch: number }): InitProducerIdResult =>
  ({ errorCode: ErrorCode.NONE, producerId: meta.producerId, producerEpoch: meta.producerEpoch })

type Changes = Partial<Omit<TxnMetadata, 'transactionalId' | 'state' | 'lastUpdateMs'>>

export class TxnCoordinator {
  private readonly txns = new Map<string, TxnMetadata>()
  /** The state each transactional id has in txn.log as far as it is durable (txns may be ahead). */
  private readonly durableTxns = new Map<string, TxnMetadata>()
  /** Marker writing in flight per transactional id (only ever for a Prepare* state). */
  private readonly completions = new Map<string, Promise<void>>()
  private readonly now: () => number
  private timer: NodeJS.Timeout | undefined
  private checking: Promise<void> | undefined
  private compactedBytes = 0
  private closed = false
  private logFailureReported = false

  private constructor(
    private readonly config: BrokerConfig,
    private readonly logger: Logger,
    private readonly markers: MarkerWriter,
    private readonly offsets: TxnOffsetSink,
    private readonly log: MetaLog<TxnRecord>,
    private readonly pids: ProducerIdManager,
    now: () => number,
  ) {
    this.now = now
  }

  /** Replays txn.log, finishes every Prepare* transaction, then starts the timeout checks. */
  static async open(options: TxnCoordinatorOptions): Promise<TxnCoordinator> {
    const { config, logger, markers, offsets } = options
    const metaDir = join(config.dataDir, 'meta')
    const pids = ProducerIdManager.open(join(metaDir, 'pid.log'), logger)
    const { log, records, truncatedBytes } = MetaLog.open<TxnRecord>(join(metaDir, 'txn.log'))
    if (truncatedBytes > 0) logger.warn('txn log torn tail cut', { truncatedBytes })
    const coordinator = new TxnCoordinator(config, logger, markers, offsets, log, pids, options.now ?? Date.now)
    coordinator.replay(records)
    await coordinator.recover()
    coordinator.compactIfLarge()
    coordinator.timer = setInterval(() => coordinator.runTimerChecks(), config.transactionAbortCheckIntervalMs)
    coordinator.timer.unref()
    return coordinator
  }

  /**
   * InitProducerId. A null id is an idempotent-only producer. An Ongoing transaction of the same
   * id is aborted synchronously with a bumped epoch (fencing its producer), and that epoch is
   * returned directly instead of Kafka's CONCURRENT_TRANSACTIONS-then-retry. Versions 0-1 carry no
   * expected producer id, so nothing here depends on apiVersion.
   */
  async initProducerId(transactionalId: string | null, transactionTimeoutMs: number, apiVersion: number): Promise<InitProducerIdResult> {
    if (transactionalId === null) return granted({ producerId: this.pids.next(), producerEpoch: 0 })
    return this.answer(await this.initTransactional(transactionalId, transactionTimeoutMs, apiVersion))
  }

  private async initTransactional(transactionalId: string, transactionTimeoutMs: number, apiVersion: number): Promise<InitProducerIdResult> {
    if (transactionalId === '') return refused(ErrorCode.INVALID_REQUEST)
    if (!(transactionTimeoutMs > 0 && transactionTimeoutMs <= this.config.transactionMaxTimeoutMs)) return refused(ErrorCode.INVALID_TRANSACTION_TIMEOUT)
    const current = this.txns.get(transactionalId)
    if (!current) return granted(this.create(transactionalId, transactionTimeoutMs))
    if (current.state === Ongoing) return this.fenceForNewProducer(current, transactionTimeoutMs, apiVersion)
    if (!isIdle(current.state)) return refused(ErrorCode.CONCURRENT_TRANSACTIONS)
    const exhausted = current.producerEpoch >= PRODUCER_EPOCH_EXHAUSTED
    const producer = exhausted ? { producerId: this.pids.next(), producerEpoch: 0 } : { producerEpoch: current.producerEpoch + 1 }
    const reason = exhausted ? 'InitProducerId: epoch exhausted, new producer id' : 'InitProducerId: epoch bumped'
    return granted(this.transition(current, Empty, { ...producer, ...noTxn, timeoutMs: transactionTimeoutMs }, reason))
  }

  /**
   * AddPartitionsToTxn. Like Kafka's KafkaApis, unknown partitions are answered first: 3 for each of
   * them and 55 for the rest, and nothing is added. Then the producer and state checks, then the add.
   */
  addPartitions(
    transactionalId: string, producerId: bigint, producerEpoch: number, partitions: ReadonlyArray<TopicPartition>,
    partitionExists: (topic: string, partition: number) => boolean, apiVersion: number,
  ): Promise<PartitionResult[]> {
    if (partitions.length === 0) return Promise.resolve([])
    const exists = partitions.map(({ topic, partition }) => partitionExists(topic, partition))
    if (exists.includes(false)) {
      return Promise.resolve(partitions.map(({ topic, partition }, i) =>
        ({ topic, partition, errorCode: exists[i] ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION })))
    }
    const errorCode = this.addToTxn(transactionalId, producerId, producerEpoch, apiVersion, 'AddPartitionsToTxn',
      current => containsAll(current.partitions, partitions),
      current => ({ partitions: withPartitions(current.partitions, partitions) }))
    return this.answer(partitions.map(({ topic, partition }) => ({ topic, partition, errorCode })))
  }

  /** AddOffsetsToTxn: the group's TxnOffsetCommits become part of the transaction. */
  addOffsets(transactionalId: string, producerId: bigint, producerEpoch: number, groupId: string, apiVersion: number): Promise<number> {
    return this.answer(this.addToTxn(transactionalId, producerId, producerEpoch, apiVersion, 'AddOffsetsToTxn',
      current => current.groups.has(groupId),
      current => ({ groups: new Set([...current.groups, groupId]) })))
  }

  /**
   * EndTxn. Resolves only after the markers are durable and the offsets applied, so a client never
   * sees CONCURRENT_TRANSACTIONS here on the normal path. If marker writing fails after the durable
   * Prepare* decision, the answer is still NONE (as in Kafka, the decision stands) and the periodic
   * check retries the markers.
   */
  async endTxn(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean, apiVersion: number): Promise<number> {
    return this.answer(await this.endTxnState(transactionalId, producerId, producerEpoch, commit, apiVersion))
  }

  private async endTxnState(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean, apiVersion: number): Promise<number> {
    const current = this.txns.get(transactionalId)
    if (!current || current.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if (current.producerEpoch !== producerEpoch) return fencedCode(apiVersion)
    switch (current.state) {
      case Ongoing: {
        const prepared = this.transition(current, commit ? PrepareCommit : PrepareAbort, {}, 'EndTxn')
        // The decision stands only once Prepare* is durable; a failure here is the request's error.
        await this.log.flushed()
        await this.complete(prepared).catch(error => this.completionFailed(prepared, error))
        return ErrorCode.NONE
      }
      case CompleteCommit: return commit ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE
      case CompleteAbort: return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.NONE
      case PrepareCommit: return commit ? ErrorCode.CONCURRENT_TRANSACTIONS : ErrorCode.INVALID_TXN_STATE
      case PrepareAbort: return commit ? ErrorCode.INVALID_TXN_STATE : ErrorCode.CONCURRENT_TRANSACTIONS
      case PrepareEpochFence: return ErrorCode.CONCURRENT_TRANSACTIONS
      case Empty:
      case Dead: return ErrorCode.INVALID_TXN_STATE
    }
  }

  /**
   * Produce-path check for a transactional batch (hot path: two map lookups). The producer must be
   * the current one of its transactional id and the partition part of its Ongoing transaction.
   * A transactional batch without a transactional id is INVALID_RECORD, as in Kafka's ProduceRequest.
   */
  checkProduce(transactionalId: string | null, producerId: bigint, producerEpoch: number, topic: string, partition: number): number {
    if (transactionalId === null) return ErrorCode.INVALID_RECORD
    const current = this.txns.get(transactionalId)
    const code = produceCode(current, producerId, producerEpoch, topic, partition)
    const durable = this.durableTxns.get(transactionalId)
    return code !== ErrorCode.NONE || durable === current ? code : produceCode(durable, producerId, producerEpoch, topic, partition)
  }

  /** TxnOffsetCommit check, called by the group coordinator before it stores pending offsets. */
  checkTxnOffsetCommit(transactionalId: string, producerId: bigint, producerEpoch: number, groupId: string): number {
    const current = this.txns.get(transactionalId)
    const code = txnOffsetCommitCode(current, producerId, producerEpoch, groupId)
    const durable = this.durableTxns.get(transactionalId)
    return code !== ErrorCode.NONE || durable === current ? code : txnOffsetCommitCode(durable, producerId, producerEpoch, groupId)
  }

  /**
   * The periodic check (also callable by tests): aborts and fences Ongoing transactions past their
   * timeout, retries markers of Prepare* transactions whose completion failed, and expires ids
   * idle past transactionalIdExpirationMs. Concurrent calls share one run.
   */
  checkTimeouts(): Promise<void> {
    this.checking ??= this.runChecks().finally(() => { this.checking = undefined })
    return this.checking
  }

  describe(transactionalId: string): TxnDescription | undefined {
    const meta = this.txns.get(transactionalId)
    return meta && describeMeta(meta)
  }

  describeAll(): TxnDescription[] {
    return [...this.txns.values()].map(describeMeta)
  }

  /** Stops the timer, lets in-flight marker writing finish, closes txn.log and pid.log. */
  async close(): Promise<void> {
    if (this.closed) return
    if (this.timer) clearInterval(this.timer)
    await this.checking?.catch(() => undefined)
    await Promise.allSettled([...this.completions.values()])
    this.closed = true
    await this.log.closeWhenFlushed()
    this.pids.close()
    this.logger.info('txn coordinator closed', { transactionalIds: this.txns.size })
  }

  // --- state machine --------------------------------------------------------------------------

  /**
   * The one guarded way to change a transactional id's state: checks the transition table, makes
   * it durable (except the transient PrepareEpochFence), then applies it in memory and logs it.
   */
  private transition(current: TxnMetadata, to: TxnState, changes: Changes, reason: string): TxnMetadata {
    const { transactionalId } = current
    if (this.closed) throw new Error(`txn coordinator closed: cannot move ${transactionalId} to ${to}`)
    if (this.txns.get(transactionalId) !== current) throw new Error(`txn ${transactionalId}: stale metadata for transition to ${to}`)
    if (!canTransition(current.state, to)) throw new Error(`txn ${transactionalId}: illegal transition ${current.state} → ${to}`)
    const next: TxnMetadata = { ...current, ...changes, state: to, lastUpdateMs: this.now() }
    if (to === Ongoing && next.txnStartMs === NO_TXN_START_MS) throw new Error(`txn ${transactionalId}: Ongoing without a start time`)
    if (to !== PrepareEpochFence) this.persist(next)
    if (to === Dead) this.txns.delete(transactionalId)
    else this.txns.set(transactionalId, next)
    const level = to === PrepareEpochFence || to === Dead ? 'info' : 'debug'
    this.logger[level]('txn transition', {
      transactionalId, from: current.state, to, reason, producerId: next.producerId, producerEpoch: next.producerEpoch,
    })
    if (to !== PrepareEpochFence) this.compactIfLarge()
    return next
  }

  /**
   * Queues the record of a state in txn.log (throws at once if the log is closed or failed, before
   * anything changes in memory); durableTxns follows once it is on disk, in append order.
   */
  private persist(meta: TxnMetadata): void {
    this.log.appendQueued(toRecord(meta)).then(
      () => {
        if (meta.state === Dead) this.durableTxns.delete(meta.transactionalId)
        else this.durableTxns.set(meta.transactionalId, meta)
      },
      (error: unknown) => {
        if (this.logFailureReported) return
        this.logFailureReported = true
        this.logger.error('txn log write failed; transaction state changes refused until restart', { error: (error as Error).message })
      },
    )
  }

  /** Holds a result of the coordinator's APIs until txn.log is durable up to now (this request's changes included). */
  private async answer<R>(result: R): Promise<R> {
    await this.log.flushed()
    return result
  }

  /** A transactional id seen for the first time: a new producer id, epoch 0, state Empty. */
  private create(transactionalId: string, timeoutMs: number): TxnMetadata {
    if (this.closed) throw new Error(`txn coordinator closed: cannot create ${transactionalId}`)
    const meta: TxnMetadata = {
      transactionalId, producerId: this.pids.next(), producerEpoch: 0, state: Empty, timeoutMs, ...noTxn, lastUpdateMs: this.now(),
    }
    this.persist(meta)
    this.txns.set(transactionalId, meta)
    this.logger.debug('txn transition', { transactionalId, from: null, to: Empty, reason: 'InitProducerId: new transactional id', producerId: meta.producerId, producerEpoch: 0 })
    this.compactIfLarge()
    return meta
  }

  /** AddPartitionsToTxn / AddOffsetsToTxn: shared producer and state checks, then → Ongoing. */
  private addToTxn(
    transactionalId: string, producerId: bigint, producerEpoch: number, apiVersion: number, reason: string,
    alreadyAdded: (current: TxnMetadata) => boolean, add: (current: TxnMetadata) => Changes,
  ): number {
    const current = this.txns.get(transactionalId)
    if (!current || current.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
    if (current.producerEpoch !== producerEpoch) return fencedCode(apiVersion)
    if (current.state !== Ongoing && !isIdle(current.state)) return ErrorCode.CONCURRENT_TRANSACTIONS
    if (current.state === Ongoing && alreadyAdded(current)) return ErrorCode.NONE
    const txnStartMs = current.state === Ongoing ? current.txnStartMs : this.now()
    this.transition(current, Ongoing, { ...add(current), txnStartMs }, reason)
    return ErrorCode.NONE
  }

  /** InitProducerId while Ongoing: fence and abort now, then hand the bumped epoch to the caller. */
  private async fenceForNewProducer(current: TxnMetadata, timeoutMs: number, apiVersion: number): Promise<InitProducerIdResult> {
    try {
      await this.fence(current, 'InitProducerId while Ongoing')
    } catch (error) {
      this.logger.warn('txn fence incomplete; answering CONCURRENT_TRANSACTIONS', { transactionalId: current.transactionalId, apiVersion, error: (error as Error).message })
      return refused(ErrorCode.CONCURRENT_TRANSACTIONS)
    }
    const aborted = this.txns.get(current.transactionalId)
    if (!aborted || aborted.state !== CompleteAbort || aborted.producerId !== current.producerId) return refused(ErrorCode.CONCURRENT_TRANSACTIONS)
    // The fence already bumped the epoch once; only the value reserved for fencing is not handed out.
    const exhausted = aborted.producerEpoch > PRODUCER_EPOCH_EXHAUSTED
    const producer = exhausted ? { producerId: this.pids.next(), producerEpoch: 0 } : {}
    return granted(this.transition(aborted, Empty, { ...producer, ...noTxn, timeoutMs }, 'InitProducerId: fenced previous producer'))
  }

  /**
   * Ongoing → PrepareEpochFence (epoch + 1) → PrepareAbort (durable) → markers → CompleteAbort. The
   * old producer's next request then carries a stale epoch and gets 47; the abort markers carry the
   * bumped epoch so the partitions fence it too.
   */
  private async fence(current: TxnMetadata, reason: string): Promise<void> {
    if (current.producerEpoch >= PRODUCER_EPOCH_MAX) throw new Error(`txn ${current.transactionalId}: epoch ${current.producerEpoch} cannot be fenced`)
    const fencing = this.transition(current, PrepareEpochFence, { producerEpoch: current.producerEpoch + 1 }, reason)
    let aborting: TxnMetadata
    try {
      aborting = this.transition(fencing, PrepareAbort, {}, reason)
    } catch (error) {
      // Nothing durable changed: undo the in-memory fence so the transaction is Ongoing as before.
      this.txns.set(current.transactionalId, current)
      this.logger.error('txn fence not persisted; undone', { transactionalId: current.transactionalId, error: (error as Error).message })
      throw error
    }
    await this.complete(aborting)
  }

  /** Writes the outcome of a Prepare* transaction (once at a time per id) and moves it to Complete*. */
  private complete(prepared: TxnMetadata): Promise<void> {
    const running = this.completions.get(prepared.transactionalId)
    if (running) return running
    const completion = this.writeOutcome(prepared).finally(() => this.completions.delete(prepared.transactionalId))
    this.completions.set(prepared.transactionalId, completion)
    return completion
  }

  private async writeOutcome(prepared: TxnMetadata): Promise<void> {
    if (!isPrepare(prepared.state)) throw new Error(`txn ${prepared.transactionalId}: cannot complete from ${prepared.state}`)
    const commit = prepared.state === PrepareCommit
    const partitions = partitionList(prepared.partitions)
    await this.log.flushed()
    if (partitions.length > 0) await this.markers.writeMarkers(partitions, prepared.producerId, prepared.producerEpoch, commit, COORDINATOR_EPOCH)
    await Promise.all([...prepared.groups].map(groupId => this.offsets.completeTxnOffsets(groupId, prepared.producerId, commit)))
    this.transition(prepared, commit ? CompleteCommit : CompleteAbort, noTxn, `${partitions.length} markers written, ${prepared.groups.size} groups completed`)
    await this.log.flushed()
  }

  private completionFailed(prepared: TxnMetadata, error: unknown): void {
    this.logger.error('txn markers failed; retried by the next check', {
      transactionalId: prepared.transactionalId, state: prepared.state, producerId: prepared.producerId, error: (error as Error).message,
    })
  }

  // --- timers, recovery, compaction ------------------------------------------------------------

  private runTimerChecks(): void {
    this.checkTimeouts().catch(error => this.logger.error('txn check failed', { error: (error as Error).message }))
  }

  private async runChecks(): Promise<void> {
    if (this.closed) return
    const nowMs = this.now()
    const work: Array<Promise<void>> = []
    for (const meta of [...this.txns.values()]) {
      const { transactionalId } = meta
      if (meta.state === Ongoing && nowMs - meta.txnStartMs > meta.timeoutMs) {
        this.logger.info('txn timed out; aborting and fencing', { transactionalId, producerId: meta.producerId, producerEpoch: meta.producerEpoch, timeoutMs: meta.timeoutMs })
        work.push(this.fence(meta, 'transaction timed out').catch(error => this.completionFailed(meta, error)))
      } else if (isPrepare(meta.state) && !this.completions.has(transactionalId)) {
        work.push(this.complete(meta).catch(error => this.completionFailed(meta, error)))
      } else if (isIdle(meta.state) && nowMs - meta.lastUpdateMs > this.config.transactionalIdExpirationMs) {
        this.transition(meta, Dead, {}, 'transactional id expired')
      }
    }
    await Promise.all(work)
    await this.log.flushed()
  }

  private replay(records: ReadonlyArray<TxnRecord>): void {
    for (const record of records) {
      const meta = fromRecord(record)
      if (meta.state === Dead) this.txns.delete(meta.transactionalId)
      else this.txns.set(meta.transactionalId, meta)
    }
    for (const [transactionalId, meta] of this.txns) this.durableTxns.set(transactionalId, meta)
    // Zero, so that open() compacts a log that has grown past the minimum since the last run.
    this.compactedBytes = 0
    this.logger.info('txn log replayed', { records: records.length, transactionalIds: this.txns.size })
  }

  /** Prepare* without Complete*: the decision was durable, so write the markers again and complete. */
  private async recover(): Promise<void> {
    for (const meta of [...this.txns.values()]) {
      if (!isPrepare(meta.state)) continue
      this.logger.info('txn recovery: completing', { transactionalId: meta.transactionalId, state: meta.state, producerId: meta.producerId, producerEpoch: meta.producerEpoch })
      await this.complete(meta)
    }
  }

  private compactIfLarge(): void {
    const bytes = this.log.bytes
    if (bytes < TXN_LOG_COMPACT_MIN_BYTES || bytes < this.compactedBytes * TXN_LOG_COMPACT_GROWTH_FACTOR) return
    this.log.rewriteQueued([...this.txns.values()].map(toRecord))
      .catch((error: unknown) => this.logger.error('txn log compaction failed', { error: (error as Error).message }))
    this.compactedBytes = this.log.bytes
    this.logger.info('txn log compacted', { fromBytes: bytes, toBytes: this.compactedBytes, transactionalIds: this.txns.size })
  }
}

function produceCode(meta: TxnMetadata | undefined, producerId: bigint, producerEpoch: number, topic: string, partition: number): number {
  if (!meta || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
  if (meta.producerEpoch !== producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH
  if (meta.state !== Ongoing || meta.partitions.get(topic)?.has(partition) !== true) return ErrorCode.INVALID_TXN_STATE
  return ErrorCode.NONE
}

function txnOffsetCommitCode(meta: TxnMetadata | undefined, producerId: bigint, producerEpoch: number, groupId: string): number {
  if (!meta || meta.producerId !== producerId) return ErrorCode.INVALID_PRODUCER_ID_MAPPING
  if (meta.producerEpoch !== producerEpoch) return ErrorCode.INVALID_PRODUCER_EPOCH
  if (meta.state !== Ongoing || !meta.groups.has(groupId)) return ErrorCode.INVALID_TXN_STATE
  return ErrorCode.NONE
}

function describeMeta(meta: TxnMetadata): TxnDescription {
  return {
    transactionalId: meta.transactionalId,
    producerId: meta.producerId,
    producerEpoch: meta.producerEpoch,
    state: meta.state,
    timeoutMs: meta.timeoutMs,
    partitions: partitionList(meta.partitions),
    groups: [...meta.groups],
    txnStartMs: meta.txnStartMs,
    lastUpdateMs: meta.lastUpdateMs,
  }
}
