// A Sluice node, composed: kafkajs (admin for sluice.ingest, transactional producers for writes),
// the control store (Redis through ioredis), the schema registry, and the fastify app serving the
// HTTP write API and the registry's Confluent routes, the master processor, and the replica (apply
// loop, membership heartbeats, /api/v1/replicaset routes). `sluice node` runs one; `sluice start` runs one
// beside the embedded broker.

import '../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import kafkajs, { type Admin, type Kafka, type logCreator } from 'kafkajs'
import { Redis } from 'ioredis'
import {
  Authorizer, Dialect, errorResponse, HttpApiError, HttpErrorCode, httpApi, parseCredentials, IdempotencyKeys, MemoryControlStore, ParsePool, RedisControlStore, TokenDirectory, TransactionalKafkaWriter, WriteCatalog,
  type ControlStore, type HealthCheck, type InfluxqlRequest,
} from '../pipeline/http/index.ts'
import { lineProtocolLimits } from '../pipeline/ingest/index.ts'
import { startKafkaSource } from '../pipeline/source/index.ts'
import { CommandWriter } from '../pipeline/commands/index.ts'
import { inlineMaster, LossyCompression, startMasterThread, startProcessor, type MasterHandle } from '../pipeline/processor/index.ts'
import { CompressionReport, formatCodec, resolveCompression, type CompressionReportRow } from '../pipeline/transforms/index.ts'
import { openKafkaSchemaRegistry } from '../pipeline/registry/kafka-store.ts'
import { registerKafkaCodecs } from '../pipeline/source/codecs.ts'
import { registryRoutes, type SchemaRegistry, topicValueSubjects } from '../schemas/index.ts'
import { Membership, MemoryMemberStore, RedisMemberStore, replicaSetRoutes, startReplica, type MemberStore } from '../replicaset/index.ts'
import { executeInfluxql, executeSql, ScanPool, type QueryResult } from '../query/index.ts'
import { changesRoutes, startCdcLoop, type PartitionStore } from '../sinks/index.ts'
import { ConfigError, type NodeConfig } from './node-config.ts'
import { formatExposition, instrumentHttp, metrics, observeQuery, PROMETHEUS_CONTENT_TYPE, QueryLanguage, registerNodeCollectors, startOtlp, traceLogFields } from '../lib/telemetry/index.ts'
import { consoleRoutes } from '../console/serve.ts'
import { CommittedFeed } from '../lib/kafka/committed-feed.ts'

const { Kafka: KafkaClient, logLevel } = kafkajs

export const INGEST_TOPIC = 'sluice.ingest'
export const SLUICE_VERSION = '0.1.0'
/** How long start-up waits for Kafka and Redis before giving up. */
const STARTUP_TIMEOUT_MS = 30_000
/** How long a /health probe waits for each dependency. */
const HEALTH_TIMEOUT_MS = 2_000

export interface RunningNode {
  url: string
  port: number
  ingestPartitions: number
  ingestSchemaId: number
  close(): Promise<void>
}

function kafkaLogger(logger: FastifyBaseLogger): logCreator {
  return () => ({ level, log }) => {
    // Expected with a bounded retry budget: a failed transaction drops its producer, so stale sequence numbers never matter.
    if (log.message === 'Limiting retries for the idempotent producer may invalidate EoS guarantees') return
    const fields = { event: 'kafkajs', namespace: log.namespace, ...log }
    if (level === logLevel.ERROR) logger.error(fields, log.message)
    else if (level === logLevel.WARN) logger.warn(fields, log.message)
  }
}

async function withDeadline<T>(what: string, timeoutMs: number, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      work(),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs) }),
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Creates sluice.ingest if missing; returns the partition count the topic really has. */
async function ensureIngestTopic(admin: Admin, config: NodeConfig, logger: FastifyBaseLogger): Promise<number> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS
  for (;;) {
    try {
      await admin.connect()
      const topics = await admin.listTopics()
      if (!topics.includes(INGEST_TOPIC)) {
        const created = await admin.createTopics({
          topics: [{ topic: INGEST_TOPIC, numPartitions: config.ingestPartitions, replicationFactor: config.ingestReplicationFactor }],
          waitForLeaders: true,
        })
        logger.info({ event: 'topic_created', topic: INGEST_TOPIC, partitions: config.ingestPartitions, created }, 'sluice.ingest created')
      }
      const metadata = await admin.fetchTopicMetadata({ topics: [INGEST_TOPIC] })
      const partitions = metadata.topics[0]?.partitions.length ?? 0
      if (partitions < 1) throw new Error(`${INGEST_TOPIC} has no partitions`)
      return partitions
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Kafka at ${config.kafkaBrokers.join(',')} did not answer within ${STARTUP_TIMEOUT_MS} ms: ${(error as Error).message}`)
      logger.warn({ event: 'kafka_wait', error: (error as Error).message }, 'waiting for Kafka')
      await new Promise(resolve => setTimeout(resolve, 500))
    }
  }
}

async function connectControlStore(config: NodeConfig): Promise<{ store: ControlStore; members: MemberStore; ping: () => Promise<void> }> {
  if (config.redisUrl === 'memory') return { store: new MemoryControlStore(), members: new MemoryMemberStore(), ping: async () => {} }
  // No offline queue: while Redis is down a command fails at once (503) instead of waiting.
  const redis = new Redis(config.redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5_000 })
  redis.on('error', () => {}) // reconnects by itself; each failed command reports its own error
  await withDeadline(`Redis at ${config.redisUrl}`, STARTUP_TIMEOUT_MS, () => redis.connect())
  return { store: new RedisControlStore(redis), members: new RedisMemberStore(redis), ping: async () => { await redis.ping() } }
}

/** Registers Sluice's own value schemas; returns the id each subject got. */
async function registerSchemas(registry: SchemaRegistry): Promise<Map<string, number>> {
  const ids = new Map<string, number>()
  for (const [subject, type] of Object.entries(topicValueSubjects)) {
    const { id } = await registry.register(subject, { schema: type.schema })
    ids.set(subject, id)
  }
  return ids
}

function schemaId(ids: Map<string, number>, subject: string): number {
  const id = ids.get(subject)
  if (id === undefined) throw new Error(`no schema for ${subject} in topicValueSubjects`)
  return id
}

function healthChecks(admin: Admin, pingRedis: () => Promise<void>): () => Promise<HealthCheck[]> {
  const probe = async (name: string, work: () => Promise<unknown>): Promise<HealthCheck> => {
    try {
      await withDeadline(name, HEALTH_TIMEOUT_MS, work)
      return { name, status: 'pass' }
    } catch (error) {
      return { name, status: 'fail', message: (error as Error).message }
    }
  }
  return () => Promise.all([probe('kafka', () => admin.describeCluster()), probe('redis', pingRedis)])
}

function buildApp(config: NodeConfig): FastifyInstance {
  return Fastify({
    // JSON logs on stderr, one event per line; stdout carries only the "listening" line.
    // Lines written inside a span carry its trace_id and span_id (docs/observability.md).
    logger: { level: process.env.SLUICE_LOG_LEVEL ?? 'info', base: { node: config.nodeId }, stream: process.stderr, mixin: traceLogFields },
    // No line per request (fastify's "incoming request" and "request completed"); routes log their
    // warnings and errors. This, rather than routes at logLevel 'warn': a route level other than the
    // logger's made fastify build each request's child logger with its own level, a pino setLevel per request.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.limits.maxBodyBytes,
    // Clients such as Telegraf keep connections alive between batches.
    keepAliveTimeout: 65_000,
  })
}

export async function startNode(config: NodeConfig): Promise<RunningNode> {
  // Before the HTTP and query paths run for the first time (V8 sets a function's budget as it first runs it).
  if (config.v8Flags !== '') setFlagsFromString(config.v8Flags)
  // A bad MQTT bridge config is refused before anything connects.
  const mqttBridgeConfig = config.mqttBridge === undefined ? undefined : await loadMqttBridgeConfig(config.mqttBridge)
  mkdirSync(config.dataDir, { recursive: true })
  const app = buildApp(config)
  const logger = app.log
  // OTLP export only when an endpoint is configured (the SDK is loaded only then); HTTP metrics on every route.
  const otlp = config.otlpEndpoint === undefined ? undefined : await startOtlp({
    endpoint: config.otlpEndpoint, serviceName: 'sluice', serviceVersion: SLUICE_VERSION, instanceId: config.nodeId,
    registry: metrics().registry, metricsIntervalMs: config.otlpMetricsIntervalMs, spanDelayMs: config.otlpSpanDelayMs,
  })
  instrumentHttp(app, { tracing: otlp !== undefined, routesWithOwnSpans: WRITE_ROUTES })
  const kafkaSettings = {
    clientId: `sluice-${config.nodeId}`,
    brokers: config.kafkaBrokers,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    // Few, short retries: a write waiting on a dead broker is answered 503 soon, and the client retries.
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
  }
  const kafka: Kafka = new KafkaClient({ ...kafkaSettings, logCreator: kafkaLogger(logger) })
  const admin = kafka.admin()
  const ingestPartitions = await ensureIngestTopic(admin, config, logger)
  const { store, members, ping } = await connectControlStore(config)
  // Readers of sluice.ingest must decode every codec a producer may use (the write path uses LZ4).
  registerKafkaCodecs()
  const schemas = await openKafkaSchemaRegistry({
    kafka,
    nodeId: config.nodeId,
    onBadRecord: (error, where) => logger.warn({ event: 'schemas_bad_record', ...where, error: error.message }, 'skipped a bad _schemas record'),
    onRestart: fields => logger.warn({ ...fields, component: 'schemas' }, 'the _schemas consumer is started again'),
  })
  const registry = schemas.registry
  const schemaIds = await registerSchemas(registry)
  const ingestSchemaId = schemaId(schemaIds, `${INGEST_TOPIC}-value`)
  const writer = new TransactionalKafkaWriter({
    kafka,
    topic: INGEST_TOPIC,
    transactionalIdPrefix: `sluice-http-${config.nodeId}`,
    producers: config.producers,
    transactionTimeoutMs: config.limits.transactionTimeoutMs,
    compression: config.compression,
    maxQueuedRecordBytes: config.limits.maxQueuedRecordBytes,
    maxTransactionRecords: config.limits.maxTransactionRecords,
    maxTransactionBytes: config.limits.maxTransactionBytes,
    maxPartitionBatchBytes: config.limits.maxPartitionBatchBytes,
    logger,
  })
  await writer.start()
  const commands = new CommandWriter({ kafka, transactionalId: `sluice-commands-${config.nodeId}`, topic: INGEST_TOPIC, partitions: ingestPartitions, schemaId: ingestSchemaId })
  // Parse and encode on every core; the field type check and the Kafka transaction stay on this thread.
  const parsePool = config.parseWorkers > 0 ? new ParsePool({ size: config.parseWorkers, logger }) : undefined
  await parsePool?.ready()
  // Off by default: on 2 cores it made decode-heavy queries slower, though it frees this thread (docs/benchmarks.md).
  const scanPool = config.queryWorkers > 0 ? new ScanPool({ size: config.queryWorkers }) : undefined
  await scanPool?.ready()
  const catalog = new WriteCatalog(store, { autoCreateDatabases: config.autoCreateDatabases })
  /** The replica's stores for a query; refused (503, retriable) while the replica catches up, so no answer comes from old data. */
  const servingStores = (): Iterable<PartitionStore> => {
    const behind = replica?.catchingUp() ?? []
    if (behind.length > 0) {
      const where = behind.map(p => p.target < 0n ? `partition ${p.partition} not yet reading` : `partition ${p.partition} at ${p.position} of ${p.target}`).join(', ')
      throw new HttpApiError(HttpErrorCode.REPLICA_CATCHING_UP, `this node's replica is catching up with sluice.changelog (${where}); retry, or ask a node that GET /api/v1/replicaset shows healthy`)
    }
    return replica?.stores().values() ?? []
  }
  /** Lossy compression as decided by the masters on this node (its partitions only), optionally of one tenant's database. */
  const compressionReport = async (of?: { tenant: string; database: string }): Promise<CompressionReportRow[]> => {
    const report = new CompressionReport()
    for (const filter of await processor?.compressionFilters() ?? []) {
      if (of && (filter.tenant !== of.tenant || filter.database !== of.database)) continue
      report.add(filter.database, filter.measurement, filter.field, filter.counters)
    }
    return report.rows()
  }
  /** The codec of each report row's field now: a SET_CODEC override (any master holds them all), else the config file's. */
  const codecNames = async (of: { tenant: string; database: string }, rows: readonly CompressionReportRow[]): Promise<string[]> => {
    const fields = rows.map(row => [row.measurement, row.field] as const)
    const codecs = processor ? await processor.codecs(of.tenant, of.database, fields) : fields.map(([measurement, field]) => resolveCompression(config.lossyCompression, of.database, measurement, field))
    return codecs.map(formatCodec)
  }
  const compressionAnswer = async (of: { tenant: string; database: string }): Promise<QueryResult> => {
    const rows = await compressionReport(of)
    return compressionResult(rows, await codecNames(of, rows))
  }
  const authorizer = new Authorizer({ enabled: config.auth, defaultTenant: config.defaultTenant, tokens: new TokenDirectory(config.tokensFile) })
  await app.register(httpApi, {
    sink: writer,
    catalog,
    authorizer,
    idempotency: new IdempotencyKeys(store, config.limits),
    ingestPartitions,
    ingestSchemaId,
    commands,
    // Queries read this node's replica, which starts below; requests arrive only after listen().
    ...(config.replica ? {
      query: (sql: string, context: { tenant: string; database: string }, caller?: { visible: (database: string) => boolean }) => observeQuery(QueryLanguage.SQL, sql, context.database, async () => SHOW_COMPRESSION.test(sql)
        ? await compressionAnswer(context)
        : executeSql(sql, {
          ...context, stores: servingStores(), nowNs: BigInt(Date.now()) * 1_000_000n,
          ...(scanPool !== undefined ? { parallelScans: { pool: scanPool, minPointsToDecode: config.parallelScanMinPoints } } : {}),
          listDatabases: async () => (await catalog.listDatabases(context.tenant)).filter(caller?.visible ?? (() => true)),
        })),
      influxql: (q: string, request: InfluxqlRequest) => observeQuery(QueryLanguage.INFLUXQL, q, request.database ?? '', () => executeInfluxql(q, { ...request, stores: servingStores(), nowNs: BigInt(Date.now()) * 1_000_000n })),
    } : {}),
    ...(parsePool !== undefined ? { parsePool } : {}),
    limits: config.limits,
    lineProtocolLimits: lineProtocolLimits({ maxBodyBytes: config.limits.maxBodyBytes }),
    sluiceVersion: SLUICE_VERSION,
    nodeId: config.nodeId,
    healthChecks: healthChecks(admin, ping),
  })
  await app.register(registryRoutes, { registry, prefix: config.schemaRegistryPrefix })
  // The Kafka source shares the catalog, so Kafka writes keep the same databases and field types.
  const source = config.kafkaSource
    ? await startKafkaSource({
      brokers: config.kafkaBrokers, clientId: `sluice-source-${config.nodeId}`, partitions: ingestPartitions, ingestSchemaId,
      schemas: registry, catalog, defaultTenant: config.defaultTenant,
      ...(config.kafkaSourceDatabase !== undefined ? { defaultDatabase: config.kafkaSourceDatabase } : {}),
      log: event => logger.info({ component: 'kafka-source', ...event }, String(event.event ?? 'kafka source')),
    })
    : undefined
  /** The master runs in a worker thread of its own (--master-thread), except with tracing: the trace exporter runs on this thread. */
  const masterOnItsOwnThread = config.masterThread && otlp === undefined
  // This node's master hands its committed changelog to this node's replica (docs/replicaset.md#the-local-feed).
  const changelogFeed = config.localFeed && config.processor && config.replica && !masterOnItsOwnThread ? new CommittedFeed() : undefined
  const processor: MasterHandle | undefined = config.processor ? await startMaster() : undefined
  // The replica starts after the processor, which creates sluice.changelog (docs/replicaset.md).
  const replica = config.replica
    ? await startReplica({
      kafka, nodeId: config.nodeId, dir: join(config.dataDir, 'replica'), partitions: ingestPartitions,
      timings: { flushIntervalMs: config.replicaFlushIntervalMs },
      ...(changelogFeed !== undefined ? { changelogFeed } : {}),
      // A partition whose changelog start is gone is copied from a peer (docs/replicaset.md, "Catching up").
      peers: async () => (await members.list())
        .filter(member => member.id !== config.nodeId && member.address !== '' && member.health !== 'failed')
        .map(member => ({ id: member.id, url: member.address, appliedOffsets: new Map(member.partitions.map(p => [p.partition, BigInt(p.appliedOffset)])) })),
      ...(config.clusterSecret !== undefined ? { clusterSecret: config.clusterSecret } : {}),
      log: event => logger.info({ component: 'replica', ...event }, String(event.event ?? 'replica')),
    })
    : undefined
  // The change feed: sluice.changelog → sluice.cdc (--cdc), and GET /api/v1/changes on every node (docs/cdc.md).
  const cdc = config.cdc
    ? await startCdcLoop({
      kafka, cdcSchemaId: schemaId(schemaIds, 'sluice.cdc-value'), version: SLUICE_VERSION, sessionTimeoutMs: config.masterSessionTimeoutMs,
      log: event => logger.info({ component: 'cdc', ...event }, String(event.event ?? 'cdc')),
    })
    : undefined
  changesRoutes(app, {
    kafka, nodeId: config.nodeId, version: SLUICE_VERSION, heartbeatMs: config.cdcHeartbeatMs,
    authorizeRead: (request, database) => {
      const query = request.query as Record<string, unknown>
      const access = authorizer.authenticate(parseCredentials(query, request.headers.authorization), typeof query.tenant === 'string' && query.tenant ? query.tenant : undefined, Dialect.CNOSDB)
      authorizer.authorize(access, database, 'read')
      return { tenant: access.tenant }
    },
    sendError: (_request, reply, error) => {
      if (!(error instanceof HttpApiError)) throw error
      const { status, headers, body } = errorResponse(error, Dialect.CNOSDB, config.limits.retryAfterSeconds)
      return reply.code(status).headers(headers).send(body)
    },
  })
  // The MQTT bridge shares the write path: the writer (its batches group-commit with HTTP writes), the catalog, the schema id.
  const mqttBridge = mqttBridgeConfig === undefined ? undefined : await startNodeMqttBridge(mqttBridgeConfig, {
    sink: writer, catalog, kafka, ingestPartitions, ingestSchemaId, defaultTenant: config.defaultTenant, lineProtocolLimits: lineProtocolLimits({ maxBodyBytes: config.limits.maxBodyBytes }),
    log: event => logger[event.level === 'warn' || event.level === 'error' ? event.level : 'info']({ component: 'mqtt-bridge', ...event }, String(event.event ?? 'mqtt bridge')),
  })
  /** The master: in a worker thread of its own with --master-thread (not when tracing: the trace exporter runs on this thread), else on this one. */
  async function startMaster(): Promise<MasterHandle> {
    const changelogSchemaId = schemaId(schemaIds, 'sluice.changelog-value')
    const lossy = { config: config.lossyCompression, stateSchemaId: schemaId(schemaIds, 'sluice.state-value') }
    const log = (event: Record<string, unknown>): void => {
      const level = event.level === 'error' ? 'error' : event.level === 'warn' ? 'warn' : 'info'
      logger[level]({ component: 'processor', ...event }, String(event.event ?? 'processor'))
    }
    if (masterOnItsOwnThread) {
      return startMasterThread({
        kafka: kafkaSettings, changelogSchemaId, lossy, sessionTimeoutMs: config.masterSessionTimeoutMs, log, kafkaLog: kafkaLogger(logger),
        observeTransaction: (seconds, records) => {
          metrics().transactionDuration.labels('master').observe(seconds)
          metrics().transactionRecords.labels('master').observe(records)
        },
        // A node without its master would take writes it never replicates: stop, loudly, and let the supervisor restart it.
        onFatal: error => {
          logger.fatal({ component: 'processor', event: 'master thread failed', error: error.message }, 'the master thread died and could not be started again; stopping the node')
          process.exit(70)
        },
      })
    }
    const inline = await startProcessor({ kafka, changelogSchemaId, compressionFor: () => new LossyCompression(lossy), sessionTimeoutMs: config.masterSessionTimeoutMs, log, ...(changelogFeed !== undefined ? { changelogFeed } : {}) })
    return inlineMaster(inline, config.lossyCompression)
  }
  let nodeUrl = ''
  const membership = new Membership({
    store: members, nodeId: config.nodeId, address: () => nodeUrl, masters: () => processor?.partitions() ?? [], replica,
    heartbeatIntervalMs: config.heartbeatIntervalMs, memberTtlMs: 5 * config.heartbeatIntervalMs,
    log: event => logger.warn({ component: 'membership', ...event }, String(event.event ?? 'membership')),
  })
  replicaSetRoutes(app, { nodeId: config.nodeId, membership, replica, auth: config.auth, clusterSecret: config.clusterSecret })
  // Lossy compression as decided by the masters on this node: its partitions only (docs/lossy-compression.md).
  app.get('/api/v1/compression', async () => ({ node: config.nodeId, partitions: processor?.partitions() ?? [], fields: await compressionReport() }))
  // The web console at / (docs/console.md): static files; it reads only the public APIs above, with the user's token.
  consoleRoutes(app)
  // Prometheus text of this node's metrics (docs/observability.md); the components' own counts are read at each scrape.
  const removeCollectors = registerNodeCollectors(metrics(), { processor, replica, cdc, mqttBridge, kafkaSource: source, compression: processor ? () => compressionReport() : undefined })
  app.get('/metrics', async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(formatExposition(await metrics().registry.collect())))
  const address = await app.listen({ host: config.httpHost, port: config.httpPort })
  const port = (app.server.address() as { port: number }).port
  nodeUrl = `http://${config.httpHost}:${port}`
  await membership.start()
  logger.info({ event: 'node_started', address, ingestPartitions, ingestSchemaId, auth: config.auth, kafka: config.kafkaBrokers, kafkaSource: config.kafkaSource, processor: config.processor, replica: config.replica, cdc: config.cdc }, 'node started')

  let closing: Promise<void> | undefined
  return {
    url: nodeUrl,
    port,
    ingestPartitions,
    ingestSchemaId,
    close: () => closing ??= (async () => {
      await app.close() // stops accepting; waits for requests in progress, whose writes the writer finishes
      await membership.stop() // the others see this node leave at once, not after its record expires
      await mqttBridge?.stop() // before the writer closes: its last batch is written and acknowledged
      await source?.stop()
      await cdc?.stop()
      await processor?.stop()
      await replica?.stop() // flushes every store: a clean restart replays nothing
      await writer.close()
      await parsePool?.close()
      await scanPool?.close()
      await commands.close()
      await schemas.close()
      await store.close()
      await admin.disconnect().catch(() => {})
      removeCollectors()
      logger.info({ event: 'node_stopped' }, 'node stopped')
      await otlp?.shutdown() // sends the spans and metrics still buffered
    })(),
  }
}

// The bridge's modules (mqtt.js among them) are loaded only when a node runs one.
type MqttModule = typeof import('../pipeline/mqtt/index.ts')

async function loadMqttBridgeConfig(configFile: string): Promise<ReturnType<MqttModule['loadBridgeConfig']>> {
  const { loadBridgeConfig, MqttBridgeError } = await import('../pipeline/mqtt/index.ts')
  try {
    return loadBridgeConfig(configFile)
  } catch (error) {
    throw error instanceof MqttBridgeError ? new ConfigError(`mqttBridge (--mqtt-bridge): ${error.message}`) : error
  }
}

async function startNodeMqttBridge(config: ReturnType<MqttModule['loadBridgeConfig']>, shared: Omit<Parameters<MqttModule['startMqttBridge']>[0], 'config'>): Promise<Awaited<ReturnType<MqttModule['startMqttBridge']>>> {
  return (await import('../pipeline/mqtt/index.ts')).startMqttBridge({ ...shared, config })
}

/** The write endpoints make their own server spans (pipeline/http/tracing.ts), which carry the traceparent into Kafka. */
const WRITE_ROUTES: ReadonlySet<string> = new Set(['/write', '/api/v2/write', '/api/v1/write'])

/** `SHOW COMPRESSION`: the lossy-compression report of the request's database, as a query result. */
const SHOW_COMPRESSION = /^\s*show\s+compression\s*;?\s*$/i

function compressionResult(rows: CompressionReportRow[], codecs: readonly string[]): QueryResult {
  return {
    columns: [
      { name: 'measurement', type: 'string' }, { name: 'field', type: 'string' }, { name: 'series', type: 'integer' },
      { name: 'points_in', type: 'integer' }, { name: 'points_kept', type: 'integer' }, { name: 'ratio', type: 'float' }, { name: 'max_error', type: 'float' },
      { name: 'codec', type: 'string' },
    ],
    rows: rows.map((row, i) => [row.measurement, row.field, BigInt(row.series), BigInt(row.pointsIn), BigInt(row.pointsKept), row.compressionRatio, row.maxError, codecs[i]!]),
    stats: { pointsScanned: 0, pointsFromBlockStats: 0 },
  }
}
