// Starts bench/support/ceiling-server.ts as a child process and talks to it with one request in
// flight, as the benchmark's kafkajs producer and consumer do with the broker.

import { spawn, type ChildProcess } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { FrameReader, frame, KIND_APPEND, KIND_READ } from './ceiling-server.ts'

const STARTUP_TIMEOUT_MS = 30_000
const serverScript = resolve(import.meta.dirname, 'ceiling-server.ts')

export interface CeilingServer {
  pid: number
  port: number
  stop(): Promise<void>
}

export async function startCeilingServer(flushIntervalMs: number): Promise<CeilingServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-ceiling-'))
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', serverScript, dir, String(flushIntervalMs)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((resolvePort, reject) => {
    let stdout = ''
    const timer = setTimeout(() => reject(new Error('ceiling server did not start')), STARTUP_TIMEOUT_MS)
    child.stdout!.on('data', chunk => {
      stdout += chunk
      const match = /listening on [^\s:]+:(\d+)/.exec(stdout)
      if (match) { clearTimeout(timer); resolvePort(Number(match[1])) }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`ceiling server exited with ${code}`)) })
  })
  const exited = once(child, 'exit')
  return {
    pid: child.pid!,
    port,
    async stop() {
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** One connection; append() and read() each wait for their answer (one request in flight). */
export class CeilingClient {
  private pending: ((body: Buffer) => void) | null = null
  private readonly reader = new FrameReader((_kind, body) => {
    const resolveAnswer = this.pending
    this.pending = null
    resolveAnswer?.(body)
  })

  private constructor(private readonly socket: Socket) {
    socket.on('data', chunk => this.reader.push(chunk))
  }

  static async connect(port: number): Promise<CeilingClient> {
    const socket = connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    await once(socket, 'connect')
    return new CeilingClient(socket)
  }

  private request(kind: number, body: Buffer): Promise<Buffer> {
    if (this.pending) throw new Error('one request at a time')
    const answer = new Promise<Buffer>(resolveAnswer => { this.pending = resolveAnswer })
    for (const part of frame(kind, body)) this.socket.write(part)
    return answer
  }

  async append(bytes: Buffer): Promise<void> {
    await this.request(KIND_APPEND, bytes)
  }

  read(position: number, maxBytes: number): Promise<Buffer> {
    const body = Buffer.allocUnsafe(12)
    body.writeBigUInt64BE(BigInt(position), 0)
    body.writeUInt32BE(maxBytes, 8)
    return this.request(KIND_READ, body)
  }

  close(): void {
    this.socket.destroy()
  }
}
