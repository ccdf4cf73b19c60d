// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slice-by-8. Record batches carry it
// over bytes [21, end); Node's zlib.crc32 is the IEEE polynomial and cannot be used.

const POLYNOMIAL = 0x82f63b78
const TABLES = buildTables()

function buildTables(): Uint32Array[] {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256))
  for (let n = 0; n < 256; n++) {
    let crc = n
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1
    tables[0]![n] = crc >>> 0
  }
  for (let n = 0; n < 256; n++) {
    let crc = tables[0]![n]!
    for (let t = 1; t < 8; t++) {
      crc = tables[0]![crc & 0xff]! ^ (crc >>> 8)
      tables[t]![n] = crc >>> 0
    }
  }
  return tables
}

export function crc32c(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array]
  let crc = 0xffffffff
  let i = start
  for (; i + 8 <= end; i += 8) {
    const low = (crc ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24))) >>> 0
    crc = t7[low & 0xff]! ^ t6[(low >>> 8) & 0xff]! ^ t5[(low >>> 16) & 0xff]! ^ t4[low >>> 24]! ^
      t3[bytes[i + 4]!]! ^ t2[bytes[i + 5]!]! ^ t1[bytes[i + 6]!]! ^ t0[bytes[i + 7]!]!
  }
  for (; i < end; i++) crc = t0[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
