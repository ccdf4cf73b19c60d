// The avsc setup every schema is parsed with, ours and those registered by others:
// - `long` is exact: a bigint in [-2^63, 2^63 - 1] (avsc's default long throws above 2^53, and epoch
//   nanoseconds are about 1.7e18), built with avsc's LongType.__with;
// - `sluice.Uint64`, a fixed(8) holding a big-endian unsigned 64-bit integer and tagged with
//   logicalType "sluice-uint64", is the JS value { unsigned: bigint } so that it stays distinct from
//   a signed long inside the field value union.
// Readers that do not know the logical type see a plain fixed(8), as the Avro specification requires.

import avro from 'avsc'
import type { Type as AvroType } from 'avsc'
import { SchemaError, SchemaErrorCode } from './errors.ts'
import type { UnsignedValue } from './types.ts'

export type { AvroType }
/** What avsc's createResolver returns; opaque, handed back to decode. */
export type AvroResolver = ReturnType<AvroType['createResolver']>
type AvroSchemaInput = Parameters<typeof avro.Type.forSchema>[0]

export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n
export const UINT64_MAX = 2n ** 64n - 1n

export const UINT64_LOGICAL_TYPE = 'sluice-uint64'

function isInt64(value: unknown): value is bigint {
  return typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX
}

export function isUnsignedValue(value: unknown): value is UnsignedValue {
  if (typeof value !== 'object' || value === null) return false
  const unsigned = (value as { unsigned?: unknown }).unsigned
  return typeof unsigned === 'bigint' && unsigned >= 0n && unsigned <= UINT64_MAX
}

/** Default values and JSON forms: a safe integer stays a number, anything larger a decimal string. */
function longFromJson(json: unknown): bigint {
  if (typeof json === 'bigint') return json
  if (typeof json === 'number' && Number.isInteger(json)) return BigInt(json)
  if (typeof json === 'string' && /^-?\d+$/.test(json)) return BigInt(json)
  throw new Error(`not a 64-bit integer: ${String(json)}`)
}

function longToJson(value: bigint): number | string {
  const asNumber = Number(value)
  return Number.isSafeInteger(asNumber) ? asNumber : value.toString()
}

/** avsc hands a custom long its value as 8 little-endian two's-complement bytes. */
export const bigintLongType: AvroType = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer): bigint => buf.readBigInt64LE(0),
  toBuffer: (value: bigint): Buffer => {
    const buf = Buffer.allocUnsafe(8)
    buf.writeBigInt64LE(value, 0)
    return buf
  },
  fromJSON: longFromJson,
  toJSON: longToJson,
  isValid: isInt64,
  compare: (a: bigint, b: bigint): number => (a === b ? 0 : a < b ? -1 : 1),
})

/** The logical type behind sluice.Uint64. */
export class Uint64Type extends avro.types.LogicalType {
  constructor(schema: AvroSchemaInput, opts?: unknown) {
    super(schema, opts)
    const underlying = this.underlyingType
    if (underlying.typeName !== 'fixed' || (underlying as unknown as { size: number }).size !== 8) {
      // avsc then falls back to the underlying type, as the specification asks for a misused logical type.
      throw new Error(`logical type ${UINT64_LOGICAL_TYPE} needs a fixed of size 8`)
    }
  }

  protected override _fromValue(buf: Buffer): UnsignedValue {
    return { unsigned: buf.readBigUInt64BE(0) }
  }

  protected override _toValue(value: unknown): Buffer | undefined {
    if (!isUnsignedValue(value)) return undefined
    const buf = Buffer.allocUnsafe(8)
    buf.writeBigUInt64BE(value.unsigned, 0)
    return buf
  }

  protected override _resolve(writer: AvroType): ((value: unknown) => unknown) | undefined {
    if (writer instanceof Uint64Type) return (value) => value
    if (writer.typeName === 'fixed' && (writer as unknown as { size: number }).size === 8) {
      return (buf) => this._fromValue(buf as Buffer)
    }
    return undefined
  }
}

function typeHook(schema: unknown): AvroType | undefined {
  if (schema === 'long') return bigintLongType
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema)) {
    const object = schema as { type?: unknown; logicalType?: unknown }
    if (object.type === 'long' && object.logicalType === undefined) return bigintLongType
  }
  return undefined
}

/**
 * avsc's forSchema options for Sluice's long and Uint64. Also what a Node consumer of Sluice's
 * topics passes to @kafkajs/confluent-schema-registry:
 * `new SchemaRegistry({ host }, { [SchemaType.AVRO]: sluiceAvroOptions() })`. No `registry` in
 * it: avsc adds one to the options object it is given, and a shared one would make a second parse
 * of the same schema fail with "duplicate type name".
 */
export function sluiceAvroOptions(): Record<string, unknown> {
  return {
    typeHook,
    logicalTypes: { [UINT64_LOGICAL_TYPE]: Uint64Type },
    wrapUnions: 'auto',
  }
}

/**
 * Parses a schema (JSON value, not text) into an avsc type with Sluice's long and Uint64.
 * Unions of two records come back wrapped ({ "sluice.IngestBatch": value }), all others unwrapped.
 */
export function parseAvroSchema(schema: unknown): AvroType {
  try {
    return avro.Type.forSchema(schema as AvroSchemaInput, { ...sluiceAvroOptions(), registry: {} })
  } catch (error) {
    throw new SchemaError(SchemaErrorCode.INVALID_SCHEMA, `Invalid schema: ${(error as Error).message}`, {}, { cause: error })
  }
}

/**
 * Why `reader` cannot read data written with `writer`, or undefined when it can (Avro schema
 * resolution, names compared without namespaces as the specification says).
 */
export function resolutionError(reader: AvroType, writer: AvroType): string | undefined {
  try {
    reader.createResolver(writer, { ignoreNamespaces: true })
    return undefined
  } catch (error) {
    return (error as Error).message
  }
}

/** A resolver for reading `writer` data as `reader`, or a SchemaError saying why there is none. */
export function createResolver(reader: AvroType, writer: AvroType): AvroResolver {
  try {
    return reader.createResolver(writer, { ignoreNamespaces: true })
  } catch (error) {
    throw new SchemaError(SchemaErrorCode.INCOMPATIBLE, `cannot read ${writer.name ?? writer.typeName} data as ${reader.name ?? reader.typeName}: ${(error as Error).message}`, {}, { cause: error })
  }
}
