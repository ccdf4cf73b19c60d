// Ranks the allocation sites of a process by bytes, from the file allocation-profile-preload.mjs
// writes: the JS heap (V8's sampling heap profiler, freed objects included) by function, and the
// Buffers allocated from JavaScript by their callers' three innermost frames. The profiler's own
// allocations (its module, and the source maps its stack captures read) are left out of the heap part.
//
// Run: node --import tsx bench/support/allocation-summary.ts <DIR/node-<pid>.allocations.json> [top=20]

import { readFileSync } from 'node:fs'

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number }
  selfSize: number
  children: HeapNode[]
}
interface Allocations { heap: { head: HeapNode } | null; buffers: Array<{ stack: string; calls: number; bytes: number }> }

/** The profiler's own module: its allocations are not the process's. */
const PRELOAD = 'allocation-profile-preload.mjs'
const shortUrl = (url: string): string => url.replace(/^file:\/\/.*?\/(node_modules|broker|pipeline|lib|bin|schemas|replicaset|sinks|query)\//, '$1/')
const megabytes = (bytes: number): string => `${(bytes / 1e6).toFixed(1).padStart(8)} MB`

function heapBySite(head: HeapNode): Map<string, number> {
  const bySite = new Map<string, number>()
  const stack = [head]
  while (stack.length > 0) {
    const node = stack.pop()!
    if (node.selfSize > 0 && !node.callFrame.url.endsWith(PRELOAD) && !node.callFrame.url.startsWith('node:internal/source_map')) {
      const key = `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
      bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize)
    }
    stack.push(...node.children)
  }
  return bySite
}

function main(): void {
  const [file, topText] = process.argv.slice(2)
  if (file === undefined) throw new Error('usage: allocation-summary.ts <file.allocations.json> [top]')
  const top = Number(topText ?? 20)
  const allocations = JSON.parse(readFileSync(file, 'utf8')) as Allocations
  if (allocations.heap !== null) {
    const sites = [...heapBySite(allocations.heap.head)].sort((a, b) => b[1] - a[1])
    const total = sites.reduce((sum, [, bytes]) => sum + bytes, 0)
    console.log(`JS heap, sampled (freed objects included): ${megabytes(total)}`)
    for (const [site, bytes] of sites.slice(0, top)) console.log(`${megabytes(bytes)} ${(100 * bytes / total).toFixed(1).padStart(5)}%  ${site}`)
  }
  const buffers = [...allocations.buffers].sort((a, b) => b.bytes - a.bytes)
  const total = buffers.reduce((sum, entry) => sum + entry.bytes, 0)
  console.log(`\nBuffers of 256 bytes or more allocated from JavaScript: ${megabytes(total)}`)
  for (const entry of buffers.slice(0, top)) console.log(`${megabytes(entry.bytes)} ${String(entry.calls).padStart(8)} calls  ${entry.stack}`)
}

main()
