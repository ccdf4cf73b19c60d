// The field predicates UPDATE_FIELDS supports: a conjunction (AND) of comparisons
// `field <op> literal`, op one of = != <> < <= > >=, literal a number (123, -4.5, 1e3, optionally
// suffixed i or u), a single-quoted string ('it''s') or true/false. Fields are bare identifiers
// ([A-Za-z_][A-Za-z0-9_.]*) or double-quoted. A point lacking the field does not match (SQL NULL).
// Anything else (OR, NOT, arithmetic, functions) is refused, and the command is skipped.

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>='

export interface Comparison {
  field: string
  op: Comparator
  literal: number | string | boolean
}

const TOKEN = /\s*(?:("(?:[^"]|"")+")|([A-Za-z_][A-Za-z0-9_.]*)|('(?:[^']|'')*')|(-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[iu]?)|(<=|>=|<>|!=|=|<|>))/y

/** Parses a predicate into comparisons, or returns an error message. */
export function parseFieldPredicate(text: string): Comparison[] | string {
  const tokens: { kind: 'ident' | 'string' | 'number' | 'op'; text: string }[] = []
  TOKEN.lastIndex = 0
  let position = 0
  while (position < text.length && text.slice(position).trim() !== '') {
    TOKEN.lastIndex = position
    const m = TOKEN.exec(text)
    if (!m) return `unsupported syntax at character ${position}: ${JSON.stringify(text.slice(position, position + 20))}`
    position = TOKEN.lastIndex
    if (m[1]) tokens.push({ kind: 'ident', text: m[1].slice(1, -1).replaceAll('""', '"') })
    else if (m[2]) tokens.push({ kind: 'ident', text: m[2] })
    else if (m[3]) tokens.push({ kind: 'string', text: m[3].slice(1, -1).replaceAll("''", "'") })
    else if (m[4]) tokens.push({ kind: 'number', text: m[4].replace(/[iu]$/, '') })
    else tokens.push({ kind: 'op', text: m[5]! })
  }
  const comparisons: Comparison[] = []
  for (let i = 0; i < tokens.length;) {
    const [field, op, literal] = [tokens[i], tokens[i + 1], tokens[i + 2]]
    if (field?.kind !== 'ident' || op?.kind !== 'op' || !literal) return 'expected `field <op> literal`'
    let value: number | string | boolean
    if (literal.kind === 'number') value = Number(literal.text)
    else if (literal.kind === 'string') value = literal.text
    else if (literal.kind === 'ident' && /^(true|false)$/i.test(literal.text)) value = literal.text.toLowerCase() === 'true'
    else return `unsupported literal ${JSON.stringify(literal.text)}`
    comparisons.push({ field: field.text, op: (op.text === '<>' ? '!=' : op.text) as Comparator, literal: value })
    i += 3
    if (i < tokens.length) {
      if (tokens[i]!.kind !== 'ident' || tokens[i]!.text.toUpperCase() !== 'AND') return `only AND is supported, found ${JSON.stringify(tokens[i]!.text)}`
      i++
      if (i >= tokens.length) return 'dangling AND'
    }
  }
  if (comparisons.length === 0) return 'empty predicate'
  return comparisons
}

/** Compares a stored value (number, bigint, 0/1 boolean, string) with a literal. */
export function compare(value: number | bigint | string, isBoolean: boolean, comparison: Comparison): boolean {
  const literal = comparison.literal
  let order: number
  if (typeof literal === 'boolean') {
    if (!isBoolean) return false
    order = Number(value) - Number(literal)
    if (comparison.op !== '=' && comparison.op !== '!=') return false
  } else if (typeof literal === 'string') {
    if (typeof value !== 'string') return false
    order = value < literal ? -1 : value > literal ? 1 : 0
  } else {
    if (typeof value === 'string' || isBoolean) return false
    const n = Number(value)
    order = n < literal ? -1 : n > literal ? 1 : n === literal ? 0 : NaN
  }
  switch (comparison.op) {
    case '=': return order === 0
    case '!=': return order !== 0 && order === order
    case '<': return order < 0
    case '<=': return order <= 0
    case '>': return order > 0
    case '>=': return order >= 0
  }
}
