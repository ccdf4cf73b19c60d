// Copying a store: the links survive compaction of the source, the received store has the same
// checksum, and a flipped byte, a cut stream or a manifest of another partition are refused with
// the target left as it was.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPartitionStore, type PartitionStore } from '../sinks/index.ts'
import { randomLog } from '../sinks/segments/testing/random-log.ts'
import { linkSnapshot, receiveSnapshot, snapshotFrames, type LinkedSnapshot } from './snapshot.ts'
import { isReplicaError } from './errors.ts'

async function sourceStore(dir: string): Promise<PartitionStore> {
  const store = await openPartitionStore(dir, { partition: 3, fsync: false, autoCompact: false })
  const log = randomLog({ seed: 11, entries: 600 })
  for (let i = 0; i < log.length; i++) {
    await store.apply(log[i]!, BigInt(i))
    if (i % 100 === 99) await store.flush()
  }
  await store.flush()
  return store
}

async function collect(snapshot: LinkedSnapshot): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of snapshotFrames(snapshot)) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

test('a linked snapshot outlives compaction of its source and reopens with the same checksum', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-snapshot-'))
  const source = await sourceStore(join(root, 'source'))
  const snapshot = linkSnapshot(join(root, 'source'), join(root, 'link'))
  assert.equal(snapshot.appliedOffset, 600n)
  assert.equal(snapshot.files.at(-1), 'MANIFEST', 'the manifest goes last')
  const checksum = source.checksum()
  await source.compactAll() // deletes the segments the snapshot linked
  assert.ok(source.segmentFiles().every(file => !snapshot.files.includes(file)), 'compaction replaced every linked segment')

  const bytes = await collect(snapshot)
  const target = join(root, 'target')
  const offset = await receiveSnapshot(pieces(bytes, 1_000), target, { partition: 3, atLeast: 600n }) // small pieces split every frame
  assert.equal(offset, 600n)
  const copy = await openPartitionStore(target, { partition: 3, fsync: false })
  assert.equal(copy.appliedOffset, 600n)
  assert.equal(copy.checksum(), checksum)
  assert.ok(!existsSync(`${target}.incoming`))
  await copy.close()
  await source.close()
})

test('a flipped byte, a cut stream, another partition or too old a manifest leave the target untouched', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-snapshot-'))
  const source = await sourceStore(join(root, 'source'))
  const bytes = await collect(linkSnapshot(join(root, 'source'), join(root, 'link')))
  const target = join(root, 'target')
  const kept = await openPartitionStore(target, { partition: 3, fsync: false })
  await kept.close()
  const before = readdirSync(target).sort()

  const flipped = Buffer.from(bytes)
  flipped[Math.floor(bytes.length / 2)]! ^= 0x40
  const refusals: Array<[string, Buffer, { partition: number; atLeast: bigint }, RegExp]> = [
    ['flipped byte', flipped, { partition: 3, atLeast: 0n }, /CRC-32C|file name|bytes after/],
    ['cut stream', bytes.subarray(0, bytes.length - 7), { partition: 3, atLeast: 0n }, /ended before its end frame/],
    ['other partition', bytes, { partition: 4, atLeast: 0n }, /of partition 3, not 4/],
    ['too old', bytes, { partition: 3, atLeast: 601n }, /covers offsets below 600, not the 601 needed/],
  ]
  for (const [what, stream, expect, message] of refusals) {
    await assert.rejects(receiveSnapshot(pieces(stream, 4_096), target, expect), error => {
      assert.ok(isReplicaError(error), what)
      assert.match(error.message, message, what)
      return true
    })
    assert.deepEqual(readdirSync(target).sort(), before, `${what}: the target is as it was`)
    assert.ok(!existsSync(`${target}.incoming`), `${what}: nothing half-received remains`)
  }
  await source.close()
})
