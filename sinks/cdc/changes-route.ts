// GET /api/v1/changes: the change feed as server-sent events (docs/cdc.md).
//
//   curl -N 'http://127.0.0.1:8086/api/v1/changes?db=metrics&measurement=cpu&where=host%3D%27a%27&from=earliest'
//
// Parameters: db (required), tenant, measurement, where (tag conditions, filter.ts), from
// (earliest | latest (default) | a resume token). A Last-Event-ID header (what EventSource sends
// when it reconnects) wins over from. Each event is `id: <resume token>` and `data: <JSON event>`;
// comments (`: …`) with an id-only message keep idle connections open and carry the position past
// changes the filter skipped. Reading stops when the client goes away.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Admin, Kafka } from 'kafkajs'
import { ChangeStream } from './change-stream.ts'
import { CdcError, CdcErrorCode, isCdcError, type CdcErrorCodeValue } from './errors.ts'
import { parseTagFilter, type ChangeFilter } from './filter.ts'
import { cdcLimits } from './limits.ts'
import { ResumeToken } from './resume-token.ts'

const CHANGELOG_TOPIC = 'sluice.changelog'

export interface ChangesRouteOptions {
  kafka: Kafka
  nodeId: string
  /** Sluice version, for source.version. */
  version: string
  /**
   * Authenticates the request and checks read permission on `database` of the tenant it acts as
   * (the HTTP layer's rules, as for SELECT over /api/v1/sql); throws the HTTP layer's errors.
   */
  authorizeRead(request: FastifyRequest, database: string): { tenant: string }
  /** Answers an error this route does not own (an authorization error) with the HTTP layer's mapping. */
  sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply
  /** Default cdcLimits.heartbeatMs. */
  heartbeatMs?: number
}

const STATUS_OF: Record<CdcErrorCodeValue, number> = {
  [CdcErrorCode.PARAMETER]: 400,
  [CdcErrorCode.FILTER]: 400,
  [CdcErrorCode.RESUME_TOKEN]: 400,
  [CdcErrorCode.TOO_MANY_STREAMS]: 503,
  [CdcErrorCode.UNAVAILABLE]: 503,
  [CdcErrorCode.BAD_RECORD]: 500,
}

const querySchema = {
  type: 'object',
  properties: {
    db: { type: 'string', maxLength: 256 },
    tenant: { type: 'string', maxLength: 256 },
    measurement: { type: 'string', maxLength: 256 },
    where: { type: 'string', maxLength: cdcLimits.maxFilterChars },
    from: { type: 'string', maxLength: 65_536 },
  },
} as const

interface ChangesQuery {
  db?: string
  tenant?: string
  measurement?: string
  where?: string
  from?: string
}

/** Registers the route; open streams end when the app closes (before the server waits for connections). */
export function changesRoutes(app: FastifyInstance, options: ChangesRouteOptions): void {
  const open = new Map<ChangeStream, () => void>()
  const admin = new SharedAdmin(options.kafka)
  app.get<{ Querystring: ChangesQuery }>('/api/v1/changes', { schema: { querystring: querySchema }, attachValidation: true }, async (request, reply) => {
    let start: StreamStart
    try {
      if (open.size >= cdcLimits.maxStreams) throw new CdcError(CdcErrorCode.TOO_MANY_STREAMS, `${open.size} change streams are open on this node (at most ${cdcLimits.maxStreams}); retry later`, {}, true)
      start = await prepare(request, options, admin)
    } catch (error) {
      return isCdcError(error) ? sendCdcError(reply, error) : options.sendError(request, reply, error)
    }
    serve(request, reply, start, options, open)
    return reply
  })
  // An open stream never ends by itself: end them all before fastify waits for connections to close.
  app.addHook('preClose', async () => {
    const stopping = [...open.keys()].map(stream => stream.stop())
    for (const end of open.values()) end()
    await Promise.allSettled(stopping)
    await admin.close()
  })
}

interface StreamStart {
  filter: ChangeFilter
  token: ResumeToken
  admin: Admin
}

/** Checks the request (parameters, read permission) and finds where its stream starts. */
async function prepare(request: FastifyRequest<{ Querystring: ChangesQuery }>, options: ChangesRouteOptions, shared: SharedAdmin): Promise<StreamStart> {
  if (request.validationError) throw new CdcError(CdcErrorCode.PARAMETER, request.validationError.message)
  const query = request.query
  const database = query.db
  if (!database) throw new CdcError(CdcErrorCode.PARAMETER, 'db is required: the database whose changes to stream')
  const { tenant } = options.authorizeRead(request, database)
  const filter: ChangeFilter = { tenant, database, measurement: query.measurement || undefined, tags: query.where ? parseTagFilter(query.where) : new Map() }
  const admin = await shared.get()
  const lastEventId = request.headers['last-event-id']
  const token = await startToken(admin, typeof lastEventId === 'string' && lastEventId.length > 0 ? lastEventId : query.from ?? 'latest')
  return { filter, token, admin }
}

/** Streams the changes as server-sent events until the client goes away, the stream fails, or the app closes. */
function serve(request: FastifyRequest, reply: FastifyReply, start: StreamStart, options: ChangesRouteOptions, open: Map<ChangeStream, () => void>): void {
  const raw = reply.raw
  let heartbeat: NodeJS.Timeout | undefined
  let ended = false
  const end = (error?: Error): void => {
    if (ended) return
    ended = true
    clearInterval(heartbeat)
    open.delete(stream)
    if (error) {
      request.log.warn({ event: 'cdc_stream_failed', group: stream.groupId, error: error.message }, 'change stream failed')
      raw.end(`event: error\ndata: ${JSON.stringify({ error_code: isCdcError(error) ? error.code : CdcErrorCode.UNAVAILABLE, error_message: error.message })}\n\n`)
    } else {
      raw.end()
    }
    void stream.stop()
  }
  const stream = new ChangeStream({
    kafka: options.kafka, admin: start.admin, nodeId: options.nodeId, version: options.version, filter: start.filter, token: start.token,
    sink: sinkOf(reply), onError: end,
  })
  open.set(stream, () => end())
  reply.hijack()
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
  // The starting position at once: a client that sees no event before it reconnects resumes here.
  raw.write(`: sluice change stream\nretry: 1000\nid: ${stream.token}\n\n`)
  heartbeat = setInterval(() => raw.write(`: heartbeat\nid: ${stream.token}\n\n`), options.heartbeatMs ?? cdcLimits.heartbeatMs)
  raw.on('close', () => end())
  stream.start().catch(error => end(error as Error))
}

/** One Kafka admin client for every stream of the node, connected on first use. */
class SharedAdmin {
  private admin: Promise<Admin> | undefined
  constructor(private readonly kafka: Kafka) {}

  get(): Promise<Admin> {
    this.admin ??= (async () => {
      const client = this.kafka.admin()
      await client.connect()
      return client
    })()
    const pending = this.admin
    pending.catch(() => { if (this.admin === pending) this.admin = undefined })
    return pending.catch(error => { throw unavailable(error) })
  }

  async close(): Promise<void> {
    const pending = this.admin
    this.admin = undefined
    await (await pending?.catch(() => undefined))?.disconnect().catch(() => {})
  }
}

/** Where the stream starts: a resume token, or the earliest or latest committed offset of each partition. */
async function startToken(admin: Admin, from: string): Promise<ResumeToken> {
  let offsets: Array<{ partition: number; low: string; offset: string }>
  try {
    if (!(await admin.listTopics()).includes(CHANGELOG_TOPIC)) throw new Error(`${CHANGELOG_TOPIC} does not exist yet`)
    offsets = (await admin.fetchTopicOffsets(CHANGELOG_TOPIC)).sort((a, b) => a.partition - b.partition)
  } catch (error) {
    throw unavailable(error)
  }
  const low = (partition: number): bigint => BigInt(offsets[partition]?.low ?? '0')
  if (from === 'earliest') return ResumeToken.at(offsets.map(entry => BigInt(entry.low)))
  // fetchTopicOffsets asks for the latest offset read_committed: the last stable offset, so no open transaction is skipped.
  if (from === 'latest') return ResumeToken.at(offsets.map(entry => BigInt(entry.offset)))
  return ResumeToken.parse(from, offsets.length, low)
}

function unavailable(error: unknown): CdcError {
  return new CdcError(CdcErrorCode.UNAVAILABLE, `sluice.changelog cannot be read: ${(error as Error).message}`, {}, true, { cause: error })
}

function sendCdcError(reply: FastifyReply, error: CdcError): FastifyReply {
  const status = STATUS_OF[error.code]
  if (status === 503) void reply.header('retry-after', '1')
  return reply.code(status).send({ error_code: error.code, error_message: error.message })
}

function sinkOf(reply: FastifyReply): { write(text: string): Promise<void> } {
  return {
    write: text => {
      const raw = reply.raw
      if (raw.destroyed || raw.writableEnded) return Promise.resolve()
      if (raw.write(text)) return Promise.resolve()
      return new Promise(resolve => {
        const done = (): void => { raw.off('drain', done); raw.off('close', done); resolve() }
        raw.on('drain', done)
        raw.on('close', done)
      })
    },
  }
}
