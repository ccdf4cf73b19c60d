// InfluxData's line protocol corpus (shared/testdata/line-protocol-corpus, 6,615 decode cases): every
// case decodes to exactly the expected points, or is rejected where the corpus expects an error,
// except the cases listed in followsInfluxDb1 below, where Sluice does what InfluxDB 1.x does.
// Error texts need not match (the corpus's README says so); whether a case errors must.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { parseLineProtocol } from './line-protocol.ts'
import { FieldType, type ParsedBatch } from './parsed-batch.ts'
import type { PrecisionUnit } from './precision.ts'
import { parseJsonLossless, JsonNumber, type JsonValue } from './testing/lossless-json.ts'

const corpusUrl = new URL('../../../shared/testdata/line-protocol-corpus/corpus.json', import.meta.url)

/**
 * Cases where Sluice follows InfluxDB 1.x instead of the corpus. Each was sent to a real InfluxDB
 * 1.6.7 (Debian's influxdb package) and Sluice does what it did; integration/influxdb-compare.test.ts
 * keeps checking both behaviours ("tag named time is dropped", "negative zero").
 */
const followsInfluxDb1: Readonly<Record<string, string>> = {
  // `cpu,tag0=v0,time=v0 value=1`: the corpus accepts a tag named `time`. InfluxDB 1.x drops the point
  // ("partial write: invalid tag key: input tag "time" on measurement "cpu" is invalid"), and so does
  // Sluice: `time` is the timestamp column of every query.
  '2a6fa6f9c4bd199a093f88e94b542430': 'tag key "time" is rejected, as InfluxDB 1.x does',
  '5f10c11304f37e8f65e1d9fc36c6fde3': 'tag key "time" is rejected, as InfluxDB 1.x does',
  // `u e=-0.` and `u e=-0e-4`: the corpus records the value as 0. Go's ParseFloat (and so InfluxDB
  // 1.6, which answers -0 when queried) keeps the sign of negative zero, and so does Sluice.
  '16f42a27b1032ab9ffa616e9de6edf2f': 'negative zero keeps its sign, as InfluxDB 1.x stores it',
  '579631bbe7f2e5bdbd98a380d381dd0c': 'negative zero keeps its sign, as InfluxDB 1.x stores it',
}

type JsonObject = { [key: string]: JsonValue }

interface CorpusCase { key: string; body: Buffer; precision: PrecisionUnit; defaultTimeNs: bigint; expectError: boolean; expected: JsonObject[]; about: string }

const precisions: Readonly<Record<string, PrecisionUnit>> = { '1ns': 'ns', '1µs': 'us', '1ms': 'ms', '1s': 's' }

function bytesOf(value: JsonValue): Buffer {
  if (typeof value === 'string') return Buffer.from(value, 'utf8')
  return Buffer.from((value as JsonObject).binary as string, 'base64')
}

function loadCorpus(): CorpusCase[] {
  const corpus = parseJsonLossless(readFileSync(corpusUrl, 'utf8')) as JsonObject
  return Object.entries(corpus.decode as JsonObject).map(([key, entry]) => {
    const input = (entry as JsonObject).input as JsonObject
    const output = (entry as JsonObject).output as JsonObject
    const precision = precisions[input.precision as string]
    if (!precision) throw new Error(`case ${key}: unknown precision ${String(input.precision)}`)
    return {
      key,
      body: bytesOf(input.text!),
      precision,
      defaultTimeNs: (input.defaultTime as JsonNumber).toBigInt(),
      expectError: 'error' in output,
      expected: 'error' in output ? [] : (output.result as JsonObject[]),
      about: typeof input.about === 'string' ? input.about : '',
    }
  })
}

function sameBytes(expected: JsonValue, actual: string): boolean {
  return bytesOf(expected).equals(Buffer.from(actual, 'utf8'))
}

/** Why the decoded field differs from the expected corpus value, or undefined if it matches. */
function fieldMismatch(expected: JsonObject, batch: ParsedBatch, slot: number): string | undefined {
  const [kind, value] = Object.entries(expected)[0]!
  const type = batch.fieldType[slot]
  const actual = batch.fieldValue(slot)
  const matches =
    kind === 'int' ? type === FieldType.Integer && actual === (value as JsonNumber).toBigInt()
    : kind === 'uint' ? type === FieldType.Unsigned && actual === (value as JsonNumber).toBigInt()
    // Object.is, so a sign of zero that differs counts as a difference.
    : kind === 'float' ? type === FieldType.Float && Object.is(actual, (value as JsonNumber).toNumber())
    : kind === 'bool' ? type === FieldType.Boolean && actual === value
    : kind === 'string' ? type === FieldType.String && actual === value
    : kind === 'binary' ? type === FieldType.String && Buffer.from(actual as string, 'utf8').equals(Buffer.from(value as string, 'base64'))
    : false
  return matches ? undefined : `field ${slot}: got type ${type} value ${String(actual)}, want ${kind} ${value instanceof JsonNumber ? value.text : JSON.stringify(value)}`
}

/** Why the batch differs from what the corpus expects, or undefined if it matches. */
function mismatch(testCase: CorpusCase, batch: ParsedBatch): string | undefined {
  if (testCase.expectError) return batch.rejectedLineCount > 0 ? undefined : 'accepted, but the corpus expects an error'
  if (batch.rejectedLineCount > 0) return `rejected: ${batch.errors.map(error => `${error.line}:${error.column ?? '?'} ${error.reason}`).join('; ')}`
  if (batch.pointCount !== testCase.expected.length) return `${batch.pointCount} points, want ${testCase.expected.length}`
  for (let point = 0; point < batch.pointCount; point++) {
    const expected = testCase.expected[point]!
    const view = batch.point(point)
    if (!sameBytes(expected.name!, view.measurement)) return `point ${point}: measurement ${JSON.stringify(view.measurement)}`
    const tags = expected.tags as JsonObject[]
    if (tags.length !== view.tags.length || tags.some((tag, t) => !sameBytes(tag.key!, view.tags[t]![0]) || !sameBytes(tag.value!, view.tags[t]![1]))) {
      return `point ${point}: tags ${JSON.stringify(view.tags)}`
    }
    const fields = expected.fields as JsonObject[]
    if (fields.length !== view.fields.length) return `point ${point}: ${view.fields.length} fields, want ${fields.length}`
    const first = batch.pointFieldStart[point]!
    for (let f = 0; f < fields.length; f++) {
      if (!sameBytes(fields[f]!.key!, view.fields[f]!.key)) return `point ${point}: field key ${JSON.stringify(view.fields[f]!.key)}`
      const why = fieldMismatch(fields[f]!.value as JsonObject, batch, first + f)
      if (why) return `point ${point}: ${why}`
    }
    const time = (expected.time as JsonNumber).toBigInt()
    if (view.timestampNs !== time) return `point ${point}: time ${view.timestampNs}, want ${time}`
  }
  return undefined
}

const cases = loadCorpus()

function mismatches(): Map<string, string> {
  const found = new Map<string, string>()
  for (const testCase of cases) {
    const batch = parseLineProtocol(testCase.body, { nowNs: testCase.defaultTimeNs, precision: testCase.precision })
    const why = mismatch(testCase, batch)
    batch.release()
    if (why) found.set(testCase.key, why)
  }
  return found
}

const found = mismatches()

test('the corpus holds the 6,615 decode cases the README describes', () => {
  assert.equal(cases.length, 6615)
  assert.equal(cases.filter(testCase => testCase.expectError).length, 6219)
})

test('every corpus case decodes as the corpus says, except those that follow InfluxDB 1.x', () => {
  const unexpected = [...found].filter(([key]) => !(key in followsInfluxDb1))
  const report = unexpected.slice(0, 20).map(([key, why]) => {
    const testCase = cases.find(candidate => candidate.key === key)!
    return `${key} ${JSON.stringify(testCase.body.toString('latin1'))} (${testCase.precision}${testCase.about ? `, ${testCase.about}` : ''}): ${why}`
  })
  assert.equal(unexpected.length, 0, `${unexpected.length} corpus cases differ:\n${report.join('\n')}`)
  assert.equal(cases.length - found.size, 6611)
})

test('each listed exception still differs from the corpus, so the list is no longer than it must be', () => {
  for (const [key, reason] of Object.entries(followsInfluxDb1)) {
    assert.ok(cases.some(testCase => testCase.key === key), `exception ${key} is not a corpus case`)
    assert.ok(found.has(key), `exception ${key} (${reason}) now matches the corpus: remove it from the list`)
  }
})
