// Preloaded into Sluice's processes with NODE_OPTIONS="--import .../allocation-profile-preload.mjs" by
// `npm run bench:e2e -- --allocation-profile DIR` (profileChildAllocations in report.ts): where a
// process allocates, by bytes, written to DIR/<command>-<pid>.allocations.json when it exits
// (<command>: `broker` or `node`). Two sources, since V8's heap profiler sees only the JS heap:
//   - V8's sampling heap profiler with collected objects kept (every allocation in the JS heap,
//     sampled every SAMPLE_BYTES, including what the GC has since freed);
//   - every Buffer of 256 bytes or more allocated from JavaScript through Buffer.alloc, allocUnsafe or
//     allocUnsafeSlow (Buffer.concat and Buffer.from of a buffer among them), counted by the caller's
//     three innermost frames outside node:buffer (line numbers of the code as it runs, after tsx).
//     Buffers Node allocates in C++ (socket reads, the HTTP parser's body chunks, zlib's output) are
//     not seen. Counting captures a stack per Buffer: its own allocations show in the JS heap part
//     (record, and source-map work under captureStackTrace); allocation-summary.ts leaves them out.
// bench/support/allocation-summary.ts ranks both. Plain JavaScript: it runs before the TypeScript loader.

import { Session } from 'node:inspector'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

const directory = process.env.SLUICE_BENCH_ALLOCATION_DIR
/** The sampling heap profiler's mean interval between samples. */
const SAMPLE_BYTES = 32 * 1024

if (directory) {
  const session = new Session()
  session.connect()
  session.post('HeapProfiler.enable')
  session.post('HeapProfiler.startSampling', { samplingInterval: SAMPLE_BYTES, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true })
  const buffers = countBufferAllocations()
  process.once('exit', () => {
    session.post('HeapProfiler.stopSampling', (error, result) => {
      const out = { heap: error ? null : result.profile, buffers: [...buffers.entries()].map(([stack, [calls, bytes]]) => ({ stack, calls, bytes })) }
      writeFileSync(join(directory, `${process.argv[2] ?? 'process'}-${process.pid}.allocations.json`), JSON.stringify(out))
    })
  })
}

/** Wraps Buffer's allocating statics; returns stack -> [calls, bytes]. */
function countBufferAllocations() {
  const counts = new Map()
  // Structured call sites, not the stack text: the text goes through the source maps tsx registers,
  // which allocates more than what is counted.
  const callSites = (_error, sites) => sites
  const record = bytes => {
    const holder = {}
    const { stackTraceLimit, prepareStackTrace } = Error
    Error.stackTraceLimit = 8
    Error.prepareStackTrace = callSites
    Error.captureStackTrace(holder, record)
    const sites = holder.stack
    Error.stackTraceLimit = stackTraceLimit
    Error.prepareStackTrace = prepareStackTrace
    const frames = []
    for (const site of sites) {
      const file = site.getFileName() ?? ''
      if (file === 'node:buffer' || file === import.meta.url) continue
      frames.push(`${site.getFunctionName() ?? '(anonymous)'} ${file.replace(/^.*?\/(node_modules|broker|pipeline|lib|bin|schemas|replicaset|sinks|query)\//, '$1/')}:${site.getLineNumber()}`)
      if (frames.length === 3) break
    }
    const stack = frames.join(' < ')
    const entry = counts.get(stack)
    if (entry === undefined) counts.set(stack, [1, bytes])
    else { entry[0]++; entry[1] += bytes }
  }
  for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow']) {
    const original = Buffer[name]
    Buffer[name] = function (size, ...rest) {
      if (typeof size === 'number' && size >= 256) record(size)
      return original.call(this, size, ...rest)
    }
  }
  // Buffer.concat allocates through Buffer.allocUnsafe: counted there, under its caller.
  return counts
}
