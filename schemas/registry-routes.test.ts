// The registry's HTTP routes through fastify's inject: Confluent's paths, JSON shapes, error codes
// and content type, as Confluent-aware clients send and expect them.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify'
import { ingestBatchType } from './catalog.ts'
import { MemorySchemaStore, SchemaRegistry, type SchemaStore } from './registry.ts'
import { registryRoutes, SCHEMA_REGISTRY_CONTENT_TYPE } from './registry-routes.ts'

const A1 = JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'long' }] })
const A2 = JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'x', type: 'long' }, { name: 'y', type: ['null', 'string'], default: null }] })
const A_BAD = JSON.stringify({ type: 'record', name: 'A', fields: [{ name: 'z', type: 'string' }] })

async function appWith(store: SchemaStore = new MemorySchemaStore()): Promise<{ app: FastifyInstance; registry: SchemaRegistry }> {
  const registry = new SchemaRegistry({ store })
  const app = Fastify()
  await app.register(registryRoutes, { registry })
  await app.ready()
  return { app, registry }
}

/** One request as Confluent clients send it (their content type on every request), JSON back. */
async function call(app: FastifyInstance, method: InjectOptions['method'], url: string, body?: unknown): Promise<{ status: number; body: unknown; contentType: unknown }> {
  const response = await app.inject({
    method,
    url,
    headers: { 'content-type': SCHEMA_REGISTRY_CONTENT_TYPE, accept: SCHEMA_REGISTRY_CONTENT_TYPE },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  })
  return { status: response.statusCode, body: response.body === '' ? undefined : JSON.parse(response.body), contentType: response.headers['content-type'] }
}

describe('registry routes', () => {
  it('registers, lists and reads schemas with Confluent\'s shapes', async () => {
    const { app } = await appWith()
    assert.deepEqual(await call(app, 'POST', '/subjects/a-value/versions', { schema: A1 }), { status: 200, body: { id: 1 }, contentType: SCHEMA_REGISTRY_CONTENT_TYPE })
    assert.deepEqual((await call(app, 'POST', '/subjects/a-value/versions', { schema: A1, schemaType: 'AVRO' })).body, { id: 1 })
    assert.deepEqual((await call(app, 'POST', '/subjects/a-value/versions', { schema: A2 })).body, { id: 2 })
    assert.deepEqual((await call(app, 'GET', '/subjects')).body, ['a-value'])
    assert.deepEqual((await call(app, 'GET', '/subjects/a-value/versions')).body, [1, 2])
    assert.deepEqual((await call(app, 'GET', '/subjects/a-value/versions/latest')).body, { subject: 'a-value', version: 2, id: 2, schema: A2 })
    assert.deepEqual((await call(app, 'GET', '/subjects/a-value/versions/-1')).body, { subject: 'a-value', version: 2, id: 2, schema: A2 })
    assert.deepEqual((await call(app, 'GET', '/subjects/a-value/versions/1')).body, { subject: 'a-value', version: 1, id: 1, schema: A1 })
    assert.deepEqual((await call(app, 'GET', '/subjects/a-value/versions/1/schema')).body, JSON.parse(A1))
    assert.deepEqual((await call(app, 'GET', '/schemas/ids/2')).body, { schema: A2 })
    assert.deepEqual((await call(app, 'GET', '/schemas/ids/2/versions')).body, [{ subject: 'a-value', version: 2 }])
    assert.deepEqual((await call(app, 'GET', '/schemas/types')).body, ['AVRO'])
    assert.deepEqual((await call(app, 'POST', '/subjects/a-value', { schema: A1 })).body, { subject: 'a-value', version: 1, id: 1, schema: A1 })
  })

  it('accepts application/json and Confluent\'s other content types', async () => {
    const { app } = await appWith()
    for (const [i, type] of ['application/json', 'application/vnd.schemaregistry+json', 'application/octet-stream'].entries()) {
      const response = await app.inject({ method: 'POST', url: `/subjects/s${i}/versions`, headers: { 'content-type': type }, payload: JSON.stringify({ schema: A1 }) })
      assert.equal(response.statusCode, 200, type)
      assert.deepEqual(response.json(), { id: 1 })
    }
  })

  it('answers errors with Confluent\'s error_code and message', async () => {
    const { app } = await appWith()
    await call(app, 'POST', '/subjects/a-value/versions', { schema: A1 })
    const cases: Array<[InjectOptions['method'], string, unknown, number, number]> = [
      ['GET', '/subjects/nope/versions', undefined, 404, 40401],
      ['GET', '/subjects/a-value/versions/7', undefined, 404, 40402],
      ['GET', '/schemas/ids/99', undefined, 404, 40403],
      ['GET', '/schemas/ids/abc', undefined, 404, 40403],
      ['POST', '/subjects/a-value', { schema: A2 }, 404, 40403],
      ['POST', '/subjects/a-value/versions', { schema: A_BAD }, 409, 409],
      ['POST', '/subjects/a-value/versions', { schema: '{"type":"record"' }, 422, 42201],
      ['POST', '/subjects/a-value/versions', { schema: '"nosuchtype"' }, 422, 42201],
      ['POST', '/subjects/a-value/versions', { schema: A1, schemaType: 'JSON' }, 422, 42201],
      ['POST', '/subjects/a-value/versions', { notSchema: 1 }, 422, 42201],
      ['GET', '/subjects/a-value/versions/0', undefined, 422, 42202],
      ['GET', '/subjects/a-value/versions/first', undefined, 422, 42202],
      ['PUT', '/config/a-value', { compatibility: 'SIDEWAYS' }, 422, 42203],
      ['PUT', '/config', {}, 422, 42203],
      ['GET', '/config/a-value', undefined, 404, 40408],
      ['DELETE', '/subjects/a-value?permanent=true', undefined, 404, 40405],
      ['DELETE', '/subjects/nope', undefined, 404, 40401],
    ]
    for (const [method, url, body, status, errorCode] of cases) {
      const response = await call(app, method, url, body)
      assert.equal(response.status, status, `${method} ${url}`)
      assert.equal((response.body as { error_code: number }).error_code, errorCode, `${method} ${url}`)
      assert.equal(typeof (response.body as { message: unknown }).message, 'string')
      assert.equal(response.contentType, SCHEMA_REGISTRY_CONTENT_TYPE)
    }
    const incompatible = await call(app, 'POST', '/subjects/a-value/versions', { schema: A_BAD })
    assert.match((incompatible.body as { message: string }).message, /incompatible with an earlier schema/)
  })

  it('answers malformed bodies as Confluent clients can read them', async () => {
    const { app } = await appWith()
    const badJson = await app.inject({ method: 'POST', url: '/subjects/s/versions', headers: { 'content-type': SCHEMA_REGISTRY_CONTENT_TYPE }, payload: '{"schema": ' })
    assert.equal(badJson.statusCode, 400)
    assert.equal(badJson.json().error_code, 400)
    const wrongType = await app.inject({ method: 'POST', url: '/subjects/s/versions', headers: { 'content-type': 'text/csv' }, payload: 'a,b' })
    assert.equal(wrongType.statusCode, 415)
    assert.equal(wrongType.json().error_code, 415)
  })

  it('checks compatibility, verbose or not', async () => {
    const { app } = await appWith()
    await call(app, 'POST', '/subjects/a-value/versions', { schema: A1 })
    assert.deepEqual((await call(app, 'POST', '/compatibility/subjects/a-value/versions/latest', { schema: A2 })).body, { is_compatible: true })
    assert.deepEqual((await call(app, 'POST', '/compatibility/subjects/a-value/versions/latest', { schema: A_BAD })).body, { is_compatible: false })
    const verbose = await call(app, 'POST', '/compatibility/subjects/a-value/versions/1?verbose=true', { schema: A_BAD })
    assert.equal((verbose.body as { is_compatible: boolean }).is_compatible, false)
    assert.match((verbose.body as { messages: string[] }).messages[0]!, /default-less A\.z/)
    assert.deepEqual((await call(app, 'POST', '/compatibility/subjects/a-value/versions', { schema: A2 })).body, { is_compatible: true })
    assert.deepEqual((await call(app, 'POST', '/compatibility/subjects/new-subject/versions/latest', { schema: A_BAD })).body, { is_compatible: true })
  })

  it('reads and writes compatibility config, global and per subject', async () => {
    const { app } = await appWith()
    assert.deepEqual((await call(app, 'GET', '/config')).body, { compatibilityLevel: 'BACKWARD' })
    assert.deepEqual((await call(app, 'PUT', '/config', { compatibility: 'FULL' })).body, { compatibility: 'FULL' })
    assert.deepEqual((await call(app, 'GET', '/config')).body, { compatibilityLevel: 'FULL' })
    // What @kafkajs/confluent-schema-registry does before its first register: GET (404), then PUT.
    assert.equal((await call(app, 'GET', '/config/s-value')).status, 404)
    assert.deepEqual((await call(app, 'GET', '/config/s-value?defaultToGlobal=true')).body, { compatibilityLevel: 'FULL' })
    assert.deepEqual((await call(app, 'PUT', '/config/s-value', { compatibility: 'backward' })).body, { compatibility: 'BACKWARD' })
    assert.deepEqual((await call(app, 'GET', '/config/s-value')).body, { compatibilityLevel: 'BACKWARD' })
    assert.deepEqual((await call(app, 'DELETE', '/config/s-value')).body, { compatibilityLevel: 'BACKWARD' })
    assert.deepEqual((await call(app, 'DELETE', '/config')).body, { compatibilityLevel: 'FULL' })
    assert.deepEqual((await call(app, 'GET', '/config')).body, { compatibilityLevel: 'BACKWARD' })
  })

  it('deletes subjects and versions, soft then permanent', async () => {
    const { app } = await appWith()
    await call(app, 'POST', '/subjects/s/versions', { schema: A1 })
    await call(app, 'POST', '/subjects/s/versions', { schema: A2 })
    assert.deepEqual((await call(app, 'DELETE', '/subjects/s/versions/2')).body, 2)
    assert.deepEqual((await call(app, 'GET', '/subjects/s/versions')).body, [1])
    assert.deepEqual((await call(app, 'GET', '/subjects/s/versions?deleted=true')).body, [1, 2])
    assert.equal(((await call(app, 'DELETE', '/subjects/s/versions/2')).body as { error_code: number }).error_code, 40402)
    assert.equal(((await call(app, 'DELETE', '/subjects/s/versions/1?permanent=true')).body as { error_code: number }).error_code, 40407)
    assert.deepEqual((await call(app, 'DELETE', '/subjects/s')).body, [1])
    assert.equal(((await call(app, 'DELETE', '/subjects/s')).body as { error_code: number }).error_code, 40404)
    assert.deepEqual((await call(app, 'GET', '/subjects')).body, [])
    assert.deepEqual((await call(app, 'GET', '/subjects?deleted=true')).body, ['s'])
    assert.deepEqual((await call(app, 'GET', '/schemas/ids/1')).body, { schema: A1 })
    assert.deepEqual((await call(app, 'DELETE', '/subjects/s?permanent=true')).body, [1, 2])
    assert.equal((await call(app, 'GET', '/schemas/ids/1')).status, 404)
  })

  it('registers Sluice\'s own schemas under subjects with dots and encoded characters', async () => {
    const { app } = await appWith()
    assert.deepEqual((await call(app, 'POST', '/subjects/sluice.ingest-value/versions', { schema: ingestBatchType.schema })).body, { id: 1 })
    assert.deepEqual((await call(app, 'GET', `/subjects/${encodeURIComponent('team/a value')}/versions`)).body, { error_code: 40401, message: "Subject 'team/a value' not found." })
  })

  it('answers 500 / 50001 when the store fails', async () => {
    const { app } = await appWith({ append: async () => { throw new Error('broker down') } })
    const response = await call(app, 'POST', '/subjects/s/versions', { schema: A1 })
    assert.equal(response.status, 500)
    assert.equal((response.body as { error_code: number }).error_code, 50001)
  })

  it('keeps its parser, error handler and content type inside its own context', async () => {
    const registry = new SchemaRegistry({ store: new MemorySchemaStore() })
    const app = Fastify()
    await app.register(registryRoutes, { registry, prefix: '/registry' })
    app.get('/other', async () => ({ ok: true }))
    app.get('/fails', async () => { throw Object.assign(new Error('nope'), { statusCode: 418 }) })
    await app.ready()
    assert.deepEqual((await call(app, 'GET', '/registry/subjects')).body, [])
    const other = await app.inject({ method: 'GET', url: '/other' })
    assert.match(String(other.headers['content-type']), /^application\/json/)
    const fails = await app.inject({ method: 'GET', url: '/fails' })
    assert.equal(fails.json().statusCode, 418) // fastify's own error shape, not Confluent's
  })
})
