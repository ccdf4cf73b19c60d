// A deterministic TSBS-like "cpu-only" workload in line protocol: per host one `cpu` point every
// interval with TSBS's ten tags (hostname, region, datacenter, rack, os, arch, team, service,
// service_version, service_environment) and ten integer fields (usage_user ... usage_guest_nice,
// 0–100, a bounded random walk), timestamps in nanoseconds from 2016-01-01T00:00:00Z as TSBS starts.
// The same seed gives the same bytes on every machine, so parser and HTTP runs are comparable.

import type { ChangelogEntry, Field, Point, Tag } from '../../schemas/index.ts'

export const TSBS_FIELDS = ['usage_user', 'usage_system', 'usage_idle', 'usage_nice', 'usage_iowait',
  'usage_irq', 'usage_softirq', 'usage_steal', 'usage_guest', 'usage_guest_nice'] as const

export interface TsbsCpuOptions {
  hosts: number
  intervalSeconds: number
  durationSeconds: number
  linesPerBatch: number
  seed?: number
}

/** The workload of issue 3's benchmark: 100 hosts, 10 s interval, one day = 864,000 lines. */
export const tsbsCpuOneDay: TsbsCpuOptions = { hosts: 100, intervalSeconds: 10, durationSeconds: 86_400, linesPerBatch: 5_000 }

const START_NS = 1_451_606_400_000_000_000n
const REGIONS = ['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'sa-east-1']
const OPERATING_SYSTEMS = ['Ubuntu16.10', 'Ubuntu16.04LTS', 'Ubuntu15.10']
const ARCHITECTURES = ['x64', 'x86']
const TEAMS = ['SF', 'NYC', 'LON', 'CHI']
const ENVIRONMENTS = ['production', 'staging', 'test']

/** xorshift32: small, fast and the same everywhere. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0 || 1
  return () => {
    state ^= state << 13; state >>>= 0
    state ^= state >>> 17
    state ^= state << 5; state >>>= 0
    return state / 0x1_0000_0000
  }
}

export interface TsbsCpuWorkload {
  batches: Buffer[]
  lines: number
  values: number
  bytes: number
}

export function generateTsbsCpu(options: TsbsCpuOptions): TsbsCpuWorkload {
  const random = randomSource(options.seed ?? 20160101)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!
  const seriesKeys = Array.from({ length: options.hosts }, (_, host) => {
    const region = pick(REGIONS)
    return `cpu,hostname=host_${host},region=${region},datacenter=${region}${pick(['a', 'b', 'c'])},rack=${Math.floor(random() * 100)},` +
      `os=${pick(OPERATING_SYSTEMS)},arch=${pick(ARCHITECTURES)},team=${pick(TEAMS)},service=${Math.floor(random() * 20)},` +
      `service_version=${Math.floor(random() * 2)},service_environment=${pick(ENVIRONMENTS)} `
  })
  const state = Array.from({ length: options.hosts * TSBS_FIELDS.length }, () => Math.floor(random() * 101))
  const steps = Math.floor(options.durationSeconds / options.intervalSeconds)
  const intervalNs = BigInt(options.intervalSeconds) * 1_000_000_000n
  const batches: Buffer[] = []
  let pending: string[] = []
  let bytes = 0
  for (let step = 0; step < steps; step++) {
    const time = (START_NS + BigInt(step) * intervalNs).toString()
    for (let host = 0; host < options.hosts; host++) {
      let fields = ''
      for (let f = 0; f < TSBS_FIELDS.length; f++) {
        const at = host * TSBS_FIELDS.length + f
        state[at] = Math.min(100, Math.max(0, state[at]! + Math.floor(random() * 5) - 2))
        fields += `${f === 0 ? '' : ','}${TSBS_FIELDS[f]}=${state[at]}i`
      }
      pending.push(`${seriesKeys[host]}${fields} ${time}`)
      if (pending.length === options.linesPerBatch) { batches.push(Buffer.from(pending.join('\n') + '\n')); pending = [] }
    }
  }
  if (pending.length > 0) batches.push(Buffer.from(pending.join('\n') + '\n'))
  for (const batch of batches) bytes += batch.length
  const lines = steps * options.hosts
  return { batches, lines, values: lines * TSBS_FIELDS.length, bytes }
}

/** The generator's own line protocol (no escapes, integer fields) as changelog entries: bench input only (bench/query.ts, bench/support/query-breakdown.ts). */
export function* tsbsChangelogEntries(batches: Buffer[]): Generator<ChangelogEntry> {
  for (const batch of batches) {
    const bySeries = new Map<string, { tags: Tag[]; points: Point[] }>()
    for (const line of batch.toString('utf8').split('\n')) {
      if (line === '') continue
      const [key, fieldText, time] = line.split(' ') as [string, string, string]
      let series = bySeries.get(key)
      if (!series) {
        const tags = key.split(',').slice(1).map((pair) => { const [k, v] = pair.split('='); return { key: k!, value: v! } })
        bySeries.set(key, series = { tags, points: [] })
      }
      const fields: Field[] = fieldText.split(',').map((pair) => {
        const at = pair.indexOf('=')
        return { name: pair.slice(0, at), value: BigInt(pair.slice(at + 1, -1)) }
      })
      series.points.push({ timeNs: BigInt(time), fields })
    }
    for (const [seriesKey, s] of bySeries) {
      yield { ingestPartition: 0, ingestOffset: 0n, command: null, upsert: { tenant: 'bench', database: 'bench', measurement: 'cpu', seriesKey, tags: s.tags, points: s.points, pointsIn: s.points.length } }
    }
  }
}
