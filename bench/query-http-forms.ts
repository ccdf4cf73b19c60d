// What the form of a query request costs over HTTP (issue 6, section 4): one Sluice node (embedded
// broker) holding some hours of the TSBS-like cpu workload, compacted, answers the same query of
// bench/query-peers.ts (--query N, 1-4; by default 3, "count, one host, one hour"; or --query floor, that
// bench's floor row: one host, an hour without data, so the fixed cost of a query request), sent in each
// form a client uses:
//
//   SQL body        POST /api/v1/sql?db=…        the statement as the body (CnosDB's clients)
//   SQL q=          POST /api/v1/sql?db=…&q=…    empty body
//   InfluxQL GET    GET /query?db=…&q=…           (Grafana's default)
//   InfluxQL POST   POST /query?db=… with q=… as an application/x-www-form-urlencoded body
//   ping            GET /ping                     the floor: a round trip that does no work
//
// and, for each, the node's CPU per request. Rounds rotate the order of the forms; each form gets
// a warm-up, then --requests timed requests on one keep-alive connection (--forms picks some, by
// name, comma-separated). Compare a form's median with the others' of the same run, not across
// runs. Nothing is asserted.
//
// With --compare DIR a second node runs from another checkout (a worktree with node_modules) with
// the same data, and every (node, form) pair takes its turn in each round: this / compare is the
// before/after ratio of a change. --v8-flags and --compare-v8-flags start the node and the compare
// node with those V8 flags (`sluice node --v8-flags`; "" for none); with --compare-v8-flags alone,
// the compare node runs from this checkout, so the flags are the only difference. With --warmup 0
// the per-round medians trace how a fresh node warms up (V8 optimizing the request path); with
// --trace-opt both nodes also run V8's --trace-opt (both checkouts need `sluice node --v8-flags`) and
// each round's line says how many functions each node had had optimized by its end.
//
// Run: npm run bench:query-forms [-- --query 3|floor] [-- --forms "SQL body,ping"] [-- --rounds 5] [-- --requests 400]
//      [-- --hours 2] [-- --compare DIR] [-- --profile DIR] [-- --v8-flags="<flags>"] [-- --compare-v8-flags="<flags>"] [-- --trace-opt]

import { parseArgs } from 'node:util'
import { Agent, request } from 'node:http'
import { generateTsbsCpu, tsbsCpuOneDay } from './support/tsbs-cpu.ts'
import { FIELD, peerQueries } from './support/peer-queries.ts'
import { sluiceClusterE2e } from './support/e2e-targets.ts'
import { readFileSync } from 'node:fs'
import { cpuSecondsOfPid } from './support/cpu.ts'
import { cpuPressureMeter, describeMachine, median, profileChildProcesses } from './support/report.ts'
import { DEFAULT_V8_FLAGS } from '../bin/node-config.ts'

const { values: options } = parseArgs({
  options: {
    rounds: { type: 'string' },
    requests: { type: 'string' },
    warmup: { type: 'string' },
    hours: { type: 'string' },
    query: { type: 'string' },
    forms: { type: 'string' },
    compare: { type: 'string' },
    'v8-flags': { type: 'string' },
    'compare-v8-flags': { type: 'string' },
    'trace-opt': { type: 'boolean', default: false },
    profile: { type: 'string' },
  },
})
const ROUNDS = Number(options.rounds ?? 5)
const REQUESTS = Number(options.requests ?? 400)
const WARMUP = Number(options.warmup ?? 200)
const HOURS = Number(options.hours ?? 2)
/** The floor is the entry after the issue's four in peer-queries.ts. */
const QUERY = options.query === 'floor' ? 5 : Number(options.query ?? 3)
const DATABASE = 'bench_forms'
const LOAD_TIMEOUT_MS = 300_000

const agent = new Agent({ keepAlive: true, maxSockets: 1 })

interface Sent { method: 'GET' | 'POST'; path: string; body?: Buffer; contentType?: string }

function send(port: number, sent: Sent): Promise<string> {
  return new Promise((resolveDone, reject) => {
    const headers: Record<string, string | number> = {}
    if (sent.body !== undefined) {
      headers['content-type'] = sent.contentType ?? 'text/plain; charset=utf-8'
      headers['content-length'] = sent.body.length
    }
    const req = request({ host: '127.0.0.1', port, path: sent.path, method: sent.method, agent, headers }, res => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString()
        if (res.statusCode! >= 300) reject(new Error(`${sent.method} ${sent.path}: ${res.statusCode} ${text.slice(0, 300)}`))
        else resolveDone(text)
      })
    })
    req.on('error', reject)
    req.end(sent.body)
  })
}

/** Rows of an answer: SQL's JSON rows, or the values of every series of InfluxQL's first result. */
const sqlRows = (answer: string): number => (JSON.parse(answer) as unknown[]).length
const influxqlRows = (answer: string): number =>
  ((JSON.parse(answer) as { results: Array<{ series?: Array<{ values: unknown[] }> }> }).results[0]?.series ?? []).reduce((sum, series) => sum + series.values.length, 0)

function forms(): Array<{ name: string; sent: Sent; rows(answer: string): number | undefined }> {
  const query = peerQueries(HOURS)[QUERY - 1]
  if (query === undefined) throw new Error(`--query ${QUERY}: bench/support/peer-queries.ts has queries 1-${peerQueries(HOURS).length}`)
  console.log(`# query ${QUERY}, ${query.name}:\n#   SQL: ${query.sql}\n#   InfluxQL: ${query.influxql}`)
  const db = encodeURIComponent(DATABASE)
  return [
    { name: 'SQL body', sent: { method: 'POST', path: `/api/v1/sql?db=${db}`, body: Buffer.from(query.sql) }, rows: sqlRows },
    { name: 'SQL q=', sent: { method: 'POST', path: `/api/v1/sql?db=${db}&q=${encodeURIComponent(query.sql)}` }, rows: sqlRows },
    { name: 'InfluxQL GET', sent: { method: 'GET', path: `/query?db=${db}&q=${encodeURIComponent(query.influxql)}` }, rows: influxqlRows },
    {
      name: 'InfluxQL POST',
      sent: { method: 'POST', path: `/query?db=${db}`, body: Buffer.from(`q=${encodeURIComponent(query.influxql)}`), contentType: 'application/x-www-form-urlencoded' },
      rows: influxqlRows,
    },
    { name: 'ping', sent: { method: 'GET', path: '/ping' }, rows: () => undefined },
  ]
}

/** The process's system (kernel) CPU seconds so far: of a request's CPU, what its syscalls cost (/proc/<pid>/stat field 15, at USER_HZ 100). */
function systemSecondsOfPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[12]) / 100
}

interface Contender { name: string; port: number; pid: number; stop(): Promise<void>; version: string; optimized: number }

/** V8's --trace-opt line for a function TurboFan finished compiling. */
const OPTIMIZED = /completed optimizing/g

/** A node (of this checkout or of `root`) loaded with the workload, compacted, its forms' answers checked. */
async function startLoaded(name: string, workload: Buffer[], lines: number, root?: string, v8Flags?: string): Promise<Contender> {
  const flags = options['trace-opt'] ? `--trace-opt ${v8Flags ?? DEFAULT_V8_FLAGS}` : v8Flags
  const target = sluiceClusterE2e(name, 1, 6, { ...(root === undefined ? {} : { root }), ...(flags === undefined ? {} : { nodeArgs: [`--v8-flags=${flags}`] }) })
  const reason = await target.unavailable()
  if (reason !== null) throw new Error(`${name} cannot run: ${reason}`)
  const running = await target.start()
  try {
    const port = running.ports[0]!
    await running.createDatabase(DATABASE)
    for (const body of workload) await send(port, { method: 'POST', path: running.writePath(DATABASE), body })
    // A node that never applies everything (a broken checkout) fails the run instead of hanging it.
    const deadline = Date.now() + LOAD_TIMEOUT_MS
    for (;;) {
      const [answer] = await running.count(DATABASE, 'cpu', FIELD)
      if (answer !== undefined && 'count' in answer && answer.count === lines) break
      if (Date.now() > deadline) throw new Error(`${name}: ${JSON.stringify(answer)} after ${LOAD_TIMEOUT_MS / 1000} s, not the ${lines} lines written`)
      await new Promise(resolveWait => setTimeout(resolveWait, 200))
    }
    await send(port, { method: 'POST', path: '/api/v1/replicaset/compact' })
    // Counted from here: what loading and compacting optimized is not the request path's.
    const contender: Contender = { name, port, pid: running.rssPids()[0]!, stop: () => running.stop(), version: running.version, optimized: 0 }
    running.onStdout?.(text => { contender.optimized += text.match(OPTIMIZED)?.length ?? 0 })
    return contender
  } catch (error) {
    await running.stop()
    throw error
  }
}

async function main(): Promise<void> {
  if (options.profile !== undefined) profileChildProcesses(options.profile)
  const workload = generateTsbsCpu({ ...tsbsCpuOneDay, durationSeconds: HOURS * 3600 })
  console.log(`# Query request forms over HTTP: ${describeMachine()}`)
  console.log(`# ${workload.lines} lines (${HOURS} h of the TSBS-like cpu workload); ${ROUNDS} rounds × ${WARMUP} warm-up + ${REQUESTS} timed requests per form and node, one keep-alive connection`)
  const pressure = cpuPressureMeter()
  pressure.start()
  const all = forms().filter(form => options.forms === undefined || options.forms.split(',').includes(form.name))
  if (all.length === 0) throw new Error(`--forms ${options.forms}: none of ${forms().map(form => form.name).join(', ')}`)
  const contenders: Contender[] = []
  try {
    contenders.push(await startLoaded('Sluice', workload.batches, workload.lines, undefined, options['v8-flags']))
    if (options.compare !== undefined || options['compare-v8-flags'] !== undefined) {
      contenders.push(await startLoaded('Sluice (compare)', workload.batches, workload.lines, options.compare, options['compare-v8-flags']))
    }
    // Forms of one language answer alike; the floor's empty answer is one row of count 0 in SQL, no series in InfluxQL.
    const expected = new Map<(answer: string) => number | undefined, number | undefined>()
    for (const contender of contenders) {
      for (const form of all) {
        const rows = form.rows(await send(contender.port, form.sent))
        if (!expected.has(form.rows)) expected.set(form.rows, rows)
        if (rows !== expected.get(form.rows)) throw new Error(`${contender.name}, ${form.name} answers ${rows} rows, the first form of its language ${expected.get(form.rows)}`)
      }
    }
    if (options['v8-flags'] !== undefined || options['compare-v8-flags'] !== undefined) {
      const flags = (value: string | undefined): string => (value === undefined ? 'the default' : `"${value}"`)
      console.log(`# V8 flags: Sluice ${flags(options['v8-flags'])}, Sluice (compare) ${flags(options['compare-v8-flags'])}`)
    }
    console.log(`# loaded and compacted; the forms answer ${[...expected.values()].filter(rows => rows !== undefined).join(' and ')} rows`)

    // Every (node, form) pair once per round, the order rotated round by round.
    const pairs = contenders.flatMap(contender => all.map(form => ({ contender, form, medians: [] as number[], cpuMs: [] as number[], systemMs: [] as number[] })))
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % pairs.length
      for (const pair of [...pairs.slice(shift), ...pairs.slice(0, shift)]) {
        const { contender, form } = pair
        for (let i = 0; i < WARMUP; i++) await send(contender.port, form.sent)
        const cpuBefore = cpuSecondsOfPid(contender.pid)
        const systemBefore = systemSecondsOfPid(contender.pid)
        const ms: number[] = []
        for (let i = 0; i < REQUESTS; i++) {
          const started = performance.now()
          await send(contender.port, form.sent)
          ms.push(performance.now() - started)
        }
        pair.medians.push(median(ms))
        pair.cpuMs.push((1000 * (cpuSecondsOfPid(contender.pid) - cpuBefore)) / REQUESTS)
        pair.systemMs.push((1000 * (systemSecondsOfPid(contender.pid) - systemBefore)) / REQUESTS)
      }
      const optimized = options['trace-opt'] ? `; functions optimized so far: ${contenders.map(contender => `${contender.name} ${contender.optimized}`).join(', ')}` : ''
      console.log(`# round ${round + 1}: ${pairs.map(pair => `${pair.contender.name} ${pair.form.name} ${pair.medians.at(-1)!.toFixed(3)} ms (${pair.cpuMs.at(-1)!.toFixed(3)} CPU-ms)`).join(', ')}${optimized}`)
    }
    console.log(`\nMedian request latency (median over rounds of each round's median) and the node's CPU per request${contenders.length > 1 ? '; this checkout / compare' : ''}`)
    console.log(`| node | form | median ms | per-round medians, ms | node CPU-ms per request (of which kernel) |${contenders.length > 1 ? ' latency, this / compare | CPU, this / compare |' : ''}`)
    console.log(`|---|---|---:|---|---:|${contenders.length > 1 ? '---:|---:|' : ''}`)
    for (const pair of pairs) {
      const other = pairs.find(p => p.form === pair.form && p.contender !== pair.contender)
      const ratios = other === undefined || pair.contender !== contenders[0]
        ? (contenders.length > 1 ? ' | |' : '')
        : ` | **${(median(pair.medians) / median(other.medians)).toFixed(2)}** | **${(median(pair.cpuMs) / median(other.cpuMs)).toFixed(2)}** |`
      console.log(`| ${pair.contender.name} | ${pair.form.name} | ${median(pair.medians).toFixed(3)} | ${pair.medians.map(ms => ms.toFixed(3)).join(', ')} | ${median(pair.cpuMs).toFixed(3)} (${median(pair.systemMs).toFixed(3)})${ratios}${ratios === '' ? ' |' : ''}`)
    }
    console.log(`\nVersions: ${contenders.map(contender => `${contender.name} ${contender.version}`).join('; ')}`)
  } finally {
    agent.destroy()
    for (const contender of contenders) await contender.stop()
  }
  console.log(`CPU pressure over the run: ${pressure.percent()}`)
}

await main()
