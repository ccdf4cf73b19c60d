// HTTP metrics and spans for a fastify app: every answered request counts in
// sluice_http_requests_total{route,method,status} and sluice_http_request_duration_seconds{route};
// with tracing on, each route's handler runs inside a SERVER span (HTTP semantic conventions:
// http.request.method, http.route, url.path, http.response.status_code, error.type), a child of the
// client's traceparent. Routes that make their own server span (the write endpoints) are left alone.

import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify'
import { metrics } from './metrics.ts'

/** The route label of requests no route matched (404s): one label value, whatever the URL. */
export const UNMATCHED_ROUTE = 'unmatched'

export interface HttpInstrumentationOptions {
  /** Make a SERVER span per request (only worth it with an SDK registered). */
  tracing: boolean
  /** Routes whose handlers make their own server span. */
  routesWithOwnSpans?: ReadonlySet<string>
}

const tracer = trace.getTracer('sluice-http')

/** Call on the root instance before any route is registered. */
export function instrumentHttp(app: FastifyInstance, options: HttpInstrumentationOptions): void {
  const spans = new WeakMap<FastifyRequest, Span>()
  if (options.tracing) {
    app.addHook('onRoute', route => {
      if (options.routesWithOwnSpans?.has(route.url)) return
      const handler = route.handler as (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown
      const template = route.url
      route.handler = function tracedHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
        const parent = propagation.extract(ROOT_CONTEXT, request.headers)
        const span = tracer.startSpan(`${request.method} ${template}`, {
          kind: SpanKind.SERVER,
          attributes: { 'http.request.method': request.method, 'http.route': template, 'url.path': request.url.split('?')[0]!, 'url.scheme': 'http' },
        }, parent)
        spans.set(request, span)
        return context.with(trace.setSpan(parent, span), () => handler.call(this, request, reply))
      } as RouteHandlerMethod
    })
  }
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE
    const m = metrics()
    m.httpRequests.labels(route, request.method, String(reply.statusCode)).inc()
    m.httpRequestDuration.labels(route).observe(reply.elapsedTime / 1_000)
    const span = spans.get(request)
    if (span !== undefined) {
      span.setAttribute('http.response.status_code', reply.statusCode)
      if (reply.statusCode >= 500) {
        span.setAttribute('error.type', String(reply.statusCode))
        span.setStatus({ code: SpanStatusCode.ERROR })
      }
      span.end()
    }
    done()
  })
  app.addHook('onRequestAbort', (request, done) => {
    const span = spans.get(request)
    span?.setAttribute('error.type', 'aborted')
    span?.end()
    done()
  })
}
