// Test helpers for the storage engine (imported by *.test.ts only): temporary data directories,
// a LogManager over one, and produced batches shaped like the clients send them.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultBrokerConfig, type BrokerConfig } from '../config.ts'
import { silentLogger } from '../logger.ts'
import { buildBatch, decodeRecords, readBatchHeader, type BatchHeader } from '../record/batch.ts'
import { LogManager } from './log-manager.ts'

export function temporaryDirectory(): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'sluice-log-'))
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) }
}

export function testConfig(dataDir: string, overrides: Partial<BrokerConfig> = {}): BrokerConfig {
  return { ...defaultBrokerConfig, dataDir, flushPolicy: 'os', retentionCheckIntervalMs: 3_600_000, ...overrides }
}

export async function openLogs(dataDir: string, overrides: Partial<BrokerConfig> = {}, now?: () => number): Promise<LogManager> {
  return LogManager.open({ config: testConfig(dataDir, overrides), logger: silentLogger, now, onFatal: error => { throw error } })
}

export interface ProducedBatch { records: Buffer; header: BatchHeader; transactional: boolean }

/** A batch as a client produces it (baseOffset 0); values are `${prefix}${i}`. */
export function produced(options: {
  count?: number
  producerId?: bigint
  epoch?: number
  sequence?: number
  transactional?: boolean
  timestampMs?: bigint
  prefix?: string
  valueBytes?: number
} = {}): ProducedBatch {
  const count = options.count ?? 1
  const records = buildBatch({
    records: Array.from({ length: count }, (_, i) => ({
      value: options.valueBytes ? Buffer.alloc(options.valueBytes, i % 251) : Buffer.from(`${options.prefix ?? 'v'}${i}`),
      timestampMs: options.timestampMs ?? 1_700_000_000_000n,
    })),
    producerId: options.producerId,
    producerEpoch: options.epoch,
    baseSequence: options.sequence,
    transactional: options.transactional,
  })
  return { records, header: readBatchHeader(records), transactional: options.transactional ?? false }
}

/** Every batch in a fetched buffer: its base offset and decoded values. */
export function batchesIn(records: Buffer | null): Array<{ baseOffset: bigint; lastOffset: bigint; values: string[]; isControl: boolean }> {
  const out: Array<{ baseOffset: bigint; lastOffset: bigint; values: string[]; isControl: boolean }> = []
  let at = 0
  while (records && at < records.length) {
    const header = readBatchHeader(records, at)
    const bytes = records.subarray(at, at + header.batchLength + 12)
    const isControl = (header.attributes & 0x20) !== 0
    out.push({
      baseOffset: header.baseOffset,
      lastOffset: header.baseOffset + BigInt(header.lastOffsetDelta),
      values: isControl ? [] : decodeRecords(bytes).map(r => r.value?.toString() ?? ''),
      isControl,
    })
    at += bytes.length
  }
  return out
}
