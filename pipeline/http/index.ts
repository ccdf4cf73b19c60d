// pipeline/http: the InfluxDB- and CnosDB-compatible HTTP write API (fastify plugin `httpApi`): routing,
// parameters, auth and tokens, Idempotency-Key, the error-to-status mapping, and landing records in
// sluice.ingest through a transactional, group-committing Kafka writer. It does not parse line protocol
// (pipeline/ingest) or own the Kafka and Redis connections (the node, bin/node.ts, hands them in).

export { httpApi } from './plugin.ts'
export type { InfluxqlFunction, InfluxqlRequest } from './query.ts'
export { DEFAULT_INFLUX_VERSION, type HttpApiOptions, type HealthCheck } from './context.ts'
export { httpLimits, defaultHttpLimits, type HttpLimits } from './limits.ts'
export { HttpApiError, HttpErrorCode, Dialect, statusFor, errorResponse, type HttpErrorCodeValue, type DialectValue } from './errors.ts'
export { Authorizer, parseCredentials, type AuthOptions, type Access } from './auth.ts'
export { TokenDirectory, createToken, revokeToken, readTokenFile, hashSecret, type TokenRecord, type Permission } from './tokens.ts'
export { RedisControlStore, MemoryControlStore, controlKeys, type ControlStore } from './control-store.ts'
export { WriteCatalog, type CatalogOptions } from './catalog.ts'
export { IdempotencyKeys, IDEMPOTENT_REPLAY_HEADER } from './idempotency.ts'
export { ParsePool, DEFAULT_MAX_QUEUED_BODY_BYTES, defaultParseWorkers, type ParsePoolOptions } from './parse-pool.ts'
export { TransactionalKafkaWriter, WriteCompression, type RecordSink, type Logger, type TransactionalWriterOptions } from './kafka-writer.ts'
