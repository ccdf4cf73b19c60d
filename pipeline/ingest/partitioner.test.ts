// The partitioner against kafkajs's Partitioners.DefaultPartitioner (Java-compatible murmur2) on many
// keys, lengths and partition counts, and against murmur2 values of Kafka's own Java test vectors.

import '../../lib/kafka/aborted-filter.ts' // first: kafkajs's read_committed filter replaced before kafkajs loads
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import kafkajs from 'kafkajs'
import { murmur2, partitionForKey, partitionForSeriesKey } from './partitioner.ts'
import { seededRandom } from '../../lib/testing/seeded-random.ts'

const { Partitioners } = kafkajs

function kafkajsPartition(key: Buffer, partitionCount: number): number {
  const partitioner = Partitioners.DefaultPartitioner()
  const partitionMetadata = Array.from({ length: partitionCount }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }))
  return partitioner({ topic: 'sluice.ingest', partitionMetadata, message: { key, value: null } })
}


describe('partitionForKey', () => {
  it('picks the same partition as kafkajs DefaultPartitioner for 5,000 random byte keys of every length 0-64', () => {
    const random = seededRandom(42) // a failure names a reproducible key
    for (let i = 0; i < 5000; i++) {
      const key = Buffer.alloc(i % 65)
      for (let b = 0; b < key.length; b++) key[b] = Math.floor(random() * 256)
      const partitions = 1 + (i % 97)
      assert.equal(partitionForKey(key, partitions), kafkajsPartition(key, partitions), `key ${key.toString('hex')} over ${partitions} partitions`)
    }
  })

  it('agrees with kafkajs on series keys, including non-ASCII and escaped ones', () => {
    const keys = ['cpu', 'cpu,host=a', 'cpu,host=server01,region=us-west', 'm\\ x,t\\=k=v\\,w', 'température,ville=Zürich', '温度,城市=北京', '🚀,k=v', 'a'.repeat(1000)]
    for (let h = 0; h < 500; h++) keys.push(`cpu,host=host_${h},rack=r${h % 7}`)
    for (const key of keys) {
      for (const partitions of [1, 2, 3, 8, 12, 64, 1000]) {
        assert.equal(partitionForSeriesKey(key, partitions), kafkajsPartition(Buffer.from(key), partitions), `${key} over ${partitions}`)
      }
    }
  })

  it('matches murmur2 values of Kafka\'s Java UtilsTest', () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ]
    for (const [text, expected] of cases) assert.equal(murmur2(Buffer.from(text)), expected, text)
    assert.equal(murmur2(Buffer.from([97, 98, 99])), 479470107) // {'a','b','c'}
  })

  it('refuses a partition count that is not a positive integer', () => {
    assert.throws(() => partitionForKey(Buffer.from('k'), 0), RangeError)
    assert.throws(() => partitionForKey(Buffer.from('k'), 1.5), RangeError)
  })
})
