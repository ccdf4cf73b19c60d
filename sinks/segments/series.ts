// Series identity and tag predicates. A series is (tenant, database, canonical series key); the key
// is InfluxDB's: the measurement escaped for ", " and tags sorted by key bytes, each escaped for ",= ".

import type { Tag, TagMatch } from '../../schemas/index.ts'
import type { FieldTypeCode } from './encoding/block.ts'

export interface SeriesInfo {
  /** tenant NUL database NUL seriesKey: unique in a store, and the sort order of series. */
  id: string
  tenant: string
  database: string
  measurement: string
  seriesKey: string
  /** Sorted by key bytes. */
  tags: Tag[]
  /** A (series, field) keeps the type of its first write for the life of the store. */
  fieldTypes: Map<string, FieldTypeCode>
}

export function seriesId(tenant: string, database: string, seriesKey: string): string {
  return `${tenant}\u0000${database}\u0000${seriesKey}`
}

function escape(text: string, special: string): string {
  let out = ''
  for (const ch of text) out += special.includes(ch) ? '\\' + ch : ch
  return out
}

export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** The canonical series key of a measurement and tags (any order; empty values dropped). */
export function canonicalSeriesKey(measurement: string, tags: readonly Tag[]): string {
  let key = escape(measurement, ', ')
  for (const tag of sortTags(tags)) key += ',' + escape(tag.key, ',= ') + '=' + escape(tag.value, ',= ')
  return key
}

export function sortTags(tags: readonly Tag[]): Tag[] {
  return tags.filter((t) => t.value !== '').sort((a, b) => compareBytes(a.key, b.key))
}

/** Every match holds: the tag's value (\"\" when absent) is one of the match's values. */
export function matchesTags(tags: readonly Tag[], matches: readonly TagMatch[]): boolean {
  for (const match of matches) {
    let value = ''
    for (const tag of tags) if (tag.key === match.key) { value = tag.value; break }
    if (!match.values.includes(value)) return false
  }
  return true
}
