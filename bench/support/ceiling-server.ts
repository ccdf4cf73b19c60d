// The machine's ceiling for the broker benchmark: a plain Node TCP server, run as its own process like
// the broker, that appends each request's bytes to one file and acknowledges them only after an
// fdatasync that covers them, with the broker's group-commit cadence (a round starts at once when
// idle, otherwise at most one round per flushIntervalMs, counted from the previous round's start, as
// broker/log/flusher.ts does under flush policy 'always'). It also serves reads of that file, the
// ceiling for the consume side. No Kafka framing, no CRC, no index, no record decoding.
//
// Run by bench/broker-throughput.ts: node --import tsx bench/support/ceiling-server.ts <dir> <flushIntervalMs>
// Wire format, both directions: frames of [u32 length][u8 kind][body], big-endian.
//   kind 1 append: body = bytes to append        answer: kind 1, empty body, after fdatasync
//   kind 2 read:   body = u64 position, u32 max  answer: kind 2, body = up to max bytes from position

import { createServer, type Socket } from 'node:net'
import { closeSync, fdatasync, openSync, read, writeSync } from 'node:fs'
import { join } from 'node:path'

export const KIND_APPEND = 1
export const KIND_READ = 2
export const FRAME_HEADER_BYTES = 5
/** Requests larger than this close the connection (the broker's maxFrameBytes default is 100 MiB). */
const MAX_FRAME_BYTES = 100 * 1024 * 1024

export function frame(kind: number, body: Buffer): Buffer[] {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES)
  header.writeUInt32BE(body.length + 1, 0)
  header[4] = kind
  return [header, body]
}

/** Splits a byte stream into frames; calls onFrame(kind, body) for each complete one. */
export class FrameReader {
  private chunks: Buffer[] = []
  private bufferedBytes = 0

  constructor(private readonly onFrame: (kind: number, body: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.bufferedBytes += chunk.length
    for (;;) {
      if (this.bufferedBytes < 4) return
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.joined()
      const frameBytes = head.readUInt32BE(0)
      if (frameBytes < 1 || frameBytes > MAX_FRAME_BYTES) throw new Error(`bad frame length ${frameBytes}`)
      if (this.bufferedBytes < 4 + frameBytes) return
      const all = this.joined()
      this.onFrame(all[4]!, all.subarray(FRAME_HEADER_BYTES, 4 + frameBytes))
      const rest = all.subarray(4 + frameBytes)
      this.chunks = rest.length > 0 ? [rest] : []
      this.bufferedBytes = rest.length
    }
  }

  private joined(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.bufferedBytes)]
    return this.chunks[0]!
  }
}

function serve(dir: string, flushIntervalMs: number): void {
  const fd = openSync(join(dir, 'log'), 'a+')
  let fileBytes = 0
  let waiting: Socket[] = []
  let syncing = false
  let scheduled = false
  let lastRoundStartMs = -Infinity
  const ack = Buffer.concat(frame(KIND_APPEND, Buffer.alloc(0)))

  const round = (): void => {
    scheduled = false
    const acking = waiting
    waiting = []
    syncing = true
    lastRoundStartMs = Date.now()
    fdatasync(fd, error => {
      if (error) throw error
      syncing = false
      for (const socket of acking) socket.write(ack)
      schedule()
    })
  }
  const schedule = (): void => {
    if (syncing || scheduled || waiting.length === 0) return
    scheduled = true
    const delayMs = Math.max(0, lastRoundStartMs + flushIntervalMs - Date.now())
    if (delayMs === 0) setImmediate(round)
    else setTimeout(round, delayMs)
  }

  const server = createServer(socket => {
    socket.setNoDelay(true)
    const reader = new FrameReader((kind, body) => {
      if (kind === KIND_APPEND) {
        for (let written = 0; written < body.length;) written += writeSync(fd, body, written, body.length - written)
        fileBytes += body.length
        waiting.push(socket)
        schedule()
      } else if (kind === KIND_READ) {
        const position = Number(body.readBigUInt64BE(0))
        const maxBytes = Math.min(body.readUInt32BE(8), Math.max(0, fileBytes - position))
        const out = Buffer.allocUnsafe(maxBytes)
        read(fd, out, 0, maxBytes, position, (error, bytesRead) => {
          if (error) throw error
          socket.write(Buffer.concat(frame(KIND_READ, out.subarray(0, bytesRead))))
        })
      } else {
        socket.destroy()
      }
    })
    socket.on('data', chunk => reader.push(chunk))
    socket.on('error', () => socket.destroy())
  })
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    if (typeof address !== 'object' || address === null) throw new Error('no address')
    process.stdout.write(`ceiling listening on 127.0.0.1:${address.port}\n`)
  })
  process.once('SIGTERM', () => { server.close(); closeSync(fd); process.exit(0) })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, interval] = process.argv.slice(2)
  if (dir === undefined || interval === undefined) throw new Error('usage: ceiling-server.ts <dir> <flushIntervalMs>')
  serve(dir, Number(interval))
}
