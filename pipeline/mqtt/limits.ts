// The MQTT bridge's named maximums, each with its reason.

export const mqttLimits = {
  /**
   * Messages received and not yet acknowledged to the MQTT broker. Past it the bridge stops reading
   * the connection until acknowledgements catch up (the broker then queues for the session). Mosquitto's
   * max_inflight_messages (20 by default) usually bounds it first.
   */
  maxPendingMessages: 1_000,
  /** Largest payload taken, in bytes; a larger one is dead-lettered (bounded memory per message). */
  maxPayloadBytes: 1_000_000,
  /** Messages whose points go into one call of the record sink (one Kafka transaction). */
  maxMessagesPerWrite: 500,
  /** First wait before retrying a message whose Kafka write failed; doubles up to maxRetryDelayMs. */
  initialRetryDelayMs: 100,
  maxRetryDelayMs: 5_000,
  /** How long one attempt to land a batch in Kafka may take before it counts as failed and is retried. */
  writeTimeoutMs: 15_000,
  /** Metric aliases remembered per Sparkplug edge node or device (a birth certificate declares them). */
  maxSparkplugAliases: 100_000,
  /** Sparkplug edge nodes and devices whose births are remembered. */
  maxSparkplugDevices: 10_000,
  /** Shortest time between two Rebirth commands to one Sparkplug edge node (requestRebirth). */
  minRebirthIntervalMs: 10_000,
  /** Longest reason written to a dead-letter header. */
  maxReasonChars: 4_000,
} as const

export type MqttLimits = { -readonly [K in keyof typeof mqttLimits]: number }
