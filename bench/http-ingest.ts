// HTTP ingest end to end: the TSBS-like cpu day (bench/support/tsbs-cpu.ts, 864,000 lines, 8.64 M
// values) POSTed as InfluxDB v1 line protocol writes of 5,000 lines, at 1 and 4 concurrent
// connections, plain and gzip, to every target in the same run: InfluxDB 1.6, VictoriaMetrics and
// Sluice (node + embedded broker: a 204 means the points are in Kafka, acks=all, fsynced), once
// with the node's defaults and once ingest-only (no master processor, Kafka source or replica). A value is
// counted when its request was answered 2xx. Targets run one at a time, in alternating order over
// rounds; the table gives medians and Sluice/max(InfluxDB, VictoriaMetrics).
//
// Run: npm run bench:http [-- --quick] [-- --rounds 3] [-- --targets InfluxDB,Sluice,'Sluice ingest-only','Sluice ingest-only 1 thread'] [-- --max-seconds 60]
//      [-- --profile DIR]  (CPU profiles of Sluice's node and broker: DIR/node-<pid>.cpuprofile, DIR/broker-<pid>.cpuprofile)
//      [-- --compare DIR]  (adds "Sluice ingest-only (compare)": the write path of the checkout in DIR, e.g. a git worktree
//                           of an earlier commit with node_modules linked, for a before/after in the same run)
//      [-- --interleave]   (one connection only, every target running at once and taking turns body by body: each
//                           body goes to each target in turn, so a neighbour's load falls on all of them alike; the
//                           table gives median request latencies and their ratios, the measure of one connection)

import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { Agent, request } from 'node:http'
import { generateTsbsCpu, tsbsCpuOneDay, TSBS_FIELDS } from './support/tsbs-cpu.ts'
import { influxdbTarget, victoriaMetricsTarget, type HttpTarget, type RunningTarget } from './support/http-targets.ts'
import { sluiceTarget } from './support/sluice-target.ts'
import { cpuSecondsOfPid, cpuSecondsOfPids, cpuSecondsOfSelf } from './support/cpu.ts'
import { cpuPressureMeter, describeMachine, median, profileChildProcesses } from './support/report.ts'

const { values: options } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    targets: { type: 'string' },
    'max-seconds': { type: 'string' },
    profile: { type: 'string' },
    compare: { type: 'string' },
    interleave: { type: 'boolean', default: false },
  },
})
const ROUNDS = Number(options.rounds ?? (options.quick ? 1 : 2))
/** A run stops sending after this long and counts what was acknowledged (a slow target takes no longer). */
const MAX_SECONDS_PER_RUN = Number(options['max-seconds'] ?? (options.quick ? 10 : 60))
const REQUEST_TIMEOUT_MS = 120_000
const CONCURRENCIES = [1, 4]
const ENCODINGS = ['plain', 'gzip'] as const
type Encoding = typeof ENCODINGS[number]

const allTargets: HttpTarget[] = [
  influxdbTarget,
  victoriaMetricsTarget,
  sluiceTarget('Sluice'),
  // The same node without the master processor, the Kafka source and the replica, which by default
  // share its process and the machine's two cores with the HTTP API: the write path alone.
  sluiceTarget('Sluice ingest-only', ['--no-processor', '--no-kafka-source', '--no-replica']),
]
// Run only when named in --targets: the write path alone, parsing on the request thread as before the
// parse worker pool (--parse-workers 0), the same-run reference for that pool.
const namedTargets: HttpTarget[] = [
  sluiceTarget('Sluice ingest-only 1 thread', ['--no-processor', '--no-kafka-source', '--no-replica', '--parse-workers', '0']),
]
if (options.compare !== undefined) {
  namedTargets.push(sluiceTarget('Sluice ingest-only (compare)', ['--no-processor', '--no-kafka-source', '--no-replica'], options.compare))
}
const wanted = options.targets?.split(',')
const targets = wanted === undefined ? allTargets : [...allTargets, ...namedTargets].filter(t => wanted.includes(t.name))

/** firstProcessCpuSeconds: of the target's first process alone (Sluice's node, without its broker). */
interface Run { values: number; seconds: number; targetCores: number; firstProcessCpuSeconds: number; clientCores: number; medianRequestMs: number }

function post(agent: Agent, port: number, path: string, body: Buffer, encoding: Encoding): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length }
    if (encoding === 'gzip') headers['content-encoding'] = 'gzip'
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers, timeout: REQUEST_TIMEOUT_MS }, res => {
      let text = ''
      res.on('data', (chunk: Buffer) => { if (text.length < 500) text += chunk.toString() })
      res.on('end', () => (res.statusCode! >= 200 && res.statusCode! < 300 ? resolveStatus(res.statusCode!) : reject(new Error(`${path}: ${res.statusCode} ${text}`))))
    })
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}

async function load(target: RunningTarget, database: string, bodies: Buffer[], valuesPerBody: number[], concurrency: number, encoding: Encoding): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  const path = target.writePath(database)
  const requestMs: number[] = []
  let next = 0
  let values = 0
  const pids = target.pids()
  const targetCpuBefore = cpuSecondsOfPids(pids)
  const firstCpuBefore = cpuSecondsOfPid(pids[0]!)
  const clientCpuBefore = cpuSecondsOfSelf()
  const started = performance.now()
  const deadline = started + MAX_SECONDS_PER_RUN * 1000
  const worker = async (): Promise<void> => {
    while (next < bodies.length && performance.now() < deadline) {
      const index = next++
      const sent = performance.now()
      await post(agent, target.port, path, bodies[index]!, encoding)
      requestMs.push(performance.now() - sent)
      values += valuesPerBody[index]!
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const seconds = (performance.now() - started) / 1000
  const targetCpu = cpuSecondsOfPids(pids) - targetCpuBefore
  const firstProcessCpuSeconds = cpuSecondsOfPid(pids[0]!) - firstCpuBefore
  agent.destroy()
  return { values, seconds, targetCores: targetCpu / seconds, firstProcessCpuSeconds, clientCores: (cpuSecondsOfSelf() - clientCpuBefore) / seconds, medianRequestMs: median(requestMs) }
}

const configName = (concurrency: number, encoding: Encoding): string => `${concurrency} conn, ${encoding}`

async function main(): Promise<void> {
  // Sluice's node and broker write CPU profiles on exit (InfluxDB and VictoriaMetrics are not Node).
  if (options.profile !== undefined) profileChildProcesses(options.profile)
  const workload = generateTsbsCpu(options.quick ? { ...tsbsCpuOneDay, durationSeconds: 8_640 } : tsbsCpuOneDay)
  const gzipped = workload.batches.map(body => gzipSync(body))
  const valuesPerBody = workload.batches.map(body => (body.toString('latin1').split('\n').length - 1) * TSBS_FIELDS.length)
  const gzipBytes = gzipped.reduce((sum, body) => sum + body.length, 0)
  console.log(`# HTTP ingest: ${describeMachine()}`)
  console.log(`# ${workload.lines} lines, ${workload.values} values, ${workload.batches.length} bodies of ${tsbsCpuOneDay.linesPerBatch} lines: ${(workload.bytes / 1e6).toFixed(0)} MB plain, ${(gzipBytes / 1e6).toFixed(0)} MB gzip; ${ROUNDS} round(s), at most ${MAX_SECONDS_PER_RUN} s per run`)

  const usable: HttpTarget[] = []
  for (const target of targets) {
    const reason = await target.unavailable()
    if (reason === null) usable.push(target)
    else console.log(`# ${target.name}: not run (${reason})`)
  }
  const pressure = cpuPressureMeter()
  pressure.start()
  if (options.interleave) {
    await interleaved(usable, workload.batches, gzipped, valuesPerBody)
    console.log(`\nCPU pressure over the run (share of time some task waited for a core; the load itself counts): ${pressure.percent()}`)
    return
  }
  const results = new Map<string, Map<string, Run[]>>(usable.map(t => [t.name, new Map()]))
  const versions = new Map<string, string>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const target of round % 2 === 0 ? usable : [...usable].reverse()) {
      let running: RunningTarget
      try {
        running = await target.start() // fresh data directory every round
      } catch (error) {
        // A target that does not start (say, a work tree mid-change) is reported; the others still run.
        const lines = String((error as Error).message).split('\n').filter(line => line.trim() !== '')
        console.log(`# round ${round + 1}, ${target.name}: did not start: ${lines[0]}${lines.length > 1 ? ` … ${lines.at(-1)}` : ''}`)
        continue
      }
      versions.set(target.name, running.version)
      try {
        for (const concurrency of CONCURRENCIES) {
          for (const encoding of ENCODINGS) {
            const database = `bench_r${round}_c${concurrency}_${encoding}`
            await running.createDatabase(database)
            const run = await load(running, database, encoding === 'gzip' ? gzipped : workload.batches, valuesPerBody, concurrency, encoding)
            const runs = results.get(target.name)!
            runs.set(configName(concurrency, encoding), [...(runs.get(configName(concurrency, encoding)) ?? []), run])
            console.log(`# round ${round + 1}, ${target.name}, ${configName(concurrency, encoding)}: ${(run.values / run.seconds / 1e6).toFixed(3)} M values/s (${run.values} values in ${run.seconds.toFixed(1)} s), target ${run.targetCores.toFixed(2)} cores (first process ${(run.firstProcessCpuSeconds / run.values * 1e6).toFixed(3)} CPU-s per M values), client ${run.clientCores.toFixed(2)}, median request ${run.medianRequestMs.toFixed(0)} ms`)
          }
        }
      } finally {
        await running.stop()
      }
    }
  }
  report(results, versions)
  console.log(`\nCPU pressure over the run (share of time some task waited for a core; the load itself counts): ${pressure.percent()}`)
}

/**
 * One connection per target, all targets up at once: body i goes to each target in turn (the order
 * rotating with i) before body i + 1, for ROUNDS passes over the bodies or MAX_SECONDS_PER_RUN per
 * encoding and pass. A target waits idle while another works, as it would between a client's requests.
 */
async function interleaved(usable: HttpTarget[], plain: Buffer[], gzipped: Buffer[], valuesPerBody: number[]): Promise<void> {
  const running: Array<{ target: HttpTarget; running: RunningTarget; agent: Agent; ms: Record<Encoding, number[]>; cpu: Record<Encoding, number> }> = []
  try {
    for (const target of usable) {
      const started = await target.start()
      running.push({ target, running: started, agent: new Agent({ keepAlive: true, maxSockets: 1 }), ms: { plain: [], gzip: [] }, cpu: { plain: 0, gzip: 0 } })
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const encoding of ENCODINGS) {
        const database = `bench_i${round}_${encoding}`
        for (const r of running) await r.running.createDatabase(database)
        const deadline = performance.now() + MAX_SECONDS_PER_RUN * 1000 * running.length
        const bodies = encoding === 'gzip' ? gzipped : plain
        for (let i = 0; i < bodies.length && performance.now() < deadline; i++) {
          for (let k = 0; k < running.length; k++) {
            const r = running[(i + k) % running.length]!
            const pids = r.running.pids()
            const cpuBefore = cpuSecondsOfPids(pids)
            const sent = performance.now()
            await post(r.agent, r.running.port, r.running.writePath(database), bodies[i]!, encoding)
            r.ms[encoding].push(performance.now() - sent)
            r.cpu[encoding] += cpuSecondsOfPids(pids) - cpuBefore
          }
        }
        console.log(`# interleaved round ${round + 1}, ${encoding}: ${running[0]!.ms[encoding].length} requests per target so far`)
      }
    }
  } finally {
    for (const r of running) {
      r.agent.destroy()
      await r.running.stop()
    }
  }
  const names = running.map(r => r.target.name)
  const peers = running.filter(r => !r.target.name.startsWith('Sluice'))
  const valuesPerRequest = median(valuesPerBody)
  console.log(`\nInterleaved, one connection, ${ROUNDS} pass(es); versions: ${running.map(r => `${r.target.name} ${r.running.version}`).join(', ')}`)
  console.log(`Median request ms (values/s at that latency; target CPU-ms per request), and each Sluice's latency / the faster peer's (below 1: faster)`)
  console.log(`| encoding | ${names.join(' | ')} | ${running.filter(r => r.target.name.startsWith('Sluice')).map(r => `${r.target.name} / fastest peer`).join(' | ')} |`)
  console.log(`|---|${names.map(() => '---:|').join('')}${running.filter(r => r.target.name.startsWith('Sluice')).map(() => '---:|').join('')}`)
  for (const encoding of ENCODINGS) {
    const cells = running.map(r => `${median(r.ms[encoding]).toFixed(1)} (${(valuesPerRequest / median(r.ms[encoding]) / 1e3).toFixed(3)} M; ${(r.cpu[encoding] / r.ms[encoding].length * 1e3).toFixed(1)})`)
    const fastestPeer = Math.min(...peers.map(r => median(r.ms[encoding])))
    const ratios = running.filter(r => r.target.name.startsWith('Sluice')).map(r => (peers.length === 0 ? 'no peer' : (median(r.ms[encoding]) / fastestPeer).toFixed(2)))
    console.log(`| ${encoding} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`)
  }
}

function report(results: Map<string, Map<string, Run[]>>, versions: Map<string, string>): void {
  const names = [...results.keys()]
  const median_ = (target: string, config: string, of: (run: Run) => number): number | undefined => {
    const runs = results.get(target)?.get(config)
    return runs === undefined ? undefined : median(runs.map(of))
  }
  const perSecond = (run: Run): number => run.values / run.seconds
  // Values per CPU-second of the target's processes: what a core buys, less sensitive than values/s
  // to how much of the machine a noisy neighbour left the target.
  const perCpuSecond = (run: Run): number => run.values / (run.targetCores * run.seconds)
  const sluices = names.filter(n => n.startsWith('Sluice'))
  const versus = (sluiceName: string, config: string, of: (run: Run) => number): string => {
    const sluice = median_(sluiceName, config, of)
    const best = Math.max(median_('InfluxDB', config, of) ?? 0, median_('VictoriaMetrics', config, of) ?? 0)
    return sluice === undefined || best === 0 ? 'not run' : (sluice / best).toFixed(2)
  }
  console.log(`\nMedians of ${ROUNDS} round(s); versions: ${names.map(n => `${n} ${versions.get(n) ?? '(did not start)'}`).join(', ')}`)
  console.log(`| config | ${names.map(n => `${n} values/s (target cores)`).join(' | ')} | ${sluices.map(n => `${n}/max(InfluxDB, VM)`).join(' | ')} |`)
  console.log(`|---|${names.map(() => '---:|').join('')}${sluices.map(() => '---:|').join('')}`)
  for (const concurrency of CONCURRENCIES) {
    for (const encoding of ENCODINGS) {
      const config = configName(concurrency, encoding)
      const rates = names.map(n => {
        const rate = median_(n, config, perSecond)
        return rate === undefined ? 'did not run' : `${(rate / 1e6).toFixed(3)} M (${median_(n, config, run => run.targetCores)!.toFixed(2)})`
      })
      console.log(`| ${config} | ${rates.join(' | ')} | ${sluices.map(n => versus(n, config, perSecond)).join(' | ')} |`)
    }
  }
  console.log('\nValues per CPU-second of the target\'s processes (medians)')
  console.log(`| config | ${names.join(' | ')} | ${sluices.map(n => `${n}/max(InfluxDB, VM)`).join(' | ')} |`)
  console.log(`|---|${names.map(() => '---:|').join('')}${sluices.map(() => '---:|').join('')}`)
  for (const concurrency of CONCURRENCIES) {
    for (const encoding of ENCODINGS) {
      const config = configName(concurrency, encoding)
      const efficiencies = names.map(n => {
        const efficiency = median_(n, config, perCpuSecond)
        return efficiency === undefined ? 'did not run' : `${(efficiency / 1e6).toFixed(2)} M`
      })
      console.log(`| ${config} | ${efficiencies.join(' | ')} | ${sluices.map(n => versus(n, config, perCpuSecond)).join(' | ')} |`)
    }
  }
  // Sluice's node alone (the broker's share left out): what a change to the write path moves.
  const compare = names.includes('Sluice ingest-only (compare)') && names.includes('Sluice ingest-only')
  console.log('\nCPU seconds of the first process per million values (Sluice: the node; medians)')
  console.log(`| config | ${names.join(' | ')} |${compare ? ' ingest-only / compare |' : ''}`)
  console.log(`|---|${names.map(() => '---:|').join('')}${compare ? '---:|' : ''}`)
  const nodeCpu = (run: Run): number => run.firstProcessCpuSeconds / run.values * 1e6
  for (const concurrency of CONCURRENCIES) {
    for (const encoding of ENCODINGS) {
      const config = configName(concurrency, encoding)
      const cells = names.map(n => median_(n, config, nodeCpu)?.toFixed(3) ?? 'did not run')
      const ratio = compare ? ` ${(median_('Sluice ingest-only', config, nodeCpu)! / median_('Sluice ingest-only (compare)', config, nodeCpu)!).toFixed(2)} |` : ''
      console.log(`| ${config} | ${cells.join(' | ')} |${ratio}`)
    }
  }
}

await main()
