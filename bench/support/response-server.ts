// A stand-in broker for bench/response-reassembly.ts, run as a child process so that its CPU is not
// the bench's: on loopback, it answers each request (int32 size 8, int32 correlation id, int32 bytes
// wanted) with a response of that many bytes (int32 size, int32 correlation id, filler), written in
// one write as the broker writes a Fetch response. Prints its port on stdout.

import { createServer, type AddressInfo } from 'node:net'

const REQUEST_BYTES = 12

const server = createServer(socket => {
  socket.setNoDelay(true)
  let pending = Buffer.alloc(0)
  socket.on('data', data => {
    pending = pending.length === 0 ? data : Buffer.concat([pending, data])
    while (pending.length >= REQUEST_BYTES) {
      const correlationId = pending.readInt32BE(4)
      const framedBytes = pending.readInt32BE(8)
      pending = pending.subarray(REQUEST_BYTES)
      const response = Buffer.allocUnsafe(framedBytes).fill(correlationId & 0xff)
      response.writeInt32BE(framedBytes - 4, 0)
      response.writeInt32BE(correlationId, 4)
      socket.write(response)
    }
  })
  socket.on('error', () => socket.destroy())
})
server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port))
process.on('disconnect', () => process.exit(0))
process.stdin.on('end', () => process.exit(0))
process.stdin.resume()
