// Encoding and decoding through avsc, with avsc's errors turned into SchemaErrors that name the
// offending path. The general path; the hot IngestBatch has a hand-written one (ingest-batch-codec.ts).

import type { AvroResolver, AvroType } from './avro-types.ts'
import { SchemaError, SchemaErrorCode } from './errors.ts'

function describe(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'object' && value !== null) return Array.isArray(value) ? 'an array' : 'an object'
  return String(value)
}

/** The first path where `value` does not match `type`, e.g. "points.3.fields.0.value", or undefined. */
export function invalidPath(type: AvroType, value: unknown): { path: string; found: string } | undefined {
  let first: { path: string; found: string } | undefined
  type.isValid(value, {
    errorHook: (path: string[], found: unknown) => {
      first ??= { path: path.join('.') || '(root)', found: describe(found) }
    },
  })
  return first
}

export function avscEncode(type: AvroType, name: string, value: unknown): Buffer {
  try {
    return type.toBuffer(value)
  } catch (error) {
    const invalid = invalidPath(type, value)
    const where = invalid ? `: ${invalid.path} is ${invalid.found}` : `: ${(error as Error).message}`
    throw new SchemaError(SchemaErrorCode.ENCODE, `value does not match ${name}${where}`, invalid ? { path: invalid.path } : {}, { cause: error })
  }
}

export function avscDecode(type: AvroType, name: string, payload: Buffer, resolver?: AvroResolver): unknown {
  try {
    return type.fromBuffer(payload, resolver)
  } catch (error) {
    throw new SchemaError(SchemaErrorCode.DECODE, `cannot decode ${name} (${payload.length} bytes): ${(error as Error).message}`, {}, { cause: error })
  }
}

/** Decodes one value at `offset`, returning it and the offset after it (for values inside a larger buffer). */
export function avscDecodeAt(type: AvroType, name: string, payload: Buffer, offset: number): { value: unknown; offset: number } {
  let result: { value: unknown; offset: number }
  try {
    result = type.decode(payload, offset)
  } catch (error) {
    throw new SchemaError(SchemaErrorCode.DECODE, `cannot decode ${name} at byte ${offset}: ${(error as Error).message}`, {}, { cause: error })
  }
  if (result.offset < 0) throw new SchemaError(SchemaErrorCode.DECODE, `truncated Avro data: ${name} at byte ${offset} runs past the end`)
  return result
}
