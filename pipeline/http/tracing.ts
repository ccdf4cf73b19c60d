// OpenTelemetry for the write endpoints, through @opentelemetry/api only: one SERVER span per write,
// a child of the client's W3C trace context, whose context travels into the write's Kafka records
// (`traceparent` header) so the processor's spans join the same trace. Without an SDK registered the
// API is a no-op and the client's own traceparent is passed through unchanged.

import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api'
import type { FastifyRequest } from 'fastify'

const tracer = trace.getTracer('sluice-http')
/** Longest traceparent accepted from a client (the W3C form is 55 characters). */
const MAX_TRACEPARENT_CHARS = 256

export interface WriteSpan {
  span: Span
  /** Headers for the write's Kafka records: traceparent (and tracestate) of this span, or the client's. */
  recordHeaders: Record<string, string> | undefined
  end(status: number, error?: Error): void
}

export function startWriteSpan(request: FastifyRequest, route: string): WriteSpan {
  const parent = propagation.extract(ROOT_CONTEXT, request.headers)
  const span = tracer.startSpan(`POST ${route}`, { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': route, 'url.path': route, 'url.scheme': 'http' } }, parent)
  const carrier: Record<string, string> = {}
  propagation.inject(trace.setSpan(context.active(), span), carrier)
  const incoming = request.headers.traceparent
  const passThrough = typeof incoming === 'string' && incoming.length > 0 && incoming.length <= MAX_TRACEPARENT_CHARS ? { traceparent: incoming } : undefined
  return {
    span,
    recordHeaders: carrier.traceparent !== undefined ? carrier : passThrough,
    end(status, error) {
      span.setAttribute('http.response.status_code', status)
      if (status >= 500) {
        span.setAttribute('error.type', String(status))
        span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message })
      }
      if (error && status >= 500) span.recordException(error)
      span.end()
    },
  }
}
