// HTTP routes of the replica set: GET /api/v1/replicaset (members, master per partition, lag,
// health), GET /api/v1/replicaset/checksum (this node's content checksum and the offsets it was
// taken at), GET /api/v1/replicaset/positions, and POST /api/v1/replicaset/wait (read-your-writes:
// wait until this node applied the ingest positions a write or command answer carried), and
// GET /api/v1/replicaset/snapshot/:partition (a copy of one partition's store, for a peer whose
// changelog start is gone: replicaset/snapshot.ts).

import { timingSafeEqual } from 'node:crypto'
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { isReplicaError, ReplicaErrorCode, type ReplicaErrorCodeValue } from './errors.ts'
import { replicaLimits } from './limits.ts'
import type { Membership } from './membership.ts'
import type { IngestPosition, Replica } from './replica.ts'
import { snapshotFrames } from './snapshot.ts'

export interface ReplicaSetRoutesOptions {
  nodeId: string
  membership: Membership
  replica: Replica | undefined
  /**
   * Snapshots hold every tenant's data. With `auth` on they are sent only to a caller presenting
   * `Authorization: Bearer <clusterSecret>`, and refused (403) when no secret is set.
   */
  auth: boolean
  clusterSecret: string | undefined
}

function secretMatches(header: string | undefined, secret: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '')
  const wanted = Buffer.from(secret)
  return given.length === wanted.length && timingSafeEqual(given, wanted)
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

  /** With --auth on, operator routes (snapshots, compaction) need the cluster secret; undefined when allowed. */
  const refusal = (authorization: string | undefined, what: string): { status: number; body: { code: string; message: string } } | undefined => {
    if (!options.auth) return undefined
    if (options.clusterSecret === undefined) return { status: 403, body: { code: 'SLUICE_ERR_FORBIDDEN', message: `with --auth on, ${what} needs --cluster-secret set on every node` } }
    if (!secretMatches(authorization, options.clusterSecret)) return { status: 401, body: { code: 'SLUICE_ERR_UNAUTHORIZED', message: `${what} needs Authorization: Bearer <cluster secret>` } }
    return undefined
  }

  app.post('/api/v1/replicaset/compact', async (request, reply) => {
    if (!replica) return reply.code(503).send(NO_REPLICA)
    const refused = refusal(request.headers.authorization, 'compaction')
    if (refused) return reply.code(refused.status).send(refused.body)
    try {
      return { node: options.nodeId, partitions: await replica.compact() }
    } catch (error) {
      if (!isReplicaError(error)) throw error
      return reply.code(STATUS_OF[error.code]).send({ code: error.code, message: error.message, retriable: error.retriable })
    }
  })

  app.get<{ Params: { partition: string } }>('/api/v1/replicaset/snapshot/:partition', async (request, reply) => {
    if (!replica) return reply.code(503).send(NO_REPLICA)
    const refused = refusal(request.headers.authorization, 'a snapshot')
    if (refused) return reply.code(refused.status).send(refused.body)
    const partition = Number(request.params.partition)
    if (!/^[0-9]{1,9}$/.test(request.params.partition)) return reply.code(400).send({ code: ReplicaErrorCode.INVALID_ARGUMENT, message: `partition must be an integer ≥ 0, not ${JSON.stringify(request.params.partition)}` })
    let snapshot: Awaited<ReturnType<Replica['snapshot']>>
    try {
      snapshot = await replica.snapshot(partition)
    } catch (error) {
      if (!isReplicaError(error)) throw error
      return reply.code(STATUS_OF[error.code]).send({ code: error.code, message: error.message, retriable: error.retriable })
    }
    reply.raw.once('close', () => snapshot.release())
    return reply.code(200).type(snapshot.contentType)
      .header('X-Sluice-Snapshot-Offset', String(snapshot.appliedOffset))
      .send(Readable.from(snapshotFrames(snapshot)))
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
