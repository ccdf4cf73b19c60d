// OTLP export of traces and metrics, on only when an endpoint is configured (--otlp-endpoint or
// OTEL_EXPORTER_OTLP_ENDPOINT). The OpenTelemetry SDK packages are optional dependencies, loaded here
// by dynamic import(); without an endpoint none of them is loaded and @opentelemetry/api stays a no-op.
// Traces: NodeTracerProvider (AsyncLocalStorage context, W3C traceparent propagator) with a batch
// processor and the OTLP/HTTP JSON exporter ({endpoint}/v1/traces). Metrics: the registry's families,
// turned into OTLP metric data by a MetricProducer and pushed by a periodic reader ({endpoint}/v1/metrics).

import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api'
import type { CollectionResult, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics'
import type { Resource } from '@opentelemetry/resources'
import { Counter, Histogram, type AnyFamily, type MetricsRegistry } from './registry.ts'

export const OTLP_PACKAGES = [
  '@opentelemetry/sdk-trace-node', '@opentelemetry/sdk-trace-base', '@opentelemetry/sdk-metrics',
  '@opentelemetry/resources', '@opentelemetry/exporter-trace-otlp-http', '@opentelemetry/exporter-metrics-otlp-http',
] as const

export interface OtlpOptions {
  /** Base URL of an OTLP/HTTP receiver, e.g. http://127.0.0.1:4318 (the signal paths are appended). */
  endpoint: string
  serviceName: string
  serviceVersion: string
  /** service.instance.id: the node id. */
  instanceId: string
  registry: MetricsRegistry
  /** How often metrics are pushed. */
  metricsIntervalMs: number
  /** Longest wait before a finished span is sent. */
  spanDelayMs: number
}

export interface OtlpExport {
  /** Sends what is buffered and stops (spans of the last requests included). */
  shutdown(): Promise<void>
}

export class OtlpUnavailableError extends Error {
  readonly code = 'SLUICE_ERR_OTLP_UNAVAILABLE'
}

async function loadSdk(importModule: (name: string) => Promise<unknown> = name => import(name)) {
  try {
    const [traceNode, traceBase, sdkMetrics, resources, traceExporter, metricExporter] = await Promise.all([
      importModule('@opentelemetry/sdk-trace-node') as Promise<typeof import('@opentelemetry/sdk-trace-node')>,
      importModule('@opentelemetry/sdk-trace-base') as Promise<typeof import('@opentelemetry/sdk-trace-base')>,
      importModule('@opentelemetry/sdk-metrics') as Promise<typeof import('@opentelemetry/sdk-metrics')>,
      importModule('@opentelemetry/resources') as Promise<typeof import('@opentelemetry/resources')>,
      importModule('@opentelemetry/exporter-trace-otlp-http') as Promise<typeof import('@opentelemetry/exporter-trace-otlp-http')>,
      importModule('@opentelemetry/exporter-metrics-otlp-http') as Promise<typeof import('@opentelemetry/exporter-metrics-otlp-http')>,
    ])
    return { traceNode, traceBase, sdkMetrics, resources, traceExporter, metricExporter }
  } catch (error) {
    throw new OtlpUnavailableError(`an OTLP endpoint is configured, but the OpenTelemetry SDK packages cannot be loaded (${(error as Error).message}). `
      + `They are optional dependencies of Sluice: install them with \`npm install --include=optional\` or \`npm install ${OTLP_PACKAGES.join(' ')}\`, `
      + 'or unset --otlp-endpoint / OTEL_EXPORTER_OTLP_ENDPOINT', { cause: error })
  }
}

function validEndpoint(endpoint: string): string {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new TypeError(`otlpEndpoint (--otlp-endpoint, OTEL_EXPORTER_OTLP_ENDPOINT) must be an http(s) URL such as http://127.0.0.1:4318, not "${endpoint}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`otlpEndpoint must be an http(s) URL (OTLP/HTTP), not "${endpoint}"`)
  return endpoint.replace(/\/+$/, '')
}

/** `importModule` is a seam for tests (a missing package); the default is import(). */
export async function startOtlp(options: OtlpOptions, importModule?: (name: string) => Promise<unknown>): Promise<OtlpExport> {
  const base = validEndpoint(options.endpoint)
  const sdk = await loadSdk(importModule)
  const resource = sdk.resources.resourceFromAttributes({
    'service.name': options.serviceName, 'service.version': options.serviceVersion, 'service.instance.id': options.instanceId,
  })
  const tracerProvider = new sdk.traceNode.NodeTracerProvider({
    resource,
    spanProcessors: [new sdk.traceBase.BatchSpanProcessor(new sdk.traceExporter.OTLPTraceExporter({ url: `${base}/v1/traces` }), { scheduledDelayMillis: options.spanDelayMs })],
  })
  tracerProvider.register()
  const producer = registryProducer(options.registry, resource, sdk.sdkMetrics)
  const meterProvider = new sdk.sdkMetrics.MeterProvider({
    resource,
    readers: [new sdk.sdkMetrics.PeriodicExportingMetricReader({
      exporter: new sdk.metricExporter.OTLPMetricExporter({ url: `${base}/v1/metrics` }),
      exportIntervalMillis: options.metricsIntervalMs,
      exportTimeoutMillis: Math.min(options.metricsIntervalMs, 30_000),
      metricProducers: [producer],
    })],
  })
  return {
    async shutdown() {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()])
    },
  }
}

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics')

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1_000), Math.round((ms % 1_000) * 1_000_000)]
}

/** The registry's families as OTLP metric data: counters as cumulative monotonic sums, gauges, explicit-bucket histograms. */
export function registryProducer(registry: MetricsRegistry, resource: Resource, sdk: Pick<SdkMetrics, 'AggregationTemporality' | 'DataPointType'>): MetricProducer {
  const startTime = hrTime(Date.now())
  return {
    async collect(): Promise<CollectionResult> {
      const families = await registry.collect()
      const endTime = hrTime(Date.now())
      const metricData = families.map(family => toMetricData(family, startTime, endTime, sdk)).filter(data => data.dataPoints.length > 0)
      return { resourceMetrics: { resource, scopeMetrics: [{ scope: { name: 'sluice' }, metrics: metricData }] }, errors: [] }
    },
  }
}

function attributesOf(family: AnyFamily, labelValues: readonly string[]): Attributes {
  const attributes: Attributes = {}
  family.labelNames.forEach((name, i) => { attributes[name] = labelValues[i]! })
  return attributes
}

function toMetricData(family: AnyFamily, startTime: HrTime, endTime: HrTime, sdk: Pick<SdkMetrics, 'AggregationTemporality' | 'DataPointType'>): MetricData {
  const descriptor = { name: family.name, description: family.help, unit: family.name.endsWith('_seconds') ? 's' : family.name.endsWith('_bytes') ? 'By' : '1', valueType: ValueType.DOUBLE }
  const aggregationTemporality = sdk.AggregationTemporality.CUMULATIVE
  if (family instanceof Histogram) {
    return {
      descriptor, aggregationTemporality, dataPointType: sdk.DataPointType.HISTOGRAM,
      dataPoints: [...family.all()].map(child => ({
        startTime, endTime, attributes: attributesOf(family, child.labelValues),
        value: { buckets: { boundaries: [...family.bounds], counts: Array.from(child.bucketCounts) }, sum: child.sum, count: child.count },
      })),
    }
  }
  const dataPoints = [...family.all()].map(child => ({ startTime, endTime, attributes: attributesOf(family, child.labelValues), value: child.value }))
  if (family instanceof Counter) return { descriptor, aggregationTemporality, dataPointType: sdk.DataPointType.SUM, isMonotonic: true, dataPoints }
  return { descriptor, aggregationTemporality, dataPointType: sdk.DataPointType.GAUGE, dataPoints }
}
