// Fuzz test of the line protocol parser: random bytes and mutated valid lines, for a bounded time
// with a printed seed (SLUICE_FUZZ_SEED replays one). The parser must never throw past its error
// path: every body yields a batch whose points are well formed and whose rejected lines carry a
// line number, a reason and a known code. The comparison with a real InfluxDB is in
// integration/line-protocol-fuzz.test.ts.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseLineProtocol } from './line-protocol.ts'
import { FieldType, type ParsedBatch } from './parsed-batch.ts'
import { IngestErrorCode } from './errors.ts'
import { parsePrecision } from './precision.ts'
import { Random, randomBody, mutatedBody } from './testing/line-protocol-fuzz.ts'

const RUN_MS = Number(process.env.SLUICE_FUZZ_MS ?? 2_000)
const seed = Number(process.env.SLUICE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const knownCodes = new Set<string>(Object.values(IngestErrorCode))
const knownTypes = new Set<number>(Object.values(FieldType))
const precisions = ['ns', 'us', 'ms', 's', 'm', 'h'].map(unit => parsePrecision(unit))
const MIN_TIME_NS = -9_223_372_036_854_775_806n
const MAX_TIME_NS = 9_223_372_036_854_775_806n

function checkBatch(batch: ParsedBatch, body: Buffer): void {
  const context = (): string => `body ${JSON.stringify(body.toString('latin1'))}`
  assert.ok(batch.rejectedLineCount >= batch.errors.length, context())
  for (const error of batch.errors) {
    assert.ok(knownCodes.has(error.code), `unknown code ${error.code}: ${context()}`)
    assert.ok(error.line >= 1 && error.line <= batch.linesSeen, `error line ${error.line} of ${batch.linesSeen}: ${context()}`)
    assert.ok(error.reason.length > 0, context())
  }
  for (let p = 0; p < batch.pointCount; p++) {
    const point = batch.point(p)
    assert.ok(point.fields.length > 0, `a point without fields: ${context()}`)
    assert.ok(point.measurement.length > 0 && point.seriesKey.length > 0, context())
    assert.ok(point.line >= 1 && point.line <= batch.linesSeen, context())
    assert.ok(point.timestampNs >= MIN_TIME_NS && point.timestampNs <= MAX_TIME_NS, context())
    for (const field of point.fields) {
      assert.ok(knownTypes.has(field.type), context())
      assert.ok(field.key.length > 0 && field.key !== 'time', context())
      if (field.type === FieldType.Float) assert.ok(Number.isFinite(field.value), context())
    }
    for (const [key] of point.tags) assert.notEqual(key, 'time', context())
  }
}

test(`random and mutated line protocol only ever yields IngestError results (seed ${seed}, ${RUN_MS} ms)`, () => {
  console.log(`line protocol fuzz seed: ${seed} (replay with SLUICE_FUZZ_SEED=${seed})`)
  const random = new Random(seed)
  const deadline = Date.now() + RUN_MS
  let bodies = 0
  let points = 0
  let rejected = 0
  while (Date.now() < deadline) {
    for (let i = 0; i < 50; i++) {
      const body = random.next() < 0.3 ? randomBody(random, 200) : mutatedBody(random)
      const precision = random.next() < 0.8 ? 'ns' : random.pick(precisions)
      let batch: ParsedBatch
      try {
        batch = parseLineProtocol(body, { nowNs: 1_700_000_000_123_456_789n, precision })
      } catch (error) {
        assert.fail(`parseLineProtocol threw ${String(error)} for seed ${seed}, body ${JSON.stringify(body.toString('latin1'))}`)
      }
      checkBatch(batch, body)
      bodies++
      points += batch.pointCount
      rejected += batch.rejectedLineCount
      batch.release()
    }
  }
  console.log(`${bodies} bodies, ${points} points accepted, ${rejected} lines rejected`)
  assert.ok(bodies > 1000, 'the fuzz loop ran')
  assert.ok(points > 0 && rejected > 0, 'both accepted and rejected lines were produced')
})

/** Lines of one measurement whose field keys are prefixes, escapes and repeats of each other. */
function similarLines(random: Random): string[] {
  const keys = ['a', 'ab', 'a\\ b', 'a\\,b', 'a\\=b', 'a\\\\', 'b', 'time', 'é', 'a=']
  const values = ['1', '2i', 't', '-1.5', '3u', '', 'x']
  return Array.from({ length: 2 + random.below(6) }, () => {
    const fields = Array.from({ length: 1 + random.below(4) }, () => `${random.pick(keys)}=${random.pick(values)}`)
    return `m,t=1 ${fields.join(random.next() < 0.9 ? ',' : ' ')} ${random.below(100)}`
  })
}

test(`a body parses as its lines would one by one: a line's field keys never depend on the line before (seed ${seed})`, () => {
  const random = new Random(seed + 1)
  // Points and the count of rejected lines (a reason may say "end of input" alone and "end of line" in a body).
  const describe = (batch: ParsedBatch): unknown[] => [
    ...Array.from(batch.points(), p => [p.measurement, p.seriesKey, p.tags, p.fields, p.timestampNs]),
    ...batch.errors.map(e => ['rejected', e.code]),
  ]
  const options = { nowNs: 1_700_000_000_123_456_789n }
  for (let i = 0; i < 300; i++) {
    // Bodies of similar lines (mutated copies of each other) without quotes, so a line break always ends a line.
    const lines = (i % 2 === 0 ? mutatedBody(random).toString('latin1').split('\n') : similarLines(random)).filter(line => !line.includes('"') && !line.includes('\r'))
    const body = Buffer.from(lines.join('\n'), 'latin1')
    const whole = parseLineProtocol(body, options)
    const oneByOne = lines.flatMap(line => {
      const batch = parseLineProtocol(Buffer.from(line, 'latin1'), options)
      const described = describe(batch)
      batch.release()
      return described
    })
    const wholeDescribed = describe(whole)
    whole.release()
    // Compared as multisets: one-line parses list a line's point or error in another order.
    const key = (entry: unknown): string => JSON.stringify(entry, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
    assert.deepEqual(wholeDescribed.map(key).sort(), oneByOne.map(key).sort(), `seed ${seed}, body ${JSON.stringify(body.toString('latin1'))}`)
  }
})
