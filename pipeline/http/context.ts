// What the HTTP API's routes share: the collaborators a node hands the plugin, and the small request
// helpers every route family uses (dialect of a route, error answers, version headers).

import type { FastifyReply, FastifyRequest } from 'fastify'
import type { LineProtocolLimits } from '../ingest/index.ts'
import type { Authorizer } from './auth.ts'
import type { WriteCatalog } from './catalog.ts'
import { errorResponse, toHttpApiError, type DialectValue } from './errors.ts'
import type { IdempotencyKeys } from './idempotency.ts'
import type { ParsePool } from './parse-pool.ts'
import type { RecordSink } from './kafka-writer.ts'
import type { HttpLimits } from './limits.ts'
import type { CommandSink, QueryFunction } from './sql.ts'
import type { InfluxqlFunction } from './query.ts'

export interface HealthCheck {
  name: string
  status: 'pass' | 'fail'
  message?: string
}

export interface HttpApiOptions {
  sink: RecordSink
  catalog: WriteCatalog
  authorizer: Authorizer
  idempotency: IdempotencyKeys
  /** Partitions of sluice.ingest, as the topic has them. */
  ingestPartitions: number
  /** Registry id of subject sluice.ingest-value, written in every record's Confluent header. */
  ingestSchemaId: number
  limits: HttpLimits
  lineProtocolLimits: LineProtocolLimits
  /** X-Influxdb-Version: the InfluxDB API level Sluice answers as. Default "1.8.10". */
  influxVersion?: string
  /** X-Sluice-Version. */
  sluiceVersion: string
  nodeId: string
  /** Dependencies /health reports on (Kafka, Redis); none means always healthy. */
  healthChecks?: () => Promise<HealthCheck[]>
  /** Where UPDATE and DELETE from /api/v1/sql go; without, /api/v1/sql answers 501. */
  commands?: CommandSink
  /**
   * Worker threads that parse and encode line protocol bodies (the node starts one per core); without,
   * the request's own thread does it.
   */
  parsePool?: ParsePool
  /** Answers SELECT, SHOW TABLES and DESCRIBE on /api/v1/sql (the query layer over this node's stores); without, they get 501. */
  query?: QueryFunction
  /** Answers InfluxQL on /query (query/influxql over this node's stores); without, /query takes only CREATE DATABASE and SHOW DATABASES. */
  influxql?: InfluxqlFunction
  /** Server time in ns (a seam for tests). Default: the wall clock. */
  nowNs?: () => bigint
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Which client conventions a route answers errors with. */
    dialect?: DialectValue
  }
}

export const DEFAULT_INFLUX_VERSION = '1.8.10'

export function wallClockNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n
}

export function dialectOf(request: FastifyRequest): DialectValue {
  return request.routeOptions.config.dialect ?? 'influx1'
}

/** Sends an error the way the route's clients expect it; logs server-side failures with their cause. */
export function sendError(request: FastifyRequest, reply: FastifyReply, thrown: unknown, retryAfterSeconds: number): FastifyReply {
  const error = toHttpApiError(thrown)
  const { status, headers, body } = errorResponse(error, dialectOf(request), retryAfterSeconds)
  if (status >= 500) request.log.warn({ event: 'http_error', code: error.code, status, err: error.cause ?? error }, error.message)
  return reply.code(status).headers(headers).send(body)
}

/** A query parameter as a string, or undefined (repeated parameters: the first). */
export function queryString(query: unknown, name: string): string | undefined {
  const value = (query as Record<string, unknown> | undefined)?.[name]
  if (Array.isArray(value)) return typeof value[0] === 'string' ? value[0] : undefined
  return typeof value === 'string' ? value : undefined
}
