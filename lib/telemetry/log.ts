// Trace ids in log lines: a pino mixin (fastify's logger is pino) that adds the active span's
// trace_id, span_id and trace_flags to every line written while a span is active, so a log line
// can be found from a trace and a trace from a log line.

import { trace } from '@opentelemetry/api'

export function traceLogFields(): Record<string, string> {
  const span = trace.getActiveSpan()
  if (span === undefined) return {}
  const spanContext = span.spanContext()
  if (!trace.isSpanContextValid(spanContext)) return {}
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId, trace_flags: `0${spanContext.traceFlags.toString(16)}`.slice(-2) }
}
