// On-disk bytes of InfluxDB 1.x and VictoriaMetrics for the same line protocol, after their own
// compaction: each starts in a fresh directory on loopback, takes the batches over HTTP, is made to
// persist and compact (InfluxDB: cold-write durations of 1 s so the cache snapshots and TSM files
// fully compact; VictoriaMetrics: /internal/force_flush and /internal/force_merge), and its data
// directory is measured once its size stops changing. InfluxDB's 1 s cold durations make it
// snapshot and compact as soon as writes stop, as it would after 10 min / 4 h by default.

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createDatabaseByQuery, freePort, stopChild, waitForHttp } from './http-targets.ts'

export interface PeerResult {
  name: string
  version: string
  bytes: number | null
  note: string
}

function directoryBytes(path: string, skip: (name: string) => boolean = () => false): number {
  let total = 0
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (skip(entry.name)) continue
    const full = join(path, entry.name)
    total += entry.isDirectory() ? directoryBytes(full, skip) : statSync(full).size
  }
  return total
}

async function settle(measure: () => number, nudge: () => Promise<void>, stableMs = 6_000, maxMs = 180_000): Promise<number> {
  const deadline = Date.now() + maxMs
  let last = -1
  let stableSince = Date.now()
  for (;;) {
    await nudge()
    const now = measure()
    if (now !== last) { last = now; stableSince = Date.now() }
    if (Date.now() - stableSince >= stableMs || Date.now() > deadline) return now
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
}

async function post(url: string, body: Buffer): Promise<void> {
  const answer = await fetch(url, { method: 'POST', body: new Blob([new Uint8Array(body)]) })
  if (answer.status >= 300) throw new Error(`${url}: ${answer.status} ${await answer.text()}`)
}

function spawnQuiet(command: string, args: string[]): { child: ReturnType<typeof spawn>; output: () => string } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout!.on('data', (c: Buffer) => { log = (log + c.toString()).slice(-4000) })
  child.stderr!.on('data', (c: Buffer) => { log = (log + c.toString()).slice(-4000) })
  return { child, output: () => log }
}

async function influxdb(batches: Buffer[], database: string): Promise<PeerResult> {
  const probe = spawnSync('influxd', ['version'], { encoding: 'utf8' })
  if (probe.error) return { name: 'InfluxDB', version: '', bytes: null, note: 'influxd not installed (apt-get install -y influxdb)' }
  const version = probe.stdout.split(' ')[1] ?? 'unknown'
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-disk-influxd-'))
  const [port, rpcPort] = [await freePort(), await freePort()]
  writeFileSync(join(dir, 'influxd.conf'), [
    'reporting-disabled = true', `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]', `  dir = "${join(dir, 'meta')}"`, '  logging-enabled = false',
    '[data]', `  dir = "${join(dir, 'data')}"`, `  wal-dir = "${join(dir, 'wal')}"`, '  query-log-enabled = false',
    '  cache-snapshot-write-cold-duration = "1s"', '  compact-full-write-cold-duration = "2s"',
    '[monitor]', '  store-enabled = false',
    '[http]', '  enabled = true', `  bind-address = "127.0.0.1:${port}"`, '  log-enabled = false',
    '[continuous_queries]', '  enabled = false', '[logging]', '  level = "warn"', '',
  ].join('\n'))
  const { child, output } = spawnQuiet('influxd', ['run', '-config', join(dir, 'influxd.conf')])
  try {
    await waitForHttp(`http://127.0.0.1:${port}/ping`, 204, child, output)
    await createDatabaseByQuery(port, database)
    for (const batch of batches) await post(`http://127.0.0.1:${port}/write?db=${database}`, batch)
    // The series file (_series) is preallocated in 4 MiB segments whatever the data; it is left out.
    const bytes = await settle(() => directoryBytes(join(dir, 'data'), (name) => name === '_series') + directoryBytes(join(dir, 'wal')), async () => {})
    return { name: 'InfluxDB', version, bytes, note: 'TSM files + WAL after snapshot and full compaction; the preallocated _series file left out' }
  } finally {
    await stopChild(child)
    rmSync(dir, { recursive: true, force: true })
  }
}

async function victoriaMetrics(batches: Buffer[]): Promise<PeerResult> {
  const probe = spawnSync('victoria-metrics', ['-version'], { encoding: 'utf8' })
  if (probe.error) return { name: 'VictoriaMetrics', version: '', bytes: null, note: 'not installed (apt-get install -y victoria-metrics)' }
  const version = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'victoria-metrics'], { encoding: 'utf8' }).stdout.trim() || 'unknown'
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-disk-vm-'))
  const port = await freePort()
  const { child, output } = spawnQuiet('victoria-metrics', [`-storageDataPath=${dir}`, `-httpListenAddr=127.0.0.1:${port}`, '-retentionPeriod=100y', '-loggerLevel=ERROR'])
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health`, 200, child, output)
    for (const batch of batches) await post(`http://127.0.0.1:${port}/write`, batch)
    const base = `http://127.0.0.1:${port}`
    const bytes = await settle(() => directoryBytes(dir, (name) => name === 'cache' || name === 'flock.lock'), async () => {
      await fetch(`${base}/internal/force_flush`).catch(() => {})
      await fetch(`${base}/internal/force_merge`).catch(() => {})
    })
    return { name: 'VictoriaMetrics', version, bytes, note: 'data + indexdb after force_flush and force_merge, cache excluded' }
  } finally {
    await stopChild(child)
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function measurePeers(batches: Buffer[], database: string): Promise<PeerResult[]> {
  const results: PeerResult[] = []
  for (const run of [() => influxdb(batches, database), () => victoriaMetrics(batches)]) {
    try {
      results.push(await run())
    } catch (error) {
      results.push({ name: 'peer', version: '', bytes: null, note: `failed: ${(error as Error).message.slice(0, 200)}` })
    }
  }
  return results
}
