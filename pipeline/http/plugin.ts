// The HTTP API as one fastify plugin: write endpoints, /query, /ping and /health, with InfluxDB's
// version headers on every answer and errors rendered per endpoint dialect (errors.ts).

import type { FastifyPluginAsync } from 'fastify'
import { DEFAULT_INFLUX_VERSION, sendError, type HttpApiOptions } from './context.ts'
import { registerQueryRoutes } from './query.ts'
import { registerSqlRoutes } from './sql.ts'
import { registerStatusRoutes } from './status.ts'
import { registerWriteRoutes } from './write.ts'

export const httpApi: FastifyPluginAsync<HttpApiOptions> = async (app, options) => {
  const influxVersion = options.influxVersion ?? DEFAULT_INFLUX_VERSION
  const versionHeaders = { 'X-Influxdb-Version': influxVersion, 'X-Influxdb-Build': 'OSS', 'X-Sluice-Version': options.sluiceVersion, 'X-Sluice-Node': options.nodeId }
  // A callback hook, not an async one: no promise per answer.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(versionHeaders)
    done(null, payload)
  })
  // Errors thrown before a handler runs (body too large, schema validation) land here.
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error, options.limits.retryAfterSeconds))
  await app.register(async write => registerWriteRoutes(write, options))
  await app.register(async query => registerQueryRoutes(query, options))
  await app.register(async sql => registerSqlRoutes(sql, options))
  registerStatusRoutes(app, options)
}
