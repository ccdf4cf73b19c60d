import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type BlockCutLimits, alignedEndNs, concatColumns, cutChunks, cutColumn } from './block-cuts.ts'
import { type Column, FieldType, sliceColumn } from './encoding/block.ts'

const HOUR = 3_600_000_000_000n

function random(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => { state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0; return state / 2 ** 32 }
}

/** Strictly increasing times from `startNs` with steps drawn from `steps`, values = their index. */
function column(next: () => number, count: number, startNs: bigint, steps: bigint[]): Column {
  const times = new BigInt64Array(count)
  const values = new Float64Array(count)
  let t = startNs
  for (let i = 0; i < count; i++) {
    times[i] = t
    values[i] = i
    t += steps[Math.floor(next() * steps.length)]!
  }
  return { type: FieldType.FLOAT, times, values }
}

const bucketOf = (t: bigint, align: bigint): bigint => alignedEndNs(t, align)

/** The rule, checked block by block: nothing lost or reordered, no block too long, every cut justified, none missed. */
function checkCuts(input: Column, blocks: Column[], limits: BlockCutLimits): void {
  const min = Math.min(limits.minPoints, limits.maxPoints)
  assert.deepEqual(blocks.flatMap((b) => [...b.times]), [...input.times])
  assert.deepEqual(blocks.flatMap((b) => [...(b.values as Float64Array)]), [...(input.values as Float64Array)])
  for (const [i, block] of blocks.entries()) {
    const n = block.times.length
    assert.ok(n >= 1 && n <= limits.maxPoints, `block ${i} holds ${n} points`)
    if (limits.alignNs > 0n) {
      // No boundary crossed inside a block once it held min points (the first block: one point).
      for (let k = i === 0 && limits.firstBlockToBoundary ? 1 : min; k < n; k++) {
        assert.equal(bucketOf(block.times[k]!, limits.alignNs), bucketOf(block.times[k - 1]!, limits.alignNs), `block ${i} crosses a boundary after ${k} points`)
      }
    }
    const next = blocks[i + 1]
    if (!next) continue
    if (n === limits.maxPoints) continue
    assert.ok(limits.alignNs > 0n && (n >= min || (i === 0 && limits.firstBlockToBoundary === true)), `block ${i} ends early with ${n} points`)
    assert.notEqual(bucketOf(block.times[n - 1]!, limits.alignNs), bucketOf(next.times[0]!, limits.alignNs), `block ${i} ends inside a bucket`)
  }
}

test('alignedEndNs: the next multiple of the alignment, negative times included', () => {
  assert.equal(alignedEndNs(0n, HOUR), HOUR)
  assert.equal(alignedEndNs(HOUR - 1n, HOUR), HOUR)
  assert.equal(alignedEndNs(HOUR, HOUR), 2n * HOUR)
  assert.equal(alignedEndNs(-1n, HOUR), 0n)
  assert.equal(alignedEndNs(-HOUR, HOUR), 0n)
  assert.equal(alignedEndNs(-HOUR - 1n, HOUR), -HOUR)
})

test('10 s data gets hour-long blocks on the hour; a slow series gets multi-hour blocks ending on one', () => {
  const limits = { maxPoints: 8192, minPoints: 128, alignNs: HOUR }
  const start = 1_451_606_400_000_000_000n + 1_230_000_000_000n // 20 min 30 s past an hour
  const fast = cutColumn(column(() => 0, 360 * 5, start, [10_000_000_000n]), limits)
  assert.deepEqual(fast.map((b) => b.times.length), [237, 360, 360, 360, 360, 123])
  for (const block of fast.slice(1, -1)) assert.equal(block.times[0]! % HOUR, 0n)
  const slow = cutColumn(column(() => 0, 200, start, [300_000_000_000n]), limits) // one point per 5 min: 12 an hour
  assert.ok(slow.length > 1)
  for (const [i, block] of slow.slice(0, -1).entries()) {
    assert.ok(block.times.length >= 128 && block.times.length < 128 + 12)
    assert.ok(slow[i + 1]!.times[0]! >= alignedEndNs(block.times[block.times.length - 1]!, HOUR))
  }
  const flushed = cutColumn(column(() => 0, 200, start, [300_000_000_000n]), { ...limits, firstBlockToBoundary: true })
  assert.equal(flushed[0]!.times.length, 8, 'a flush\'s first block ends at the first hour: 00:20:30 to 00:55:30')
  assert.deepEqual(flushed.slice(1).map((b) => [...b.times]), cutColumn(column(() => 0, 192, start + 8n * 300_000_000_000n, [300_000_000_000n]), limits).map((b) => [...b.times]))
})

test('alignment off: blocks of exactly maxPoints, as before', () => {
  const input = column(() => 0, 1000, 0n, [10_000_000_000n])
  assert.deepEqual(cutColumn(input, { maxPoints: 300, minPoints: 128, alignNs: 0n }).map((b) => b.times.length), [300, 300, 300, 100])
  assert.deepEqual(cutColumn(input, { maxPoints: 300, minPoints: 1000, alignNs: 7_200_000_000_000n }).map((b) => b.times.length), [300, 300, 300, 100], 'two-hour buckets of 720 points: maxPoints cuts first')
})

test('random series, limits and chunkings cut by the rule, the same whatever the chunks', () => {
  const next = random(0xb10c)
  const stepSets: bigint[][] = [[10_000_000_000n], [1n, 2n, 3n], [HOUR / 7n, HOUR / 3n, HOUR * 2n], [1_000_000_000n, 60_000_000_000n, 3n * HOUR]]
  for (let round = 0; round < 300; round++) {
    const steps = stepSets[round % stepSets.length]!
    const start = BigInt(Math.floor((next() - 0.5) * 2 ** 52)) * 1000n
    const input = column(next, 1 + Math.floor(next() * 3000), start, steps)
    const maxPoints = 2 + Math.floor(next() * 500)
    const limits: BlockCutLimits = {
      maxPoints, minPoints: 1 + Math.floor(next() * 600), alignNs: next() < 0.1 ? 0n : [HOUR, 60_000_000_000n, 7n][round % 3]!, firstBlockToBoundary: next() < 0.5,
    }
    const whole = cutColumn(input, limits)
    checkCuts(input, whole, limits)
    // The same stream in random chunks (compaction's merged chunks, a memtable column's pieces): the same blocks.
    const chunks: Column[] = []
    for (let at = 0; at < input.times.length;) {
      const end = Math.min(input.times.length, at + 1 + Math.floor(next() * 400))
      chunks.push(sliceColumn(input, at, end))
      at = end
    }
    const chunked = [...cutChunks(chunks, limits)]
    assert.deepEqual(chunked.map((b) => [...b.times]), whole.map((b) => [...b.times]), `round ${round}`)
  }
})

test('consecutive slices of one column concatenate to a view of it; other pieces are copied in order', () => {
  const whole = column(random(5), 1000, 0n, [10n, 20n])
  const integers: Column = { type: FieldType.INTEGER, times: whole.times, values: BigInt64Array.from(whole.values as Float64Array, (v) => BigInt(v) - 500n) }
  for (const source of [whole, integers]) {
    const joined = concatColumns([sliceColumn(source, 100, 228), sliceColumn(source, 228, 400), sliceColumn(source, 400, 401)])
    assert.equal(joined.times.buffer, source.times.buffer, 'no copy of the times')
    assert.equal((joined.values as Float64Array).buffer, (source.values as Float64Array).buffer, 'no copy of the values')
    assert.deepEqual(joined, sliceColumn(source, 100, 401))
    // A gap, or pieces of different arrays: copied, in the order given.
    const gapped = concatColumns([sliceColumn(source, 0, 10), sliceColumn(source, 11, 20)])
    assert.notEqual(gapped.times.buffer, source.times.buffer)
    assert.deepEqual(Array.from(gapped.times), [...Array.from(source.times.subarray(0, 10)), ...Array.from(source.times.subarray(11, 20))])
    assert.deepEqual(Array.from(gapped.values as Float64Array), [...Array.from((source.values as Float64Array).subarray(0, 10)), ...Array.from((source.values as Float64Array).subarray(11, 20))])
  }
})
