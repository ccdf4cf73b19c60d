// What the catalog generation check (DROP DATABASE invalidation, pipeline/http/catalog.ts) adds to a
// write request: WriteCatalog.requireDatabase on a cached database now reads the database's
// generation from Redis (one HGET); before, it returned without a store call. The reference in the
// same run is the CPU work every write request does anyway: parsing one 5,000-line request of the
// TSBS-like cpu day (bench/support/tsbs-cpu.ts) with the line protocol parser, and its field type
// check against the catalog.
//
// Run: npm run bench:catalog [-- --rounds 2]   (needs Redis on 127.0.0.1:6379)

import { parseArgs } from 'node:util'
import { Redis } from 'ioredis'
import { parseLineProtocol } from '../pipeline/ingest/index.ts'
import { WriteCatalog } from '../pipeline/http/catalog.ts'
import { RedisControlStore } from '../pipeline/http/control-store.ts'
import { generateTsbsCpu, tsbsCpuOneDay } from './support/tsbs-cpu.ts'
import { describeMachine, median } from './support/report.ts'

const { values: options } = parseArgs({ options: { rounds: { type: 'string', default: '2' } } })
const ROUNDS = Number(options.rounds)
const CHECKS = 5_000
const PARSES = 40

const redis = new Redis('redis://127.0.0.1:6379')
const tenant = `bench_catalog_${process.pid}`
const catalog = new WriteCatalog(new RedisControlStore(redis), { autoCreateDatabases: true })
const body = generateTsbsCpu({ ...tsbsCpuOneDay, durationSeconds: 500 }).batches[0]!

async function microsPer(count: number, work: () => Promise<unknown> | unknown): Promise<number> {
  const start = process.hrtime.bigint()
  for (let i = 0; i < count; i++) await work()
  return Number(process.hrtime.bigint() - start) / 1_000 / count
}

try {
  console.log(describeMachine())
  await catalog.requireDatabase(tenant, 'bench')
  const checks: number[] = []
  const requests: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    checks.push(await microsPer(CHECKS, () => catalog.requireDatabase(tenant, 'bench')))
    requests.push(await microsPer(PARSES, async () => {
      const batch = parseLineProtocol(body, { nowNs: 0n })
      await catalog.checkFieldTypes(tenant, 'bench', batch)
    }))
    console.log(`round ${round}: requireDatabase ${checks.at(-1)!.toFixed(1)} µs, parse + type check of ${body.length} bytes ${requests.at(-1)!.toFixed(0)} µs`)
  }
  console.log(`median: generation check ${median(checks).toFixed(1)} µs per request = ${(median(checks) / median(requests)).toFixed(4)} of the request's parse and type check (${median(requests).toFixed(0)} µs)`)
} finally {
  await redis.del(`sluice:databases:${tenant}`, `sluice:generation:${tenant}`, ...await redis.keys(`sluice:fields:${tenant}:*`), ...await redis.keys(`sluice:tags:${tenant}:*`))
  redis.disconnect()
}
