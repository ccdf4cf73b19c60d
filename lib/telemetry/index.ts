// lib/telemetry: Sluice's metrics registry (Prometheus text at GET /metrics, OTLP when configured),
// the OpenTelemetry helpers for spans over HTTP requests and Kafka records (traceparent in record
// headers, process spans linked to the records' creation contexts), trace ids in log lines, and the
// optional OTLP exporters. It depends only on @opentelemetry/api (and fastify's types); the SDK is
// loaded by startOtlp only when an endpoint is configured. docs/observability.md is its user guide.

export {
  MetricsRegistry, Counter, Gauge, Histogram, CounterChild, GaugeChild, HistogramChild, MetricType,
  DURATION_BUCKETS_SECONDS, COUNT_BUCKETS, MAX_CHILDREN_PER_FAMILY, type AnyFamily, type Collector,
} from './registry.ts'
export { formatExposition, parseExposition, sampleValue, escapeLabelValue, escapeHelp, PROMETHEUS_CONTENT_TYPE, type ParsedExposition, type Sample } from './exposition.ts'
export { SluiceMetrics, metrics, installMetrics, PointSource, TransactionRole, QueryLanguage } from './metrics.ts'
export { contextFromHeaders, linksFromRecords, headersOfSpan, startProcessSpan, startSendSpan, withSpan, endSpan, MAX_SPAN_LINKS, type KafkaHeaders, type ProcessSpanOptions, type SendSpanOptions } from './kafka-trace.ts'
export { instrumentHttp, UNMATCHED_ROUTE, type HttpInstrumentationOptions } from './http.ts'
export { traceLogFields } from './log.ts'
export { startOtlp, OtlpUnavailableError, OTLP_PACKAGES, type OtlpOptions, type OtlpExport } from './otlp.ts'
export { registerNodeCollectors, END_OFFSETS_TIMEOUT_MS, type NodeComponents } from './node-collectors.ts'
export { observeQuery, MAX_QUERY_TEXT_CHARS } from './query.ts'
