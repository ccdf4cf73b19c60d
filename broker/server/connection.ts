// One client connection: int32 framing, request header v1/v2, strictly one request at a time in
// arrival order (as Kafka mutes a channel until its response is sent), response header v0/v1.
// A malformed frame, an unknown API or version, or an oversized frame closes the connection.

import type { Socket } from 'node:net'
import { ProtocolDecodeError, Reader, Writer } from '../protocol/codec.ts'
import { ErrorCode } from '../protocol/errors.ts'
import { decodeRequest, encodeResponse, isFlexible } from '../protocol/schema.ts'
import type { BrokerParts, RequestContext, Route } from './context.ts'
import { NO_RESPONSE } from './context.ts'

const API_VERSIONS_KEY = 18
/** Frames queued beyond this pause reading from the socket until the queue drains. */
const MAX_QUEUED_FRAMES = 64

export class Connection {
  private pending: Buffer[] = []
  private pendingBytes = 0
  /** Size of the frame being collected, once its first four bytes are here; -1 before. */
  private frameSize = -1
  private readonly queue: Buffer[] = []
  private draining = false
  private closedFlag = false
  private readonly closedPromise: Promise<void>
  private resolveClosed!: () => void

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly routes: ReadonlyMap<number, Route>,
    private readonly broker: BrokerParts,
  ) {
    this.closedPromise = new Promise(resolve => { this.resolveClosed = resolve })
    socket.setNoDelay(true)
    socket.on('data', chunk => this.onData(chunk))
    socket.on('close', () => this.markClosed())
    socket.on('error', error => broker.logger.debug('connection error', { connectionId: id, error: error.message }))
  }

  get closed(): boolean { return this.closedFlag }

  close(reason: string): void {
    if (this.closedFlag) return
    this.broker.logger.warn('closing connection', { connectionId: this.id, remote: this.socket.remoteAddress, reason })
    this.socket.destroy()
    this.markClosed()
  }

  private markClosed(): void {
    if (this.closedFlag) return
    this.closedFlag = true
    this.queue.length = 0
    this.resolveClosed()
  }

  /**
   * Frames arrive in chunks of any size. The size of the frame being collected is read once, and
   * its chunks are joined once, when all of them are here: a large Produce request is copied once,
   * not once per chunk.
   */
  private onData(chunk: Buffer): void {
    this.pending.push(chunk)
    this.pendingBytes += chunk.length
    while (this.pendingBytes >= 4) {
      if (this.frameSize < 0) {
        const head = this.pending[0]!.length >= 4 ? this.pending[0]! : this.flatten()
        const size = head.readInt32BE(0)
        if (size < 0 || size > this.broker.config.maxFrameBytes) {
          this.close(`frame size ${size} outside [0, ${this.broker.config.maxFrameBytes}]`)
          return
        }
        this.frameSize = size
      }
      if (this.pendingBytes < 4 + this.frameSize) break
      const whole = this.flatten()
      this.queue.push(whole.subarray(4, 4 + this.frameSize))
      const rest = whole.subarray(4 + this.frameSize)
      this.pending = rest.length > 0 ? [rest] : []
      this.pendingBytes = rest.length
      this.frameSize = -1
    }
    if (this.queue.length > MAX_QUEUED_FRAMES) this.socket.pause()
    void this.drain()
  }

  private flatten(): Buffer {
    const joined = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes)
    this.pending = [joined]
    return joined
  }

  private async drain(): Promise<void> {
    if (this.draining) return
    this.draining = true
    try {
      while (this.queue.length > 0 && !this.closedFlag) {
        const frame = this.queue.shift()!
        if (this.queue.length <= MAX_QUEUED_FRAMES / 2 && this.socket.isPaused()) this.socket.resume()
        const response = await this.handle(frame)
        if (response && !this.closedFlag) this.writeChunks(response)
      }
    } finally {
      this.draining = false
    }
  }

  /** One response: several chunks (a Fetch response's record sets are not copied into it) in one writev. */
  private writeChunks(chunks: readonly Uint8Array[]): void {
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!)
      return
    }
    this.socket.cork()
    for (const chunk of chunks) this.socket.write(chunk)
    this.socket.uncork()
  }

  /** Decodes, dispatches and encodes one request; returns the framed response's chunks or null. */
  private async handle(frame: Buffer): Promise<readonly Uint8Array[] | null> {
    const reader = new Reader(frame)
    let apiKey = -1
    let apiVersion = -1
    let correlationId = -1
    try {
      apiKey = reader.int16()
      apiVersion = reader.int16()
      correlationId = reader.int32()
      const clientId = reader.nullableString()
      const route = this.routes.get(apiKey)
      if (!route || apiVersion < route.api.minVersion || apiVersion > route.api.maxVersion) {
        if (apiKey === API_VERSIONS_KEY) return this.unsupportedApiVersions(correlationId)
        this.close(`unsupported request: api key ${apiKey} version ${apiVersion}`)
        return null
      }
      const flexible = isFlexible(route.api, apiVersion)
      if (flexible) reader.skipTaggedFields()
      const request = decodeRequest(route.api, apiVersion, reader)
      const context: RequestContext = {
        apiKey, apiVersion, correlationId, clientId,
        clientHost: this.socket.remoteAddress ?? '',
        connectionId: this.id,
        closed: this.closedPromise,
      }
      const response = await route.handle(request, context, this.broker)
      if (response === NO_RESPONSE) return null
      return this.frameResponse(correlationId, flexible && apiKey !== API_VERSIONS_KEY, writer =>
        encodeResponse(route.api, apiVersion, writer, response))
    } catch (error) {
      const reason = error instanceof ProtocolDecodeError ? `malformed request: ${error.message}` : `handler failed: ${(error as Error).stack ?? error}`
      if (!(error instanceof ProtocolDecodeError)) this.broker.logger.error('request failed', { apiKey, apiVersion, correlationId, error: (error as Error).message })
      this.close(reason)
      return null
    }
  }

  /** The error-35 answer in the v0 layout, which every client can parse and retry from. */
  private unsupportedApiVersions(correlationId: number): readonly Uint8Array[] {
    const versionsRoute = this.routes.get(API_VERSIONS_KEY)!
    return this.frameResponse(correlationId, false, writer => {
      encodeResponse(versionsRoute.api, 0, writer, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: advertisedKeys(this.routes) })
    })
  }

  private frameResponse(correlationId: number, flexibleHeader: boolean, body: (writer: Writer) => void): readonly Uint8Array[] {
    const writer = new Writer(1024)
    const sizeAt = writer.placeholderInt32()
    writer.int32(correlationId)
    if (flexibleHeader) writer.emptyTaggedFields()
    body(writer)
    writer.patchInt32(sizeAt, writer.offset - 4)
    return writer.chunks() // the writer is this response's alone: no copy
  }
}

export function advertisedKeys(routes: ReadonlyMap<number, Route>): Array<{ apiKey: number; minVersion: number; maxVersion: number }> {
  return [...routes.values()]
    .map(({ api }) => ({ apiKey: api.key, minVersion: api.minVersion, maxVersion: api.maxVersion }))
    .sort((a, b) => a.apiKey - b.apiKey)
}
