// A master as its own process, for fault tests that kill -9 it: runs the processor against
// SLUICE_KAFKA until SIGTERM, and prints "processor started" once it has joined.

import { startProcessor } from '../../pipeline/processor/index.ts'
import { kafkaClient } from './kafka.ts'

const processor = await startProcessor({
  kafka: kafkaClient(process.env.SLUICE_KAFKA!),
  changelogSchemaId: 3,
  sessionTimeoutMs: Number(process.env.SLUICE_SESSION_TIMEOUT_MS ?? 6_000),
  transactionTimeoutMs: 10_000,
  maxRecordsPerTransaction: Number(process.env.SLUICE_MAX_RECORDS ?? 500),
})
process.stdout.write('processor started\n')
process.once('SIGTERM', () => {
  processor.stop().then(() => process.exit(0), () => process.exit(1))
})
