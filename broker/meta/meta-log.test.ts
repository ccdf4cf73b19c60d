import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { MetaLog } from './meta-log.ts'

const root = mkdtempSync(join(tmpdir(), 'sluice-meta-log-'))
after(() => rmSync(root, { recursive: true, force: true }))
let files = 0
const freshPath = (): string => join(root, `d${files++}`, 'test.log')

interface Rec { n: number }
const reopen = (path: string): number[] => {
  const { log, records } = MetaLog.open<Rec>(path)
  log.close()
  return records.map(r => r.n)
}

test('appendQueued: the records of one event-loop turn share one write, and are on disk when it resolves', async () => {
  const path = freshPath()
  const { log } = MetaLog.open<Rec>(path)
  const done = [1, 2, 3].map(n => log.appendQueued({ n }))
  assert.equal(statSync(path).size, 0, 'nothing written on the calling turn')
  await Promise.all(done)
  assert.equal(log.queuedWrites, 1)
  assert.equal(statSync(path).size, log.bytes)
  assert.deepEqual(reopen(path), [1, 2, 3])
  log.close()
})

test('appendQueued: records queued while a write is in flight go out next, in append order', async () => {
  const path = freshPath()
  const { log } = MetaLog.open<Rec>(path)
  const order: number[] = []
  const first = log.appendQueued({ n: 1 }).then(() => order.push(1))
  await new Promise(resolve => setImmediate(resolve)) // the first write has started
  const later = [2, 3, 4].map(n => log.appendQueued({ n }).then(() => order.push(n)))
  await Promise.all([first, ...later])
  assert.deepEqual(order, [1, 2, 3, 4])
  assert.equal(log.queuedWrites, 2)
  assert.deepEqual(reopen(path), [1, 2, 3, 4])
  log.close()
})

test('flushed: settles at once when idle, otherwise once everything queued so far is durable', async () => {
  const path = freshPath()
  const { log } = MetaLog.open<Rec>(path)
  await log.flushed()
  void log.appendQueued({ n: 1 })
  void log.appendQueued({ n: 2 })
  await log.flushed()
  assert.deepEqual(reopen(path), [1, 2])
  log.close()
})

test('rewriteQueued: takes its place in the queue; later records go to the new file', async () => {
  const path = freshPath()
  const { log } = MetaLog.open<Rec>(path)
  void log.appendQueued({ n: 1 })
  void log.appendQueued({ n: 2 })
  void log.rewriteQueued([{ n: 20 }])
  void log.appendQueued({ n: 3 })
  await log.flushed()
  assert.deepEqual(reopen(path), [20, 3])
  assert.equal(statSync(path).size, log.bytes)
  log.close()
})

test('a failed queued write rejects it and everything after it, and the log refuses further writes', async () => {
  const path = freshPath()
  const { log } = MetaLog.open<Rec>(path)
  await log.appendQueued({ n: 1 })
  mkdirSync(`${path}.compacting`) // the rewrite's temporary file cannot be created
  const rewrite = log.rewriteQueued([{ n: 10 }])
  const queuedAfter = log.appendQueued({ n: 2 })
  await assert.rejects(rewrite, /write failed/)
  await assert.rejects(queuedAfter, /write failed/)
  await assert.rejects(log.flushed(), /write failed/)
  assert.throws(() => log.appendQueued({ n: 3 }), /write failed/)
  assert.deepEqual(reopen(path), [1])
  log.close()
})

test('the synchronous append and rewrite refuse to run while queued writes are in flight', async () => {
  const path = freshPath()
  const { log } = MetaLog.open<Rec>(path)
  const queued = log.appendQueued({ n: 1 })
  assert.throws(() => log.append({ n: 2 }), /in flight/)
  assert.throws(() => log.rewrite([{ n: 2 }]), /in flight/)
  assert.throws(() => log.close(), /in flight/)
  await queued
  log.append({ n: 2 })
  assert.deepEqual(reopen(path), [1, 2])
  log.close()
})

test('open cuts a torn tail and keeps every intact record', async () => {
  const path = freshPath()
  const { log } = MetaLog.open<Rec>(path)
  await log.appendQueued({ n: 1 }, { n: 2 })
  log.close()
  const bytes = readFileSync(path)
  writeFileSync(path, bytes.subarray(0, bytes.length - 3))
  const reopened = MetaLog.open<Rec>(path)
  assert.deepEqual(reopened.records.map(r => r.n), [1])
  assert.ok(reopened.truncatedBytes > 0)
  reopened.log.close()
})

test('closeWhenFlushed waits for queued writes, those queued meanwhile included', async () => {
  const path = freshPath()
  const { log } = MetaLog.open<Rec>(path)
  void log.appendQueued({ n: 1 })
  const closing = log.closeWhenFlushed()
  await new Promise(resolve => setImmediate(resolve))
  void log.appendQueued({ n: 2 })
  await closing
  assert.deepEqual(reopen(path), [1, 2])
  assert.throws(() => log.appendQueued({ n: 3 }), /after close/)
})
