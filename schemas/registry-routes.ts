// The schema registry's HTTP API: the subset of Confluent's REST API that Confluent-aware clients
// use (@kafkajs/confluent-schema-registry, Java and librdkafka serializers, Debezium), with
// Confluent's JSON shapes, error codes and content type. A fastify plugin; register it in its own
// encapsulated context (it sets a content-type parser, an error handler and an onSend hook there):
//
//   app.register(registryRoutes, { registry })                       // or { prefix: '/schema-registry' }
//
// Every SchemaError code maps to an HTTP status and a Confluent error_code in CONFLUENT_ERRORS,
// the one place that mapping lives.

import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { SchemaError, SchemaErrorCode, type SchemaErrorCodeValue } from './errors.ts'
import { schemaLimits } from './limits.ts'
import { parseVersion, type SchemaInput, type SchemaRegistry } from './registry.ts'

export const SCHEMA_REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
/** Request content types Confluent accepts besides application/json. */
const REQUEST_CONTENT_TYPES = [SCHEMA_REGISTRY_CONTENT_TYPE, 'application/vnd.schemaregistry+json', 'application/octet-stream']

type ContentTypeParser = ReturnType<FastifyInstance['getDefaultJsonParser']>

export interface RegistryRoutesOptions {
  registry: SchemaRegistry
}

/** Confluent's error body. */
export interface ConfluentErrorBody {
  error_code: number
  message: string
}

/**
 * SchemaError code → HTTP status and Confluent error_code. A version-level soft-delete error
 * (context.version set) uses Confluent's version codes instead: 40406 for 40404, 40407 for 40405.
 */
export const CONFLUENT_ERRORS: Readonly<Record<SchemaErrorCodeValue, { status: number; errorCode: number }>> = Object.freeze({
  [SchemaErrorCode.SUBJECT_NOT_FOUND]: { status: 404, errorCode: 40401 },
  [SchemaErrorCode.VERSION_NOT_FOUND]: { status: 404, errorCode: 40402 },
  [SchemaErrorCode.SCHEMA_NOT_FOUND]: { status: 404, errorCode: 40403 },
  [SchemaErrorCode.ALREADY_SOFT_DELETED]: { status: 404, errorCode: 40404 },
  [SchemaErrorCode.NOT_SOFT_DELETED]: { status: 404, errorCode: 40405 },
  [SchemaErrorCode.SUBJECT_COMPATIBILITY_NOT_CONFIGURED]: { status: 404, errorCode: 40408 },
  [SchemaErrorCode.INCOMPATIBLE]: { status: 409, errorCode: 409 },
  [SchemaErrorCode.INVALID_SCHEMA]: { status: 422, errorCode: 42201 },
  [SchemaErrorCode.INVALID_VERSION]: { status: 422, errorCode: 42202 },
  [SchemaErrorCode.INVALID_COMPATIBILITY]: { status: 422, errorCode: 42203 },
  // Confluent has no code for a full registry; 42205 is its "operation not permitted".
  [SchemaErrorCode.LIMIT_EXCEEDED]: { status: 422, errorCode: 42205 },
  [SchemaErrorCode.INVALID_SUBJECT]: { status: 422, errorCode: 42208 },
  [SchemaErrorCode.STORE]: { status: 500, errorCode: 50001 },
  [SchemaErrorCode.SCHEMAS_TOPIC_RECORD]: { status: 500, errorCode: 50001 },
  [SchemaErrorCode.FRAMING]: { status: 500, errorCode: 50000 },
  [SchemaErrorCode.ENCODE]: { status: 500, errorCode: 50000 },
  [SchemaErrorCode.DECODE]: { status: 500, errorCode: 50000 },
})

const VERSION_LEVEL_CODES: Readonly<Record<number, number>> = { 40404: 40406, 40405: 40407 }

export function toConfluentError(error: unknown): { status: number; body: ConfluentErrorBody } {
  if (error instanceof SchemaError) {
    const { status, errorCode } = CONFLUENT_ERRORS[error.code]
    const code = error.context.version !== undefined ? (VERSION_LEVEL_CODES[errorCode] ?? errorCode) : errorCode
    return { status, body: { error_code: code, message: error.message } }
  }
  const statusCode = (error as FastifyError)?.statusCode
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    // fastify's own client errors: bad JSON (400), unsupported media type (415), body too large (413).
    return { status: statusCode, body: { error_code: statusCode, message: (error as Error).message } }
  }
  return { status: 500, body: { error_code: 500, message: 'Internal Server Error' } }
}

// ---- route schemas: the documentation, ajv validation and fast serialisation ----

const subjectParams = { type: 'object', required: ['subject'], properties: { subject: { type: 'string' } } } as const
const subjectVersionParams = { type: 'object', required: ['subject', 'version'], properties: { subject: { type: 'string' }, version: { type: 'string' } } } as const
const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } as const
const deletedQuery = { type: 'object', properties: { deleted: { type: 'boolean' } } } as const
const permanentQuery = { type: 'object', properties: { permanent: { type: 'boolean' } } } as const
const verboseQuery = { type: 'object', properties: { verbose: { type: 'boolean' } } } as const
const schemaBody = {
  type: 'object',
  required: ['schema'],
  properties: { schema: { type: 'string' }, schemaType: { type: 'string' }, references: { type: 'array' } },
} as const
const configBody = { type: 'object', required: ['compatibility'], properties: { compatibility: { type: 'string' } } } as const
const subjectVersionResponse = {
  type: 'object',
  properties: { subject: { type: 'string' }, version: { type: 'integer' }, id: { type: 'integer' }, schema: { type: 'string' } },
} as const
const integerArray = { type: 'array', items: { type: 'integer' } } as const
const stringArray = { type: 'array', items: { type: 'string' } } as const
const levelResponse = { type: 'object', properties: { compatibilityLevel: { type: 'string' } } } as const
const compatibilityUpdateResponse = { type: 'object', properties: { compatibility: { type: 'string' } } } as const
const compatibilityResponse = {
  type: 'object',
  properties: { is_compatible: { type: 'boolean' }, messages: stringArray },
} as const

interface SubjectRoute { Params: { subject: string } }
interface SubjectVersionRoute { Params: { subject: string; version: string } }

/** Turns an ajv failure (attachValidation) into the SchemaError Confluent would answer with. */
function assertValid(request: FastifyRequest, code: SchemaErrorCodeValue, prefix: string): void {
  if (request.validationError) throw new SchemaError(code, `${prefix}: ${request.validationError.message}`)
}

function parseSchemaId(text: string): number {
  const id = /^\d{1,10}$/.test(text) ? Number(text) : NaN
  if (!Number.isInteger(id) || id > 0x7fffffff) throw new SchemaError(SchemaErrorCode.SCHEMA_NOT_FOUND, `Schema ${text} not found`)
  return id
}

function compatibilityReply(result: { compatible: boolean; messages: string[] }, verbose: boolean | undefined): { is_compatible: boolean; messages?: string[] } {
  return verbose ? { is_compatible: result.compatible, messages: result.messages } : { is_compatible: result.compatible }
}

function setUpContext(app: FastifyInstance): void {
  // Confluent clients send their content type on every request, DELETEs without a body included,
  // which fastify's JSON parser refuses ("Body cannot be empty"): an empty body is no body here.
  const parseJson = app.getDefaultJsonParser('error', 'ignore')
  const parseBody: ContentTypeParser = (request, body, done) => {
    if (body === '') return done(null, undefined)
    return parseJson(request, body, done)
  }
  for (const type of ['application/json', ...REQUEST_CONTENT_TYPES]) {
    if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type)
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: schemaLimits.maxRequestBodyBytes }, parseBody)
  }
  app.setErrorHandler((error: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = toConfluentError(error)
    if (status >= 500) request.log.error({ err: error }, 'schema registry request failed')
    return reply.code(status).send(body)
  })
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-type', SCHEMA_REGISTRY_CONTENT_TYPE)
    return payload
  })
}

function subjectRoutes(app: FastifyInstance, registry: SchemaRegistry): void {
  app.get<{ Querystring: { deleted?: boolean } }>('/subjects', {
    schema: { querystring: deletedQuery, response: { 200: stringArray } },
  }, async (request) => registry.subjects({ includeDeleted: request.query.deleted ?? false }))

  app.get<SubjectRoute & { Querystring: { deleted?: boolean } }>('/subjects/:subject/versions', {
    schema: { params: subjectParams, querystring: deletedQuery, response: { 200: integerArray } },
  }, async (request) => registry.versions(request.params.subject, { includeDeleted: request.query.deleted ?? false }))

  app.get<SubjectVersionRoute & { Querystring: { deleted?: boolean } }>('/subjects/:subject/versions/:version', {
    schema: { params: subjectVersionParams, querystring: deletedQuery, response: { 200: subjectVersionResponse } },
  }, async (request) => registry.version(request.params.subject, parseVersion(request.params.version), { includeDeleted: request.query.deleted ?? false }))

  app.get<SubjectVersionRoute>('/subjects/:subject/versions/:version/schema', {
    schema: { params: subjectVersionParams },
  }, async (request, reply) => reply.send(registry.version(request.params.subject, parseVersion(request.params.version)).schema))

  app.post<SubjectRoute & { Body: SchemaInput }>('/subjects/:subject/versions', {
    attachValidation: true,
    bodyLimit: schemaLimits.maxRequestBodyBytes,
    schema: { params: subjectParams, body: schemaBody, response: { 200: { type: 'object', properties: { id: { type: 'integer' } } } } },
  }, async (request) => {
    assertValid(request, SchemaErrorCode.INVALID_SCHEMA, 'Invalid schema')
    const { id } = await registry.register(request.params.subject, request.body)
    return { id }
  })

  app.post<SubjectRoute & { Body: SchemaInput }>('/subjects/:subject', {
    attachValidation: true,
    bodyLimit: schemaLimits.maxRequestBodyBytes,
    schema: { params: subjectParams, body: schemaBody, response: { 200: subjectVersionResponse } },
  }, async (request) => {
    assertValid(request, SchemaErrorCode.INVALID_SCHEMA, 'Invalid schema')
    return registry.lookup(request.params.subject, request.body)
  })

  app.delete<SubjectRoute & { Querystring: { permanent?: boolean } }>('/subjects/:subject', {
    schema: { params: subjectParams, querystring: permanentQuery, response: { 200: integerArray } },
  }, async (request) => registry.deleteSubject(request.params.subject, { permanent: request.query.permanent ?? false }))

  app.delete<SubjectVersionRoute & { Querystring: { permanent?: boolean } }>('/subjects/:subject/versions/:version', {
    schema: { params: subjectVersionParams, querystring: permanentQuery, response: { 200: { type: 'integer' } } },
  }, async (request) => registry.deleteVersion(request.params.subject, parseVersion(request.params.version), { permanent: request.query.permanent ?? false }))
}

function schemaRoutes(app: FastifyInstance, registry: SchemaRegistry): void {
  app.get<{ Params: { id: string } }>('/schemas/ids/:id', {
    schema: { params: idParams, response: { 200: { type: 'object', properties: { schema: { type: 'string' } } } } },
  }, async (request) => ({ schema: registry.schemaById(parseSchemaId(request.params.id)).schema }))

  app.get<{ Params: { id: string } }>('/schemas/ids/:id/versions', {
    schema: { params: idParams, response: { 200: { type: 'array', items: { type: 'object', properties: { subject: { type: 'string' }, version: { type: 'integer' } } } } } },
  }, async (request) => registry.subjectVersionsById(parseSchemaId(request.params.id)))

  app.get('/schemas/types', { schema: { response: { 200: stringArray } } }, async () => ['AVRO'])
}

function compatibilityRoutes(app: FastifyInstance, registry: SchemaRegistry): void {
  app.post<SubjectVersionRoute & { Body: SchemaInput; Querystring: { verbose?: boolean } }>('/compatibility/subjects/:subject/versions/:version', {
    attachValidation: true,
    bodyLimit: schemaLimits.maxRequestBodyBytes,
    schema: { params: subjectVersionParams, querystring: verboseQuery, body: schemaBody, response: { 200: compatibilityResponse } },
  }, async (request) => {
    assertValid(request, SchemaErrorCode.INVALID_SCHEMA, 'Invalid schema')
    const version = parseVersion(request.params.version)
    return compatibilityReply(registry.checkCompatibility(request.params.subject, request.body, version), request.query.verbose)
  })

  app.post<SubjectRoute & { Body: SchemaInput; Querystring: { verbose?: boolean } }>('/compatibility/subjects/:subject/versions', {
    attachValidation: true,
    bodyLimit: schemaLimits.maxRequestBodyBytes,
    schema: { params: subjectParams, querystring: verboseQuery, body: schemaBody, response: { 200: compatibilityResponse } },
  }, async (request) => {
    assertValid(request, SchemaErrorCode.INVALID_SCHEMA, 'Invalid schema')
    return compatibilityReply(registry.checkCompatibility(request.params.subject, request.body, 'all'), request.query.verbose)
  })
}

function configRoutes(app: FastifyInstance, registry: SchemaRegistry): void {
  app.get('/config', { schema: { response: { 200: levelResponse } } }, async () => ({ compatibilityLevel: registry.compatibilityLevel() }))

  app.put<{ Body: { compatibility: string } }>('/config', {
    attachValidation: true,
    schema: { body: configBody, response: { 200: compatibilityUpdateResponse } },
  }, async (request) => {
    assertValid(request, SchemaErrorCode.INVALID_COMPATIBILITY, 'Invalid compatibility level')
    return { compatibility: await registry.setCompatibility(null, request.body.compatibility) }
  })

  app.delete('/config', { schema: { response: { 200: levelResponse } } }, async () => ({ compatibilityLevel: await registry.deleteCompatibility(null) }))

  app.get<SubjectRoute & { Querystring: { defaultToGlobal?: boolean } }>('/config/:subject', {
    schema: { params: subjectParams, querystring: { type: 'object', properties: { defaultToGlobal: { type: 'boolean' } } }, response: { 200: levelResponse } },
  }, async (request) => {
    const { subject } = request.params
    return { compatibilityLevel: request.query.defaultToGlobal ? registry.compatibilityLevel(subject) : registry.subjectCompatibilityLevel(subject) }
  })

  app.put<SubjectRoute & { Body: { compatibility: string } }>('/config/:subject', {
    attachValidation: true,
    schema: { params: subjectParams, body: configBody, response: { 200: compatibilityUpdateResponse } },
  }, async (request) => {
    assertValid(request, SchemaErrorCode.INVALID_COMPATIBILITY, 'Invalid compatibility level')
    return { compatibility: await registry.setCompatibility(request.params.subject, request.body.compatibility) }
  })

  app.delete<SubjectRoute>('/config/:subject', {
    schema: { params: subjectParams, response: { 200: levelResponse } },
  }, async (request) => ({ compatibilityLevel: await registry.deleteCompatibility(request.params.subject) }))
}

/** The registry's routes, Confluent-compatible. Register with app.register(registryRoutes, { registry }). */
export const registryRoutes: FastifyPluginAsync<RegistryRoutesOptions> = async (app, options) => {
  const registry = options.registry
  if (typeof registry?.register !== 'function') throw new TypeError('registryRoutes: options.registry must be a SchemaRegistry')
  setUpContext(app)
  subjectRoutes(app, registry)
  schemaRoutes(app, registry)
  compatibilityRoutes(app, registry)
  configRoutes(app, registry)
}
