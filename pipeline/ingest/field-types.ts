// Field type stability per measurement: a field keeps the type it was first written with, and a point
// that sends another type is rejected with InfluxDB's message ("field type conflict: input field "v"
// on measurement "m" is type string, already exists as type float").
//
// Known types come from an injectable lookup (the schema the processor keeps); types first seen in
// this batch count too, in body order, so `m v=1` then `m v="a"` in one body rejects the second point.
// InfluxDB 1.6 instead fails that whole body with a bare "field type conflict" (and still registers
// the first type); later InfluxDB versions drop only the conflicting point, as Sluice does.
// InfluxDB 1.x keeps types per shard (one week of time by default); Sluice keeps them per measurement.

import { IngestErrorCode, type LineError } from './errors.ts'
import { fieldTypeNames, type FieldTypeValue, type ParsedBatch } from './parsed-batch.ts'

export interface FieldTypeLookup {
  get(measurement: string, field: string): FieldTypeValue | undefined
}

/** An in-memory FieldTypeLookup, for tests and single-node use. */
export class FieldTypeRegistry implements FieldTypeLookup {
  private readonly byMeasurement = new Map<string, Map<string, FieldTypeValue>>()

  get(measurement: string, field: string): FieldTypeValue | undefined {
    return this.byMeasurement.get(measurement)?.get(field)
  }

  set(measurement: string, field: string, type: FieldTypeValue): void {
    let fields = this.byMeasurement.get(measurement)
    if (!fields) this.byMeasurement.set(measurement, fields = new Map())
    fields.set(field, type)
  }

  /** Records the types a checked batch introduced. */
  register(newFields: readonly NewField[]): void {
    for (const field of newFields) this.set(field.measurement, field.field, field.type)
  }
}

export interface NewField { measurement: string; field: string; type: FieldTypeValue }

export interface FieldTypeCheck {
  /** Per point: 1 if it may be written, 0 if it was rejected for a type conflict. */
  accepted: Uint8Array
  acceptedCount: number
  /** One error per rejected point, naming its line. */
  errors: LineError[]
  /** Types first seen in this batch (from accepted points only), to register once it is written. */
  newFields: NewField[]
}

export function fieldTypeConflictMessage(field: string, measurement: string, type: FieldTypeValue, existing: FieldTypeValue): string {
  return `field type conflict: input field "${field}" on measurement "${measurement}" is type ${fieldTypeNames[type]}, already exists as type ${fieldTypeNames[existing]}`
}

/** Checks every point of the batch against `known` and against the earlier points of the batch. */
export function checkFieldTypes(batch: ParsedBatch, known: FieldTypeLookup): FieldTypeCheck {
  const accepted = new Uint8Array(batch.pointCount)
  const errors: LineError[] = []
  const newFields: NewField[] = []
  // (measurement id, field key id) → type, for pairs seen so far; 0 = looked up, unknown.
  const seen = new Map<number, number>()
  const keyStride = batch.fieldKeys.length
  let acceptedCount = 0
  for (let point = 0; point < batch.pointCount; point++) {
    const measurementId = batch.seriesMeasurement[batch.pointSeries[point]!]!
    const first = batch.pointFieldStart[point]!
    const end = batch.pointFieldStart[point + 1]!
    let conflict: string | undefined
    for (let slot = first; slot < end && conflict === undefined; slot++) {
      const fieldId = batch.fieldKey[slot]!
      const type = batch.fieldType[slot]! as FieldTypeValue
      const pair = measurementId * keyStride + fieldId
      let existing = seen.get(pair)
      if (existing === undefined) {
        existing = known.get(batch.measurements[measurementId]!, batch.fieldKeys[fieldId]!) ?? 0
        seen.set(pair, existing)
      }
      if (existing === 0) existing = earlierTypeInPoint(batch, first, slot, fieldId)
      if (existing !== 0 && existing !== type) {
        conflict = fieldTypeConflictMessage(batch.fieldKeys[fieldId]!, batch.measurements[measurementId]!, type, existing as FieldTypeValue)
      }
    }
    if (conflict !== undefined) {
      errors.push({ line: batch.pointLine[point]!, reason: conflict, code: IngestErrorCode.FIELD_TYPE_CONFLICT })
      continue
    }
    accepted[point] = 1
    acceptedCount++
    for (let slot = first; slot < end; slot++) {
      const fieldId = batch.fieldKey[slot]!
      const pair = measurementId * keyStride + fieldId
      if (seen.get(pair) === 0) {
        const type = batch.fieldType[slot]! as FieldTypeValue
        seen.set(pair, type)
        newFields.push({ measurement: batch.measurements[measurementId]!, field: batch.fieldKeys[fieldId]!, type })
      }
    }
  }
  return { accepted, acceptedCount, errors, newFields }
}

/** The type of an earlier field with the same key in the same point (`m a=1,a="x"`), or 0. */
function earlierTypeInPoint(batch: ParsedBatch, first: number, slot: number, fieldId: number): number {
  for (let earlier = first; earlier < slot; earlier++) {
    if (batch.fieldKey[earlier] === fieldId) return batch.fieldType[earlier]!
  }
  return 0
}
