#!/usr/bin/env node
// Finds every *.test.ts (Node 20's test runner takes no globs) and runs them in one node:test run:
// unit tests beside the code first, then the integration tests, one file at a time.
// Usage: node scripts/run-tests.js [unit|integration|all] [extra node --test flags]
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const unitRoots = ['bin', 'lib', 'broker', 'pipeline', 'replicaset', 'sinks', 'query', 'schemas', 'console', 'bench']
const [scope = 'all', ...extra] = process.argv.slice(2)

function find(dir) {
  let entries
  try { entries = readdirSync(dir) } catch { return [] }
  return entries.flatMap(name => {
    if (name === 'node_modules' || name.startsWith('.')) return []
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return find(path)
    return name.endsWith('.test.ts') ? [relative(root, path)] : []
  }).sort()
}

const unit = unitRoots.flatMap(dir => find(join(root, dir)))
const integration = find(join(root, 'integration'))
const files = scope === 'unit' ? unit : scope === 'integration' ? integration : [...unit, ...integration]
if (files.length === 0) {
  console.error(`no test files found for scope "${scope}"`)
  process.exit(1)
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...extra, ...files], { cwd: root, stdio: 'inherit' })
process.exit(result.status ?? 1)
