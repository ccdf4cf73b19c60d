// The configuration of `sluice node`: one typed object with defaults, loaded from a JSON file
// (--config-file), the environment and flags (later ones win), validated once at start-up with
// messages that name the setting.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { defaultParseWorkers, httpLimits, WriteCompression, type HttpLimits } from '../pipeline/http/index.ts'
import { parseCompressionConfig, type CompressionConfig } from '../pipeline/transforms/index.ts'
import { UsageError } from './errors.ts'
export { nodeUsage } from './usage.ts'

export interface NodeConfig {
  /** Kafka bootstrap servers. Flag --kafka (comma-separated), env KAFKA_BROKERS. */
  kafkaBrokers: string[]
  /** Redis URL, or "memory" for a control store inside this process only. Flag --redis, env REDIS_URL. */
  redisUrl: string
  /** Flag --http-host, env SLUICE_HTTP_HOST. */
  httpHost: string
  /** Flag --http-port, env SLUICE_HTTP_PORT; 0 picks a free port. */
  httpPort: number
  /** Flag --data-dir, env SLUICE_DATA_DIR. */
  dataDir: string
  /** Flag --node-id, env SLUICE_NODE_ID. Names the node's Kafka transactional ids: unique per node. */
  nodeId: string
  /** Partitions of sluice.ingest when this node creates it. Flag --partitions. */
  ingestPartitions: number
  /** Replication factor of sluice.ingest when this node creates it. Flag --replication-factor. */
  ingestReplicationFactor: number
  /** Require a token on every request. Flag --auth, env SLUICE_AUTH=true. */
  auth: boolean
  /** Where tokens live. Flag --tokens-file; default <data-dir>/tokens.json. */
  tokensFile: string
  /** Tenant of requests that name none, with auth off. Flag --default-tenant, env SLUICE_DEFAULT_TENANT. */
  defaultTenant: string
  /** Create a database on its first write (else 404). Flag --no-auto-create-databases turns it off. */
  autoCreateDatabases: boolean
  /** Concurrent Kafka transactions of the write path. Flag --producers. */
  producers: number
  /**
   * Worker threads that parse and encode write bodies (pipeline/http/parse-pool.ts); 0 parses on the
   * request thread. Flag --parse-workers; default one per core but one, at least one (defaultParseWorkers).
   */
  parseWorkers: number
  /**
   * Worker threads that scan partitions for aggregates decoding many points (query/parallel); 0, the
   * default, scans on the main thread. Flag --query-workers (docs/query.md#execution).
   */
  queryWorkers: number
  /** Estimated points to decode from which a query is scanned in the query workers. Flag --parallel-scan-min-points. */
  parallelScanMinPoints: number
  /** Compression of the record batches written to sluice.ingest. Flag --compression. */
  compression: WriteCompression
  /**
   * Run the Kafka source in this node: re-key raw records that outside producers write to
   * sluice.ingest (pipeline/source, docs/kafka-source.md). On by default; flag --no-kafka-source.
   */
  kafkaSource: boolean
  /** Run the master processor in this node (pipeline/processor). On by default; flag --no-processor. */
  processor: boolean
  /**
   * Run the master in its own worker thread (pipeline/processor/master-thread.ts), off the thread
   * that serves HTTP and applies the replica: for a machine with cores to spare. Off by default (on
   * 2 cores it cost more than it saved: docs/benchmarks.md, end to end); flag --master-thread. With
   * an OTLP endpoint the master runs on the main thread, where the trace exporter is.
   */
  masterThread: boolean
  /**
   * The replica takes this node's master's committed changelog from it in memory (the local feed,
   * lib/kafka/committed-feed.ts) instead of fetching it back from Kafka, where the offsets meet.
   * On by default; flag --no-local-feed. Not with --master-thread (the master is on another thread).
   */
  localFeed: boolean
  /**
   * Master consumer group session timeout: how long a crashed master holds its partitions before
   * another node takes over (docs/replicaset.md). Flag --master-session-timeout-ms; default 10,000.
   */
  masterSessionTimeoutMs: number
  /** Run the replica (apply sluice.changelog to segments under <data-dir>/replica). On by default; flag --no-replica. */
  replica: boolean
  /** Flush a replica partition's memtable at least this often: bounds replay after a crash. Flag --replica-flush-interval-ms. */
  replicaFlushIntervalMs: number
  /** Membership heartbeat period in Redis; a member expires after 5 missed beats. Flag --heartbeat-interval-ms. */
  heartbeatIntervalMs: number
  /**
   * Run the change feed loop in this node: sluice.changelog → sluice.cdc, exactly once (sinks/cdc,
   * docs/cdc.md). Off by default; flag --cdc, config key "cdc". GET /api/v1/changes needs no flag.
   */
  cdc: boolean
  /** How often an idle /api/v1/changes stream sends a heartbeat comment (proxies close idle connections). Flag --cdc-heartbeat-ms; default 15,000. */
  cdcHeartbeatMs: number
  /**
   * Lossy compression per database, measurement and field (docs/lossy-compression.md): the
   * "lossyCompression" object of the config file, or the JSON file named by --lossy-compression.
   * Every node of a set must hold the same settings. Off by default.
   */
  lossyCompression: CompressionConfig
  /** Database of raw text records without a sluice-database header. Flag --kafka-source-database. */
  kafkaSourceDatabase: string | undefined
  /** Where the schema registry's Confluent REST routes are mounted. */
  schemaRegistryPrefix: string
  /** Run the MQTT bridge in this node with this config file (docs/mqtt.md). Flag --mqtt-bridge, config key "mqttBridge". */
  mqttBridge: string | undefined
  /**
   * Shared by the nodes of a set: with --auth on, a node sends a copy of its stores to a peer
   * (GET /api/v1/replicaset/snapshot/:partition) only when asked with this secret. Flag
   * --cluster-secret, env SLUICE_CLUSTER_SECRET.
   */
  clusterSecret: string | undefined
  /**
   * OTLP/HTTP receiver of traces and metrics (docs/observability.md), e.g. http://127.0.0.1:4318; unset, nothing is
   * exported and the OpenTelemetry SDK is not loaded (GET /metrics answers either way). Flag --otlp-endpoint, env
   * OTEL_EXPORTER_OTLP_ENDPOINT, config key "otlpEndpoint".
   */
  otlpEndpoint: string | undefined
  /** How often metrics are pushed to the OTLP endpoint. Env OTEL_METRIC_EXPORT_INTERVAL; default 60,000. */
  otlpMetricsIntervalMs: number
  /** Longest a finished span waits before it is sent to the OTLP endpoint. Env OTEL_BSP_SCHEDULE_DELAY; default 5,000. */
  otlpSpanDelayMs: number
  /** HTTP limits; flag --limit name=value (repeatable), e.g. --limit maxBodyBytes=1000000. */
  limits: HttpLimits
  /**
   * V8 flags set as the node starts (v8.setFlagsFromString), space-separated; default
   * DEFAULT_V8_FLAGS; "" sets none (docs/operations.md#v8-flags). Flag --v8-flags, env SLUICE_V8_FLAGS,
   * key "v8Flags".
   */
  v8Flags: string
}

/**
 * Four times V8's interrupt budget (67,584 bytes of bytecode run before V8 looks at a function's
 * tier again): V8 optimizes later and compiles less while a fresh node ingests. A fresh node took
 * 4-8% more values/s through bench:e2e on 2 cores for 5-7% less CPU; its first hundred queries took
 * 1.1 ms instead of 0.75, its later ones the same (docs/operations.md#v8-flags, docs/benchmarks.md).
 * Half the budget (32768, the default until 2026-11-30, then V8's own) does the opposite.
 */
export const DEFAULT_V8_FLAGS = '--interrupt-budget=270336'


const defaults = {
  kafkaBrokers: ['127.0.0.1:9092'],
  redisUrl: 'redis://127.0.0.1:6379',
  httpHost: '127.0.0.1',
  httpPort: 8086,
  dataDir: './data/node-1',
  nodeId: 'node-1',
  ingestPartitions: 8,
  ingestReplicationFactor: 1,
  auth: false,
  defaultTenant: 'default',
  autoCreateDatabases: true,
  producers: 1,
  parseWorkers: defaultParseWorkers(),
  queryWorkers: 0,
  parallelScanMinPoints: 2_000_000,
  compression: 'lz4',
  kafkaSource: true,
  processor: true,
  masterThread: false,
  localFeed: true,
  masterSessionTimeoutMs: 10_000,
  replica: true,
  replicaFlushIntervalMs: 5_000,
  heartbeatIntervalMs: 1_000,
  cdc: false,
  cdcHeartbeatMs: 15_000,
  schemaRegistryPrefix: '/schema-registry',
  otlpMetricsIntervalMs: 60_000,
  otlpSpanDelayMs: 5_000,
  v8Flags: DEFAULT_V8_FLAGS,
}

export class ConfigError extends UsageError {}

const settingNames = [...Object.keys(defaults), 'tokensFile', 'limits', 'kafkaSourceDatabase', 'lossyCompression', 'clusterSecret', 'mqttBridge', 'otlpEndpoint']

function otlpEndpoint(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined
  let url: URL | undefined
  try {
    url = new URL(String(value))
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`otlpEndpoint (--otlp-endpoint, OTEL_EXPORTER_OTLP_ENDPOINT) must be the http(s) URL of an OTLP/HTTP receiver, such as http://127.0.0.1:4318, not "${String(value)}"`)
  }
  return String(value)
}

function positiveInteger(setting: string, value: unknown, allowZero = false): number {
  const number = typeof value === 'string' ? Number(value) : value
  if (typeof number !== 'number' || !Number.isInteger(number) || number < (allowZero ? 0 : 1)) {
    throw new ConfigError(`${setting} must be a ${allowZero ? 'non-negative' : 'positive'} integer, not "${String(value)}"`)
  }
  return number
}

function parseCompression(value: unknown): WriteCompression {
  const known = Object.values(WriteCompression) as string[]
  if (typeof value !== 'string' || !known.includes(value)) throw new ConfigError(`compression (--compression) must be ${known.join(', ')}, not "${String(value)}"`)
  return value as WriteCompression
}

function parseLimitPairs(pairs: string[]): Partial<HttpLimits> {
  const limits: Record<string, number> = {}
  for (const pair of pairs) {
    const [name = '', value = ''] = pair.split('=', 2)
    limits[name] = positiveInteger(`--limit ${name}`, value)
  }
  return limits as Partial<HttpLimits>
}

function lossySettings(path: string | undefined, fromFile: unknown): CompressionConfig {
  try {
    const source = path === undefined ? fromFile : JSON.parse(readFileSync(path, 'utf8')) as unknown
    return parseCompressionConfig(source, path === undefined ? 'lossyCompression' : path)
  } catch (error) {
    throw new ConfigError(`lossy compression settings: ${(error as Error).message}`)
  }
}

function readConfigFile(path: string | undefined): Record<string, unknown> {
  if (path === undefined) return {}
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new ConfigError(`--config-file ${path}: ${(error as Error).message}`)
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError(`--config-file ${path}: expected a JSON object`)
  for (const key of Object.keys(json)) {
    if (!settingNames.includes(key)) throw new ConfigError(`--config-file ${path}: unknown setting "${key}" (known: ${settingNames.join(', ')})`)
  }
  return json as Record<string, unknown>
}

/** Builds the node's configuration from flags, environment and an optional file. */
export function loadNodeConfig(args: string[], env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const { values } = parseArgs({
    args,
    options: {
      kafka: { type: 'string' }, redis: { type: 'string' }, 'http-host': { type: 'string' }, 'http-port': { type: 'string' },
      'data-dir': { type: 'string' }, 'node-id': { type: 'string' }, 'cluster-secret': { type: 'string' }, partitions: { type: 'string' }, 'replication-factor': { type: 'string' },
      auth: { type: 'boolean' }, 'tokens-file': { type: 'string' }, 'no-auto-create-databases': { type: 'boolean' },
      'default-tenant': { type: 'string' }, 'kafka-source': { type: 'boolean' }, 'no-kafka-source': { type: 'boolean' }, 'no-processor': { type: 'boolean' }, 'master-thread': { type: 'boolean' }, 'no-local-feed': { type: 'boolean' }, 'no-replica': { type: 'boolean' }, 'master-session-timeout-ms': { type: 'string' }, 'replica-flush-interval-ms': { type: 'string' }, 'heartbeat-interval-ms': { type: 'string' }, 'lossy-compression': { type: 'string' }, 'kafka-source-database': { type: 'string' }, producers: { type: 'string' }, 'parse-workers': { type: 'string' }, 'query-workers': { type: 'string' }, 'parallel-scan-min-points': { type: 'string' }, compression: { type: 'string' }, limit: { type: 'string', multiple: true, default: [] }, 'config-file': { type: 'string' }, 'mqtt-bridge': { type: 'string' },
      'otlp-endpoint': { type: 'string' }, 'v8-flags': { type: 'string' },
      cdc: { type: 'boolean' }, 'cdc-heartbeat-ms': { type: 'string' },
    },
    strict: true,
  })
  const file = readConfigFile(values['config-file'])
  const pick = <T>(flag: T | undefined, environment: T | undefined, key: string, fallback: T): T =>
    flag ?? environment ?? (file[key] as T | undefined) ?? fallback
  /** A yes/no setting: the file must hold true or false for it ("false" would have been taken for yes). */
  const pickBoolean = (flag: boolean | undefined, environment: boolean | undefined, key: string, fallback: boolean): boolean => {
    const fromFile = file[key]
    if (fromFile !== undefined && typeof fromFile !== 'boolean') throw new ConfigError(`--config-file ${values['config-file']}: ${key} must be true or false, not ${JSON.stringify(fromFile)}`)
    return flag ?? environment ?? fromFile ?? fallback
  }
  const brokers = pick(values.kafka, env.KAFKA_BROKERS, 'kafkaBrokers', defaults.kafkaBrokers as string[] | string)
  const kafkaBrokers = (Array.isArray(brokers) ? brokers : String(brokers).split(',')).map(b => b.trim()).filter(b => b.length > 0)
  if (kafkaBrokers.length === 0) throw new ConfigError('kafkaBrokers (--kafka) must name at least one host:port')
  const dataDir = pick(values['data-dir'], env.SLUICE_DATA_DIR, 'dataDir', defaults.dataDir)
  const envAuth = env.SLUICE_AUTH === undefined ? undefined : env.SLUICE_AUTH === 'true' || env.SLUICE_AUTH === '1'
  const fileLimits = (file.limits ?? {}) as Partial<HttpLimits>
  let limits: HttpLimits
  try {
    limits = httpLimits({ ...fileLimits, ...parseLimitPairs(values.limit) })
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
  const nodeId = String(pick(values['node-id'], env.SLUICE_NODE_ID, 'nodeId', defaults.nodeId))
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(nodeId)) throw new ConfigError(`nodeId (--node-id) must be 1-64 letters, digits, '.', '_' or '-', not "${nodeId}"`)
  return {
    kafkaBrokers,
    redisUrl: String(pick(values.redis, env.REDIS_URL, 'redisUrl', defaults.redisUrl)),
    httpHost: String(pick(values['http-host'], env.SLUICE_HTTP_HOST, 'httpHost', defaults.httpHost)),
    httpPort: positiveInteger('httpPort (--http-port)', pick<unknown>(values['http-port'], env.SLUICE_HTTP_PORT, 'httpPort', defaults.httpPort), true),
    dataDir,
    nodeId,
    ingestPartitions: positiveInteger('ingestPartitions (--partitions)', pick<unknown>(values.partitions, undefined, 'ingestPartitions', defaults.ingestPartitions)),
    ingestReplicationFactor: positiveInteger('ingestReplicationFactor (--replication-factor)', pick<unknown>(values['replication-factor'], undefined, 'ingestReplicationFactor', defaults.ingestReplicationFactor)),
    auth: pickBoolean(values.auth, envAuth, 'auth', defaults.auth),
    tokensFile: String(pick(values['tokens-file'], undefined, 'tokensFile', join(dataDir, 'tokens.json'))),
    defaultTenant: String(pick(values['default-tenant'], env.SLUICE_DEFAULT_TENANT, 'defaultTenant', defaults.defaultTenant)),
    autoCreateDatabases: values['no-auto-create-databases'] ? false : pickBoolean(undefined, undefined, 'autoCreateDatabases', defaults.autoCreateDatabases),
    producers: positiveInteger('producers (--producers)', pick<unknown>(values.producers, undefined, 'producers', defaults.producers)),
    parseWorkers: positiveInteger('parseWorkers (--parse-workers)', pick<unknown>(values['parse-workers'], undefined, 'parseWorkers', defaults.parseWorkers), true),
    queryWorkers: positiveInteger('queryWorkers (--query-workers)', pick<unknown>(values['query-workers'], undefined, 'queryWorkers', defaults.queryWorkers), true),
    parallelScanMinPoints: positiveInteger('parallelScanMinPoints (--parallel-scan-min-points)', pick<unknown>(values['parallel-scan-min-points'], undefined, 'parallelScanMinPoints', defaults.parallelScanMinPoints), true),
    compression: parseCompression(pick<unknown>(values.compression, undefined, 'compression', defaults.compression)),
    kafkaSource: values['no-kafka-source'] ? false : pickBoolean(values['kafka-source'], undefined, 'kafkaSource', defaults.kafkaSource),
    processor: values['no-processor'] ? false : pickBoolean(undefined, undefined, 'processor', defaults.processor),
    masterThread: pickBoolean(values['master-thread'], undefined, 'masterThread', defaults.masterThread),
    localFeed: values['no-local-feed'] ? false : pickBoolean(undefined, undefined, 'localFeed', defaults.localFeed),
    masterSessionTimeoutMs: positiveInteger('masterSessionTimeoutMs (--master-session-timeout-ms)', pick<unknown>(values['master-session-timeout-ms'], undefined, 'masterSessionTimeoutMs', defaults.masterSessionTimeoutMs)),
    replica: values['no-replica'] ? false : pickBoolean(undefined, undefined, 'replica', defaults.replica),
    replicaFlushIntervalMs: positiveInteger('replicaFlushIntervalMs (--replica-flush-interval-ms)', pick<unknown>(values['replica-flush-interval-ms'], undefined, 'replicaFlushIntervalMs', defaults.replicaFlushIntervalMs)),
    heartbeatIntervalMs: positiveInteger('heartbeatIntervalMs (--heartbeat-interval-ms)', pick<unknown>(values['heartbeat-interval-ms'], undefined, 'heartbeatIntervalMs', defaults.heartbeatIntervalMs)),
    cdc: pickBoolean(values.cdc, undefined, 'cdc', defaults.cdc),
    cdcHeartbeatMs: positiveInteger('cdcHeartbeatMs (--cdc-heartbeat-ms)', pick<unknown>(values['cdc-heartbeat-ms'], undefined, 'cdcHeartbeatMs', defaults.cdcHeartbeatMs)),
    kafkaSourceDatabase: pick<string | undefined>(values['kafka-source-database'], undefined, 'kafkaSourceDatabase', undefined),
    schemaRegistryPrefix: String(pick(undefined, undefined, 'schemaRegistryPrefix', defaults.schemaRegistryPrefix)),
    mqttBridge: pick<string | undefined>(values['mqtt-bridge'], undefined, 'mqttBridge', undefined),
    lossyCompression: lossySettings(values['lossy-compression'], file.lossyCompression),
    clusterSecret: pick<string | undefined>(values['cluster-secret'], env.SLUICE_CLUSTER_SECRET, 'clusterSecret', undefined),
    otlpEndpoint: otlpEndpoint(pick<string | undefined>(values['otlp-endpoint'], env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined, 'otlpEndpoint', undefined)),
    otlpMetricsIntervalMs: positiveInteger('otlpMetricsIntervalMs (OTEL_METRIC_EXPORT_INTERVAL)', pick<unknown>(undefined, env.OTEL_METRIC_EXPORT_INTERVAL, 'otlpMetricsIntervalMs', defaults.otlpMetricsIntervalMs)),
    otlpSpanDelayMs: positiveInteger('otlpSpanDelayMs (OTEL_BSP_SCHEDULE_DELAY)', pick<unknown>(undefined, env.OTEL_BSP_SCHEDULE_DELAY, 'otlpSpanDelayMs', defaults.otlpSpanDelayMs)),
    limits,
    v8Flags: v8Flags(pick<unknown>(values['v8-flags'], env.SLUICE_V8_FLAGS, 'v8Flags', defaults.v8Flags)),
  }
}

/** Space-separated flags, each beginning with "--" (V8 would ignore anything else without a word). */
function v8Flags(value: unknown): string {
  const text = String(value).trim()
  const flags = text.split(/\s+/).filter(flag => flag !== '')
  const wrong = flags.filter(flag => !flag.startsWith('--'))
  if (wrong.length > 0) throw new ConfigError(`v8Flags (--v8-flags) takes V8 flags such as --interrupt-budget=16384, each beginning with "--", not ${wrong.map(flag => `"${flag}"`).join(', ')}`)
  // V8 reports a flag it does not know on stderr and starts without it: refuse it here instead.
  // The default is known good: a start without flags of its own spawns no `node --v8-options`.
  if (flags.length === 0) return ''
  if (text === DEFAULT_V8_FLAGS) return text
  const known = knownV8Flags()
  const unknown = flags.filter(flag => !known.has(v8FlagName(flag)))
  if (unknown.length > 0) throw new ConfigError(`v8Flags (--v8-flags): V8 has no flag ${unknown.map(flag => `"${flag}"`).join(', ')} (node --v8-options lists them)`)
  return text
}

/** "--no-max-lazy", "--max_lazy", "--interrupt-budget=8192" → "max-lazy", "interrupt-budget". */
function v8FlagName(flag: string): string {
  const name = flag.slice(2).split('=')[0]!.replaceAll('_', '-')
  return name.startsWith('no-') ? name.slice(3) : name
}

/** The flag names `node --v8-options` lists (read once, only for flags other than the default). */
function knownV8Flags(): Set<string> {
  const listing = execFileSync(process.execPath, ['--v8-options'], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  return new Set([...listing.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map(match => match[1]!))
}
