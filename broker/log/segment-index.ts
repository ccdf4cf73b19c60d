// The sparse offset index and time index of one segment. While the segment is active they live in
// memory (a few bytes per 4 KiB of log); once it is sealed (roll or clean shutdown) they are written
// beside it and looked up on disk with positional reads, so a broker holding many GiB of log keeps
// only open file descriptors, not indexes, in its heap.
//
// <base>.index, version 1, big-endian, written once via write-fsync-rename:
//   @0  magic "SLOI" | @4 version u8 = 1 | @5 reserved 3 bytes (0)
//   @8  baseOffset i64 | @16 nextOffset i64 (end, exclusive) | @24 logBytes i64 (the .log size it describes)
//   @32 maxTimestamp i64 (-1 if none) | @40 entryCount u32
//   @44 entryCount × [relativeOffset u32 | position u32], ascending
//   trailer: crc32c u32 of every byte before it
// <base>.timeindex, version 1, written the same way:
//   @0  magic "SLTI" | @4 version u8 = 1 | @5 reserved 3 bytes | @8 baseOffset i64 | @16 entryCount u32
//   @20 entryCount × [maxTimestampSoFar i64 | relativeOffset u32], both ascending
//   trailer: crc32c u32
// An offset entry names a batch's base offset and file position; a time entry says that every
// batch before that relative offset has maxTimestamp ≤ maxTimestampSoFar of the previous entry.

import { closeSync, existsSync, fstatSync, openSync, unlinkSync } from 'node:fs'
import { crc32c } from '../record/crc32c.ts'
import { readAt, readInto, writeFileAtomic } from './files.ts'

const OFFSET_MAGIC = 'SLOI'
const TIME_MAGIC = 'SLTI'
const FORMAT_VERSION = 1
const OFFSET_HEADER_BYTES = 44
const TIME_HEADER_BYTES = 20
const OFFSET_ENTRY_BYTES = 8
const TIME_ENTRY_BYTES = 12
const TRAILER_BYTES = 4

/** What a sealed segment's index header records, so the segment opens without a scan. */
export interface SegmentSummary {
  baseOffset: bigint
  nextOffset: bigint
  logBytes: number
  maxTimestamp: bigint
}

/** Fixed-width entries, in a growable buffer (active segment) or in a file (sealed segment). */
class EntryTable {
  private memory: Buffer | null
  private fd = -1
  private fileStart = 0
  private readonly probe: Buffer
  count = 0

  constructor(private readonly entryBytes: number) {
    this.memory = Buffer.alloc(entryBytes * 64)
    this.probe = Buffer.alloc(entryBytes)
  }

  /** Room for one more entry; the caller writes it at the returned position. */
  appendSlot(): { bytes: Buffer; at: number } {
    if (!this.memory) throw new Error('invariant: a sealed index is immutable')
    if ((this.count + 1) * this.entryBytes > this.memory.length) {
      const grown = Buffer.alloc(this.memory.length * 2)
      this.memory.copy(grown)
      this.memory = grown
    }
    return { bytes: this.memory, at: this.count++ * this.entryBytes }
  }

  entry(index: number): { bytes: Buffer; at: number } {
    if (this.memory) return { bytes: this.memory, at: index * this.entryBytes }
    const got = readInto(this.fd, this.probe, this.fileStart + index * this.entryBytes)
    if (got !== this.entryBytes) throw new Error(`index entry ${index} is beyond the end of its file`)
    return { bytes: this.probe, at: 0 }
  }

  entriesBytes(): Buffer {
    if (!this.memory) throw new Error('invariant: entries of a sealed index are on disk')
    return this.memory.subarray(0, this.count * this.entryBytes)
  }

  /** Takes entries read from a sealed file back into memory (the reopened active segment). */
  loadMemory(entries: Buffer, count: number): void {
    this.memory = Buffer.alloc(Math.max(entries.length * 2, this.entryBytes * 64))
    entries.copy(this.memory)
    this.count = count
  }

  /** Switches to reading from `fd` (the sealed file) and frees the memory. */
  seal(fd: number, fileStart: number): void {
    this.memory = null
    this.fd = fd
    this.fileStart = fileStart
  }

  /** Largest index whose entry satisfies `atOrBelow` (entries ascending), or -1. */
  floor(atOrBelow: (bytes: Buffer, at: number) => boolean): number {
    let low = 0
    let high = this.count - 1
    let found = -1
    while (low <= high) {
      const middle = (low + high) >> 1
      const { bytes, at } = this.entry(middle)
      if (atOrBelow(bytes, at)) { found = middle; low = middle + 1 } else high = middle - 1
    }
    return found
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd)
    this.fd = -1
  }
}

export class SegmentIndexes {
  private readonly offsets = new EntryTable(OFFSET_ENTRY_BYTES)
  private readonly times = new EntryTable(TIME_ENTRY_BYTES)
  private lastIndexedTimestamp = -1n

  constructor(readonly baseOffset: bigint) {}

  get offsetEntries(): number { return this.offsets.count }
  get timeEntries(): number { return this.times.count }

  appendOffset(offset: bigint, position: number): void {
    const { bytes, at } = this.offsets.appendSlot()
    bytes.writeUInt32BE(this.relative(offset), at)
    bytes.writeUInt32BE(position, at + 4)
  }

  /** Adds a time entry if `maxTimestampSoFar` grew since the last one. */
  appendTime(maxTimestampSoFar: bigint, offset: bigint): void {
    if (maxTimestampSoFar <= this.lastIndexedTimestamp) return
    const { bytes, at } = this.times.appendSlot()
    bytes.writeBigInt64BE(maxTimestampSoFar, at)
    bytes.writeUInt32BE(this.relative(offset), at + 8)
    this.lastIndexedTimestamp = maxTimestampSoFar
  }

  private relative(offset: bigint): number {
    const relative = offset - this.baseOffset
    if (relative < 0n || relative > 0xffff_ffffn) throw new Error(`invariant: offset ${offset} outside the segment at ${this.baseOffset}`)
    return Number(relative)
  }

  /** File position of the last indexed batch starting at or before `offset` (0 if none). */
  positionFor(offset: bigint): number {
    if (offset < this.baseOffset) return 0
    const target = offset - this.baseOffset > 0xffff_ffffn ? 0xffff_ffff : Number(offset - this.baseOffset)
    const index = this.offsets.floor((bytes, at) => bytes.readUInt32BE(at) <= target)
    if (index < 0) return 0
    const { bytes, at } = this.offsets.entry(index)
    return bytes.readUInt32BE(at + 4)
  }

  /** An offset from which a walk finds the first batch with maxTimestamp ≥ `timestamp`. */
  offsetBeforeTimestamp(timestamp: bigint): bigint {
    const index = this.times.floor((bytes, at) => bytes.readBigInt64BE(at) < timestamp)
    if (index < 0) return this.baseOffset
    const { bytes, at } = this.times.entry(index)
    return this.baseOffset + BigInt(bytes.readUInt32BE(at + 8))
  }

  /** Writes both files (fsynced, renamed into place) and switches lookups to them. */
  seal(logPath: string, summary: SegmentSummary): void {
    const offsetFile = frame(OFFSET_MAGIC, OFFSET_HEADER_BYTES, this.offsets.entriesBytes(), header => {
      header.writeBigInt64BE(summary.baseOffset, 8)
      header.writeBigInt64BE(summary.nextOffset, 16)
      header.writeBigInt64BE(BigInt(summary.logBytes), 24)
      header.writeBigInt64BE(summary.maxTimestamp, 32)
      header.writeUInt32BE(this.offsets.count, 40)
    })
    const timeFile = frame(TIME_MAGIC, TIME_HEADER_BYTES, this.times.entriesBytes(), header => {
      header.writeBigInt64BE(summary.baseOffset, 8)
      header.writeUInt32BE(this.times.count, 16)
    })
    const paths = indexPaths(logPath)
    writeFileAtomic(paths.offsets, offsetFile)
    writeFileAtomic(paths.times, timeFile)
    this.offsets.seal(openSync(paths.offsets, 'r'), OFFSET_HEADER_BYTES)
    this.times.seal(openSync(paths.times, 'r'), TIME_HEADER_BYTES)
  }

  /**
   * Opens the sealed index files of `logPath`, or returns null when either is missing, damaged,
   * of another version, or describes a different .log size (then the caller scans the log).
   * `inMemory` reads the entries back into memory, for the segment that stays active.
   */
  static load(logPath: string, baseOffset: bigint, logBytes: number, inMemory: boolean): { indexes: SegmentIndexes; summary: SegmentSummary } | null {
    const paths = indexPaths(logPath)
    const offsetFd = openChecked(paths.offsets, OFFSET_MAGIC, OFFSET_HEADER_BYTES, OFFSET_ENTRY_BYTES, 40)
    if (!offsetFd) return null
    const timeFd = openChecked(paths.times, TIME_MAGIC, TIME_HEADER_BYTES, TIME_ENTRY_BYTES, 16)
    if (!timeFd) { closeSync(offsetFd.fd); return null }
    const header = offsetFd.header
    const summary: SegmentSummary = {
      baseOffset: header.readBigInt64BE(8),
      nextOffset: header.readBigInt64BE(16),
      logBytes: Number(header.readBigInt64BE(24)),
      maxTimestamp: header.readBigInt64BE(32),
    }
    if (summary.baseOffset !== baseOffset || timeFd.header.readBigInt64BE(8) !== baseOffset || summary.logBytes !== logBytes) {
      closeSync(offsetFd.fd)
      closeSync(timeFd.fd)
      return null
    }
    const indexes = new SegmentIndexes(baseOffset)
    if (inMemory) {
      indexes.offsets.loadMemory(readAt(offsetFd.fd, OFFSET_HEADER_BYTES, offsetFd.count * OFFSET_ENTRY_BYTES), offsetFd.count)
      indexes.times.loadMemory(readAt(timeFd.fd, TIME_HEADER_BYTES, timeFd.count * TIME_ENTRY_BYTES), timeFd.count)
      closeSync(offsetFd.fd)
      closeSync(timeFd.fd)
    } else {
      indexes.offsets.count = offsetFd.count
      indexes.offsets.seal(offsetFd.fd, OFFSET_HEADER_BYTES)
      indexes.times.count = timeFd.count
      indexes.times.seal(timeFd.fd, TIME_HEADER_BYTES)
    }
    indexes.lastIndexedTimestamp = summary.maxTimestamp
    return { indexes, summary }
  }

  close(): void {
    this.offsets.close()
    this.times.close()
  }

  static deleteFiles(logPath: string): void {
    const paths = indexPaths(logPath)
    for (const path of [paths.offsets, paths.times]) if (existsSync(path)) unlinkSync(path)
  }
}

export function indexPaths(logPath: string): { offsets: string; times: string } {
  const stem = logPath.slice(0, -'.log'.length)
  return { offsets: `${stem}.index`, times: `${stem}.timeindex` }
}

function frame(magic: string, headerBytes: number, entries: Buffer, fill: (header: Buffer) => void): Buffer {
  const file = Buffer.alloc(headerBytes + entries.length + TRAILER_BYTES)
  file.write(magic, 0, 'ascii')
  file.writeUInt8(FORMAT_VERSION, 4)
  fill(file)
  entries.copy(file, headerBytes)
  file.writeUInt32BE(crc32c(file, 0, file.length - TRAILER_BYTES), file.length - TRAILER_BYTES)
  return file
}

/** Opens an index file after checking its magic, version, size and checksum. */
function openChecked(path: string, magic: string, headerBytes: number, entryBytes: number, countAt: number): { fd: number; header: Buffer; count: number } | null {
  if (!existsSync(path)) return null
  const fd = openSync(path, 'r')
  const size = fstatSync(fd).size
  const whole = size >= headerBytes + TRAILER_BYTES ? readAt(fd, 0, size) : null
  const count = whole ? whole.readUInt32BE(countAt) : -1
  const valid = whole !== null &&
    whole.toString('ascii', 0, 4) === magic &&
    whole.readUInt8(4) === FORMAT_VERSION &&
    size === headerBytes + count * entryBytes + TRAILER_BYTES &&
    crc32c(whole, 0, size - TRAILER_BYTES) === whole.readUInt32BE(size - TRAILER_BYTES)
  if (!valid) { closeSync(fd); return null }
  return { fd, header: whole.subarray(0, headerBytes), count }
}
