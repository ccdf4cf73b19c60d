// Operating commands: `sluice backup` and `sluice restore` of a node's segment stores, `sluice
// compact` of a running node, and `sluice doctor`, which checks what a node depends on and says
// what to do about each problem. docs/operations.md describes them.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync, accessSync, constants } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { lockHolder, receiveSnapshot, REPLICA_LOCK_FILE, SNAPSHOT_CONTENT_TYPE } from '../replicaset/index.ts'
import { readManifest } from '../sinks/index.ts'
import { UsageError } from './errors.ts'

export const BACKUP_FILE = 'BACKUP.json'

export interface BackupManifest {
  format: 'sluice-backup-1'
  node: string
  source: string
  takenAt: string
  partitions: Array<{ partition: number; appliedOffset: string; files: number }>
}

function readBackupManifest(dir: string): BackupManifest {
  let manifest: BackupManifest
  try {
    manifest = JSON.parse(readFileSync(join(dir, BACKUP_FILE), 'utf8')) as BackupManifest
  } catch (error) {
    throw new Error(`${dir} is not a Sluice backup: ${join(dir, BACKUP_FILE)}: ${(error as Error).message}`)
  }
  if (manifest.format !== 'sluice-backup-1' || !Array.isArray(manifest.partitions)) throw new Error(`${join(dir, BACKUP_FILE)}: not a sluice-backup-1 manifest`)
  return manifest
}

function secretHeader(secret: string | undefined): Record<string, string> {
  return secret ? { authorization: `Bearer ${secret}` } : {}
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const answer = await fetch(url, { ...init, signal: AbortSignal.timeout(30 * 60_000) })
  const text = await answer.text()
  if (!answer.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${answer.status} ${text.slice(0, 300)}`)
  return JSON.parse(text) as T
}

/** `sluice backup --node <url> --out <dir>`: a consistent copy of every partition's store of a running node. */
export async function runBackup(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({ args, options: { node: { type: 'string', default: 'http://127.0.0.1:8086' }, out: { type: 'string' }, 'cluster-secret': { type: 'string' } }, strict: true })
  if (values.out === undefined) throw new UsageError('backup needs --out <dir> (a new or empty directory)')
  const out = resolve(values.out)
  if (existsSync(out) && readdirSync(out).length > 0) throw new Error(`--out ${out} is not empty: a backup goes into a new or empty directory`)
  mkdirSync(out, { recursive: true })
  const secret = values['cluster-secret'] ?? env.SLUICE_CLUSTER_SECRET
  const node = values.node.replace(/\/+$/, '')
  const positions = await json<{ node: string; partitions: Array<{ partition: number }> }>(`${node}/api/v1/replicaset/positions`)
  const partitions: Array<{ partition: number; appliedOffset: string; files: number }> = []
  for (const { partition } of positions.partitions) {
    const answer = await fetch(`${node}/api/v1/replicaset/snapshot/${partition}`, { headers: secretHeader(secret), signal: AbortSignal.timeout(30 * 60_000) })
    if (answer.status !== 200 || answer.body === null || !answer.headers.get('content-type')?.startsWith(SNAPSHOT_CONTENT_TYPE)) {
      throw new Error(`snapshot of partition ${partition} from ${node}: ${answer.status} ${(await answer.text()).slice(0, 300)}`)
    }
    const applied = await receiveSnapshot(answer.body, join(out, `changelog-${partition}`), { partition, atLeast: 0n })
    partitions.push({ partition, appliedOffset: String(applied), files: readdirSync(join(out, `changelog-${partition}`)).length })
    process.stderr.write(`partition ${partition}: applied offset ${applied}\n`)
  }
  const manifest: BackupManifest = { format: 'sluice-backup-1', node: positions.node, source: node, takenAt: new Date().toISOString(), partitions }
  writeFileSync(join(out, BACKUP_FILE), `${JSON.stringify(manifest, null, 2)}\n`)
  process.stdout.write(`backup of ${positions.node} in ${out}: ${partitions.length} partitions\n`)
}

/**
 * `sluice restore --from <dir> --data-dir <node data dir>`: puts a backup's stores in place of a
 * stopped node's; at start the node replays the changelog from the backup's offsets (or copies
 * from a peer where the changelog no longer reaches back that far).
 */
export async function runRestore(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { from: { type: 'string' }, 'data-dir': { type: 'string' } }, strict: true })
  if (values.from === undefined || values['data-dir'] === undefined) throw new UsageError('restore needs --from <backup dir> and --data-dir <the stopped node\'s data dir>')
  const from = resolve(values.from)
  const backup = readBackupManifest(from)
  const replicaDir = join(resolve(values['data-dir']), 'replica')
  const holder = lockHolder(replicaDir)
  if (holder !== undefined) throw new Error(`${replicaDir} is in use by process ${holder} (${join(replicaDir, REPLICA_LOCK_FILE)}): stop the node first`)
  for (const { partition, appliedOffset } of backup.partitions) {
    const source = join(from, `changelog-${partition}`)
    const manifest = readManifest(source)
    if (!manifest || manifest.partition !== partition || String(manifest.appliedOffset) !== appliedOffset) {
      throw new Error(`${source} does not hold partition ${partition} at offset ${appliedOffset} as ${BACKUP_FILE} says: the backup is damaged`)
    }
  }
  mkdirSync(replicaDir, { recursive: true })
  for (const { partition } of backup.partitions) {
    const target = join(replicaDir, `changelog-${partition}`)
    const incoming = `${target}.incoming`
    rmSync(incoming, { recursive: true, force: true })
    cpSync(join(from, `changelog-${partition}`), incoming, { recursive: true })
    rmSync(target, { recursive: true, force: true })
    renameSync(incoming, target)
  }
  process.stdout.write(`restored ${backup.partitions.length} partitions of ${backup.node} (taken ${backup.takenAt}) into ${replicaDir}; start the node to replay the changelog from there\n`)
}

/** `sluice compact --node <url>`: merges each partition's segments on a running node. */
export async function runCompact(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({ args, options: { node: { type: 'string', default: 'http://127.0.0.1:8086' }, 'cluster-secret': { type: 'string' } }, strict: true })
  const node = values.node.replace(/\/+$/, '')
  const answer = await json<{ node: string; partitions: Array<{ partition: number; before: { segments: number; bytes: number }; after: { segments: number; bytes: number }; ms: number }> }>(
    `${node}/api/v1/replicaset/compact`, { method: 'POST', headers: secretHeader(values['cluster-secret'] ?? env.SLUICE_CLUSTER_SECRET) })
  for (const p of answer.partitions) {
    process.stdout.write(`partition ${p.partition}: ${p.before.segments} segments, ${p.before.bytes} bytes → ${p.after.segments} segments, ${p.after.bytes} bytes (${p.ms} ms)\n`)
  }
}

// ---- doctor -------------------------------------------------------------------------------

export type Verdict = 'ok' | 'warn' | 'fail'

export interface Check {
  name: string
  verdict: Verdict
  detail: string
  /** What to do, when the verdict is not ok. */
  advice?: string
}

/** Clock skew above which a node's timestamps (server-time writes, heartbeats) are suspect. */
const SKEW_WARN_MS = 500
const SKEW_FAIL_MS = 5_000
/** Free disk below which flushes and the broker's log may soon fail. */
const DISK_WARN_BYTES = 5 * 1024 ** 3
const DISK_FAIL_BYTES = 512 * 1024 ** 2

async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs every check for a node configured by `args` (the same flags as `sluice node`). */
export async function doctorChecks(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = []
  const { loadNodeConfig } = await import('./node-config.ts')
  let config
  try {
    config = loadNodeConfig(args, env)
    checks.push({ name: 'configuration', verdict: 'ok', detail: `node ${config.nodeId}, kafka ${config.kafkaBrokers.join(',')}, redis ${config.redisUrl}, data ${config.dataDir}` })
  } catch (error) {
    checks.push({ name: 'configuration', verdict: 'fail', detail: (error as Error).message, advice: 'fix the flag or config-file setting named (sluice help lists them)' })
    return checks
  }

  // Disk: the data directory exists (or can be made), is writable, and has room.
  try {
    mkdirSync(config.dataDir, { recursive: true })
    accessSync(config.dataDir, constants.W_OK)
    const fs = statfsSync(config.dataDir)
    const free = fs.bavail * fs.bsize
    const gib = (free / 1024 ** 3).toFixed(1)
    if (free < DISK_FAIL_BYTES) checks.push({ name: 'disk', verdict: 'fail', detail: `${gib} GiB free under ${config.dataDir}`, advice: 'free space or move --data-dir: flushes fail when the disk is full, and the node stops applying' })
    else if (free < DISK_WARN_BYTES) checks.push({ name: 'disk', verdict: 'warn', detail: `${gib} GiB free under ${config.dataDir}`, advice: 'plan more space: segments grow with retention (docs/operations.md, sizing)' })
    else checks.push({ name: 'disk', verdict: 'ok', detail: `${gib} GiB free under ${config.dataDir}, writable` })
    const holder = lockHolder(join(config.dataDir, 'replica'))
    if (holder !== undefined) checks.push({ name: 'data directory', verdict: 'ok', detail: `in use by a running node (pid ${holder})` })
  } catch (error) {
    checks.push({ name: 'disk', verdict: 'fail', detail: `${config.dataDir}: ${(error as Error).message}`, advice: 'make --data-dir a writable directory' })
  }

  // Kafka: reachable, and the topics a set needs agree on their partition counts.
  const kafkajs = (await import('kafkajs')).default
  const kafka = new kafkajs.Kafka({ clientId: 'sluice-doctor', brokers: config.kafkaBrokers, logLevel: kafkajs.logLevel.NOTHING, connectionTimeout: 3_000, requestTimeout: 5_000, retry: { retries: 1 } })
  const admin = kafka.admin()
  try {
    const started = Date.now()
    await withTimeout('Kafka', 10_000, admin.connect())
    const cluster = await withTimeout('Kafka', 10_000, admin.describeCluster())
    checks.push({ name: 'kafka', verdict: 'ok', detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller}, answered in ${Date.now() - started} ms` })
    const topics = await admin.listTopics()
    const wanted = ['sluice.ingest', 'sluice.changelog', 'sluice.state', '_schemas']
    const present = wanted.filter(topic => topics.includes(topic))
    if (present.length === 0) {
      checks.push({ name: 'topics', verdict: 'ok', detail: 'no Sluice topics yet: the first node creates them' })
    } else {
      const metadata = await admin.fetchTopicMetadata({ topics: present.filter(t => t !== '_schemas') })
      const byName = new Map(metadata.topics.map(t => [t.name, t.partitions.length]))
      const counts = Object.fromEntries(wanted.filter(topic => byName.has(topic)).map(topic => [topic, byName.get(topic)!]))
      const distinct = new Set(Object.values(counts))
      const missing = wanted.filter(topic => !topics.includes(topic))
      if (distinct.size > 1) checks.push({ name: 'topics', verdict: 'fail', detail: `partition counts differ: ${JSON.stringify(counts)}`, advice: 'sluice.ingest, sluice.changelog and sluice.state must have the same partition count; recreate the derived topics (docs/operations.md)' })
      else checks.push({ name: 'topics', verdict: missing.length > 0 && topics.includes('sluice.ingest') ? 'warn' : 'ok', detail: `${JSON.stringify(counts)}${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}`, ...(missing.length > 0 ? { advice: 'a node with its processor on creates the missing topics at start' } : {}) })
    }
  } catch (error) {
    checks.push({ name: 'kafka', verdict: 'fail', detail: `${config.kafkaBrokers.join(',')}: ${(error as Error).message}`, advice: 'start Kafka (or `sluice broker`), or fix --kafka; writes answer 503 while Kafka is away' })
  } finally {
    await admin.disconnect().catch(() => {})
  }

  // Redis: reachable, round trip, clock skew against its TIME, and the set's member records.
  if (config.redisUrl === 'memory') {
    checks.push({ name: 'redis', verdict: 'warn', detail: 'control store in memory: databases, field types and idempotency keys live in this process only', advice: 'use Redis for anything but a single throwaway node' })
  } else {
    const { Redis } = await import('ioredis')
    const redis = new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 3_000, retryStrategy: () => null })
    redis.on('error', () => {})
    try {
      await withTimeout('Redis', 5_000, redis.connect())
      const sent = Date.now()
      const [seconds, micros] = await redis.time()
      const received = Date.now()
      const redisMs = Number(seconds) * 1000 + Number(micros) / 1000
      const skew = Math.round(redisMs - (sent + received) / 2)
      checks.push({ name: 'redis', verdict: 'ok', detail: `${config.redisUrl} answered in ${received - sent} ms` })
      const abs = Math.abs(skew)
      const clock: Check = { name: 'clock', verdict: abs > SKEW_FAIL_MS ? 'fail' : abs > SKEW_WARN_MS ? 'warn' : 'ok', detail: `this machine's clock is ${skew} ms from Redis's (±${Math.ceil((received - sent) / 2)} ms)` }
      if (clock.verdict !== 'ok') clock.advice = 'run NTP (chrony, systemd-timesyncd) on every machine: points written without a timestamp take the server\'s time, and heartbeats expire by it'
      checks.push(clock)
      const { RedisMemberStore } = await import('../replicaset/index.ts')
      const members = await new RedisMemberStore(redis).list()
      const failed = members.filter(m => m.health === 'failed')
      const behind = members.filter(m => m.health === 'catching-up')
      checks.push({
        name: 'replica set',
        verdict: failed.length > 0 ? 'fail' : behind.length > 0 ? 'warn' : 'ok',
        detail: `${members.length} member(s)${failed.length > 0 ? `; failed: ${failed.map(m => `${m.id} (${m.detail ?? 'no detail'})`).join(', ')}` : ''}${behind.length > 0 ? `; catching up: ${behind.map(m => m.id).join(', ')}` : ''}`,
        ...(failed.length > 0 ? { advice: 'a failed replica stopped applying on an error: read its log (event replica_failed) and restart it' } : behind.length > 0 ? { advice: 'catching-up members refuse queries until they reach the changelog end; see sluice status for their lag' } : {}),
      })
    } catch (error) {
      checks.push({ name: 'redis', verdict: 'fail', detail: `${config.redisUrl}: ${(error as Error).message}`, advice: 'start Redis or fix --redis: without it writes answer 503 (databases and field types live there)' })
    } finally {
      redis.disconnect()
    }
  }
  return checks
}

/** `sluice doctor [node flags] [--json]`: prints each check; exits 1 when one fails. */
export async function runDoctor(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const asJson = args.includes('--json')
  const checks = await doctorChecks(args.filter(arg => arg !== '--json'), env)
  if (asJson) {
    process.stdout.write(`${JSON.stringify({ checks }, null, 2)}\n`)
  } else {
    const width = Math.max(...checks.map(c => c.name.length))
    for (const check of checks) {
      process.stdout.write(`${check.verdict.toUpperCase().padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}\n`)
      if (check.advice) process.stdout.write(`${' '.repeat(width + 8)}→ ${check.advice}\n`)
    }
  }
  if (checks.some(c => c.verdict === 'fail')) process.exitCode = 1
}

