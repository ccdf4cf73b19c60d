// The hand-written ChangelogEntry decoder against avsc's decode of the same bytes.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { changelogEntryType } from './catalog.ts'
import { decode, encode } from './codec.ts'
import { ChangelogColumns, decodeChangelogColumns, decodeChangelogEntry } from './changelog-entry-codec.ts'
import { plain, randomBatch, sampleChangelogCommand, sampleChangelogUpsert, sampleCommand, seededRandom } from './testing/samples.ts'
import type { ChangelogEntry, FieldValue, Point } from './types.ts'

const entries: fc.Arbitrary<ChangelogEntry> = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  ingestPartition: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  ingestOffset: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  pointsIn: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  command: fc.boolean(),
}).map(({ seed, ingestPartition, ingestOffset, pointsIn, command }) => {
  if (command) return { ingestPartition, ingestOffset, upsert: null, command: sampleCommand }
  const batch = randomBatch(seededRandom(seed))
  return {
    ingestPartition, ingestOffset, command: null,
    upsert: { tenant: batch.tenant, database: batch.database, measurement: batch.measurement, seriesKey: batch.seriesKey, tags: batch.tags, points: batch.points, pointsIn },
  }
})

test('decodeChangelogEntry equals avsc\'s decode on random entries', () => {
  fc.assert(fc.property(entries, entry => {
    const payload = encode(changelogEntryType, entry)
    assert.deepStrictEqual(plain(decodeChangelogEntry(payload)), plain(decode(changelogEntryType, payload)))
  }), { numRuns: 1_000 })
})

test('decodeChangelogEntry equals avsc\'s decode on the samples', () => {
  for (const entry of [sampleChangelogUpsert, sampleChangelogCommand]) {
    const payload = encode(changelogEntryType, entry)
    assert.deepStrictEqual(plain(decodeChangelogEntry(payload)), plain(decode(changelogEntryType, payload)))
  }
})

test('a truncated, padded or two-sided entry is refused with the reason', () => {
  const payload = encode(changelogEntryType, sampleChangelogUpsert)
  for (let cut = 0; cut < payload.length; cut++) {
    assert.throws(() => decodeChangelogEntry(payload.subarray(0, cut)), { code: 'SLUICE_ERR_SCHEMA_DECODE' }, `cut at ${cut}`)
  }
  assert.throws(() => decodeChangelogEntry(Buffer.concat([payload, Buffer.from([0])])), { message: /trailing data after sluice.ChangelogEntry: 1 bytes/ })
  // partition 0, offset 0, upsert null, command null
  assert.throws(() => decodeChangelogEntry(Buffer.from([0, 0, 0, 0])), { message: /holds neither upsert nor command/ })
  assert.throws(() => decodeChangelogEntry(Buffer.from([0, 0, 4])), { message: /invalid union index 2 for sluice.ChangelogEntry.upsert/ })
})

/** Random entries whose points list their fields in varying order, some names twice (the store keeps the last per time). */
const shuffledEntries: fc.Arbitrary<ChangelogEntry> = fc.tuple(entries, fc.integer({ min: 1, max: 2 ** 31 - 1 })).map(([entry, seed]) => {
  if (entry.upsert === null) return entry
  const random = seededRandom(seed)
  const points = entry.upsert.points.map(point => {
    const fields = [...point.fields].sort(() => random() - 0.5)
    if (fields.length > 0 && random() < 0.3) fields.push({ name: fields[0]!.name, value: random() < 0.5 ? 'again' : 2.5 })
    return { timeNs: point.timeNs, fields }
  })
  return { ...entry, upsert: { ...entry.upsert, points } }
})

test('decodeChangelogColumns holds what decodeChangelogEntry decodes, entry after entry into one ChangelogColumns', () => {
  const columns = new ChangelogColumns()
  fc.assert(fc.property(shuffledEntries, entry => {
    const payload = encode(changelogEntryType, entry)
    const decoded = decodeChangelogColumns(payload, columns)
    assert.equal(decoded, columns)
    assert.deepStrictEqual(plain(decoded.toEntry()), plain(decodeChangelogEntry(payload)))
    if (entry.upsert !== null) {
      assert.equal(decoded.pointCount, entry.upsert.points.length)
      assert.equal(decoded.valueCount, entry.upsert.points.reduce((sum, p) => sum + p.fields.length, 0))
      assert.deepStrictEqual(decoded.names, [...new Set(entry.upsert.points.flatMap(p => p.fields.map(f => f.name)))])
    }
  }), { numRuns: 1_000 })
})

test('decodeChangelogColumns grows past its initial capacity and keeps exact 64-bit words', () => {
  const extremes = [-(2n ** 63n), -1n, 0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n, 2n ** 63n - 1n]
  const points = Array.from({ length: 1_000 }, (_, i) => ({
    timeNs: extremes[i % extremes.length]! + BigInt(i % 3 === 0 ? 0 : -(i % 2)),
    fields: [{ name: 'i', value: extremes[(i + 3) % extremes.length]! }, { name: 'u', value: { unsigned: 2n ** 64n - 1n - BigInt(i) } }, { name: 'b', value: i % 2 === 0 }],
  })).map(p => ({ ...p, timeNs: BigInt.asIntN(64, p.timeNs) }))
  const entry: ChangelogEntry = { ingestPartition: 3, ingestOffset: 2n ** 40n, command: null, upsert: { tenant: 't', database: 'd', measurement: 'm', seriesKey: 'm', tags: [{ key: 'a', value: 'b' }], points, pointsIn: 1_000 } }
  const payload = encode(changelogEntryType, entry)
  const columns = new ChangelogColumns()
  decodeChangelogColumns(encode(changelogEntryType, sampleChangelogUpsert), columns)
  assert.deepStrictEqual(plain(decodeChangelogColumns(payload, columns).toEntry()), plain(entry))
  assert.equal(columns.valueCount, 3_000)
})

test('decodeChangelogColumns tells field names apart whose chars equal another name\'s UTF-8 bytes', () => {
  // 'Ã©' as UTF-8 is 4 bytes; 'é' is the 2 bytes C3 A9, the char codes of 'Ã©'. Also a long name and an empty one.
  const names = ['Ã©', 'é', 'é', 'Ã©', 'x'.repeat(100), '', 'x'.repeat(100)]
  const points = [0, 1, 2].map(p => ({ timeNs: BigInt(p), fields: names.map((name, f) => ({ name, value: BigInt(10 * p + f) })) }))
  points.push({ timeNs: 3n, fields: [...names].reverse().map((name, f) => ({ name, value: BigInt(f) })) })
  points.push({ timeNs: 4n, fields: [{ name: 'é', value: 1n }, { name: 'Ã©', value: 2n }] })
  const entry: ChangelogEntry = { ingestPartition: 0, ingestOffset: 1n, command: null, upsert: { tenant: 't', database: 'd', measurement: 'm', seriesKey: 'm', tags: [], points, pointsIn: 5 } }
  const columns = decodeChangelogColumns(encode(changelogEntryType, entry), new ChangelogColumns())
  assert.deepStrictEqual(columns.names, ['Ã©', 'é', 'x'.repeat(100), ''])
  assert.deepStrictEqual(plain(columns.toEntry()), plain(entry))
})

test('decodeChangelogColumns tells apart names of the same length that differ in any one byte', () => {
  // Point 0 lists base names of 1 to 9 bytes; each later point puts, at the same positions, names
  // whose bytes differ from the base in one place (first, middle, last byte), so the byte
  // comparison against point 0's names must fail there and only there.
  const bases = Array.from({ length: 9 }, (_, n) => 'abcdefghi'.slice(0, n + 1))
  const variants = (name: string): string[] => [...new Set([0, name.length >> 1, name.length - 1])].map(at => name.slice(0, at) + 'Z' + name.slice(at + 1))
  const points = [{ timeNs: 0n, fields: bases.map((name, f) => ({ name, value: BigInt(f) })) }]
  for (let v = 0; v < 3; v++) {
    points.push({ timeNs: BigInt(points.length), fields: bases.map((name, f) => ({ name: variants(name)[v] ?? name, value: BigInt(f) })) })
    points.push({ timeNs: BigInt(points.length), fields: bases.map((name, f) => ({ name, value: BigInt(-f) })) })
  }
  const entry: ChangelogEntry = { ingestPartition: 0, ingestOffset: 1n, command: null, upsert: { tenant: 't', database: 'd', measurement: 'm', seriesKey: 'm', tags: [], points, pointsIn: points.length } }
  const columns = decodeChangelogColumns(encode(changelogEntryType, entry), new ChangelogColumns())
  assert.deepStrictEqual(plain(columns.toEntry()), plain(entry))
  assert.deepStrictEqual(columns.names, [...new Set(points.flatMap(p => p.fields.map(f => f.name)))])
})

/** Entries whose points mostly list the same fields with the same value types, sometimes one point not, times ascending or not. */
const mostlyRegularEntries: fc.Arbitrary<ChangelogEntry> = fc.integer({ min: 1, max: 2 ** 31 - 1 }).map(seed => {
  const random = seededRandom(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const kinds: Array<() => FieldValue> = [() => 1.5, () => 2n, () => ({ unsigned: 3n }), () => 'text', () => true]
  const names = ['a', 'bb', 'ccccc', 'a2'].slice(0, Math.floor(random() * 5))
  const types = names.map(() => pick(kinds))
  const points: Point[] = Array.from({ length: Math.floor(random() * 6) }, (_, p) => ({
    timeNs: random() < 0.8 ? BigInt(p * 10) - 20n : BigInt(Math.floor(random() * 40) - 20),
    fields: names.map((name, f) => ({ name, value: types[f]!() })),
  }))
  const point = points.length > 0 && random() < 0.5 ? points[Math.floor(random() * points.length)]!.fields : []
  switch (point.length > 0 ? Math.floor(random() * 5) : -1) {
    case 0: point[Math.floor(random() * point.length)]!.value = pick(kinds)(); break
    case 1: point.pop(); break
    case 2: point.reverse(); break
    case 3: point.push({ ...point[0]! }); break
    case 4: point.push({ name: 'new', value: 1n }); break
  }
  return { ingestPartition: 0, ingestOffset: 0n, command: null, upsert: { tenant: 't', database: 'd', measurement: 'm', seriesKey: 'm', tags: [], points, pointsIn: points.length } }
})

test('decodeChangelogColumns tells regular entries (the same names and value types at every point) and ascending times', () => {
  const columns = new ChangelogColumns()
  const kind = (value: FieldValue): string => typeof value
  let regularCount = 0
  fc.assert(fc.property(mostlyRegularEntries, entry => {
    const points = entry.upsert!.points
    const names = points[0]?.fields.map(f => f.name) ?? []
    const regular = new Set(names).size === names.length &&
      points.every(p => p.fields.length === names.length && p.fields.every((f, i) => f.name === names[i] && kind(f.value) === kind(points[0]!.fields[i]!.value)))
    const decoded = decodeChangelogColumns(encode(changelogEntryType, entry), columns)
    assert.equal(decoded.regular, regular)
    assert.equal(decoded.timesAscending, points.every((p, i) => i === 0 || p.timeNs > points[i - 1]!.timeNs))
    assert.deepStrictEqual(plain(decoded.toEntry()), plain(decodeChangelogEntry(encode(changelogEntryType, entry))))
    if (regular && points.length > 1 && names.length > 0) regularCount++
  }), { numRuns: 1_000 })
  assert.ok(regularCount > 100, `regular entries of several points and names (${regularCount})`)
})

test('decodeChangelogColumns refuses a point time whose varint runs past 64 bits or 10 bytes, as decodeChangelogEntry does', () => {
  const timeNs = -(2n ** 63n) // zigzag 2^64 - 1: the longest varint, ten bytes ending in 0x01
  const entry: ChangelogEntry = { ingestPartition: 0, ingestOffset: 0n, command: null, upsert: { tenant: 't', database: 'd', measurement: 'm', seriesKey: 'm', tags: [], points: [{ timeNs, fields: [{ name: 'f', value: 1n }] }], pointsIn: 1 } }
  const payload = encode(changelogEntryType, entry)
  const varint = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])
  const at = payload.indexOf(varint)
  assert.ok(at > 0)
  assert.deepStrictEqual(plain(decodeChangelogColumns(payload, new ChangelogColumns()).toEntry()), plain(entry))
  const pastBits = Buffer.from(payload)
  pastBits[at + 9] = 0x02
  const pastBytes = Buffer.concat([payload.subarray(0, at + 9), Buffer.from([0x81, 0x00]), payload.subarray(at + 10)])
  for (const bytes of [pastBits, pastBytes]) {
    assert.throws(() => decodeChangelogEntry(bytes), { message: /malformed Avro long: more than 64 bits/ })
    assert.throws(() => decodeChangelogColumns(bytes, new ChangelogColumns()), { message: /malformed Avro long: more than 64 bits/ })
  }
})

test('decodeChangelogColumns refuses what decodeChangelogEntry refuses, with the same message', () => {
  const columns = new ChangelogColumns()
  const payload = encode(changelogEntryType, sampleChangelogUpsert)
  const cases: Buffer[] = [Buffer.concat([payload, Buffer.from([0])]), Buffer.from([0, 0, 0, 0]), Buffer.from([0, 0, 4])]
  for (let cut = 0; cut < payload.length; cut++) cases.push(payload.subarray(0, cut))
  const command = encode(changelogEntryType, sampleChangelogCommand)
  // An entry with both an upsert and a command: the upsert's bytes, then the command's branch and body.
  cases.push(Buffer.concat([payload.subarray(0, payload.length - 1), command.subarray(command.indexOf(2, 2))]))
  for (const bytes of cases) {
    let expected: Error | undefined
    try { decodeChangelogEntry(bytes) } catch (error) { expected = error as Error }
    assert.ok(expected, `the reference refuses ${bytes.toString('hex')}`)
    assert.throws(() => decodeChangelogColumns(bytes, columns), { message: expected.message, code: 'SLUICE_ERR_SCHEMA_DECODE' })
    if (bytes === cases.at(-1)) assert.match(expected.message, /both an upsert and a command/)
  }
})

test('a regular entry (the fast loop of its later points) decodes as the reference does, whole, irregular from a later point on, or cut anywhere', () => {
  const fields = (count: bigint, usage: number): Point['fields'] => [{ name: 'usage', value: usage }, { name: 'count', value: count }]
  const point = (i: number, fieldsOf = fields(BigInt(i) * 1000n - 70n, i / 4)): Point => ({ timeNs: 1_700_000_000_000_000_000n + BigInt(i), fields: fieldsOf })
  const entryOf = (points: Point[]): ChangelogEntry => ({ ingestPartition: 1, ingestOffset: 7n, command: null, upsert: { ...sampleChangelogUpsert.upsert!, points, pointsIn: points.length } })
  const regular = entryOf([point(0), point(1), point(2, fields(5n, 0.5))]) // one-byte and longer longs
  const irregular = entryOf([point(0), point(1), point(2, [{ name: 'count', value: 1n }, { name: 'usage', value: 2 }]), point(3, [...fields(3n, 3), { name: 'extra', value: true }])])
  const columns = new ChangelogColumns()
  for (const entry of [regular, irregular]) {
    const payload = encode(changelogEntryType, entry)
    assert.deepEqual(plain(decodeChangelogColumns(payload, columns).toEntry()), plain(decodeChangelogEntry(payload)))
  }
  assert.equal(decodeChangelogColumns(encode(changelogEntryType, regular), columns).regular, true)
  assert.equal(decodeChangelogColumns(encode(changelogEntryType, irregular), columns).regular, false)
  const payload = encode(changelogEntryType, regular)
  for (let cut = 0; cut < payload.length; cut++) {
    const bytes = payload.subarray(0, cut)
    let expected: Error | undefined
    try { decodeChangelogEntry(bytes) } catch (error) { expected = error as Error }
    assert.ok(expected, `the reference refuses the first ${cut} bytes`)
    assert.throws(() => decodeChangelogColumns(bytes, columns), { message: expected.message })
  }
})
