// Summarises a V8 .cpuprofile (node --cpu-prof): where the busy samples went, by file and by
// function, self and inclusive, with idle time left out of the percentages.
//
// With a third argument, only the profile's last that many seconds count (a benchmark's timed phase
// at the end of a process's life, without its start-up and data loading).
//
// Run: node --import tsx bench/support/profile-summary.ts <file.cpuprofile> [top=25] [last-seconds]

import { readFileSync } from 'node:fs'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const IDLE = '(idle)'

function shortUrl(url: string): string {
  if (url === '') return ''
  const inRepository = url.replace(/^file:\/\/.*?\/(broker|pipeline|lib|bin|schemas|bench)\//, '$1/')
  return inRepository.replace(/^file:\/\/.*\/node_modules\//, 'node_modules/')
}

function summarise(profile: Profile, top: number, lastSeconds: number): void {
  const byId = new Map(profile.nodes.map(node => [node.id, node]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const functionKey = (node: ProfileNode): string => `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`
  const fileKey = (node: ProfileNode): string => shortUrl(node.callFrame.url) || node.callFrame.functionName

  const self = new Map<string, number>()
  const files = new Map<string, number>()
  const inclusive = new Map<string, number>()
  let busyMs = 0
  let idleMs = 0
  const totalMs = profile.timeDeltas.reduce((sum, delta) => sum + delta, 0) / 1000
  let atMs = 0
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index + 1] ?? profile.timeDeltas[index] ?? 0) / 1000
    atMs += (profile.timeDeltas[index] ?? 0) / 1000
    if (atMs < totalMs - lastSeconds * 1000) return
    const node = byId.get(id)!
    if (node.callFrame.functionName === IDLE) { idleMs += ms; return }
    busyMs += ms
    self.set(functionKey(node), (self.get(functionKey(node)) ?? 0) + ms)
    files.set(fileKey(node), (files.get(fileKey(node)) ?? 0) + ms)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const key = functionKey(byId.get(at)!)
      if (!seen.has(key)) { seen.add(key); inclusive.set(key, (inclusive.get(key) ?? 0) + ms) }
    }
  })
  const print = (title: string, table: Map<string, number>): void => {
    console.log(`\n${title}`)
    for (const [key, ms] of [...table].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(100 * ms / busyMs).toFixed(1).padStart(6)}%  ${ms.toFixed(0).padStart(7)} ms  ${key}`)
    }
  }
  console.log(`busy ${busyMs.toFixed(0)} ms, idle ${idleMs.toFixed(0)} ms (${(100 * busyMs / (busyMs + idleMs)).toFixed(0)}% busy)`)
  print('self time by file', files)
  print('self time by function', self)
  print('inclusive time by function', inclusive)
}

const [file, top, lastSeconds] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top] [last-seconds]')
summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, Number(top ?? 25), lastSeconds === undefined ? Number.POSITIVE_INFINITY : Number(lastSeconds))
