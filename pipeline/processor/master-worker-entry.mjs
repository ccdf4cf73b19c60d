// Entry of the master's worker thread: a worker does not inherit a loader registered with tsx's
// register() (bin/sluice.js does that), so register it here, then run the TypeScript worker.
import { register } from 'tsx/esm/api'

register()
// Before kafkajs loads: its record batch CRC-32C becomes lib/checksum's (native).
await import('../../lib/kafka/native-crc32c.ts')
await import('../../lib/kafka/idle-request-queue.ts')
await import('./master-worker.ts')
