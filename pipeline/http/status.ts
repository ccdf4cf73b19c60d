// GET|HEAD /ping and GET /health: what client libraries, the influx CLI and load balancers probe.
// /ping (GET, and HEAD, which fastify derives from GET) answers 204 with the version headers (200
// {"version"} with ?verbose=true), as InfluxDB 1.x;
// /health answers InfluxDB's shape, 200 "pass" or 503 "fail" when Kafka or Redis does not answer.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { DEFAULT_INFLUX_VERSION, queryString, type HealthCheck, type HttpApiOptions } from './context.ts'

export function registerStatusRoutes(app: FastifyInstance, options: HttpApiOptions): void {
  const version = options.influxVersion ?? DEFAULT_INFLUX_VERSION
  const ping = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const verbose = queryString(request.query, 'verbose')
    if (verbose !== undefined && verbose !== '' && verbose !== 'false') return reply.code(200).send({ version })
    return reply.code(204).send()
  }
  app.get('/ping', { schema: { querystring: { type: 'object', properties: { verbose: { type: 'string' } } } } }, ping)

  app.get('/health', async (_request, reply) => {
    const checks: HealthCheck[] = options.healthChecks ? await options.healthChecks() : []
    const pass = checks.every(check => check.status === 'pass')
    return reply.code(pass ? 200 : 503).send({
      name: 'sluice',
      message: pass ? 'ready for queries and writes' : `not ready: ${checks.filter(c => c.status === 'fail').map(c => c.name).join(', ')} failing`,
      status: pass ? 'pass' : 'fail',
      checks,
      version: options.sluiceVersion,
      nodeId: options.nodeId,
    })
  })
}
