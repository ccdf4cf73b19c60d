// Queries against InfluxDB 1.6 and VictoriaMetrics (issue 6, section 4): the TSBS-like cpu day
// (bench/support/tsbs-cpu.ts: 100 hosts, 10 integer fields, 10 s) written over HTTP into each
// target, then four queries, each written natively for each system, timed over HTTP from this one
// client process (keep-alive, one request at a time):
//
//   1. max of usage_user per host per hour over the whole range;
//   2. the last point (last usage_user) of every host;
//   3. count of usage_user in one hour for one host;
//   4. 5 hosts, mean of usage_user per host per minute over one hour.
//
// Sluice is one node on the embedded broker (as bench/end-to-end.ts), queried once the replica
// applied every line, in SQL (POST /api/v1/sql) and in InfluxQL (/query); then again after
// POST /api/v1/replicaset/compact. VictoriaMetrics is queried after /internal/force_flush and a
// completed /internal/force_merge, with its rollup cache off (nocache=1); InfluxDB as it is. Each
// target's timing starts once its processes are idle (settle), and Sluice's two languages take
// turns query by query, the one that goes first alternating.
// Every system's answers are normalized to (host, bucket) → value and compared with the first
// target's: a mismatch is printed loudly and marked in the table. The clock runs from sending a
// request to the last byte of its answer; parsing and normalizing answers (JSON, Date.parse of
// SQL's RFC 3339 times) happen after it, as they are the benchmark's work, not the server's.
//
// Every system gets the same warm-up before each query's timed runs (--warmup, 2,000 runs by
// default, each form's warm-up cut at --warmup-seconds, 30 by default, so InfluxDB's 80 ms query 1
// warms up for 30 s): a server answers a dashboard's queries over and over, and what it answers
// them with is its steady state. The Go peers start compiled; Sluice's JavaScript reaches its
// steady state only after a thousand requests or more (V8 optimizes a function that runs once per
// request after 1,000-3,000 of them: `npm run bench:query-forms -- --trace-opt`, docs/benchmarks.md).
// --warmup 200 times a fresh node's first few hundred requests of each query; --warmup 3 a node
// that has just started.
//
// With --interleave every target is started, loaded and prepared (VictoriaMetrics force-merged,
// Sluice compacted) first, and stays up; then each query's forms take turns, 5 timed runs at a time,
// the order rotating every turn, so every system is timed in the same minutes: a minute when this
// shared machine runs slow slows all of them, not the one whose phase it fell in. (Sluice is then
// timed compacted only.)
//
// Run: npm run bench:query-peers [-- --interleave] [-- --quick] [-- --runs 20] [-- --warmup 200] [-- --warmup-seconds 30] [-- --targets VictoriaMetrics,Sluice,InfluxDB]  (these targets, in this order)
//      [-- --hours 24] [-- --partitions 6] [-- --profile DIR]  (CPU profiles of Sluice's processes; bench/support/profile-summary.ts reads them)

import { parseArgs } from 'node:util'
import { Agent, request } from 'node:http'
import { generateTsbsCpu, tsbsCpuOneDay } from './support/tsbs-cpu.ts'
import { FIELD, HOUR_MS, ONE_HOST, peerQueries, START_MS, type PeerQuery } from './support/peer-queries.ts'
import { influxdbE2e, sluiceClusterE2e, victoriaMetricsE2e, type E2eTarget, type RunningE2eTarget } from './support/e2e-targets.ts'
import { cpuCanaryMs, cpuSecondsOfPids, cpuSecondsOfSelf, machineBusySeconds, sampleThread, type ThreadSample } from './support/cpu.ts'
import { cpuPressureMeter, describeMachine, median, profileChildProcesses } from './support/report.ts'

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    warmup: { type: 'string' },
    targets: { type: 'string' },
    hours: { type: 'string' },
    partitions: { type: 'string' },
    profile: { type: 'string' },
    interleave: { type: 'boolean', default: false },
    'warmup-seconds': { type: 'string' },
  },
})
const RUNS = Number(options.runs ?? (options.quick ? 7 : 20))
const WARMUP = Number(options.warmup ?? 2000)
/** A form's warm-up stops after this long even short of WARMUP runs (InfluxDB's query 1 takes 80 ms a run). */
const WARMUP_SECONDS = Number(options['warmup-seconds'] ?? 30)
const HOURS = Number(options.hours ?? (options.quick ? 3 : 24))
const PARTITIONS = Number(options.partitions ?? 6)
const CONNECTIONS = 4
/** With --interleave, the timed runs of one form in a row before the next form's turn. */
const BLOCK_RUNS = 5
const REQUEST_TIMEOUT_MS = 300_000
const LOAD_TIMEOUT_MS = 900_000
const END_MS = START_MS + HOURS * HOUR_MS
const START_NS = BigInt(START_MS) * 1_000_000n
const END_NS = BigInt(END_MS) * 1_000_000n
const workloadOptions = { ...tsbsCpuOneDay, durationSeconds: HOURS * 3600 }
const QUERIES = peerQueries(HOURS)

/** One query's answer, normalized: `host|bucket start ms` (or `host`) → value. */
type Answer = Map<string, number>

interface QueryForm {
  /** What is sent, for the log. */
  text: string
  /** The request, answered with its whole body: what is timed. */
  fetch(): Promise<string>
  /** The body normalized for comparison, after the clock (the client's own parsing is not the server's latency). */
  answer(body: string): Answer
}

type QueryDef = PeerQuery

// One keep-alive connection for every request of the run: the client side costs the same for all.
const agent = new Agent({ keepAlive: true, maxSockets: 1 })

function http(port: number, method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolveDone, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(body)
    const req = request({
      host: '127.0.0.1', port, path, method, agent, timeout: REQUEST_TIMEOUT_MS,
      headers: payload === undefined ? {} : { 'content-type': 'text/plain; charset=utf-8', 'content-length': payload.length },
    }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolveDone({ status: res.statusCode!, text: Buffer.concat(chunks).toString() }))
    })
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end(payload)
  })
}

async function ok(port: number, method: 'GET' | 'POST', path: string, body?: string): Promise<string> {
  const { status, text } = await http(port, method, path, body)
  if (status < 200 || status >= 300) throw new Error(`${method} ${path}${body === undefined ? '' : ` (${body.slice(0, 120)})`} on port ${port}: ${status} ${text.slice(0, 400)}`)
  return text
}

// --- the native forms and their answers, normalized --------------------------------------------

/** Key of a row: host alone (bucket undefined) or host and bucket start in ms. */
const key = (host: string, bucketMs?: number): string => (bucketMs === undefined ? host : `${host}|${bucketMs}`)

function sqlForm(port: number, database: string, def: QueryDef): QueryForm {
  const path = `/api/v1/sql?db=${encodeURIComponent(database)}`
  return {
    text: def.sql,
    fetch: () => ok(port, 'POST', path, def.sql),
    answer(body) {
      const rows = JSON.parse(body) as Array<Record<string, string | number | null>>
      const answer: Answer = new Map()
      for (const row of rows) {
        const [valueColumn] = Object.keys(row).filter(k => k !== 'hostname' && k !== 'hour' && k !== 'minute')
        const bucket = row.hour ?? row.minute
        const value = row[valueColumn!]
        if (value === null || value === undefined) continue
        answer.set(key(String(row.hostname ?? ONE_HOST), bucket === undefined || bucket === null ? undefined : Date.parse(String(bucket))), Number(value))
      }
      return answer
    },
  }
}

function influxqlForm(port: number, database: string, def: QueryDef): QueryForm {
  const path = `/query?db=${encodeURIComponent(database)}&epoch=ms&q=${encodeURIComponent(def.influxql)}`
  const bucketed = /GROUP BY time\(/.test(def.influxql)
  return {
    text: def.influxql,
    fetch: () => ok(port, 'GET', path),
    answer(body) {
      const parsed = JSON.parse(body) as { results: Array<{ error?: string; series?: Array<{ tags?: Record<string, string>; values: Array<[number, number | null]> }> }> }
      const result = parsed.results[0]
      if (result?.error !== undefined) throw new Error(`${def.influxql}: ${result.error}`)
      const answer: Answer = new Map()
      for (const series of result?.series ?? []) {
        for (const [time, value] of series.values) {
          if (value === null) continue // an empty window (fill(null))
          answer.set(key(series.tags?.hostname ?? ONE_HOST, bucketed ? time : undefined), value)
        }
      }
      return answer
    },
  }
}

function metricsqlForm(port: number, database: string, def: QueryDef): QueryForm {
  const { path, query, params } = def.metricsql
  const q = query.replace('$db', database)
  const search = new URLSearchParams({ query: q, ...params, nocache: '1' })
  const ranged = path.endsWith('query_range')
  // query_range evaluates at bucket end - 1 ms with a window of one step: the bucket starts one step earlier.
  const stepMs = ranged ? Number(params.step!.replace('s', '')) * 1000 : 0
  return {
    text: `${q} (${Object.entries(params).map(([k, v]) => `${k}=${v}`).join(', ')})`,
    fetch: () => ok(port, 'GET', `${path}?${search}`),
    answer(body) {
      const parsed = JSON.parse(body) as {
        data: { result: Array<{ metric: Record<string, string>; value?: [number, string]; values?: Array<[number, string]> }> }
      }
      const answer: Answer = new Map()
      for (const series of parsed.data.result) {
        const host = series.metric.hostname ?? ONE_HOST
        if (ranged) {
          for (const [seconds, value] of series.values ?? []) answer.set(key(host, Math.round(seconds * 1000) + 1 - stepMs), Number(value))
        } else {
          answer.set(key(host), Number(series.value![1]))
        }
      }
      return answer
    },
  }
}

/** Differences between two answers, at most `limit` described. */
function differences(expected: Answer, actual: Answer, tolerance: number, limit = 5): string[] {
  const found: string[] = []
  for (const [k, v] of expected) {
    const w = actual.get(k)
    if (w === undefined) found.push(`${k}: missing (expected ${v})`)
    else if (Math.abs(w - v) > tolerance * Math.max(1, Math.abs(v))) found.push(`${k}: ${w} (expected ${v})`)
    if (found.length >= limit) return found
  }
  for (const k of actual.keys()) {
    if (!expected.has(k)) found.push(`${k}: unexpected row (${actual.get(k)})`)
    if (found.length >= limit) return found
  }
  return found
}

// --- loading ---------------------------------------------------------------------------------

async function load(target: RunningE2eTarget, database: string, bodies: Buffer[], lines: number): Promise<{ ackSeconds: number; queryableSeconds: number }> {
  const port = target.ports[0]!
  const path = target.writePath(database)
  const writeAgent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  let next = 0
  const started = performance.now()
  const post = (body: Buffer): Promise<void> => new Promise((resolveDone, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, method: 'POST', agent: writeAgent, timeout: REQUEST_TIMEOUT_MS,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length },
    }, res => {
      let text = ''
      res.on('data', (chunk: Buffer) => { if (text.length < 500) text += chunk.toString() })
      res.on('end', () => (res.statusCode! >= 200 && res.statusCode! < 300 ? resolveDone() : reject(new Error(`${path}: ${res.statusCode} ${text}`))))
    })
    req.on('error', reject)
    req.end(body)
  })
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (next < bodies.length) await post(bodies[next++]!)
  }))
  const ackSeconds = (performance.now() - started) / 1000
  writeAgent.destroy()
  // Until a count over everything answers every line (Sluice: the replica applied all of them).
  for (;;) {
    const [answer] = await target.count(database, 'cpu', FIELD)
    if (answer !== undefined && 'count' in answer && answer.count === lines) break
    if (answer !== undefined && 'count' in answer && answer.count > lines) throw new Error(`counts ${answer.count} values, more than the ${lines} written`)
    if (performance.now() - started > LOAD_TIMEOUT_MS) throw new Error(`not queryable within ${LOAD_TIMEOUT_MS / 1000} s: ${JSON.stringify(answer)}`)
    await new Promise(resolveWait => setTimeout(resolveWait, 200))
  }
  return { ackSeconds, queryableSeconds: (performance.now() - started) / 1000 }
}

/**
 * Waits (at most a minute) until a target's processes used under 3% of a core over a second (an idle
 * node and its broker use under 2%): what a load or a compaction left running (a replica's flush, a
 * merge, a GC) is over before the clock starts. Returns the seconds waited.
 */
async function settle(pids: number[]): Promise<number> {
  const started = performance.now()
  const cpu = (): number => cpuSecondsOfPids(pids)
  for (;;) {
    const before = cpu()
    await new Promise(resolveWait => setTimeout(resolveWait, 1000))
    if (cpu() - before < 0.03 || performance.now() - started > 60_000) return (performance.now() - started) / 1000
  }
}

/** VictoriaMetrics: flush its in-memory parts, then merge the partition and wait until the (background) merge ends. */
async function settleVictoriaMetrics(port: number): Promise<void> {
  await ok(port, 'GET', '/internal/force_flush')
  await ok(port, 'GET', '/internal/force_merge?partition_prefix=2016_01')
  const deadline = Date.now() + 600_000
  await new Promise(resolveWait => setTimeout(resolveWait, 500))
  for (;;) {
    const metrics = await ok(port, 'GET', '/metrics')
    const active = /^vm_active_force_merges (\d+)/m.exec(metrics)
    if (active === null || active[1] === '0') return
    if (Date.now() > deadline) throw new Error('VictoriaMetrics force_merge still running after 600 s')
    await new Promise(resolveWait => setTimeout(resolveWait, 250))
  }
}

// --- timing ----------------------------------------------------------------------------------

interface Timing {
  medianMs: number
  p90Ms: number
  /** Sluice only: the mean time inside the node (its sluice_query_duration_seconds) per timed run. */
  serverMeanMs?: number
  /** Sluice only: per timed run, the node's main thread on a CPU and waiting for one (µs), and the node's minor page faults. */
  thread?: { cpuUs: number; waitUs: number; faults: number }
  answer: Answer
}

/** Cumulative query seconds and count a node reports for one language, from its /metrics. */
type ServerClock = () => Promise<{ seconds: number; count: number }>

function serverClock(port: number, language: 'sql' | 'influxql'): ServerClock {
  return async () => {
    const text = await ok(port, 'GET', '/metrics')
    const read = (suffix: string): number => {
      const match = new RegExp(`^sluice_query_duration_seconds_${suffix}\\{language="${language}"\\} (\\S+)`, 'm').exec(text)
      if (match === null) throw new Error(`/metrics has no sluice_query_duration_seconds_${suffix}{language="${language}"}`)
      return Number(match[1])
    }
    return { seconds: read('sum'), count: read('count') }
  }
}

/** Up to WARMUP runs of the form, stopping after WARMUP_SECONDS; its last answer. */
async function warmUp(form: QueryForm): Promise<string> {
  let body = ''
  const until = performance.now() + WARMUP_SECONDS * 1000
  for (let i = 0; i < WARMUP && performance.now() < until; i++) body = await form.fetch()
  return body
}

async function time(form: QueryForm, clock?: ServerClock, threadPid?: number): Promise<Timing> {
  let body = await warmUp(form)
  const before = await clock?.()
  const threadBefore: ThreadSample | undefined = threadPid === undefined ? undefined : sampleThread(threadPid)
  const ms: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now()
    body = await form.fetch()
    ms.push(performance.now() - started)
  }
  const threadAfter: ThreadSample | undefined = threadPid === undefined ? undefined : sampleThread(threadPid)
  const thread = threadBefore === undefined || threadAfter === undefined ? undefined
    : { cpuNs: threadAfter.cpuNs - threadBefore.cpuNs, waitNs: threadAfter.waitNs - threadBefore.waitNs, faults: threadAfter.minorFaults - threadBefore.minorFaults }
  return timingOf(ms, form.answer(body), before, await clock?.(), thread)
}

/** A form's Timing from its runs' milliseconds, the node's query clock around them and its main thread's totals over them. */
function timingOf(ms: number[], answer: Answer, before: { seconds: number; count: number } | undefined, after: { seconds: number; count: number } | undefined, thread: { cpuNs: number; waitNs: number; faults: number } | undefined): Timing {
  const sorted = [...ms].sort((a, b) => a - b)
  const timing: Timing = { medianMs: median(ms), p90Ms: sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)]!, answer }
  if (before !== undefined && after !== undefined && after.count > before.count) timing.serverMeanMs = 1000 * (after.seconds - before.seconds) / (after.count - before.count)
  if (thread !== undefined) timing.thread = { cpuUs: thread.cpuNs / 1000 / ms.length, waitUs: thread.waitNs / 1000 / ms.length, faults: thread.faults / ms.length }
  return timing
}

/** The `total` row of EXPLAIN: series, chunks and points scanned, blocks answered from statistics. */
async function explain(port: number, database: string, sql: string): Promise<string> {
  const rows = JSON.parse(await ok(port, 'POST', `/api/v1/sql?db=${encodeURIComponent(database)}`, `EXPLAIN ${sql}`)) as Array<{ plan_type: string; plan: string }>
  return rows.find(row => row.plan_type === 'total')?.plan ?? JSON.stringify(rows)
}

// --- the run ---------------------------------------------------------------------------------

/** One system's form of every query, as timed: Sluice's carry its clock and its node's pid. */
interface TimedForm { label: string; formOf: (def: QueryDef) => QueryForm; withExplain: boolean; clock?: ServerClock; threadPid?: number; port: number }

/**
 * --interleave: every target up and prepared at once, then per query the forms' timed runs in turns
 * of BLOCK_RUNS, the order rotating each turn; rows as the phase-by-phase run gives them.
 */
async function interleaved(rows: Row[], versions: string[], workload: ReturnType<typeof generateTsbsCpu>): Promise<void> {
  const database = 'bench_query'
  const running: RunningE2eTarget[] = []
  const forms: TimedForm[] = []
  try {
    for (const target of targets) {
      const reason = await target.unavailable()
      if (reason !== null) { console.log(`# ${target.name}: not run (${reason})`); continue }
      const up = await target.start()
      running.push(up)
      versions.push(`${target.name} ${up.version}`)
      const port = up.ports[0]!
      await up.createDatabase(database)
      const loaded = await load(up, database, workload.batches, workload.lines)
      console.log(`# ${target.name}: loaded, ack ${loaded.ackSeconds.toFixed(1)} s, queryable ${loaded.queryableSeconds.toFixed(1)} s`)
      if (target.name === 'InfluxDB') {
        forms.push({ label: 'InfluxDB', formOf: def => influxqlForm(port, database, def), withExplain: false, port })
      } else if (target.name === 'VictoriaMetrics') {
        await settleVictoriaMetrics(port)
        forms.push({ label: 'VictoriaMetrics', formOf: def => metricsqlForm(port, database, def), withExplain: false, port })
      } else {
        await ok(port, 'POST', '/api/v1/replicaset/compact')
        const node = up.pids()[0]! // Sluice's node is the first of its processes (the broker is the last)
        forms.push({ label: 'Sluice SQL, compacted', formOf: def => sqlForm(port, database, def), withExplain: true, clock: serverClock(port, 'sql'), threadPid: node, port })
        forms.push({ label: 'Sluice InfluxQL, compacted', formOf: def => influxqlForm(port, database, def), withExplain: false, clock: serverClock(port, 'influxql'), threadPid: node, port })
      }
    }
    const waited = await settle(running.flatMap(up => up.pids()))
    console.log(`# every target up and prepared; ${waited.toFixed(1)} s until their processes were idle; timed in turns of ${BLOCK_RUNS} runs`)
    const started = { at: performance.now(), machine: machineBusySeconds(), targets: cpuSecondsOfPids(running.flatMap(up => up.pids())), self: cpuSecondsOfSelf() }
    for (const [index, def] of QUERIES.entries()) {
      const built = forms.map(form => ({ form, query: form.formOf(def) }))
      for (const { query } of built) await warmUp(query)
      const samples = built.map(() => [] as number[])
      const bodies = built.map(() => '')
      const threads = built.map(() => ({ cpuNs: 0, waitNs: 0, faults: 0 }))
      const clocksBefore = await Promise.all(built.map(({ form }) => form.clock?.()))
      for (let turn = 0; turn * BLOCK_RUNS < RUNS; turn++) {
        for (let k = 0; k < built.length; k++) {
          const at = (k + turn + index) % built.length
          const { form, query } = built[at]!
          const before = form.threadPid === undefined ? undefined : sampleThread(form.threadPid)
          for (let i = 0; i < BLOCK_RUNS && turn * BLOCK_RUNS + i < RUNS; i++) {
            const sent = performance.now()
            bodies[at] = await query.fetch()
            samples[at]!.push(performance.now() - sent)
          }
          if (before !== undefined) {
            const after = sampleThread(form.threadPid!)
            threads[at]!.cpuNs += after.cpuNs - before.cpuNs
            threads[at]!.waitNs += after.waitNs - before.waitNs
            threads[at]!.faults += after.minorFaults - before.minorFaults
          }
        }
      }
      for (const [at, { form, query }] of built.entries()) {
        const timing = timingOf(samples[at]!, query.answer(bodies[at]!), clocksBefore[at], await form.clock?.(), form.threadPid === undefined ? undefined : threads[at])
        rows.push({ target: form.label, query: def.name, timing })
        const stats = form.withExplain ? `; EXPLAIN: ${await explain(form.port, database, def.sql)}` : ''
        const inNode = timing.thread === undefined ? '' : `, in the node ${timing.serverMeanMs?.toFixed(2) ?? '?'} ms (mean); per run the node's main thread ${timing.thread.cpuUs.toFixed(0)} µs on a CPU, ${timing.thread.waitUs.toFixed(0)} µs waiting for one`
        console.log(`# ${form.label}, ${def.name}: median ${timing.medianMs.toFixed(2)} ms, p90 ${timing.p90Ms.toFixed(2)} ms${inNode}, ${timing.answer.size} rows${stats}`)
      }
    }
    const seconds = (performance.now() - started.at) / 1000
    const targetSeconds = cpuSecondsOfPids(running.flatMap(up => up.pids())) - started.targets
    const self = cpuSecondsOfSelf() - started.self
    console.log(`# timed: ${seconds.toFixed(0)} s; CPU, in cores: the targets ${(targetSeconds / seconds).toFixed(2)}, this benchmark ${(self / seconds).toFixed(2)}, everything else ${((machineBusySeconds() - started.machine - targetSeconds - self) / seconds).toFixed(2)}`)
  } finally {
    for (const up of running) await up.stop()
  }
}

interface Row { target: string; query: string; timing?: Timing; mismatch?: string[]; error?: string }

const allTargets: E2eTarget[] = [
  influxdbE2e,
  victoriaMetricsE2e(START_NS, END_NS),
  sluiceClusterE2e('Sluice', 1, PARTITIONS),
]
// --targets names the targets and the order they run in (each one starts after the one before has stopped).
const wanted = options.targets?.split(',')
const unknown = wanted?.filter(name => !allTargets.some(t => t.name === name)) ?? []
if (unknown.length > 0) throw new Error(`--targets: no target named ${unknown.join(', ')} (there are ${allTargets.map(t => t.name).join(', ')})`)
const targets = wanted === undefined ? allTargets : wanted.map(name => allTargets.find(t => t.name === name)!)
const PEERS = ['InfluxDB', 'VictoriaMetrics']
const SLUICE_ROWS = ['Sluice SQL', 'Sluice InfluxQL', 'Sluice SQL, compacted', 'Sluice InfluxQL, compacted']

async function main(): Promise<void> {
  if (options.profile !== undefined) profileChildProcesses(options.profile)
  const workload = generateTsbsCpu(workloadOptions)
  console.log(`# Queries against InfluxDB and VictoriaMetrics: ${describeMachine()}`)
  console.log(`# ${workload.lines} lines, ${workload.values} values (${HOURS} h of 100 hosts at 10 s), ${(workload.bytes / 1e6).toFixed(0)} MB; ${WARMUP} warm-up runs (at most ${WARMUP_SECONDS} s) + ${RUNS} timed runs per query; Sluice 1 node, --partitions ${PARTITIONS}`)
  for (const def of QUERIES) console.log(`# ${def.name}:\n#   SQL: ${def.sql}\n#   InfluxQL: ${def.influxql}\n#   MetricsQL: ${def.metricsql.path} ${def.metricsql.query}`)

  cpuCanaryMs() // compiled before the first phase measures with it
  const pressure = cpuPressureMeter()
  pressure.start()
  const rows: Row[] = []
  const versions: string[] = []
  if (options.interleave) await interleaved(rows, versions, workload)
  else for (const target of targets) {
    const reason = await target.unavailable()
    if (reason !== null) { console.log(`# ${target.name}: not run (${reason})`); continue }
    const running = await target.start()
    versions.push(`${target.name} ${running.version}`)
    const port = running.ports[0]!
    const database = 'bench_query'
    try {
      await running.createDatabase(database)
      const loaded = await load(running, database, workload.batches, workload.lines)
      console.log(`# ${target.name}: loaded, ack ${loaded.ackSeconds.toFixed(1)} s, queryable ${loaded.queryableSeconds.toFixed(1)} s`)
      // Each query in every form given, the forms' order alternating query by query: the one that
      // goes first does not always meet the node's leftovers (a GC, the end of a compaction).
      const measure = async (forms: Array<{ label: string; formOf: (def: QueryDef) => QueryForm; withExplain: boolean; clock?: ServerClock }>): Promise<void> => {
        const waited = await settle(running.pids())
        console.log(`# ${target.name}: ${waited.toFixed(1)} s until its processes were idle`)
        // What else used the machine while this target answered: every other process and the kernel.
        const targetCpu = (): number => cpuSecondsOfPids(running.pids())
        const canaryBefore = cpuCanaryMs()
        const phaseStarted = { at: performance.now(), machine: machineBusySeconds(), target: targetCpu(), self: cpuSecondsOfSelf() }
        for (const [index, def] of QUERIES.entries()) {
          for (const { label, formOf, withExplain, clock } of index % 2 === 0 ? forms : [...forms].reverse()) {
            const form = formOf(def)
            try {
              // Sluice's node is the first of its processes (the broker is the last).
              const timing = await time(form, clock, clock === undefined ? undefined : running.pids()[0])
              rows.push({ target: label, query: def.name, timing })
              const stats = withExplain ? `; EXPLAIN: ${await explain(port, database, def.sql)}` : ''
              const inNode = timing.serverMeanMs === undefined ? '' : `, in the node ${timing.serverMeanMs.toFixed(2)} ms (mean)`
                + (timing.thread === undefined ? '' : `; per run the node's main thread ${timing.thread.cpuUs.toFixed(0)} µs on a CPU, ${timing.thread.waitUs.toFixed(0)} µs waiting for one, ${timing.thread.faults.toFixed(1)} minor faults`)
              console.log(`# ${label}, ${def.name}: median ${timing.medianMs.toFixed(1)} ms, p90 ${timing.p90Ms.toFixed(1)} ms${inNode}, ${timing.answer.size} rows${stats}`)
            } catch (error) {
              rows.push({ target: label, query: def.name, error: (error as Error).message.split('\n')[0] })
              console.log(`# ${label}, ${def.name}: FAILED: ${(error as Error).message.split('\n')[0]}`)
            }
          }
        }
        const seconds = (performance.now() - phaseStarted.at) / 1000
        const targetSeconds = targetCpu() - phaseStarted.target
        const self = cpuSecondsOfSelf() - phaseStarted.self
        const other = machineBusySeconds() - phaseStarted.machine - targetSeconds - self
        console.log(`# ${forms.map(f => f.label).join(' and ')}: ${seconds.toFixed(0)} s; CPU, in cores: the target ${(targetSeconds / seconds).toFixed(2)}, this benchmark ${(self / seconds).toFixed(2)}, everything else ${(other / seconds).toFixed(2)}; ` +
          `the machine's speed, a fixed loop in this process: ${canaryBefore.toFixed(0)} ms before, ${cpuCanaryMs().toFixed(0)} ms after`)
      }
      if (target.name === 'InfluxDB') {
        await measure([{ label: 'InfluxDB', formOf: def => influxqlForm(port, database, def), withExplain: false }])
      } else if (target.name === 'VictoriaMetrics') {
        const started = performance.now()
        await settleVictoriaMetrics(port)
        console.log(`# VictoriaMetrics: force_flush + force_merge ${((performance.now() - started) / 1000).toFixed(1)} s`)
        await measure([{ label: 'VictoriaMetrics', formOf: def => metricsqlForm(port, database, def), withExplain: false }])
      } else {
        const sqlClock = serverClock(port, 'sql')
        const influxqlClock = serverClock(port, 'influxql')
        const languages = (suffix: string) => [
          { label: `Sluice SQL${suffix}`, formOf: (def: QueryDef) => sqlForm(port, database, def), withExplain: true, clock: sqlClock },
          { label: `Sluice InfluxQL${suffix}`, formOf: (def: QueryDef) => influxqlForm(port, database, def), withExplain: false, clock: influxqlClock },
        ]
        await measure(languages(''))
        const started = performance.now()
        const compacted = JSON.parse(await ok(port, 'POST', '/api/v1/replicaset/compact')) as { partitions: Array<{ before: { segments: number }; after: { segments: number } }> }
        const segments = (side: 'before' | 'after'): number => compacted.partitions.reduce((sum, p) => sum + p[side].segments, 0)
        console.log(`# Sluice: compacted in ${((performance.now() - started) / 1000).toFixed(1)} s, segments ${segments('before')} → ${segments('after')}`)
        await measure(languages(', compacted'))
      }
    } finally {
      await running.stop()
    }
  }
  agent.destroy()

  // The same numbers from every system: each row's answer against the first answer of that query.
  let mismatches = 0
  for (const def of QUERIES) {
    if (!def.compare) continue
    const answered = rows.filter(row => row.query === def.name && row.timing !== undefined)
    const reference = answered[0]
    if (reference === undefined) continue
    for (const row of answered.slice(1)) {
      const found = differences(reference.timing!.answer, row.timing!.answer, def.tolerance)
      if (found.length > 0) {
        row.mismatch = found
        mismatches++
        console.log(`\n!!! MISMATCH: ${def.name}: ${row.target} (${row.timing!.answer.size} rows) differs from ${reference.target} (${reference.timing!.answer.size} rows):\n!!!   ${found.join('\n!!!   ')}`)
      }
    }
  }
  if (mismatches === 0) console.log('\n# Every system answered every query with the same numbers.')

  console.log(`\nVersions: ${versions.join('; ')}`)
  // Sub-millisecond medians get two decimals: the ratios of queries 3 and 4 are made of them.
  const ms = (value: number): string => value.toFixed(value < 10 ? 2 : 1)
  const cell = (row: Row | undefined): string => {
    if (row === undefined) return 'not run'
    if (row.timing === undefined) return `failed`
    return `${ms(row.timing.medianMs)} / ${ms(row.timing.p90Ms)}${row.mismatch ? ' **MISMATCH**' : ''}`
  }
  const present = [...PEERS, ...SLUICE_ROWS].filter(name => rows.some(row => row.target === name))
  console.log(`\nMedian / p90 latency in ms over HTTP, ${RUNS} runs each after ${WARMUP} warm-up runs (at most ${WARMUP_SECONDS} s of them); ratio = Sluice median / faster peer's median (below 1: Sluice faster)`)
  console.log(`| query | rows | ${present.join(' | ')} | ${SLUICE_ROWS.filter(n => present.includes(n)).map(n => `${n.replace('Sluice ', '')} / faster peer`).join(' | ')} |`)
  console.log(`|---|---:|${present.map(() => '---:').join('|')}|${SLUICE_ROWS.filter(n => present.includes(n)).map(() => '---:').join('|')}|`)
  for (const def of QUERIES) {
    const of = (name: string): Row | undefined => rows.find(row => row.target === name && row.query === def.name)
    const peerMedians = PEERS.map(p => of(p)?.timing?.medianMs).filter((ms): ms is number => ms !== undefined)
    const best = peerMedians.length === 0 ? undefined : Math.min(...peerMedians)
    const size = rows.find(row => row.query === def.name && row.timing !== undefined)?.timing!.answer.size ?? 0
    const ratios = SLUICE_ROWS.filter(n => present.includes(n)).map(n => {
      const ms = of(n)?.timing?.medianMs
      return ms === undefined || best === undefined ? 'n/a' : `**${(ms / best).toFixed(2)}**`
    })
    console.log(`| ${def.name} | ${size} | ${present.map(name => cell(of(name))).join(' | ')} | ${ratios.join(' | ')} |`)
  }
  const sluicePresent = SLUICE_ROWS.filter(n => present.includes(n))
  if (sluicePresent.length > 0) {
    console.log(`\nSluice: median over HTTP / mean inside the node (sluice_query_duration_seconds: parse, plan, execution), ms / the node main thread's µs on a CPU / µs waiting for a CPU, per run`)
    console.log(`| query | ${sluicePresent.join(' | ')} |`)
    console.log(`|---|${sluicePresent.map(() => '---:').join('|')}|`)
    for (const def of QUERIES) {
      const of = (name: string): Row | undefined => rows.find(row => row.target === name && row.query === def.name)
      console.log(`| ${def.name} | ${sluicePresent.map(name => {
        const timing = of(name)?.timing
        return timing === undefined ? '–' : `${ms(timing.medianMs)} / ${timing.serverMeanMs?.toFixed(2) ?? '?'} / ${timing.thread?.cpuUs.toFixed(0) ?? '?'} / ${timing.thread?.waitUs.toFixed(0) ?? '?'}`
      }).join(' | ')} |`)
    }
  }
  console.log(`\nCPU pressure over the run (share of time some task waited for a core; the load itself counts): ${pressure.percent()}`)
  if (mismatches > 0) {
    console.log(`\n!!! ${mismatches} answer(s) differ between systems: see MISMATCH above`)
    process.exitCode = 1
  }
}

await main()
