import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  type Column, type FieldTypeCode, BlockCodec, FieldType, decodeBlock, encodeBlock, repeatsFourBytes, sealBlock, unsealBlock, computeStats,
} from './block.ts'
import { compressSync } from 'lz4-napi'

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

function sortedUniqueTimes(times: bigint[]): BigInt64Array {
  return BigInt64Array.from([...new Set(times)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
}

function roundTrip(column: Column): void {
  const sealed = sealBlock(encodeBlock(column))
  const decoded = decodeBlock(unsealBlock(sealed.stored, sealed.codec, sealed.rawLength, sealed.crc32c))
  assert.equal(decoded.type, column.type)
  assert.deepEqual([...decoded.times], [...column.times])
  if (column.type === FieldType.FLOAT) {
    const expected = new Uint8Array((column.values as Float64Array).buffer.slice(0))
    const actual = new Uint8Array((decoded.values as Float64Array).buffer.slice(0))
    assert.deepEqual(actual, expected, 'float bits differ')
  } else {
    assert.deepEqual(Array.from(decoded.values as ArrayLike<unknown>), Array.from(column.values as ArrayLike<unknown>))
  }
}

const timeArbitrary = fc.oneof(
  fc.bigInt({ min: INT64_MIN, max: INT64_MAX }),
  fc.bigInt({ min: 1_451_606_400_000_000_000n, max: 1_451_606_500_000_000_000n }),
  fc.constantFrom(INT64_MIN, INT64_MAX, 0n, -1n, 1n),
)
const timesArbitrary = fc.array(timeArbitrary, { minLength: 1, maxLength: 300 }).map(sortedUniqueTimes)

function columnArbitrary(type: FieldTypeCode): fc.Arbitrary<Column> {
  return timesArbitrary.chain((times) => {
    const n = times.length
    const values: fc.Arbitrary<Column['values']> = (() => {
      switch (type) {
        case FieldType.FLOAT: return fc.array(fc.oneof(fc.double(), fc.integer({ min: 0, max: 100 }).map((v) => v / 4), fc.constant(0.1)), { minLength: n, maxLength: n })
          .map((v) => Float64Array.from(v))
        case FieldType.INTEGER: return fc.array(fc.oneof(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.bigInt({ min: -5n, max: 100n })), { minLength: n, maxLength: n })
          .map((v) => BigInt64Array.from(v))
        case FieldType.UNSIGNED: return fc.array(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 100n })), { minLength: n, maxLength: n })
          .map((v) => BigUint64Array.from(v))
        case FieldType.BOOLEAN: return fc.array(fc.boolean(), { minLength: n, maxLength: n }).map((v) => Uint8Array.from(v, Number))
        case FieldType.STRING: return fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('a', 'b', '')), { minLength: n, maxLength: n })
      }
    })()
    return values.map((v) => ({ type, times, values: v }))
  })
}

for (const [name, type] of Object.entries(FieldType)) {
  test(`${name.toLowerCase()} blocks round-trip bit for bit (property)`, () => {
    fc.assert(fc.property(columnArbitrary(type), roundTrip), { numRuns: 300 })
  })
}

/** A decoded column cut to [fromNs, toNs) the obvious way. */
function cut(column: Column, fromNs: bigint | null, toNs: bigint | null): [bigint, unknown][] {
  const out: [bigint, unknown][] = []
  const values = column.values as ArrayLike<unknown>
  for (let i = 0; i < column.times.length; i++) {
    const t = column.times[i]!
    if ((fromNs === null || t >= fromNs) && (toNs === null || t < toNs)) out.push([t, typeof values[i] === 'number' && Number.isNaN(values[i]) ? 'NaN' : values[i]])
  }
  return out
}

function pairs(column: Column): [bigint, unknown][] {
  return cut(column, null, null)
}

for (const [name, type] of Object.entries(FieldType)) {
  test(`${name.toLowerCase()} blocks: indexed payloads (format 2) and partial decodes return exactly what a full decode does in range (property)`, () => {
    const bound = fc.option(fc.oneof(timeArbitrary, fc.bigInt({ min: 1_451_606_400_000_000_000n, max: 1_451_606_500_000_000_000n })), { nil: null })
    fc.assert(fc.property(columnArbitrary(type), bound, bound, fc.boolean(), (column, fromNs, toNs, indexed) => {
      const payload = encodeBlock(column, undefined, { indexed })
      const entry = { ...computeStats(column), type: column.type }
      const whole = decodeBlock(payload, { entry })
      assert.deepEqual(pairs(whole), pairs(column))
      const partial = decodeBlock(payload, { entry, fromNs, toNs })
      assert.deepEqual(pairs(partial), cut(column, fromNs, toNs))
      assert.deepEqual([...decodeBlock(payload, { entry, fromNs, toNs, timesOnly: true }).times], cut(column, fromNs, toNs).map(([t]) => t))
    }), { numRuns: 300 })
  })
}

test('an indexed payload needs its index entry, and one that disagrees with it fails', () => {
  const times = BigInt64Array.from([10n, 20n, 30n])
  const column: Column = { type: FieldType.INTEGER, times, values: BigInt64Array.from([1n, 2n, 4n]) }
  const payload = encodeBlock(column, undefined, { indexed: true })
  assert.throws(() => decodeBlock(payload), /index entry/)
  const entry = { ...computeStats(column), type: column.type }
  assert.throws(() => decodeBlock(payload, { entry: { ...entry, count: 4 } }), /index says 4/)
  assert.throws(() => decodeBlock(payload, { entry: { ...entry, maxTimeNs: 31n } }), /equal steps/)
})

test('hour blocks of 10 s data: an indexed payload leaves out the times and the first value', () => {
  const count = 360
  const times = BigInt64Array.from({ length: count }, (_, i) => 1_451_606_400_000_000_000n + BigInt(i) * 10_000_000_000n)
  const values = BigInt64Array.from({ length: count }, (_, i) => BigInt(50 + (i % 5) - 2))
  const plain = encodeBlock({ type: FieldType.INTEGER, times, values })
  const indexed = encodeBlock({ type: FieldType.INTEGER, times, values }, undefined, { indexed: true })
  assert.ok(plain.length - indexed.length >= 20, `plain ${plain.length} bytes, indexed ${indexed.length}`)
})

test('regular timestamps cost a few bytes per block (run-length delta-of-delta)', () => {
  const count = 8192
  const times = new BigInt64Array(count)
  const values = new Float64Array(count)
  for (let i = 0; i < count; i++) { times[i] = 1_451_606_400_000_000_000n + BigInt(i) * 10_000_000_000n; values[i] = 42 }
  const payload = encodeBlock({ type: FieldType.FLOAT, times, values })
  assert.ok(payload.length < 64, `payload ${payload.length} bytes`)
  const irregular = times.map((t, i) => t + BigInt(i % 3) * 1_000_000n)
  const sealed = sealBlock(encodeBlock({ type: FieldType.FLOAT, times: irregular, values }))
  assert.ok(sealed.stored.length < count / 2, `jittered times: stored ${sealed.stored.length} bytes`)
})

test('stats of a block', () => {
  const times = BigInt64Array.from([1n, 2n, 3n])
  const stats = computeStats({ type: FieldType.INTEGER, times, values: BigInt64Array.from([5n, -2n, 9n]) })
  assert.deepEqual(stats, { count: 3, minTimeNs: 1n, maxTimeNs: 3n, min: -2n, max: 9n, first: 5n, last: 9n, sum: 12 })
  const floats = computeStats({ type: FieldType.FLOAT, times, values: Float64Array.from([0.5, 1.5, -1]) })
  assert.equal(floats.sum, 1)
  assert.equal(floats.min, -1)
})

test('stats of 64-bit integer blocks equal a bigint reference, signed and unsigned, at every magnitude', () => {
  const reference = (values: ArrayLike<bigint>): unknown => {
    let min = values[0]!
    let max = values[0]!
    let sum = 0
    for (let i = 0; i < values.length; i++) {
      if (values[i]! < min) min = values[i]!
      if (values[i]! > max) max = values[i]!
      sum += Number(values[i]!)
    }
    return { min, max, first: values[0], last: values[values.length - 1], sum }
  }
  let seed = 12345
  const random = (): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 }
  const edges = [0n, 1n, -1n, 2n ** 31n - 1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n), 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n)]
  for (let round = 0; round < 200; round++) {
    const count = 1 + Math.floor(random() * 40)
    const signed = BigInt64Array.from({ length: count + 2 }, () => random() < 0.3 ? edges[Math.floor(random() * edges.length)]! : BigInt.asIntN(64, BigInt(Math.floor(random() * 2 ** 53)) << BigInt(Math.floor(random() * 12))) * (random() < 0.5 ? -1n : 1n))
    const unsigned = BigUint64Array.from(signed, v => BigInt.asUintN(64, v))
    const times = BigInt64Array.from({ length: count }, (_, i) => BigInt(i))
    for (const [type, values] of [[FieldType.INTEGER, signed.subarray(1, count + 1)], [FieldType.UNSIGNED, unsigned.subarray(1, count + 1)]] as const) {
      const { min, max, first, last, sum } = computeStats({ type, times, values })
      assert.deepStrictEqual({ min, max, first, last, sum }, reference(values), `round ${round}, type ${type}`)
    }
  }
})

test('a flipped byte fails the checksum', () => {
  const times = BigInt64Array.from([1n, 2n, 3n])
  const sealed = sealBlock(encodeBlock({ type: FieldType.STRING, times, values: ['x', 'y', 'x'] }))
  const broken = Uint8Array.from(sealed.stored)
  broken[1]! ^= 0x10
  assert.throws(() => unsealBlock(broken, sealed.codec, sealed.rawLength, sealed.crc32c), /checksum mismatch/)
})

test('decimal floats and packed integers round-trip at their edges, and pay off', () => {
  const times = (n: number): BigInt64Array => BigInt64Array.from({ length: n }, (_, i) => 1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_000n)
  for (const values of [[-0], [0, -0], [NaN], [Infinity, 1], [0.1, 0.2, 0.30000000000000004], [1e-9, 2e-9], [2 ** 47, 0], [123456.789, -0.001], [5e-324]]) {
    roundTrip({ type: FieldType.FLOAT, times: times(values.length), values: Float64Array.from(values) })
  }
  for (const values of [[INT64_MIN, INT64_MAX], [0n, 2n ** 47n - 1n, -(2n ** 47n)], [5n, 5n, 5n]]) {
    roundTrip({ type: FieldType.INTEGER, times: times(values.length), values: BigInt64Array.from(values) })
  }
  const n = 8192
  const smooth = Float64Array.from({ length: n }, (_, i) => Number((20 + 5 * Math.sin(i / 600)).toFixed(2)))
  const sealed = sealBlock(encodeBlock({ type: FieldType.FLOAT, times: times(n), values: smooth }))
  assert.ok(sealed.stored.length < n * 0.5, `smooth 2-decimal floats: ${sealed.stored.length} bytes for ${n} values`)
  const walk = BigInt64Array.from({ length: n }, (_, i) => BigInt(50 + Math.round(10 * Math.sin(i))))
  const packed = sealBlock(encodeBlock({ type: FieldType.INTEGER, times: times(n), values: walk }))
  assert.ok(packed.stored.length < n * 0.7, `small integer deltas: ${packed.stored.length} bytes for ${n} values`)
})

test('signed sequences round-trip in every layout, and the smallest layout is chosen', async () => {
  const { encodeSignedSequence, decodeSignedSequence, SequenceMode } = await import('./packed.ts')
  const { ByteReader, ByteWriter } = await import('./bytes.ts')
  const roundTripSequence = (values: number[]): number => {
    const out = new ByteWriter(16)
    encodeSignedSequence(Float64Array.from(values), out)
    const decoded = new Float64Array(values.length)
    const input = new ByteReader(out.result())
    decodeSignedSequence(input, decoded)
    assert.equal(input.offset, out.length, 'the decoder consumed exactly the encoding')
    assert.deepEqual(Array.from(decoded), values)
    return out.result()[0]!
  }
  fc.assert(fc.property(fc.array(fc.oneof(
    fc.integer({ min: -3, max: 3 }), fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -(2 ** 47) + 1, max: 2 ** 47 - 1 }),
  ), { maxLength: 200 }), (values) => { roundTripSequence(values) }), { numRuns: 500 })
  const random = (() => { let s = 99; return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 2 ** 32 } })()
  assert.equal(roundTripSequence(Array.from({ length: 1000 }, () => Math.floor(random() * 5) - 2)), SequenceMode.MIXED_RADIX)
  assert.equal(roundTripSequence(Array.from({ length: 1000 }, () => (random() < 0.9 ? 0 : 1))), SequenceMode.RICE)
  assert.equal(roundTripSequence(Array.from({ length: 1000 }, () => Math.floor(random() * 16) - 8)), SequenceMode.BIT_PACKED)
  assert.equal(roundTripSequence([2 ** 40, -(2 ** 41)]), SequenceMode.VARINT)
})

test('the Rice parameter search that stops early picks what trying every parameter picks', async () => {
  const { encodeSignedSequence, SequenceMode } = await import('./packed.ts')
  const { ByteWriter } = await import('./bytes.ts')
  // Every k from 0 to min(width, 12), the first smallest byte count winning (k byte and bits; the mode byte comes on top).
  const exhaustiveRice = (values: number[]): { k: number; bytes: number } => {
    const zigzags = values.map((v) => (v >= 0 ? v * 2 : -v * 2 - 1))
    const max = Math.max(0, ...zigzags)
    const width = max === 0 ? 0 : 32 - Math.clz32(max)
    let best = { k: -1, bytes: Infinity }
    for (let k = 0; k <= Math.min(width, 12); k++) {
      let bits = 0
      for (const z of zigzags) bits += Math.floor(z / 2 ** k) + 1 + k
      const bytes = 1 + Math.ceil(bits / 8)
      if (bytes < best.bytes) best = { k, bytes }
    }
    return best
  }
  const magnitude = fc.oneof(fc.constant(1), fc.constant(4), fc.constant(40), fc.constant(3000), fc.constant(2 ** 20))
  fc.assert(fc.property(magnitude, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 300 }), fc.double({ min: 0, max: 1, noNaN: true }),
    (scale, shape, outliers) => {
      // Mostly small values with a few large ones: where Rice wins and its best k varies.
      const values = shape.map((u, i) => Math.round((u < outliers * 0.2 ? scale * 50 : scale) * u * (i % 2 === 0 ? 1 : -1)))
      const out = new ByteWriter(16)
      encodeSignedSequence(Float64Array.from(values), out)
      const encoded = out.result()
      const rice = exhaustiveRice(values)
      if (encoded[0] === SequenceMode.RICE) {
        assert.equal(encoded[1], rice.k)
        assert.equal(encoded.length, 1 + rice.bytes)
      } else {
        assert.ok(encoded.length <= 1 + rice.bytes, `layout ${encoded[0]} (${encoded.length} bytes) chosen over Rice (${1 + rice.bytes})`)
      }
    }), { numRuns: 2000 })
})

test('sealBlock stores what always trying LZ4 stores; LZ4 is skipped only for payloads without a repeated 4-byte sequence', () => {
  const reference = (payload: Uint8Array): { codec: number; stored: Buffer } => {
    const compressed = compressSync(Buffer.from(payload))
    return compressed.length < payload.length ? { codec: BlockCodec.LZ4, stored: compressed } : { codec: BlockCodec.NONE, stored: Buffer.from(payload) }
  }
  const naiveRepeat = (payload: Uint8Array): boolean => {
    const seen = new Set<string>()
    for (let i = 0; i + 4 <= payload.length; i++) {
      const key = payload.subarray(i, i + 4).join(',')
      if (seen.has(key)) return true
      seen.add(key)
    }
    return false
  }
  const check = (payload: Uint8Array): void => {
    const sealed = sealBlock(payload)
    const expected = reference(payload)
    assert.equal(sealed.codec, expected.codec)
    assert.deepEqual(Buffer.from(sealed.stored), expected.stored)
    if (payload.length <= 4096) assert.equal(repeatsFourBytes(payload), naiveRepeat(payload))
    assert.deepEqual(Buffer.from(unsealBlock(sealed.stored, sealed.codec, sealed.rawLength, sealed.crc32c)), Buffer.from(payload))
  }
  // Random bytes (mostly no repeat), bytes from a small alphabet (repeats, LZ4 often wins), runs, every length to 300.
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), check), { numRuns: 400 })
  fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 600 }), (bytes) => check(Uint8Array.from(bytes))), { numRuns: 400 })
  let state = 7
  const next = (): number => { state = (Math.imul(state, 1103515245) + 12345) >>> 0; return state >>> 24 }
  for (let length = 0; length <= 300; length++) check(Uint8Array.from({ length }, next))
  for (const length of [5, 8, 13, 64, 4096, 4097, 20000]) {
    check(new Uint8Array(length))
    check(Uint8Array.from({ length }, next))
  }
  // A repeat at the very end, and an overlapping one (5 equal bytes), are found.
  assert.equal(repeatsFourBytes(Uint8Array.from([1, 2, 3, 4, 9, 8, 1, 2, 3, 4])), true)
  assert.equal(repeatsFourBytes(Uint8Array.from([7, 7, 7, 7, 7])), true)
  assert.equal(repeatsFourBytes(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8])), false)
  // A flushed integer block (bit-packed values) is stored plain without calling LZ4.
  const walk = BigInt64Array.from({ length: 300 }, () => BigInt(next() % 5) - 2n)
  for (let i = 1; i < walk.length; i++) walk[i]! += walk[i - 1]!
  check(encodeBlock({ type: FieldType.INTEGER, times: BigInt64Array.from({ length: 300 }, (_, i) => BigInt(i) * 10_000_000_000n), values: walk }, undefined, { indexed: true }))
})
