import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { silentLogger } from '../logger.ts'
import { MetaLog } from '../meta/meta-log.ts'
import { PRODUCER_ID_BLOCK_SIZE } from './limits.ts'
import { ProducerIdManager } from './pid-manager.ts'

const root = mkdtempSync(join(tmpdir(), 'sluice-pid-'))
after(() => rmSync(root, { recursive: true, force: true }))
let dirs = 0
const freshPath = (): string => join(root, `d${dirs++}`, 'meta', 'pid.log')

test('hands out consecutive ids, starting at 0', () => {
  const pids = ProducerIdManager.open(freshPath(), silentLogger)
  assert.deepEqual([pids.next(), pids.next(), pids.next()], [0n, 1n, 2n])
  pids.close()
})

test('a block is durable before its first id is handed out, and never reused after a crash', () => {
  const path = freshPath()
  const first = ProducerIdManager.open(path, silentLogger)
  const handedOut = [first.next(), first.next()]
  // Simulated kill -9: no close(); whatever reached the file is all the next process sees.
  const { log, records } = MetaLog.open<{ endProducerIdExclusive: string }>(path)
  log.close()
  assert.equal(records.length, 1)
  assert.equal(records[0]!.endProducerIdExclusive, PRODUCER_ID_BLOCK_SIZE.toString())
  const second = ProducerIdManager.open(path, silentLogger)
  const next = second.next()
  assert.equal(next, PRODUCER_ID_BLOCK_SIZE)
  assert.ok(!handedOut.includes(next))
  first.close()
  second.close()
})

test('crossing a block boundary reserves the next block; a reopen skips past it', () => {
  const path = freshPath()
  const pids = ProducerIdManager.open(path, silentLogger)
  let last = -1n
  for (let i = 0n; i <= PRODUCER_ID_BLOCK_SIZE; i++) last = pids.next()
  assert.equal(last, PRODUCER_ID_BLOCK_SIZE)
  pids.close()
  const reopened = ProducerIdManager.open(path, silentLogger)
  assert.equal(reopened.next(), 2n * PRODUCER_ID_BLOCK_SIZE)
  reopened.close()
})

test('reopening compacts pid.log to its last record', () => {
  const path = freshPath()
  for (let run = 0; run < 5; run++) {
    const pids = ProducerIdManager.open(path, silentLogger)
    pids.next()
    pids.close()
  }
  const sizeBefore = statSync(path).size
  ProducerIdManager.open(path, silentLogger).close()
  assert.ok(statSync(path).size < sizeBefore)
  const { log, records } = MetaLog.open<{ firstProducerId: string }>(path)
  log.close()
  assert.equal(records.length, 1)
  assert.equal(records[0]!.firstProducerId, (4n * PRODUCER_ID_BLOCK_SIZE).toString())
})

test('a record that does not parse stops the open loudly', () => {
  const path = freshPath()
  const { log } = MetaLog.open<unknown>(path)
  log.append({ v: 1, firstProducerId: 'zero', endProducerIdExclusive: '1000' })
  log.close()
  assert.throws(() => ProducerIdManager.open(path, silentLogger), /pid\.log: bad record/)
})

test('a torn tail is cut and the intact block is still skipped', () => {
  const path = freshPath()
  const pids = ProducerIdManager.open(path, silentLogger)
  pids.next()
  pids.close()
  writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from([0, 0, 0, 40, 1, 2])]))
  const reopened = ProducerIdManager.open(path, silentLogger)
  assert.equal(reopened.next(), PRODUCER_ID_BLOCK_SIZE)
  reopened.close()
})
