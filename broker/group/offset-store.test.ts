import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { silentLogger } from '../logger.ts'
import { OffsetStore } from './offset-store.ts'

const root = mkdtempSync(join(tmpdir(), 'sluice-offsets-'))
after(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshDir = (): string => join(root, `d${dirs++}`)

/** What a restart would see: offsets.log replayed by a second store. */
function committedAfterRestart(dataDir: string, group: string): Array<[string, number, bigint]> {
  const reopened = OffsetStore.open(dataDir, silentLogger)
  const all = reopened.all(group).map(o => [o.topic, o.partition, o.offset] as [string, number, bigint])
  void reopened.close()
  return all
}

test('a commit is applied at once and on disk when its promise resolves', async () => {
  const dataDir = freshDir()
  const store = OffsetStore.open(dataDir, silentLogger)
  const durable = store.commit('g', [{ topic: 't', partition: 0, offset: 5n, metadata: null }], 1_000)
  assert.equal(store.get('g', 't', 0)?.offset, 5n)
  assert.deepEqual(committedAfterRestart(dataDir, 'g'), [], 'not yet written on the calling turn')
  await durable
  assert.deepEqual(committedAfterRestart(dataDir, 'g'), [['t', 0, 5n]])
  await store.close()
})

test('staged transactional offsets become committed by a durable complete, in order', async () => {
  const dataDir = freshDir()
  const store = OffsetStore.open(dataDir, silentLogger)
  void store.stage('g', 7n, [{ topic: 't', partition: 1, offset: 10n, metadata: 'm' }])
  await store.complete('g', 7n, true, 2_000)
  assert.deepEqual(committedAfterRestart(dataDir, 'g'), [['t', 1, 10n]])
  void store.stage('g', 8n, [{ topic: 't', partition: 1, offset: 20n, metadata: null }])
  await store.complete('g', 8n, false, 3_000)
  assert.deepEqual(committedAfterRestart(dataDir, 'g'), [['t', 1, 10n]], 'an abort drops them')
  await store.complete('g', 9n, true, 4_000) // nothing pending: resolves, writes nothing
  await store.close()
})

test('flushed and close wait for queued changes', async () => {
  const dataDir = freshDir()
  const store = OffsetStore.open(dataDir, silentLogger)
  void store.commit('g', [{ topic: 't', partition: 0, offset: 1n, metadata: null }], 1_000)
  await store.flushed()
  assert.deepEqual(committedAfterRestart(dataDir, 'g'), [['t', 0, 1n]])
  void store.commit('g', [{ topic: 't', partition: 0, offset: 2n, metadata: null }], 1_001)
  void store.deleteGroup('other')
  await store.close()
  assert.deepEqual(committedAfterRestart(dataDir, 'g'), [['t', 0, 2n]])
})
