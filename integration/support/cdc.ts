// Helpers for change-feed tests: a server-sent events reader over fetch (as EventSource parses the
// stream: an id-only message still sets the last event id), and the events the committed
// changelog implies, computed in the test from sluice.changelog itself with the feed's own mapping.

import type { Kafka } from 'kafkajs'
import { changelogEntryType, decode, unframe, type ChangelogEntry } from '../../schemas/index.ts'
import { cdcEventJson, eventsOf } from '../../sinks/index.ts'
import { consumeUntil } from './kafka.ts'

export interface SseMessage {
  id: string | undefined
  event: string | undefined
  data: string | undefined
}

/**
 * Reads GET `url` as text/event-stream until the stream ends or `signal` aborts, calling
 * `onMessage` per dispatched message. Resolves with the last event id seen (EventSource's rule).
 */
export async function readSse(url: string, options: { lastEventId?: string; signal: AbortSignal; onMessage: (message: SseMessage) => void }): Promise<{ status: number; lastEventId: string | undefined; body?: string }> {
  let lastEventId = options.lastEventId
  let response: Response
  try {
    response = await fetch(url, { headers: lastEventId ? { 'last-event-id': lastEventId } : {}, signal: options.signal })
  } catch (error) {
    if (options.signal.aborted) return { status: 0, lastEventId }
    throw error
  }
  if (response.status !== 200) return { status: response.status, lastEventId, body: await response.text() }
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
      let end: number
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const message = parseBlock(block)
        if (message.id !== undefined) lastEventId = message.id
        if (message.id !== undefined || message.data !== undefined) options.onMessage(message)
      }
    }
  } catch (error) {
    if (!options.signal.aborted) throw error
  }
  return { status: 200, lastEventId }
}

function parseBlock(block: string): SseMessage {
  const message: SseMessage = { id: undefined, event: undefined, data: undefined }
  for (const line of block.split('\n')) {
    if (line.startsWith(':') || line.length === 0) continue
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
    if (field === 'id') message.id = value
    else if (field === 'event') message.event = value
    else if (field === 'data') message.data = message.data === undefined ? value : `${message.data}\n${value}`
  }
  return message
}

/** What a test compares of an event: its identity and content, without emission times. */
export interface ComparableEvent {
  /** "<partition>:<offset>:<index>" */
  id: string
  partition: number
  content: string
}

/** The comparable form of an event's JSON (as /api/v1/changes sends it). */
export function comparable(json: string): ComparableEvent {
  const event = JSON.parse(json) as { op: string; after: unknown; command: unknown; source: Record<string, unknown> }
  const { source } = event
  return {
    id: `${String(source.partition)}:${String(source.offset)}:${String(source.index)}`,
    partition: source.partition as number,
    content: JSON.stringify([event.op, event.after, event.command, source.tenant, source.db, source.table, source.seriesKey]),
  }
}

export interface ChangelogRecord {
  partition: number
  offset: bigint
  key: string
  entry: ChangelogEntry
}

/** Reads the committed changelog (read_committed) until `until` holds; records in log order per partition. */
export async function readChangelogRecords(kafka: Kafka, until: (records: ChangelogRecord[]) => boolean, timeoutMs = 60_000): Promise<ChangelogRecord[]> {
  const out: ChangelogRecord[] = []
  await consumeUntil(kafka, 'sluice.changelog', {
    timeoutMs,
    raw: true,
    until: records => {
      const record = records[records.length - 1]!
      out.push({ partition: record.partition, offset: BigInt(record.offset), key: record.key ?? '', entry: decode(changelogEntryType, unframe(record.rawValue!).payload) })
      return until(out)
    },
  })
  return out
}

/** The events the records imply (the feed's own mapping), of one database, in log order per partition. */
export function expectedEvents(records: readonly ChangelogRecord[], database: string): ComparableEvent[] {
  const events: ComparableEvent[] = []
  for (const record of records) {
    const subject = record.entry.upsert ?? record.entry.command
    if (subject!.database !== database) continue
    for (const event of eventsOf(record.entry, record.key, { partition: record.partition, offset: record.offset, timestampMs: 0n }, { version: '', nowMs: 0n })) {
      events.push(comparable(cdcEventJson(event)))
    }
  }
  return events
}

/** Per partition, the ids in order. */
export function idsByPartition(events: readonly ComparableEvent[]): Map<number, string[]> {
  const out = new Map<number, string[]>()
  for (const event of events) {
    const list = out.get(event.partition) ?? []
    list.push(event.id)
    out.set(event.partition, list)
  }
  return out
}
