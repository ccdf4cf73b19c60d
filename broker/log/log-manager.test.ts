import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { KafkaError } from '../protocol/errors.ts'
import { batchesIn, openLogs, produced, temporaryDirectory } from './testing.ts'

const errorCode = (code: number) => (error: unknown): boolean => error instanceof KafkaError && error.code === code

test('createTopic validates names, partition counts and configs with the Kafka codes', async () => {
  const dir = temporaryDirectory()
  const logs = await openLogs(dir.path)
  try {
    logs.createTopic('orders', 3, { 'retention.ms': '1000' })
    assert.throws(() => logs.createTopic('orders', 1, {}), errorCode(36))
    for (const name of ['', '.', '..', 'a b', 'x/y', 'é', 'n'.repeat(250)]) assert.throws(() => logs.createTopic(name, 1, {}), errorCode(17), JSON.stringify(name))
    logs.createTopic('n'.repeat(249), 1, {})
    assert.throws(() => logs.createTopic('zero', 0, {}), errorCode(37))
    assert.throws(() => logs.createTopic('many', 10_001, {}), errorCode(37))
    assert.throws(() => logs.createTopic('bad', 1, { 'no.such.config': '1' }), errorCode(40))
    assert.throws(() => logs.createTopic('bad', 1, { 'message.timestamp.type': 'LogAppendTime' }), errorCode(40))
    assert.throws(() => logs.createTopic('bad', 1, { 'retention.ms': 'soon' }), errorCode(40))
    assert.throws(() => logs.createTopic('bad', 1, { 'segment.bytes': '3000000000' }), errorCode(40))
    logs.createTopic('ok.Name_-1', 1, { 'cleanup.policy': 'compact,delete', 'max.message.bytes': '2000', 'segment.ms': '5000', 'retention.bytes': '-1', 'segment.bytes': '14', 'message.timestamp.type': 'CreateTime' })
    assert.equal(logs.topic('bad'), undefined)
    assert.deepEqual(logs.topicNames(), ['n'.repeat(249), 'ok.Name_-1', 'orders'])
    assert.equal(logs.topics().length, 3)
    const info = logs.topic('orders')!
    assert.equal(info.partitionCount, 3)
    assert.deepEqual(info.configs, { 'retention.ms': '1000' })
    const effective = new Map(info.effectiveConfigs.map(c => [c.name, c]))
    assert.deepEqual(effective.get('retention.ms'), { name: 'retention.ms', value: '1000', isDefault: false })
    assert.deepEqual(effective.get('segment.bytes'), { name: 'segment.bytes', value: String(1 << 30), isDefault: true })
    assert.equal(effective.get('cleanup.policy')!.value, 'delete')
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('the catalog survives restarts: partitions added, configs altered, topics deleted', async () => {
  const dir = temporaryDirectory()
  let logs = await openLogs(dir.path)
  try {
    logs.createTopic('grow', 1, {})
    logs.createTopic('gone', 2, {})
    logs.createTopic('tuned', 1, { 'retention.ms': '1000' })
    logs.partition('gone', 1)!.appendProduced(produced().records, produced().header, false)
    assert.throws(() => logs.createPartitions('grow', 1), errorCode(37))
    assert.throws(() => logs.createPartitions('nope', 2), errorCode(3))
    logs.createPartitions('grow', 3, true)
    assert.equal(logs.topic('grow')!.partitionCount, 1, 'validateOnly changes nothing')
    logs.createPartitions('grow', 3)
    logs.alterConfigs('tuned', { 'segment.bytes': '5000' })
    assert.throws(() => logs.alterConfigs('tuned', { 'segment.bytes': '1' }), errorCode(40))
    assert.throws(() => logs.alterConfigs('nope', {}), errorCode(3))
    logs.deleteTopic('gone')
    assert.throws(() => logs.deleteTopic('gone'), errorCode(3))
    assert.ok(!existsSync(join(dir.path, 'topics', 'gone-0')) && !existsSync(join(dir.path, 'topics', 'gone-1')))
    await logs.close()

    logs = await openLogs(dir.path)
    assert.deepEqual(logs.topicNames(), ['grow', 'tuned'])
    assert.equal(logs.topic('grow')!.partitionCount, 3)
    assert.ok(logs.partition('grow', 2))
    assert.deepEqual(logs.topic('tuned')!.configs, { 'segment.bytes': '5000' }, 'AlterConfigs replaces the whole set')
    logs.createTopic('gone', 2, {})
    assert.equal(logs.partition('gone', 1)!.logEndOffset, 0n, 'a re-created topic starts empty')
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('directories the catalog does not know are set aside, never deleted', async () => {
  const dir = temporaryDirectory()
  mkdirSync(join(dir.path, 'topics', 'stranger-0'), { recursive: true })
  const logs = await openLogs(dir.path)
  try {
    const names = readdirSync(join(dir.path, 'topics'))
    assert.ok(names.some(name => /^stranger-0\.orphaned-\d+$/.test(name)), names.join(','))
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('ensureTopic auto-creates with the default partition count only when allowed', async () => {
  const dir = temporaryDirectory()
  let logs = await openLogs(dir.path, { defaultPartitions: 2 })
  try {
    assert.equal(logs.ensureTopic('auto')!.partitionCount, 2)
    assert.equal(logs.ensureTopic('never', false), undefined)
    assert.throws(() => logs.ensureTopic('bad name'), errorCode(17))
    await logs.close()
    logs = await openLogs(dir.path, { autoCreateTopics: false })
    assert.equal(logs.ensureTopic('other'), undefined)
    assert.equal(logs.ensureTopic('auto')!.name, 'auto')
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('writeMarkers appends to existing partitions, skips missing ones, and resolves once durable', async () => {
  const dir = temporaryDirectory()
  const logs = await openLogs(dir.path, { flushPolicy: 'always', flushIntervalMs: 1 })
  try {
    logs.createTopic('a', 2, {})
    const batch = produced({ producerId: 4n, epoch: 1, sequence: 0, transactional: true })
    logs.partition('a', 1)!.appendProduced(batch.records, batch.header, true)
    await logs.writeMarkers([{ topic: 'a', partition: 1 }, { topic: 'a', partition: 5 }, { topic: 'missing', partition: 0 }], 4n, 1, true, 0)
    const log = logs.partition('a', 1)!
    assert.equal(log.logEndOffset, 2n)
    assert.equal(log.highWatermark, 2n)
    assert.equal(log.lastStableOffset, 2n)
    assert.deepEqual(batchesIn(log.read(0n, 1000, 1).records).map(b => b.isControl), [false, true])
  } finally {
    await logs.close()
    dir.remove()
  }
})

test('a clean shutdown leaves a marker that the next open consumes', async () => {
  const dir = temporaryDirectory()
  let logs = await openLogs(dir.path)
  logs.createTopic('t', 1, {})
  await logs.close()
  assert.ok(existsSync(join(dir.path, 'topics', '.clean-shutdown')))
  logs = await openLogs(dir.path)
  assert.ok(!existsSync(join(dir.path, 'topics', '.clean-shutdown')))
  await logs.close()
  dir.remove()
})
