// CRC-32C (Castagnoli) over bytes, slice-by-8: the checksum of segment blocks and indexes in sinks/.
// Shared here because broker/ (which has its own) must not be imported by Sluice's layers.

const POLYNOMIAL_REVERSED = 0x82f63b78
const TABLES = new Uint32Array(8 * 256)

for (let n = 0; n < 256; n++) {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL_REVERSED : c >>> 1
  TABLES[n] = c >>> 0
}
for (let n = 0; n < 256; n++) {
  for (let t = 1; t < 8; t++) {
    const previous = TABLES[(t - 1) * 256 + n]!
    TABLES[t * 256 + n] = (TABLES[previous & 0xff]! ^ (previous >>> 8)) >>> 0
  }
}

/** CRC-32C of bytes, continuing from `previous` (the CRC of the bytes before; 0 to start). */
export function crc32c(bytes: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0
  let i = 0
  const end8 = bytes.length - (bytes.length % 8)
  while (i < end8) {
    const low = (crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0
    crc = TABLES[7 * 256 + (low & 0xff)]! ^ TABLES[6 * 256 + ((low >>> 8) & 0xff)]! ^
      TABLES[5 * 256 + ((low >>> 16) & 0xff)]! ^ TABLES[4 * 256 + (low >>> 24)]! ^
      TABLES[3 * 256 + bytes[i + 4]!]! ^ TABLES[2 * 256 + bytes[i + 5]!]! ^
      TABLES[256 + bytes[i + 6]!]! ^ TABLES[bytes[i + 7]!]!
    i += 8
  }
  for (; i < bytes.length; i++) crc = TABLES[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}
