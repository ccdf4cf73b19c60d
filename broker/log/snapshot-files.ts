// Producer-state snapshot files of one partition: `<20-digit offset>.snapshot` (format in
// producer-state.ts), written at segment roll and clean shutdown, newest SNAPSHOTS_KEPT kept.

import { readdirSync, readFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { writeFileAtomic } from './files.ts'
import { SNAPSHOTS_KEPT } from './limits.ts'
import { ProducerState } from './producer-state.ts'
import { segmentFileName } from './segment.ts'

function snapshotOffsets(directory: string): bigint[] {
  return readdirSync(directory)
    .filter(name => /^\d{20}\.snapshot$/.test(name))
    .map(name => BigInt(name.slice(0, 20)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

const snapshotPath = (directory: string, offset: bigint): string => join(directory, segmentFileName(offset, 'snapshot'))

export function writeSnapshot(directory: string, state: ProducerState, offset: bigint): void {
  writeFileAtomic(snapshotPath(directory, offset), state.encode(offset))
  const offsets = snapshotOffsets(directory)
  for (const old of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_KEPT))) unlinkSync(snapshotPath(directory, old))
}

/**
 * The newest readable snapshot at or below `logEndOffset`. Snapshots above it describe batches a
 * recovery truncation removed and are deleted first, so they can never be mistaken for the log.
 */
export function loadNewestSnapshot(directory: string, logEndOffset: bigint, onUnreadable: (offset: bigint, error: Error) => void): { offset: bigint; state: ProducerState } | null {
  const offsets = snapshotOffsets(directory)
  for (const offset of offsets.filter(o => o > logEndOffset)) unlinkSync(snapshotPath(directory, offset))
  for (const offset of offsets.filter(o => o <= logEndOffset).reverse()) {
    try {
      const decoded = ProducerState.decode(readFileSync(snapshotPath(directory, offset)))
      if (decoded.offset !== offset) throw new Error(`snapshot names offset ${decoded.offset}`)
      return decoded
    } catch (error) {
      onUnreadable(offset, error as Error)
    }
  }
  return null
}
