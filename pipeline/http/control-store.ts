// The HTTP API's shared state outside Kafka: databases per tenant, field types per measurement, and
// Idempotency-Key entries. In production Redis (ioredis), shared by every node; MemoryControlStore
// is the same contract in one process (unit tests, `--redis memory`).
//
// Redis keys (names percent-encoded, so a ':' in a name cannot collide):
//   sluice:databases:<tenant>                   set of database names
//   sluice:fields:<tenant>:<db>:<measurement>   hash field key → FieldType number (first writer wins, HSETNX)
//   sluice:tags:<tenant>:<db>:<measurement>     set of tag keys
//   sluice:ttl:<tenant>                         hash database → time to live in ns (CREATE/ALTER DATABASE ... TTL)
//   sluice:generation:<tenant>                  hash database → a counter every DROP increments, so each
//                                               node's cached columns of the database are dropped too
//   sluice:idem:<tenant>:<key>                  "pending:<owner>:<fingerprint>" or "done:<json answer>", with a TTL

import type { Redis } from 'ioredis'
import type { FieldTypeValue } from '../ingest/index.ts'
import { HttpApiError, HttpErrorCode } from './errors.ts'

export interface FieldClaim {
  measurement: string
  field: string
  type: FieldTypeValue
}

export interface ControlStore {
  hasDatabase(tenant: string, database: string): Promise<boolean>
  /** Creates the database if missing; true if this call created it. */
  createDatabase(tenant: string, database: string): Promise<boolean>
  listDatabases(tenant: string): Promise<string[]>
  /** Records each field's type unless it has one; returns the type each field has now, in order. */
  claimFieldTypes(tenant: string, database: string, claims: readonly FieldClaim[]): Promise<FieldTypeValue[]>
  /** Records tag keys seen in writes (a set per measurement: they only grow). */
  addTagKeys(tenant: string, database: string, tags: readonly TagKeyClaim[]): Promise<void>
  /** A measurement's tag keys and field types, or null if no write ever named it. */
  measurementColumns(tenant: string, database: string, measurement: string): Promise<StoredColumns | null>
  /** The database's time to live in ns (null: keep forever), or undefined when the database does not exist. */
  databaseTtl(tenant: string, database: string): Promise<bigint | null | undefined>
  /** Records the database's time to live (null: keep forever). */
  setDatabaseTtl(tenant: string, database: string, ttlNs: bigint | null): Promise<void>
  /** Forgets the database, its columns and its time to live, and bumps its generation; true if it existed. */
  dropDatabase(tenant: string, database: string): Promise<boolean>
  /** Forgets some fields of a measurement, or (fields null) all its columns, and bumps the database's generation. */
  dropColumns(tenant: string, database: string, measurement: string, fields: readonly string[] | null): Promise<void>
  /** The database's generation: it changes with every DROP of it or of its columns. */
  generation(tenant: string, database: string): Promise<number>
  /** SET key value NX PX ttl: true if the key was free and is now `value`. */
  claimKey(key: string, value: string, ttlMs: number): Promise<boolean>
  readKey(key: string): Promise<string | null>
  /** Replaces the key's value only while it is still `expected`; true if replaced. */
  replaceKey(key: string, expected: string, value: string, ttlMs: number): Promise<boolean>
  /** Deletes the key only while it is still `expected`. */
  deleteKey(key: string, expected: string): Promise<void>
  close(): Promise<void>
}

const part = (name: string): string => encodeURIComponent(name)

export interface TagKeyClaim {
  measurement: string
  key: string
}

export interface StoredColumns {
  tags: string[]
  fields: Map<string, FieldTypeValue>
}

export const controlKeys = {
  databases: (tenant: string): string => `sluice:databases:${part(tenant)}`,
  fields: (tenant: string, database: string, measurement: string): string => `sluice:fields:${part(tenant)}:${part(database)}:${part(measurement)}`,
  tags: (tenant: string, database: string, measurement: string): string => `sluice:tags:${part(tenant)}:${part(database)}:${part(measurement)}`,
  idempotency: (tenant: string, key: string): string => `sluice:idem:${part(tenant)}:${part(key)}`,
  ttl: (tenant: string): string => `sluice:ttl:${part(tenant)}`,
  generation: (tenant: string): string => `sluice:generation:${part(tenant)}`,
}

/** A SCAN pattern matching the column keys of every measurement of a database (glob characters escaped). */
function columnKeyPattern(kind: 'fields' | 'tags', tenant: string, database: string): string {
  return `sluice:${kind}:${part(tenant)}:${part(database)}:`.replace(/[*?[\]\\]/g, '\\$&') + '*'
}

/** Wraps a Redis failure as the retriable CONTROL_STORE_UNAVAILABLE. */
async function guarded<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    throw new HttpApiError(HttpErrorCode.CONTROL_STORE_UNAVAILABLE, `Redis did not answer (${what}): ${(error as Error).message}`, { cause: error })
  }
}

const REPLACE_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end return 0`
const DELETE_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

export class RedisControlStore implements ControlStore {
  constructor(private readonly redis: Redis) {}

  hasDatabase(tenant: string, database: string): Promise<boolean> {
    return guarded('databases', async () => (await this.redis.sismember(controlKeys.databases(tenant), database)) === 1)
  }

  createDatabase(tenant: string, database: string): Promise<boolean> {
    return guarded('databases', async () => (await this.redis.sadd(controlKeys.databases(tenant), database)) === 1)
  }

  listDatabases(tenant: string): Promise<string[]> {
    return guarded('databases', async () => (await this.redis.smembers(controlKeys.databases(tenant))).sort())
  }

  claimFieldTypes(tenant: string, database: string, claims: readonly FieldClaim[]): Promise<FieldTypeValue[]> {
    return guarded('field types', async () => {
      const pipeline = this.redis.pipeline()
      for (const claim of claims) {
        const key = controlKeys.fields(tenant, database, claim.measurement)
        pipeline.hsetnx(key, claim.field, String(claim.type))
        pipeline.hget(key, claim.field)
      }
      const results = (await pipeline.exec()) ?? []
      return claims.map((claim, i) => {
        const [error, value] = results[i * 2 + 1] ?? [new Error('missing pipeline result'), null]
        if (error) throw error
        const type = Number(value)
        if (!Number.isInteger(type) || type < 1 || type > 5) throw new Error(`bad field type ${String(value)} stored for ${claim.measurement}.${claim.field}`)
        return type as FieldTypeValue
      })
    })
  }

  addTagKeys(tenant: string, database: string, tags: readonly TagKeyClaim[]): Promise<void> {
    return guarded('tag keys', async () => {
      const pipeline = this.redis.pipeline()
      for (const tag of tags) pipeline.sadd(controlKeys.tags(tenant, database, tag.measurement), tag.key)
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error
    })
  }

  measurementColumns(tenant: string, database: string, measurement: string): Promise<StoredColumns | null> {
    return guarded('columns', async () => {
      const [tags, fields] = await Promise.all([
        this.redis.smembers(controlKeys.tags(tenant, database, measurement)),
        this.redis.hgetall(controlKeys.fields(tenant, database, measurement)),
      ])
      if (tags.length === 0 && Object.keys(fields).length === 0) return null
      return { tags, fields: new Map(Object.entries(fields).map(([name, type]) => [name, Number(type) as FieldTypeValue])) }
    })
  }

  databaseTtl(tenant: string, database: string): Promise<bigint | null | undefined> {
    return guarded('databases', async () => {
      const [exists, ttl] = await Promise.all([this.redis.sismember(controlKeys.databases(tenant), database), this.redis.hget(controlKeys.ttl(tenant), database)])
      if (exists !== 1) return undefined
      return ttl === null ? null : BigInt(ttl)
    })
  }

  setDatabaseTtl(tenant: string, database: string, ttlNs: bigint | null): Promise<void> {
    return guarded('databases', async () => {
      if (ttlNs === null) await this.redis.hdel(controlKeys.ttl(tenant), database)
      else await this.redis.hset(controlKeys.ttl(tenant), database, ttlNs.toString())
    })
  }

  dropDatabase(tenant: string, database: string): Promise<boolean> {
    return guarded('databases', async () => {
      const keys = [...await this.scanKeys(columnKeyPattern('fields', tenant, database)), ...await this.scanKeys(columnKeyPattern('tags', tenant, database))]
      const multi = this.redis.multi().srem(controlKeys.databases(tenant), database).hdel(controlKeys.ttl(tenant), database).hincrby(controlKeys.generation(tenant), database, 1)
      if (keys.length > 0) multi.del(...keys)
      const results = (await multi.exec()) ?? []
      for (const [error] of results) if (error) throw error
      return results[0]?.[1] === 1
    })
  }

  dropColumns(tenant: string, database: string, measurement: string, fields: readonly string[] | null): Promise<void> {
    return guarded('columns', async () => {
      const multi = this.redis.multi()
      if (fields === null) multi.del(controlKeys.fields(tenant, database, measurement), controlKeys.tags(tenant, database, measurement))
      else if (fields.length > 0) multi.hdel(controlKeys.fields(tenant, database, measurement), ...fields)
      multi.hincrby(controlKeys.generation(tenant), database, 1)
      for (const [error] of (await multi.exec()) ?? []) if (error) throw error
    })
  }

  generation(tenant: string, database: string): Promise<number> {
    return guarded('databases', async () => Number(await this.redis.hget(controlKeys.generation(tenant), database) ?? 0))
  }

  private async scanKeys(pattern: string): Promise<string[]> {
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
      keys.push(...batch)
      cursor = next
    } while (cursor !== '0')
    return keys
  }

  claimKey(key: string, value: string, ttlMs: number): Promise<boolean> {
    return guarded('idempotency', async () => (await this.redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK')
  }

  readKey(key: string): Promise<string | null> {
    return guarded('idempotency', () => this.redis.get(key))
  }

  replaceKey(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    return guarded('idempotency', async () => (await this.redis.eval(REPLACE_IF, 1, key, expected, value, String(ttlMs))) === 1)
  }

  deleteKey(key: string, expected: string): Promise<void> {
    return guarded('idempotency', async () => { await this.redis.eval(DELETE_IF, 1, key, expected) })
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect())
  }
}

/** The same contract in memory, for one process. */
export class MemoryControlStore implements ControlStore {
  private readonly databases = new Map<string, Set<string>>()
  private readonly fieldTypes = new Map<string, FieldTypeValue>()
  private readonly tagKeys = new Map<string, Set<string>>()
  private readonly keys = new Map<string, { value: string; expiresAtMs: number }>()
  private readonly ttls = new Map<string, bigint>()
  private readonly generations = new Map<string, number>()
  /** When set, every call fails as if Redis were down (tests of the 503 path). */
  unavailable = false

  private check(): void {
    if (this.unavailable) throw new HttpApiError(HttpErrorCode.CONTROL_STORE_UNAVAILABLE, 'control store unavailable')
  }

  async hasDatabase(tenant: string, database: string): Promise<boolean> {
    this.check()
    return this.databases.get(tenant)?.has(database) ?? false
  }

  async createDatabase(tenant: string, database: string): Promise<boolean> {
    this.check()
    let set = this.databases.get(tenant)
    if (!set) this.databases.set(tenant, set = new Set())
    if (set.has(database)) return false
    set.add(database)
    return true
  }

  async listDatabases(tenant: string): Promise<string[]> {
    this.check()
    return [...(this.databases.get(tenant) ?? [])].sort()
  }

  async claimFieldTypes(tenant: string, database: string, claims: readonly FieldClaim[]): Promise<FieldTypeValue[]> {
    this.check()
    return claims.map(claim => {
      const key = `${controlKeys.fields(tenant, database, claim.measurement)}\0${claim.field}`
      const existing = this.fieldTypes.get(key)
      if (existing !== undefined) return existing
      this.fieldTypes.set(key, claim.type)
      return claim.type
    })
  }

  async addTagKeys(tenant: string, database: string, tags: readonly TagKeyClaim[]): Promise<void> {
    this.check()
    for (const tag of tags) {
      const key = controlKeys.tags(tenant, database, tag.measurement)
      let keys = this.tagKeys.get(key)
      if (!keys) this.tagKeys.set(key, keys = new Set())
      keys.add(tag.key)
    }
  }

  async measurementColumns(tenant: string, database: string, measurement: string): Promise<StoredColumns | null> {
    this.check()
    const prefix = `${controlKeys.fields(tenant, database, measurement)}\0`
    const fields = new Map<string, FieldTypeValue>()
    for (const [key, type] of this.fieldTypes) if (key.startsWith(prefix)) fields.set(key.slice(prefix.length), type)
    const tags = [...this.tagKeys.get(controlKeys.tags(tenant, database, measurement)) ?? []]
    return tags.length === 0 && fields.size === 0 ? null : { tags, fields }
  }

  async databaseTtl(tenant: string, database: string): Promise<bigint | null | undefined> {
    this.check()
    if (!this.databases.get(tenant)?.has(database)) return undefined
    return this.ttls.get(`${tenant}\0${database}`) ?? null
  }

  async setDatabaseTtl(tenant: string, database: string, ttlNs: bigint | null): Promise<void> {
    this.check()
    if (ttlNs === null) this.ttls.delete(`${tenant}\0${database}`)
    else this.ttls.set(`${tenant}\0${database}`, ttlNs)
  }

  async dropDatabase(tenant: string, database: string): Promise<boolean> {
    this.check()
    const existed = this.databases.get(tenant)?.delete(database) ?? false
    this.ttls.delete(`${tenant}\0${database}`)
    const fields = `sluice:fields:${part(tenant)}:${part(database)}:`
    const tags = `sluice:tags:${part(tenant)}:${part(database)}:`
    for (const key of [...this.fieldTypes.keys()]) if (key.startsWith(fields)) this.fieldTypes.delete(key)
    for (const key of [...this.tagKeys.keys()]) if (key.startsWith(tags)) this.tagKeys.delete(key)
    this.bump(tenant, database)
    return existed
  }

  async dropColumns(tenant: string, database: string, measurement: string, fields: readonly string[] | null): Promise<void> {
    this.check()
    const prefix = `${controlKeys.fields(tenant, database, measurement)}\0`
    for (const key of [...this.fieldTypes.keys()]) if (key.startsWith(prefix) && (fields === null || fields.includes(key.slice(prefix.length)))) this.fieldTypes.delete(key)
    if (fields === null) this.tagKeys.delete(controlKeys.tags(tenant, database, measurement))
    this.bump(tenant, database)
  }

  async generation(tenant: string, database: string): Promise<number> {
    this.check()
    return this.generations.get(`${tenant}\0${database}`) ?? 0
  }

  private bump(tenant: string, database: string): void {
    const key = `${tenant}\0${database}`
    this.generations.set(key, (this.generations.get(key) ?? 0) + 1)
  }

  private live(key: string): string | null {
    const entry = this.keys.get(key)
    if (!entry) return null
    if (entry.expiresAtMs <= Date.now()) {
      this.keys.delete(key)
      return null
    }
    return entry.value
  }

  async claimKey(key: string, value: string, ttlMs: number): Promise<boolean> {
    this.check()
    if (this.live(key) !== null) return false
    this.keys.set(key, { value, expiresAtMs: Date.now() + ttlMs })
    return true
  }

  async readKey(key: string): Promise<string | null> {
    this.check()
    return this.live(key)
  }

  async replaceKey(key: string, expected: string, value: string, ttlMs: number): Promise<boolean> {
    this.check()
    if (this.live(key) !== expected) return false
    this.keys.set(key, { value, expiresAtMs: Date.now() + ttlMs })
    return true
  }

  async deleteKey(key: string, expected: string): Promise<void> {
    this.check()
    if (this.live(key) === expected) this.keys.delete(key)
  }

  async close(): Promise<void> {}
}
