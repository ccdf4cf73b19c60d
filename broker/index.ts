// The embedded Kafka-protocol broker: a single node with a durable log, consumer groups,
// idempotent and transactional producers and read_committed fetches. It imports nothing of
// Sluice; Sluice reaches it only through kafkajs, exactly as it would reach a real Kafka cluster.

export { startBroker, type BrokerOptions, type RunningBroker } from './server/server.ts'
export { defaultBrokerConfig, type BrokerConfig, type FlushPolicy } from './config.ts'
