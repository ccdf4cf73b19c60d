// Queries: a span per query (database semantic conventions: db.system.name, db.namespace,
// db.operation.name, db.query.text) inside the request's server span, and its duration in
// sluice_query_duration_seconds{language}.

import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { metrics, type QueryLanguage } from './metrics.ts'

/** Longest query text a span carries. */
export const MAX_QUERY_TEXT_CHARS = 2_048

const tracer = trace.getTracer('sluice-query')

export async function observeQuery<T>(language: QueryLanguage, text: string, database: string, work: () => Promise<T> | T): Promise<T> {
  const operation = /^\s*([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? 'QUERY'
  const span = tracer.startSpan(`${operation} ${database}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      'db.system.name': 'sluice', 'db.namespace': database, 'db.operation.name': operation,
      'db.query.text': text.length > MAX_QUERY_TEXT_CHARS ? text.slice(0, MAX_QUERY_TEXT_CHARS) : text, 'sluice.query.language': language,
    },
  })
  const started = performance.now()
  try {
    return await work()
  } catch (error) {
    span.setAttribute('error.type', (error as { code?: string }).code ?? (error as Error).name)
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message })
    throw error
  } finally {
    metrics().queryDuration.labels(language).observeSince(started)
    span.end()
  }
}
