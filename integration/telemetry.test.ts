// Observability end to end: a broker process and `sluice node` processes. First a node without any
// exporter: writes (good, bad, conflicting) and queries move the counters GET /metrics shows, in
// Prometheus text that parses back. Then a node with --otlp-endpoint pointing at an OTLP/HTTP JSON
// receiver started here: one write with a client traceparent is followed from the HTTP server span
// (child of the client's span) to the master's transaction span (linked to the write's span) to the
// replica's apply span (linked to the master's span), with the current semantic-convention names;
// and an MQTT message through the node's bridge (the machine's Mosquitto) to the master the same way.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { gunzipSync } from 'node:zlib'
import { startBrokerProcess, type BrokerProcess } from '../lib/process/broker-process.ts'
import { startNodeProcess, type NodeProcess } from '../lib/process/node-process.ts'
import { parseExposition, sampleValue, type ParsedExposition } from '../lib/telemetry/index.ts'
import { forgetTenants, uniqueName } from './http-helpers.ts'
import { eventually } from './support/kafka.ts'
import { forgetSession, SYSTEM_MQTT_URL, writeBridgeConfig } from './support/mqtt.ts'
import { run } from './support/run.ts'

const PARTITIONS = 2
const tenant = uniqueName('it_telemetry')
let broker: BrokerProcess
const nodes: NodeProcess[] = []

before(async () => {
  broker = await startBrokerProcess()
})

const mqttClientId = `sluice-it-telemetry-${tenant}`

after(async () => {
  for (const node of nodes) await node.stop()
  await broker?.stop()
  await forgetTenants([tenant])
  await forgetSession(SYSTEM_MQTT_URL, mqttClientId)
})

const startNode = async (args: string[] = [], env: Record<string, string> = {}): Promise<NodeProcess> => {
  const saved = Object.fromEntries(Object.keys(env).map(key => [key, process.env[key]]))
  Object.assign(process.env, env)
  try {
    const node = await startNodeProcess({ kafka: broker.bootstrap, args: ['--partitions', String(PARTITIONS), '--default-tenant', tenant, '--replica-flush-interval-ms', '300', ...args] })
    nodes.push(node)
    return node
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
}

const scrape = async (node: NodeProcess): Promise<ParsedExposition> => {
  const answer = await fetch(`${node.url}/metrics`)
  assert.equal(answer.status, 200)
  assert.equal(answer.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
  return parseExposition(await answer.text())
}

const post = async (url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> => {
  const answer = await fetch(url, { method: 'POST', body, headers })
  return { status: answer.status, body: await answer.text() }
}

test('GET /metrics shows writes, rejections, queries, transactions and replica offsets moving', async () => {
  const node = await startNode()
  const before = await scrape(node)
  assert.equal(sampleValue(before, 'sluice_points_accepted_total', { source: 'http' }) ?? 0, 0)
  let written = 0
  for (let batch = 0; batch < 3; batch++) {
    const lines = Array.from({ length: 50 }, (_, i) => `cpu,host=h${i % 5} usage=${batch * 50 + i} ${1_700_000_000_000_000_000 + (batch * 50 + i) * 1_000_000_000}`)
    const answer = await post(`${node.url}/write?db=telemetry`, lines.join('\n'))
    assert.equal(answer.status, 204, answer.body)
    written += lines.length
  }
  const partial = await post(`${node.url}/write?db=telemetry`, 'cpu,host=h9 usage=1 1700000000000000000\ncpu,host=h9 usage=\n')
  assert.equal(partial.status, 400, partial.body)
  written += 1
  const conflict = await post(`${node.url}/write?db=telemetry`, 'cpu,host=h8 usage="text" 1700000000000000000')
  assert.equal(conflict.status, 400, conflict.body)

  // Queries until the replica shows every point: each one is a query the histogram counts.
  let sqlQueries = 0
  assert.ok(await eventually(async () => {
    sqlQueries++
    const answer = await post(`${node.url}/api/v1/sql?db=telemetry`, 'SELECT count(usage) AS n FROM cpu', { accept: 'application/json' })
    return answer.status === 200 && JSON.parse(answer.body)[0]?.n === written
  }, 30_000, 200), 'the replica applied every point')
  const influxql = await fetch(`${node.url}/query?db=telemetry&q=${encodeURIComponent('SELECT count(usage) FROM cpu')}`)
  assert.equal(influxql.status, 200, await influxql.text())

  const metrics = await scrape(node)
  for (const [name, type] of metrics.types) assert.ok(metrics.help.has(name), `${name} (${type}) has HELP`)
  assert.equal(sampleValue(metrics, 'sluice_points_accepted_total', { source: 'http' }), written, 'points accepted = points written')
  assert.equal(sampleValue(metrics, 'sluice_points_rejected_total', { source: 'http', reason: 'line_protocol' }), 1)
  assert.equal(sampleValue(metrics, 'sluice_points_rejected_total', { source: 'http', reason: 'field_type_conflict' }), 1)
  assert.equal(sampleValue(metrics, 'sluice_http_requests_total', { route: '/write', method: 'POST', status: '204' }), 3)
  assert.equal(sampleValue(metrics, 'sluice_http_requests_total', { route: '/write', method: 'POST', status: '400' }), 2)
  assert.equal(sampleValue(metrics, 'sluice_query_duration_seconds_count', { language: 'sql' }), sqlQueries)
  assert.equal(sampleValue(metrics, 'sluice_query_duration_seconds_count', { language: 'influxql' }), 1)
  assert.equal(sampleValue(metrics, 'sluice_query_duration_seconds_bucket', { language: 'sql', le: '+Inf' }), sqlQueries)
  assert.ok(sampleValue(metrics, 'sluice_http_request_duration_seconds_count', { route: '/api/v1/sql' })! >= sqlQueries)
  assert.ok(sampleValue(metrics, 'sluice_kafka_transaction_duration_seconds_count', { role: 'http' })! >= 1, 'write transactions observed')
  assert.ok(sampleValue(metrics, 'sluice_http_write_stage_seconds_count', { stage: 'kafka_queue' })! >= 3, 'every written request waited for a producer, if only for nothing')
  assert.ok(sampleValue(metrics, 'sluice_http_write_stage_seconds_count', { stage: 'parse' })! >= 3, 'the node\'s parse worker (one by default) parsed every body')
  assert.ok(sampleValue(metrics, 'sluice_kafka_transaction_records_sum', { role: 'http' })! >= 1)
  assert.ok(sampleValue(metrics, 'sluice_kafka_transaction_duration_seconds_count', { role: 'master' })! >= 1, 'master transactions observed')
  assert.ok(sampleValue(metrics, 'sluice_kafka_transaction_records_sum', { role: 'master' })! >= 4, 'each write made at least one changelog record')
  assert.equal(sampleValue(metrics, 'sluice_master_partitions'), PARTITIONS, 'the only node masters every partition')
  assert.ok(sampleValue(metrics, 'sluice_replica_applied_entries_total')! >= 4, 'four writes made at least four changelog entries')
  for (let partition = 0; partition < PARTITIONS; partition++) {
    assert.notEqual(sampleValue(metrics, 'sluice_replica_applied_offset', { partition: String(partition) }), undefined, `applied offset of partition ${partition}`)
    assert.notEqual(sampleValue(metrics, 'sluice_store_memtable_bytes', { partition: String(partition) }), undefined)
    assert.notEqual(sampleValue(metrics, 'sluice_store_bytes_on_disk', { partition: String(partition) }), undefined)
  }
  // Every point is queryable, so each partition's replica is at the changelog end.
  assert.ok(await eventually(async () => {
    const now = await scrape(node)
    return [0, 1].every(partition => sampleValue(now, 'sluice_replica_lag_records', { partition: String(partition) }) === 0)
  }, 20_000, 200), 'replica lag 0 on every partition')
  assert.ok(await eventually(async () => {
    const now = await scrape(node)
    return [0, 1].every(partition => sampleValue(now, 'sluice_master_lag_records', { partition: String(partition) }) === 0)
  }, 20_000, 200), 'master lag 0 on every partition it masters')
  // The flush interval is 300 ms: the memtables reach segments, and the flush counter moves.
  assert.ok(await eventually(async () => (sampleValue(await scrape(node), 'sluice_store_flushes_total') ?? 0) > 0, 20_000, 200), 'flushes counted')
  assert.equal(await node.stop(), 0)
})

interface OtlpValue { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean }
interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number
  attributes?: Array<{ key: string; value: OtlpValue }>
  links?: Array<{ traceId: string; spanId: string }>
}

/** An OTLP/HTTP receiver of JSON bodies (what the -http exporters send, Content-Type application/json). */
async function startReceiver(): Promise<{ server: Server; url: string; spans: OtlpSpan[]; metricNames: Set<string>; contentTypes: Set<string> }> {
  const spans: OtlpSpan[] = []
  const metricNames = new Set<string>()
  const contentTypes = new Set<string>()
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', chunk => chunks.push(chunk))
    request.on('end', () => {
      contentTypes.add(String(request.headers['content-type']))
      let body = Buffer.concat(chunks)
      if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
      const json = JSON.parse(body.toString('utf8'))
      if (request.url === '/v1/traces') {
        for (const resource of json.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans.push(...scope.spans ?? [])
      } else if (request.url === '/v1/metrics') {
        for (const resource of json.resourceMetrics ?? []) for (const scope of resource.scopeMetrics ?? []) for (const metric of scope.metrics ?? []) metricNames.add(metric.name)
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans, metricNames, contentTypes }
}

const attribute = (span: OtlpSpan, key: string): string | number | boolean | undefined => {
  const value = span.attributes?.find(a => a.key === key)?.value
  if (value === undefined) return undefined
  return value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? value.boolValue
}

test('with an OTLP endpoint, a write is followed from the HTTP request through the master to the replica, and an MQTT delivery to the master', async () => {
  const receiver = await startReceiver()
  const mqttTopic = `sluice-it-telemetry-${tenant}/meter`
  const bridgeConfig = writeBridgeConfig({
    mqtt: SYSTEM_MQTT_URL, clientId: mqttClientId, database: 'telemetry',
    subscriptions: [{ topic: mqttTopic, measurement: 'meter', format: 'json', json: { fields: { kw: 'kw' } } }],
  })
  try {
    const node = await startNode(['--otlp-endpoint', receiver.url, '--mqtt-bridge', bridgeConfig], { OTEL_BSP_SCHEDULE_DELAY: '200', OTEL_METRIC_EXPORT_INTERVAL: '1000' })
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const clientSpanId = '00f067aa0ba902b7'
    const answer = await post(`${node.url}/write?db=telemetry`, 'traced,host=a v=1 1700000000000000000', { traceparent: `00-${traceId}-${clientSpanId}-01` })
    assert.equal(answer.status, 204, answer.body)

    const SERVER = 2
    const CONSUMER = 5
    let write: OtlpSpan | undefined
    let master: OtlpSpan | undefined
    let apply: OtlpSpan | undefined
    const found = await eventually(() => {
      write = receiver.spans.find(span => span.name === 'POST /write' && span.traceId === traceId)
      if (write === undefined) return false
      master = receiver.spans.find(span => span.name === 'process sluice.ingest' && span.links?.some(link => link.traceId === traceId && link.spanId === write!.spanId))
      if (master === undefined) return false
      apply = receiver.spans.find(span => span.name === 'process sluice.changelog' && span.links?.some(link => link.traceId === master!.traceId && link.spanId === master!.spanId))
      return apply !== undefined
    }, 30_000, 200)
    assert.ok(found, `spans received: ${receiver.spans.map(span => `${span.name} ${span.traceId}`).join(', ')}`)
    assert.ok(write && master && apply)

    assert.equal(write.parentSpanId, clientSpanId, 'the write span is a child of the client\'s span')
    assert.equal(write.kind, SERVER)
    assert.equal(attribute(write, 'http.request.method'), 'POST')
    assert.equal(attribute(write, 'http.route'), '/write')
    assert.equal(attribute(write, 'http.response.status_code'), 204)

    for (const [span, topic, group] of [[master, 'sluice.ingest', 'sluice.masters'], [apply, 'sluice.changelog', undefined]] as const) {
      assert.equal(span.kind, CONSUMER, `${span.name} is a CONSUMER span`)
      assert.equal(attribute(span, 'messaging.system'), 'kafka')
      assert.equal(attribute(span, 'messaging.operation.type'), 'process')
      assert.equal(attribute(span, 'messaging.operation.name'), 'process')
      assert.equal(attribute(span, 'messaging.destination.name'), topic)
      assert.equal(typeof attribute(span, 'messaging.destination.partition.id'), 'string')
      assert.ok(Number(attribute(span, 'messaging.batch.message_count')) >= 1)
      const consumerGroup = attribute(span, 'messaging.consumer.group.name')
      if (group !== undefined) assert.equal(consumerGroup, group)
      else assert.match(String(consumerGroup), /^sluice\.replica\./)
      for (const deprecated of ['messaging.operation', 'messaging.kafka.consumer.group', 'messaging.destination_kind']) {
        assert.equal(attribute(span, deprecated), undefined, `${span.name} has no deprecated ${deprecated}`)
      }
      assert.equal(span.parentSpanId || undefined, undefined, `${span.name} links to the records' contexts instead of taking a parent`)
    }

    // An MQTT delivery: the bridge's send span, linked from a master transaction. Published until one
    // arrives (the bridge subscribes once connected, after the node answers HTTP).
    let send: OtlpSpan | undefined
    const PRODUCER = 4
    const delivered = await eventually(async () => {
      send = receiver.spans.find(span => span.name === 'send sluice.ingest' && span.kind === PRODUCER)
      if (send !== undefined) return receiver.spans.some(span => span.name === 'process sluice.ingest' && span.links?.some(link => link.spanId === send!.spanId))
      const published = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', '1883', '-q', '1', '-t', mqttTopic, '-m', '{"kw": 1.5}'], { timeoutMs: 10_000 })
      assert.equal(published.code, 0, published.stderr)
      return false
    }, 30_000, 500)
    assert.ok(delivered && send, `spans received: ${receiver.spans.map(span => span.name).join(', ')}`)
    assert.equal(attribute(send, 'messaging.operation.type'), 'send')
    assert.equal(attribute(send, 'messaging.destination.name'), 'sluice.ingest')
    assert.ok(Number(attribute(send, 'sluice.mqtt.messages')) >= 1)
    const scraped = await scrape(node)
    assert.ok(sampleValue(scraped, 'sluice_mqtt_messages_total', { result: 'acknowledged' })! >= 1)
    assert.ok(sampleValue(scraped, 'sluice_points_accepted_total', { source: 'mqtt' })! >= 1)

    // Metrics are pushed too (the registry behind GET /metrics), as OTLP JSON.
    assert.ok(await eventually(() => receiver.metricNames.has('sluice_points_accepted_total') && receiver.metricNames.has('sluice_http_request_duration_seconds'), 20_000, 200),
      `metrics received: ${[...receiver.metricNames].join(', ')}`)
    assert.deepEqual([...receiver.contentTypes], ['application/json'])
    assert.equal(await node.stop(), 0)
  } finally {
    receiver.server.close()
  }
})
