// Whether a tenant's database exists, for the query routes: asking the control store (a Redis
// SMEMBERS) on every InfluxQL SELECT cost a round trip per query. A tenant's list is reused for up
// to maxAgeMs; a name not in it is looked up again at once, so a database created on any node is
// seen by the next query and "database not found" is never answered from an old list. A database
// dropped elsewhere may still be taken as existing for up to maxAgeMs (its points go with the DROP
// command the replicas apply, not with this list).

/** Tenants whose lists are held at once; the least recently refreshed leave first. */
const MAX_TENANTS = 10_000

/** How long a listed database is taken as existing without asking again, by default. */
export const DATABASE_LIST_MAX_AGE_MS = 1_000

interface Listed {
  names: ReadonlySet<string>
  atMs: number
}

export class DatabaseListCache {
  private readonly lists = new Map<string, Listed>()

  constructor(
    private readonly list: (tenant: string) => Promise<string[]>,
    private readonly maxAgeMs = DATABASE_LIST_MAX_AGE_MS,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Whether the tenant has the database: from a list younger than maxAgeMs when it names it, else from the store. */
  async has(tenant: string, database: string): Promise<boolean> {
    const listed = this.lists.get(tenant)
    if (listed !== undefined && listed.names.has(database) && this.nowMs() - listed.atMs <= this.maxAgeMs) return true
    return (await this.refresh(tenant)).has(database)
  }

  /**
   * A store request of its own per miss: sharing one already in flight could miss a database
   * created after that request was sent and before this lookup began.
   */
  private async refresh(tenant: string): Promise<ReadonlySet<string>> {
    const atMs = this.nowMs()
    const names = new Set(await this.list(tenant))
    const current = this.lists.get(tenant)
    if (current === undefined || current.atMs <= atMs) {
      this.lists.delete(tenant)
      this.lists.set(tenant, { names, atMs })
      if (this.lists.size > MAX_TENANTS) this.lists.delete(this.lists.keys().next().value!)
    }
    return names
  }
}
