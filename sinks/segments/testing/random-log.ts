// Test support: a seeded random changelog (upserts with overlapping times, DELETE, UPDATE_FIELDS,
// UPDATE_TAGS) and a reference model that applies it with the simplest possible data structures,
// to compare a store against value by value.

import type { ChangelogEntry, FieldValue, IngestCommand, Tag, TagMatch } from '../../../schemas/index.ts'
import { canonicalSeriesKey, matchesTags, seriesId, sortTags } from '../series.ts'

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13; state >>>= 0
    state ^= state >>> 17
    state ^= state << 5; state >>>= 0
    return state / 0x1_0000_0000
  }
}

const HOSTS = ['h1', 'h2', 'h3', 'h4']
const REGIONS = ['east', 'west']
const BASE_NS = 1_700_000_000_000_000_000n

function fieldValue(field: string, random: () => number): FieldValue {
  switch (field) {
    case 'a': return Math.round(random() * 1000) / 8
    case 'b': return BigInt(Math.floor(random() * 200) - 100)
    case 'c': return ['idle', 'busy', 'off'][Math.floor(random() * 3)]!
    case 'd': return random() < 0.5
    default: return { unsigned: BigInt(Math.floor(random() * 1e6)) }
  }
}

export interface RandomLogOptions {
  entries: number
  seed: number
  /** Distinct timestamps per series (smaller: more overwrites). */
  timeSlots?: number
  /** Points per upsert, at most. */
  maxPoints?: number
  commands?: boolean
  /**
   * Every point of an upsert lists the same fields in the same order (the entry a master writes
   * most: ChangelogColumns.regular), half of the upserts with their times in ascending order.
   */
  sameFields?: boolean
}

export function randomLog(options: RandomLogOptions): ChangelogEntry[] {
  const random = seededRandom(options.seed)
  const slots = options.timeSlots ?? 40
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const time = (): bigint => BASE_NS + BigInt(Math.floor(random() * slots)) * 1_000_000_000n
  const entries: ChangelogEntry[] = []
  for (let n = 0; n < options.entries; n++) {
    const roll = random()
    const command = (kind: IngestCommand['kind'], tags: TagMatch[], set: IngestCommand['set'], fieldPredicate: string | null = null): ChangelogEntry => {
      const fromNs = random() < 0.5 ? null : time()
      const toNs = random() < 0.5 ? null : time() + 5_000_000_000n
      return {
        ingestPartition: 0, ingestOffset: BigInt(n), upsert: null,
        command: { commandId: `c${n}`, tenant: 't', database: 'db', measurement: 'cpu', kind, where: { tags, fromNs, toNs, fieldPredicate }, set, issuedAtNs: 0n },
      }
    }
    if (options.commands !== false && roll < 0.05) {
      entries.push(command('DELETE', random() < 0.8 ? [{ key: 'host', values: [pick(HOSTS)] }] : [], []))
    } else if (options.commands !== false && roll < 0.09) {
      const predicate = random() < 0.5 ? null : `b > ${Math.floor(random() * 100) - 50}`
      entries.push(command('UPDATE_FIELDS', [{ key: 'region', values: [pick(REGIONS)] }], [{ name: 'a', value: 0.5 }, { name: 'c', value: 'updated' }], predicate))
    } else if (options.commands !== false && roll < 0.12) {
      const entry = command('UPDATE_TAGS', [{ key: 'host', values: [pick(HOSTS)] }], [{ name: 'host', value: pick(HOSTS) }])
      entries.push(entry)
    } else {
      const host = pick(HOSTS)
      const tags = sortTags([{ key: 'host', value: host }, { key: 'region', value: REGIONS[HOSTS.indexOf(host) % 2]! }])
      const entryFields = options.sameFields ? ['a', 'b', 'c', 'd', 'e'].filter(() => random() < 0.6) : []
      const points = Array.from({ length: 1 + Math.floor(random() * (options.maxPoints ?? 6)) }, () => ({
        timeNs: time(),
        fields: (options.sameFields ? entryFields : ['a', 'b', 'c', 'd', 'e'].filter(() => random() < 0.6)).map((name) => ({ name, value: fieldValue(name, random) })),
      })).filter((p) => p.fields.length > 0)
      if (options.sameFields && random() < 0.5) points.sort((p, q) => (p.timeNs < q.timeNs ? -1 : p.timeNs > q.timeNs ? 1 : 0))
      entries.push({
        ingestPartition: 0, ingestOffset: BigInt(n), command: null,
        upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: canonicalSeriesKey('cpu', tags), tags, points, pointsIn: points.length },
      })
    }
  }
  return entries
}

type Stored = number | bigint | string

function stored(value: FieldValue): Stored {
  if (typeof value === 'boolean') return value ? 1 : 0
  if (typeof value === 'object') return value.unsigned
  return value
}

function typeName(value: FieldValue): string {
  return typeof value === 'object' ? 'unsigned' : typeof value
}

interface ModelSeries {
  id: string
  measurement: string
  seriesKey: string
  tags: Tag[]
  types: Map<string, string>
  fields: Map<string, Map<bigint, Stored>>
}

/** The semantics of the store, the slow and obvious way (one tenant "t", database "db"). */
export class ReferenceModel {
  readonly series = new Map<string, ModelSeries>()

  private ensure(measurement: string, tags: Tag[]): ModelSeries {
    const seriesKey = canonicalSeriesKey(measurement, tags)
    const id = seriesId('t', 'db', seriesKey)
    let s = this.series.get(id)
    if (!s) this.series.set(id, s = { id, measurement, seriesKey, tags: sortTags(tags), types: new Map(), fields: new Map() })
    return s
  }

  private write(s: ModelSeries, field: string, type: string, time: bigint, value: Stored): void {
    const known = s.types.get(field)
    if (known !== undefined && known !== type) return
    s.types.set(field, type)
    let values = s.fields.get(field)
    if (!values) s.fields.set(field, values = new Map())
    values.set(time, value)
  }

  apply(entry: ChangelogEntry): void {
    if (entry.upsert) {
      const s = this.ensure(entry.upsert.measurement, entry.upsert.tags)
      for (const p of entry.upsert.points) for (const f of p.fields) this.write(s, f.name, typeName(f.value), p.timeNs, stored(f.value))
      return
    }
    const c = entry.command!
    const inRange = (t: bigint): boolean => (c.where.fromNs === null || t >= c.where.fromNs) && (c.where.toNs === null || t < c.where.toNs)
    const matching = [...this.series.values()].filter((s) => s.measurement === c.measurement && matchesTags(s.tags, c.where.tags))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    if (c.kind === 'DELETE') {
      for (const s of matching) for (const values of s.fields.values()) for (const t of [...values.keys()]) if (inRange(t)) values.delete(t)
    } else if (c.kind === 'UPDATE_FIELDS') {
      const threshold = c.where.fieldPredicate === null ? null : Number(c.where.fieldPredicate.split('>')[1])
      for (const s of matching) {
        const times = new Set<bigint>()
        for (const values of s.fields.values()) for (const t of values.keys()) if (inRange(t)) times.add(t)
        for (const t of times) {
          if (threshold !== null) {
            const b = s.fields.get('b')?.get(t)
            if (b === undefined || !(Number(b) > threshold)) continue
          }
          for (const a of c.set) this.write(s, a.name, typeName(a.value), t, stored(a.value))
        }
      }
    } else {
      for (const s of matching) {
        const tags = new Map(s.tags.map((t) => [t.key, t.value]))
        for (const a of c.set) tags.set(a.name, a.value as string)
        const target = this.ensure(s.measurement, [...tags].map(([key, value]) => ({ key, value })))
        if (target === s) continue
        for (const [field, type] of s.types) {
          const known = target.types.get(field)
          if (known !== undefined && known !== type) continue
          target.types.set(field, type)
          const values = s.fields.get(field)
          if (!values) continue
          for (const [t, v] of [...values]) if (inRange(t)) { this.write(target, field, type, t, v); values.delete(t) }
        }
        for (const values of s.fields.values()) for (const t of [...values.keys()]) if (inRange(t)) values.delete(t)
      }
    }
  }

  /** seriesId → field → sorted [time, value] pairs, only non-empty fields and series. */
  snapshot(): Map<string, Map<string, [bigint, Stored][]>> {
    const out = new Map<string, Map<string, [bigint, Stored][]>>()
    for (const s of this.series.values()) {
      for (const [field, values] of s.fields) {
        if (values.size === 0) continue
        const pairs = [...values].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        let fields = out.get(s.id)
        if (!fields) out.set(s.id, fields = new Map())
        fields.set(field, pairs)
      }
    }
    return out
  }
}
