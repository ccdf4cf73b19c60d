// Topic-level configs the broker understands: validation (INVALID_CONFIG for anything else), the
// broker defaults behind them, and the settings a partition log runs with.

import type { BrokerConfig } from '../config.ts'
import { ErrorCode, KafkaError } from '../protocol/errors.ts'
import { MAX_SEGMENT_BYTES, MIN_SEGMENT_BYTES } from './limits.ts'

/** What a partition log needs from its topic's configs. */
export interface TopicSettings {
  segmentBytes: number
  segmentMs: number
  /** -1 keeps everything. */
  retentionMs: number
  retentionBytes: number
  maxMessageBytes: number
  /** False for cleanup.policy=compact alone: Kafka never deletes such logs by retention. */
  retentionDeletes: boolean
}

interface ConfigSpec {
  defaultOf: (config: BrokerConfig) => string
  validate: (value: string) => boolean
}

const integerIn = (min: number, max: number) => (value: string): boolean =>
  /^-?\d{1,19}$/.test(value) && Number(value) >= min && Number(value) <= max

/**
 * Supported configs. cleanup.policy=compact is accepted and recorded, but this broker does not
 * compact: a compact-only topic keeps every record (retention does not apply to it, as in Kafka).
 */
export const TOPIC_CONFIGS: Readonly<Record<string, ConfigSpec>> = {
  'retention.ms': { defaultOf: c => String(c.retentionMs), validate: integerIn(-1, Number.MAX_SAFE_INTEGER) },
  'retention.bytes': { defaultOf: c => String(c.retentionBytes), validate: integerIn(-1, Number.MAX_SAFE_INTEGER) },
  'segment.bytes': { defaultOf: c => String(c.segmentBytes), validate: integerIn(MIN_SEGMENT_BYTES, MAX_SEGMENT_BYTES) },
  'segment.ms': { defaultOf: c => String(c.segmentMs), validate: integerIn(1, Number.MAX_SAFE_INTEGER) },
  'max.message.bytes': { defaultOf: c => String(c.maxMessageBytes), validate: integerIn(0, 0x7fff_ffff) },
  'cleanup.policy': { defaultOf: () => 'delete', validate: v => v.length > 0 && v.split(',').every(p => p.trim() === 'delete' || p.trim() === 'compact') },
  'message.timestamp.type': { defaultOf: () => 'CreateTime', validate: v => v === 'CreateTime' },
  'min.insync.replicas': { defaultOf: () => '1', validate: v => v === '1' },
}

/** Throws INVALID_CONFIG for an unknown name or an invalid value. */
export function validateTopicConfigs(configs: Record<string, string>): void {
  for (const [name, value] of Object.entries(configs)) {
    const spec = TOPIC_CONFIGS[name]
    if (!spec) throw new KafkaError(ErrorCode.INVALID_CONFIG, `unknown topic config "${name}"`)
    if (typeof value !== 'string' || !spec.validate(value)) throw new KafkaError(ErrorCode.INVALID_CONFIG, `invalid value "${value}" for topic config ${name}`)
  }
}

export function effectiveValue(name: string, configs: Record<string, string>, config: BrokerConfig): string {
  const spec = TOPIC_CONFIGS[name]
  if (!spec) throw new Error(`invariant: unknown topic config ${name}`)
  return configs[name] ?? spec.defaultOf(config)
}

export function topicSettings(configs: Record<string, string>, config: BrokerConfig): TopicSettings {
  const numeric = (name: string): number => Number(effectiveValue(name, configs, config))
  const policies = effectiveValue('cleanup.policy', configs, config).split(',').map(p => p.trim())
  return {
    segmentBytes: numeric('segment.bytes'),
    segmentMs: numeric('segment.ms'),
    retentionMs: numeric('retention.ms'),
    retentionBytes: numeric('retention.bytes'),
    maxMessageBytes: numeric('max.message.bytes'),
    retentionDeletes: policies.includes('delete'),
  }
}

/** Every supported config with its effective value and whether it was set on the topic. */
export function describeTopicConfigs(configs: Record<string, string>, config: BrokerConfig): Array<{ name: string; value: string; isDefault: boolean }> {
  return Object.keys(TOPIC_CONFIGS).map(name => ({ name, value: effectiveValue(name, configs, config), isDefault: !(name in configs) }))
}
