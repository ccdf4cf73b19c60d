// Copying one partition's segment store from a healthy peer, for a replica whose changelog start
// is gone (retention or DeleteRecords removed offsets it has not applied): replaying is no longer
// possible, so it takes the peer's files, whose manifest says which changelog offset they cover,
// and replays the changelog from there.
//
// Peer side: link the store's files (its MANIFEST and every segment the MANIFEST names) into a
// private directory in one synchronous step. Segment files are immutable and the MANIFEST is only
// ever replaced by rename, so the links hold a consistent store even while flushes and compactions
// go on; compaction unlinks a segment only after a newer MANIFEST no longer names it.
//
// Wire format (application/x-sluice-snapshot), one frame per file, MANIFEST last:
//   u16 name length | name (UTF-8) | u64 size | size bytes | u32 CRC-32C of those bytes
// and a frame with name length 0 to end. Big-endian.
//
// Receiving side: files are written into `<target>.incoming`, each checked against its CRC and
// fsynced; only a complete snapshot whose MANIFEST covers the wanted offset replaces the target
// directory (rename, then fsync of the parent).

import { closeSync, createReadStream, fsyncSync, linkSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { crc32c } from '../lib/checksum/crc32c.ts'
import { MANIFEST_FILE, readManifest } from '../sinks/index.ts'
import { ReplicaError, ReplicaErrorCode } from './errors.ts'

export const SNAPSHOT_CONTENT_TYPE = 'application/x-sluice-snapshot'
/** Longest file name a frame may carry: store files are short. */
const MAX_NAME_BYTES = 255
const SAFE_NAME = /^[A-Za-z0-9._-]+$/

export interface LinkedSnapshot {
  dir: string
  /** Files in the order they are sent: segments, then MANIFEST. */
  files: string[]
  /** The changelog offset the snapshot's MANIFEST covers (next to apply). */
  appliedOffset: bigint
}

/** Hard-links the store in `storeDir` into `into` (which must not exist), synchronously. */
export function linkSnapshot(storeDir: string, into: string): LinkedSnapshot {
  const manifest = readManifest(storeDir)
  if (!manifest) throw new ReplicaError(ReplicaErrorCode.FAILED, `${storeDir} has no MANIFEST: nothing durable to copy`)
  mkdirSync(into, { recursive: false })
  const files = manifest.segments.map(segment => segment.file)
  for (const file of files) linkSync(join(storeDir, file), join(into, file))
  linkSync(join(storeDir, MANIFEST_FILE), join(into, MANIFEST_FILE))
  return { dir: into, files: [...files, MANIFEST_FILE], appliedOffset: manifest.appliedOffset }
}

/** The frames of a linked snapshot, read from disk as they are sent. */
export async function* snapshotFrames(snapshot: LinkedSnapshot): AsyncGenerator<Buffer> {
  for (const file of snapshot.files) {
    const path = join(snapshot.dir, file)
    const name = Buffer.from(file, 'utf8')
    const header = Buffer.alloc(2 + name.length + 8)
    header.writeUInt16BE(name.length, 0)
    name.copy(header, 2)
    header.writeBigUInt64BE(BigInt(statSync(path).size), 2 + name.length)
    yield header
    let crc = 0
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      crc = crc32c(chunk as Buffer, crc)
      yield chunk as Buffer
    }
    const trailer = Buffer.alloc(4)
    trailer.writeUInt32BE(crc, 0)
    yield trailer
  }
  yield Buffer.alloc(2) // name length 0: the end
}

function invalid(message: string): ReplicaError {
  return new ReplicaError(ReplicaErrorCode.FAILED, `snapshot: ${message}`)
}

/**
 * Reads snapshot frames into `<target>.incoming`, checks every file and the MANIFEST, then
 * replaces `target` with it. Returns the offset the received MANIFEST covers. Throws, leaving
 * `target` untouched, when the stream is cut, a CRC differs, or the MANIFEST covers less than
 * `atLeast` or belongs to another partition.
 */
export async function receiveSnapshot(frames: AsyncIterable<Uint8Array>, target: string, expect: { partition: number; atLeast: bigint }): Promise<bigint> {
  const incoming = `${target}.incoming`
  rmSync(incoming, { recursive: true, force: true })
  mkdirSync(incoming, { recursive: true })
  let pending = Buffer.alloc(0)
  let file: { name: string; fd: number; left: bigint; crc: number } | undefined
  let ended = false
  const received = new Set<string>()
  try {
    for await (const chunk of frames) {
      pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk])
      for (;;) {
        if (ended) { if (pending.length > 0) throw invalid('bytes after the end frame'); break }
        if (file === undefined) {
          if (pending.length < 2) break
          const nameLength = pending.readUInt16BE(0)
          if (nameLength === 0) { ended = true; pending = pending.subarray(2); continue }
          if (nameLength > MAX_NAME_BYTES) throw invalid(`a file name of ${nameLength} bytes`)
          if (pending.length < 2 + nameLength + 8) break
          const name = pending.toString('utf8', 2, 2 + nameLength)
          if (!SAFE_NAME.test(name) || received.has(name)) throw invalid(`bad or repeated file name ${JSON.stringify(name)}`)
          const left = pending.readBigUInt64BE(2 + nameLength)
          file = { name, fd: openSync(join(incoming, name), 'wx'), left, crc: 0 }
          pending = pending.subarray(2 + nameLength + 8)
          continue
        }
        if (file.left > 0n) {
          if (pending.length === 0) break
          const take = Number(file.left < BigInt(pending.length) ? file.left : BigInt(pending.length))
          const part = pending.subarray(0, take)
          writeSync(file.fd, part)
          file.crc = crc32c(part, file.crc)
          file.left -= BigInt(take)
          pending = pending.subarray(take)
          continue
        }
        if (pending.length < 4) break
        const crc = pending.readUInt32BE(0)
        pending = pending.subarray(4)
        if (crc !== file.crc) throw invalid(`${file.name}: CRC-32C ${file.crc.toString(16)} differs from the sender's ${crc.toString(16)}`)
        fsyncSync(file.fd)
        closeSync(file.fd)
        received.add(file.name)
        file = undefined
      }
    }
    if (!ended || file !== undefined) throw invalid('the stream ended before its end frame')
    if (!received.has(MANIFEST_FILE)) throw invalid('no MANIFEST')
    const manifest = readManifest(incoming)!
    if (manifest.partition !== expect.partition) throw invalid(`the MANIFEST is of partition ${manifest.partition}, not ${expect.partition}`)
    for (const segment of manifest.segments) if (!received.has(segment.file)) throw invalid(`the MANIFEST names ${segment.file}, which was not sent`)
    if (manifest.appliedOffset < expect.atLeast) throw invalid(`the MANIFEST covers offsets below ${manifest.appliedOffset}, not the ${expect.atLeast} needed`)
    const fd = openSync(incoming, 'r')
    try { fsyncSync(fd) } finally { closeSync(fd) }
    rmSync(target, { recursive: true, force: true })
    renameSync(incoming, target)
    const parent = openSync(dirname(target), 'r')
    try { fsyncSync(parent) } finally { closeSync(parent) }
    return manifest.appliedOffset
  } catch (error) {
    if (file !== undefined) closeSync(file.fd)
    rmSync(incoming, { recursive: true, force: true })
    throw error
  }
}
