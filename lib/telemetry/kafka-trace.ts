// Trace context in Kafka record headers (W3C `traceparent`/`tracestate`), and the spans of the
// messaging semantic conventions (docs/observability.md): a consumer's process span links to the
// creation context of each record it handles ("links, not parents"), and the records it produces
// carry the process span's own context.

import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Link, type Span, type TextMapGetter } from '@opentelemetry/api'

/** Most links one process span carries: a batch of a thousand records from one writer needs one, from many writers at most this. */
export const MAX_SPAN_LINKS = 128

type HeaderValue = Buffer | string | ReadonlyArray<Buffer | string> | undefined
export type KafkaHeaders = Readonly<Record<string, HeaderValue>>

/** KafkaJS delivers header values as Buffers. */
const headerGetter: TextMapGetter<KafkaHeaders> = {
  keys: carrier => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key]
    if (value === undefined) return undefined
    if (Array.isArray(value)) return value.map(part => part.toString())
    return value.toString()
  },
}

/** The context a record was created in (its traceparent), or the root context when it has none. */
export function contextFromHeaders(headers: KafkaHeaders | undefined): Context {
  if (headers === undefined || headers.traceparent === undefined) return ROOT_CONTEXT
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter)
}

/**
 * Links to the distinct creation contexts of a batch's records (at most MAX_SPAN_LINKS); empty when
 * tracing is off or no record carries a traceparent.
 */
export function linksFromRecords(records: ReadonlyArray<{ headers?: KafkaHeaders | undefined }>): Link[] {
  const links: Link[] = []
  const seen = new Set<string>()
  for (const record of records) {
    const traceparent = record.headers?.traceparent
    if (traceparent === undefined) continue
    const text = traceparent.toString()
    if (seen.has(text)) continue
    seen.add(text)
    const spanContext = trace.getSpanContext(contextFromHeaders(record.headers))
    if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) continue
    links.push({ context: spanContext })
    if (links.length >= MAX_SPAN_LINKS) break
  }
  return links
}

/** Headers carrying `span`'s context (traceparent, tracestate), or undefined when tracing is off. */
export function headersOfSpan(span: Span): Record<string, string> | undefined {
  if (!span.isRecording()) return undefined
  const carrier: Record<string, string> = {}
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier)
  return carrier.traceparent === undefined ? undefined : carrier
}

export interface ProcessSpanOptions {
  tracerName: string
  topic: string
  partition: number
  consumerGroup: string
  records: ReadonlyArray<{ offset: string; headers?: KafkaHeaders | undefined }>
  attributes?: Attributes
}

/**
 * A CONSUMER span "process <topic>" over a batch of one partition, linked to the records' creation
 * contexts, with the messaging attributes of the current semantic conventions (messaging.operation.type,
 * messaging.consumer.group.name, not the deprecated messaging.operation / messaging.kafka.consumer.group).
 */
export function startProcessSpan(options: ProcessSpanOptions): Span {
  const first = options.records[0]
  const span = trace.getTracer(options.tracerName).startSpan(`process ${options.topic}`, {
    kind: SpanKind.CONSUMER,
    attributes: {
      'messaging.system': 'kafka',
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'messaging.destination.name': options.topic,
      'messaging.destination.partition.id': String(options.partition),
      'messaging.consumer.group.name': options.consumerGroup,
      'messaging.batch.message_count': options.records.length,
      ...(first !== undefined && { 'messaging.kafka.offset': Number(first.offset) }),
      ...options.attributes,
    },
  }, ROOT_CONTEXT)
  // Without an SDK the span records nothing: the records' headers are not even read.
  if (span.isRecording()) span.addLinks(linksFromRecords(options.records))
  return span
}

/** Runs `work` with `span` active (log lines written inside carry its ids); a no-op wrapper without an SDK. */
export function withSpan<T>(span: Span, work: () => T): T {
  return context.with(trace.setSpan(context.active(), span), work)
}

/** Ends `span`, marking it failed (status ERROR, error.type) when `error` is given. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.setAttribute('error.type', (error as { code?: string }).code ?? (error as Error).name ?? 'Error')
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message })
  }
  span.end()
}

export interface SendSpanOptions {
  tracerName: string
  topic: string
  /** Records in the batch. */
  records: number
  attributes?: Attributes
}

/**
 * A PRODUCER span "send <topic>" for a batch written to Kafka, a child of the active context; pass
 * headersOfSpan(span) with the records so that their consumer's process span links to it.
 */
export function startSendSpan(options: SendSpanOptions): Span {
  return trace.getTracer(options.tracerName).startSpan(`send ${options.topic}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'kafka',
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.destination.name': options.topic,
      'messaging.batch.message_count': options.records,
      ...options.attributes,
    },
  })
}
