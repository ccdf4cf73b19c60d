// What metrics cost on the write path when no exporter is configured: the HTTP API in-process
// (fastify inject, no sockets), line protocol parsed on the request thread, records handed to a sink
// that keeps nothing, with the HTTP hooks of lib/telemetry installed as a node installs them. Each
// round sends every request three times: with Sluice's metrics recording (the registry behind
// GET /metrics), with a no-op registry, and with a second no-op registry (the control: what the
// machine alone moves), taking turns request by request. The figure is lines per CPU second of
// this process; the table gives medians over rounds and the ratios. Tracing stays off throughout
// (the @opentelemetry/api no-op, as in a node without --otlp-endpoint). Also the cost of one bound
// counter increment, one histogram observation and one label lookup.
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

/** CPU seconds (user + system) of this process to write `bodies`: the machine's other load moves wall time, much less this. */
async function cpuSeconds(app: FastifyInstance, bodies: readonly Buffer[]): Promise<number> {
  const started = process.cpuUsage()
  for (const body of bodies) {
    const answer = await app.inject({ method: 'POST', url: '/write?db=bench', payload: body, headers: { 'content-type': 'text/plain' } })
    if (answer.statusCode !== 204) throw new Error(`write answered ${answer.statusCode}: ${answer.body}`)
  }
  const used = process.cpuUsage(started)
  return (used.user + used.system) / 1e6
}

type Variant = 'noop' | 'on' | 'control'
const VARIANTS: readonly Variant[] = ['noop', 'on', 'control']

/**
 * Lines per CPU second of each variant over one pass of the workload, the variants taking turns
 * request by request, and which goes first rotating, so that the garbage one leaves is collected in
 * another's turn as often as in its own. `control` is a second no-op registry: its ratio to `noop`
 * is what the machine alone moves (the noise floor of the `on` ratio).
 */
async function runRound(app: FastifyInstance, workload: Workload, round: number): Promise<Record<Variant, number>> {
  const seconds: Record<Variant, number> = { noop: 0, on: 0, control: 0 }
  for (let index = 0; index < workload.bodies.length; index++) {
    const body = workload.bodies.slice(index, index + 1)
    for (let turn = 0; turn < VARIANTS.length; turn++) {
      const variant = VARIANTS[(index + round + turn) % VARIANTS.length]!
      installMetrics(variant === 'on' ? recording : variant === 'noop' ? noop : control)
      seconds[variant] += await cpuSeconds(app, body)
    }
  }
  return { noop: workload.lines / seconds.noop, on: workload.lines / seconds.on, control: workload.lines / seconds.control }
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
const control = new SluiceMetrics(new MetricsRegistry({ noop: true }))
const app = await buildApp()
console.log(`# Telemetry overhead on the HTTP write path\n\n${describeMachine()}, ${ROUNDS} rounds\n`)
console.log('| workload | lines per CPU second, no-op registry | lines per CPU second, metrics on | on / no-op | on / no-op per round, min–max | control: no-op / no-op |')
console.log('|---|---:|---:|---:|---:|---:|')
for (const workload of workloads) {
  const rates: Record<Variant, number[]> = { on: [], noop: [], control: [] }
  await runRound(app, workload, 0) // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const rate = await runRound(app, workload, round)
    for (const variant of VARIANTS) rates[variant].push(rate[variant])
  }
  const on = median(rates.on)
  const off = median(rates.noop)
  // Each round ran both variants back to back: their ratio per round shows how much the machine moved.
  const perRound = rates.on.map((rate, round) => rate / rates.noop[round]!)
  const spread = `${Math.min(...perRound).toFixed(3)}–${Math.max(...perRound).toFixed(3)}`
  console.log(`| ${workload.name} | ${Math.round(off).toLocaleString('en-US')} | ${Math.round(on).toLocaleString('en-US')} | ${(on / off).toFixed(3)} | ${spread} | ${(median(rates.control) / off).toFixed(3)} |`)
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
