import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LruCache } from './lru.ts'

test('the least recently used entries leave first, by count and by weight, through onEvict', () => {
  const evicted: string[] = []
  const cache = new LruCache<string, number>({ maxEntries: 3, maxWeight: 10 }, (key) => evicted.push(key))
  cache.set('a', 1, 2)
  cache.set('b', 2, 2)
  cache.set('c', 3, 2)
  assert.equal(cache.get('a'), 1, 'a is now the most recent')
  cache.set('d', 4, 2)
  assert.deepEqual(evicted, ['b'], 'four entries: the oldest untouched one leaves')
  cache.set('e', 5, 7)
  assert.deepEqual(evicted, ['b', 'c', 'a'], 'weight 13 of 10: as many as needed leave')
  assert.deepEqual([...cache], [['d', 4], ['e', 5]])
  assert.equal(cache.weight, 9)
})

test('set replaces a value and its weight; delete and clear call no onEvict', () => {
  const evicted: string[] = []
  const cache = new LruCache<string, string>({ maxEntries: 10, maxWeight: 100 }, (key) => evicted.push(key))
  cache.set('k', 'one', 40)
  cache.set('k', 'two', 10)
  assert.deepEqual([cache.get('k'), cache.weight, cache.size], ['two', 10, 1])
  assert.equal(cache.delete('k'), true)
  assert.equal(cache.delete('k'), false)
  cache.set('x', 'y', 5)
  cache.clear()
  assert.deepEqual([cache.size, cache.weight, evicted], [0, 0, []])
  assert.throws(() => new LruCache({ maxEntries: 0, maxWeight: 1 }), RangeError)
})
