// The write endpoints: POST /write (InfluxDB 1.x), POST /api/v2/write (InfluxDB 2.x) and
// POST /api/v1/write (CnosDB). One pipeline, three dialects that differ in parameters, precision
// spellings and what happens to the good lines of a body with bad ones (docs/http-api.md):
//
//   /write          partial: good points written, 400 "partial write: ..." listing the bad lines (InfluxDB 1.x)
//   /api/v2/write   a syntax error rejects the whole body (400); type conflicts drop only their points (422) (InfluxDB 2.x)
//   /api/v1/write   all or nothing: any bad line or conflict rejects the whole body (400)
//
// Every path answers 204 only after the Kafka transaction holding all its records committed.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { IngestError, IngestErrorCode, parseLineProtocol, parsePrecision, toIngestRecords, type FieldTypeCheck, type ParsedBatch, type PrecisionUnit } from '../ingest/index.ts'
import type { Access } from './auth.ts'
import { parseCredentials } from './auth.ts'
import { acceptRawBodies, bodyChunks, bodyEncodingOf, decodeBody, joinBody } from './body.ts'
import { queryString, sendError, wallClockNs, type HttpApiOptions } from './context.ts'
import { bodyChunksOf, reportLines, unpackRecords, unpackSections } from './encode-body.ts'
import { recordHeaders } from './kafka-writer.ts'
import { Dialect, errorResponse, HttpApiError, HttpErrorCode, type DialectValue, type ReportedLineError } from './errors.ts'
import { startWriteSpan, type WriteSpan } from './tracing.ts'
import { metrics, withSpan } from '../../lib/telemetry/index.ts'
import { IDEMPOTENCY_HEADER, IDEMPOTENT_REPLAY_HEADER, requestFingerprint, type IdempotencyClaim, type StoredAnswer } from './idempotency.ts'

export interface WriteTarget {
  /** The tenant the request names (org, tenant), if any. */
  requestedTenant: string | undefined
  database: string
  precision: PrecisionUnit
}

const CONSISTENCY_LEVELS = new Set(['any', 'one', 'quorum', 'all'])
const V2_PRECISIONS: Readonly<Record<string, PrecisionUnit>> = Object.freeze({ '': 'ns', ns: 'ns', us: 'us', ms: 'ms', s: 's' })

function required(value: string | undefined, message: string): string {
  if (value === undefined || value.length === 0) throw new HttpApiError(HttpErrorCode.BAD_PARAMETER, message)
  return value
}

function optional(value: string | undefined): string | undefined {
  return value === undefined || value.length === 0 ? undefined : value
}

/** Database, tenant and precision of a write, from the query parameters of its dialect. */
export function parseWriteTarget(dialect: DialectValue, query: unknown): WriteTarget {
  const precisionText = queryString(query, 'precision')
  switch (dialect) {
    case Dialect.INFLUX1: {
      const consistency = queryString(query, 'consistency')
      if (consistency !== undefined && consistency !== '' && !CONSISTENCY_LEVELS.has(consistency)) {
        throw new HttpApiError(HttpErrorCode.BAD_PARAMETER, `invalid consistency level "${consistency}" (use any, one, quorum or all)`)
      }
      let precision: PrecisionUnit
      try {
        precision = parsePrecision(precisionText)
      } catch (error) {
        if (!(error instanceof IngestError)) throw error
        throw new HttpApiError(HttpErrorCode.INVALID_PRECISION, `invalid precision "${precisionText}" (use n, u, ms, s, m or h)`)
      }
      return { requestedTenant: undefined, database: required(queryString(query, 'db'), 'database is required'), precision }
    }
    case Dialect.INFLUX2: {
      const precision = V2_PRECISIONS[precisionText ?? '']
      if (precision === undefined) throw new HttpApiError(HttpErrorCode.INVALID_PRECISION, 'invalid precision; valid precision units are ns, us, ms, and s')
      const bucket = required(queryString(query, 'bucket'), 'bucket is required')
      // InfluxDB 1.8's compatibility API takes "database/retention-policy"; the policy is ignored.
      const database = required(bucket.split('/')[0], 'bucket is required')
      return { requestedTenant: optional(queryString(query, 'org')), database, precision }
    }
    case Dialect.CNOSDB: {
      const precision = V2_PRECISIONS[precisionText ?? '']
      if (precision === undefined) throw new HttpApiError(HttpErrorCode.INVALID_PRECISION, `invalid precision "${precisionText}" (use ns, us, ms or s)`)
      return { requestedTenant: optional(queryString(query, 'tenant')), database: optional(queryString(query, 'db')) ?? 'public', precision }
    }
  }
}

/** InfluxDB's text for rejected lines: "unable to parse '<line>': <reason>", with Sluice's line numbers. */
function describeLines(lines: readonly ReportedLineError[], unreported: number): string {
  const parts = lines.map(line => {
    const where = line.column === undefined ? `line ${line.line}` : `line ${line.line}, column ${line.column}`
    return line.text !== undefined ? `unable to parse '${line.text}': ${line.reason} (${where})` : `${line.reason} (${where})`
  })
  if (unreported > 0) parts.push(`and ${unreported} more rejected lines`)
  return parts.join('\n')
}

interface Outcome {
  /** Points written to Kafka. */
  written: number
  /** Rejected lines or points (parse errors and type conflicts), reported or not. */
  rejected: number
  parseErrors: ReportedLineError[]
  conflicts: ReportedLineError[]
  unreported: number
}

/** The error that answers a write with rejected lines, per dialect; undefined when there were none. */
export function rejectionFor(dialect: DialectValue, outcome: Outcome): HttpApiError | undefined {
  if (outcome.rejected === 0) return undefined
  const lines = [...outcome.parseErrors, ...outcome.conflicts].sort((a, b) => a.line - b.line)
  const text = describeLines(lines, outcome.unreported)
  const onlyConflicts = outcome.parseErrors.length === 0 && outcome.conflicts.length > 0
  const code = onlyConflicts ? HttpErrorCode.FIELD_TYPE_CONFLICT : HttpErrorCode.LINE_PROTOCOL
  const details = { lines, written: outcome.written }
  switch (dialect) {
    case Dialect.INFLUX1:
      return new HttpApiError(code, outcome.written > 0 ? `partial write: ${text} dropped=${outcome.rejected}` : `${text} dropped=${outcome.rejected}`, details)
    case Dialect.INFLUX2:
      return onlyConflicts
        ? new HttpApiError(code, `failure writing points to database: partial write: ${text} dropped=${outcome.rejected}`, details)
        : new HttpApiError(code, text, details)
    case Dialect.CNOSDB:
      return new HttpApiError(code, `nothing written: ${text}`, details)
  }
}

/** Whether the dialect writes the good points of a body that has unparsable lines. */
const writesAroundSyntaxErrors = (dialect: DialectValue): boolean => dialect === Dialect.INFLUX1
/** Whether the dialect writes the other points of a body that has field type conflicts. */
const writesAroundConflicts = (dialect: DialectValue): boolean => dialect !== Dialect.CNOSDB

export function registerWriteRoutes(app: FastifyInstance, options: HttpApiOptions): void {
  acceptRawBodies(app, options.limits.maxBodyBytes)
  const handler = (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => handleWrite(options, request, reply)
  const querystring = {
    type: 'object',
    properties: {
      db: { type: 'string' }, rp: { type: 'string' }, precision: { type: 'string' }, consistency: { type: 'string' },
      u: { type: 'string' }, p: { type: 'string' }, org: { type: 'string' }, bucket: { type: 'string' }, tenant: { type: 'string' },
    },
  }
  const response = { 204: { type: 'null', description: 'every point is in Kafka' } }
  app.post('/write', { config: { dialect: Dialect.INFLUX1 }, schema: { querystring, response } }, handler)
  app.post('/api/v2/write', { config: { dialect: Dialect.INFLUX2 }, schema: { querystring, response } }, handler)
  app.post('/api/v1/write', { config: { dialect: Dialect.CNOSDB }, schema: { querystring, response } }, handler)
}

async function handleWrite(options: HttpApiOptions, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const dialect = request.routeOptions.config.dialect ?? Dialect.INFLUX1
  const deadlineMs = Date.now() + options.limits.writeTimeoutMs
  const tracing = startWriteSpan(request, request.routeOptions.url ?? request.url)
  try {
    // Inside the write span: log lines of the write carry its trace id.
    const answered = await withSpan(tracing.span, () => answerWrite(options, request, reply, dialect, deadlineMs, tracing))
    tracing.end(reply.statusCode)
    return answered
  } catch (error) {
    tracing.end(500, error as Error)
    throw error
  }
}

async function answerWrite(options: HttpApiOptions, request: FastifyRequest, reply: FastifyReply, dialect: DialectValue, deadlineMs: number, tracing: WriteSpan): Promise<FastifyReply> {
  let claim: IdempotencyClaim | undefined
  try {
    const target = parseWriteTarget(dialect, request.query)
    const access = options.authorizer.authenticate(parseCredentials(request.query as Record<string, unknown>, request.headers.authorization), target.requestedTenant, dialect)
    options.authorizer.authorize(access, target.database, 'write')
    const gzipped = bodyEncodingOf(request.headers['content-encoding']) === 'gzip'
    const idempotencyKey = options.idempotency.parseKey(request.headers[IDEMPOTENCY_HEADER])
    // A parse worker joins the body's chunks and gunzips them itself, unless this thread needs the
    // body first (the Idempotency-Key's fingerprint) or parses it (no pool).
    const onWorker = options.parsePool !== undefined && idempotencyKey === undefined
    const body: BodyChunks = onWorker
      ? { chunks: bodyChunks(request.body), gzipped }
      : { chunks: [await decodeBody(request.body, request.headers['content-encoding'], options.limits.maxBodyBytes)], gzipped: false }
    if (idempotencyKey !== undefined) {
      const fingerprint = requestFingerprint('POST', request.routeOptions.url ?? request.url, request.query as Record<string, unknown>, body.chunks[0]!)
      claim = await options.idempotency.claim(access.tenant, idempotencyKey, fingerprint, deadlineMs)
      if (claim.kind === 'replay') return sendStored(reply, claim.answer)
    }
    tracing.span.setAttributes({ 'sluice.tenant': access.tenant, 'db.namespace': target.database })
    // The database check (a control store round trip) runs while the body is parsed; writeBody
    // waits for it before it claims field types or writes anything, and its error comes first.
    const databaseReady = options.catalog.requireDatabase(access.tenant, target.database)
    databaseReady.catch(() => {}) // awaited in writeBody
    const outcome = await writeBody(options, dialect, access, target, body, idempotencyKey ?? null, deadlineMs, tracing.recordHeaders, databaseReady)
    tracing.span.setAttributes({ 'sluice.points_written': outcome.written, 'sluice.points_rejected': outcome.rejected })
    countPoints(outcome)
    const rejection = rejectionFor(dialect, outcome)
    if (claim?.kind === 'owner') await finishClaim(options, request, claim, dialect, rejection, outcome.written)
    claim = undefined
    if (rejection) return sendError(request, reply, rejection, options.limits.retryAfterSeconds)
    request.log.debug({ event: 'write', tenant: access.tenant, database: target.database, points: outcome.written }, 'written')
    return reply.code(204).send()
  } catch (error) {
    if (claim?.kind === 'owner') await claim.release().catch(releaseError => request.log.warn({ event: 'idempotency_release_failed', err: releaseError }, 'could not release an Idempotency-Key claim'))
    return sendError(request, reply, error, options.limits.retryAfterSeconds)
  }
}

/** sluice_points_accepted_total{source="http"} and sluice_points_rejected_total{source="http",reason} of one write. */
function countPoints(outcome: Outcome): void {
  const m = metrics()
  if (outcome.written > 0) m.pointsAccepted.labels('http').inc(outcome.written)
  const conflicts = outcome.conflicts.length
  if (outcome.rejected > conflicts) m.pointsRejected.labels('http', 'line_protocol').inc(outcome.rejected - conflicts)
  if (conflicts > 0) m.pointsRejected.labels('http', 'field_type_conflict').inc(conflicts)
}

/** A write body: its chunks as received, or one chunk already gunzipped here. */
interface BodyChunks {
  chunks: readonly Buffer[]
  /** Whether the chunks are still gzip-compressed (the parse worker decompresses them; only with a pool). */
  gzipped: boolean
}

/** Parses, checks field types, encodes and writes; returns what was written and what was refused. */
function writeBody(options: HttpApiOptions, dialect: DialectValue, access: Access, target: WriteTarget, body: BodyChunks, idempotencyKey: string | null, deadlineMs: number, recordHeaders: Record<string, string> | undefined, databaseReady: Promise<void>): Promise<Outcome> {
  const receivedAtNs = (options.nowNs ?? wallClockNs)()
  const write: BodyWrite = { options, dialect, access, target, gzipped: body.gzipped, idempotencyKey, deadlineMs, recordHeaders, receivedAtNs }
  if (options.parsePool !== undefined) return writeParsedOnWorker(write, options.parsePool, body.chunks, databaseReady)
  if (body.chunks.length !== 1 || body.gzipped) throw new Error('writeBody: without parse workers a body is decoded on this thread first')
  return writeParsedHere(write, body.chunks[0]!, databaseReady)
}

/** What writing one body needs besides the body. */
interface BodyWrite {
  options: HttpApiOptions
  dialect: DialectValue
  access: Access
  target: WriteTarget
  /** Whether the body is still gzip-compressed (the parse worker decompresses it; only with a pool). */
  gzipped: boolean
  idempotencyKey: string | null
  deadlineMs: number
  recordHeaders: Record<string, string> | undefined
  /** Server time of the write: the timestamp of lines without one, the same on every path. */
  receivedAtNs: bigint
}

function bodyTooLarge(message: string): HttpApiError {
  return new HttpApiError(HttpErrorCode.BODY_TOO_LARGE, `Request Entity Too Large: ${message}`)
}

/**
 * Parse and encode on a worker; the field type check and the Kafka write stay here. The common case,
 * where no point conflicts, writes the worker's records; a body with a conflict is checked again
 * point by point on this thread (writeParsedHere), which writes around its conflicting points.
 */
async function writeParsedOnWorker(write: BodyWrite, pool: NonNullable<HttpApiOptions['parsePool']>, bodyChunks: readonly Buffer[], databaseReady: Promise<void>): Promise<Outcome> {
  const { options, dialect, access, target } = write
  // Finished record sections when the sink takes them: the compression then runs on the worker too.
  const format = options.sink.writeSections === undefined ? undefined : options.sink.sectionFormat
  const sections = format === undefined ? undefined : { ...format, headers: recordHeaders(write.recordHeaders, format.headers) }
  const handed = performance.now()
  const encoding = pool.encode({
    body: bodyChunks, precision: target.precision, receivedAtNs: write.receivedAtNs, limits: options.lineProtocolLimits, maxErrorsReported: options.limits.maxErrorsReported,
    tenant: access.tenant, database: target.database, partitions: options.ingestPartitions, schemaId: options.ingestSchemaId,
    idempotencyKey: write.idempotencyKey, encodeAroundErrors: writesAroundSyntaxErrors(dialect), ...(sections === undefined ? {} : { sections }),
    ...(write.gzipped ? { gzip: { maxBodyBytes: options.limits.maxBodyBytes } } : {}),
  }, write.deadlineMs)
  // Timed when the worker answers, not after the database check; awaited below, after that check, whose error comes first.
  encoding.then(() => metrics().httpWriteStage.labels('parse').observeSince(handed), () => {})
  await databaseReady
  const result = await encoding
  if (result.kind === 'undecodable') throw new HttpApiError(result.code, result.message)
  if (result.kind === 'refused') {
    if (result.code === IngestErrorCode.LIMIT_EXCEEDED) throw bodyTooLarge(result.message)
    throw new IngestError(result.code, result.message)
  }
  const outcome: Outcome = { written: 0, rejected: result.rejectedLineCount, parseErrors: result.parseErrors, conflicts: [], unreported: result.rejectedLineCount - result.parseErrors.length }
  if (result.rejectedLineCount > 0 && !writesAroundSyntaxErrors(dialect)) return outcome
  if (!await options.catalog.checkFieldClaims(access.tenant, target.database, result.tagKeys, result.fieldClaims)) {
    const returned = joinBody(bodyChunksOf(result.body))
    return writeParsedHere(write, write.gzipped ? await decodeBody(returned, 'gzip', options.limits.maxBodyBytes) : returned, databaseReady)
  }
  if (result.sections !== null) await options.sink.writeSections!(unpackSections(result.sections), write.deadlineMs)
  else if (result.records !== null) await options.sink.write(unpackRecords(result.records), write.deadlineMs, write.recordHeaders)
  else throw new Error('writeParsedOnWorker: the worker encoded no records for a body to write')
  outcome.written = result.pointCount
  return outcome
}

/** Parse, check, encode and write on this thread. */
async function writeParsedHere(write: BodyWrite, body: Buffer, databaseReady: Promise<void>): Promise<Outcome> {
  const { options, dialect, access, target, receivedAtNs } = write
  let batch: ParsedBatch
  try {
    batch = parseLineProtocol(body, { nowNs: receivedAtNs, precision: target.precision, limits: options.lineProtocolLimits, maxErrorsReported: options.limits.maxErrorsReported })
  } catch (error) {
    await databaseReady
    if (error instanceof IngestError && error.code === 'SLUICE_ERR_LIMIT_EXCEEDED') throw bodyTooLarge(error.message)
    throw error
  }
  try {
    await databaseReady
    const parseErrors = reportLines(body, batch.errors)
    const outcome: Outcome = { written: 0, rejected: batch.rejectedLineCount, parseErrors, conflicts: [], unreported: batch.rejectedLineCount - batch.errors.length }
    if (batch.rejectedLineCount > 0 && !writesAroundSyntaxErrors(dialect)) return outcome
    const check: FieldTypeCheck = await options.catalog.checkFieldTypes(access.tenant, target.database, batch)
    outcome.conflicts = reportLines(body, check.errors)
    outcome.rejected += check.errors.length
    if (check.errors.length > 0 && !writesAroundConflicts(dialect)) return outcome
    const records = toIngestRecords(batch, {
      tenant: access.tenant, database: target.database, partitions: options.ingestPartitions, source: 'http',
      receivedAtNs, idempotencyKey: write.idempotencyKey, schemaId: options.ingestSchemaId, accepted: check.accepted,
    })
    batch.release() // the records are self-contained: hand the columns back before waiting for Kafka
    await options.sink.write(records, write.deadlineMs, write.recordHeaders)
    outcome.written = check.acceptedCount
    return outcome
  } finally {
    if (!batch.released) batch.release()
  }
}

/** Stores the answer of a write that reached Kafka; frees the key of one that wrote nothing. */
async function finishClaim(options: HttpApiOptions, request: FastifyRequest, claim: Extract<IdempotencyClaim, { kind: 'owner' }>, dialect: DialectValue, rejection: HttpApiError | undefined, written: number): Promise<void> {
  try {
    if (rejection && written === 0) {
      await claim.release()
      return
    }
    let answer: StoredAnswer = { status: 204, headers: {}, body: null }
    if (rejection) {
      const response = errorResponse(rejection, dialect, options.limits.retryAfterSeconds)
      answer = { status: response.status, headers: response.headers, body: response.body }
    }
    await claim.complete(answer)
  } catch (error) {
    // The answer stands; only the replay is lost (a retry may write the same points again).
    request.log.warn({ event: 'idempotency_store_failed', err: error }, 'could not store or release an Idempotency-Key claim')
  }
}

function sendStored(reply: FastifyReply, answer: StoredAnswer): FastifyReply {
  reply.code(answer.status).headers({ ...answer.headers, [IDEMPOTENT_REPLAY_HEADER]: 'true' })
  return answer.body === null ? reply.send() : reply.send(answer.body)
}
