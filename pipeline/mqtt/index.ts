// pipeline/mqtt: the MQTT bridge. It owns subscribing to an MQTT broker on a persistent QoS 1
// session, mapping topics to databases, measurements and tags (topic templates), decoding payloads
// (line protocol, JSON with a field mapping, plain numbers, Sparkplug B), acknowledging each message
// only once Kafka holds it, and dead-lettering what it cannot decode. It does not own the parser
// (pipeline/ingest), the Kafka writer or the catalog (pipeline/http), which it shares with HTTP
// writes. See docs/mqtt.md.

export { startMqttBridge, type MqttBridge, type MqttBridgeOptions, type MqttBridgeStats } from './bridge.ts'
export { startStandaloneBridge, type StandaloneBridge, type StandaloneOptions } from './standalone.ts'
export { loadBridgeConfig, parseBridgeConfig, PayloadFormat, TimeFormat, type BridgeConfig, type Subscription } from './config.ts'
export { TopicTemplate, NameTemplate } from './topic-template.ts'
export { MessageDecoder, type DecodedMessage } from './decode.ts'
export { MqttDeadLetterHeader } from './dead-letters.ts'
export { MqttBridgeError, MqttErrorCode, type MqttErrorCodeValue } from './errors.ts'
export { mqttLimits, type MqttLimits } from './limits.ts'
