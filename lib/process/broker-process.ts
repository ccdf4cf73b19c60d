// Runs the embedded broker as a real child process (`sluice broker`), the way a user runs it, so
// integration tests can talk to it over loopback, SIGTERM it, kill -9 it and restart it.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { once } from 'node:events'
import { sluiceProcessEnv } from './process-env.ts'

const repositoryRoot = resolve(import.meta.dirname, '..', '..')  // lib/process → repository root
const STARTUP_TIMEOUT_MS = 30_000

export interface BrokerProcess {
  bootstrap: string
  port: number
  dataDir: string
  child: ChildProcess
  /** Everything the process wrote to stderr (structured logs). */
  logs(): string
  /** SIGTERM and wait for exit; returns the exit code. */
  stop(): Promise<number | null>
  /** kill -9 and wait until the process is gone. */
  kill(): Promise<void>
  /** Start again on the same port and data directory (after stop or kill). */
  restart(): Promise<BrokerProcess>
  /** Stop, then start again on the same port and data directory with these extra arguments. */
  restartWith(args: string[]): Promise<BrokerProcess>
}

/** `env`: environment variables over sluiceProcessEnv()'s. */
export async function startBrokerProcess(options: { dataDir?: string; port?: number; args?: string[]; env?: Record<string, string> } = {}): Promise<BrokerProcess> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-broker-'))
  const args = ['bin/sluice.js', 'broker', '--port', String(options.port ?? 0), '--data-dir', dataDir, ...(options.args ?? [])]
  const child = spawn(process.execPath, args, { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...sluiceProcessEnv(), ...options.env } })
  let stderr = ''
  child.stderr!.on('data', chunk => { stderr += chunk })
  const port = await new Promise<number>((resolvePort, reject) => {
    let stdout = ''
    const timer = setTimeout(() => reject(new Error(`broker did not start within ${STARTUP_TIMEOUT_MS} ms:\n${stderr}`)), STARTUP_TIMEOUT_MS)
    child.stdout!.on('data', chunk => {
      stdout += chunk
      const match = /listening on [^\s:]+:(\d+)/.exec(stdout)
      if (match) { clearTimeout(timer); resolvePort(Number(match[1])) }
    })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`broker exited with ${code} before listening:\n${stderr}`)) })
  })
  const exited = once(child, 'exit')
  const broker: BrokerProcess = {
    bootstrap: `127.0.0.1:${port}`,
    port,
    dataDir,
    child,
    logs: () => stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode
      child.kill('SIGTERM')
      const [code] = await exited
      return code as number | null
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exited
    },
    restart: () => startBrokerProcess({ dataDir, port, args: options.args, env: options.env }),
    async restartWith(args) {
      await broker.stop()
      return startBrokerProcess({ dataDir, port, args: [...(options.args ?? []), ...args], env: options.env })
    },
  }
  return broker
}
