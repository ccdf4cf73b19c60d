// Producer-id allocation in persisted blocks, like Kafka's block allocator: a block of ids is
// reserved by an fsynced pid.log record before any id of it is handed out, and a restart (kill -9
// included) starts at the next block, so an id is never handed out twice. The unused rest of the
// block open at a crash is skipped, which costs nothing: ids are int64.
//
// pid.log record, version 1: { v: 1, firstProducerId: "0", endProducerIdExclusive: "1000" }.
// Only the last record matters; older ones are compacted away.

import type { Logger } from '../logger.ts'
import { MetaLog } from '../meta/meta-log.ts'
import { PID_LOG_COMPACT_RECORDS, PRODUCER_ID_BLOCK_SIZE, PRODUCER_ID_MAX } from './limits.ts'

const PID_RECORD_VERSION = 1

interface PidBlockRecord {
  v: typeof PID_RECORD_VERSION
  firstProducerId: string
  endProducerIdExclusive: string
}

export class ProducerIdManager {
  private appendedRecords = 0

  private constructor(
    private readonly log: MetaLog<PidBlockRecord>,
    private readonly logger: Logger,
    /** The next id to hand out; equals blockEndExclusive when the block is used up. */
    private nextProducerId: bigint,
    private blockEndExclusive: bigint,
  ) {}

  /** Opens pid.log; the block reserved last before shutdown or crash is treated as used up. */
  static open(path: string, logger: Logger): ProducerIdManager {
    const { log, records } = MetaLog.open<PidBlockRecord>(path)
    const last = records.at(-1)
    const reservedEnd = last ? parseRecord(last).endProducerIdExclusive : 0n
    if (last && records.length > 1) log.rewrite([last])
    logger.info('producer ids loaded', { nextBlockStart: reservedEnd, blockSize: PRODUCER_ID_BLOCK_SIZE })
    return new ProducerIdManager(log, logger, reservedEnd, reservedEnd)
  }

  /** Hands out a producer id never handed out before, reserving (and fsyncing) a new block if needed. */
  next(): bigint {
    if (this.nextProducerId === this.blockEndExclusive) this.reserveBlock()
    const producerId = this.nextProducerId
    this.nextProducerId += 1n
    return producerId
  }

  close(): void {
    this.log.close()
  }

  private reserveBlock(): void {
    const firstProducerId = this.blockEndExclusive
    const endProducerIdExclusive = firstProducerId + PRODUCER_ID_BLOCK_SIZE
    if (endProducerIdExclusive - 1n > PRODUCER_ID_MAX) throw new Error('producer ids exhausted')
    const record: PidBlockRecord = { v: PID_RECORD_VERSION, firstProducerId: firstProducerId.toString(), endProducerIdExclusive: endProducerIdExclusive.toString() }
    if (this.appendedRecords >= PID_LOG_COMPACT_RECORDS) {
      this.log.rewrite([record])
      this.appendedRecords = 0
    } else {
      this.log.append(record)
      this.appendedRecords += 1
    }
    this.nextProducerId = firstProducerId
    this.blockEndExclusive = endProducerIdExclusive
    this.logger.info('producer id block reserved', { firstProducerId, endProducerIdExclusive })
  }
}

function parseRecord(record: PidBlockRecord): { firstProducerId: bigint; endProducerIdExclusive: bigint } {
  const valid = record.v === PID_RECORD_VERSION
    && typeof record.firstProducerId === 'string' && /^\d+$/.test(record.firstProducerId)
    && typeof record.endProducerIdExclusive === 'string' && /^\d+$/.test(record.endProducerIdExclusive)
  if (!valid) throw new Error(`pid.log: bad record ${JSON.stringify(record)}`)
  const firstProducerId = BigInt(record.firstProducerId)
  const endProducerIdExclusive = BigInt(record.endProducerIdExclusive)
  if (endProducerIdExclusive <= firstProducerId) throw new Error(`pid.log: empty block ${JSON.stringify(record)}`)
  return { firstProducerId, endProducerIdExclusive }
}
