import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { formatExposition, parseExposition, sampleValue } from './exposition.ts'
import { SluiceMetrics } from './metrics.ts'
import { registerNodeCollectors } from './node-collectors.ts'
import { MetricsRegistry } from './registry.ts'
import { OtlpUnavailableError, startOtlp } from './otlp.ts'

const scrape = async (m: SluiceMetrics) => parseExposition(formatExposition(await m.registry.collect()))

describe('node collectors', () => {
  it('read the components\' stats at each scrape: master partitions, replica offsets and lag, stores, CDC, MQTT, source, compression', async () => {
    const m = new SluiceMetrics()
    let ends = new Map([[0, 10n], [1, 7n]])
    const stats = { memtableBytes: 100, frozenMemtableBytes: 20, segmentBytes: 4_096, flushes: 2, compactions: 1 }
    const remove = registerNodeCollectors(m, {
      processor: { partitions: () => [0, 1] },
      replica: {
        appliedPositions: () => [{ partition: 0, appliedOffset: 10n }, { partition: 1, appliedOffset: 4n }],
        endOffsets: async () => ends,
        stores: () => new Map([[0, { stats: () => stats }], [1, { stats: () => ({ ...stats, flushes: 3 }) }]]),
      },
      cdc: { stats: { eventsOut: 12 } },
      mqttBridge: { stats: () => ({ messagesAcknowledged: 5, messagesDeadLettered: 1, pointsWritten: 9 }) },
      kafkaSource: { stats: { pointsWritten: 30, recordsDeadLettered: 2 } },
      compression: async () => [{ database: 'db', measurement: 'cpu', field: 'usage', pointsIn: 100, pointsKept: 20 }],
    })
    let parsed = await scrape(m)
    assert.equal(sampleValue(parsed, 'sluice_master_partitions'), 2)
    assert.equal(sampleValue(parsed, 'sluice_replica_applied_offset', { partition: '1' }), 4)
    assert.equal(sampleValue(parsed, 'sluice_replica_lag_records', { partition: '0' }), 0)
    assert.equal(sampleValue(parsed, 'sluice_replica_lag_records', { partition: '1' }), 3)
    assert.equal(sampleValue(parsed, 'sluice_store_memtable_bytes', { partition: '0' }), 120)
    assert.equal(sampleValue(parsed, 'sluice_store_bytes_on_disk', { partition: '1' }), 4_096)
    assert.equal(sampleValue(parsed, 'sluice_store_flushes_total'), 5)
    assert.equal(sampleValue(parsed, 'sluice_store_compactions_total'), 2)
    assert.equal(sampleValue(parsed, 'sluice_cdc_events_total'), 12)
    assert.equal(sampleValue(parsed, 'sluice_mqtt_messages_total', { result: 'acknowledged' }), 5)
    assert.equal(sampleValue(parsed, 'sluice_mqtt_messages_total', { result: 'dead_lettered' }), 1)
    assert.equal(sampleValue(parsed, 'sluice_points_accepted_total', { source: 'mqtt' }), 9)
    assert.equal(sampleValue(parsed, 'sluice_points_accepted_total', { source: 'kafka' }), 30)
    assert.equal(sampleValue(parsed, 'sluice_points_rejected_total', { source: 'kafka', reason: 'dead_letter' }), 2)
    assert.equal(sampleValue(parsed, 'sluice_compression_points_in_total', { database: 'db', measurement: 'cpu', field: 'usage' }), 100)
    assert.equal(sampleValue(parsed, 'sluice_compression_points_kept_total', { database: 'db', measurement: 'cpu', field: 'usage' }), 20)

    ends = new Map([[0, 12n], [1, 7n]])
    parsed = await scrape(m)
    assert.equal(sampleValue(parsed, 'sluice_replica_lag_records', { partition: '0' }), 2, 'lag follows the end offsets read at the scrape')
    remove()
    ends = new Map([[0, 99n], [1, 99n]])
    assert.equal(sampleValue(await scrape(m), 'sluice_replica_lag_records', { partition: '0' }), 2, 'removed collectors no longer run')
  })

  it('a component that cannot answer (Kafka down for the lag) leaves the rest of the scrape intact', async () => {
    const m = new SluiceMetrics(new MetricsRegistry())
    registerNodeCollectors(m, {
      processor: { partitions: () => [3] },
      replica: { appliedPositions: () => [{ partition: 0, appliedOffset: 5n }], endOffsets: async () => { throw new Error('Kafka is down') }, stores: () => new Map() },
    })
    const parsed = await scrape(m)
    assert.equal(sampleValue(parsed, 'sluice_master_partitions'), 1)
    assert.equal(sampleValue(parsed, 'sluice_replica_applied_offset', { partition: '0' }), 5)
    assert.equal(sampleValue(parsed, 'sluice_replica_lag_records', { partition: '0' }), undefined)
  })
})

describe('OTLP start', () => {
  const options = { endpoint: 'http://127.0.0.1:4318', serviceName: 's', serviceVersion: '0', instanceId: 'n', registry: new MetricsRegistry(), metricsIntervalMs: 60_000, spanDelayMs: 5_000 }

  it('refuses to start when the SDK packages are missing, naming what to install', async () => {
    const missing = async (name: string): Promise<unknown> => { throw new Error(`Cannot find package '${name}'`) }
    await assert.rejects(startOtlp(options, missing), (error: unknown) => {
      assert.ok(error instanceof OtlpUnavailableError)
      assert.match(error.message, /optional dependencies/)
      assert.match(error.message, /npm install --include=optional/)
      assert.match(error.message, /@opentelemetry\/sdk-trace-node/)
      return true
    })
  })

  it('refuses an endpoint that is not an http(s) URL', async () => {
    await assert.rejects(startOtlp({ ...options, endpoint: 'grpc://collector:4317' }), /must be an http\(s\) URL/)
  })
})
