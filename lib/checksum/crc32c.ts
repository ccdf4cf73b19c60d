// CRC-32C (Castagnoli) over bytes: the checksum of segment blocks and indexes in sinks/ and of
// snapshot files in replicaset/. The CPU's CRC instruction through @node-rs/crc32 where that
// package has a binary (several GB/s), else slice-by-8 in JavaScript (about 0.7 GB/s), which the
// tests also check the native one against. broker/ has its own copy: Sluice's layers may not import
// the broker, nor the broker lib/.

import { createRequire } from 'node:module'

type NativeCrc32c = (input: Uint8Array, initialState?: number) => number

function loadNative(): NativeCrc32c | null {
  try {
    return (createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: NativeCrc32c }).crc32c
  } catch {
    return null
  }
}

const native = process.env.SLUICE_CRC32C === 'js' ? null : loadNative()
/** Below this many bytes the call into native code costs more than it saves. */
const NATIVE_MIN_BYTES = 64

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
  if (native !== null && bytes.length >= NATIVE_MIN_BYTES) return native(bytes, previous) >>> 0
  return crc32cJs(bytes, previous)
}

/** The JavaScript implementation, always available. */
export function crc32cJs(bytes: Uint8Array, previous = 0): number {
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
