// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78). Record batches carry it over bytes
// [21, end); Node's zlib.crc32 is the IEEE polynomial and cannot be used. The hardware instruction
// through @node-rs/crc32 does it at several GB/s; slice-by-8 in JavaScript (about 0.7 GB/s) is the
// fallback where that package has no binary for the platform, and the reference its tests compare with.

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

/** Which implementation crc32c() uses: "native" or "js". */
export const crc32cImplementation: 'native' | 'js' = native ? 'native' : 'js'

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
  if (native !== null && end - start >= NATIVE_MIN_BYTES) return native(bytes.subarray(start, end), 0) >>> 0
  return crc32cJs(bytes, start, end)
}

/** The JavaScript implementation, always available. */
export function crc32cJs(bytes: Uint8Array, start = 0, end = bytes.length): number {
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
