// The transaction state machine of brief §4.3 (Kafka's TransactionMetadata.scala 3.7.0): the states,
// the transition table, the metadata kept per transactional id, and its txn.log record format.

export const TxnState = {
  Empty: 'Empty',
  Ongoing: 'Ongoing',
  PrepareCommit: 'PrepareCommit',
  PrepareAbort: 'PrepareAbort',
  CompleteCommit: 'CompleteCommit',
  CompleteAbort: 'CompleteAbort',
  /** Transient: an Ongoing txn whose producer is being fenced; never written to txn.log. */
  PrepareEpochFence: 'PrepareEpochFence',
  /** Expired: written to txn.log as a tombstone and dropped from memory. */
  Dead: 'Dead',
} as const

export type TxnState = (typeof TxnState)[keyof typeof TxnState]

const { Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, PrepareEpochFence, Dead } = TxnState

/** The transition table: each state with the states it may be entered from. */
export const allowedPredecessors: Readonly<Record<TxnState, ReadonlySet<TxnState>>> = {
  [Empty]: new Set([Empty, CompleteCommit, CompleteAbort]),
  [Ongoing]: new Set([Empty, Ongoing, CompleteCommit, CompleteAbort]),
  [PrepareCommit]: new Set([Ongoing]),
  [PrepareAbort]: new Set([Ongoing, PrepareEpochFence]),
  [CompleteCommit]: new Set([PrepareCommit]),
  [CompleteAbort]: new Set([PrepareAbort]),
  [PrepareEpochFence]: new Set([Ongoing]),
  [Dead]: new Set([Empty, CompleteCommit, CompleteAbort]),
}

export function canTransition(from: TxnState, to: TxnState): boolean {
  return allowedPredecessors[to].has(from)
}

export const isPrepare = (state: TxnState): boolean => state === PrepareCommit || state === PrepareAbort
export const isComplete = (state: TxnState): boolean => state === CompleteCommit || state === CompleteAbort
/** States in which no transaction is open and InitProducerId may bump the epoch. */
export const isIdle = (state: TxnState): boolean => state === Empty || isComplete(state)

/** What the coordinator knows about one transactional id. Immutable: a transition makes a new one. */
export interface TxnMetadata {
  readonly transactionalId: string
  readonly producerId: bigint
  readonly producerEpoch: number
  readonly state: TxnState
  readonly timeoutMs: number
  /** Partitions added in the current transaction, by topic. Cleared when it completes. */
  readonly partitions: ReadonlyMap<string, ReadonlySet<number>>
  /** Groups added with AddOffsetsToTxn in the current transaction. Cleared when it completes. */
  readonly groups: ReadonlySet<string>
  /** When the current transaction's first partition or group was added; -1 when none is open. */
  readonly txnStartMs: number
  readonly lastUpdateMs: number
}

export const NO_TXN_START_MS = -1

export function partitionList(partitions: ReadonlyMap<string, ReadonlySet<number>>): Array<{ topic: string; partition: number }> {
  const list: Array<{ topic: string; partition: number }> = []
  for (const [topic, indexes] of partitions) for (const partition of indexes) list.push({ topic, partition })
  return list
}

export function withPartitions(
  partitions: ReadonlyMap<string, ReadonlySet<number>>,
  added: ReadonlyArray<{ topic: string; partition: number }>,
): ReadonlyMap<string, ReadonlySet<number>> {
  const next = new Map<string, Set<number>>()
  for (const [topic, indexes] of partitions) next.set(topic, new Set(indexes))
  for (const { topic, partition } of added) {
    let indexes = next.get(topic)
    if (!indexes) next.set(topic, indexes = new Set())
    indexes.add(partition)
  }
  return next
}

export function containsAll(
  partitions: ReadonlyMap<string, ReadonlySet<number>>,
  wanted: ReadonlyArray<{ topic: string; partition: number }>,
): boolean {
  return wanted.every(({ topic, partition }) => partitions.get(topic)?.has(partition) === true)
}

// txn.log record, one per persisted transition, carrying the whole metadata (the last record of a
// transactional id wins on replay; Dead deletes it). Version 1 layout, bigints as decimal strings:
//   { v: 1, id, pid: "123", epoch, state, timeoutMs, partitions: [[topic, [p, ...]], ...],
//     groups: [group, ...], txnStartMs, lastUpdateMs }

export const TXN_RECORD_VERSION = 1

export interface TxnRecord {
  v: typeof TXN_RECORD_VERSION
  id: string
  pid: string
  epoch: number
  state: TxnState
  timeoutMs: number
  partitions: Array<[string, number[]]>
  groups: string[]
  txnStartMs: number
  lastUpdateMs: number
}

export function toRecord(meta: TxnMetadata): TxnRecord {
  return {
    v: TXN_RECORD_VERSION,
    id: meta.transactionalId,
    pid: meta.producerId.toString(),
    epoch: meta.producerEpoch,
    state: meta.state,
    timeoutMs: meta.timeoutMs,
    partitions: [...meta.partitions].map(([topic, indexes]) => [topic, [...indexes]]),
    groups: [...meta.groups],
    txnStartMs: meta.txnStartMs,
    lastUpdateMs: meta.lastUpdateMs,
  }
}

const persistedStates: ReadonlySet<string> = new Set(Object.values(TxnState).filter(s => s !== PrepareEpochFence))

/** Parses a replayed txn.log record; a record that does not fit is corruption and throws. */
export function fromRecord(value: unknown): TxnMetadata {
  const record = value as Partial<TxnRecord> | null
  const fail = (why: string): never => { throw new Error(`txn.log: bad record (${why}): ${JSON.stringify(value)}`) }
  if (typeof record !== 'object' || record === null) return fail('not an object')
  if (record.v !== TXN_RECORD_VERSION) return fail('unknown version')
  if (typeof record.id !== 'string' || record.id === '') return fail('id')
  if (typeof record.pid !== 'string' || !/^\d+$/.test(record.pid)) return fail('pid')
  if (!Number.isInteger(record.epoch) || record.epoch! < 0) return fail('epoch')
  if (typeof record.state !== 'string' || !persistedStates.has(record.state)) return fail('state')
  if (!Number.isInteger(record.timeoutMs)) return fail('timeoutMs')
  if (!Array.isArray(record.partitions) || !Array.isArray(record.groups)) return fail('partitions or groups')
  if (!Number.isFinite(record.txnStartMs) || !Number.isFinite(record.lastUpdateMs)) return fail('timestamps')
  const partitions = new Map<string, ReadonlySet<number>>()
  for (const entry of record.partitions) {
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1]) || !entry[1].every(Number.isInteger)) return fail('partition entry')
    partitions.set(entry[0], new Set(entry[1] as number[]))
  }
  if (!record.groups.every(group => typeof group === 'string')) return fail('group entry')
  return {
    transactionalId: record.id,
    producerId: BigInt(record.pid),
    producerEpoch: record.epoch!,
    state: record.state,
    timeoutMs: record.timeoutMs!,
    partitions,
    groups: new Set(record.groups),
    txnStartMs: record.txnStartMs!,
    lastUpdateMs: record.lastUpdateMs!,
  }
}
