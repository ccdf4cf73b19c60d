// The canonical text of a schema: compact JSON with attributes in a fixed order. Two texts that
// differ only in whitespace or attribute order get the same canonical text, hence the same registry
// id (Confluent does the same through Avro's Schema.toString). Docs, defaults, aliases and custom
// attributes are kept: they are part of the schema as registered, and avsc's own schema() export
// drops some of them (enum defaults, custom attributes).

const TYPE_ORDER = ['type', 'name', 'namespace', 'doc', 'aliases', 'fields', 'symbols', 'default', 'items', 'values', 'size', 'logicalType', 'precision', 'scale']
const FIELD_ORDER = ['name', 'type', 'doc', 'default', 'order', 'aliases']

function rank(order: readonly string[], key: string): number {
  const index = order.indexOf(key)
  return index === -1 ? order.length : index
}

function sortedKeys(object: Record<string, unknown>, order: readonly string[]): string[] {
  return Object.keys(object).sort((a, b) => rank(order, a) - rank(order, b) || (a < b ? -1 : a > b ? 1 : 0))
}

/** JSON data (a default value): keys sorted, nothing else touched. */
function canonicalData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalData)
  if (typeof value !== 'object' || value === null) return value
  const object = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(object).sort()) out[key] = canonicalData(object[key])
  return out
}

function canonicalField(field: unknown): unknown {
  if (typeof field !== 'object' || field === null || Array.isArray(field)) return field
  const object = field as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of sortedKeys(object, FIELD_ORDER)) {
    out[key] = key === 'type' ? canonicalType(object[key]) : canonicalData(object[key])
  }
  return out
}

function canonicalType(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(canonicalType)
  if (typeof schema !== 'object' || schema === null) return schema
  const object = schema as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of sortedKeys(object, TYPE_ORDER)) {
    const value = object[key]
    if (key === 'fields' && Array.isArray(value)) out[key] = value.map(canonicalField)
    else if (key === 'items' || key === 'values' || (key === 'type' && typeof value !== 'string')) out[key] = canonicalType(value)
    else out[key] = canonicalData(value)
  }
  return out
}

/** Canonical text of a parsed schema (a JSON value). */
export function canonicalSchemaText(schema: unknown): string {
  return JSON.stringify(canonicalType(schema))
}
