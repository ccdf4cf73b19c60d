// Opening a partition's files after a clean or unclean stop (brief §6.3 "Startup"):
//   1. Segments ending at or below the checkpointed recovery point (all of them after a clean
//      shutdown) open through their index files. From the first other segment on, every batch's
//      framing, CRC-32C and offset continuity is checked; the log is cut at the first torn or
//      corrupt batch and any later segment is deleted (its offsets would no longer follow).
//   2. Producer state comes from the newest snapshot at or below the log end, then a replay of
//      every batch after it; the aborted-transaction index keeps the .txnindex entries below that
//      point and regenerates the rest from the replayed markers.

import { existsSync, readdirSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from '../logger.ts'
import { readCheckpoint } from './checkpoint.ts'
import { ProducerState } from './producer-state.ts'
import { Segment, segmentBases, segmentFileName } from './segment.ts'
import { loadNewestSnapshot } from './snapshot-files.ts'
import { encodeTxnEntry, loadTxnIndexFile, TxnIndex } from './txn-index.ts'

export interface RecoveredPartition {
  segments: Segment[]
  logStartOffset: bigint
  producers: ProducerState
  aborted: TxnIndex
  report: { scannedSegments: number; truncatedBytes: number; deletedSegments: number; replayedBatches: number; snapshotOffset: bigint | null }
}

export function recoverPartition(options: { directory: string; clean: boolean; nowMs: number; logger: Logger; context: Record<string, unknown> }): RecoveredPartition {
  const { directory, logger, context } = options
  const checkpoint = readCheckpoint(directory)
  const opened = openSegments(directory, options.clean, checkpoint?.recoveryPoint ?? -1n, logger, context)
  const segments = opened.segments
  if (segments.length === 0) segments.push(Segment.create(directory, checkpoint?.logStartOffset ?? 0n, options.nowMs))
  const logEndOffset = segments.at(-1)!.nextOffset
  let logStartOffset = checkpoint?.logStartOffset ?? 0n
  if (logStartOffset < segments[0]!.baseOffset) logStartOffset = segments[0]!.baseOffset
  if (logStartOffset > logEndOffset) logStartOffset = logEndOffset

  const snapshot = loadNewestSnapshot(directory, logEndOffset, (offset, error) => logger.warn('producer snapshot unreadable; replaying further back', { ...context, offset, error: error.message }))
  const producers = snapshot?.state ?? new ProducerState()
  const replayFrom = snapshot && snapshot.offset > segments[0]!.baseOffset ? snapshot.offset : segments[0]!.baseOffset
  const aborted = new TxnIndex()
  for (const segment of segments) for (const txn of loadTxnIndexFile(segment.txnIndexPath, replayFrom)) aborted.add(txn)
  let replayedBatches = 0
  for (const segment of segments) {
    if (segment.nextOffset <= replayFrom) continue
    segment.forEachBatchFrom(replayFrom, batch => {
      if (batch.baseOffset < replayFrom) return
      replayedBatches++
      const completed = producers.record(batch, options.nowMs)
      if (!completed?.aborted) return
      aborted.add(completed)
      segment.appendTxnEntry(encodeTxnEntry(completed))
    })
  }
  aborted.dropBefore(logStartOffset)
  return {
    segments, logStartOffset, producers, aborted,
    report: { ...opened.report, replayedBatches, snapshotOffset: snapshot?.offset ?? null },
  }
}

function openSegments(directory: string, clean: boolean, recoveryPoint: bigint, logger: Logger, context: Record<string, unknown>): { segments: Segment[]; report: { scannedSegments: number; truncatedBytes: number; deletedSegments: number } } {
  const bases = segmentBases(readdirSync(directory))
  const segments: Segment[] = []
  const report = { scannedSegments: 0, truncatedBytes: 0, deletedSegments: 0 }
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i]!
    const last = i === bases.length - 1
    const next = bases[i + 1]
    const trusted = clean || (next !== undefined && next <= recoveryPoint)
    const previous = segments.at(-1)
    if (previous && previous.nextOffset !== base) logger.warn('segments are not contiguous', { ...context, previousEnd: previous.nextOffset, base })
    const sealed = trusted ? Segment.openSealed(directory, base, last) : null
    if (sealed) { segments.push(sealed); continue }
    const { segment, truncatedBytes, scan } = Segment.openScanned(directory, base)
    report.scannedSegments++
    segments.push(segment)
    if (truncatedBytes > 0) {
      report.truncatedBytes += truncatedBytes
      logger.warn('truncated torn or corrupt log tail', { ...context, segment: base, bytes: truncatedBytes, reason: scan.reason, logEndOffset: segment.nextOffset })
      report.deletedSegments += deleteSegmentFiles(directory, bases.slice(i + 1), logger, context)
      break
    }
    if (!last) segment.seal()
  }
  // Whatever survived is now the log: make the scanned tail durable so HW = LEO is honest.
  segments.at(-1)?.sync()
  return { segments, report }
}

function deleteSegmentFiles(directory: string, bases: bigint[], logger: Logger, context: Record<string, unknown>): number {
  for (const base of bases) {
    logger.warn('deleting segment after a truncated one', { ...context, segment: base })
    for (const extension of ['log', 'index', 'timeindex', 'txnindex']) {
      const path = join(directory, segmentFileName(base, extension))
      if (existsSync(path)) unlinkSync(path)
    }
  }
  return bases.length
}
