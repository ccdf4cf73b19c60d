// The targets of the end-to-end benchmark (bench/end-to-end.ts): InfluxDB 1.6 and VictoriaMetrics
// as in the HTTP benchmark, and a Sluice cluster of N `sluice node` processes on one embedded
// broker. Besides taking writes, each target says how many values of a measurement's field every
// one of its servers would answer a query with right now, so the benchmark can stop its clock when
// what was written is queryable everywhere.

import { createWriteStream, readFileSync, rmSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join, resolve } from 'node:path'
import { Redis } from 'ioredis'
import type { BrokerProcess } from '../../lib/process/broker-process.ts'
import type { NodeProcess } from '../../lib/process/node-process.ts'
import { influxdbTarget, victoriaMetricsTarget, type RunningTarget } from './http-targets.ts'
import { processStarters, removeTenantKeys } from './sluice-target.ts'

const repositoryRoot = resolve(import.meta.dirname, '..', '..')
const REDIS_URL = process.env.SLUICE_BENCH_REDIS ?? 'redis://127.0.0.1:6379'

/** What a count query found on one server: the values, or why it has none to give yet. */
export type CountAnswer = { count: number } | { notYet: string }

export interface RunningE2eTarget {
  version: string
  /** The HTTP ports writes go to, used round-robin (one for a single server). */
  ports: number[]
  /** Every process of the target (CPU accounting). */
  pids(): number[]
  /** Processes whose peak RSS is reported (Sluice's nodes; empty for the peers). */
  rssPids(): number[]
  /** The broker's process, whose share of the CPU seconds is reported apart (Sluice only). */
  brokerPids(): number[]
  writePath(database: string): string
  createDatabase(database: string): Promise<void>
  /**
   * Per server, how many values of `measurement`.`field` a query answers now. For a Sluice cluster
   * one answer per node (its replica), for the peers one.
   */
  count(database: string, measurement: string, field: string): Promise<CountAnswer[]>
  /** The last lines each process logged (Sluice's nodes, at SLUICE_LOG_LEVEL, warn by default), for a run that went wrong. */
  logTail?(lines: number): string
  /** Calls `listener` with what the nodes write on stdout from now on (Sluice only: V8's --trace-opt lines, say). */
  onStdout?(listener: (text: string) => void): void
  stop(): Promise<void>
}

export interface E2eTarget {
  name: string
  unavailable(): Promise<string | null>
  start(): Promise<RunningE2eTarget>
}

/** Peak resident set (VmHWM) of a live process, in bytes. */
export function peakRssOfPid(pid: number): number {
  const match = /^VmHWM:\s*(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) * 1024 : 0
}

async function answerOf(url: string, init: RequestInit): Promise<{ status: number; text: string }> {
  const answer = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) })
  return { status: answer.status, text: await answer.text() }
}

function fromPeer(running: RunningTarget, count: RunningE2eTarget['count']): RunningE2eTarget {
  return {
    version: running.version,
    ports: [running.port],
    pids: () => running.pids(),
    rssPids: () => [],
    brokerPids: () => [],
    writePath: database => running.writePath(database),
    createDatabase: database => running.createDatabase(database),
    count,
    stop: () => running.stop(),
  }
}

/** InfluxDB 1.6: `SELECT count(field) FROM measurement` over InfluxQL; answered from its cache and TSM files. */
export const influxdbE2e: E2eTarget = {
  name: 'InfluxDB',
  unavailable: () => influxdbTarget.unavailable(),
  async start() {
    const running = await influxdbTarget.start()
    return fromPeer(running, async (database, measurement, field) => {
      const q = `SELECT count("${field}") FROM "${measurement}"`
      const { status, text } = await answerOf(`http://127.0.0.1:${running.port}/query?db=${encodeURIComponent(database)}&q=${encodeURIComponent(q)}`, { method: 'GET' })
      if (status !== 200) return [{ notYet: `${status} ${text.slice(0, 200)}` }]
      const series = (JSON.parse(text) as { results: Array<{ series?: Array<{ values: Array<[string, number]> }> }> }).results[0]?.series
      return [{ count: series?.[0]?.values[0]?.[1] ?? 0 }]
    })
  },
}

/**
 * VictoriaMetrics: each line protocol field is its own series `<measurement>_<field>` with the
 * label db; the count is sum(count_over_time(...)) over a window covering the whole workload,
 * evaluated at `untilNs`, with the rollup cache off (nocache=1) so a repeated query is recomputed.
 */
export function victoriaMetricsE2e(fromNs: bigint, untilNs: bigint): E2eTarget {
  return {
    name: 'VictoriaMetrics',
    unavailable: () => victoriaMetricsTarget.unavailable(),
    async start() {
      const running = await victoriaMetricsTarget.start()
      return fromPeer(running, async (database, measurement, field) => {
        const windowSeconds = Math.ceil(Number(untilNs - fromNs) / 1e9) + 60
        const query = `sum(count_over_time(${measurement}_${field}{db="${database}"}[${windowSeconds}s]))`
        const at = (Number(untilNs / 1_000_000n) / 1000 + 1).toFixed(3)
        const { status, text } = await answerOf(`http://127.0.0.1:${running.port}/api/v1/query?query=${encodeURIComponent(query)}&time=${at}&nocache=1`, { method: 'GET' })
        if (status !== 200) return [{ notYet: `${status} ${text.slice(0, 200)}` }]
        const result = (JSON.parse(text) as { data: { result: Array<{ value: [number, string] }> } }).data.result
        return [{ count: result.length === 0 ? 0 : Number(result[0]!.value[1]) }]
      })
    },
  }
}

/**
 * A Sluice cluster: the embedded broker and `nodes` node processes with their defaults (each runs
 * the HTTP API, a master processor for its share of the partitions and a replica of all of them)
 * plus `--partitions` (and the broker with `brokerArgs`, e.g. --config maxMessageBytes=N), under a tenant of their own whose Redis keys are removed when it stops.
 * A node's count is `SELECT count(field) FROM measurement` on its own `POST /api/v1/sql`; a 503
 * (SLUICE_ERR_REPLICA_CATCHING_UP) is "not yet". `root`: another checkout of Sluice whose broker and
 * nodes to run (a before/after in the same run); its `git status` shows in the version. `env`:
 * environment variables of its processes over what lib/process gives them (a checkout from before
 * 2026-12-01 ignores them).
 */
export function sluiceClusterE2e(name: string, nodes: number, partitions: number, options: { nodeArgs?: string[]; brokerArgs?: string[]; root?: string; stdoutDir?: string; env?: Record<string, string> } = {}): E2eTarget {
  const root = options.root ?? repositoryRoot
  return {
    name,
    async unavailable() {
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 })
      try {
        await redis.connect()
        await redis.ping()
        return null
      } catch (error) {
        return `Redis at ${REDIS_URL} does not answer (${(error as Error).message})`
      } finally {
        redis.disconnect()
      }
    },
    async start() {
      process.env.SLUICE_LOG_LEVEL ??= 'warn'
      const tenant = `bench-e2e-${process.pid}-${Date.now()}`
      const args = ['--default-tenant', tenant, '--partitions', String(partitions), ...(options.nodeArgs ?? [])]
      const { startBrokerProcess, startNodeProcess } = await processStarters(root)
      const broker: BrokerProcess = await startBrokerProcess({ args: options.brokerArgs ?? [], env: options.env })
      const started: NodeProcess[] = []
      const stopAll = async (): Promise<void> => {
        await Promise.all(started.map(node => node.stop()))
        await broker.stop()
        for (const dir of [...started.map(node => node.dataDir), broker.dataDir]) rmSync(dir, { recursive: true, force: true })
        await removeTenantKeys(tenant)
      }
      try {
        // The first node creates the topics with `partitions`; the others find them.
        for (let i = 1; i <= nodes; i++) {
          const node = await startNodeProcess({ kafka: broker.bootstrap, redis: REDIS_URL, nodeId: `${tenant}-${i}`, args, env: options.env })
          started.push(node)
          // From the moment the node listens; piped here, so that a checkout of any commit can be traced.
          if (options.stdoutDir !== undefined) node.child.stdout!.pipe(createWriteStream(join(options.stdoutDir, `${node.nodeId}.out`)))
        }
      } catch (error) {
        await stopAll()
        throw error
      }
      return {
        version: `${spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim()}${root === repositoryRoot ? '' : ` in ${root}`} (${nodes} node${nodes > 1 ? 's' : ''} + embedded broker)`,
        ports: started.map(node => node.port),
        pids: () => [...started.map(node => node.child.pid!), broker.child.pid!],
        rssPids: () => started.map(node => node.child.pid!),
        brokerPids: () => [broker.child.pid!],
        writePath: database => `/write?db=${encodeURIComponent(database)}`,
        async createDatabase(database) {
          const { status, text } = await answerOf(`${started[0]!.url}/query?q=${encodeURIComponent(`CREATE DATABASE "${database}"`)}`, { method: 'POST' })
          if (status !== 200) throw new Error(`CREATE DATABASE ${database}: ${status} ${text}`)
        },
        async count(database, measurement, field) {
          return Promise.all(started.map(async (node): Promise<CountAnswer> => {
            const { status, text } = await answerOf(`${node.url}/api/v1/sql?db=${encodeURIComponent(database)}`, { method: 'POST', body: `SELECT count(${field}) AS n FROM ${measurement}` })
            if (status === 503) return { notYet: 'catching up' }
            // Before the first entry reaches a replica the table does not exist there yet.
            if (status !== 200) return { notYet: `${status} ${text.slice(0, 200)}` }
            const rows = JSON.parse(text) as Array<{ n: number }>
            return { count: rows[0]?.n ?? 0 }
          }))
        },
        logTail: lines => started.map(node => `node ${node.port}:\n${node.logs().trimEnd().split('\n').slice(-lines).join('\n')}`).join('\n'),
        onStdout: listener => { for (const node of started) node.child.stdout!.on('data', (chunk: Buffer) => listener(chunk.toString())) },
        stop: stopAll,
      }
    },
  }
}
