// The four queries of issue 6's comparison with InfluxDB and VictoriaMetrics, over the TSBS-like cpu
// workload (bench/support/tsbs-cpu.ts: 100 hosts, 10 s, from 2016-01-01T00:00:00Z), each written
// natively for each system so that all return the same numbers: Sluice SQL, InfluxQL (InfluxDB and
// Sluice's /query), and MetricsQL (VictoriaMetrics). Shared by bench/query-peers.ts (over HTTP)
// and bench/support/query-breakdown.ts (in-process).

import { TSBS_FIELDS } from './tsbs-cpu.ts'

export const FIELD = TSBS_FIELDS[0] // usage_user
export const HOUR_MS = 3_600_000
export const START_MS = 1_451_606_400_000 // tsbs-cpu.ts: 2016-01-01T00:00:00Z
export const ONE_HOST = 'host_42'
export const FIVE_HOSTS = ['host_3', 'host_17', 'host_42', 'host_64', 'host_99']

export interface PeerQuery {
  name: string
  sql: string
  influxql: string
  /** VictoriaMetrics: the HTTP path, the query ($db stands for the database label) and the time parameters (seconds). */
  metricsql: { path: '/api/v1/query' | '/api/v1/query_range'; query: string; params: Record<string, string> }
  /** Relative tolerance when comparing answers across systems (0: exact). */
  tolerance: number
  /** False for the floor, whose empty answer each system shapes its own way. */
  compare: boolean
}

export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z')

/**
 * The queries over `hours` hours of data from START_MS. Queries 3 and 4 read the second hour.
 *
 * VictoriaMetrics evaluates `fn_over_time(m[w])` at t over (t - w, t]. Evaluated at each bucket's
 * end minus 1 ms it covers [bucket start, bucket end) for points on whole seconds: the bucket of
 * InfluxDB's GROUP BY time() and of date_bin. `nocache=1` (added by the caller) also turns off
 * VictoriaMetrics's alignment of start and end to the step, so these times are used as given.
 */
export function peerQueries(hours: number): PeerQuery[] {
  const endMs = START_MS + hours * HOUR_MS
  const hourFromMs = START_MS + HOUR_MS
  const hourToMs = hourFromMs + HOUR_MS
  const emptyFromMs = START_MS - 365 * 24 * HOUR_MS
  const seconds = (ms: number): string => String(ms / 1000)
  return [
    {
      name: `max per host per hour, ${hours} h`,
      sql: `SELECT hostname, date_bin(INTERVAL '1 hour', time) AS hour, max(${FIELD}) AS m FROM cpu WHERE time >= '${iso(START_MS)}' AND time < '${iso(endMs)}' GROUP BY hostname, hour`,
      influxql: `SELECT max("${FIELD}") FROM "cpu" WHERE time >= '${iso(START_MS)}' AND time < '${iso(endMs)}' GROUP BY time(1h), "hostname"`,
      metricsql: { path: '/api/v1/query_range', query: `max_over_time(cpu_${FIELD}{db="$db"}[1h])`, params: { start: seconds(START_MS + HOUR_MS - 1), end: seconds(endMs - 1), step: '3600s' } },
      tolerance: 0,
      compare: true,
    },
    {
      name: 'last point of every host',
      sql: `SELECT hostname, last(time, ${FIELD}) AS v FROM cpu GROUP BY hostname`,
      influxql: `SELECT last("${FIELD}") FROM "cpu" GROUP BY "hostname"`,
      metricsql: { path: '/api/v1/query', query: `last_over_time(cpu_${FIELD}{db="$db"}[${hours}h])`, params: { time: seconds(endMs - 1) } },
      tolerance: 0,
      compare: true,
    },
    {
      name: 'count, one host, one hour',
      sql: `SELECT count(${FIELD}) AS n FROM cpu WHERE hostname = '${ONE_HOST}' AND time >= '${iso(hourFromMs)}' AND time < '${iso(hourToMs)}'`,
      influxql: `SELECT count("${FIELD}") FROM "cpu" WHERE "hostname" = '${ONE_HOST}' AND time >= '${iso(hourFromMs)}' AND time < '${iso(hourToMs)}'`,
      metricsql: { path: '/api/v1/query', query: `count_over_time(cpu_${FIELD}{db="$db",hostname="${ONE_HOST}"}[1h])`, params: { time: seconds(hourToMs - 1) } },
      tolerance: 0,
      compare: true,
    },
    {
      name: '5 hosts, mean per host per minute, 1 h',
      sql: `SELECT hostname, date_bin(INTERVAL '1 minute', time) AS minute, avg(${FIELD}) AS a FROM cpu WHERE hostname IN (${FIVE_HOSTS.map(h => `'${h}'`).join(', ')}) AND time >= '${iso(hourFromMs)}' AND time < '${iso(hourToMs)}' GROUP BY hostname, minute`,
      influxql: `SELECT mean("${FIELD}") FROM "cpu" WHERE (${FIVE_HOSTS.map(h => `"hostname" = '${h}'`).join(' OR ')}) AND time >= '${iso(hourFromMs)}' AND time < '${iso(hourToMs)}' GROUP BY time(1m), "hostname"`,
      metricsql: { path: '/api/v1/query_range', query: `avg_over_time(cpu_${FIELD}{db="$db",hostname=~"${FIVE_HOSTS.join('|')}"}[1m])`, params: { start: seconds(hourFromMs + 60_000 - 1), end: seconds(hourToMs - 1), step: '60s' } },
      // Means are floats: summed in a different order they may differ in the last bits.
      tolerance: 1e-12,
      compare: true,
    },
    {
      // Not one of the issue's four: one host, an hour a year before the data, so nothing is read:
      // parse, series lookup, plan and HTTP, the floor under the others.
      name: 'floor: one host, an hour without data',
      sql: `SELECT count(${FIELD}) AS n FROM cpu WHERE hostname = '${ONE_HOST}' AND time >= '${iso(emptyFromMs)}' AND time < '${iso(emptyFromMs + HOUR_MS)}'`,
      influxql: `SELECT count("${FIELD}") FROM "cpu" WHERE "hostname" = '${ONE_HOST}' AND time >= '${iso(emptyFromMs)}' AND time < '${iso(emptyFromMs + HOUR_MS)}'`,
      metricsql: { path: '/api/v1/query', query: `count_over_time(cpu_${FIELD}{db="$db",hostname="${ONE_HOST}"}[1h])`, params: { time: seconds(emptyFromMs + HOUR_MS - 1) } },
      tolerance: 0,
      compare: false,
    },
  ]
}
