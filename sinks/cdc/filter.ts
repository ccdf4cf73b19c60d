// Which changes a subscriber wants: a tenant's database, optionally one measurement, and tag
// conditions in a small grammar (the tag part of docs/sql-commands.md's WHERE):
//   cond ( AND cond )*      cond = tag = 'v' | tag IN ('a', 'b')
// where tag is a bare name ([A-Za-z_][A-Za-z0-9_.-]*) or double-quoted ("" is a quote) and a value
// is single-quoted ('' is a quote). Several conditions on one tag intersect. A series without the
// tag has the value ''. A command passes unless its own tag matches exclude every wanted value.

import type { ChangelogEntry, TagMatch } from '../../schemas/index.ts'
import { CdcError, CdcErrorCode } from './errors.ts'
import { cdcLimits } from './limits.ts'

export interface ChangeFilter {
  tenant: string
  database: string
  /** undefined: every measurement. */
  measurement: string | undefined
  /** Per tag key, the values accepted. */
  tags: ReadonlyMap<string, ReadonlySet<string>>
}

export function entryMatches(entry: ChangelogEntry, filter: ChangeFilter): boolean {
  const subject = entry.upsert ?? entry.command
  if (subject.tenant !== filter.tenant || subject.database !== filter.database) return false
  // A command of the whole database (DROP_DATABASE: measurement "") concerns every measurement.
  const wholeDatabase = entry.command !== null && subject.measurement === ''
  if (filter.measurement !== undefined && subject.measurement !== filter.measurement && !wholeDatabase) return false
  if (filter.tags.size === 0) return true
  if (entry.upsert) {
    const tags = entry.upsert.tags
    for (const [key, wanted] of filter.tags) {
      const tag = tags.find(candidate => candidate.key === key)
      if (!wanted.has(tag ? tag.value : '')) return false
    }
    return true
  }
  return commandMayTouch(entry.command.where.tags, filter.tags)
}

function commandMayTouch(matches: readonly TagMatch[], wantedTags: ReadonlyMap<string, ReadonlySet<string>>): boolean {
  for (const match of matches) {
    const wanted = wantedTags.get(match.key)
    if (wanted && !match.values.some(value => wanted.has(value))) return false
  }
  return true
}

/** Parses the `where` parameter into per-tag value sets; throws SLUICE_ERR_CDC_FILTER naming the position. */
export function parseTagFilter(text: string): Map<string, Set<string>> {
  if (text.length > cdcLimits.maxFilterChars) throw filterError(`is ${text.length} characters; at most ${cdcLimits.maxFilterChars}`)
  const parser = new FilterParser(text)
  const tags = new Map<string, Set<string>>()
  do {
    const key = parser.identifier()
    const values = parser.condition(key)
    const known = tags.get(key)
    tags.set(key, known ? new Set([...known].filter(value => values.has(value))) : values)
  } while (parser.keyword('AND'))
  parser.end()
  return tags
}

function filterError(message: string): CdcError {
  return new CdcError(CdcErrorCode.FILTER, `where ${message}`)
}

class FilterParser {
  private at = 0
  constructor(private readonly text: string) {}

  identifier(): string {
    this.space()
    if (this.text[this.at] === '"') return this.quoted('"')
    const match = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(this.text.slice(this.at))
    if (!match) throw this.expected('a tag name')
    this.at += match[0].length
    return match[0]
  }

  condition(key: string): Set<string> {
    this.space()
    if (this.text[this.at] === '=') {
      this.at++
      return new Set([this.value()])
    }
    if (!this.keyword('IN')) throw this.expected(`= or IN after tag ${key}`)
    this.punctuation('(')
    const values = new Set([this.value()])
    while (this.peek(',')) {
      this.at++
      values.add(this.value())
    }
    this.punctuation(')')
    return values
  }

  keyword(word: string): boolean {
    this.space()
    const next = this.text.slice(this.at, this.at + word.length)
    const after = this.text[this.at + word.length]
    if (next.toUpperCase() !== word || (after !== undefined && /[A-Za-z0-9_]/.test(after))) return false
    this.at += word.length
    return true
  }

  end(): void {
    this.space()
    if (this.at < this.text.length) throw this.expected('AND or the end')
  }

  private value(): string {
    this.space()
    if (this.text[this.at] !== "'") throw this.expected("a single-quoted value ('v')")
    return this.quoted("'")
  }

  private quoted(quote: string): string {
    let out = ''
    for (let i = this.at + 1; i < this.text.length; i++) {
      if (this.text[i] !== quote) { out += this.text[i]; continue }
      if (this.text[i + 1] === quote) { out += quote; i++; continue }
      this.at = i + 1
      return out
    }
    throw filterError(`has an unterminated ${quote === '"' ? 'name' : 'value'} at character ${this.at + 1}`)
  }

  private punctuation(char: string): void {
    if (!this.peek(char)) throw this.expected(`'${char}'`)
    this.at++
  }

  private peek(char: string): boolean {
    this.space()
    return this.text[this.at] === char
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at++
  }

  private expected(what: string): CdcError {
    const found = this.at < this.text.length ? `"${this.text.slice(this.at, this.at + 12)}"` : 'the end'
    return filterError(`expects ${what} at character ${this.at + 1}, found ${found}`)
  }
}
