import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChangelogEntry, FieldExpression, Point } from '../../schemas/index.ts'
import { checkExpression, evaluate, ExpressionError, fieldsOf, formatExpression, parseExpression, UNCHANGED, type ExpressionType } from './field-expression.ts'
import { type PartitionStore, openPartitionStore } from './store.ts'
import { canonicalSeriesKey, seriesId } from './series.ts'

test('canonical text: every operation parenthesised, and a fixed point of parse and format', () => {
  const cases: Array<[string, string]> = [
    ['"f" + 1', '("f" + 1)'],
    ['"f" * 1.8 + 32', '(("f" * 1.8) + 32)'],
    ['"g" - "f"', '("g" - "f")'],
    ['-("f" + 1) * 2 % 3', '(((-("f" + 1)) * 2) % 3)'],
    ['abs("f" - -2.5e3)', 'abs(("f" - -2.5e3))'],
    ['1 - 2 - 3', '((1 - 2) - 3)'],
    ['1 - (2 - 3)', '(1 - (2 - 3))'],
    ["'it''s'", "'it''s'"],
    ['"we""ird" / 2', '("we""ird" / 2)'],
    ['TRUE', 'true'],
  ]
  for (const [input, canonical] of cases) {
    const text = formatExpression(parseExpression(input))
    assert.equal(text, canonical, input)
    assert.equal(formatExpression(parseExpression(text)), text, `${input}: canonical text is a fixed point`)
  }
  assert.deepEqual(fieldsOf(parseExpression('"a" + "b" * "a"')), ['a', 'b'])
})

test('parse errors name the offset and the part', () => {
  const fails = (text: string, message: RegExp, offset: number): void => {
    assert.throws(() => parseExpression(text), (error: unknown) => {
      assert.ok(error instanceof ExpressionError)
      assert.match(error.message, message)
      assert.equal(error.offset, offset, text)
      return true
    })
  }
  fails('"f" + ', /ends too early/, 6)
  fails('"f" ^ 2', /unexpected character "\^"/, 4)
  fails('sqrt("f")', /unknown name "sqrt"/, 0)
  fails('("f" + 1', /expected "\)"/, 8)
  fails('"f" 1', /unexpected "1"/, 4)
  fails('"f', /unterminated field name/, 0)
  fails('', /empty/, 0)
  fails('('.repeat(100) + '1' + ')'.repeat(100), /nested deeper/, 65)
})

test('types: float arithmetic, exact 64-bit integers, constants for booleans and strings', () => {
  const types: Record<string, ExpressionType> = { f: 'float', i: 'integer', u: 'unsigned', b: 'boolean', s: 'string' }
  const check = (text: string, type: ExpressionType): string | null => checkExpression(parseExpression(text), type, field => types[field])
  assert.equal(check('"f" * 1.8 + "i"', 'float'), null)
  assert.equal(check('"i" / 3 + "u" % 2', 'integer'), null)
  assert.match(check('"i" * 1.5', 'integer')!, /1\.5 is not an integer/)
  assert.match(check('"f" + 1', 'integer')!, /field "f" is float/)
  assert.match(check('"s" + 1', 'float')!, /field "s" is string/)
  assert.match(check('"x" + 1', 'float')!, /unknown field "x"/)
  assert.match(check('"b"', 'boolean')!, /boolean constant only/)
  assert.equal(check('true', 'boolean'), null)
  assert.equal(check("'on'", 'string'), null)

  const values: Record<string, number | bigint> = { f: 20, i: -7n, big: 2n ** 62n, u: 5n }
  const run = (text: string, type: ExpressionType): unknown => evaluate(parseExpression(text), type, field => values[field])
  assert.equal(run('"f" * 1.8 + 32', 'float'), 68)
  assert.equal(run('"i" / 2', 'integer'), -3n, 'division truncates toward zero')
  assert.equal(run('"i" % 2', 'integer'), -1n, 'the remainder takes the sign of the dividend')
  assert.equal(run('abs("i") - -"u"', 'integer'), 12n)
  assert.equal(run('"big" * 2 - 1', 'integer'), 2n ** 63n - 1n, 'intermediates are exact; the result fits')
  assert.equal(run('"big" * 2', 'integer'), UNCHANGED, 'a result beyond int64 leaves the point unchanged')
  assert.equal(run('"u" - 6', 'unsigned'), UNCHANGED, 'a negative unsigned result leaves the point unchanged')
  assert.equal(run('"i" / 0', 'integer'), UNCHANGED)
  assert.equal(run('"f" / 0', 'float'), UNCHANGED, 'an infinite float leaves the point unchanged')
  assert.equal(run('"missing" + 1', 'float'), UNCHANGED, 'a missing field leaves the point unchanged')
  assert.equal(run('"missing" + 1', 'integer'), UNCHANGED)
  assert.equal(run('"i" + 0.5', 'float'), -6.5, 'an integer field in float arithmetic is converted')
})

const TAGS = [{ key: 'host', value: 'a' }]
const KEY = canonicalSeriesKey('cpu', TAGS)
const ID = seriesId('t', 'db', KEY)

function upsert(points: Point[]): ChangelogEntry {
  return { ingestPartition: 0, ingestOffset: 0n, command: null, upsert: { tenant: 't', database: 'db', measurement: 'cpu', seriesKey: KEY, tags: TAGS, points, pointsIn: points.length } }
}

function expressionUpdate(expressions: FieldExpression[], where: { fromNs?: bigint; fieldPredicate?: string } = {}): ChangelogEntry {
  return {
    ingestPartition: 0, ingestOffset: 0n, upsert: null,
    command: {
      commandId: 'e', tenant: 't', database: 'db', measurement: 'cpu', kind: 'UPDATE_EXPRESSIONS', set: [], issuedAtNs: 0n, expressions, codecs: null,
      where: { tags: [{ key: 'host', values: ['a'] }], fromNs: where.fromNs ?? null, toNs: null, fieldPredicate: where.fieldPredicate ?? null },
    },
  }
}

function read(store: PartitionStore, field: string): [bigint, unknown][] {
  const out: [bigint, unknown][] = []
  for (const chunk of store.scan({ seriesId: ID, field })) for (let i = 0; i < chunk.times.length; i++) out.push([chunk.times[i]!, (chunk.values as ArrayLike<unknown>)[i]])
  return out
}

test('UPDATE_EXPRESSIONS on stored values across memtable, segments and compaction; missing fields leave points unchanged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-expr-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  let store = await openPartitionStore(dir, { fsync: false })
  await store.apply(upsert([
    { timeNs: 1n, fields: [{ name: 't', value: 20 }, { name: 'n', value: 5n }, { name: 'g', value: 1.5 }] },
    { timeNs: 2n, fields: [{ name: 't', value: 25 }, { name: 'n', value: -5n }] },
  ]), 0n)
  await store.flush()
  await store.apply(upsert([{ timeNs: 3n, fields: [{ name: 't', value: 30 }, { name: 'n', value: 7n }, { name: 'g', value: 2 }] }]), 1n)
  await store.flush()
  await store.compactAll()
  await store.apply(upsert([{ timeNs: 4n, fields: [{ name: 't', value: 100 }, { name: 'n', value: 0n }] }]), 2n)
  // Every expression sees the values before the command: t and g swap through the other's old value.
  await store.apply(expressionUpdate([
    { name: 't', type: 'float', expression: '(("t" * 1.8) + 32)' },
    { name: 'n', type: 'integer', expression: '((("n" * 3) / 2) % 5)' },
    { name: 'g', type: 'float', expression: '("g" - "t")' },
  ], { fieldPredicate: '"t" < 50' }), 3n)
  const expected = {
    t: [[1n, 68], [2n, 77], [3n, 86], [4n, 100]],
    n: [[1n, 2n], [2n, -2n], [3n, 0n], [4n, 0n]],
    g: [[1n, -18.5], [3n, -28]],
  }
  const check = (): void => { for (const [field, pairs] of Object.entries(expected)) assert.deepEqual(read(store, field), pairs, field) }
  check()
  await store.flush()
  await store.compactAll()
  check()
  await store.close()
  store = await openPartitionStore(dir, { fsync: false })
  check()
  // A float field in integer arithmetic: that series is left alone, with a warning.
  const warnings: string[] = []
  await store.close()
  store = await openPartitionStore(dir, { fsync: false, onWarning: (w) => warnings.push(w.message) })
  await store.apply(expressionUpdate([{ name: 'n', type: 'integer', expression: '("t" + 1)' }]), 4n)
  check()
  assert.match(warnings.join('\n'), /field "t" is float/)
  await store.close()
})
