// Per-partition checkpoint: the recovery point (every segment ending at or below it is known to be
// on disk and is not rescanned after a crash) and the log start offset raised by retention or
// DeleteRecords. Replaced atomically (write, fsync, rename, fsync directory).
//
// <partition dir>/partition.checkpoint, version 1, big-endian, 28 bytes:
//   @0 magic "SLCK" | @4 version u8 = 1 | @5 reserved 3 bytes | @8 recoveryPoint i64 |
//   @16 logStartOffset i64 | @24 crc32c u32 of bytes [0, 24)

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { crc32c } from '../record/crc32c.ts'
import { writeFileAtomic } from './files.ts'

const FILE_NAME = 'partition.checkpoint'
const MAGIC = 'SLCK'
const FORMAT_VERSION = 1
const FILE_BYTES = 28

export interface PartitionCheckpoint {
  recoveryPoint: bigint
  logStartOffset: bigint
}

/** The checkpoint, or null when there is none or it is unreadable (then everything is rescanned). */
export function readCheckpoint(directory: string): PartitionCheckpoint | null {
  const path = join(directory, FILE_NAME)
  if (!existsSync(path)) return null
  const bytes = readFileSync(path)
  if (bytes.length !== FILE_BYTES || bytes.toString('ascii', 0, 4) !== MAGIC || bytes.readUInt8(4) !== FORMAT_VERSION) return null
  if (crc32c(bytes, 0, 24) !== bytes.readUInt32BE(24)) return null
  return { recoveryPoint: bytes.readBigInt64BE(8), logStartOffset: bytes.readBigInt64BE(16) }
}

export function writeCheckpoint(directory: string, checkpoint: PartitionCheckpoint): void {
  const bytes = Buffer.alloc(FILE_BYTES)
  bytes.write(MAGIC, 0, 'ascii')
  bytes.writeUInt8(FORMAT_VERSION, 4)
  bytes.writeBigInt64BE(checkpoint.recoveryPoint, 8)
  bytes.writeBigInt64BE(checkpoint.logStartOffset, 16)
  bytes.writeUInt32BE(crc32c(bytes, 0, 24), 24)
  writeFileAtomic(join(directory, FILE_NAME), bytes)
}
