import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DatabaseListCache } from './database-list.ts'

/** A catalog standing in for the control store: its databases per tenant, and how often it was asked. */
function catalog(): { databases: Map<string, string[]>; asked: string[]; list: (tenant: string) => Promise<string[]> } {
  const databases = new Map<string, string[]>()
  const asked: string[] = []
  return { databases, asked, list: async (tenant) => { asked.push(tenant); return [...(databases.get(tenant) ?? [])] } }
}

test('a listed database is answered from the list until it is maxAgeMs old, then the catalog is asked again', async () => {
  const store = catalog()
  let nowMs = 0
  const cache = new DatabaseListCache(store.list, 1_000, () => nowMs)
  store.databases.set('t', ['db'])
  assert.equal(await cache.has('t', 'db'), true)
  nowMs = 1_000
  assert.equal(await cache.has('t', 'db'), true)
  assert.deepEqual(store.asked, ['t'])
  nowMs = 1_001
  store.databases.set('t', [])
  assert.equal(await cache.has('t', 'db'), false)
  assert.deepEqual(store.asked, ['t', 't'])
})

test('a database not in the list is looked up at once: created elsewhere it is found, never created it is not found', async () => {
  const store = catalog()
  const cache = new DatabaseListCache(store.list, 60_000, () => 0)
  store.databases.set('t', ['a'])
  assert.equal(await cache.has('t', 'a'), true)
  store.databases.set('t', ['a', 'b']) // CREATE DATABASE b on another node
  assert.equal(await cache.has('t', 'b'), true)
  assert.equal(await cache.has('t', 'missing'), false)
  assert.equal(await cache.has('t', 'missing'), false)
  assert.deepEqual(store.asked, ['t', 't', 't', 't'])
  assert.equal(await cache.has('t', 'b'), true)
  assert.equal(store.asked.length, 4)
})

test('tenants have lists of their own', async () => {
  const store = catalog()
  const cache = new DatabaseListCache(store.list, 60_000, () => 0)
  store.databases.set('t1', ['db'])
  assert.equal(await cache.has('t1', 'db'), true)
  assert.equal(await cache.has('t2', 'db'), false)
  store.databases.set('t2', ['db'])
  assert.equal(await cache.has('t2', 'db'), true)
})

test('a slow older lookup does not replace the list a newer one brought', async () => {
  const databases = ['a']
  const releases: Array<() => void> = []
  let nowMs = 0
  const cache = new DatabaseListCache(async () => {
    const names = [...databases]
    await new Promise<void>((resolve) => releases.push(resolve))
    return names
  }, 60_000, () => nowMs)
  const older = cache.has('t', 'a') // sees ['a']
  nowMs = 1
  databases.push('b')
  const newer = cache.has('t', 'b') // sees ['a', 'b']
  releases[1]!()
  assert.equal(await newer, true)
  releases[0]!()
  assert.equal(await older, true)
  assert.equal(await cache.has('t', 'b'), true)
  assert.equal(releases.length, 2)
})
