// What the write path knows about databases and field types, cached in front of the ControlStore.
// Between DROPs they only grow, so a cached "exists" or "has type T" stays true; a DROP (of the
// database, a table or fields, on any node) bumps the database's generation in the store, and every
// write and DDL statement that names the database reads it first (requireDatabase: one store call):
// a node whose caches are of an older generation drops them and asks the store again.
//
// Field types: the batch is checked against the cache; fields it introduces are claimed in the store
// (first writer wins across all nodes); if another writer got there first with another type, the
// cache learns it and the batch is checked again, so the conflicting points are refused like any other.
// A type is claimed before the write is acknowledged and stays even if the write then fails, as in
// InfluxDB 1.x, where a failed write may still have created the field.

import { checkFieldTypes, FieldTypeRegistry, type FieldTypeCheck, type FieldTypeValue, type NewField, type ParsedBatch } from '../ingest/index.ts'
import type { ControlStore, StoredColumns, TagKeyClaim } from './control-store.ts'
import type { FieldClaims, TagKeyClaims } from './encode-body.ts'
import { HttpApiError, HttpErrorCode } from './errors.ts'

/** Rounds of claim-and-recheck before giving up; each round settles at least one field for good. */
const MAX_FIELD_TYPE_ROUNDS = 4

export interface CatalogOptions {
  /** Create a database on its first write (true) or answer 404 (false). */
  autoCreateDatabases: boolean
}

export class WriteCatalog {
  /** The generation the caches of each "tenant\0database" were filled at. */
  private readonly generations = new Map<string, number>()
  private readonly knownDatabases = new Set<string>()
  private readonly fieldTypes = new Map<string, FieldTypeRegistry>()
  /** Tag keys known to be recorded in the store, per tenant, database and measurement. */
  private readonly tagKeys = new Map<string, Set<string>>()

  constructor(private readonly store: ControlStore, private readonly options: CatalogOptions) {}

  /** Resolves if the database exists (creating it when so configured); throws DATABASE_NOT_FOUND otherwise. */
  async requireDatabase(tenant: string, database: string): Promise<void> {
    const cacheKey = `${tenant}\0${database}`
    await this.refresh(tenant, database)
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

  /** The database's time to live (null: keep forever), or undefined when it does not exist. */
  databaseTtl(tenant: string, database: string): Promise<bigint | null | undefined> {
    return this.store.databaseTtl(tenant, database)
  }

  setDatabaseTtl(tenant: string, database: string, ttlNs: bigint | null): Promise<void> {
    return this.store.setDatabaseTtl(tenant, database, ttlNs)
  }

  /** Forgets the database on every node (their caches at their next use of it); true if it existed. */
  async dropDatabase(tenant: string, database: string): Promise<boolean> {
    const existed = await this.store.dropDatabase(tenant, database)
    this.forget(tenant, database)
    return existed
  }

  /** Forgets some fields of a measurement, or (fields null) the whole measurement, on every node. */
  async dropColumns(tenant: string, database: string, measurement: string, fields: readonly string[] | null): Promise<void> {
    await this.store.dropColumns(tenant, database, measurement, fields)
    this.forget(tenant, database)
  }

  /** Drops this node's caches of the database when a DROP anywhere changed its generation. */
  private async refresh(tenant: string, database: string): Promise<void> {
    const cacheKey = `${tenant}\0${database}`
    const generation = await this.store.generation(tenant, database)
    if (this.generations.get(cacheKey) === generation) return
    this.forget(tenant, database)
    this.generations.set(cacheKey, generation)
  }

  private forget(tenant: string, database: string): void {
    const cacheKey = `${tenant}\0${database}`
    this.generations.delete(cacheKey)
    this.knownDatabases.delete(cacheKey)
    this.fieldTypes.delete(cacheKey)
    for (const key of [...this.tagKeys.keys()]) if (key.startsWith(`${cacheKey}\0`)) this.tagKeys.delete(key)
  }

  /**
   * Records the tag keys of the batch's measurements that this node has not recorded yet (UPDATE
   * and DELETE need to tell tags from fields). Costs a store call only for new keys.
   */
  async recordTagKeys(tenant: string, database: string, batch: ParsedBatch): Promise<void> {
    const measurements: string[] = []
    const keys: string[] = []
    for (let series = 0; series < batch.seriesCount; series++) {
      const measurement = batch.measurements[batch.seriesMeasurement[series]!]!
      for (let t = batch.seriesTagStart[series]!; t < batch.seriesTagStart[series + 1]!; t++) {
        measurements.push(measurement)
        keys.push(batch.tagKeys[t]!)
      }
    }
    await this.recordTagKeyPairs(tenant, database, measurements, keys)
  }

  /** recordTagKeys for (measurements[i], keys[i]) pairs, as a parse worker reports them. */
  async recordTagKeyPairs(tenant: string, database: string, measurements: readonly string[], keys: readonly string[]): Promise<void> {
    const claims: TagKeyClaim[] = []
    const pending: Array<[Set<string>, string]> = []
    const seen = new Set<string>()
    for (let i = 0; i < measurements.length; i++) {
      const measurement = measurements[i]!
      const key = keys[i]!
      const cacheKey = `${tenant}\0${database}\0${measurement}`
      let known = this.tagKeys.get(cacheKey)
      if (!known) this.tagKeys.set(cacheKey, known = new Set())
      if (known.has(key) || seen.has(`${measurement}\0${key}`)) continue
      seen.add(`${measurement}\0${key}`)
      claims.push({ measurement, key })
      pending.push([known, key])
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
   * Declares a measurement's columns (CREATE TABLE, ALTER TABLE ADD FIELD): records the tag keys and
   * claims each field's type as a first write would (first writer wins, on every node). Returns the
   * type each field has now, in order: a field another writer already has with another type keeps it.
   */
  async declareColumns(tenant: string, database: string, measurement: string, tags: readonly string[], fields: ReadonlyArray<{ field: string; type: FieldTypeValue }>): Promise<FieldTypeValue[]> {
    if (tags.length > 0) await this.recordTagKeyPairs(tenant, database, tags.map(() => measurement), tags)
    if (fields.length === 0) return []
    const stored = await this.store.claimFieldTypes(tenant, database, fields.map(({ field, type }) => ({ measurement, field, type })))
    const registry = this.registryOf(tenant, database)
    fields.forEach(({ field }, i) => registry.set(measurement, field, stored[i]!))
    return stored
  }

  /**
   * checkFieldTypes against every write this store has seen, on any node; also records the batch's
   * new tag keys, so the catalog knows each measurement's columns.
   */
  async checkFieldTypes(tenant: string, database: string, batch: ParsedBatch): Promise<FieldTypeCheck> {
    await this.recordTagKeys(tenant, database, batch)
    const registry = this.registryOf(tenant, database)
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

  /**
   * The field type check for a body parsed on a worker, from its distinct (measurement, field, type)
   * claims: true when every point passes (each pair has one type in the body, and it matches the
   * catalog or is newly claimed with it), which is exactly when checkFieldTypes accepts every point.
   * False when some point conflicts: the caller then checks point by point with checkFieldTypes.
   * Records the tag keys as checkFieldTypes does.
   */
  async checkFieldClaims(tenant: string, database: string, tagKeys: TagKeyClaims, claims: FieldClaims): Promise<boolean> {
    await this.recordTagKeyPairs(tenant, database, tagKeys.measurements, tagKeys.keys)
    const registry = this.registryOf(tenant, database)
    for (let round = 0; round < MAX_FIELD_TYPE_ROUNDS; round++) {
      const newFields = newFieldsWithoutConflict(claims, registry)
      if (newFields === null) return false
      if (newFields.length === 0) return true
      const stored = await this.store.claimFieldTypes(tenant, database, newFields)
      let settled = true
      for (let i = 0; i < stored.length; i++) {
        registry.set(newFields[i]!.measurement, newFields[i]!.field, stored[i]!)
        if (stored[i] !== newFields[i]!.type) settled = false
      }
      if (settled) return true
    }
    throw new HttpApiError(HttpErrorCode.CONTROL_STORE_UNAVAILABLE, `field types of database "${database}" did not settle after ${MAX_FIELD_TYPE_ROUNDS} rounds`)
  }

  private registryOf(tenant: string, database: string): FieldTypeRegistry {
    const cacheKey = `${tenant}\0${database}`
    let registry = this.fieldTypes.get(cacheKey)
    if (!registry) this.fieldTypes.set(cacheKey, registry = new FieldTypeRegistry())
    return registry
  }
}

/** The claims' pairs the registry does not know yet, in order; null if a claim conflicts with the registry or another claim. */
function newFieldsWithoutConflict(claims: FieldClaims, registry: FieldTypeRegistry): NewField[] | null {
  const newFields: NewField[] = []
  const claimed = new Map<string, FieldTypeValue>()
  for (let i = 0; i < claims.types.length; i++) {
    const measurement = claims.measurements[i]!
    const field = claims.fields[i]!
    const type = claims.types[i]! as FieldTypeValue
    const known = registry.get(measurement, field)
    if (known !== undefined) {
      if (known !== type) return null
      continue
    }
    const pair = `${measurement}\0${field}`
    const earlier = claimed.get(pair)
    if (earlier !== undefined) {
      if (earlier !== type) return null
      continue
    }
    claimed.set(pair, type)
    newFields.push({ measurement, field, type })
  }
  return newFields
}
