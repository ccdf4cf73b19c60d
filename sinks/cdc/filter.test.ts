import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ChangelogEntry } from '../../schemas/index.ts'
import { entryMatches, parseTagFilter, type ChangeFilter } from './filter.ts'
import { ResumeToken } from './resume-token.ts'

function upsert(tags: Array<[string, string]>, measurement = 'cpu', database = 'metrics'): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, command: null,
    upsert: { tenant: 't', database, measurement, seriesKey: 'x', tags: tags.map(([key, value]) => ({ key, value })), points: [], pointsIn: 0 },
  }
}

function command(tags: Array<[string, string[]]>): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, upsert: null,
    command: { commandId: 'c', tenant: 't', database: 'metrics', measurement: 'cpu', kind: 'DELETE', where: { tags: tags.map(([key, values]) => ({ key, values })), fromNs: null, toNs: null, fieldPredicate: null }, set: [], issuedAtNs: 0n },
  }
}

const filter = (where: string, measurement?: string): ChangeFilter => ({ tenant: 't', database: 'metrics', measurement, tags: where ? parseTagFilter(where) : new Map() })

describe('change filters', () => {
  it('parses = and IN joined by AND, quoted names and values', () => {
    assert.deepEqual(parseTagFilter(`host='a' AND region IN ('x', 'y''z') and "my tag" = 'v'`), new Map([
      ['host', new Set(['a'])], ['region', new Set(['x', "y'z"])], ['my tag', new Set(['v'])],
    ]))
    assert.deepEqual(parseTagFilter(`host IN ('a','b') AND host = 'b'`), new Map([['host', new Set(['b'])]]))
  })

  it('refuses malformed filters, naming the character', () => {
    assert.throws(() => parseTagFilter(`host = a`), { code: 'SLUICE_ERR_CDC_FILTER', message: /single-quoted value.* character 8/ })
    assert.throws(() => parseTagFilter(`host > 'a'`), { code: 'SLUICE_ERR_CDC_FILTER', message: /= or IN after tag host at character 6/ })
    assert.throws(() => parseTagFilter(`host = 'a' OR x = 'b'`), { code: 'SLUICE_ERR_CDC_FILTER', message: /AND or the end at character 12/ })
    assert.throws(() => parseTagFilter(`host = 'a`), { code: 'SLUICE_ERR_CDC_FILTER', message: /unterminated value/ })
    assert.throws(() => parseTagFilter(``), { code: 'SLUICE_ERR_CDC_FILTER', message: /a tag name/ })
    assert.throws(() => parseTagFilter(`host IN ()`), { code: 'SLUICE_ERR_CDC_FILTER' })
  })

  it('keeps upserts of the database, measurement and tag values wanted', () => {
    assert.equal(entryMatches(upsert([['host', 'a']]), filter('')), true)
    assert.equal(entryMatches(upsert([['host', 'a']], 'cpu', 'other'), filter('')), false)
    assert.equal(entryMatches(upsert([['host', 'a']], 'mem'), filter('', 'cpu')), false)
    assert.equal(entryMatches(upsert([['host', 'a']]), filter(`host IN ('a','b')`)), true)
    assert.equal(entryMatches(upsert([['host', 'c']]), filter(`host IN ('a','b')`)), false)
    assert.equal(entryMatches(upsert([]), filter(`host = ''`)), true, 'a missing tag has the value ""')
    const otherTenant = upsert([])
    otherTenant.upsert!.tenant = 'other'
    assert.equal(entryMatches(otherTenant, filter('')), false)
  })

  it('keeps a command unless its own tag matches exclude every value wanted', () => {
    assert.equal(entryMatches(command([]), filter(`host = 'a'`)), true)
    assert.equal(entryMatches(command([['host', ['a', 'b']]]), filter(`host = 'a'`)), true)
    assert.equal(entryMatches(command([['host', ['b']]]), filter(`host = 'a'`)), false)
    assert.equal(entryMatches(command([['region', ['x']]]), filter(`host = 'a'`)), true)
  })

  it('passes a DROP DATABASE (measurement "") to a subscriber of any one measurement, and a DROP TABLE only to its own', () => {
    const drop = (kind: 'DROP_DATABASE' | 'DROP_TABLE', measurement: string): ChangelogEntry => {
      const entry = command([])
      entry.command = { ...entry.command!, kind, measurement }
      return entry
    }
    assert.equal(entryMatches(drop('DROP_DATABASE', ''), filter('', 'mem')), true)
    assert.equal(entryMatches(drop('DROP_DATABASE', ''), filter(`host = 'a'`, 'cpu')), true)
    assert.equal(entryMatches(drop('DROP_TABLE', 'cpu'), filter('', 'cpu')), true)
    assert.equal(entryMatches(drop('DROP_TABLE', 'cpu'), filter('', 'mem')), false)
  })
})

describe('resume tokens', () => {
  it('round-trips and moves past events', () => {
    const token = ResumeToken.at([5n, 0n, 9n])
    assert.equal(token.toString(), '0:5:0,1:0:0,2:9:0')
    token.advance(0, 5n, 0)
    token.advance(0, 5n, 1)
    token.skipEntry(1, 3n)
    assert.equal(token.toString(), '0:5:2,1:4:0,2:9:0')
    assert.equal(token.isAhead(0, 5n, 1), false)
    assert.equal(token.isAhead(0, 5n, 2), true)
    assert.throws(() => token.advance(0, 4n, 0), /move back/)
    const again = ResumeToken.parse(token.toString(), 3, () => 0n)
    assert.equal(again.toString(), token.toString())
  })

  it('starts partitions a token does not name at the given offset, refuses bad ones', () => {
    assert.equal(ResumeToken.parse('1:7:2', 3, partition => BigInt(partition * 100)).toString(), '0:0:0,1:7:2,2:200:0')
    assert.throws(() => ResumeToken.parse('3:0:0', 3, () => 0n), { code: 'SLUICE_ERR_CDC_RESUME_TOKEN', message: /partition 3; sluice.changelog has 3/ })
    assert.throws(() => ResumeToken.parse('0:1:0,0:2:0', 3, () => 0n), { code: 'SLUICE_ERR_CDC_RESUME_TOKEN', message: /twice/ })
    assert.throws(() => ResumeToken.parse('banana', 3, () => 0n), { code: 'SLUICE_ERR_CDC_RESUME_TOKEN', message: /<partition>:<offset>:<index>/ })
    assert.throws(() => ResumeToken.parse('0:99999999999999999999:0', 3, () => 0n), { code: 'SLUICE_ERR_CDC_RESUME_TOKEN' })
  })
})
