// Whether this machine stores multi-byte numbers little-endian first, and where the low and high
// 32-bit words of a 64-bit slot sit in an Int32Array or Uint32Array view of a BigInt64Array. Code
// that reads 64-bit values as word pairs uses these instead of a BigInt per value.

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
/** Index of the low / high 32-bit word of a 64-bit slot in a 32-bit view of its array. */
export const LOW_WORD = LITTLE_ENDIAN ? 0 : 1
export const HIGH_WORD = LITTLE_ENDIAN ? 1 : 0
