import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeIngestRecord, type IngestBatch, type IngestCommand, type Point } from '../../schemas/index.ts'
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

/** A SET_CODEC command for sensor fields and its ingest record bytes, as the master receives them. */
function setCodec(codecs: Array<[string, string, string]>, tenant = 't'): { command: IngestCommand; record: Buffer } {
  const command: IngestCommand = {
    commandId: `codec-${codecs.map(c => c.join(':')).join(',')}`, tenant, database: 'plant', measurement: 'sensor', kind: 'SET_CODEC',
    where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null }, set: [], issuedAtNs: 0n, expressions: null,
    codecs: codecs.map(([field, fieldType, codec]) => ({ field, fieldType, codec })),
  }
  return { command, record: encodeIngestRecord({ batch: null, command }, { schemaId: 3 }) }
}

/** The master's log: batches and commands in order, with their outputs (commands' flushed points as upserts). */
type Step = IngestBatch | { command: IngestCommand; record: Buffer }
function run(master: LossyCompression, steps: Step[], state?: Array<[string, Buffer | null]>): Point[][] {
  return steps.map(step => {
    const out = 'command' in step ? master.command(step.command, step.record).flatMap(upsert => upsert.points) : master.apply(step)
    for (const record of master.takeChanges()) state?.push([record.key, record.value])
    return out
  })
}

/** What a compacted topic keeps of a log: the latest record of each key, in offset order. */
function compacted(log: Array<[string, Buffer | null]>): Array<[string, Buffer | null]> {
  const last = new Map<string, number>()
  log.forEach(([key], offset) => last.set(key, offset))
  return log.filter(([key], offset) => last.get(key) === offset)
}

const valuesOf = (points: Point[], field: string): unknown[] => points.flatMap(p => p.fields.filter(f => f.name === field).map(f => [p.timeNs, f.value]))

test('SET_CODEC switches a field at its log position: the held point is flushed there, the new band applies from the next point', () => {
  const input = batches(50, 4)
  const master = new LossyCompression({ config, stateSchemaId: 4 })
  const [before1, before2, flushed, after1, after2] = run(master, [input[0]!, input[1]!, setCodec([['temp', 'float', 'CODEC(DEADBAND(100))']]), input[2]!, input[3]!])
  // Before: SDT(0.5) keeps a fraction; the flush writes the point SDT held (the last point of batch 2).
  const keptBefore = valuesOf([...before1!, ...before2!], 'temp').length
  assert.ok(keptBefore >= 2 && keptBefore < 50, `SDT keeps a few points before (${keptBefore})`)
  assert.deepEqual(valuesOf(flushed!, 'temp'), [[99_000_000_000n, input[1]!.points[49]!.fields[0]!.value]], 'the held point, at its own time')
  // After: a band of 100 around the last kept point keeps nothing of a signal within 20 ± 5.
  assert.deepEqual(valuesOf([...after1!, ...after2!], 'temp'), [])
  assert.ok(valuesOf(after1!, 'level').length > 0, `other fields keep their settings ${JSON.stringify(valuesOf(after1!, 'level'), (_k, v) => typeof v === 'bigint' ? String(v) : v)}`)
  assert.equal(master.codecOf('t', 'plant', 'sensor', 'temp').algorithm, 'deadband')
  assert.equal(master.codecOf('other-tenant', 'plant', 'sensor', 'temp').algorithm, 'sdt', 'overrides are per tenant')
  const temp = master.report().find(row => row.field === 'temp')!
  assert.equal(temp.pointsIn, 200, 'counters continue across the switch')
})

test('CODEC(DEFAULT) turns compression off for the field, even in a database the config file does not name', () => {
  const master = new LossyCompression({ config: parseCompressionConfig(undefined), stateSchemaId: 4 })
  assert.equal(master.enabled, false)
  const input = batches(40, 3)
  const [first, , second, , third] = run(master, [input[0]!, setCodec([['temp', 'float', 'CODEC(SDT(0.5))']]), input[1]!, setCodec([['temp', 'float', 'CODEC(DEFAULT)']]), input[2]!])
  assert.equal(master.enabled, true)
  assert.equal(valuesOf(first!, 'temp').length, 40, 'nothing configured: every point kept')
  assert.ok(valuesOf(second!, 'temp').length < 20, 'SDT by DDL')
  assert.equal(valuesOf(third!, 'temp').length, 40, 'DEFAULT: every point kept again')
})

test('a master taking over after SET_CODEC restores the override from sluice.state before any filter, and decides as one that never stopped', () => {
  const input = batches(37, 8)
  const steps: Step[] = [input[0]!, input[1]!, setCodec([['temp', 'float', 'CODEC(DEADBAND(0.8, 0, 20s))'], ['level', 'integer', 'CODEC(SDT(3))']]), input[2]!, input[3]!, input[4]!, setCodec([['temp', 'float', 'CODEC(DEFAULT)']]), input[5]!, input[6]!, input[7]!]
  const expected = run(new LossyCompression({ config, stateSchemaId: 4 }), steps)
  for (const handover of [3, 4, 7, 9]) {
    const state: Array<[string, Buffer | null]> = []
    const first = run(new LossyCompression({ config, stateSchemaId: 4 }), steps.slice(0, handover), state)
    const next = new LossyCompression({ config, stateSchemaId: 4 })
    for (const [key, value] of compacted(state)) next.restore(Buffer.from(key), value)
    const rest = run(next, steps.slice(handover))
    assert.deepEqual([...first, ...rest], expected, `handover before step ${handover}`)
  }
})

test('a DROP forgets the filters and codec overrides of its scope: a field written again starts afresh, also after a takeover', () => {
  const input = batches(30, 3)
  const drop = (kind: 'DROP_DATABASE' | 'DROP_TABLE' | 'DROP_FIELDS', columns: string[] | null = null): { command: IngestCommand; record: Buffer } => {
    const command: IngestCommand = {
      commandId: `drop-${kind}`, tenant: 't', database: 'plant', measurement: kind === 'DROP_DATABASE' ? '' : 'sensor', kind,
      where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null }, set: [], issuedAtNs: 0n, expressions: null, codecs: null, ttlNs: null, columns,
    }
    return { command, record: encodeIngestRecord({ batch: null, command }, { schemaId: 3 }) }
  }
  // The same points again after the DROP: a filter that remembered the old last kept point would drop the first one.
  const again = { ...input[0]!, points: input[0]!.points.map(p => ({ ...p, timeNs: p.timeNs + 1_000_000_000_000n })) }
  for (const [command, dropped] of [[drop('DROP_FIELDS', ['level']), ['level']], [drop('DROP_TABLE'), ['temp', 'level']], [drop('DROP_DATABASE'), ['temp', 'level']]] as const) {
    const steps: Step[] = [input[0]!, setCodec([['level', 'integer', 'CODEC(SDT(3))']]), input[1]!, command, again]
    const state: Array<[string, Buffer | null]> = []
    const master = new LossyCompression({ config, stateSchemaId: 4 })
    const outputs = run(master, steps, state)
    const fresh = run(new LossyCompression({ config, stateSchemaId: 4 }), [again])[0]!
    for (const field of dropped) assert.deepEqual(valuesOf(outputs[4]!, field), valuesOf(fresh, field), `${command.command.kind}: ${field} starts afresh`)
    assert.equal(master.codecOf('t', 'plant', 'sensor', 'level').algorithm, 'deadband', `${command.command.kind}: the config file's setting again, not the override`)
    if (!(dropped as readonly string[]).includes('temp')) assert.notDeepEqual(valuesOf(outputs[4]!, 'temp'), valuesOf(fresh, 'temp'), 'a field outside the scope continues')
    // A master reading sluice.state before compaction (the override, then its deletion) has no override either.
    const next = new LossyCompression({ config, stateSchemaId: 4 })
    for (const [key, value] of state) next.restore(Buffer.from(key), value)
    assert.equal(next.codecOf('t', 'plant', 'sensor', 'level').algorithm, 'deadband')
  }
})
