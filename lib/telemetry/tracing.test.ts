// The spans and log fields of lib/telemetry, against the OpenTelemetry SDK (an optional dependency)
// registered in this test process with an in-memory exporter.

import { before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import { context, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { resourceFromAttributes } from '@opentelemetry/resources'
import * as sdkMetrics from '@opentelemetry/sdk-metrics'
import { instrumentHttp } from './http.ts'
import { headersOfSpan, startProcessSpan, startSendSpan, withSpan } from './kafka-trace.ts'
import { traceLogFields } from './log.ts'
import { installMetrics, metrics, SluiceMetrics } from './metrics.ts'
import { observeQuery } from './query.ts'
import { registryProducer } from './otlp.ts'

const exporter = new InMemorySpanExporter()
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c'
const CLIENT_SPAN = 'b7ad6b7169203331'

before(() => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
})

const spansNamed = (name: string) => exporter.getFinishedSpans().filter(span => span.name === name)

describe('HTTP instrumentation', () => {
  it('makes a SERVER span per request, a child of the client traceparent, active in the handler and its log lines', async () => {
    installMetrics(new SluiceMetrics())
    const lines: string[] = []
    const stream = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done() } })
    const app = Fastify({ logger: { level: 'info', stream, mixin: traceLogFields } })
    instrumentHttp(app, { tracing: true, routesWithOwnSpans: new Set(['/own']) })
    app.get('/items/:id', async request => {
      request.log.info({ event: 'inside' }, 'inside the handler')
      return { active: trace.getActiveSpan()?.spanContext().traceId }
    })
    app.get('/own', async () => ({ active: trace.getActiveSpan() === undefined }))
    app.get('/boom', async () => { throw new Error('boom') })
    const answer = await app.inject({ method: 'GET', url: '/items/7?x=1', headers: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } })
    assert.equal(answer.json().active, TRACE_ID)
    assert.equal((await app.inject({ method: 'GET', url: '/own' })).json().active, true, 'routes with their own spans are left alone')
    assert.equal((await app.inject({ method: 'GET', url: '/boom' })).statusCode, 500)
    assert.equal((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode, 404)

    const [span] = spansNamed('GET /items/:id')
    assert.ok(span)
    assert.equal(span.kind, SpanKind.SERVER)
    assert.equal(span.spanContext().traceId, TRACE_ID)
    assert.equal(span.parentSpanContext?.spanId, CLIENT_SPAN)
    assert.deepEqual(span.attributes, { 'http.request.method': 'GET', 'http.route': '/items/:id', 'url.path': '/items/7', 'url.scheme': 'http', 'http.response.status_code': 200 })
    assert.equal(spansNamed('GET /own').length, 0)
    assert.equal(spansNamed('GET /boom')[0]?.attributes['error.type'], '500')

    const inside = lines.map(line => JSON.parse(line)).find(line => line.event === 'inside')
    assert.equal(inside.trace_id, TRACE_ID)
    assert.equal(inside.span_id, span.spanContext().spanId)
    assert.equal(inside.trace_flags, '01')

    const m = metrics()
    assert.equal(m.httpRequests.labels('/items/:id', 'GET', '200').value, 1, 'counted by route template, not URL')
    assert.equal(m.httpRequests.labels('/boom', 'GET', '500').value, 1)
    assert.equal(m.httpRequests.labels('unmatched', 'GET', '404').value, 1)
    assert.equal(m.httpRequestDuration.labels('/items/:id').count, 1)
    await app.close()
  })

  it('log lines outside any span carry no trace fields', () => {
    assert.deepEqual(traceLogFields(), {})
  })
})

describe('Kafka spans', () => {
  it('a process span links to the distinct traceparents of its records (Buffer header values) and its context rides on', () => {
    const producer = startSendSpan({ tracerName: 't', topic: 'sluice.ingest', records: 2 })
    const headers = headersOfSpan(producer)!
    producer.end()
    assert.match(headers.traceparent!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    const records = [
      { offset: '10', headers: { traceparent: Buffer.from(headers.traceparent!) } },
      { offset: '11', headers: { traceparent: Buffer.from(headers.traceparent!) } },
      { offset: '12', headers: { traceparent: Buffer.from(`00-${TRACE_ID}-${CLIENT_SPAN}-01`) } },
      { offset: '13', headers: { traceparent: Buffer.from('not a traceparent') } },
      { offset: '14' },
    ]
    const span = startProcessSpan({ tracerName: 't', topic: 'sluice.ingest', partition: 3, consumerGroup: 'sluice.masters', records })
    const own = headersOfSpan(span)!
    span.end()
    const [finished] = spansNamed('process sluice.ingest')
    assert.ok(finished)
    assert.equal(finished.kind, SpanKind.CONSUMER)
    assert.equal(finished.parentSpanContext, undefined, 'links, not a parent')
    assert.deepEqual(finished.links.map(link => link.context.spanId), [producer.spanContext().spanId, CLIENT_SPAN])
    assert.deepEqual(finished.attributes, {
      'messaging.system': 'kafka', 'messaging.operation.name': 'process', 'messaging.operation.type': 'process',
      'messaging.destination.name': 'sluice.ingest', 'messaging.destination.partition.id': '3', 'messaging.consumer.group.name': 'sluice.masters',
      'messaging.batch.message_count': 5, 'messaging.kafka.offset': 10,
    })
    assert.ok(own.traceparent!.includes(finished.spanContext().spanId))
    assert.equal(spansNamed('send sluice.ingest')[0]?.kind, SpanKind.PRODUCER)
  })
})

describe('queries', () => {
  it('a query span inside the active span, and its duration counted per language, failed ones too', async () => {
    installMetrics(new SluiceMetrics())
    const outer = trace.getTracer('t').startSpan('outer', {}, ROOT_CONTEXT)
    assert.equal(await withSpan(outer, () => observeQuery('sql', '  select 1', 'db1', async () => 42)), 42)
    await assert.rejects(observeQuery('influxql', 'SELECT x FROM y', 'db2', async () => { throw Object.assign(new Error('no'), { code: 'SLUICE_ERR_QUERY' }) }), /no/)
    outer.end()
    const sql = spansNamed('SELECT db1')[0]!
    assert.equal(sql.parentSpanContext?.spanId, outer.spanContext().spanId)
    assert.equal(sql.attributes['db.namespace'], 'db1')
    assert.equal(sql.attributes['db.query.text'], '  select 1')
    assert.equal(spansNamed('SELECT db2')[0]?.attributes['error.type'], 'SLUICE_ERR_QUERY')
    assert.equal(metrics().queryDuration.labels('sql').count, 1)
    assert.equal(metrics().queryDuration.labels('influxql').count, 1)
  })
})

describe('OTLP metric data', () => {
  it('counters become monotonic cumulative sums, gauges gauges, histograms explicit buckets', async () => {
    const m = new SluiceMetrics()
    m.pointsAccepted.labels('http').inc(5)
    m.masterPartitions.labels().set(2)
    m.queryDuration.labels('sql').observe(0.003)
    const { resourceMetrics } = await registryProducer(m.registry, resourceFromAttributes({ 'service.name': 's' }), sdkMetrics).collect()
    const byName = new Map(resourceMetrics.scopeMetrics[0]!.metrics.map(metric => [metric.descriptor.name, metric]))
    const points = byName.get('sluice_points_accepted_total')!
    assert.equal(points.dataPointType, sdkMetrics.DataPointType.SUM)
    assert.equal(points.aggregationTemporality, sdkMetrics.AggregationTemporality.CUMULATIVE)
    assert.deepEqual(points.dataPoints.map(p => [p.attributes, p.value]), [[{ source: 'http' }, 5]])
    assert.equal(byName.get('sluice_master_partitions')!.dataPointType, sdkMetrics.DataPointType.GAUGE)
    const query = byName.get('sluice_query_duration_seconds')!
    assert.equal(query.dataPointType, sdkMetrics.DataPointType.HISTOGRAM)
    const histogram = query.dataPoints[0]!.value as { count: number; buckets: { counts: number[] } }
    assert.equal(histogram.count, 1)
    assert.equal(histogram.buckets.counts.reduce((a, b) => a + b, 0), 1)
    assert.equal(byName.has('sluice_cdc_events_total'), false, 'families without data points are left out')
  })
})
