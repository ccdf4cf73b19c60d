import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { MALLOC_HUGE_PAGES_TUNABLE, sluiceProcessEnv, withMallocHugePages } from './process-env.ts'

test('withMallocHugePages adds the tunable, keeps the others and an operator\'s own hugetlb', () => {
  assert.equal(withMallocHugePages(undefined), MALLOC_HUGE_PAGES_TUNABLE)
  assert.equal(withMallocHugePages(''), MALLOC_HUGE_PAGES_TUNABLE)
  assert.equal(withMallocHugePages('glibc.malloc.arena_max=2'), `glibc.malloc.arena_max=2:${MALLOC_HUGE_PAGES_TUNABLE}`)
  assert.equal(withMallocHugePages('glibc.malloc.hugetlb=0'), 'glibc.malloc.hugetlb=0')
  assert.equal(withMallocHugePages('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2'), 'glibc.malloc.arena_max=2:glibc.malloc.hugetlb=2')
})

test('sluiceProcessEnv keeps the environment and defaults the log level to info', () => {
  const env = sluiceProcessEnv({ PATH: '/bin', SLUICE_LOG_LEVEL: 'warn' })
  assert.deepEqual(env, { PATH: '/bin', SLUICE_LOG_LEVEL: 'warn', GLIBC_TUNABLES: MALLOC_HUGE_PAGES_TUNABLE })
  assert.equal(sluiceProcessEnv({}).SLUICE_LOG_LEVEL, 'info')
})

test('a process started with sluiceProcessEnv gets huge pages for a large buffer where the kernel offers them', () => {
  // THP mode, e.g. "always [madvise] never": the bracketed word is the one in force.
  const mode = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1]
  const script = "const b = Buffer.alloc(64 << 20); b.fill(1); process.stdout.write(JSON.stringify({ tunables: process.env.GLIBC_TUNABLES, hugeKb: Number(/AnonHugePages:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]) }))"
  const child = spawnSync(process.execPath, ['-e', script], { env: sluiceProcessEnv({ PATH: process.env.PATH }), encoding: 'utf8' })
  assert.equal(child.status, 0, child.stderr)
  const seen = JSON.parse(child.stdout) as { tunables: string; hugeKb: number }
  assert.equal(seen.tunables, MALLOC_HUGE_PAGES_TUNABLE)
  // With THP off ("never") no process gets huge pages; otherwise malloc's madvise must have been honoured.
  if (mode === 'never') assert.equal(seen.hugeKb, 0)
  else assert.ok(seen.hugeKb >= 2048, `${seen.hugeKb} kB of huge pages in a process with 64 MiB filled (THP mode ${mode})`)
})
