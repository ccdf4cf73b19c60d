import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { formatExposition, parseExposition, sampleValue } from './exposition.ts'
import { MAX_CHILDREN_PER_FAMILY, MetricsRegistry } from './registry.ts'
import { SluiceMetrics } from './metrics.ts'

const expose = async (registry: MetricsRegistry): Promise<string> => formatExposition(await registry.collect())

describe('metrics registry', () => {
  it('counts per label set and exposes HELP, TYPE and samples that parse back', async () => {
    const registry = new MetricsRegistry()
    const requests = registry.counter('t_requests_total', 'Requests.', ['route', 'status'])
    const ok = requests.labels('/write', '204')
    ok.inc()
    ok.inc(4)
    requests.labels('/write', '400').inc()
    registry.gauge('t_lag', 'Lag.').labels().set(-3.5)
    const text = await expose(registry)
    assert.match(text, /^# HELP t_requests_total Requests\.\n# TYPE t_requests_total counter\n/)
    const parsed = parseExposition(text)
    assert.equal(parsed.types.get('t_requests_total'), 'counter')
    assert.equal(parsed.types.get('t_lag'), 'gauge')
    assert.equal(sampleValue(parsed, 't_requests_total', { route: '/write', status: '204' }), 5)
    assert.equal(sampleValue(parsed, 't_requests_total', { status: '400' }), 1)
    assert.equal(sampleValue(parsed, 't_lag'), -3.5)
    assert.equal(requests.labels('/write', '204'), ok, 'the same label values give the same child')
  })

  it('escapes label values and help text so that they read back unchanged', async () => {
    const registry = new MetricsRegistry()
    const awkward = 'a "quoted" back\\slash\nnew line, {braces}=and,commas'
    registry.counter('t_escape_total', 'Help with \\ and\nnew line.', ['database']).labels(awkward).inc(2)
    const text = await expose(registry)
    assert.ok(text.includes('database="a \\"quoted\\" back\\\\slash\\nnew line, {braces}=and,commas"'), text)
    assert.ok(text.includes('# HELP t_escape_total Help with \\\\ and\\nnew line.'), text)
    assert.equal(text.split('\n').filter(line => line.startsWith('t_escape_total')).length, 1, 'one sample on one line')
    const parsed = parseExposition(text)
    assert.deepEqual(parsed.samples, [{ name: 't_escape_total', labels: { database: awkward }, value: 2 }])
    assert.equal(parsed.help.get('t_escape_total'), 'Help with \\ and\nnew line.')
  })

  it('exposes histograms as cumulative buckets with +Inf, _sum and _count', async () => {
    const registry = new MetricsRegistry()
    const latency = registry.histogram('t_latency_seconds', 'Latency.', ['language'], [0.1, 1])
    const sql = latency.labels('sql')
    for (const value of [0.05, 0.1, 0.5, 3]) sql.observe(value)
    const parsed = parseExposition(await expose(registry))
    assert.equal(parsed.types.get('t_latency_seconds'), 'histogram')
    const buckets = parsed.samples.filter(s => s.name === 't_latency_seconds_bucket').map(s => [s.labels.le, s.value])
    assert.deepEqual(buckets, [['0.1', 2], ['1', 3], ['+Inf', 4]], 'a value equal to a bound counts in that bucket (le)')
    assert.equal(sampleValue(parsed, 't_latency_seconds_count', { language: 'sql' }), 4)
    assert.equal(sampleValue(parsed, 't_latency_seconds_sum', { language: 'sql' }), 3.65)
  })

  it('runs collectors before a read, and a failing collector leaves the rest readable', async () => {
    const registry = new MetricsRegistry()
    const flushes = registry.counter('t_flushes_total', 'Flushes.')
    let total = 0
    registry.onCollect(() => { flushes.labels().setTotal(total) })
    registry.onCollect(async () => { throw new Error('Kafka is down') })
    total = 7
    assert.equal(sampleValue(parseExposition(await expose(registry)), 't_flushes_total'), 7)
    total = 9
    assert.equal(sampleValue(parseExposition(await expose(registry)), 't_flushes_total'), 9)
  })

  it('refuses what would break the format or memory: bad names, wrong label counts, negative increments, unbounded label sets', () => {
    const registry = new MetricsRegistry()
    assert.throws(() => registry.counter('bad-name', 'x'), /invalid metric name/)
    assert.throws(() => registry.counter('t_x_total', 'x', ['bad-label']), /invalid label name/)
    assert.throws(() => registry.histogram('t_h', 'x', ['le']), /invalid label name/)
    assert.throws(() => registry.histogram('t_h2', 'x', [], [1, 1]), /strictly increasing/)
    const counter = registry.counter('t_c_total', 'x', ['a'])
    assert.throws(() => registry.counter('t_c_total', 'x'), /registered twice/)
    assert.throws(() => counter.labels('1', '2'), /takes labels \(a\)/)
    assert.throws(() => counter.labels(), /takes labels/)
    assert.throws(() => counter.labels('x').inc(-1), /only goes up/)
    for (let i = 1; i < MAX_CHILDREN_PER_FAMILY; i++) counter.labels(String(i)) // 'x' is the first
    assert.throws(() => counter.labels('one more'), /MAX_CHILDREN_PER_FAMILY/)
  })

  it('a no-op registry records nothing', async () => {
    const registry = new MetricsRegistry({ noop: true })
    const counter = registry.counter('t_n_total', 'x')
    counter.labels().inc(5)
    registry.histogram('t_n_seconds', 'x').labels().observe(1)
    const parsed = parseExposition(await expose(registry))
    assert.equal(sampleValue(parsed, 't_n_total'), 0)
    assert.equal(sampleValue(parsed, 't_n_seconds_count'), 0)
  })

  it('parser refuses malformed lines, naming the line', () => {
    assert.throws(() => parseExposition('ok 1\nbad{x="1" 2\n'), /line 2/)
    assert.throws(() => parseExposition('m{x="1"} notanumber'), /line 1/)
    assert.deepEqual(parseExposition('m{x="1",} 1 1700000000000').samples, [{ name: 'm', labels: { x: '1' }, value: 1 }])
  })

  it('Sluice\'s metric set has the names agreed with the console', async () => {
    const m = new SluiceMetrics()
    m.pointsAccepted.labels('http').inc(3)
    m.replicaLagRecords.labels('0').set(0)
    const parsed = parseExposition(await expose(m.registry))
    for (const name of [
      'sluice_http_requests_total', 'sluice_http_request_duration_seconds', 'sluice_points_accepted_total', 'sluice_points_rejected_total',
      'sluice_query_duration_seconds', 'sluice_kafka_transaction_duration_seconds', 'sluice_http_write_stage_seconds', 'sluice_kafka_transaction_records', 'sluice_master_partitions',
      'sluice_replica_applied_entries_total', 'sluice_replica_lag_records', 'sluice_replica_applied_offset', 'sluice_store_memtable_bytes',
      'sluice_store_flushes_total', 'sluice_store_compactions_total', 'sluice_store_bytes_on_disk', 'sluice_compression_points_in_total',
      'sluice_compression_points_kept_total', 'sluice_cdc_events_total', 'sluice_mqtt_messages_total',
    ]) assert.ok(parsed.types.has(name), name)
    assert.equal(sampleValue(parsed, 'sluice_points_accepted_total', { source: 'http' }), 3)
  })
})
