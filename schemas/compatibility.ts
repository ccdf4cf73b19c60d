// Compatibility levels and the check behind them, with Confluent's meanings:
//   BACKWARD  the new schema can read data written with the latest registered one (consumers first)
//   FORWARD   the latest registered schema can read data written with the new one (producers first)
//   FULL      both
//   *_TRANSITIVE  the same against every live version, not only the latest
//   NONE      no check
// "Can read" is Avro schema resolution as avsc implements it (createResolver): a reader-only field
// needs a default, types must match or promote (int → long → float → double, string ↔ bytes), every
// writer enum symbol must exist in the reader or the reader enum needs a default, and every branch
// of a writer union must resolve into the reader. Names are compared without namespaces.

import { resolutionError, type AvroType } from './avro-types.ts'
import { SchemaError, SchemaErrorCode } from './errors.ts'

export const CompatibilityLevel = {
  NONE: 'NONE',
  BACKWARD: 'BACKWARD',
  BACKWARD_TRANSITIVE: 'BACKWARD_TRANSITIVE',
  FORWARD: 'FORWARD',
  FORWARD_TRANSITIVE: 'FORWARD_TRANSITIVE',
  FULL: 'FULL',
  FULL_TRANSITIVE: 'FULL_TRANSITIVE',
} as const

export type CompatibilityLevelValue = (typeof CompatibilityLevel)[keyof typeof CompatibilityLevel]

/** The registry's global level until one is set, as in Confluent. */
export const DEFAULT_COMPATIBILITY: CompatibilityLevelValue = CompatibilityLevel.BACKWARD

const LEVELS = new Set<string>(Object.values(CompatibilityLevel))

/** Parses a level, case-insensitively as Confluent does. */
export function parseCompatibilityLevel(value: unknown): CompatibilityLevelValue {
  const upper = typeof value === 'string' ? value.toUpperCase() : undefined
  if (upper === undefined || !LEVELS.has(upper)) {
    throw new SchemaError(SchemaErrorCode.INVALID_COMPATIBILITY, 'Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive')
  }
  return upper as CompatibilityLevelValue
}

export interface CompatibilityResult {
  compatible: boolean
  /** One line per failed check, naming the version and the resolution error. */
  messages: string[]
}

export interface ExistingSchema {
  version: number
  avro: AvroType
}

/**
 * Checks `candidate` against the live versions of a subject, oldest first, under `level`.
 * The non-transitive levels look at the last one only.
 */
export function checkCompatibility(candidate: AvroType, existing: readonly ExistingSchema[], level: CompatibilityLevelValue): CompatibilityResult {
  const messages: string[] = []
  if (level === CompatibilityLevel.NONE || existing.length === 0) return { compatible: true, messages }
  const transitive = level.endsWith('_TRANSITIVE')
  const against = transitive ? existing : existing.slice(-1)
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL')
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL')
  for (const { version, avro } of against) {
    if (backward) {
      const error = resolutionError(candidate, avro)
      if (error !== undefined) messages.push(`BACKWARD: the new schema cannot read data written with version ${version}: ${error}`)
    }
    if (forward) {
      const error = resolutionError(avro, candidate)
      if (error !== undefined) messages.push(`FORWARD: version ${version} cannot read data written with the new schema: ${error}`)
    }
  }
  return { compatible: messages.length === 0, messages }
}
