// Runs `sluice node` as a real child process, the way a user runs it, so integration tests reach its
// HTTP API over loopback and can SIGTERM it; and runs `sluice token` against its data directory.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import { sluiceProcessEnv } from './process-env.ts'

const repositoryRoot = resolve(import.meta.dirname, '..', '..') // lib/process → repository root
const STARTUP_TIMEOUT_MS = 60_000

export interface NodeProcess {
  /** http://127.0.0.1:<port> */
  url: string
  port: number
  dataDir: string
  nodeId: string
  child: ChildProcess
  /** Everything the process wrote to stderr (structured logs). */
  logs(): string
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>
  /** Creates a token in this node's token file; returns its secret. */
  createToken(spec: { tenant: string; databases?: string[]; permissions?: Array<'read' | 'write'>; id?: string }): string
}

export interface NodeProcessOptions {
  kafka: string
  redis?: string
  dataDir?: string
  nodeId?: string
  httpPort?: number
  /** Extra flags, e.g. ['--auth', '--limit', 'maxBodyBytes=1000']. */
  args?: string[]
  /** Environment variables over sluiceProcessEnv()'s, e.g. { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }. */
  env?: Record<string, string>
}

export async function startNodeProcess(options: NodeProcessOptions): Promise<NodeProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-node-'))
  const nodeId = options.nodeId ?? `node-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  const args = [
    'bin/sluice.js', 'node', '--kafka', options.kafka, '--redis', options.redis ?? 'redis://127.0.0.1:6379',
    '--http-port', String(options.httpPort ?? 0), '--data-dir', dataDir, '--node-id', nodeId, ...(options.args ?? []),
  ]
  const child = spawn(process.execPath, args, { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...sluiceProcessEnv(), ...options.env } })
  let stderr = ''
  child.stderr!.on('data', chunk => { stderr += chunk })
  const port = await new Promise<number>((resolvePort, reject) => {
    let stdout = ''
    const timer = setTimeout(() => reject(new Error(`node did not start within ${STARTUP_TIMEOUT_MS} ms:\n${stderr}`)), STARTUP_TIMEOUT_MS)
    let found = false
    child.stdout!.on('data', chunk => {
      if (found) return // kept only until the port is read: stdout may carry traces for the process's whole life
      stdout += chunk
      const match = /listening on http:\/\/[^\s:]+:(\d+)/.exec(stdout)
      if (match) { found = true; clearTimeout(timer); resolvePort(Number(match[1])) }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`node exited with ${code} before listening:\n${stderr}`)) })
  })
  const exited = once(child, 'exit')
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    nodeId,
    child,
    logs: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const [code] = await exited
      return code as number | null
    },
    createToken(spec) {
      const result = spawnSync(process.execPath, [
        'bin/sluice.js', 'token', 'create', '--data-dir', dataDir, '--tenant', spec.tenant,
        '--databases', (spec.databases ?? ['*']).join(','), '--permissions', (spec.permissions ?? ['read', 'write']).join(','),
        ...(spec.id ? ['--id', spec.id] : []),
      ], { cwd: repositoryRoot, encoding: 'utf8' })
      if (result.status !== 0) throw new Error(`sluice token create failed (${result.status}): ${result.stderr}`)
      return result.stdout.trim()
    },
  }
}
