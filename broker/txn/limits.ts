// Named limits of the transaction coordinator and the producer-id allocator, each with its unit and
// why it has the value it has. The configurable ones (timeouts, expiry) live in ../config.ts.

/** Producer ids reserved per fsynced pid.log record. One fsync per this many new producers. */
export const PRODUCER_ID_BLOCK_SIZE = 1000n

/** Producer ids are int64 on the wire and must stay non-negative (-1 means "no producer id"). */
export const PRODUCER_ID_MAX = 0x7fff_ffff_ffff_ffffn

/** pid.log is rewritten to its last record after this many appended block records. */
export const PID_LOG_COMPACT_RECORDS = 1000

/** Producer epochs are int16. */
export const PRODUCER_EPOCH_MAX = 0x7fff

/**
 * Kafka's isEpochExhausted: an epoch at or above this cannot be bumped by InitProducerId, so a new
 * producer id is allocated. The one value above it (32767) is kept free so that fencing an
 * Ongoing transaction can always bump once more for its abort markers.
 */
export const PRODUCER_EPOCH_EXHAUSTED = PRODUCER_EPOCH_MAX - 1

/** A single node is always the same coordinator, so every marker carries coordinator epoch 0. */
export const COORDINATOR_EPOCH = 0

/** txn.log is compacted (one record per live transactional id) once it grows past this size... */
export const TXN_LOG_COMPACT_MIN_BYTES = 1024 * 1024

/** ...and past this multiple of its size right after the previous compaction. */
export const TXN_LOG_COMPACT_GROWTH_FACTOR = 2

/** Wire values for "no producer id / epoch", returned with an InitProducerId error. */
export const NO_PRODUCER_ID = -1n
export const NO_PRODUCER_EPOCH = -1
