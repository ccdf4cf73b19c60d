// A real InfluxDB 1.x (Debian's influxdb package) on loopback for comparison tests: its own temp
// directories, free ports for HTTP and RPC, reporting and background services off. Plus a raw HTTP
// client, because InfluxDB echoes control bytes of bad lines into its X-Influxdb-Error header, which
// Node's strict HTTP parser (and so fetch) refuses.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request, Agent } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const START_TIMEOUT_MS = 30_000
const REQUEST_TIMEOUT_MS = 10_000

export interface HttpAnswer { status: number; body: Buffer }

export interface Influxd {
  version: string
  write(database: string, body: Buffer, precision?: string): Promise<HttpAnswer>
  /** Runs an InfluxQL statement with epoch=ns and returns the raw JSON text. */
  query(database: string, statement: string): Promise<string>
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')))
    })
  })
}

function send(agent: Agent, port: number, method: 'GET' | 'POST', path: string, body: Buffer): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, agent, insecureHTTPParser: true, timeout: REQUEST_TIMEOUT_MS, headers: { 'content-length': body.length, 'content-type': 'text/plain; charset=utf-8' } }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`influxd did not answer ${path} within ${REQUEST_TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}

/** Starts influxd, or throws with the reason (missing binary, early exit with its log, no answer). */
export async function startInfluxd(): Promise<Influxd> {
  const which = spawnSync('influxd', ['version'], { encoding: 'utf8' })
  if (which.error || which.status !== 0) {
    throw new Error(`influxd is not installed or does not run (${which.error?.message ?? which.stderr}); install it with: apt-get install -y influxdb influxdb-client (.ci/run does)`)
  }
  const version = which.stdout.trim()
  const dir = mkdtempSync(join(tmpdir(), 'sluice-influxd-'))
  const [httpPort, rpcPort] = [await freePort(), await freePort()]
  const config = `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
`
  writeFileSync(join(dir, 'influxd.conf'), config)
  const child: ChildProcess = spawn('influxd', ['run', '-config', join(dir, 'influxd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout!.on('data', chunk => { log = (log + String(chunk)).slice(-8000) })
  child.stderr!.on('data', chunk => { log = (log + String(chunk)).slice(-8000) })
  let exited: string | undefined
  child.on('exit', (code, signal) => { exited = `exited with ${code ?? signal}` })
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const cleanup = (): void => { agent.destroy(); rmSync(dir, { recursive: true, force: true }) }

  const deadline = Date.now() + START_TIMEOUT_MS
  for (;;) {
    if (exited) { cleanup(); throw new Error(`influxd ${exited} before answering /ping:\n${log}`) }
    try {
      const ping = await send(agent, httpPort, 'GET', '/ping', Buffer.alloc(0))
      if (ping.status === 204) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); cleanup(); throw new Error(`influxd did not answer /ping within ${START_TIMEOUT_MS} ms:\n${log}`) }
    await new Promise(resolve => setTimeout(resolve, 100))
  }

  return {
    version,
    write: (database, body, precision) => send(agent, httpPort, 'POST', `/write?db=${encodeURIComponent(database)}${precision === undefined ? '' : `&precision=${encodeURIComponent(precision)}`}`, body),
    query: async (database, statement) => {
      const answer = await send(agent, httpPort, 'POST', `/query?epoch=ns&db=${encodeURIComponent(database)}&q=${encodeURIComponent(statement)}`, Buffer.alloc(0))
      if (answer.status !== 200) throw new Error(`influxd query ${statement} answered ${answer.status}: ${answer.body.toString()}`)
      return answer.body.toString('utf8')
    },
    stop: async () => {
      if (!exited) {
        const gone = new Promise(resolve => child.once('exit', resolve))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await gone
        clearTimeout(timer)
      }
      cleanup()
    },
  }
}
