// CRC-32C (Castagnoli), the checksum of Kafka record batches, for the benchmark's replayed requests.
// Table-driven and simple: it runs before the clock starts.

const POLYNOMIAL_REVERSED = 0x82f63b78
const TABLE = new Uint32Array(256)
for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL_REVERSED : c >>> 1
  TABLE[n] = c >>> 0
}

export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
