// What metrics cost on the write path when no exporter is configured: the HTTP API in-process
// (fastify inject, no sockets), line protocol parsed on the request thread, records handed to a sink
// that keeps nothing, with the HTTP hooks of lib/telemetry installed as a node installs them. Each
// round runs the same requests with Sluice's metrics recording (the registry behind GET /metrics)
// and with a no-op registry, alternating; the table gives medians and the ratio. Tracing stays off
// in both (the @opentelemetry/api no-op, as in a node without --otlp-endpoint). Also the cost of one
// bound counter increment and one histogram observation.
//
// Run: npm run bench:telemetry [-- --quick] [-- --rounds 7]

import { parseArgs } from 'node:util'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { lineProtocolLimits, type IngestRecordOut } from '../pipeline/ingest/index.ts'
import { Authorizer, httpApi, httpLimits, IdempotencyKeys, MemoryControlStore, TokenDirectory, WriteCatalog, type RecordSink } from '../pipeline/http/index.ts'
import { installMetrics, instrumentHttp, MetricsRegistry, SluiceMetrics } from '../lib/telemetry/index.ts'
import { generateTsbsCpu } from './support/tsbs-cpu.ts'
import { describeMachine, median } from './support/report.ts'

const { values: options } = parseArgs({ options: { quick: { type: 'boolean', default: false }, rounds: { type: 'string' } } })
const ROUNDS = Number(options.rounds ?? (options.quick ? 3 : 7))

class DiscardingSink implements RecordSink {
  records = 0
  async write(records: readonly IngestRecordOut[]): Promise<void> { this.records += records.length }
  async close(): Promise<void> {}
}

async function buildApp(): Promise<FastifyInstance> {
  const store = new MemoryControlStore()
  const limits = httpLimits({})
  const app = Fastify()
  instrumentHttp(app, { tracing: false, routesWithOwnSpans: new Set(['/write', '/api/v2/write', '/api/v1/write']) })
  await app.register(httpApi, {
    sink: new DiscardingSink(),
    catalog: new WriteCatalog(store, { autoCreateDatabases: true }),
    authorizer: new Authorizer({ enabled: false, defaultTenant: 'default', tokens: new TokenDirectory(join(mkdtempSync(join(tmpdir(), 'sluice-bench-')), 'tokens.json')) }),
    idempotency: new IdempotencyKeys(store, limits),
    ingestPartitions: 8,
    ingestSchemaId: 1,
    limits,
    lineProtocolLimits: lineProtocolLimits(),
    sluiceVersion: 'bench',
    nodeId: 'bench',
  })
  return app
}

interface Workload { name: string; bodies: Buffer[]; lines: number }

const big = generateTsbsCpu({ hosts: 100, intervalSeconds: 10, durationSeconds: options.quick ? 3_600 : 4 * 3_600, linesPerBatch: 5_000 })
const small = generateTsbsCpu({ hosts: 100, intervalSeconds: 10, durationSeconds: options.quick ? 300 : 1_200, linesPerBatch: 10 })
const workloads: Workload[] = [
  { name: 'TSBS cpu, 5,000 lines per request', bodies: big.batches, lines: big.lines },
  { name: 'TSBS cpu, 10 lines per request', bodies: small.batches, lines: small.lines },
]

async function runOnce(app: FastifyInstance, workload: Workload): Promise<number> {
  const started = performance.now()
  for (const body of workload.bodies) {
    const answer = await app.inject({ method: 'POST', url: '/write?db=bench', payload: body, headers: { 'content-type': 'text/plain' } })
    if (answer.statusCode !== 204) throw new Error(`write answered ${answer.statusCode}: ${answer.body}`)
  }
  return workload.lines / ((performance.now() - started) / 1_000)
}

function microNsPerOp(label: string, operation: () => void): { label: string; ns: number } {
  const iterations = 5_000_000
  for (let i = 0; i < 100_000; i++) operation()
  const samples: number[] = []
  for (let round = 0; round < 5; round++) {
    const started = process.hrtime.bigint()
    for (let i = 0; i < iterations; i++) operation()
    samples.push(Number(process.hrtime.bigint() - started) / iterations)
  }
  return { label, ns: median(samples) }
}

const recording = new SluiceMetrics()
const noop = new SluiceMetrics(new MetricsRegistry({ noop: true }))
const app = await buildApp()
console.log(`# Telemetry overhead on the HTTP write path\n\n${describeMachine()}, ${ROUNDS} rounds\n`)
console.log('| workload | lines/s, no-op registry | lines/s, metrics on | ratio (on / no-op) | ratio per round, min–max |')
console.log('|---|---:|---:|---:|---:|')
for (const workload of workloads) {
  const rates: Record<'on' | 'noop', number[]> = { on: [], noop: [] }
  installMetrics(recording)
  await runOnce(app, workload) // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of round % 2 === 0 ? ['noop', 'on'] as const : ['on', 'noop'] as const) {
      installMetrics(variant === 'on' ? recording : noop)
      rates[variant].push(await runOnce(app, workload))
    }
  }
  const on = median(rates.on)
  const off = median(rates.noop)
  // Each round ran both variants back to back: their ratio per round shows how much the machine moved.
  const perRound = rates.on.map((rate, round) => rate / rates.noop[round]!)
  const spread = `${Math.min(...perRound).toFixed(3)}–${Math.max(...perRound).toFixed(3)}`
  console.log(`| ${workload.name} | ${Math.round(off).toLocaleString('en-US')} | ${Math.round(on).toLocaleString('en-US')} | ${(on / off).toFixed(3)} | ${spread} |`)
}
await app.close()

const counter = recording.pointsAccepted.labels('http')
const histogram = recording.httpRequestDuration.labels('/write')
const noopCounter = noop.pointsAccepted.labels('http')
console.log('\n| operation | ns per call |\n|---|---:|')
for (const result of [
  microNsPerOp('bound counter inc', () => counter.inc(5)),
  microNsPerOp('no-op counter inc', () => noopCounter.inc(5)),
  microNsPerOp('bound histogram observe (13 buckets)', () => histogram.observe(0.004)),
  microNsPerOp('labels(route, method, status) lookup + inc', () => recording.httpRequests.labels('/write', 'POST', '204').inc()),
]) console.log(`| ${result.label} | ${result.ns.toFixed(1)} |`)
