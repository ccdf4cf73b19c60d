// Between a field value as Sluice carries it (schemas' FieldValue) and the number a filter compares.
// Filters never change a value: the caller writes its own original value, and only a held point
// restored from a CompressorState (where it is a double) has to be rebuilt with fieldValueLike.

import type { FieldValue, UnsignedValue } from '../../schemas/index.ts'

function isUnsigned(value: unknown): value is UnsignedValue {
  return typeof value === 'object' && value !== null && typeof (value as { unsigned?: unknown }).unsigned === 'bigint'
}

/** Floats, integers and unsigned integers are compressed; booleans and strings never. */
export function isCompressible(value: unknown): boolean {
  return typeof value === 'number' || typeof value === 'bigint' || isUnsigned(value)
}

/** The number a filter compares: the float itself, or the integer to the nearest double (exact up to 2^53). */
export function numberOf(value: FieldValue): number {
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  if (isUnsigned(value)) return Number(value.unsigned)
  throw new TypeError(`a ${typeof value} field is never compressed`)
}

/**
 * A field value of the same type as `like` from a filter's double: for a held point restored from
 * CompressorState, whose original value is gone. Integers come back exact up to 2^53 in magnitude.
 */
export function fieldValueLike(value: number, like: FieldValue): FieldValue {
  if (typeof like === 'number') return value
  if (typeof like === 'bigint') return BigInt(Math.round(value))
  if (isUnsigned(like)) return { unsigned: BigInt(Math.round(value)) }
  throw new TypeError(`a ${typeof like} field is never compressed`)
}
