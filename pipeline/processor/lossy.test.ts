import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { IngestBatch, Point } from '../../schemas/index.ts'
import { parseCompressionConfig, type CompressionConfig } from '../transforms/index.ts'
import { LossyCompression, measurementOfSeriesKey, stateKey } from './lossy.ts'

const config: CompressionConfig = parseCompressionConfig({
  databases: { plant: { measurements: { sensor: { codec: 'SDT(0.5)', fields: { level: 'DEADBAND(1)' } } } } },
})

/** A smooth signal with noise and steps, three fields of three types, in batches of `size` points. */
function batches(size: number, count: number): IngestBatch[] {
  let seed = 7
  const random = (): number => { seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648; return seed / 2_147_483_648 }
  const out: IngestBatch[] = []
  for (let b = 0; b < count; b++) {
    const points: Point[] = []
    for (let i = 0; i < size; i++) {
      const n = b * size + i
      points.push({
        timeNs: 1_000_000_000n * BigInt(n),
        fields: [
          { name: 'temp', value: 20 + 5 * Math.sin(n / 40) + (random() - 0.5) * 0.4 },
          { name: 'level', value: BigInt(Math.floor(n / 30) % 4) * 10n + BigInt(Math.round(random())) },
          { name: 'state', value: n % 50 === 0 ? 'on' : 'off' },
        ],
      })
    }
    out.push({ tenant: 't', database: 'plant', measurement: 'sensor', seriesKey: 'sensor,id=1', tags: [{ key: 'id', value: '1' }], points, source: null, receivedAtNs: 0n, idempotencyKey: null })
  }
  return out
}

/** What replicas hold after applying these upserts: per (time, field), the value (per-field merge). */
function merged(points: Point[]): Map<string, unknown> {
  const state = new Map<string, unknown>()
  for (const point of points) for (const field of point.fields) state.set(`${point.timeNs} ${field.name}`, field.value)
  return state
}

test('dropped fields leave, held points come back at their own time; strings pass; the error stays within the settings', () => {
  const lossy = new LossyCompression({ config, stateSchemaId: 4 })
  assert.equal(lossy.enabled, true)
  const input = batches(100, 10)
  const output = input.flatMap(batch => lossy.apply(batch))
  const kept = merged(output)
  const all = merged(input.flatMap(batch => batch.points))
  for (const [key, value] of kept) assert.deepEqual(value, all.get(key), `${key}: a kept value is the value written`)
  const count = (field: string): number => [...kept.keys()].filter(key => key.endsWith(` ${field}`)).length
  assert.equal(count('state'), 1_000, 'strings are never compressed')
  assert.ok(count('temp') < 400 && count('temp') > 10, `SDT keeps a fraction of the smooth field (${count('temp')} of 1000)`)
  assert.ok(count('level') < 200, `deadband keeps the steps (${count('level')} of 1000)`)
  for (const [key, value] of kept) if (key.endsWith(' level')) assert.equal(typeof value, 'bigint', 'integers stay integers')
  const rows = lossy.report()
  assert.deepEqual(rows.map(row => row.field), ['level', 'temp'])
  const temp = rows.find(row => row.field === 'temp')!
  assert.equal(temp.pointsIn, 1_000)
  assert.ok(temp.maxError <= 0.5 + 1e-9, `SDT error ≤ deviation (${temp.maxError})`)
  assert.ok(rows.find(row => row.field === 'level')!.maxError <= 1 + 1e-9)
})

test('a master taking over from sluice.state at any batch decides exactly as one that never stopped', () => {
  const input = batches(37, 12)
  const straight = new LossyCompression({ config, stateSchemaId: 4 })
  const expected = input.flatMap(batch => straight.apply(batch))
  for (const handover of [1, 5, 11]) {
    let master = new LossyCompression({ config, stateSchemaId: 4 })
    const output: Point[] = []
    const state = new Map<string, Buffer | null>()
    input.forEach((batch, i) => {
      if (i === handover) {
        master = new LossyCompression({ config, stateSchemaId: 4 })
        for (const [key, value] of state) master.restore(Buffer.from(key), value)
      }
      output.push(...master.apply(batch))
      for (const record of master.takeChanges()) state.set(record.key, record.value)
    })
    assert.deepEqual(output, expected, `handover before batch ${handover}`)
  }
})

test('databases without settings pass through untouched; state keys and measurements of series keys', () => {
  const lossy = new LossyCompression({ config, stateSchemaId: 4 })
  const other = { ...batches(10, 1)[0]!, database: 'elsewhere' }
  assert.equal(lossy.apply(other), other.points)
  assert.deepEqual(lossy.takeChanges(), [])
  assert.equal(new LossyCompression({ config: parseCompressionConfig(undefined), stateSchemaId: 4 }).enabled, false)
  assert.equal(stateKey('t', 'd', 'm,a=b', 'f'), '["t","d","m,a=b","f"]')
  assert.equal(measurementOfSeriesKey('cpu,host=a'), 'cpu')
  assert.equal(measurementOfSeriesKey('my\\,meas\\ x,host=a'), 'my,meas x')
  assert.equal(measurementOfSeriesKey('plain'), 'plain')
})
