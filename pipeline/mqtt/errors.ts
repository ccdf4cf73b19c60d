// Error codes of the MQTT bridge. A message the bridge cannot take is data (dead-lettered with its
// code and reason, then acknowledged), not an exception; MqttBridgeError is thrown for bad
// configuration at start.

export const MqttErrorCode = {
  /** The bridge configuration failed validation; the message names the setting. */
  CONFIG: 'SLUICE_ERR_MQTT_CONFIG',
  /** No subscription's topic template matches the topic (possible with overlapping broker sessions). */
  NO_ROUTE: 'SLUICE_ERR_MQTT_NO_ROUTE',
  /** The topic matched, but a level a template needs is empty, or a measurement/database came out empty. */
  TOPIC: 'SLUICE_ERR_MQTT_TOPIC',
  /** The payload could not be decoded in the subscription's format; the reason says where. */
  PAYLOAD: 'SLUICE_ERR_MQTT_PAYLOAD',
  /** A Sparkplug B data message names a metric alias no birth certificate declared. */
  SPARKPLUG_ALIAS: 'SLUICE_ERR_MQTT_SPARKPLUG_ALIAS',
  /** The payload decoded but held no point. */
  NO_POINTS: 'SLUICE_ERR_MQTT_NO_POINTS',
} as const

export type MqttErrorCodeValue = (typeof MqttErrorCode)[keyof typeof MqttErrorCode]

export class MqttBridgeError extends Error {
  readonly code: MqttErrorCodeValue
  readonly retriable = false

  constructor(code: MqttErrorCodeValue, message: string) {
    super(message)
    this.name = 'MqttBridgeError'
    this.code = code
  }
}

/** Why one message was refused: what its dead letter says. */
export interface Rejection {
  code: string
  reason: string
  /** True when the message's good points were written and only some were refused. */
  partial: boolean
}
