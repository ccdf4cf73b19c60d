// Sluice as an HTTP ingest target: the embedded broker (its own process, default settings: acks
// released only after fdatasync) and one `sluice node` (defaults: auth off, 8 ingest partitions; by
// default the node also runs the master processor, the Kafka source and a replica) writing to it, each in a fresh temp directory. A 204 from the node means the points are in Kafka.
// The node runs under a tenant of its own, whose Redis keys are removed when it stops, because
// Redis is the machine's shared one.

import { rmSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { Redis } from 'ioredis'
import type { startBrokerProcess as StartBroker } from '../../lib/process/broker-process.ts'
import type { startNodeProcess as StartNode } from '../../lib/process/node-process.ts'
import type { HttpTarget } from './http-targets.ts'

const repositoryRoot = resolve(import.meta.dirname, '..', '..')
const REDIS_URL = process.env.SLUICE_BENCH_REDIS ?? 'redis://127.0.0.1:6379'

export async function removeTenantKeys(tenant: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await redis.connect()
    for (const pattern of [`sluice:databases:${tenant}`, `sluice:fields:${tenant}:*`, `sluice:tags:${tenant}:*`, `sluice:idem:${tenant}:*`]) {
      const keys = await redis.keys(pattern)
      if (keys.length > 0) await redis.del(...keys)
    }
  } finally {
    redis.disconnect()
  }
}

/** The process starters of the Sluice checkout in `root` (this one, or another for a before/after in the same run). */
export async function processStarters(root: string): Promise<{ startBrokerProcess: typeof StartBroker; startNodeProcess: typeof StartNode }> {
  const { startBrokerProcess } = await import(resolve(root, 'lib/process/broker-process.ts')) as { startBrokerProcess: typeof StartBroker }
  const { startNodeProcess } = await import(resolve(root, 'lib/process/node-process.ts')) as { startNodeProcess: typeof StartNode }
  return { startBrokerProcess, startNodeProcess }
}

/**
 * `sluice node` with its defaults, and `extraArgs` (e.g. --no-processor to measure ingest alone).
 * `root`: another checkout of Sluice whose broker and node to run (a before/after in the same run).
 */
export function sluiceTarget(name: string, extraArgs: string[] = [], root = repositoryRoot): HttpTarget {
  return {
  name,
  async unavailable() {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
    try {
      await redis.connect()
      await redis.ping()
      return null
    } catch (error) {
      return `Redis at ${REDIS_URL} does not answer (${(error as Error).message})`
    } finally {
      redis.disconnect()
    }
  },
  async start() {
    // Request logging off, as InfluxDB's is here (log-enabled = false).
    process.env.SLUICE_LOG_LEVEL ??= 'warn'
    const tenant = `bench-${process.pid}-${Date.now()}`
    const { startBrokerProcess, startNodeProcess } = await processStarters(root)
    const broker = await startBrokerProcess()
    const node = await startNodeProcess({ kafka: broker.bootstrap, redis: REDIS_URL, args: ['--default-tenant', tenant, ...extraArgs] }).catch(async error => {
      await broker.stop()
      rmSync(broker.dataDir, { recursive: true, force: true })
      await removeTenantKeys(tenant)
      throw error
    })
    return {
      version: `${spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim()} (node + embedded broker)`,
      port: node.port,
      pids: () => [node.child.pid!, broker.child.pid!],
      writePath: database => `/write?db=${encodeURIComponent(database)}`,
      createDatabase: async database => {
        const answer = await fetch(`${node.url}/query?q=${encodeURIComponent(`CREATE DATABASE "${database}"`)}`, { method: 'POST' })
        if (answer.status !== 200) throw new Error(`CREATE DATABASE ${database}: ${answer.status} ${await answer.text()}`)
      },
      async stop() {
        await node.stop()
        await broker.stop()
        rmSync(node.dataDir, { recursive: true, force: true })
        rmSync(broker.dataDir, { recursive: true, force: true })
        await removeTenantKeys(tenant)
      },
    }
  },
  }
}
