// One log segment, named like Kafka's: `<20-digit base offset>.log` holds record batches exactly as
// produced (RecordBatch v2, brief §3.1) with the broker's offset stamped, appended with positional
// writes and never held in memory; `.index` and `.timeindex` are its sparse indexes (format in
// segment-index.ts); `.txnindex` lists the transactions aborted by markers in it (txn-index.ts).
// A segment is active (the partition appends to it) until sealed by a roll or a clean shutdown.

import { closeSync, existsSync, fdatasyncSync, fstatSync, ftruncateSync, fsyncSync, openSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { BATCH_HEADER_BYTES } from '../record/batch.ts'
import { scanBatches, storedBatchAt, type ScanResult, type StoredBatch } from './batch-scan.ts'
import { readAt, writeAll } from './files.ts'
import { INDEX_INTERVAL_BYTES, MAX_READ_BYTES } from './limits.ts'
import { SegmentIndexes } from './segment-index.ts'

export const segmentFileName = (baseOffset: bigint, extension: string): string => `${baseOffset.toString().padStart(20, '0')}.${extension}`

/** Base offsets of the segments in `names` (a directory listing), ascending. */
export function segmentBases(names: string[]): bigint[] {
  return names.filter(name => /^\d{20}\.log$/.test(name)).map(name => BigInt(name.slice(0, 20))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Header walks that look for one batch read small chunks: an index entry is at most ~4 KiB behind. */
const LOOKUP_CHUNK_BYTES = 4 * INDEX_INTERVAL_BYTES

export class Segment {
  sizeBytes = 0
  /** Offset after the last batch (the segment's end offset, exclusive). */
  nextOffset: bigint
  maxTimestamp = -1n
  private maxTimestampOffset: bigint
  private bytesSinceOffsetEntry = 0
  private bytesSinceTimeEntry = INDEX_INTERVAL_BYTES
  private txnFd = -1
  private sealedFlag = false

  private constructor(
    readonly directory: string,
    readonly baseOffset: bigint,
    private fd: number,
    private indexes: SegmentIndexes,
    readonly createdAtMs: number,
  ) {
    this.nextOffset = baseOffset
    this.maxTimestampOffset = baseOffset
  }

  get logPath(): string { return join(this.directory, segmentFileName(this.baseOffset, 'log')) }
  get txnIndexPath(): string { return join(this.directory, segmentFileName(this.baseOffset, 'txnindex')) }
  get fileDescriptor(): number { return this.fd }
  get sealed(): boolean { return this.sealedFlag }
  get isEmpty(): boolean { return this.sizeBytes === 0 }

  static create(directory: string, baseOffset: bigint, nowMs: number): Segment {
    const path = join(directory, segmentFileName(baseOffset, 'log'))
    const fd = openSync(path, 'a+')
    if (fstatSync(fd).size !== 0) {
      closeSync(fd)
      throw new Error(`invariant: new segment ${path} already holds data`)
    }
    SegmentIndexes.deleteFiles(path)
    return new Segment(directory, baseOffset, fd, new SegmentIndexes(baseOffset), nowMs)
  }

  /**
   * Opens a segment sealed earlier through its index files, without scanning it; null when they
   * are missing or do not match the .log. `active` keeps it appendable (the last segment after a
   * clean shutdown).
   */
  static openSealed(directory: string, baseOffset: bigint, active: boolean): Segment | null {
    const path = join(directory, segmentFileName(baseOffset, 'log'))
    const fd = openSync(path, 'a+')
    const stat = fstatSync(fd)
    const loaded = SegmentIndexes.load(path, baseOffset, stat.size, active)
    if (!loaded) { closeSync(fd); return null }
    const segment = new Segment(directory, baseOffset, fd, loaded.indexes, creationTime(stat))
    segment.sizeBytes = loaded.summary.logBytes
    segment.nextOffset = loaded.summary.nextOffset
    segment.maxTimestamp = loaded.summary.maxTimestamp
    segment.sealedFlag = !active
    return segment
  }

  /**
   * Opens a segment by scanning it, checking each batch's framing, CRC-32C and offset continuity,
   * and cuts the file at the first torn or corrupt batch (fsynced). Indexes are rebuilt in memory.
   */
  static openScanned(directory: string, baseOffset: bigint): { segment: Segment; truncatedBytes: number; scan: ScanResult } {
    const path = join(directory, segmentFileName(baseOffset, 'log'))
    const fd = openSync(path, 'a+')
    const stat = fstatSync(fd)
    const segment = new Segment(directory, baseOffset, fd, new SegmentIndexes(baseOffset), creationTime(stat))
    const scan = scanBatches(fd, 0, stat.size, { verifyCrc: true, expectOffset: baseOffset }, batch => { segment.track(batch) })
    if (scan.position < stat.size) {
      ftruncateSync(fd, scan.position)
      fsyncSync(fd)
    }
    return { segment, truncatedBytes: stat.size - scan.position, scan }
  }

  /** Appends a stamped batch at the end (not durable until fdatasync). Throws on I/O errors after cutting a partial write. */
  append(batch: Buffer): StoredBatch {
    if (this.sealedFlag) throw new Error(`invariant: append to sealed segment ${this.baseOffset}`)
    const stored = storedBatchAt(batch, 0, this.sizeBytes)
    if (stored.baseOffset !== this.nextOffset || stored.sizeBytes !== batch.length) {
      throw new Error(`invariant: batch at ${stored.baseOffset} (${stored.sizeBytes} bytes) does not continue segment end ${this.nextOffset}`)
    }
    try {
      writeAll(this.fd, batch)
    } catch (error) {
      ftruncateSync(this.fd, this.sizeBytes)
      throw error
    }
    this.track(stored)
    return stored
  }

  /** Records a batch now at the end of the file in the indexes and counters. */
  private track(batch: StoredBatch): void {
    if (this.bytesSinceOffsetEntry >= INDEX_INTERVAL_BYTES) {
      this.indexes.appendOffset(batch.baseOffset, batch.position)
      this.bytesSinceOffsetEntry = 0
    }
    if (batch.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = batch.maxTimestamp
      this.maxTimestampOffset = batch.baseOffset
      if (this.bytesSinceTimeEntry >= INDEX_INTERVAL_BYTES) {
        this.indexes.appendTime(this.maxTimestamp, batch.baseOffset)
        this.bytesSinceTimeEntry = 0
      }
    }
    this.bytesSinceOffsetEntry += batch.sizeBytes
    this.bytesSinceTimeEntry += batch.sizeBytes
    this.sizeBytes = batch.position + batch.sizeBytes
    this.nextOffset = batch.lastOffset + 1n
  }

  /** The first batch whose last offset is ≥ `offset`, or null if the segment ends before it. */
  findBatch(offset: bigint): StoredBatch | null {
    let found: StoredBatch | null = null
    scanBatches(this.fd, this.indexes.positionFor(offset), this.sizeBytes, { verifyCrc: false, chunkBytes: LOOKUP_CHUNK_BYTES }, batch => {
      if (batch.lastOffset < offset) return true
      found = batch
      return false
    })
    return found
  }

  /** The first batch whose maxTimestamp is ≥ `timestamp` and last offset ≥ `minOffset`, or null. */
  findBatchByTimestamp(timestamp: bigint, minOffset: bigint): StoredBatch | null {
    if (this.maxTimestamp < timestamp) return null
    const startOffset = this.indexes.offsetBeforeTimestamp(timestamp)
    const from = this.indexes.positionFor(startOffset > minOffset ? startOffset : minOffset)
    let found: StoredBatch | null = null
    scanBatches(this.fd, from, this.sizeBytes, { verifyCrc: false, chunkBytes: LOOKUP_CHUNK_BYTES }, batch => {
      if (batch.maxTimestamp < timestamp || batch.lastOffset < minOffset) return true
      found = batch
      return false
    })
    return found
  }

  /** Visits the batches from the one holding `offset` to the end. */
  forEachBatchFrom(offset: bigint, visit: (batch: StoredBatch) => void): void {
    scanBatches(this.fd, this.indexes.positionFor(offset), this.sizeBytes, { verifyCrc: false }, batch => {
      if (batch.lastOffset >= offset) visit(batch)
    })
  }

  /**
   * Whole batches from `first` on, read from disk into a fresh buffer: those with lastOffset below
   * `upperExclusive`, totalling at most `maxBytes`, except that the first always comes (KIP-74).
   */
  readFrom(first: StoredBatch, upperExclusive: bigint, maxBytes: number): Buffer | null {
    if (first.lastOffset >= upperExclusive) return null
    const wanted = Math.min(Math.max(maxBytes, first.sizeBytes), this.sizeBytes - first.position, Math.max(MAX_READ_BYTES, first.sizeBytes))
    const chunk = readAt(this.fd, first.position, wanted)
    let end = 0
    while (end + BATCH_HEADER_BYTES <= chunk.length) {
      const batch = storedBatchAt(chunk, end, first.position + end)
      if (end + batch.sizeBytes > chunk.length || batch.lastOffset >= upperExclusive) break
      if (end > 0 && end + batch.sizeBytes > maxBytes) break
      end += batch.sizeBytes
    }
    if (end === 0) throw new Error(`invariant: the first batch at position ${first.position} was not read whole`)
    // Keep only what is returned: a fetch near the tail would otherwise pin a maxBytes-sized buffer.
    return end * 2 < chunk.length ? Buffer.from(chunk.subarray(0, end)) : chunk.subarray(0, end)
  }

  /** Appends one aborted-transaction entry to this segment's .txnindex (not fsynced; rebuilt by recovery). */
  appendTxnEntry(entry: Buffer): void {
    if (this.txnFd < 0) this.txnFd = openSync(this.txnIndexPath, 'a')
    writeAll(this.txnFd, entry)
  }

  /** fdatasync of the log file. */
  sync(): void {
    fdatasyncSync(this.fd)
  }

  /**
   * Makes the segment immutable: fsyncs the log and .txnindex, and writes the index files (which
   * are then used for lookups and let the next start skip scanning it).
   */
  seal(): void {
    if (this.sealedFlag) return
    this.sync()
    if (this.txnFd >= 0) { fsyncSync(this.txnFd); closeSync(this.txnFd); this.txnFd = -1 }
    this.indexes.appendTime(this.maxTimestamp, this.maxTimestampOffset)
    this.indexes.seal(this.logPath, { baseOffset: this.baseOffset, nextOffset: this.nextOffset, logBytes: this.sizeBytes, maxTimestamp: this.maxTimestamp })
    this.sealedFlag = true
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd)
    if (this.txnFd >= 0) closeSync(this.txnFd)
    this.indexes.close()
    this.fd = -1
    this.txnFd = -1
  }

  /** Closes and removes the segment's files. */
  delete(): void {
    this.close()
    SegmentIndexes.deleteFiles(this.logPath)
    for (const path of [this.txnIndexPath, this.logPath]) if (existsSync(path)) unlinkSync(path)
  }
}

function creationTime(stat: { birthtimeMs: number; mtimeMs: number }): number {
  return stat.birthtimeMs > 0 ? stat.birthtimeMs : stat.mtimeMs
}
