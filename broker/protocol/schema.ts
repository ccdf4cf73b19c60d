// The field-table DSL: each API lists its request and response layouts per version as data, and
// these functions do all the byte work. Flexible versions (KIP-482) switch strings, bytes and
// arrays to compact forms and end every struct with a tagged-field section.

import { ProtocolDecodeError, Reader, Writer } from './codec.ts'

export type PrimitiveType =
  | 'int8' | 'int16' | 'int32' | 'int64' | 'bool'
  | 'string' | 'string?' | 'bytes' | 'bytes?'
  /** A nullable byte blob of RecordBatches, kept as a Buffer slice (never parsed here). */
  | 'records'

export interface ArrayType {
  readonly array: PrimitiveType | Fields
  /** Encodes and decodes -1 length as null. */
  readonly nullable?: boolean
}

export type FieldType = PrimitiveType | ArrayType
export type Fields = ReadonlyArray<readonly [name: string, type: FieldType]>

export interface ApiDefinition<Request, Response> {
  readonly key: number
  readonly name: string
  readonly minVersion: number
  readonly maxVersion: number
  /** First flexible version; Infinity when the broker advertises none. */
  readonly flexibleFrom: number
  readonly requests: ReadonlyArray<readonly [fromVersion: number, fields: Fields]>
  readonly responses: ReadonlyArray<readonly [fromVersion: number, fields: Fields]>
  /** Phantom members carrying the decoded shapes for handlers. */
  readonly _request?: Request
  readonly _response?: Response
}

/** Declares an API; layouts are listed by the first version that uses them, ascending. */
export function defineApi<Request, Response>(
  definition: Omit<ApiDefinition<Request, Response>, '_request' | '_response'>,
): ApiDefinition<Request, Response> {
  return definition
}

export function isFlexible(api: ApiDefinition<unknown, unknown>, version: number): boolean {
  return version >= api.flexibleFrom
}

function layoutFor(table: ApiDefinition<unknown, unknown>['requests'], version: number): Fields {
  let chosen: Fields | undefined
  for (const [fromVersion, fields] of table) {
    if (fromVersion <= version) chosen = fields
  }
  if (!chosen) throw new ProtocolDecodeError(`no layout for version ${version}`)
  return chosen
}

export function decodeRequest<Request>(api: ApiDefinition<Request, unknown>, version: number, reader: Reader): Request {
  return decodeStruct(reader, layoutFor(api.requests, version), isFlexible(api, version)) as Request
}

export function encodeRequest<Request>(api: ApiDefinition<Request, unknown>, version: number, writer: Writer, value: Request): void {
  encodeStruct(writer, layoutFor(api.requests, version), value as Record<string, unknown>, isFlexible(api, version))
}

export function decodeResponse<Response>(api: ApiDefinition<unknown, Response>, version: number, reader: Reader): Response {
  return decodeStruct(reader, layoutFor(api.responses, version), isFlexible(api, version)) as Response
}

export function encodeResponse<Response>(api: ApiDefinition<unknown, Response>, version: number, writer: Writer, value: Response): void {
  encodeStruct(writer, layoutFor(api.responses, version), value as Record<string, unknown>, isFlexible(api, version))
}

export function decodeStruct(reader: Reader, fields: Fields, flexible: boolean): Record<string, unknown> {
  const value: Record<string, unknown> = {}
  for (const [name, type] of fields) value[name] = decodeField(reader, type, flexible)
  if (flexible) reader.skipTaggedFields()
  return value
}

function decodeField(reader: Reader, type: FieldType, flexible: boolean): unknown {
  if (typeof type !== 'string') return decodeArray(reader, type, flexible)
  switch (type) {
    case 'int8': return reader.int8()
    case 'int16': return reader.int16()
    case 'int32': return reader.int32()
    case 'int64': return reader.int64()
    case 'bool': return reader.bool()
    case 'string': return flexible ? reader.compactString() : reader.string()
    case 'string?': return flexible ? reader.compactNullableString() : reader.nullableString()
    case 'bytes': {
      const bytes = flexible ? reader.compactNullableBytes() : reader.nullableBytes()
      if (bytes === null) throw new ProtocolDecodeError('null where bytes are required')
      return bytes
    }
    case 'bytes?':
    case 'records':
      return flexible ? reader.compactNullableBytes() : reader.nullableBytes()
  }
}

function decodeArray(reader: Reader, type: ArrayType, flexible: boolean): unknown[] | null {
  const length = flexible ? reader.compactArrayLength() : reader.arrayLength()
  if (length < 0) {
    if (type.nullable) return null
    throw new ProtocolDecodeError('null where an array is required')
  }
  const items = new Array<unknown>(length)
  const element = type.array
  for (let i = 0; i < length; i++) {
    items[i] = typeof element === 'string' ? decodeField(reader, element, flexible) : decodeStruct(reader, element, flexible)
  }
  return items
}

export function encodeStruct(writer: Writer, fields: Fields, value: Record<string, unknown>, flexible: boolean): void {
  for (const [name, type] of fields) encodeField(writer, type, value[name], flexible, name)
  if (flexible) writer.emptyTaggedFields()
}

function encodeField(writer: Writer, type: FieldType, value: unknown, flexible: boolean, name: string): void {
  if (typeof type !== 'string') return encodeArray(writer, type, value, flexible, name)
  switch (type) {
    case 'int8': writer.int8(numberOr(value, 0)); return
    case 'int16': writer.int16(numberOr(value, 0)); return
    case 'int32': writer.int32(numberOr(value, 0)); return
    case 'int64': writer.int64(typeof value === 'bigint' ? value : BigInt(numberOr(value, 0))); return
    case 'bool': writer.bool(value === true); return
    case 'string':
    case 'string?': {
      const text = value === undefined ? (type === 'string' ? '' : null) : (value as string | null)
      if (flexible) writer.compactNullableString(text)
      else writer.nullableString(text)
      return
    }
    case 'bytes':
    case 'bytes?':
    case 'records': {
      const bytes = value === undefined ? (type === 'bytes' ? Buffer.alloc(0) : null) : (value as Uint8Array | null)
      if (type === 'records') writer.records(bytes, flexible)
      else if (flexible) writer.compactNullableBytes(bytes)
      else writer.nullableBytes(bytes)
      return
    }
  }
}

function encodeArray(writer: Writer, type: ArrayType, value: unknown, flexible: boolean, name: string): void {
  if (value === null || value === undefined) {
    if (value === null && !type.nullable) throw new TypeError(`field ${name} is not a nullable array`)
    if (value === undefined && !type.nullable) {
      if (flexible) writer.uvarint(1)
      else writer.int32(0)
      return
    }
    if (flexible) writer.uvarint(0)
    else writer.int32(-1)
    return
  }
  const items = value as unknown[]
  if (flexible) writer.uvarint(items.length + 1)
  else writer.int32(items.length)
  const element = type.array
  for (const item of items) {
    if (typeof element === 'string') encodeField(writer, element, item, flexible, name)
    else encodeStruct(writer, element, item as Record<string, unknown>, flexible)
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback
}
