import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { compressFrameSync, decompressFrameSync } from 'lz4-napi'
import { compressLz4Frame, decompressLz4Frame, xxh32Short } from './lz4-frame.ts'

const lineProtocol = (lines: number): Buffer =>
  Buffer.from(Array.from({ length: lines }, (_, i) => `cpu,hostname=host_${i % 100} usage_user=${(i * 7919) % 100}i ${1_700_000_000_000_000_000n + BigInt(i) * 10_000_000_000n}\n`).join(''))

/** The reference lz4 command line tool's decompression of `frame`. */
function lz4CliDecode(frame: Buffer): Buffer {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-lz4-'))
  try {
    writeFileSync(join(directory, 'input.lz4'), frame)
    return execFileSync('lz4', ['-d', '-c', '-q', join(directory, 'input.lz4')], { maxBuffer: 64 << 20 })
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

/** The reference lz4 command line tool's frame of `input`, with its options (from a file: on stdin it cannot know the size). */
function lz4Cli(input: Buffer, ...options: string[]): Buffer {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-lz4-'))
  try {
    writeFileSync(join(directory, 'input'), input)
    return execFileSync('lz4', ['-c', '-q', ...options, join(directory, 'input')], { maxBuffer: 64 << 20 })
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

test('xxh32Short gives the reference xxHash32 values', () => {
  const cases: Array<[string, number]> = [['', 0x02cc5d05], ['a', 0x550d7456], ['abc', 0x32d153ff]]
  for (const [text, expected] of cases) assert.equal(xxh32Short(Buffer.from(text), 0, text.length), expected, text)
  assert.throws(() => xxh32Short(Buffer.alloc(16), 0, 16), RangeError)
})

test('what lz4-napi writes decodes to the same bytes as its own frame decoder gives', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat({ max: 3 }), (bytes, repeat) => {
    const input = Buffer.concat(Array.from({ length: repeat + 1 }, () => bytes)) // repeats give LZ4 matches
    const frame = compressFrameSync(input)
    assert.equal(frame[4], 0x60, 'independent blocks, no checksums: the frames read block by block here')
    assert.deepEqual(decompressLz4Frame(frame), input)
    assert.deepEqual(decompressLz4Frame(frame), decompressFrameSync(frame))
  }), { numRuns: 300 })
  for (const input of [Buffer.alloc(0), lineProtocol(20_000), randomBytes(100_000), Buffer.alloc(5 << 20, 7)]) {
    assert.deepEqual(decompressLz4Frame(compressFrameSync(input)), input, `${input.length} bytes`)
  }
})

test('frames of the reference lz4 tool decode: several blocks, stored blocks, content size, and the checksummed or linked ones it leaves to lz4-napi', () => {
  const text = lineProtocol(30_000) // 2.3 MB
  const mixed = Buffer.concat([text.subarray(0, 100_000), randomBytes(150_000), text.subarray(0, 100_000)]) // a stored block among compressed ones
  for (const input of [text, mixed]) {
    for (const options of [['--no-frame-crc'], ['--no-frame-crc', '-B4'], ['--no-frame-crc', '-B5', '--content-size'], [], ['-BD', '-B4'], ['-BX', '-B4']]) {
      assert.deepEqual(decompressLz4Frame(lz4Cli(input, ...options)), input, `lz4 ${options.join(' ')} of ${input.length} bytes`)
    }
  }
})

test('a damaged frame is refused with what is wrong, never returned as data', () => {
  const input = lineProtocol(2_000)
  const frame = lz4Cli(input, '--no-frame-crc', '-B4') // several 64 KiB blocks, no checksum that lz4-napi would check instead
  assert.ok(frame.readUInt32LE(7) !== 0)

  assert.throws(() => decompressLz4Frame(frame.subarray(0, 5)), /not an LZ4 frame/)
  const badMagic = Buffer.from(frame)
  badMagic.writeUInt32LE(0x12345678, 0)
  assert.throws(() => decompressLz4Frame(badMagic), /magic number/)
  const badHeader = Buffer.from(frame)
  badHeader[6] ^= 0xff
  assert.throws(() => decompressLz4Frame(badHeader), /header checksum/)
  const reservedBit = Buffer.from(frame)
  reservedBit[4] |= 0x02
  assert.throws(() => decompressLz4Frame(reservedBit), /descriptor not understood/)
  assert.throws(() => decompressLz4Frame(frame.subarray(0, frame.length - 4)), /no end mark/)
  assert.throws(() => decompressLz4Frame(frame.subarray(0, frame.length - 100)), /truncated/)

  const oversized = Buffer.from(frame)
  oversized.writeUInt32LE(70_000, 7) // over the 64 KiB the header declares
  assert.throws(() => decompressLz4Frame(oversized), /over the frame's maximum of 65536/)

  // A block whose sequences point before its start, or run past the block bound, is refused by the
  // block decoder; flip bytes at every offset of the first block and accept either an error or the
  // exact input (a flipped literal changes data, which the record batch CRC catches, and must
  // never crash or read out of bounds).
  const firstBlockSize = frame.readUInt32LE(7) & 0x7fffffff
  let refused = 0
  for (let at = 11; at < 11 + firstBlockSize; at += 37) {
    const damaged = Buffer.from(frame)
    damaged[at] ^= 0x5a
    try {
      decompressLz4Frame(damaged)
    } catch (error) {
      assert.match((error as Error).message, /LZ4 block 0 of the frame is corrupt/)
      refused++
    }
  }
  assert.ok(refused > 0, 'some flipped byte made the block undecodable')

  const declared = lz4Cli(input, '--no-frame-crc', '--content-size')
  assert.equal(declared[4]! & 0x08, 0x08, 'the frame carries its content size')
  assert.deepEqual(decompressLz4Frame(declared), input)
  const wrongSize = Buffer.from(declared)
  wrongSize.writeBigUInt64LE(BigInt(input.length + 1), 6)
  wrongSize[14] = (xxh32Short(wrongSize, 4, 14) >>> 8) & 0xff // a consistent header that lies about the size
  assert.throws(() => decompressLz4Frame(wrongSize), /declares \d+ bytes and holds \d+/)
})

test('compressLz4Frame writes frames that declare their size and that lz4-napi, the lz4 tool and the reader here decode', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 5000 }), fc.nat({ max: 3 }), (bytes, repeat) => {
    const input = Buffer.concat(Array.from({ length: repeat + 1 }, () => bytes))
    const frame = compressLz4Frame(input)
    assert.equal(frame[4], 0x68, 'independent blocks, the content size, no checksums')
    assert.equal(frame.readBigUInt64LE(6), BigInt(input.length))
    assert.deepEqual(decompressLz4Frame(frame), input)
    assert.deepEqual(decompressFrameSync(frame), input)
  }), { numRuns: 300 })
  const text = lineProtocol(40_000) // 3 MB: several 1 MiB blocks
  const mixed = Buffer.concat([text.subarray(0, 100_000), randomBytes(1_100_000)]) // a block that does not shrink is stored
  for (const input of [Buffer.alloc(0), text, mixed]) {
    const frame = compressLz4Frame(input)
    assert.deepEqual(decompressLz4Frame(frame), input, `${input.length} bytes`)
    assert.deepEqual(lz4CliDecode(frame), input, `lz4 -d of ${input.length} bytes`)
  }
  const storedAt = compressLz4Frame(mixed).readUInt32LE(15 + 4 + (compressLz4Frame(mixed).readUInt32LE(15) & 0x7fffffff))
  assert.ok(storedAt & 0x80000000, 'the random second block is stored')
})

test('a frame is left as it was by decoding it, and a declared size that is too small is refused', () => {
  const input = lineProtocol(3_000)
  const frame = compressLz4Frame(input)
  const copy = Buffer.from(frame)
  assert.deepEqual(decompressLz4Frame(frame), input)
  assert.deepEqual(frame, copy, 'the block size word written over for the call is put back')
  const short = Buffer.from(frame)
  short.writeBigUInt64LE(BigInt(input.length - 1), 6)
  short[14] = (xxh32Short(short, 4, 14) >>> 8) & 0xff
  const before = Buffer.from(short)
  assert.throws(() => decompressLz4Frame(short), /LZ4 block 0 of the frame is corrupt/)
  assert.deepEqual(short, before, 'put back after a failed call too')
})
