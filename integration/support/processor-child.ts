// A master as its own process, for fault tests that kill -9 it: runs the processor against
// SLUICE_KAFKA until SIGTERM, and prints "processor started" once it has joined.

import { LossyCompression, startProcessor } from '../../pipeline/processor/index.ts'
import { parseCompressionConfig } from '../../pipeline/transforms/index.ts'
import { kafkaClient } from './kafka.ts'

const processor = await startProcessor({
  kafka: kafkaClient(process.env.SLUICE_KAFKA!),
  changelogSchemaId: 3,
  sessionTimeoutMs: Number(process.env.SLUICE_SESSION_TIMEOUT_MS ?? 6_000),
  transactionTimeoutMs: 10_000,
  maxRecordsPerTransaction: Number(process.env.SLUICE_MAX_RECORDS ?? 500),
  // SLUICE_LOSSY: lossy-compression settings as JSON ({"databases": ...}); off without.
  ...(process.env.SLUICE_LOSSY
    ? { compressionFor: () => new LossyCompression({ config: parseCompressionConfig(JSON.parse(process.env.SLUICE_LOSSY!)), stateSchemaId: 4 }) }
    : {}),
})
process.stdout.write('processor started\n')
process.once('SIGTERM', () => {
  processor.stop().then(() => process.exit(0), () => process.exit(1))
})
