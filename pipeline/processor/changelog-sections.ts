// The master's changelog records as encoded record sections (lib/kafka/record-batch.ts), sent
// through lib/kafka/encoded-produce.ts: kafkajs then writes only each batch's 61-byte header and
// CRC. Through kafkajs's own encoder every record's key, value and headers were copied into
// buffers that grow by doubling, then into the request: a twelfth of a node's main thread in
// bench:e2e's profile, for bytes the master already holds whole.

import type { OutputRecord } from './changelog.ts'
import { encodeRecordSection, RecordBatchCodec, valueLength, type EncodedRecords, type RecordBytes, type RecordHeader } from '../../lib/kafka/record-batch.ts'
import { DEFAULT_MAX_PARTITION_BATCH_BYTES } from '../../lib/kafka/split-batches.ts'

/**
 * How much of the changelog's records a master gathers into one section before compressing it: the
 * TSBS-like day's compressed about 4.6× with LZ4 in a one-off count (docs/benchmarks.md), so 3.6 MB
 * of them are one section of about 0.8 MB, under DEFAULT_MAX_PARTITION_BATCH_BYTES as stored; one
 * that compresses worse is cut in halves.
 */
export const CHANGELOG_GATHER_BYTES = 4 * DEFAULT_MAX_PARTITION_BATCH_BYTES

/** What a record adds to its batch beyond key, value and headers (split-batches.ts counts the same). */
const RECORD_OVERHEAD_BYTES = 24

/** Headers as kafkajs writes a Record<string, string>: in key order, UTF-8. */
export function recordHeaders(headers: Readonly<Record<string, string>>): RecordHeader[] {
  return Object.entries(headers).map(([key, value]) => ({ key: Buffer.from(key), value: Buffer.from(value) }))
}

const bytesOf = (key: OutputRecord['key']): Uint8Array | null => (typeof key === 'string' ? Buffer.from(key) : key)

/** A record's bytes in its section before compression, as the section limits count them. */
const recordBytes = (record: RecordBytes, headerBytes: number): number => RECORD_OVERHEAD_BYTES + (record.key?.length ?? 0) + valueLength(record.value) + headerBytes

/**
 * `records`, all with the same `headers`, as sections in order, each holding at most `maxBytes` of
 * keys, values and headers before compression (one larger record goes alone, and the broker names
 * it): what splitTopicMessages does for kafkajs messages, so each section is one produce request.
 * With `gatherBytes` above `maxBytes` (LZ4 only), a section gathers up to `gatherBytes` of records
 * and is cut in halves, encoded again, while its compressed payload is over `maxBytes` and it holds
 * more than `maxBytes` before compression: a section then fits the broker's limit as it is stored,
 * and a transaction needs fewer Produce requests, each a round trip the next one waits for.
 * With `values`, each record's value is pushed as a view into its section's uncompressed bytes (the
 * changelog feed's, with no copy of its own).
 * LZ4 by default: the broker then checks, stores and serves a fraction of the bytes, which costs
 * a node less than compressing and decompressing them (bench:e2e, docs/benchmarks.md).
 */
export function changelogSections(records: readonly OutputRecord[], headers: readonly RecordHeader[], maxBytes = DEFAULT_MAX_PARTITION_BATCH_BYTES, codec: RecordBatchCodec = RecordBatchCodec.LZ4, values?: Array<Buffer | null>, gatherBytes = maxBytes): EncodedRecords[] {
  let headerBytes = 0
  for (const header of headers) headerBytes += header.key.length + header.value.length
  const limit = codec === RecordBatchCodec.LZ4 ? Math.max(maxBytes, gatherBytes) : maxBytes
  const sections: EncodedRecords[] = []
  let pending: RecordBytes[] = []
  let pendingBytes = 0
  for (const record of records) {
    const key = bytesOf(record.key)
    // A spliced upsert's parts go into the section as they are (OutputRecord.valueParts): its value is never joined.
    const value = record.valueParts ?? record.value
    const bytes = recordBytes({ key, value }, headerBytes)
    if (pending.length > 0 && pendingBytes + bytes > limit) {
      encodeWithin(pending, pendingBytes, headers, headerBytes, codec, maxBytes, sections, values)
      pending = []
      pendingBytes = 0
    }
    pending.push({ key, value })
    pendingBytes += bytes
  }
  if (pending.length > 0) encodeWithin(pending, pendingBytes, headers, headerBytes, codec, maxBytes, sections, values)
  return sections
}

/** `records` (`bytes` of them before compression) as one section, or halves of them while a section is over `maxBytes` compressed and before. */
function encodeWithin(records: RecordBytes[], bytes: number, headers: readonly RecordHeader[], headerBytes: number, codec: RecordBatchCodec, maxBytes: number, out: EncodedRecords[], values?: Array<Buffer | null>): void {
  const mark = values?.length ?? 0
  const section = encodeRecordSection(records, headers, codec, values)
  if (section.payload.length <= maxBytes || bytes <= maxBytes || records.length === 1) {
    out.push(section)
    return
  }
  if (values !== undefined) values.length = mark // the views of the section given up
  const half = records.length >>> 1
  const first = records.slice(0, half)
  let firstBytes = 0
  for (const record of first) firstBytes += recordBytes(record, headerBytes)
  encodeWithin(first, firstBytes, headers, headerBytes, codec, maxBytes, out, values)
  encodeWithin(records.slice(half), bytes - firstBytes, headers, headerBytes, codec, maxBytes, out, values)
}
