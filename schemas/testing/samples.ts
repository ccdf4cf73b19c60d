// Sample values of every Sluice record, and a seeded generator of random IngestBatches, for tests
// and the benchmark. Values sit at the edges that matter: 64-bit extremes, non-ASCII strings, empty arrays.

import type { CdcEvent, ChangelogEntry, CompressorState, FieldValue, IngestBatch, IngestCommand } from '../types.ts'

export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n

export const sampleBatch: IngestBatch = {
  tenant: 'acme',
  database: 'telemetry',
  measurement: 'cpu load',
  seriesKey: 'cpu\\ load,host=a\\,b,region=eu-west',
  tags: [{ key: 'host', value: 'a,b' }, { key: 'region', value: 'eu-west' }],
  points: [
    {
      timeNs: 1_700_000_000_123_456_789n,
      fields: [
        { name: 'usage', value: 0.25 },
        { name: 'count', value: INT64_MIN },
        { name: 'bytes', value: { unsigned: 2n ** 64n - 1n } },
        { name: 'note', value: 'héllo, wörld ✓' },
        { name: 'ok', value: true },
      ],
    },
    { timeNs: INT64_MAX - 1n, fields: [{ name: 'usage', value: -0 }] },
    { timeNs: -1n, fields: [{ name: 'count', value: INT64_MAX }, { name: 'ok', value: false }] },
  ],
  source: 'http',
  receivedAtNs: 1_700_000_000_999_999_999n,
  idempotencyKey: '3f1c9a52-8d0e-4b7a-9a43-0c3b8f0d2e11',
}

export const sampleCommand: IngestCommand = {
  commandId: '6a4f2b9e-1d3c-4e5f-8a7b-9c0d1e2f3a4b',
  tenant: 'acme',
  database: 'telemetry',
  measurement: 'air',
  kind: 'UPDATE_FIELDS',
  where: {
    tags: [{ key: 'station', values: ['XiaoMaiDao', 'LianYunGang'] }],
    fromNs: 1_673_000_000_000_000_000n,
    toNs: 1_673_712_180_000_000_000n,
    fieldPredicate: 'pressure = 68',
  },
  set: [{ name: 'pressure', value: 168.0 }, { name: 'visibility', value: 10n }],
  issuedAtNs: 1_700_000_001_000_000_000n,
  expressions: null,
  codecs: null,
  ttlNs: null,
  columns: null,
}

export const sampleDelete: IngestCommand = {
  commandId: 'b7e1c2d3-0000-4000-8000-000000000001',
  tenant: 'acme',
  database: 'telemetry',
  measurement: 'air',
  kind: 'DELETE',
  where: { tags: [{ key: 'station', values: ['XiaoMaiDao'] }], fromNs: null, toNs: 1_673_712_180_000_000_000n, fieldPredicate: null },
  set: [],
  issuedAtNs: 1_700_000_002_000_000_000n,
  expressions: null,
  codecs: null,
  ttlNs: null,
  columns: null,
}

export const sampleChangelogUpsert: ChangelogEntry = {
  ingestPartition: 7,
  ingestOffset: 9_007_199_254_740_993n, // 2^53 + 1: not a double
  upsert: {
    tenant: sampleBatch.tenant,
    database: sampleBatch.database,
    measurement: sampleBatch.measurement,
    seriesKey: sampleBatch.seriesKey,
    tags: sampleBatch.tags,
    points: sampleBatch.points.slice(0, 2),
    pointsIn: 3,
  },
  command: null,
}

export const sampleChangelogCommand: ChangelogEntry = {
  ingestPartition: 0,
  ingestOffset: 42n,
  upsert: null,
  command: sampleDelete,
}

export const sampleCompressorState: CompressorState = {
  tenant: 'acme',
  database: 'telemetry',
  seriesKey: 'cpu,host=a',
  field: 'usage',
  algorithm: 'SWINGING_DOOR',
  lastKept: { timeNs: 1_700_000_000_000_000_000n, value: 0.5 },
  lastSeen: { timeNs: 1_700_000_000_500_000_000n, value: 0.52 },
  slopes: { upper: 1e-10, lower: -2.5e-11 },
  pointsIn: 1_000_000n,
  pointsKept: 12_345n,
  maxErrorSeen: 0.0099,
}

export const sampleCdcEvent: CdcEvent = {
  before: null,
  after: { timeNs: 1_700_000_000_000_000_000n, tags: [{ key: 'host', value: 'a' }], fields: [{ name: 'usage', value: 0.75 }, { name: 'n', value: { unsigned: 3n } }] },
  source: {
    version: '0.1.0',
    connector: 'sluice',
    ts_ms: 1_700_000_000_001n,
    tenant: 'acme',
    db: 'telemetry',
    table: 'cpu',
    seriesKey: 'cpu,host=a',
    partition: 3,
    offset: 123_456_789_012n,
    index: 2,
    tsNs: 1_700_000_000_000_000_123n,
  },
  op: 'c',
  ts_ms: 1_700_000_000_002n,
  command: null,
}

export const sampleCdcDelete: CdcEvent = {
  ...sampleCdcEvent,
  after: null,
  source: { ...sampleCdcEvent.source, seriesKey: 'command 3b6c1f2e', index: 0 },
  op: 'd',
  command: {
    commandId: '3b6c1f2e',
    kind: 'DELETE',
    where: { tags: [{ key: 'host', values: ['a', 'b'] }], fromNs: 1_600_000_000_000_000_000n, toNs: null, fieldPredicate: null },
    set: [],
    expressions: null,
    columns: null,
  },
}

/** Plain data (avsc decodes records into class instances and wrapped unions), for deep equality. */
export function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain)
  if (Buffer.isBuffer(value) || typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, plain(inner)]))
}

export { seededRandom } from '../../lib/testing/seeded-random.ts'

function randomBigint(random: () => number, bits: number): bigint {
  let value = 0n
  for (let i = 0; i < bits; i += 16) value = (value << 16n) | BigInt(Math.floor(random() * 65536))
  return BigInt.asUintN(bits, value)
}

const STRINGS = ['', 'a', 'ok', 'héllo', '✓ done', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(300), '日本語'.repeat(30), '\u{1F600} emoji']

const SPECIAL_DOUBLES = [NaN, Infinity, -Infinity, -0, Number.MIN_VALUE, Number.MAX_VALUE]

function randomValue(random: () => number): FieldValue {
  switch (Math.floor(random() * 5)) {
    case 0: return random() < 0.05 ? SPECIAL_DOUBLES[Math.floor(random() * SPECIAL_DOUBLES.length)]! : (random() - 0.5) * 10 ** Math.floor(random() * 20)
    case 1: return BigInt.asIntN(64, randomBigint(random, 64)) >> BigInt(Math.floor(random() * 64))
    case 2: return { unsigned: randomBigint(random, 64) >> BigInt(Math.floor(random() * 64)) }
    case 3: return STRINGS[Math.floor(random() * STRINGS.length)]!
    default: return random() < 0.5
  }
}

/** A random but valid IngestBatch: edge-case strings, longs of every magnitude, sometimes no points. */
export function randomBatch(random: () => number, maxPoints = 20): IngestBatch {
  const pointCount = Math.floor(random() * (maxPoints + 1))
  const tags = Array.from({ length: Math.floor(random() * 4) }, (_, i) => ({ key: `k${i}`, value: STRINGS[Math.floor(random() * STRINGS.length)]! }))
  return {
    tenant: 't',
    database: STRINGS[Math.floor(random() * STRINGS.length)]!,
    measurement: 'm',
    seriesKey: `m${tags.map((t) => `,${t.key}=${t.value}`).join('')}`,
    tags,
    points: Array.from({ length: pointCount }, () => ({
      timeNs: BigInt.asIntN(64, randomBigint(random, 64)) >> BigInt(Math.floor(random() * 64)),
      fields: Array.from({ length: Math.floor(random() * 6) }, (_, f) => ({ name: `f${f}`, value: randomValue(random) })),
    })),
    source: random() < 0.3 ? null : 'mqtt',
    receivedAtNs: randomBigint(random, 62),
    idempotencyKey: random() < 0.5 ? null : 'key-1',
  }
}

/** The benchmark's batch: one series, `points` points of four fields (float, integer, float, boolean) 1 s apart. */
export function benchmarkBatch(points: number): IngestBatch {
  const start = 1_700_000_000_000_000_000n
  return {
    tenant: 'default',
    database: 'telegraf',
    measurement: 'cpu',
    seriesKey: 'cpu,cpu=cpu-total,host=server-01.example.com,region=eu-west-1',
    tags: [{ key: 'cpu', value: 'cpu-total' }, { key: 'host', value: 'server-01.example.com' }, { key: 'region', value: 'eu-west-1' }],
    points: Array.from({ length: points }, (_, i) => ({
      timeNs: start + BigInt(i) * 1_000_000_000n,
      fields: [
        { name: 'usage_user', value: 12.5 + (i % 100) / 7 },
        { name: 'interrupts', value: 1_000_000n + BigInt(i * 37) },
        { name: 'usage_system', value: 3.25 + (i % 13) / 3 },
        { name: 'online', value: i % 2 === 0 },
      ],
    })),
    source: 'http',
    receivedAtNs: start + 1_000_000_000_000n,
    idempotencyKey: null,
  }
}
