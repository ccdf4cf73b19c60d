// An append-only, checksummed record log for the broker's own state (topic catalog, group offsets,
// transactions, producer-id blocks). Every append is fsynced before it resolves, so a request that
// changed state is answered only once the change is durable. A torn tail is cut off on open.
//
// File layout: repeated frames of [length u32][crc32c u32 of payload][payload]. Payloads are
// UTF-8 JSON documents chosen by the owner of the log. JSON has no 64-bit integers, so owners
// write bigints as decimal strings themselves (JSON.stringify throws on a bigint, loudly).

import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, renameSync, writeSync, existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { crc32c } from '../record/crc32c.ts'

const FRAME_HEADER_BYTES = 8
const MAX_RECORD_BYTES = 64 * 1024 * 1024

export interface MetaLogOpen<T> {
  log: MetaLog<T>
  records: T[]
  /** Bytes cut from a torn or corrupt tail. */
  truncatedBytes: number
}

export class MetaLog<T> {
  private constructor(private readonly path: string, private fd: number, private sizeBytes: number, private readonly durable: boolean) {}

  /** Opens (or creates) the log and returns every intact record. */
  static open<T>(path: string, options: { durable?: boolean } = {}): MetaLogOpen<T> {
    mkdirSync(dirname(path), { recursive: true })
    const bytes = existsSync(path) ? readFileSync(path) : Buffer.alloc(0)
    const records: T[] = []
    let at = 0
    while (at + FRAME_HEADER_BYTES <= bytes.length) {
      const length = bytes.readUInt32BE(at)
      const end = at + FRAME_HEADER_BYTES + length
      if (length > MAX_RECORD_BYTES || end > bytes.length) break
      if (crc32c(bytes, at + FRAME_HEADER_BYTES, end) !== bytes.readUInt32BE(at + 4)) break
      records.push(parse<T>(bytes.subarray(at + FRAME_HEADER_BYTES, end)))
      at = end
    }
    const fd = openSync(path, 'a+')
    if (at < bytes.length) {
      ftruncateSync(fd, at)
      fsyncSync(fd)
    }
    return { log: new MetaLog<T>(path, fd, at, options.durable ?? true), records, truncatedBytes: bytes.length - at }
  }

  get bytes(): number { return this.sizeBytes }

  /** Appends records as one write and fsyncs before returning. */
  append(...records: T[]): void {
    const frames = Buffer.concat(records.map(frame))
    writeSync(this.fd, frames)
    if (this.durable) fdatasyncSync(this.fd)
    this.sizeBytes += frames.length
  }

  /** Replaces the whole log with a compacted set of records (write, fsync, rename, fsync dir). */
  rewrite(records: T[]): void {
    const temporary = `${this.path}.compacting`
    const fd = openSync(temporary, 'w')
    const frames = Buffer.concat(records.map(frame))
    writeSync(fd, frames)
    fsyncSync(fd)
    closeSync(fd)
    renameSync(temporary, this.path)
    syncDirectory(dirname(this.path))
    closeSync(this.fd)
    this.fd = openSync(this.path, 'a+')
    this.sizeBytes = frames.length
  }

  close(): void {
    closeSync(this.fd)
  }
}

function frame(record: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(record))
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length)
  out.writeUInt32BE(payload.length, 0)
  out.writeUInt32BE(crc32c(payload), 4)
  payload.copy(out, FRAME_HEADER_BYTES)
  return out
}

function parse<T>(payload: Buffer): T {
  return JSON.parse(payload.toString('utf8')) as T
}

export function syncDirectory(path: string): void {
  const fd = openSync(path, 'r')
  try { fsyncSync(fd) } finally { closeSync(fd) }
}
