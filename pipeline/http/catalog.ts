// What the write path knows about databases and field types, cached in front of the ControlStore.
// Both only ever grow (there is no DROP yet), so a cached "exists" or "has type T" never goes stale.
//
// Field types: the batch is checked against the cache; fields it introduces are claimed in the store
// (first writer wins across all nodes); if another writer got there first with another type, the
// cache learns it and the batch is checked again, so the conflicting points are refused like any other.
// A type is claimed before the write is acknowledged and stays even if the write then fails, as in
// InfluxDB 1.x, where a failed write may still have created the field.

import { checkFieldTypes, FieldTypeRegistry, type FieldTypeCheck, type ParsedBatch } from '../ingest/index.ts'
import type { ControlStore, StoredColumns, TagKeyClaim } from './control-store.ts'
import { HttpApiError, HttpErrorCode } from './errors.ts'

/** Rounds of claim-and-recheck before giving up; each round settles at least one field for good. */
const MAX_FIELD_TYPE_ROUNDS = 4

export interface CatalogOptions {
  /** Create a database on its first write (true) or answer 404 (false). */
  autoCreateDatabases: boolean
}

export class WriteCatalog {
  private readonly knownDatabases = new Set<string>()
  private readonly fieldTypes = new Map<string, FieldTypeRegistry>()
  /** Tag keys known to be recorded in the store, per tenant, database and measurement. */
  private readonly tagKeys = new Map<string, Set<string>>()

  constructor(private readonly store: ControlStore, private readonly options: CatalogOptions) {}

  /** Resolves if the database exists (creating it when so configured); throws DATABASE_NOT_FOUND otherwise. */
  async requireDatabase(tenant: string, database: string): Promise<void> {
    const cacheKey = `${tenant}\0${database}`
    if (this.knownDatabases.has(cacheKey)) return
    const exists = this.options.autoCreateDatabases
      ? (await this.store.createDatabase(tenant, database), true)
      : await this.store.hasDatabase(tenant, database)
    if (!exists) throw new HttpApiError(HttpErrorCode.DATABASE_NOT_FOUND, `database not found: "${database}"`)
    this.knownDatabases.add(cacheKey)
  }

  async createDatabase(tenant: string, database: string): Promise<void> {
    await this.store.createDatabase(tenant, database)
    this.knownDatabases.add(`${tenant}\0${database}`)
  }

  listDatabases(tenant: string): Promise<string[]> {
    return this.store.listDatabases(tenant)
  }

  /**
   * Records the tag keys of the batch's measurements that this node has not recorded yet (UPDATE
   * and DELETE need to tell tags from fields). Costs a store call only for new keys.
   */
  async recordTagKeys(tenant: string, database: string, batch: ParsedBatch): Promise<void> {
    const claims: TagKeyClaim[] = []
    const pending: Array<[Set<string>, string]> = []
    const seen = new Set<string>()
    for (let series = 0; series < batch.seriesCount; series++) {
      const measurement = batch.measurements[batch.seriesMeasurement[series]!]!
      const cacheKey = `${tenant}\0${database}\0${measurement}`
      let known = this.tagKeys.get(cacheKey)
      if (!known) this.tagKeys.set(cacheKey, known = new Set())
      for (let t = batch.seriesTagStart[series]!; t < batch.seriesTagStart[series + 1]!; t++) {
        const key = batch.tagKeys[t]!
        if (known.has(key) || seen.has(`${measurement}\0${key}`)) continue
        seen.add(`${measurement}\0${key}`)
        claims.push({ measurement, key })
        pending.push([known, key])
      }
    }
    if (claims.length === 0) return
    await this.store.addTagKeys(tenant, database, claims)
    for (const [known, key] of pending) known.add(key)
  }

  /** A measurement's tag keys and field types as every node has recorded them, or null if unknown. */
  measurementColumns(tenant: string, database: string, measurement: string): Promise<StoredColumns | null> {
    return this.store.measurementColumns(tenant, database, measurement)
  }

  /**
   * checkFieldTypes against every write this store has seen, on any node; also records the batch's
   * new tag keys, so the catalog knows each measurement's columns.
   */
  async checkFieldTypes(tenant: string, database: string, batch: ParsedBatch): Promise<FieldTypeCheck> {
    await this.recordTagKeys(tenant, database, batch)
    const cacheKey = `${tenant}\0${database}`
    let registry = this.fieldTypes.get(cacheKey)
    if (!registry) this.fieldTypes.set(cacheKey, registry = new FieldTypeRegistry())
    for (let round = 0; round < MAX_FIELD_TYPE_ROUNDS; round++) {
      const check = checkFieldTypes(batch, registry)
      if (check.newFields.length === 0) return check
      const stored = await this.store.claimFieldTypes(tenant, database, check.newFields)
      let settled = true
      for (let i = 0; i < stored.length; i++) {
        const claim = check.newFields[i]!
        registry.set(claim.measurement, claim.field, stored[i]!)
        if (stored[i] !== claim.type) settled = false
      }
      if (settled) return check
    }
    throw new HttpApiError(HttpErrorCode.CONTROL_STORE_UNAVAILABLE, `field types of database "${database}" did not settle after ${MAX_FIELD_TYPE_ROUNDS} rounds`)
  }
}
