// Sluice as an HTTP ingest target: the embedded broker (its own process, default settings: acks
// released only after fdatasync) and one `sluice node` writing to it, each in a fresh temp
// directory. A 204 from the node means the points are in Kafka (idempotent producer, acks=all).

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { startBrokerProcess } from '../../lib/process/broker-process.ts'
import { freePort, stopChild, waitForHttp, type HttpTarget } from './http-targets.ts'

const repositoryRoot = resolve(import.meta.dirname, '..', '..')
const sluiceCommand = join(repositoryRoot, 'bin', 'sluice.js')
const REDIS_URL = process.env.SLUICE_BENCH_REDIS ?? 'redis://127.0.0.1:6379'

export const sluiceTarget: HttpTarget = {
  name: 'Sluice',
  async unavailable() {
    const help = spawnSync(process.execPath, [sluiceCommand, 'help'], { cwd: repositoryRoot, encoding: 'utf8' })
    return /sluice node\b/.test(`${help.stdout}${help.stderr}`) ? null : '`sluice node` does not exist yet in this tree'
  },
  async start() {
    const broker = await startBrokerProcess()
    const dataDir = mkdtempSync(join(tmpdir(), 'sluice-bench-node-'))
    const port = await freePort()
    const child = spawn(process.execPath, [sluiceCommand, 'node', '--kafka', broker.bootstrap, '--redis', REDIS_URL,
      '--http-port', String(port), '--data-dir', dataDir, '--node-id', 'bench-node'], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] })
    let log = ''
    const keep = (chunk: Buffer): void => { log = (log + chunk.toString()).slice(-8000) }
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    const stop = async (): Promise<void> => {
      await stopChild(child)
      await broker.stop()
      rmSync(dataDir, { recursive: true, force: true })
      rmSync(broker.dataDir, { recursive: true, force: true })
    }
    try {
      await waitForHttp(`http://127.0.0.1:${port}/ping`, 204, child, () => log)
    } catch (error) {
      await stop()
      throw error
    }
    return {
      version: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repositoryRoot, encoding: 'utf8' }).stdout.trim(),
      port,
      pids: () => [child.pid!, broker.child.pid!],
      writePath: database => `/write?db=${encodeURIComponent(database)}`,
      createDatabase: async database => {
        const answer = await fetch(`http://127.0.0.1:${port}/query?q=${encodeURIComponent(`CREATE DATABASE "${database}"`)}`, { method: 'POST' })
        if (answer.status !== 200) throw new Error(`CREATE DATABASE ${database}: ${answer.status} ${await answer.text()}`)
      },
      stop,
    }
  },
}
