// The Kafka source as its own process, for integration/kafka-source.test.ts (which kill -9s it):
// an in-memory schema registry with the schemas the test frames its Avro records with, then
// startKafkaSource until SIGTERM. Prints "ready" on stdout once it has joined.
//   env: SLUICE_TEST_BOOTSTRAP (required), SLUICE_TEST_MAX_RECORDS_PER_TRANSACTION (default 1000)

import { startKafkaSource } from '../pipeline/source/index.ts'
import { SchemaRegistry, MemorySchemaStore, ingestRecordType, ingestBatchType, ingestBatchV1Type } from '../schemas/index.ts'

const bootstrap = process.env.SLUICE_TEST_BOOTSTRAP
if (!bootstrap) throw new Error('SLUICE_TEST_BOOTSTRAP is not set')

const registry = new SchemaRegistry({ store: new MemorySchemaStore() })
// Ids 1, 2, 3 in this order: the test frames its records with them.
await registry.register('sluice.ingest-value', { schema: ingestRecordType.schema })
await registry.register('outside.batch-value', { schema: ingestBatchType.schema })
await registry.register('outside.batch-v1-value', { schema: ingestBatchV1Type.schema })

const source = await startKafkaSource({
  brokers: [bootstrap],
  schemas: registry,
  ingestSchemaId: 1,
  defaultDatabase: 'telegraf',
  sessionTimeoutMs: 6_000,
  transactionTimeoutMs: 10_000,
  maxRecordsPerTransaction: Number(process.env.SLUICE_TEST_MAX_RECORDS_PER_TRANSACTION ?? 1_000),
})
process.stdout.write('ready\n')
process.once('SIGTERM', () => {
  void source.stop().then(() => process.exit(0), () => process.exit(1))
})
