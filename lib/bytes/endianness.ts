// Whether this machine stores multi-byte numbers little-endian first. Code that reads a 64-bit
// typed array as pairs of 32-bit words (low word first) checks it and takes its BigInt path
// otherwise.

export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
