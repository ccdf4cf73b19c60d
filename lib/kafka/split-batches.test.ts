import { test } from 'node:test'
import assert from 'node:assert/strict'
import { messageBytes, splitTopicMessages } from './split-batches.ts'

const record = (partition: number, n: number, bytes: number) => ({ partition, key: `k${n}`, value: Buffer.alloc(bytes, n % 256) })

test('everything that fits goes in one request', () => {
  const requests = splitTopicMessages([{ topic: 'a', messages: [record(0, 1, 10), record(1, 2, 10)] }, { topic: 'b', messages: [record(0, 3, 10)] }], 1_000)
  assert.equal(requests.length, 1)
  assert.deepEqual(requests[0]!.map(t => t.topic), ['a', 'b'])
})

test('no (topic, partition) exceeds the limit in a request, every record is sent once, and each partition keeps its order', () => {
  const messages = Array.from({ length: 200 }, (_, n) => record(n % 3, n, 100 + (n * 37) % 400))
  const requests = splitTopicMessages([{ topic: 'changelog', messages }, { topic: 'state', messages: messages.slice(0, 20) }], 5_000)
  assert.ok(requests.length > 1)
  const seen = new Map<string, number[]>()
  for (const request of requests) {
    const used = new Map<string, number>()
    for (const { topic, messages: sent } of request) {
      for (const message of sent) {
        const where = `${topic}/${message.partition}`
        used.set(where, (used.get(where) ?? 0) + messageBytes(message))
        seen.set(where, [...(seen.get(where) ?? []), Number(String(message.key).slice(1))])
      }
    }
    for (const [where, bytes] of used) assert.ok(bytes <= 5_000, `${where}: ${bytes} bytes`)
  }
  for (let partition = 0; partition < 3; partition++) {
    assert.deepEqual(seen.get(`changelog/${partition}`), messages.filter(m => m.partition === partition).map(m => Number(m.key.slice(1))))
  }
  assert.equal(seen.get('state/0')!.length + seen.get('state/1')!.length + seen.get('state/2')!.length, 20)
})

test('a record larger than the limit goes alone', () => {
  const requests = splitTopicMessages([{ topic: 'a', messages: [record(0, 1, 10), record(0, 2, 5_000), record(0, 3, 10)] }], 1_000)
  assert.deepEqual(requests.map(r => r[0]!.messages.map(m => m.key)), [['k1'], ['k2'], ['k3']])
})
