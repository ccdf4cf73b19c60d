// Crash safety: a child process applies a log and is killed with SIGKILL at random moments (during
// applies, flushes, compactions, manifest writes); each time the store must reopen at exactly the
// state of a store that never crashed and applied the same prefix, up to its durableOffset.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openPartitionStore } from './store.ts'
import { randomLog, seededRandom } from './testing/random-log.ts'

const CHILD = fileURLToPath(new URL('./testing/crash-child.ts', import.meta.url))
const SEED = 2026
const ENTRIES = 1500

function runChild(dir: string, killAfterMs: number | null): Promise<{ killed: boolean; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(SEED), String(ENTRIES)], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    let timer: NodeJS.Timeout | null = null
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString()
      // Start the clock once the child is applying, so the kill lands in the work, not in start-up.
      if (timer === null && killAfterMs !== null && output.includes('start')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    })
    child.stderr.on('data', (data: Buffer) => { output += data.toString() })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer)
      if (signal === 'SIGKILL') resolve({ killed: true, output })
      else if (code === 0) resolve({ killed: false, output })
      else reject(new Error(`child exited with ${code}: ${output}`))
    })
  })
}

test('kill -9 at random moments: the store reopens at its manifest, equal to a store that never crashed', { timeout: 600_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const entries = randomLog({ entries: ENTRIES, seed: SEED, maxPoints: 40, timeSlots: 400 })
  const reference = await openPartitionStore(mkdtempSync(join(tmpdir(), 'sluice-crash-ref-')), { fsync: false, autoCompact: false })
  let referenceOffset = 0
  const random = seededRandom(7)
  const durableOffsets: bigint[] = []
  for (let round = 0; round < 26; round++) {
    // 25 kills at random moments, then a run left to finish.
    const { killed, output } = await runChild(dir, round < 25 ? 5 + Math.floor(random() * 500) : null)
    const store = await openPartitionStore(dir, { fsync: false, autoCompact: false })
    const durable = Number(store.durableOffset)
    assert.ok(durable >= referenceOffset, `durableOffset went back from ${referenceOffset} to ${durable}`)
    for (; referenceOffset < durable; referenceOffset++) await reference.apply(entries[referenceOffset]!, BigInt(referenceOffset))
    assert.equal(store.checksum(), reference.checksum(), `round ${round}: state at durableOffset ${durable} (${output.trim()})`)
    durableOffsets.push(store.durableOffset)
    await store.close()
    if (!killed) break
  }
  assert.equal(referenceOffset, ENTRIES, `the child finished (durable offsets seen: ${durableOffsets.join(' ')})`)
  assert.ok(new Set(durableOffsets).size >= 5, `kills landed at several offsets: ${durableOffsets.join(' ')}`)
  await reference.close()
})

test('a copy of the directory taken at any moment reopens at a prefix of the log (every manifest change)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-snapshots-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const entries = randomLog({ entries: 900, seed: 31, maxPoints: 40, timeSlots: 400 })
  const dir = join(root, 'live')
  const store = await openPartitionStore(dir, { fsync: false, memtableMaxBytes: 64 * 1024, blockMaxPoints: 64, compactionFanIn: 2 })
  const reference = await openPartitionStore(join(root, 'reference'), { fsync: false, autoCompact: false })
  let referenceOffset = 0
  let snapshots = 0
  for (let offset = 0; offset < entries.length; offset++) {
    await store.apply(entries[offset]!, BigInt(offset))
    if (offset % 25 !== 0) continue
    await new Promise((resolve) => setImmediate(resolve))
    // The copy is what a crash right now would leave (files of unfinished flushes included).
    const copy = join(root, `copy-${snapshots++}`)
    cpSync(dir, copy, { recursive: true })
    const reopened = await openPartitionStore(copy, { fsync: false, autoCompact: false })
    for (; referenceOffset < Number(reopened.durableOffset); referenceOffset++) await reference.apply(entries[referenceOffset]!, BigInt(referenceOffset))
    assert.equal(reopened.checksum(), reference.checksum(), `copy at offset ${offset}, durableOffset ${reopened.durableOffset}`)
    await reopened.close()
    rmSync(copy, { recursive: true })
  }
  assert.ok(referenceOffset > entries.length / 2, `the durable offset advanced to ${referenceOffset}`)
  await store.close()
  await reference.close()
})
