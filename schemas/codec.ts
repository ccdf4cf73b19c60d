// Encoding and decoding of Sluice's records, and the Confluent wire framing around them.
//
// Confluent wire format (what @kafkajs/confluent-schema-registry, Java and librdkafka clients use):
//   byte 0      magic byte 0
//   bytes 1-4   schema id, int32 big-endian (the registry's global id)
//   bytes 5-    Avro binary of the value
// encode/decode take the value's SluiceType; IngestBatch and IngestRecord go through the hand-written
// codec (ingest-batch-codec.ts), everything else through avsc with Sluice's exact bigint long.

import { avscDecode, avscEncode } from './avsc-codec.ts'
import { createResolver, type AvroResolver, type AvroType } from './avro-types.ts'
import { changelogEntryType, ingestBatchType, ingestRecordType, type FastCodec, type SluiceType } from './catalog.ts'
import { SchemaError, SchemaErrorCode } from './errors.ts'
import { decodeIngestBatch, decodeIngestRecord, encodeIngestBatch, encodeIngestRecord } from './ingest-batch-codec.ts'

export const MAGIC_BYTE = 0
export const FRAMING_HEADER_BYTES = 5
const MAX_SCHEMA_ID = 0x7fffffff

const fastCodecs = new Map<SluiceType<never>, FastCodec<never>>()

function setFastCodec<T>(type: SluiceType<T>, codec: FastCodec<T>): void {
  fastCodecs.set(type as SluiceType<never>, codec as FastCodec<never>)
}

setFastCodec(ingestBatchType, { encode: (value) => encodeIngestBatch(value), decode: decodeIngestBatch })
setFastCodec(ingestRecordType, { encode: (value) => encodeIngestRecord(value), decode: decodeIngestRecord })

/** Rules a schema cannot say (exactly one of two optional fields), checked on encode and decode. */
const invariants = new Map<SluiceType<never>, (value: never) => string | undefined>()

function setInvariant<T>(type: SluiceType<T>, check: (value: T) => string | undefined): void {
  invariants.set(type as SluiceType<never>, check as (value: never) => string | undefined)
}

setInvariant(changelogEntryType, (entry) =>
  ((entry.upsert ?? null) === null) === ((entry.command ?? null) === null) ? 'sluice.ChangelogEntry needs exactly one of upsert and command' : undefined)

function checkInvariant<T>(type: SluiceType<T>, value: T, code: typeof SchemaErrorCode.ENCODE | typeof SchemaErrorCode.DECODE): void {
  const check = invariants.get(type as SluiceType<never>) as ((value: T) => string | undefined) | undefined
  const problem = check?.(value)
  if (problem !== undefined) throw new SchemaError(code, problem)
}

function fastCodecOf<T>(type: SluiceType<T>): FastCodec<T> | undefined {
  return fastCodecs.get(type as SluiceType<never>) as FastCodec<T> | undefined
}

/** Avro binary of `value` (no framing). Throws SLUICE_ERR_SCHEMA_ENCODE naming the bad path. */
export function encode<T>(type: SluiceType<T>, value: T): Buffer {
  checkInvariant(type, value, SchemaErrorCode.ENCODE)
  const fast = fastCodecOf(type)
  return fast ? fast.encode(value) : avscEncode(type.avro, type.name, value)
}

/** The schema a record was written with: the registry's entry for the record's schema id. */
export interface WriterSchema {
  /** Canonical schema text. */
  readonly schema: string
  readonly avro: AvroType
}

const resolvers = new WeakMap<AvroType, WeakMap<AvroType, AvroResolver>>()

function resolverFor(reader: AvroType, writer: AvroType): AvroResolver {
  let byWriter = resolvers.get(reader)
  if (!byWriter) resolvers.set(reader, (byWriter = new WeakMap()))
  let resolver = byWriter.get(writer)
  if (!resolver) byWriter.set(writer, (resolver = createResolver(reader, writer)))
  return resolver
}

/**
 * Decodes Avro binary (no framing) as `type`. Without `writer` the bytes must have been written
 * with `type`'s own schema; with it, they are read through Avro schema resolution (an older version
 * reads with defaults for the fields it lacks). Throws SLUICE_ERR_SCHEMA_DECODE, or
 * SLUICE_ERR_SCHEMA_INCOMPATIBLE when `type` cannot read `writer` at all.
 */
export function decode<T>(type: SluiceType<T>, payload: Buffer, writer?: WriterSchema): T {
  let value: T
  if (!writer || writer.schema === type.schema) {
    const fast = fastCodecOf(type)
    value = fast ? fast.decode(payload) : (avscDecode(type.avro, type.name, payload) as T)
  } else {
    value = avscDecode(type.avro, type.name, payload, resolverFor(type.avro, writer.avro)) as T
  }
  checkInvariant(type, value, SchemaErrorCode.DECODE)
  return value
}

/** Prefixes Avro binary with the Confluent header: magic byte 0 and the schema id, big-endian. */
export function frame(schemaId: number, payload: Buffer): Buffer {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > MAX_SCHEMA_ID) {
    throw new SchemaError(SchemaErrorCode.FRAMING, `schema id must be an integer in [0, ${MAX_SCHEMA_ID}], got ${schemaId}`)
  }
  const out = Buffer.allocUnsafe(FRAMING_HEADER_BYTES + payload.length)
  out[0] = MAGIC_BYTE
  out.writeUInt32BE(schemaId, 1)
  payload.copy(out, FRAMING_HEADER_BYTES)
  return out
}

/** Splits a framed record; `payload` is a view into `buffer`, not a copy. */
export function unframe(buffer: Buffer): { schemaId: number; payload: Buffer } {
  if (buffer.length < FRAMING_HEADER_BYTES) {
    throw new SchemaError(SchemaErrorCode.FRAMING, `framed record too short: ${buffer.length} bytes, the Confluent header alone takes ${FRAMING_HEADER_BYTES}`)
  }
  if (buffer[0] !== MAGIC_BYTE) {
    throw new SchemaError(SchemaErrorCode.FRAMING, `unknown magic byte ${buffer[0]} (expected ${MAGIC_BYTE}): not a Confluent-framed Avro record`)
  }
  const schemaId = buffer.readUInt32BE(1)
  if (schemaId > MAX_SCHEMA_ID) {
    throw new SchemaError(SchemaErrorCode.FRAMING, `schema id ${schemaId} is negative as an int32`, { schemaId })
  }
  return { schemaId, payload: buffer.subarray(FRAMING_HEADER_BYTES) }
}

/** encode + frame in one buffer (the hot types write the header in place, without a copy). */
export function encodeFramed<T>(type: SluiceType<T>, schemaId: number, value: T): Buffer {
  checkInvariant(type, value, SchemaErrorCode.ENCODE)
  if (type === (ingestBatchType as SluiceType<unknown>)) return encodeIngestBatch(value as never, { schemaId })
  if (type === (ingestRecordType as SluiceType<unknown>)) return encodeIngestRecord(value as never, { schemaId })
  return frame(schemaId, encode(type, value))
}
