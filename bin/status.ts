// `sluice status`: the replica set at a glance, read from Redis (members, health, masters per
// partition, lag), or as JSON with --json.

import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { formatReplicaSet, mastersOf, RedisMemberStore } from '../replicaset/index.ts'
export { statusUsage } from './usage.ts'


/** Connecting and answering take at most this long: a status command must not hang. */
const STATUS_TIMEOUT_MS = 5_000

export async function runStatus(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const { values } = parseArgs({ args, options: { redis: { type: 'string' }, json: { type: 'boolean', default: false } }, strict: true })
  const url = values.redis ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379'
  const redis = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: STATUS_TIMEOUT_MS, retryStrategy: () => null })
  redis.on('error', () => {})
  try {
    await redis.connect()
    const members = await new RedisMemberStore(redis).list()
    if (values.json) process.stdout.write(`${JSON.stringify({ members, masters: mastersOf(members) }, null, 2)}\n`)
    else process.stdout.write(formatReplicaSet(members))
  } catch (error) {
    throw new Error(`Redis at ${url}: ${(error as Error).message}`)
  } finally {
    redis.disconnect()
  }
}
