// End to end: the TSBS-like cpu day (bench/support/tsbs-cpu.ts, 864,000 lines, 8.64 M values)
// written over HTTP (4 keep-alive connections by default, one request in flight each, 5,000-line
// bodies prepared before the clock starts) until every value is queryable on every server of the target:
//
// - InfluxDB 1.6 and VictoriaMetrics (same-run references): the clock stops when the last write is
//   answered (ack) and, separately, when a count query returns every value (queryable);
// - Sluice with 1 node and with 3 nodes (writes round-robin over the nodes), `--partitions 6`, on
//   the embedded broker: HTTP → sluice.ingest → masters → sluice.changelog → every node's replica.
//   The clock stops when EVERY node answers `SELECT count(usage_user) FROM cpu` with the number of
//   lines written (a 503 SLUICE_ERR_REPLICA_CATCHING_UP counts as not yet).
// - Sluice 1 node (master thread) and Sluice 1 node (ingest uncompressed), run only when named in
//   --targets: the same node with `--master-thread` (its master in a worker thread of its own) or
//   with `--compression none` (sluice.ingest's record batches not LZ4-compressed).
//
// Reports values/s at ack and at applied-everywhere, CPU seconds of each target's processes (and of
// Sluice's nodes' main threads, /proc/<pid>/schedstat: the thread a node's throughput waits on), peak
// RSS of Sluice's node processes, and Sluice 1 node / faster peer, Sluice 3 nodes / Sluice 1 node.
// Targets run one at a time, fresh temp directories each round, alternating order; medians.
//
// --connections 4,8,16: every target is measured at each number of client connections (a fresh start
// each), and the report adds a table per number and each target at the number where it applied the
// most values/s: the rate of a server is what it sustains with enough writers, and four keep a
// server that answers each write after a Kafka transaction waiting where one that answers from
// memory does not.
//
// --warmup-hours H: before the clock starts, every target of the round takes the first H hours of
// the same workload into a database of its own, until a count answers all of it (not timed). A
// server runs for days: this measures it past its start, when Node's JIT has compiled the hot
// paths (a fresh Sluice node spends CPU seconds compiling during its first day, which the Go peers
// never do). Without it (the default) every target is measured from a fresh start.
//
// Run: npm run bench:e2e [-- --quick] [-- --rounds 3] [-- --targets InfluxDB,'Sluice 1 node'] [-- --max-seconds 600] [-- --warmup-hours 2]
//      [-- --connections 4,8,16]  (client connections, one request in flight each; default 4)
//      [-- --max-message-bytes 67108864]  (the broker's maxMessageBytes; see MAX_MESSAGE_BYTES)
//      [-- --profile DIR]  (CPU profiles of Sluice's processes' main threads; bench/support/profile-summary.ts reads them)
//      [-- --allocation-profile DIR]  (allocation sites of Sluice's processes by bytes; bench/support/allocation-summary.ts reads them)
//      [-- --compare DIR]  (adds "Sluice 1 node (compare)": the checkout in DIR, e.g. a git worktree of an earlier
//                           commit with node_modules linked, for a before/after in the same run; name it in --targets;
//                           the ratios are also given round by round, node CPU-s and node main thread CPU-s)
//      [-- --compare-v8-flags="<flags>"]  (the compare target's nodes run with --v8-flags=<flags>, in place of
//                           SLUICE_V8_FLAGS and the default; with --compare . a V8 flag against this checkout's
//                           default in the same run; the = is needed, as the flags begin with --)
//      [-- --compare-node-args="<args>"]  (the compare target's nodes get these `sluice node` options too, split at
//                           spaces; e.g. with --compare . and "--producers 2", two write-path producers against the default)
//      [-- --compare-env NAME=value]  (repeatable: an environment variable of the compare target's broker and nodes,
//                           over the one lib/process gives them; e.g. with --compare . and
//                           GLIBC_TUNABLES=glibc.malloc.hugetlb=0, malloc without huge pages against the default)
//      [-- --node-stdout DIR]  (each Sluice node's stdout, from the moment it listens, to DIR/<node id>.out, the
//                           compare checkout's too: with SLUICE_V8_FLAGS="--trace-opt --trace-deopt
//                           --trace-file-names" in the environment, what V8 optimized and deoptimized)

import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Agent, request } from 'node:http'
import { generateTsbsCpu, tsbsCpuOneDay, TSBS_FIELDS } from './support/tsbs-cpu.ts'
import { influxdbE2e, peakRssOfPid, sluiceClusterE2e, victoriaMetricsE2e, type CountAnswer, type E2eTarget, type RunningE2eTarget } from './support/e2e-targets.ts'
import { cpuSecondsOfPids, cpuSecondsOfSelf, sampleThread } from './support/cpu.ts'
import { cpuPressureMeter, describeMachine, median, profileChildAllocations, profileChildProcesses } from './support/report.ts'
import { parseExposition, sampleValue } from '../lib/telemetry/exposition.ts'
import { compareTargetOptions } from './support/compare-options.ts'

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    targets: { type: 'string' },
    'max-seconds': { type: 'string' },
    'poll-ms': { type: 'string' },
    'max-message-bytes': { type: 'string' },
    profile: { type: 'string' },
    'allocation-profile': { type: 'string' },
    compare: { type: 'string' },
    'warmup-hours': { type: 'string' },
    'compare-v8-flags': { type: 'string' },
    'compare-env': { type: 'string', multiple: true },
    'compare-node-args': { type: 'string' },
    'node-stdout': { type: 'string' },
    connections: { type: 'string' },
  },
})
const ROUNDS = Number(options.rounds ?? 1)
/** After this long from the first write a run gives up waiting and reports how far each server got. */
const MAX_SECONDS_PER_RUN = Number(options['max-seconds'] ?? (options.quick ? 180 : 900))
/** A run whose servers' counts all stay the same this long (after the last ack) is reported stalled and ended. */
const STALL_SECONDS = 60
/** Pause between two rounds of count queries. */
const POLL_MS = Number(options['poll-ms'] ?? 200)
/** Client connection counts to measure every target at, in the order given. */
const CONNECTION_LEVELS = (options.connections ?? '4').split(',').map(text => {
  const n = Number(text)
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new Error(`--connections ${options.connections}: each must be an integer from 1 to 256, "${text}" is not`)
  return n
})
if (new Set(CONNECTION_LEVELS).size !== CONNECTION_LEVELS.length) throw new Error(`--connections ${options.connections}: a number is given twice`)
const PARTITIONS = 6
const REQUEST_TIMEOUT_MS = 300_000
const MEASUREMENT = 'cpu'
const COUNTED_FIELD = TSBS_FIELDS[0] // usage_user: every line carries all ten fields

const START_NS = 1_451_606_400_000_000_000n // tsbs-cpu.ts: 2016-01-01T00:00:00Z
const workloadOptions = options.quick ? { ...tsbsCpuOneDay, durationSeconds: 8_640 } : tsbsCpuOneDay
const WARMUP_HOURS = Number(options['warmup-hours'] ?? 0)
if (!(WARMUP_HOURS >= 0 && WARMUP_HOURS * 3600 <= workloadOptions.durationSeconds)) throw new Error(`--warmup-hours ${options['warmup-hours']}: from 0 to ${workloadOptions.durationSeconds / 3600}`)
const END_NS = START_NS + BigInt(workloadOptions.durationSeconds) * 1_000_000_000n

/**
 * The broker's maxMessageBytes (default: its own, 1,048,588). The masters send each transaction's
 * changelog entries uncompressed in one batch per partition, which can outgrow that under load.
 */
const MAX_MESSAGE_BYTES = options['max-message-bytes']
const brokerArgs = MAX_MESSAGE_BYTES === undefined ? [] : ['--config', `maxMessageBytes=${Number(MAX_MESSAGE_BYTES)}`]
/** Every Sluice node's stdout, where V8's --trace-* flags (SLUICE_V8_FLAGS, --compare-v8-flags) print, goes to <dir>/<node id>.out. */
const stdoutDir = options['node-stdout'] === undefined ? undefined : resolve(options['node-stdout'])
if (stdoutDir !== undefined) mkdirSync(stdoutDir, { recursive: true })
const { nodeArgs: compareNodeArgs, env: compareEnv } = compareTargetOptions(options)

const allTargets: E2eTarget[] = [
  influxdbE2e,
  victoriaMetricsE2e(START_NS, END_NS),
  sluiceClusterE2e('Sluice 1 node', 1, PARTITIONS, { brokerArgs, stdoutDir }),
  // The same node with its master in a worker thread of its own (--master-thread): a same-run comparison.
  sluiceClusterE2e('Sluice 1 node (master thread)', 1, PARTITIONS, { brokerArgs, stdoutDir, nodeArgs: ['--master-thread'] }),
  // The same node writing sluice.ingest's record batches uncompressed (--compression none): what LZ4 costs the write path and the master.
  sluiceClusterE2e('Sluice 1 node (ingest uncompressed)', 1, PARTITIONS, { brokerArgs, stdoutDir, nodeArgs: ['--compression', 'none'] }),
  sluiceClusterE2e('Sluice 3 nodes', 3, PARTITIONS, { brokerArgs, stdoutDir }),
  ...(options.compare === undefined ? [] : [sluiceClusterE2e('Sluice 1 node (compare)', 1, PARTITIONS, { brokerArgs, stdoutDir, root: resolve(options.compare), nodeArgs: compareNodeArgs, env: compareEnv })]),
]
const wanted = options.targets?.split(',')
const OPT_IN_TARGETS = ['Sluice 1 node (master thread)', 'Sluice 1 node (ingest uncompressed)', 'Sluice 1 node (compare)']
const targets = wanted === undefined ? allTargets.filter(t => !OPT_IN_TARGETS.includes(t.name)) : allTargets.filter(t => wanted.includes(t.name))
const PEERS = ['InfluxDB', 'VictoriaMetrics']

interface Run {
  lines: number
  values: number
  ackSeconds: number
  /** When every server of the target answered the full count; null if not within MAX_SECONDS_PER_RUN. */
  appliedSeconds: number | null
  /** Each server's count when the run ended (all equal to lines when applied). */
  counts: Array<number | string>
  /** True when the counts stopped moving for STALL_SECONDS short of every line. */
  stalled: boolean
  /** CPU seconds of the target's processes from the first write to applied (or giving up). */
  targetCpuSeconds: number
  /** The part of targetCpuSeconds used by Sluice's broker (0 for the peers). */
  brokerCpuSeconds: number
  /** On-CPU seconds of Sluice's nodes' main threads (0 for the peers): the thread a node's throughput waits on. */
  nodeMainThreadCpuSeconds: number
  clientCores: number
  /** Largest peak RSS of the target's node processes, bytes (0 for the peers). */
  peakRssBytes: number
  /** How long the last count query round took, ms: the resolution of appliedSeconds. */
  lastCountMs: number
  /** The lowest server's count at the first count query after the last ack: how much of the day was applied when the writes ended. */
  appliedAtAck: number
  /** Sluice only: its nodes' counters over the run, from /metrics. */
  counters?: NodeCounters
}

/** Counters of Sluice's nodes that say how the day went through them, summed over the nodes. */
interface NodeCounters {
  /** Write-path transactions (each request's records go into one) and their seconds, begin to commit. */
  httpTransactions: number
  httpTransactionSeconds: number
  /** The masters' consume-transform-produce transactions and their seconds. */
  masterTransactions: number
  masterTransactionSeconds: number
  /** Changelog entries the replicas applied, and those of them taken from the local feed. */
  appliedEntries: number
  feedEntries: number
  /** Write requests' seconds at a parse worker (queue included) and waiting for a producer (sluice_http_write_stage_seconds). */
  parses: number
  parseSeconds: number
  producerWaits: number
  producerWaitSeconds: number
}

/** Where each counter is in a node's /metrics: a sample name and the labels it must carry (summed over the rest). */
const COUNTER_SAMPLES: Record<keyof NodeCounters, [string, Record<string, string>]> = {
  httpTransactions: ['sluice_kafka_transaction_duration_seconds_count', { role: 'http' }],
  httpTransactionSeconds: ['sluice_kafka_transaction_duration_seconds_sum', { role: 'http' }],
  masterTransactions: ['sluice_kafka_transaction_duration_seconds_count', { role: 'master' }],
  masterTransactionSeconds: ['sluice_kafka_transaction_duration_seconds_sum', { role: 'master' }],
  appliedEntries: ['sluice_replica_applied_entries_total', {}],
  feedEntries: ['sluice_replica_feed_entries_total', {}],
  parses: ['sluice_http_write_stage_seconds_count', { stage: 'parse' }],
  parseSeconds: ['sluice_http_write_stage_seconds_sum', { stage: 'parse' }],
  producerWaits: ['sluice_http_write_stage_seconds_count', { stage: 'kafka_queue' }],
  producerWaitSeconds: ['sluice_http_write_stage_seconds_sum', { stage: 'kafka_queue' }],
}

/** NodeCounters read from each node's /metrics (Prometheus text), summed over the nodes. */
async function nodeCounters(ports: readonly number[]): Promise<NodeCounters> {
  const total = Object.fromEntries(Object.keys(COUNTER_SAMPLES).map(key => [key, 0])) as unknown as NodeCounters
  for (const port of ports) {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`)
    if (!response.ok) throw new Error(`/metrics on port ${port}: ${response.status}`)
    const parsed = parseExposition(await response.text())
    for (const [key, [name, labels]] of Object.entries(COUNTER_SAMPLES) as Array<[keyof NodeCounters, [string, Record<string, string>]]>) total[key] += sampleValue(parsed, name, labels) ?? 0
  }
  return total
}

function countersSince(after: NodeCounters, before: NodeCounters): NodeCounters {
  const since = { ...after }
  for (const key of Object.keys(since) as Array<keyof NodeCounters>) since[key] -= before[key]
  return since
}

const meanMs = (seconds: number, count: number): string => (count === 0 ? '–' : (1000 * seconds / count).toFixed(0))

const describeCounters = (c: NodeCounters): string =>
  `; a write request's mean wait: parse worker ${meanMs(c.parseSeconds, c.parses)} ms, a producer ${meanMs(c.producerWaitSeconds, c.producerWaits)} ms` +
  `; transactions: write path ${c.httpTransactions} (mean ${meanMs(c.httpTransactionSeconds, c.httpTransactions)} ms), ` +
  `masters ${c.masterTransactions} (mean ${meanMs(c.masterTransactionSeconds, c.masterTransactions)} ms); ` +
  `changelog entries applied ${c.appliedEntries}, from the local feed ${c.feedEntries}`

function post(agent: Agent, port: number, path: string, body: Buffer): Promise<void> {
  return new Promise((resolveDone, reject) => {
    const req = request({
      host: '127.0.0.1', port, path, method: 'POST', agent, timeout: REQUEST_TIMEOUT_MS,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length },
    }, res => {
      let text = ''
      res.on('data', (chunk: Buffer) => { if (text.length < 500) text += chunk.toString() })
      res.on('end', () => (res.statusCode! >= 200 && res.statusCode! < 300 ? resolveDone() : reject(new Error(`${path} on port ${port}: ${res.statusCode} ${text}`))))
    })
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}

const settledCount = (answer: CountAnswer): number | string => ('count' in answer ? answer.count : answer.notYet)

async function run(target: RunningE2eTarget, database: string, bodies: Buffer[], lines: number, connections: number): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections })
  const path = target.writePath(database)
  const pids = target.pids()
  // Read before the CPU clocks start: a /metrics answer costs the node a little.
  const countersBefore = target.brokerPids().length > 0 ? await nodeCounters(target.ports) : undefined
  const cpuOfTarget = (): number => cpuSecondsOfPids(pids)
  const cpuOfBroker = (): number => cpuSecondsOfPids(target.brokerPids())
  const targetCpuBefore = cpuOfTarget()
  const brokerCpuBefore = cpuOfBroker()
  // Sluice's node processes (rssPids; none for the peers): their main threads' on-CPU time.
  const mainThreadCpu = (): number => target.rssPids().reduce((sum, pid) => sum + sampleThread(pid).cpuNs / 1e9, 0)
  const mainThreadCpuBefore = mainThreadCpu()
  const clientCpuBefore = cpuSecondsOfSelf()
  let next = 0
  const started = performance.now()
  // Request k goes to server k mod n: round-robin over a cluster's nodes.
  const connection = async (): Promise<void> => {
    while (next < bodies.length) {
      const index = next++
      await post(agent, target.ports[index % target.ports.length]!, path, bodies[index]!)
    }
  }
  await Promise.all(Array.from({ length: connections }, connection))
  const ackSeconds = (performance.now() - started) / 1000
  agent.destroy()

  const deadline = started + MAX_SECONDS_PER_RUN * 1000
  let appliedSeconds: number | null = null
  let counts: Array<number | string> = []
  let lastCountMs = 0
  let appliedAtAck: number | undefined
  let stalled = false
  let movedAt = performance.now()
  for (;;) {
    const asked = performance.now()
    const answers = await target.count(database, MEASUREMENT, COUNTED_FIELD)
    const answered = performance.now()
    lastCountMs = answered - asked
    const previous = counts
    counts = answers.map(settledCount)
    appliedAtAck ??= Math.min(...counts.map(count => (typeof count === 'number' ? count : 0)))
    if (counts.some((count, i) => count !== previous[i])) movedAt = answered
    if (counts.some(count => typeof count === 'number' && count > lines)) throw new Error(`a server counts more values than written: ${counts.join(', ')} > ${lines}`)
    if (counts.every(count => count === lines)) { appliedSeconds = (answered - started) / 1000; break }
    if (answered > deadline) break
    if (answered - movedAt > STALL_SECONDS * 1000) { stalled = true; break }
    await new Promise(resolveWait => setTimeout(resolveWait, POLL_MS))
  }
  const elapsed = appliedSeconds ?? (performance.now() - started) / 1000
  return {
    lines, values: lines * TSBS_FIELDS.length, ackSeconds, appliedSeconds, counts, stalled,
    targetCpuSeconds: cpuOfTarget() - targetCpuBefore,
    brokerCpuSeconds: cpuOfBroker() - brokerCpuBefore,
    nodeMainThreadCpuSeconds: mainThreadCpu() - mainThreadCpuBefore,
    clientCores: (cpuSecondsOfSelf() - clientCpuBefore) / elapsed,
    peakRssBytes: Math.max(0, ...target.rssPids().map(peakRssOfPid)),
    lastCountMs,
    appliedAtAck: appliedAtAck ?? 0,
    ...(countersBefore === undefined ? {} : { counters: countersSince(await nodeCounters(target.ports), countersBefore) }),
  }
}

const mega = (perSecond: number): string => `${(perSecond / 1e6).toFixed(3)} M`

async function main(): Promise<void> {
  // Sluice's nodes and broker write CPU profiles of their main threads on exit (node-<pid>.cpuprofile, broker-<pid>.cpuprofile).
  if (options.profile !== undefined) profileChildProcesses(options.profile)
  if (options['allocation-profile'] !== undefined) profileChildAllocations(options['allocation-profile'])
  const workload = generateTsbsCpu(workloadOptions)
  const linesPerBody = workload.batches.map(body => body.toString('latin1').split('\n').length - 1)
  const lines = linesPerBody.reduce((sum, n) => sum + n, 0)
  const warmup = WARMUP_HOURS === 0 ? undefined : generateTsbsCpu({ ...workloadOptions, durationSeconds: WARMUP_HOURS * 3600 })
  console.log(`# End to end, HTTP to applied everywhere: ${describeMachine()}`)
  console.log(`# ${lines} lines, ${lines * TSBS_FIELDS.length} values, ${workload.batches.length} bodies of ${workloadOptions.linesPerBatch} lines (${(workload.bytes / 1e6).toFixed(0)} MB), ${CONNECTION_LEVELS.join(', ')} connections; ${ROUNDS} round(s); Sluice --partitions ${PARTITIONS}; broker maxMessageBytes ${MAX_MESSAGE_BYTES ?? 'default'}; count polled every ${POLL_MS} ms, at most ${MAX_SECONDS_PER_RUN} s per run`)
  console.log(warmup === undefined
    ? '# every target measured from a fresh start (no --warmup-hours)'
    : `# warm-up before the clock: ${warmup.lines} lines (${WARMUP_HOURS} h of the workload) into a database of their own, applied everywhere, on every target`)

  const usable: E2eTarget[] = []
  for (const target of targets) {
    const reason = await target.unavailable()
    if (reason === null) usable.push(target)
    else console.log(`# ${target.name}: not run (${reason})`)
  }
  const pressure = cpuPressureMeter()
  pressure.start()
  // Per connection count, per target: its runs.
  const results = new Map(CONNECTION_LEVELS.map(connections => [connections, new Map<string, Run[]>(usable.map(t => [t.name, []]))]))
  const versions = new Map<string, string>()
  const atLevel = (connections: number): string => (CONNECTION_LEVELS.length > 1 ? `, ${connections} connections` : '')
  for (let round = 0; round < ROUNDS; round++) {
    for (const connections of CONNECTION_LEVELS) for (const target of round % 2 === 0 ? usable : [...usable].reverse()) {
      let running: RunningE2eTarget
      try {
        running = await target.start() // fresh data directories every round
      } catch (error) {
        const lines_ = String((error as Error).message).split('\n').filter(line => line.trim() !== '')
        console.log(`# round ${round + 1}, ${target.name}${atLevel(connections)}: did not start: ${lines_[0]}${lines_.length > 1 ? ` … ${lines_.at(-1)}` : ''}`)
        continue
      }
      versions.set(target.name, running.version)
      try {
        const database = `bench_e2e_r${round}`
        if (warmup !== undefined) {
          await running.createDatabase(`${database}_warmup`)
          const warm = await run(running, `${database}_warmup`, warmup.batches, warmup.lines, connections)
          if (warm.appliedSeconds === null) throw new Error(`the warm-up was not applied everywhere (counts ${warm.counts.join(', ')} of ${warmup.lines})`)
          console.log(`# round ${round + 1}, ${target.name}${atLevel(connections)}: warm-up of ${warmup.lines} lines applied everywhere in ${warm.appliedSeconds.toFixed(1)} s, target CPU ${warm.targetCpuSeconds.toFixed(1)} s`)
        }
        await running.createDatabase(database)
        const result = await run(running, database, workload.batches, lines, connections)
        results.get(connections)!.get(target.name)!.push(result)
        const applied = result.appliedSeconds === null
          ? result.stalled
            ? `STALLED: no server's count moved for ${STALL_SECONDS} s (counts ${result.counts.join(', ')} of ${lines})`
            : `NOT applied within ${MAX_SECONDS_PER_RUN} s (counts ${result.counts.join(', ')} of ${lines})`
          : `applied everywhere ${result.appliedSeconds.toFixed(1)} s = ${mega(result.values / result.appliedSeconds)} values/s`
        console.log(`# round ${round + 1}, ${target.name}${atLevel(connections)}: ack ${result.ackSeconds.toFixed(1)} s = ${mega(result.values / result.ackSeconds)} values/s; ${applied}; ` +
          `target CPU ${result.targetCpuSeconds.toFixed(1)} s${result.brokerCpuSeconds > 0 ? ` (broker ${result.brokerCpuSeconds.toFixed(1)} s)` : ''}` +
          `${result.nodeMainThreadCpuSeconds > 0 ? `, node main thread ${result.nodeMainThreadCpuSeconds.toFixed(1)} s` : ''}, client ${result.clientCores.toFixed(2)} cores` +
          `${result.peakRssBytes > 0 ? `, node peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MiB` : ''}; last count query ${result.lastCountMs.toFixed(0)} ms` +
          `, ${(100 * result.appliedAtAck / lines).toFixed(0)}% applied at the last ack` +
          `${result.counters === undefined ? '' : describeCounters(result.counters)}`)
        if (result.appliedSeconds === null && running.logTail) console.log(`# the last log lines:\n${running.logTail(20)}`)
      } catch (error) {
        console.log(`# round ${round + 1}, ${target.name}${atLevel(connections)}: failed: ${(error as Error).message.split('\n')[0]}`)
      } finally {
        await running.stop()
      }
    }
  }
  for (const connections of CONNECTION_LEVELS) report(results.get(connections)!, versions, connections)
  if (CONNECTION_LEVELS.length > 1) reportBest(results)
  console.log(`\nCPU pressure over the run (share of time some task waited for a core; the load itself counts): ${pressure.percent()}`)
}

interface Rates { ack?: number; applied?: number; cpu?: number; brokerCpu?: number; rss?: number; appliedRuns: number; runs: number }

/** Medians over a target's runs: values/s at ack and applied everywhere, CPU-s, peak RSS. */
function ratesOf(runs: readonly Run[]): Rates {
  const applied = runs.filter(r => r.appliedSeconds !== null)
  return {
    runs: runs.length,
    appliedRuns: applied.length,
    ack: runs.length === 0 ? undefined : median(runs.map(r => r.values / r.ackSeconds)),
    applied: applied.length === 0 ? undefined : median(applied.map(r => r.values / r.appliedSeconds!)),
    cpu: applied.length === 0 ? undefined : median(applied.map(r => r.targetCpuSeconds)),
    brokerCpu: applied.length === 0 ? undefined : median(applied.map(r => r.brokerCpuSeconds)),
    rss: runs.length === 0 ? undefined : median(runs.map(r => r.peakRssBytes)),
  }
}

const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2))

function report(results: Map<string, Run[]>, versions: Map<string, string>, connections: number): void {
  const rates = (name: string): Rates => ratesOf(results.get(name) ?? [])
  console.log(`\n${connections} connections. Medians of ${ROUNDS} round(s), ${WARMUP_HOURS === 0 ? 'every target from a fresh start' : `every target after a ${WARMUP_HOURS} h warm-up`}; versions: ${[...results.keys()].map(n => `${n} ${versions.get(n) ?? '(did not start)'}`).join(', ')}`)
  console.log('| target | ack s | applied everywhere s | values/s at ack | **values/s applied everywhere** | target CPU s (of which broker) | values per CPU-s | node peak RSS |')
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const name of [...allTargets.map(t => t.name)]) {
    const runs = results.get(name)
    if (runs === undefined) { console.log(`| ${name} | not run | | | | | | |`); continue }
    if (runs.length === 0) { console.log(`| ${name} | did not start | | | | | | |`); continue }
    const r = rates(name)
    const applied = runs.filter(run => run.appliedSeconds !== null)
    const appliedSeconds = applied.length === 0 ? (runs.some(run => run.stalled) ? 'stalled' : `not within ${MAX_SECONDS_PER_RUN} s`) : median(applied.map(run => run.appliedSeconds!)).toFixed(1)
    console.log(`| ${name} | ${median(runs.map(run => run.ackSeconds)).toFixed(1)} | ${appliedSeconds}${applied.length < runs.length ? ` (${applied.length}/${runs.length} runs)` : ''} | ${mega(r.ack!)} | ` +
      `**${r.applied === undefined ? '–' : mega(r.applied)}** | ${r.cpu === undefined ? '–' : r.cpu.toFixed(1)}${r.brokerCpu ? ` (${r.brokerCpu.toFixed(1)})` : ''} | ` +
      `${r.cpu === undefined ? '–' : mega(runs[0]!.values / r.cpu)} | ${r.rss ? `${(r.rss / 2 ** 20).toFixed(0)} MiB` : '–'} |`)
  }
  const peerBest = Math.max(0, ...PEERS.map(p => rates(p).applied ?? 0))
  const peerBestAck = Math.max(0, ...PEERS.map(p => rates(p).ack ?? 0))
  const one = rates('Sluice 1 node')
  const three = rates('Sluice 3 nodes')
  console.log('')
  console.log(`Sluice 1 node / faster peer, applied everywhere vs queryable: **${ratio(one.applied, peerBest || undefined)}** (at ack: ${ratio(one.ack, peerBestAck || undefined)})`)
  console.log(`Sluice 3 nodes / Sluice 1 node, applied everywhere: **${ratio(three.applied, one.applied)}** (at ack: ${ratio(three.ack, one.ack)})`)
  const thread = rates('Sluice 1 node (master thread)')
  if (thread.applied !== undefined) console.log(`Sluice 1 node (master thread) / Sluice 1 node, applied everywhere: **${ratio(thread.applied, one.applied)}** (at ack: ${ratio(thread.ack, one.ack)}); CPU-s ${ratio(thread.cpu, one.cpu)}`)
  const compare = rates('Sluice 1 node (compare)')
  if (compare.applied !== undefined) {
    // The node's own CPU (the target's less its broker's): what a change to the node moves.
    const nodeCpu = (r: ReturnType<typeof rates>): number | undefined => (r.cpu === undefined ? undefined : r.cpu - (r.brokerCpu ?? 0))
    console.log(`Sluice 1 node / Sluice 1 node (compare), applied everywhere: **${ratio(one.applied, compare.applied)}** (at ack: ${ratio(one.ack, compare.ack)}); ` +
      `node CPU-s (without the broker) compare / this: **${ratio(nodeCpu(compare), nodeCpu(one))}**`)
    // Round by round (the two ran back to back in each round): the spread says how much is the machine.
    const perRound = (of: (run: Run) => number): string => {
      const these = results.get('Sluice 1 node') ?? []
      const compared = results.get('Sluice 1 node (compare)') ?? []
      return these.map((run, i) => (compared[i] === undefined || of(run) === 0 ? 'n/a' : (of(compared[i]!) / of(run)).toFixed(2))).join(', ')
    }
    console.log(`per round, compare / this: node CPU-s ${perRound(run => run.targetCpuSeconds - run.brokerCpuSeconds)}; node main thread CPU-s ${perRound(run => run.nodeMainThreadCpuSeconds)}`)
  }
}

/**
 * Each target at the connection count where its median values/s applied everywhere was highest, and
 * Sluice against the faster peer so measured: every server at its own best, not at one count that
 * suits one of them.
 */
function reportBest(results: Map<number, Map<string, Run[]>>): void {
  const best = (name: string): { connections: number; rates: Rates } | undefined => {
    let found: { connections: number; rates: Rates } | undefined
    for (const [connections, byTarget] of results) {
      const rates = ratesOf(byTarget.get(name) ?? [])
      if (rates.applied !== undefined && (found === undefined || rates.applied > found.rates.applied!)) found = { connections, rates }
    }
    return found
  }
  console.log('\nEach target at its best connection count (median values/s applied everywhere):')
  console.log('| target | connections | values/s at ack | **values/s applied everywhere** | target CPU s |')
  console.log('|---|---:|---:|---:|---:|')
  const names = [...new Set([...results.values()].flatMap(byTarget => [...byTarget.keys()]))]
  for (const name of names) {
    const found = best(name)
    if (found === undefined) { console.log(`| ${name} | none applied | | | |`); continue }
    console.log(`| ${name} | ${found.connections} | ${mega(found.rates.ack!)} | **${mega(found.rates.applied!)}** | ${found.rates.cpu!.toFixed(1)} |`)
  }
  const peerBest = Math.max(0, ...PEERS.map(p => best(p)?.rates.applied ?? 0))
  console.log(`\nSluice 1 node / faster peer, each at its best connection count: **${ratio(best('Sluice 1 node')?.rates.applied, peerBest || undefined)}**`)
}

await main()
