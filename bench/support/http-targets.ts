// The servers the HTTP ingest benchmark writes to, behind one interface so a target is added in one
// place: InfluxDB 1.6 and VictoriaMetrics from Debian's packages, and Sluice (broker + node). Each
// starts in a fresh temp directory on free loopback ports and reports the process ids whose CPU time
// the benchmark charges to it.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const START_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 10_000

export interface RunningTarget {
  version: string
  port: number
  /** Processes that serve the writes (CPU accounting). */
  pids(): number[]
  /** Path and query of a line protocol write into `database`, e.g. /write?db=bench. */
  writePath(database: string): string
  /** Makes `database` ready to take writes. */
  createDatabase(database: string): Promise<void>
  stop(): Promise<void>
}

export interface HttpTarget {
  name: string
  /** Why this target cannot run here, or null when it can. */
  unavailable(): Promise<string | null>
  start(): Promise<RunningTarget>
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Polls `url` until it answers `status`, or throws with the process's last output. */
export async function waitForHttp(url: string, status: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${url}: process exited (${child.exitCode ?? child.signalCode}):\n${output()}`)
    try {
      if ((await fetch(url)).status === status) return
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${START_TIMEOUT_MS} ms:\n${output()}`)
    await new Promise(resolveWait => setTimeout(resolveWait, 100))
  }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise(resolveGone => child.once('exit', resolveGone))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
  await gone
  clearTimeout(timer)
}

function spawnLogged(command: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  const keep = (chunk: Buffer): void => { log = (log + chunk.toString()).slice(-8000) }
  child.stdout!.on('data', keep)
  child.stderr!.on('data', keep)
  return { child, output: () => log }
}

/** CREATE DATABASE, then wait until SHOW DATABASES lists it (InfluxDB 1.6 once answered a write right after with 404). */
export async function createDatabaseByQuery(port: number, database: string): Promise<void> {
  const query = async (statement: string): Promise<string> => {
    const answer = await fetch(`http://127.0.0.1:${port}/query?q=${encodeURIComponent(statement)}`, { method: 'POST' })
    const text = await answer.text()
    if (answer.status !== 200) throw new Error(`${statement}: ${answer.status} ${text}`)
    return text
  }
  await query(`CREATE DATABASE "${database}"`)
  const deadline = Date.now() + START_TIMEOUT_MS
  while (!(await query('SHOW DATABASES')).includes(`["${database}"]`)) {
    if (Date.now() > deadline) throw new Error(`database ${database} not listed ${START_TIMEOUT_MS} ms after CREATE DATABASE`)
    await new Promise(resolveWait => setTimeout(resolveWait, 50))
  }
}

function commandMissing(command: string, args: string[], install: string): string | null {
  const probe = spawnSync(command, args, { encoding: 'utf8' })
  return probe.error ? `${command} not found (${install})` : null
}

/** InfluxDB 1.x with its defaults that matter here: WAL fsync on every write (wal-fsync-delay 0s), TSM engine, inmem index. */
export const influxdbTarget: HttpTarget = {
  name: 'InfluxDB',
  unavailable: async () => commandMissing('influxd', ['version'], 'apt-get install -y influxdb'),
  async start() {
    const version = spawnSync('influxd', ['version'], { encoding: 'utf8' }).stdout.split(' ')[1] ?? 'unknown'
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-influxd-'))
    const [port, rpcPort] = [await freePort(), await freePort()]
    writeFileSync(join(dir, 'influxd.conf'), [
      'reporting-disabled = true', `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]', `  dir = "${join(dir, 'meta')}"`, '  logging-enabled = false',
      '[data]', `  dir = "${join(dir, 'data')}"`, `  wal-dir = "${join(dir, 'wal')}"`, '  query-log-enabled = false',
      '[monitor]', '  store-enabled = false',
      '[http]', '  enabled = true', `  bind-address = "127.0.0.1:${port}"`, '  log-enabled = false',
      '[continuous_queries]', '  enabled = false',
      '[logging]', '  level = "warn"', '',
    ].join('\n'))
    const { child, output } = spawnLogged('influxd', ['run', '-config', join(dir, 'influxd.conf')])
    await waitForHttp(`http://127.0.0.1:${port}/ping`, 204, child, output)
    return {
      version,
      port,
      pids: () => [child.pid!],
      writePath: database => `/write?db=${encodeURIComponent(database)}`,
      createDatabase: database => createDatabaseByQuery(port, database),
      async stop() { await stopChild(child); rmSync(dir, { recursive: true, force: true }) },
    }
  },
}

/**
 * VictoriaMetrics single-node, defaults except retention (TSBS timestamps start in 2016, outside the
 * default one month, and would be dropped). It acknowledges a write once the rows are in its
 * in-memory buffers, before they reach disk (flushed about every second), unlike the other two.
 */
export const victoriaMetricsTarget: HttpTarget = {
  name: 'VictoriaMetrics',
  unavailable: async () => commandMissing('victoria-metrics', ['-version'], 'apt-get install -y victoria-metrics'),
  async start() {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-vm-'))
    const port = await freePort()
    const version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'victoria-metrics'], { encoding: 'utf8' }).stdout.trim() || 'unknown'
    const { child, output } = spawnLogged('victoria-metrics', [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=100y', '-loggerLevel=ERROR'])
    await waitForHttp(`http://127.0.0.1:${port}/health`, 200, child, output)
    return {
      version,
      port,
      pids: () => [child.pid!],
      // `db` becomes a label, so each run's series are its own, as a database is elsewhere.
      writePath: database => `/write?db=${encodeURIComponent(database)}`,
      createDatabase: async () => {},
      async stop() { await stopChild(child); rmSync(dir, { recursive: true, force: true }) },
    }
  },
}
