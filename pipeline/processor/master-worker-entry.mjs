// Entry of the master's worker thread: a worker does not inherit the TypeScript loader
// bin/sluice.js registers (lib/loader), so register it here, then run the TypeScript worker.
import '../../lib/loader/register.mjs'

// Before kafkajs loads: its record batch CRC-32C becomes lib/checksum's (native).
await import('../../lib/kafka/native-crc32c.ts')
await import('../../lib/kafka/aborted-filter.ts')
await import('../../lib/kafka/idle-request-queue.ts')
await import('../../lib/kafka/request-framing.ts')
await import('../../lib/kafka/message-grouping.ts')
await import('./master-worker.ts')
