// Unit tests for the byte-level Reader and Writer: varint edge cases, nullable and compact
// strings and bytes, tagged-field sections, and truncation errors.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ProtocolDecodeError, Reader, RECORDS_ATTACH_MIN_BYTES, Writer, WRITER_ATTACH_MIN_BYTES } from './codec.ts'

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex')
const written = (write: (writer: Writer) => unknown): string => {
  const writer = new Writer(1)
  write(writer)
  return writer.toBuffer().toString('hex')
}
const throwsDecode = (read: () => unknown): void => {
  assert.throws(read, (error: unknown) => error instanceof ProtocolDecodeError && error.code === 'BROKER_ERR_DECODE')
}

test('uvarint: LEB128 bytes and round trip up to 2^32-1', () => {
  const cases: Array<[number, string]> = [
    [0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [300, 'ac02'], [16_384, '808001'],
    [2 ** 31 - 1, 'ffffffff07'], [2 ** 32 - 1, 'ffffffff0f'],
  ]
  for (const [value, bytes] of cases) {
    assert.equal(written(w => w.uvarint(value)), bytes, `encode ${value}`)
    const reader = new Reader(hex(bytes))
    assert.equal(reader.uvarint(), value, `decode ${bytes}`)
    assert.equal(reader.remaining, 0)
  }
})

test('uvarint: the writer handles 2^53-1, the reader rejects anything past 5 bytes', () => {
  assert.equal(written(w => w.uvarint(2 ** 53 - 1)), 'ffffffffffffff0f')
  throwsDecode(() => new Reader(hex('ffffffffffffff0f')).uvarint())
  // Six bytes, even with a clean terminator, is not a Kafka unsigned varint.
  throwsDecode(() => new Reader(hex('808080808001')).uvarint())
})

test('varint (zigzag int32): 0, -1, 1, extremes', () => {
  const cases: Array<[number, string]> = [
    [0, '00'], [-1, '01'], [1, '02'], [-2, '03'], [63, '7e'], [-64, '7f'], [64, '8001'],
    [2 ** 31 - 1, 'feffffff0f'], [-(2 ** 31), 'ffffffff0f'],
  ]
  for (const [value, bytes] of cases) {
    assert.equal(written(w => w.varint(value)), bytes, `encode ${value}`)
    assert.equal(new Reader(hex(bytes)).varint(), value, `decode ${bytes}`)
  }
})

test('varint: a 2^53-ish value does not fit an int32 varint and is rejected on read', () => {
  const bytes = written(w => w.varint(2 ** 52))
  assert.equal(bytes.length / 2, 8)
  throwsDecode(() => new Reader(Buffer.from(bytes, 'hex')).varint())
})

test('varlong (zigzag int64): 0, -1, 1, 2^31 edges, 2^53 edges, int64 min and max', () => {
  const max = 2n ** 63n - 1n
  const min = -(2n ** 63n)
  const cases: Array<[bigint, string]> = [
    [0n, '00'], [-1n, '01'], [1n, '02'],
    [2n ** 31n - 1n, 'feffffff0f'], [-(2n ** 31n), 'ffffffff0f'],
    [2n ** 53n + 1n, '8280808080808020'], // zigzag 2^54 + 2: bit 54 lands in the 8th group
    [-(2n ** 53n) - 1n, '8180808080808020'],
    [max, 'feffffffffffffffff01'], [min, 'ffffffffffffffffff01'],
  ]
  for (const [value, bytes] of cases) {
    assert.equal(written(w => w.varlong(value)), bytes, `encode ${value}`)
    const reader = new Reader(hex(bytes))
    assert.equal(reader.varlong(), value, `decode ${bytes}`)
    assert.equal(reader.remaining, 0)
  }
})

test('varlong: 11 bytes are rejected, and a 10th byte never yields a value outside int64', () => {
  throwsDecode(() => new Reader(hex('ffffffffffffffffff8101')).varlong())
  const value = new Reader(hex('ffffffffffffffffff7f')).varlong()
  assert.ok(value >= -(2n ** 63n) && value < 2n ** 63n, `${value} is outside int64`)
})

test('fixed-width integers are big-endian', () => {
  assert.equal(written(w => w.int8(-1).int16(0x0102).int32(-2).uint32(0xfffffffe).int64(-3n).bool(true).bool(false)),
    'ff' + '0102' + 'fffffffe' + 'fffffffe' + 'fffffffffffffffd' + '01' + '00')
  const reader = new Reader(hex('ff 0102 fffffffe fffffffe fffffffffffffffd 01 00 02'))
  assert.deepEqual(
    [reader.int8(), reader.int16(), reader.int32(), reader.uint32(), reader.int64(), reader.bool(), reader.bool(), reader.bool()],
    [-1, 0x0102, -2, 0xfffffffe, -3n, true, false, true],
  )
})

test('nullable and plain strings (int16 length, -1 = null, UTF-8 byte length)', () => {
  assert.equal(written(w => w.nullableString(null)), 'ffff')
  assert.equal(written(w => w.string('')), '0000')
  assert.equal(written(w => w.string('héllo')), '0006' + Buffer.from('héllo').toString('hex'))
  assert.equal(new Reader(hex('ffff')).nullableString(), null)
  assert.equal(new Reader(hex('0000')).string(), '')
  assert.equal(new Reader(hex('0006' + Buffer.from('héllo').toString('hex'))).string(), 'héllo')
  throwsDecode(() => new Reader(hex('ffff')).string())
})

test('compact strings (uvarint length+1, 0 = null)', () => {
  assert.equal(written(w => w.compactNullableString(null)), '00')
  assert.equal(written(w => w.compactNullableString('')), '01')
  assert.equal(written(w => w.compactNullableString('ab')), '036162')
  assert.equal(new Reader(hex('00')).compactNullableString(), null)
  assert.equal(new Reader(hex('01')).compactString(), '')
  assert.equal(new Reader(hex('036162')).compactString(), 'ab')
  throwsDecode(() => new Reader(hex('00')).compactString())
  const long = 'x'.repeat(200)
  const reader = new Reader(Buffer.from(written(w => w.compactNullableString(long)), 'hex'))
  assert.equal(reader.compactString(), long)
})

test('nullable and compact bytes', () => {
  assert.equal(written(w => w.nullableBytes(null)), 'ffffffff')
  assert.equal(written(w => w.nullableBytes(Buffer.alloc(0))), '00000000')
  assert.equal(written(w => w.nullableBytes(Buffer.from([1, 2]))), '000000020102')
  assert.equal(written(w => w.compactNullableBytes(null)), '00')
  assert.equal(written(w => w.compactNullableBytes(Buffer.alloc(0))), '01')
  assert.equal(written(w => w.compactNullableBytes(Buffer.from([1, 2]))), '030102')
  assert.equal(new Reader(hex('ffffffff')).nullableBytes(), null)
  assert.deepEqual(new Reader(hex('000000020102')).nullableBytes(), Buffer.from([1, 2]))
  assert.equal(new Reader(hex('00')).compactNullableBytes(), null)
  assert.deepEqual(new Reader(hex('01')).compactNullableBytes(), Buffer.alloc(0))
  assert.deepEqual(new Reader(hex('030102')).compactNullableBytes(), Buffer.from([1, 2]))
})

test('array lengths: -1 is null, a count larger than the frame is rejected', () => {
  assert.equal(new Reader(hex('ffffffff')).arrayLength(), -1)
  assert.equal(new Reader(hex('00000001 00')).arrayLength(), 1)
  throwsDecode(() => new Reader(hex('00000002 00')).arrayLength())
  throwsDecode(() => new Reader(hex('7fffffff')).arrayLength())
  assert.equal(new Reader(hex('00')).compactArrayLength(), -1)
  assert.equal(new Reader(hex('02 00')).compactArrayLength(), 1)
  throwsDecode(() => new Reader(hex('03 00')).compactArrayLength())
})

test('skipTaggedFields skips every (tag, size, bytes) entry and stops at the next field', () => {
  const empty = new Reader(hex('00 7f'))
  empty.skipTaggedFields()
  assert.equal(empty.int8(), 0x7f)

  const two = new Reader(hex('02 00 03 aabbcc 05 00 7f'))
  two.skipTaggedFields()
  assert.equal(two.int8(), 0x7f)
  assert.equal(two.remaining, 0)

  const bigTag = new Reader(hex('01 8001 02 aabb 7f')) // tag 128 in a two-byte uvarint
  bigTag.skipTaggedFields()
  assert.equal(bigTag.int8(), 0x7f)

  throwsDecode(() => new Reader(hex('01 00 05 aabb')).skipTaggedFields())
  throwsDecode(() => new Reader(hex('02 00 00')).skipTaggedFields())
})

test('Reader: every read past the end throws ProtocolDecodeError and leaves the offset alone', () => {
  const reads: Array<[string, (reader: Reader) => unknown]> = [
    ['', r => r.int8()],
    ['01', r => r.int16()],
    ['010203', r => r.int32()],
    ['010203', r => r.uint32()],
    ['01020304050607', r => r.int64()],
    ['', r => r.bool()],
    ['80', r => r.uvarint()],
    ['ffff', r => r.varint()],
    ['808080', r => r.varlong()],
    ['0102', r => r.raw(3)],
    ['0005 6162', r => r.string()],
    ['00', r => r.nullableString()],
    ['05 6162', r => r.compactString()],
    ['00000004 616263', r => r.nullableBytes()],
    ['05 6162', r => r.compactNullableBytes()],
    ['000000', r => r.arrayLength()],
  ]
  for (const [bytes, read] of reads) {
    const reader = new Reader(hex(bytes))
    throwsDecode(() => read(reader))
  }
  const reader = new Reader(hex('010203'))
  throwsDecode(() => reader.int32())
  assert.equal(reader.offset, 0)
  throwsDecode(() => reader.raw(-1))
})

test('Reader honours a start offset; Writer grows, patches placeholders and copies out', () => {
  const reader = new Reader(hex('ff 0007'), 1)
  assert.equal(reader.int16(), 7)

  const writer = new Writer(2)
  const lengthAt = writer.placeholderInt32()
  writer.string('a much longer string than two bytes')
  writer.patchInt32(lengthAt, writer.offset - 4)
  const bytes = writer.toBuffer()
  assert.equal(bytes.readInt32BE(0), bytes.length - 4)
  assert.equal(new Reader(bytes, 4).string(), 'a much longer string than two bytes')
  assert.deepEqual(writer.view(), bytes)
  writer.int8(1)
  assert.equal(bytes.length + 1, writer.offset, 'toBuffer is a copy, not a view')
})

test('Writer output does not depend on where growth happens (every write type across the boundary)', () => {
  const writeAll = (writer: Writer): Buffer => {
    writer.int8(-5).int16(0x1234).uvarint(300).int32(-7).uint32(0xdeadbeef).varint(-300).int64(-9n)
    writer.varlong(-(2n ** 40n)).bool(true).string('héllo wörld').compactNullableString('compact')
    writer.nullableBytes(Buffer.from('bytes')).compactNullableBytes(Buffer.from('cb')).emptyTaggedFields()
    writer.uvarint(2 ** 31).varlong(2n ** 62n).nullableString(null).raw(Buffer.from([1, 2, 3]))
    return writer.toBuffer()
  }
  const reference = writeAll(new Writer(4096))
  for (let initialBytes = 1; initialBytes <= reference.length; initialBytes++) {
    assert.deepEqual(writeAll(new Writer(initialBytes)), reference, `initial capacity ${initialBytes}`)
  }
})

test('Writer keeps long byte strings by reference: chunks() hands them out as given, view() and patches as if copied', () => {
  const records = Buffer.alloc(WRITER_ATTACH_MIN_BYTES, 7)
  const more = Buffer.alloc(WRITER_ATTACH_MIN_BYTES + 3, 9)
  const writeAll = (writer: Writer): Writer => {
    const sizeAt = writer.placeholderInt32()
    writer.int32(42).string('topic').nullableBytes(records)
    const innerAt = writer.placeholderInt32()
    writer.int16(3).nullableBytes(more).nullableBytes(Buffer.from('short')).int8(1)
    writer.patchInt32(innerAt, 1234)
    writer.patchInt32(sizeAt, writer.offset - 4)
    return writer
  }
  // The same bytes through copies only: the long strings written a byte string of 1 KiB at a time.
  const reference = new Writer(16)
  const sizeAt = reference.placeholderInt32()
  reference.int32(42).string('topic').int32(records.length)
  for (let at = 0; at < records.length; at += 1024) reference.raw(records.subarray(at, at + 1024))
  const innerAt = reference.placeholderInt32()
  reference.int16(3).int32(more.length)
  for (let at = 0; at < more.length; at += 1024) reference.raw(more.subarray(at, at + 1024))
  reference.nullableBytes(Buffer.from('short')).int8(1)
  reference.patchInt32(innerAt, 1234)
  reference.patchInt32(sizeAt, reference.offset - 4)
  const expected = reference.toBuffer()
  assert.equal(reference.chunks().length, 1)

  for (const initialBytes of [1, 16, 1024]) {
    const writer = writeAll(new Writer(initialBytes))
    const chunks = writer.chunks()
    assert.equal(writer.offset, expected.length)
    assert.deepEqual(Buffer.concat(chunks), expected, `initial capacity ${initialBytes}`)
    assert.deepEqual(writer.view(), expected)
    assert.ok(chunks.includes(records) && chunks.includes(more), 'the long strings are the caller\'s buffers, not copies')
    assert.equal(chunks.length, 5, 'head, records, middle, more, tail')
  }
  assert.throws(() => new Writer(8).int8(0).raw(records).patchInt32(-1, 0), RangeError)
  assert.throws(() => new Writer(8).int8(0).raw(records).patchInt32(100, 0), RangeError, 'the caller\'s bytes are never written to')
})

test('Writer.records: a record set from RECORDS_ATTACH_MIN_BYTES on is kept by reference, the bytes as nullableBytes and compactNullableBytes write them', () => {
  const sets = [null, Buffer.alloc(0), Buffer.alloc(RECORDS_ATTACH_MIN_BYTES - 1, 1), Buffer.alloc(RECORDS_ATTACH_MIN_BYTES, 2), Buffer.alloc(WRITER_ATTACH_MIN_BYTES - 1, 3)]
  for (const compact of [false, true]) {
    const writer = new Writer(16)
    const copied = new Writer(16)
    for (const set of sets) {
      writer.int16(7).records(set, compact)
      copied.int16(7)
      if (compact) copied.compactNullableBytes(set === null ? null : Buffer.from(set))
      else copied.nullableBytes(set === null ? null : Buffer.from(set))
    }
    assert.deepEqual(Buffer.concat(writer.chunks()), copied.toBuffer(), `compact ${compact}`)
    const chunks = writer.chunks()
    assert.ok(chunks.includes(sets[3]!) && chunks.includes(sets[4]!), 'record sets of RECORDS_ATTACH_MIN_BYTES and more are the caller\'s buffers')
    assert.ok(!chunks.includes(sets[2]!), 'a shorter one is copied')
  }
})
