// The HTTP API's shared state outside Kafka: databases per tenant, field types per measurement, and
// Idempotency-Key entries. In production Redis (ioredis), shared by every node; MemoryControlStore
// is the same contract in one process (unit tests, `--redis memory`).
//
// Redis keys (names percent-encoded, so a ':' in a name cannot collide):
//   sluice:databases:<tenant>                   set of database names
//   sluice:fields:<tenant>:<db>:<measurement>   hash field key → FieldType number (first writer wins, HSETNX)
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
