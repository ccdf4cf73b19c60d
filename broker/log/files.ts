// Small file helpers shared by the storage engine: full positional reads and writes, and the
// write-fsync-rename-fsync-directory dance for files that must be replaced atomically.

import { closeSync, fsyncSync, openSync, readSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import { syncDirectory } from '../meta/meta-log.ts'

/** Reads up to `length` bytes at `position` into a fresh buffer; shorter only at end of file. */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length)
  const filled = readInto(fd, buffer, position)
  return filled === length ? buffer : buffer.subarray(0, filled)
}

/** Fills `buffer` from `position`; returns the bytes read (fewer only at end of file). */
export function readInto(fd: number, buffer: Buffer, position: number): number {
  let filled = 0
  while (filled < buffer.length) {
    const got = readSync(fd, buffer, filled, buffer.length - filled, position + filled)
    if (got === 0) break
    filled += got
  }
  return filled
}

/** Appends all of `bytes` at the file's current end (the fd is opened for append). */
export function writeAll(fd: number, bytes: Buffer): void {
  let written = 0
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written)
}

/** Replaces `path` with `bytes` so that a crash leaves either the old or the new file, never a torn one. */
export function writeFileAtomic(path: string, bytes: Buffer): void {
  const temporary = `${path}.tmp`
  const fd = openSync(temporary, 'w')
  try {
    writeAll(fd, bytes)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(temporary, path)
  syncDirectory(dirname(path))
}
