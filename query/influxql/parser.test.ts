// The InfluxQL parser: the forms Grafana and the influx CLI send, and refusals that name what was
// found, what was expected and where (InfluxDB's wording; positions counted from 1).

import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { SelectStatement } from './ast.ts'
import { parseInfluxql } from './parser.ts'

const select = (q: string): SelectStatement => parseInfluxql(q)[0] as SelectStatement

describe('parseInfluxql', () => {
  it('reads a Grafana panel query: quoted names, ::tag, regex, ms durations, GROUP BY time and tag, fill', () => {
    const statement = select(`SELECT mean("usage_user") AS "u" FROM "telegraf"."autogen"."cpu" WHERE ("host"::tag =~ /^web\\/1$/) AND time >= 1700000000000ms and time <= now() GROUP BY time(1m, -15s), "host"::tag fill(linear) ORDER BY time DESC LIMIT 10 OFFSET 2 SLIMIT 3 SOFFSET 1`)
    assert.deepEqual(statement.sources, [{ database: 'telegraf', retentionPolicy: 'autogen', name: 'cpu', regex: null }])
    assert.deepEqual(statement.fields.map((f) => [f.expr.kind, f.alias]), [['call', 'u']])
    assert.deepEqual(statement.groupByTime, { intervalNs: 60_000_000_000n, offsetNs: -15_000_000_000n })
    assert.deepEqual(statement.groupByTags, ['host'])
    assert.deepEqual(statement.fill, { kind: 'linear' })
    assert.deepEqual([statement.descending, statement.limit, statement.offset, statement.slimit, statement.soffset], [true, 10, 2, 3, 1])
    const condition = statement.condition!
    assert.equal(condition.kind === 'binary' && condition.op, 'AND')
    const regex = condition.kind === 'binary' && condition.left.kind === 'binary' && condition.left.left.kind === 'binary' ? condition.left.left.right : null
    assert.equal(regex?.kind === 'regex' && regex.regex.source, '^web\\/1$')
  })

  it('tells a regex from a division by what precedes the slash, and reads combined durations', () => {
    const statement = select('SELECT max(a) / 2, mean(/usage_.*/) FROM /cpu|mem/, "db".."disk" WHERE time > now() - 1h30m')
    const [division, regexCall] = statement.fields.map((f) => f.expr)
    assert.equal(division!.kind === 'binary' && division.op, '/')
    assert.equal(regexCall!.kind === 'call' && regexCall.args[0]!.kind, 'regex')
    assert.deepEqual(statement.sources.map((s) => [s.database, s.name, s.regex?.source ?? null]), [[null, null, 'cpu|mem'], ['db', 'disk', null]])
    const right = statement.condition!.kind === 'binary' ? statement.condition!.right : null
    assert.equal(right?.kind === 'binary' && right.right.kind === 'duration' && right.right.ns, 5_400_000_000_000n)
  })

  it('reads SHOW statements, keywords in any case, comments and several statements', () => {
    const statements = parseInfluxql(`show tag values on "db" from cpu with key in ("host", "region") where region = 'eu' limit 5; -- a comment
      SHOW MEASUREMENTS WITH MEASUREMENT =~ /c/ LIMIT 100; SHOW FIELD KEYS FROM "cpu"; SHOW RETENTION POLICIES ON "db"; /* x */ SHOW DATABASES;
      SHOW TAG KEYS; SHOW SERIES FROM cpu; CREATE DATABASE "new" WITH DURATION 1d;`)
    assert.deepEqual(statements.map((s) => s.kind), ['show-tag-values', 'show-measurements', 'show-field-keys', 'show-retention-policies', 'show-databases', 'show-tag-keys', 'show-series', 'create-database'])
    const tagValues = statements[0]!
    assert.ok(tagValues.kind === 'show-tag-values')
    assert.deepEqual([tagValues.database, tagValues.key, tagValues.limit], ['db', { op: 'in', keys: ['host', 'region'], negate: false }, 5])
  })

  it('refuses with the position of what it found', () => {
    const cases: Array<[string, string]> = [
      ['SELECT FROM cpu', 'found FROM, expected identifier, string, number, bool at line 1, char 8'],
      ['SELECT a FROM', 'found EOF, expected a measurement name or /regex/ at line 1, char 15'],
      ['SELECT a\nFROM b WHERE c = \'x', 'unterminated string at line 2, char 18'],
      ['SELECT a FROM b GROUP BY time(1x)', 'found 1x, expected a number or a duration (units ns, u, µ, ms, s, m, h, d, w) at line 1, char 31'],
      ['SELECT a FROM b fill(nothing)', 'found nothing, expected null, none, previous, linear or a number in fill() at line 1, char 22'],
      ['SELECT a FROM b WHERE c =~ /(/', 'invalid regex /(/: Invalid regular expression: /(/: Unterminated group at line 1, char 28'],
      ['DROP DATABASE x', 'found DROP, expected SELECT, SHOW or CREATE DATABASE (Sluice answers these InfluxQL statements; see docs/influxql.md) at line 1, char 1'],
      ['SELECT a FROM b c', 'found c, expected ; at line 1, char 17'],
    ]
    for (const [q, message] of cases) assert.throws(() => parseInfluxql(q), { code: 'SLUICE_ERR_QUERY_SYNTAX', message: `error parsing query: ${message}` }, q)
    assert.throws(() => parseInfluxql(' ; '), { code: 'SLUICE_ERR_QUERY_SYNTAX', message: 'missing required parameter "q"' })
    assert.throws(() => parseInfluxql('x'.repeat(70_000)), { code: 'SLUICE_ERR_QUERY_LIMIT_EXCEEDED' })
  })
})

describe('regexes', () => {
  it('read Go\'s leading flag group, as Grafana\'s measurement search sends /(?i)cpu/', () => {
    const statement = parseInfluxql('SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?i)CP/ LIMIT 100')[0]!
    assert.ok(statement.kind === 'show-measurements' && statement.measurement?.op === 'regex')
    assert.equal(statement.measurement.regex.flags, 'i')
    assert.ok(statement.measurement.regex.test('cpu'))
    assert.throws(() => parseInfluxql('SHOW MEASUREMENTS WITH MEASUREMENT =~ /(?U)a/'), { code: 'SLUICE_ERR_QUERY_SYNTAX', message: /invalid regex/ })
  })
})

describe('any input', () => {
  it('parses or is refused with a query error, never another exception', async () => {
    const fc = (await import('fast-check')).default
    const { isQueryError } = await import('../errors.ts')
    const words = ['SELECT', 'FROM', 'WHERE', 'GROUP', 'BY', 'time', '(', ')', ',', ';', '"cpu"', "'x'", '/re/', '=~', '!=', '=', '<', '>=', 'AND', 'OR',
      'mean', 'fill', 'null', 'linear', '10s', '1700000000000ms', 'now()', '-', '+', '*', '/', 'SHOW', 'TAG', 'VALUES', 'WITH', 'KEY', 'IN', 'MEASUREMENTS',
      'FIELD', 'KEYS', 'LIMIT', '5', '.', '::', 'tag', 'ORDER', 'DESC', 'SLIMIT', 'derivative', 'percentile', '1.5', '"', "'", 'µ', '--', '/*']
    const statement = fc.oneof(fc.string({ maxLength: 60 }), fc.array(fc.constantFrom(...words), { maxLength: 25 }).map((w) => w.join(' ')))
    fc.assert(fc.property(statement, (q) => {
      try {
        parseInfluxql(q)
      } catch (error) {
        if (!isQueryError(error)) throw error
      }
    }), { numRuns: 3000 })
  })
})
