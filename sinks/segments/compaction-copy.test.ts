// Compaction copies blocks that merge with nothing as they are stored (store.ts wholeBlocks): the
// output is the file decoding and encoding everything gives (same blocks, same bytes), reads are
// unchanged, the cut rule holds, and a copied block's checksum is verified, not trusted.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogEntry, Field, Tag } from '../../schemas/index.ts'
import { type PartitionStore, openPartitionStore } from './store.ts'
import { canonicalSeriesKey, seriesId } from './series.ts'
import { isStorageError } from './errors.ts'
import { SegmentReader } from './segment-file.ts'
import { type Column, encodeBlock, sealBlock } from './encoding/block.ts'

const SECOND = 1_000_000_000n
const HOUR = 3_600n * SECOND
const HOSTS = ['a', 'b', 'c']

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-compaction-copy-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const tagsOf = (host: string): Tag[] => [{ key: 'host', value: host }]

/** 10 s points of three hosts, two fields (an integer random walk, a float), `bodies` entries each of `perEntry` times. */
function ingest(bodies: number, perEntry: number): ChangelogEntry[] {
  const entries: ChangelogEntry[] = []
  let walk = 50n
  for (let body = 0; body < bodies; body++) {
    for (const host of HOSTS) {
      const points = Array.from({ length: perEntry }, (_, i) => {
        const timeNs = BigInt(body * perEntry + i) * 10n * SECOND + 7n * HOUR
        walk += BigInt((body * 7 + i * 3) % 5) - 2n
        const fields: Field[] = [{ name: 'usage', value: walk }, { name: 'load', value: Number(walk) / 4 }]
        return { timeNs, fields }
      })
      entries.push({
        ingestPartition: 0, ingestOffset: BigInt(entries.length), command: null,
        upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tagsOf(host)), tags: tagsOf(host), points, pointsIn: points.length },
      })
    }
  }
  return entries
}

function read(store: PartitionStore, id: string, field: string): [bigint, unknown][] {
  const out: [bigint, unknown][] = []
  for (const chunk of store.scan({ seriesId: id, field })) {
    for (let i = 0; i < chunk.times.length; i++) out.push([chunk.times[i]!, (chunk.values as ArrayLike<unknown>)[i]])
  }
  return out
}

/** Applies the entries with a flush every `flushEvery` of them (a replica's timed flushes): segments that each end mid-hour. */
async function applyWithFlushes(store: PartitionStore, entries: ChangelogEntry[], flushEvery: number): Promise<void> {
  for (let offset = 0; offset < entries.length; offset++) {
    await store.apply(entries[offset]!, BigInt(offset))
    if ((offset + 1) % flushEvery === 0) await store.flush()
  }
}

const blockKey = (block: { series: { id: string }; field: string; minTimeNs: bigint; crc32c: number; storedLength: number }): string =>
  `${block.series.id} ${block.field} ${block.minTimeNs} ${block.crc32c} ${block.storedLength}`

test('compaction of time-ordered flushes copies the whole hour blocks: the same blocks and bytes as encoding them again', async (t) => {
  const dir = tempDir(t)
  const store = await openPartitionStore(dir, { fsync: false, autoCompact: false })
  const entries = ingest(60, 100) // 6,000 points per series: about 17 hours, flushed every 4 h 10 min
  await applyWithFlushes(store, entries, 45)
  const inputs = store.segmentFiles().map((file) => SegmentReader.open(join(dir, file)))
  const inputBlocks = new Set(inputs.flatMap((reader) => reader.blocks.map(blockKey)))
  for (const reader of inputs) reader.close()
  assert.ok(inputs.length >= 4, `${inputs.length} segments`)
  const before = new Map(HOSTS.map((host) => [host, read(store, seriesId('t', 'db', canonicalSeriesKey('cpu', tagsOf(host))), 'usage')]))
  const checksum = store.checksum()

  // Counted: blocks decoded (readBlock) and blocks read as stored to be copied (readStoredBlock).
  const reads = { decoded: 0, copied: 0 }
  const { readBlock, readStoredBlock } = SegmentReader.prototype
  SegmentReader.prototype.readBlock = function (...args) { reads.decoded++; return readBlock.apply(this, args) }
  SegmentReader.prototype.readStoredBlock = function (...args) { reads.copied++; return readStoredBlock.apply(this, args) }
  try {
    await store.compactAll()
  } finally {
    Object.assign(SegmentReader.prototype, { readBlock, readStoredBlock })
  }
  const [file] = store.segmentFiles()
  const output = SegmentReader.open(join(dir, file!))
  try {
    let sameAsInput = 0
    for (const blocks of output.blockLists()) {
      for (const [i, block] of blocks.entries()) {
        // Every block lies in one hour, and all but the last of a (series, field) hold the whole hour of 360 points.
        assert.equal(block.minTimeNs / HOUR, block.maxTimeNs / HOUR, `block ${block.ordinal} within one hour`)
        if (i > 0 && i < blocks.length - 1) assert.equal(block.count, 360)
        // What this build's encoder writes for the block's points, byte for byte, whether copied or encoded here.
        const column: Column = output.readBlock(block)
        const sealed = sealBlock(encodeBlock(column, undefined, { indexed: true }))
        assert.equal(sealed.crc32c, block.crc32c, `block ${block.ordinal} as encoding its points gives`)
        if (inputBlocks.has(blockKey(block))) sameAsInput++
      }
    }
    // The seams between flushes (an hour split over two segments) are decoded and merged; the rest is copied.
    assert.ok(reads.copied >= output.blocks.length * 0.6, `${reads.copied} of ${output.blocks.length} blocks copied`)
    assert.ok(reads.decoded <= output.blocks.length * 0.6, `${reads.decoded} blocks decoded for ${output.blocks.length} written`)
    assert.ok(sameAsInput >= reads.copied, `${sameAsInput} output blocks are input blocks, ${reads.copied} were copied`)
  } finally {
    output.close()
  }
  assert.equal(store.checksum(), checksum)
  for (const host of HOSTS) assert.deepEqual(read(store, seriesId('t', 'db', canonicalSeriesKey('cpu', tagsOf(host))), 'usage'), before.get(host))
  await store.close()
})

test('a block compaction would copy is checked against its checksum: a flipped byte stops the compaction', async (t) => {
  const dir = tempDir(t)
  const store = await openPartitionStore(dir, { fsync: false, autoCompact: false })
  await applyWithFlushes(store, ingest(20, 100), 30)
  await store.close()
  // A middle hour block of the first segment: one that merges with nothing.
  const [first] = readdirSync(dir).filter((name) => name.endsWith('.seg')).sort()
  const reader = SegmentReader.open(join(dir, first!))
  const target = [...reader.blockLists()].find((list) => list.length > 2)![1]!
  reader.close()
  assert.equal(target.count, 360)
  const bytes = readFileSync(join(dir, first!))
  bytes[target.offset + Math.floor(target.storedLength / 2)]! ^= 0x10
  writeFileSync(join(dir, first!), bytes)
  const reopened = await openPartitionStore(dir, { fsync: false, autoCompact: false })
  const inputs = reopened.segmentFiles()
  assert.ok(inputs.length >= 2)
  await assert.rejects(reopened.compactAll(), (error: unknown) => {
    assert.ok(isStorageError(error, 'SLUICE_ERR_STORAGE_CORRUPT'), String(error))
    assert.match(error.message, new RegExp(`segment ${first} block ${target.ordinal} .*checksum mismatch`))
    return true
  })
  assert.deepEqual(reopened.segmentFiles(), inputs, 'the inputs stay')
  await reopened.close().catch(() => {})
})

test('compaction reads each input\'s blocks at once (holdBlocks) and releases them: the same file as reading block by block', async (t) => {
  const compacted = async (holding: boolean): Promise<{ bytes: Buffer; holds: number; releases: number; reads: number }> => {
    const dir = tempDir(t)
    const store = await openPartitionStore(dir, { fsync: false, autoCompact: false })
    await applyWithFlushes(store, ingest(40, 100), 25)
    const counts = { holds: 0, releases: 0, reads: 0 }
    const { holdBlocks, releaseBlocks } = SegmentReader.prototype
    const readSyncCounter = SegmentReader.prototype.readStoredBlock
    SegmentReader.prototype.holdBlocks = function () { counts.holds++; if (holding) holdBlocks.apply(this) }
    SegmentReader.prototype.releaseBlocks = function () { counts.releases++; if (holding) releaseBlocks.apply(this) }
    SegmentReader.prototype.readStoredBlock = function (...args) { counts.reads++; return readSyncCounter.apply(this, args) }
    try {
      await store.compactAll()
    } finally {
      Object.assign(SegmentReader.prototype, { holdBlocks, releaseBlocks, readStoredBlock: readSyncCounter })
    }
    const [file] = store.segmentFiles()
    const bytes = readFileSync(join(dir, file!))
    await store.close()
    return { bytes, ...counts }
  }
  const held = await compacted(true)
  const blockByBlock = await compacted(false)
  assert.ok(held.holds >= 4, `${held.holds} inputs held`)
  assert.equal(held.releases, held.holds)
  assert.ok(held.reads > 0, 'blocks were copied from held bytes')
  assert.deepEqual(held.bytes, blockByBlock.bytes)
})

test('a held segment serves the blocks a read per block gives, until as many releases; closed, it refuses', async (t) => {
  const dir = tempDir(t)
  const store = await openPartitionStore(dir, { fsync: false, autoCompact: false })
  await applyWithFlushes(store, ingest(10, 100), 30)
  const [file] = store.segmentFiles()
  await store.close()
  const reader = SegmentReader.open(join(dir, file!))
  const each = reader.blocks.map((block) => ({ column: reader.readBlock(block), stored: Buffer.from(reader.readStoredBlock(block)) }))
  reader.holdBlocks()
  reader.holdBlocks()
  const { readBlock } = SegmentReader.prototype
  for (const [i, block] of reader.blocks.entries()) {
    assert.deepEqual(reader.readBlock(block), each[i]!.column)
    assert.deepEqual(Buffer.from(reader.readStoredBlock(block)), each[i]!.stored)
  }
  reader.releaseBlocks()
  assert.deepEqual(reader.readBlock(reader.blocks[0]!), each[0]!.column)
  reader.releaseBlocks()
  assert.throws(() => reader.releaseBlocks(), /releaseBlocks without holdBlocks/)
  // Released: read from the file again, which a changed byte now shows.
  const bytes = readFileSync(join(dir, file!))
  const target = reader.blocks[0]!
  bytes[target.offset + Math.floor(target.storedLength / 2)]! ^= 0x10
  writeFileSync(join(dir, file!), bytes)
  assert.throws(() => readBlock.call(reader, target), /checksum mismatch/)
  reader.holdBlocks()
  assert.throws(() => reader.readStoredBlock(target), /checksum mismatch/)
  reader.close()
  assert.throws(() => reader.readBlock(reader.blocks[1]!), (error: unknown) => isStorageError(error, 'SLUICE_ERR_STORAGE_CLOSED'))
})
