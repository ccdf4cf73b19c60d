// A TCP proxy between a client and the broker that can drop the connection instead of passing on
// the response to a chosen request: the way a real network loses an acknowledgement, which makes
// the client retry a request the broker already applied.

import { createServer, connect, type Server, type Socket } from 'node:net'

export interface FaultyProxy {
  port: number
  /** Drop the client connection instead of delivering the response to the next request with this API key. */
  dropNextResponse(apiKey: number): void
  droppedCount(): number
  close(): Promise<void>
}

export async function startFaultyProxy(target: { host: string; port: number }, listenPort = 0): Promise<FaultyProxy> {
  const dropKeys: number[] = []
  let dropped = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer(client => {
    const upstream = connect(target.port, target.host)
    sockets.add(client).add(upstream)
    const apiKeyByCorrelation = new Map<number, number>()
    const doomed = new Set<number>()
    frames(client, frame => {
      const apiKey = frame.readInt16BE(4)
      const correlationId = frame.readInt32BE(8)
      apiKeyByCorrelation.set(correlationId, apiKey)
      const index = dropKeys.indexOf(apiKey)
      if (index >= 0) { dropKeys.splice(index, 1); doomed.add(correlationId) }
      upstream.write(frame)
    })
    frames(upstream, frame => {
      const correlationId = frame.readInt32BE(4)
      if (doomed.has(correlationId)) {
        dropped++
        client.destroy()
        upstream.destroy()
        return
      }
      client.write(frame)
    })
    const closeBoth = (): void => { client.destroy(); upstream.destroy() }
    client.on('close', closeBoth).on('error', closeBoth)
    upstream.on('close', closeBoth).on('error', closeBoth)
  })
  await new Promise<void>(resolve => server.listen(listenPort, '127.0.0.1', resolve))
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : listenPort,
    dropNextResponse: apiKey => { dropKeys.push(apiKey) },
    droppedCount: () => dropped,
    close: () => new Promise(resolve => { for (const socket of sockets) socket.destroy(); server.close(() => resolve()) }),
  }
}

/** Calls `onFrame` with each whole size-prefixed frame (size included) read from the socket. */
function frames(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let pending = Buffer.alloc(0)
  socket.on('data', chunk => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0)
      if (pending.length < 4 + size) break
      onFrame(pending.subarray(0, 4 + size))
      pending = pending.subarray(4 + size)
    }
  })
}
