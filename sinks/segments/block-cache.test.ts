import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DecodedBlockCache } from './block-cache.ts'
import { FieldType, type Column } from './encoding/block.ts'
import type { BlockEntry } from './segment-file.ts'

/** A float column of `points` points: 16 bytes each. */
const column = (points: number): Column => ({ type: FieldType.FLOAT, times: new BigInt64Array(points), values: new Float64Array(points) })
const entry = (ordinal: number): BlockEntry => ({ ordinal }) as unknown as BlockEntry

test('the least recently used blocks leave first once the budget is passed', () => {
  const cache = new DecodedBlockCache(16 * 100)
  const [a, b, c] = [entry(0), entry(1), entry(2)]
  cache.put(a, column(10))
  cache.put(b, column(10))
  assert.ok(cache.get(a), 'a was used last')
  for (let i = 3; i < 12; i++) cache.put(entry(i), column(10))
  assert.equal(cache.get(b), undefined, 'b, used longest ago, left first')
  assert.ok(cache.get(a), 'a, touched after b, stayed')
  assert.deepEqual(cache.size, { blocks: 10, bytes: 16 * 100 })
  cache.put(c, column(10))
  assert.ok(cache.get(c))
})

test('a block larger than an eighth of the budget is not kept, and forget drops a segment\'s blocks', () => {
  const cache = new DecodedBlockCache(16 * 80)
  cache.put(entry(0), column(11))
  assert.equal(cache.size.blocks, 0)
  const kept = [entry(1), entry(2)]
  for (const block of kept) cache.put(block, column(5))
  cache.put(entry(3), column(5))
  assert.deepEqual(cache.size, { blocks: 3, bytes: 3 * 80 })
  cache.forget(kept)
  assert.deepEqual(cache.size, { blocks: 1, bytes: 80 })
  assert.equal(cache.get(kept[0]!), undefined)
})

test('strings count two bytes a character and a fixed overhead', () => {
  const cache = new DecodedBlockCache(1 << 20)
  cache.put(entry(0), { type: FieldType.STRING, times: new BigInt64Array(2), values: ['ab', 'c'] })
  assert.deepEqual(cache.size, { blocks: 1, bytes: 16 + (16 + 4) + (16 + 2) })
})
