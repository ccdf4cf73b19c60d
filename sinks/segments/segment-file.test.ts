// SegmentReader.openWritten (a flush's or compaction's new segment, opened with the index its writer
// wrote) against SegmentReader.open (the index read back and decoded from the file): the same
// series and block tables, for every field type and the statistics' edge values.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Column, type FieldTypeCode, FieldType } from './encoding/block.ts'
import { SegmentReader, SegmentWriter } from './segment-file.ts'
import { seriesId } from './series.ts'

function random(seed: number): () => number {
  let state = seed
  return () => { state = (state * 1103515245 + 12345) % 2 ** 31; return state / 2 ** 31 }
}

const FLOATS = [0, -0, NaN, Infinity, -Infinity, 1.5, -2.25, Number.MAX_VALUE, Number.MIN_VALUE, 1e300]
const INTEGERS = [0n, -1n, 1n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 47n, -(2n ** 47n), 123456789n]

function column(type: FieldTypeCode, next: () => number, count: number, startNs: bigint): Column {
  const times = BigInt64Array.from({ length: count }, (_, i) => startNs + BigInt(i) * 10_000_000_000n + BigInt(Math.floor(next() * 1000)))
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!
  switch (type) {
    case FieldType.FLOAT: return { type, times, values: Float64Array.from({ length: count }, () => (next() < 0.5 ? pick(FLOATS) : next() * 100 - 50)) }
    case FieldType.INTEGER: return { type, times, values: BigInt64Array.from({ length: count }, () => (next() < 0.3 ? pick(INTEGERS) : BigInt(Math.floor(next() * 2000) - 1000))) }
    case FieldType.UNSIGNED: return { type, times, values: BigUint64Array.from({ length: count }, () => (next() < 0.3 ? BigInt.asUintN(64, pick(INTEGERS)) : BigInt(Math.floor(next() * 2000)))) }
    case FieldType.BOOLEAN: return { type, times, values: Uint8Array.from({ length: count }, () => (next() < 0.5 ? 1 : 0)) }
    default: return { type, times, values: Array.from({ length: count }, () => pick(['', 'a', 'idle', 'ü€', 'x'.repeat(300)])) }
  }
}

test('openWritten gives the series and blocks open decodes from the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-segment-file-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const types: FieldTypeCode[] = [FieldType.FLOAT, FieldType.INTEGER, FieldType.UNSIGNED, FieldType.BOOLEAN, FieldType.STRING]
  for (let round = 0; round < 12; round++) {
    const next = random(900 + round)
    const path = join(dir, `${round}.seg`)
    const writer = await SegmentWriter.create(path)
    for (let s = 0; s < 1 + Math.floor(next() * 4); s++) {
      const tags = [{ key: 'host', value: `h${s}` }, { key: 'rack', value: `r${round}` }]
      const seriesKey = `cpu,host=h${s},rack=r${round}`
      const series = { id: seriesId('t', 'db', seriesKey), tenant: 't', database: 'db', measurement: 'cpu', seriesKey, tags }
      // A declared field without blocks, as a flush declares every field type a series has.
      writer.declareSeries(series, [['declared_only', FieldType.FLOAT]])
      for (const type of types) {
        if (next() < 0.3) continue
        let startNs = BigInt(Math.floor(next() * 1e6)) * 1_000_000_000n - (round % 2 === 0 ? 2n ** 62n : 0n)
        for (let b = 0; b < 1 + Math.floor(next() * 3); b++) {
          const count = 1 + Math.floor(next() * (next() < 0.2 ? 2000 : 50))
          await writer.addBlock(series, `f${type}`, column(type, next, count, startNs))
          startNs += BigInt(count + 1) * 10_000_000_000n
        }
      }
    }
    const bytes = await writer.finish(false)
    const written = SegmentReader.openWritten(writer, bytes)
    const read = SegmentReader.open(path)
    try {
      assert.ok(read.blocks.length > 0)
      assert.deepStrictEqual(written.series, read.series, `round ${round}: series`)
      assert.deepStrictEqual(written.blocks, read.blocks, `round ${round}: blocks`)
      assert.equal(written.byteLength, read.byteLength)
      assert.equal(written.formatVersion, read.formatVersion)
      assert.equal(written.blockBytes, read.blockBytes)
      for (const list of read.blockLists()) {
        const first = list[0]!
        assert.deepStrictEqual(written.blocksOf(first.series.id, first.field), list)
      }
      for (const block of written.blocks) assert.deepStrictEqual(written.readBlock(block), read.readBlock(read.blocks[block.ordinal]!))
    } finally {
      written.close()
      read.close()
    }
  }
})

test('openWritten refuses a file whose size is not what its writer wrote', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-segment-file-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const writer = await SegmentWriter.create(join(dir, 'a.seg'))
  const seriesKey = 'cpu,host=a'
  await writer.addBlock({ id: seriesId('t', 'db', seriesKey), tenant: 't', database: 'db', measurement: 'cpu', seriesKey, tags: [{ key: 'host', value: 'a' }] }, 'v', column(FieldType.INTEGER, random(1), 10, 0n))
  const bytes = await writer.finish(false)
  assert.throws(() => SegmentReader.openWritten(writer, bytes + 1), /bytes on disk, its writer wrote/)
})
