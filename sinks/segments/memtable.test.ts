// The memtable's normalization (sorted by time, the last applied value per time) against a
// reference that sorts bigints, on runs applied out of order, repeated times and 64-bit extremes.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { FieldType, type FieldTypeCode } from './encoding/block.ts'
import { MemColumn, Memtable, runPieces, sortedOrder } from './memtable.ts'
import type { FieldValue } from '../../schemas/index.ts'

function random(seed: number): () => number {
  let state = seed
  return () => { state = (state * 1103515245 + 12345) % 2 ** 31; return state / 2 ** 31 }
}

const EDGES = [-(2n ** 63n), -(2n ** 32n), -1n, 0n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 63n - 1n]

/** Times as a memtable sees them: ascending runs (entries) in shuffled order, some times repeated, some extreme. */
function times(next: () => number, count: number): bigint[] {
  const base = 1_451_606_400_000_000_000n
  const runs: bigint[][] = []
  for (let at = 0; at < count;) {
    const length = Math.min(count - at, 1 + Math.floor(next() * 8))
    const start = base + BigInt(Math.floor(next() * 40)) * 10_000_000_000n
    runs.push(Array.from({ length }, (_, i) => (next() < 0.05 ? EDGES[Math.floor(next() * EDGES.length)]! : start + BigInt(i) * 10_000_000_000n)))
    at += length
  }
  return runs.sort(() => next() - 0.5).flat()
}

/** A column's view, its pieces joined, as [time, value] pairs; the pieces must be consecutive in time. */
function points(column: MemColumn): Array<[bigint, unknown]> {
  const out: Array<[bigint, unknown]> = []
  for (const piece of column.view()) {
    assert.ok(piece.times.length > 0, 'no empty piece')
    if (out.length > 0) assert.ok(out[out.length - 1]![0] < piece.times[0]!, 'pieces follow one another in time')
    piece.times.forEach((time, i) => out.push([time, (piece.values as ArrayLike<unknown>)[i]]))
  }
  return out
}

function reference(applied: Array<[bigint, unknown]>): Array<[bigint, unknown]> {
  const last = new Map<bigint, unknown>()
  for (const [time, value] of applied) last.set(time, value)
  return [...last].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

test('sortedOrder sorts positions by 64-bit time, equal times in position order', () => {
  const next = random(3)
  for (let round = 0; round < 200; round++) {
    const list = times(next, Math.floor(next() * 60))
    const words = new Int32Array(BigInt64Array.from(list).buffer)
    const expected = list.map((time, i) => [time, i] as const).sort(([a, i], [b, j]) => (a < b ? -1 : a > b ? 1 : i - j)).map(([, i]) => i)
    assert.deepStrictEqual([...sortedOrder(words, list.length)], expected)
  }
})

test('a column views its points sorted, the last applied value per time, for every value type', () => {
  const next = random(11)
  const makers: Array<[FieldTypeCode, (i: number) => FieldValue, (v: FieldValue) => unknown]> = [
    [FieldType.FLOAT, i => i / 4, v => v],
    [FieldType.INTEGER, i => BigInt(i) - 2n ** 62n * BigInt(i % 3), v => v],
    [FieldType.UNSIGNED, i => ({ unsigned: 2n ** 64n - 1n - BigInt(i) }), v => (v as { unsigned: bigint }).unsigned],
    [FieldType.BOOLEAN, i => i % 2 === 0, v => (v ? 1 : 0)],
    [FieldType.STRING, i => `s${i}`, v => v],
  ]
  for (let round = 0; round < 50; round++) {
    for (const [type, make, stored] of makers) {
      // Any starting room (a memtable sizes columns after the previous one's): the same view.
      const column = new MemColumn(type, round % 3 === 0 ? 16 : Math.floor(next() * 300))
      const applied: Array<[bigint, unknown]> = []
      times(next, 1 + Math.floor(next() * 100)).forEach((time, i) => {
        column.append(time, make(i))
        applied.push([time, stored(make(i))])
      })
      assert.deepStrictEqual(points(column), reference(applied), `round ${round}, type ${type}`)
      assert.equal(column.normalized, true)
    }
  }
})

test('a memtable sizes its columns\' first piece for as many points as the previous one\'s got, others from 16', () => {
  const previous = new Memtable()
  const seen = previous.column('s1', 'a', FieldType.FLOAT)
  for (let i = 0; i < 1000; i++) previous.append(seen, BigInt(i), i)
  previous.append(previous.column('s1', 'b', FieldType.INTEGER), 0n, 1n)
  const sizes = previous.pointCounts()
  assert.deepEqual([...sizes.get('s1')!], [['a', 1000], ['b', 1]])
  const next = new Memtable(sizes)
  const sized = next.column('s1', 'a', FieldType.FLOAT)
  for (let i = 0; i < 1000; i++) next.append(sized, BigInt(i), i)
  assert.equal(sized.capacity, 1000, 'one piece, no room left over')
  assert.equal(sized.view().length, 1)
  for (const [id, field, type] of [['s1', 'b', FieldType.INTEGER], ['s2', 'a', FieldType.FLOAT]] as const) {
    const column = next.column(id, field, type)
    next.append(column, 0n, type === FieldType.FLOAT ? 0 : 0n)
    assert.equal(column.capacity, 16)
  }
  assert.ok(next.estimatedBytes >= 1032 * 16, 'the room counts in the estimate')
})

test('runs of bodies applied out of order are put in order in whole pieces, for every value type', () => {
  const next = random(29)
  for (let round = 0; round < 100; round++) {
    // Disjoint ascending runs of 8-60 points (as entries are), shuffled; some rounds repeat a time.
    const runs: bigint[][] = []
    let t = BigInt(Math.floor(next() * 1000)) * 10n - 2n ** 40n * BigInt(round % 3)
    for (let r = 1 + Math.floor(next() * 20); r > 0; r--) {
      runs.push(Array.from({ length: 8 + Math.floor(next() * 53) }, () => (t += 1n + BigInt(Math.floor(next() * 30)))))
      t += BigInt(Math.floor(next() * 3)) * 2n ** 32n
    }
    const list = runs.sort(() => next() - 0.5).flat()
    const broken = round % 4 === 3
    if (broken) list.push(list[Math.floor(next() * list.length)]!)
    const words = new Int32Array(BigInt64Array.from(list).buffer)
    const pieces = runPieces(words, list.length)
    assert.equal(pieces === null, broken, `round ${round}: a repeated time, and only that, needs the sort`)
    if (pieces !== null) {
      const pieceTimes = Array.from({ length: pieces.length / 2 }, (_, i) => list.slice(pieces[2 * i]!, pieces[2 * i + 1]!)).flat()
      assert.deepStrictEqual(pieceTimes, [...list].sort((a, b) => (a < b ? -1 : 1)))
    }
    for (const type of [FieldType.FLOAT, FieldType.INTEGER, FieldType.STRING] as FieldTypeCode[]) {
      const column = new MemColumn(type, 8)
      const applied: Array<[bigint, unknown]> = []
      list.forEach((time, i) => {
        const value = type === FieldType.FLOAT ? i / 8 : type === FieldType.INTEGER ? BigInt(i) - 2n ** 62n : `v${i}`
        column.append(time, value)
        applied.push([time, value])
      })
      assert.deepStrictEqual(points(column), reference(applied), `round ${round}, type ${type}`)
    }
  }
})

test('a column grows by adding pieces: nothing it holds is copied, and at most a piece\'s room is left unused', () => {
  const column = new MemColumn(FieldType.FLOAT)
  let before = column.view()
  for (let i = 0; i < 20_000; i++) {
    column.append(BigInt(i) * 10n, i / 2)
    if (i % 997 !== 0) continue
    const now = column.view()
    // Every piece of the earlier view is still the column's, in the same arrays.
    before.forEach((piece, p) => assert.equal(now[p]!.times.buffer, piece.times.buffer, `piece ${p} at ${i}`))
    assert.ok(column.capacity - column.length <= 1024, `room ${column.capacity - column.length} at ${i}`)
    before = now
  }
  assert.deepStrictEqual(points(column), Array.from({ length: 20_000 }, (_, i) => [BigInt(i) * 10n, i / 2]))
  assert.ok(column.view().length > 10, 'many pieces')
})

test('normalizing rewrites only from the piece the late points land in; older views stay as they were', () => {
  const column = new MemColumn(FieldType.INTEGER)
  const applied: Array<[bigint, unknown]> = []
  const append = (time: bigint, value: bigint): void => { column.append(time, value); applied.push([time, value]) }
  for (let i = 0; i < 10_000; i++) append(BigInt(i) * 10n, BigInt(i))
  const first = column.view()
  const copied = (view: ReturnType<MemColumn['view']>): unknown => view.map(piece => [[...piece.times], [...(piece.values as BigInt64Array)]])
  const firstCopy = copied(first)
  assert.ok(first.length > 5)

  // Late points, one repeating a time, in the last piece's span: the pieces before it are kept.
  append(99_905n, -1n)
  append(99_950n, -2n)
  append(99_000n + 10n * BigInt(first.length), -3n)
  const second = column.view()
  assert.deepStrictEqual(points(column), reference(applied))
  first.slice(0, -1).forEach((piece, p) => assert.equal(second[p]!.times.buffer, piece.times.buffer, `piece ${p} kept`))
  assert.notEqual(second[first.length - 1]!.times.buffer, first[first.length - 1]!.times.buffer, 'the last piece rewritten')
  assert.deepStrictEqual(copied(first), firstCopy, 'the first view is untouched')
  const secondCopy = copied(second)

  // A point before all others: everything is rewritten, into one piece.
  append(-5n, -4n)
  assert.deepStrictEqual(points(column), reference(applied))
  assert.equal(column.view().length, 1)
  assert.equal(column.deleteRange(1_000n, 2_000n), 100)
  assert.deepStrictEqual(points(column), reference(applied).filter(([time]) => time < 1_000n || time >= 2_000n))
  assert.deepStrictEqual([copied(first), copied(second)], [firstCopy, secondCopy], 'earlier views are untouched')
  const all = column.length
  assert.equal(column.deleteRange(null, null), all)
  assert.equal(column.length, 0)
  assert.deepStrictEqual(column.view(), [])
})

test('a column tells whether a point lies outside time ranges without putting itself in order', () => {
  const column = new MemColumn(FieldType.FLOAT)
  assert.equal(column.hasTimeOutside([]), false, 'empty')
  for (const time of [50n, 10n, 30n, 20n]) column.append(time, 1)
  assert.equal(column.normalized, false)
  assert.equal(column.hasTimeOutside([]), true)
  assert.equal(column.hasTimeOutside([{ fromNs: 10n, toNs: 51n }]), false, 'all inside one range')
  assert.equal(column.hasTimeOutside([{ fromNs: null, toNs: 30n }, { fromNs: 30n, toNs: null }]), false, 'all inside two')
  assert.equal(column.hasTimeOutside([{ fromNs: 11n, toNs: null }]), true, '10 is outside')
  assert.equal(column.hasTimeOutside([{ fromNs: null, toNs: 50n }]), true, '50 is outside')
  assert.equal(column.normalized, false, 'still in apply order')
})

test('views taken between appends and deletes, in any order, each show the points applied so far and never change', () => {
  const next = random(47)
  for (let round = 0; round < 60; round++) {
    const column = new MemColumn(FieldType.FLOAT, 1 + Math.floor(next() * 40))
    let applied: Array<[bigint, unknown]> = []
    const taken: Array<{ view: ReturnType<MemColumn['view']>; expected: Array<[bigint, unknown]> }> = []
    const base = BigInt(Math.floor(next() * 1e6))
    for (let step = 0; step < 40; step++) {
      const roll = next()
      if (roll < 0.75) {
        // A run of points, mostly after the others, sometimes late or repeating a time.
        const late = next() < 0.3
        let time = base + BigInt(late ? Math.floor(next() * 50 * step) : 50 * step + Math.floor(next() * 20))
        for (let n = 1 + Math.floor(next() * 120); n > 0; n--) {
          const value = round * 1000 + step + n / 1000
          column.append(time, value)
          applied.push([time, value])
          time += BigInt(1 + Math.floor(next() * 3))
        }
      } else if (roll < 0.9) {
        const view = column.view()
        taken.push({ view, expected: reference(applied) })
      } else {
        const from = base + BigInt(Math.floor(next() * 50 * step))
        const to = from + BigInt(Math.floor(next() * 200))
        const before = reference(applied).length
        const removed = column.deleteRange(from, to)
        applied = reference(applied).filter(([time]) => time < from || time >= to)
        assert.equal(removed, before - applied.length, `round ${round}, step ${step}: deleted`)
      }
    }
    assert.deepStrictEqual(points(column), reference(applied), `round ${round}`)
    assert.ok(column.capacity - column.length <= 1024, `round ${round}: room ${column.capacity - column.length} (only the last piece has room)`)
    for (const { view, expected } of taken) {
      const got = view.flatMap(piece => Array.from(piece.times, (time, i) => [time, (piece.values as Float64Array)[i]] as [bigint, unknown]))
      assert.deepStrictEqual(got, expected, `round ${round}: an earlier view changed`)
    }
  }
})
