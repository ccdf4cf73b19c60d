// The aborted-transaction index of one partition (brief §4.3): every transaction an ABORT marker
// closed, so read_committed fetches can list the aborted ranges they return (Kafka's
// collectAbortedTransactions). Entries live in memory, one per aborted transaction still in the
// log (dropped when retention or DeleteRecords passes them), and on disk in the `.txnindex` of the
// segment holding the marker, in Kafka's layout.
//
// <base>.txnindex: repeated 34-byte entries, big-endian, no header (Kafka's TransactionIndex):
//   version i16 = 0 | producerId i64 | firstOffset i64 | lastOffset i64 (the marker's offset) |
//   lastStableOffset i64 (the LSO right after the marker, ignoring the high watermark)
// Appended without fsync; a segment's file is fsynced when it is sealed, and recovery rebuilds
// the entries of the log tail it replays. A torn last entry is ignored and cut.

import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readFileSync } from 'node:fs'

export const TXN_ENTRY_BYTES = 34
const ENTRY_VERSION = 0

export interface AbortedTxn {
  producerId: bigint
  firstOffset: bigint
  /** Offset of the ABORT marker. */
  lastOffset: bigint
  /** LSO once this transaction closed: the first offset of the earliest other open one, else lastOffset + 1. */
  lastStableOffset: bigint
}

export function encodeTxnEntry(txn: AbortedTxn): Buffer {
  const bytes = Buffer.alloc(TXN_ENTRY_BYTES)
  bytes.writeInt16BE(ENTRY_VERSION, 0)
  bytes.writeBigInt64BE(txn.producerId, 2)
  bytes.writeBigInt64BE(txn.firstOffset, 10)
  bytes.writeBigInt64BE(txn.lastOffset, 18)
  bytes.writeBigInt64BE(txn.lastStableOffset, 26)
  return bytes
}

/**
 * Reads a segment's .txnindex, keeping entries whose marker lies below `keepBelow` (the rest are
 * rebuilt by replaying the log from there) and cutting the file to them. Stops at a torn entry or
 * an unknown version.
 */
export function loadTxnIndexFile(path: string, keepBelow: bigint): AbortedTxn[] {
  if (!existsSync(path)) return []
  const bytes = readFileSync(path)
  const kept: AbortedTxn[] = []
  for (let at = 0; at + TXN_ENTRY_BYTES <= bytes.length; at += TXN_ENTRY_BYTES) {
    if (bytes.readInt16BE(at) !== ENTRY_VERSION) break
    const txn = {
      producerId: bytes.readBigInt64BE(at + 2),
      firstOffset: bytes.readBigInt64BE(at + 10),
      lastOffset: bytes.readBigInt64BE(at + 18),
      lastStableOffset: bytes.readBigInt64BE(at + 26),
    }
    if (txn.lastOffset >= keepBelow) break
    kept.push(txn)
  }
  if (kept.length * TXN_ENTRY_BYTES !== bytes.length) {
    const fd = openSync(path, 'r+')
    try {
      if (fstatSync(fd).size !== kept.length * TXN_ENTRY_BYTES) ftruncateSync(fd, kept.length * TXN_ENTRY_BYTES)
    } finally {
      closeSync(fd)
    }
  }
  return kept
}

export class TxnIndex {
  /** Ascending by lastOffset (markers are appended in offset order). */
  private entries: AbortedTxn[] = []

  get size(): number { return this.entries.length }

  add(txn: AbortedTxn): void {
    const last = this.entries.at(-1)
    if (last && txn.lastOffset <= last.lastOffset) throw new Error(`invariant: abort marker ${txn.lastOffset} is not after ${last.lastOffset}`)
    if (txn.firstOffset > txn.lastOffset) throw new Error(`invariant: aborted txn starts at ${txn.firstOffset} after its marker ${txn.lastOffset}`)
    this.entries.push(txn)
  }

  /**
   * Aborted transactions a read_committed fetch of [fetchOffset, upperBoundOffset) must report:
   * marker at or after fetchOffset and first offset before the end of the returned data, sorted by
   * first offset. Like Kafka, the walk stops at the first entry whose LSO reaches the upper bound:
   * any later abort began at or after that LSO.
   */
  collect(fetchOffset: bigint, upperBoundOffset: bigint): Array<{ producerId: bigint; firstOffset: bigint }> {
    const found: AbortedTxn[] = []
    for (let i = this.firstWithMarkerAtOrAfter(fetchOffset); i < this.entries.length; i++) {
      const txn = this.entries[i]!
      if (txn.firstOffset < upperBoundOffset) found.push(txn)
      if (txn.lastStableOffset >= upperBoundOffset) break
    }
    return found
      .sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0))
      .map(txn => ({ producerId: txn.producerId, firstOffset: txn.firstOffset }))
  }

  private firstWithMarkerAtOrAfter(offset: bigint): number {
    let low = 0
    let high = this.entries.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (this.entries[middle]!.lastOffset < offset) low = middle + 1
      else high = middle
    }
    return low
  }

  /** Forgets transactions whose marker lies before the log start: no fetch can reach them. */
  dropBefore(logStartOffset: bigint): void {
    const keepFrom = this.firstWithMarkerAtOrAfter(logStartOffset)
    if (keepFrom > 0) this.entries = this.entries.slice(keepFrom)
  }
}
