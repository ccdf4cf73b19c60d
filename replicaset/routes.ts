// HTTP routes of the replica set: GET /api/v1/replicaset (members, master per partition, lag,
// health), GET /api/v1/replicaset/checksum (this node's content checksum and the offsets it was
// taken at), GET /api/v1/replicaset/positions, and POST /api/v1/replicaset/wait (read-your-writes:
// wait until this node applied the ingest positions a write or command answer carried).

import type { FastifyInstance } from 'fastify'
import { isReplicaError, ReplicaErrorCode, type ReplicaErrorCodeValue } from './errors.ts'
import { replicaLimits } from './limits.ts'
import type { Membership } from './membership.ts'
import type { IngestPosition, Replica } from './replica.ts'

export interface ReplicaSetRoutesOptions {
  nodeId: string
  membership: Membership
  replica: Replica | undefined
}

const STATUS_OF: Record<ReplicaErrorCodeValue, number> = {
  [ReplicaErrorCode.WAIT_TIMEOUT]: 504,
  [ReplicaErrorCode.TOO_MANY_WAITERS]: 503,
  [ReplicaErrorCode.INVALID_ARGUMENT]: 400,
  [ReplicaErrorCode.TOPIC]: 503,
  [ReplicaErrorCode.FAILED]: 503,
  [ReplicaErrorCode.STOPPED]: 503,
}

const NO_REPLICA = { code: ReplicaErrorCode.STOPPED, message: 'this node runs without a replica (--no-replica)' }

const waitBodySchema = {
  type: 'object',
  required: ['positions'],
  additionalProperties: false,
  properties: {
    positions: {
      type: 'array',
      maxItems: replicaLimits.maxWaitPositions,
      items: {
        type: 'object',
        required: ['partition', 'offset'],
        additionalProperties: false,
        properties: { partition: { type: 'integer', minimum: 0 }, offset: { type: 'string', pattern: '^[0-9]{1,19}$' } },
      },
    },
    timeoutMs: { type: 'integer', minimum: 0, maximum: replicaLimits.maxWaitMs },
  },
} as const

export function replicaSetRoutes(app: FastifyInstance, options: ReplicaSetRoutesOptions): void {
  const { replica, membership } = options
  app.get('/api/v1/replicaset', async () => {
    const view = await membership.view()
    return { ...view, self: await membership.record() }
  })

  app.get('/api/v1/replicaset/checksum', async (_request, reply) => {
    if (!replica) return reply.code(503).send(NO_REPLICA)
    const { checksum, partitions } = replica.checksum()
    return {
      node: options.nodeId,
      checksum,
      offsets: Object.fromEntries(partitions.map(p => [String(p.partition), String(p.appliedOffset)])),
      partitions: partitions.map(p => ({ partition: p.partition, appliedOffset: String(p.appliedOffset), checksum: p.checksum })),
    }
  })

  app.get('/api/v1/replicaset/positions', async (_request, reply) => {
    if (!replica) return reply.code(503).send(NO_REPLICA)
    return {
      node: options.nodeId,
      state: replica.state,
      ingest: replica.appliedIngest().map(p => ({ partition: p.partition, offset: String(p.offset) })),
      partitions: replica.appliedPositions().map(p => ({
        partition: p.partition, appliedOffset: String(p.appliedOffset), durableOffset: String(p.durableOffset), consumedOffset: String(p.consumedOffset),
        ingest: p.ingest.map(i => ({ partition: i.partition, offset: String(i.offset) })),
      })),
    }
  })

  app.post<{ Body: { positions: Array<{ partition: number; offset: string }>; timeoutMs?: number } }>(
    '/api/v1/replicaset/wait', { schema: { body: waitBodySchema } }, async (request, reply) => {
      if (!replica) return reply.code(503).send(NO_REPLICA)
      const positions: IngestPosition[] = request.body.positions.map(p => ({ partition: p.partition, offset: BigInt(p.offset) }))
      const started = Date.now()
      try {
        await replica.waitForIngestPositions(positions, request.body.timeoutMs ?? replicaLimits.defaultWaitMs)
      } catch (error) {
        if (!isReplicaError(error)) throw error
        return reply.code(STATUS_OF[error.code]).send({ code: error.code, message: error.message, retriable: error.retriable, ...error.context })
      }
      return { node: options.nodeId, waitedMs: Date.now() - started }
    })
}
