// The schema registry over the `_schemas` topic of a real broker process: nodes share one registry,
// concurrent writers never hand one id to two schemas, a Confluent client nobody here wrote
// registers and decodes through the REST routes, and the registry survives a broker restart.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import Fastify from 'fastify'
import confluent from '@kafkajs/confluent-schema-registry'
import { startBrokerProcess } from '../lib/process/broker-process.ts'
import { openKafkaSchemaRegistry, type KafkaSchemaRegistry } from '../pipeline/registry/kafka-store.ts'
import { registryRoutes } from '../schemas/index.ts'
import { eventually, kafkaClient } from './support/kafka.ts'

const { SchemaRegistry: ConfluentClient, SchemaType, COMPATIBILITY } = confluent

const recordSchema = (name: string, fields: string[]): string =>
  JSON.stringify({ type: 'record', name, namespace: 'it', fields: fields.map(field => ({ name: field, type: 'double' })) })

/** subject → [version, id, schema] of every live version, for comparing two nodes. */
function snapshot(node: KafkaSchemaRegistry): string[] {
  return node.registry.subjects().flatMap(subject =>
    node.registry.versions(subject).map(version => {
      const v = node.registry.version(subject, version)
      return `${subject} v${v.version} id${v.id} ${v.schema}`
    }))
}

test('nodes share the _schemas registry, never reuse an id, serve a Confluent client, and survive a restart', async () => {
  let broker = await startBrokerProcess()
  const open = (nodeId: string): Promise<KafkaSchemaRegistry> => openKafkaSchemaRegistry({ kafka: kafkaClient(broker.bootstrap), nodeId })
  const nodes: KafkaSchemaRegistry[] = []
  try {
    const a = await open('a')
    nodes.push(a)
    const cpu1 = await a.registry.register('cpu-value', { schema: recordSchema('Cpu', ['user']) })
    const cpu2 = await a.registry.register('cpu-value', { schema: JSON.stringify({ type: 'record', name: 'Cpu', namespace: 'it', fields: [{ name: 'user', type: 'double' }, { name: 'system', type: 'double', default: 0 }] }) })
    assert.deepEqual([cpu1, cpu2], [{ id: 1, version: 1 }, { id: 2, version: 2 }])
    await a.registry.setCompatibility('cpu-value', 'FULL')

    // A second node replays what the first wrote.
    const b = await open('b')
    nodes.push(b)
    assert.deepEqual(snapshot(b), snapshot(a))
    assert.equal(b.registry.compatibilityLevel('cpu-value'), 'FULL')

    // Writes on either node reach the other; ids come from the whole topic.
    const mem = await b.registry.register('mem-value', { schema: recordSchema('Mem', ['used']) })
    assert.deepEqual(mem, { id: 3, version: 1 })
    assert.ok(await eventually(() => a.registry.subjects().includes('mem-value')), 'node a sees node b\'s write')
    const disk = await a.registry.register('disk-value', { schema: recordSchema('Disk', ['free']) })
    assert.deepEqual(disk, { id: 4, version: 1 })

    // Concurrent writers: each write fences the previous writer, so two different schemas can
    // never both commit under one id; a fenced write fails and may be retried.
    const attempts = await Promise.allSettled(Array.from({ length: 6 }, (_, i) =>
      (i % 2 === 0 ? a : b).registry.register(`race-${i}-value`, { schema: recordSchema(`Race${i}`, ['x']) })))
    const won = attempts.flatMap(attempt => attempt.status === 'fulfilled' ? [attempt.value.id] : [])
    assert.ok(won.length > 0, 'some concurrent writes commit')
    assert.equal(new Set(won).size, won.length, `no id handed out twice: ${won.join(', ')}`)
    for (const attempt of attempts) {
      if (attempt.status === 'rejected') assert.match(String(attempt.reason), /backend data store/, 'a losing write is a store error, retriable')
    }
    await a.catchUp()
    await b.catchUp()
    assert.deepEqual(snapshot(a), snapshot(b), 'both nodes hold the same registry')

    // A Confluent client registers, encodes and decodes through Sluice's REST routes.
    const app = Fastify()
    await app.register(registryRoutes, { registry: a.registry })
    const address = await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const client = new ConfluentClient({ host: address })
      const { id } = await client.register({ type: SchemaType.AVRO, schema: recordSchema('Temp', ['celsius']) }, { subject: 'temp-value' })
      assert.ok(id > 4, `a fresh id (${id})`)
      const encoded = await client.encode(id, { celsius: 21.5 })
      assert.equal(encoded[0], 0, 'Confluent framing: magic byte 0')
      assert.equal(encoded.readUInt32BE(1), id, 'Confluent framing: the schema id')
      assert.deepEqual({ ...(await client.decode(encoded)) }, { celsius: 21.5 })
      assert.equal(await client.getLatestSchemaId('cpu-value'), 2)
      await assert.rejects(
        client.register({ type: SchemaType.AVRO, schema: recordSchema('Cpu', ['idle']) }, { subject: 'cpu-value', compatibility: COMPATIBILITY.FULL }),
        /incompatible/i, 'FULL compatibility refuses a schema that drops the old fields')
    } finally {
      await app.close()
    }

    // After a broker restart a new node replays the same registry, and ids keep growing.
    const before = snapshot(a)
    for (const node of nodes.splice(0)) await node.close()
    assert.equal(await broker.stop(), 0)
    broker = await broker.restart()
    const c = await open('c')
    nodes.push(c)
    assert.deepEqual(snapshot(c), before)
    const next = await c.registry.register('after-restart-value', { schema: recordSchema('After', ['y']) })
    assert.ok(next.id > Math.max(...won, 5), `ids keep growing after a restart (${next.id})`)
  } finally {
    for (const node of nodes) await node.close().catch(() => {})
    await broker.stop()
  }
})
