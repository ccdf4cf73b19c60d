// The value expressions of UPDATE_EXPRESSIONS (`UPDATE m SET f = f * 1.8 + 32 WHERE ...`): their
// canonical text, which travels in the command, its parser, and its evaluation on a point's stored
// values. Every replica evaluates the same text on the same values at the same log position, so all
// agree. Semantics (docs/sql-commands.md, "Expressions"):
//
//   expr    = term { ("+" | "-") term }
//   term    = unary { ("*" | "/" | "%") unary }
//   unary   = "-" unary | primary
//   primary = number | 'string' | true | false | "field" | abs "(" expr ")" | "(" expr ")"
//
// Canonical text (formatExpression): every operation parenthesised, `((“f” * 1.8) + 32)`; fields
// double-quoted ("" escapes a quote), strings single-quoted ('' escapes a quote), a negated number
// as a negative literal, a negated expression as `(-x)`.
//
// Types: the assignment's type decides the arithmetic. `float`: doubles (integer fields and literals
// converted), a result that is not finite leaves the point unchanged. `integer` and `unsigned`:
// exact integers (BigInt) from integer literals and integer or unsigned fields only, `/` truncates
// toward zero, `%` takes the dividend's sign; a division by zero, or a result outside the type's 64
// bits, leaves the point unchanged. `boolean` and `string`: a constant only. A point lacking a field
// the expression reads is left unchanged (SQL NULL).

export type Expression =
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'field'; readonly name: string }
  | { readonly kind: 'negate'; readonly operand: Expression }
  | { readonly kind: 'abs'; readonly operand: Expression }
  | { readonly kind: 'binary'; readonly op: BinaryOperator; readonly left: Expression; readonly right: Expression }

export type BinaryOperator = '+' | '-' | '*' | '/' | '%'

export type ExpressionType = 'float' | 'integer' | 'unsigned' | 'boolean' | 'string'

/** Longest expression text accepted, and deepest nesting: a limit with a reason (the parser recurses). */
export const MAX_EXPRESSION_CHARS = 4_096
export const MAX_EXPRESSION_DEPTH = 64

export class ExpressionError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message)
    this.name = 'ExpressionError'
  }
}

const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/
const INTEGER = /^-?\d+$/

interface Token { kind: 'number' | 'string' | 'field' | 'word' | 'symbol'; text: string; at: number }

function tokenize(text: string): Token[] {
  if (text.length > MAX_EXPRESSION_CHARS) throw new ExpressionError(`expression longer than ${MAX_EXPRESSION_CHARS} characters`, 0)
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const char = text[i]!
    if (/\s/.test(char)) { i++; continue }
    const at = i
    if (char === '"' || char === "'") {
      let value = ''
      i++
      for (;;) {
        if (i >= text.length) throw new ExpressionError(`unterminated ${char === '"' ? 'field name' : 'string'} starting`, at)
        if (text[i] === char) {
          if (text[i + 1] === char) { value += char; i += 2; continue }
          i++
          break
        }
        value += text[i++]
      }
      tokens.push({ kind: char === '"' ? 'field' : 'string', text: value, at })
      continue
    }
    const number = NUMBER.exec(text.slice(i))
    if (number) { tokens.push({ kind: 'number', text: number[0], at }); i += number[0].length; continue }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))
    if (word) { tokens.push({ kind: 'word', text: word[0], at }); i += word[0].length; continue }
    if ('+-*/%()'.includes(char)) { tokens.push({ kind: 'symbol', text: char, at }); i++; continue }
    throw new ExpressionError(`unexpected character ${JSON.stringify(char)}`, at)
  }
  return tokens
}

class Parser {
  private next = 0
  constructor(private readonly tokens: Token[], private readonly length: number) {}

  parse(): Expression {
    const expression = this.sum(0)
    const extra = this.tokens[this.next]
    if (extra) throw new ExpressionError(`unexpected ${JSON.stringify(extra.text)}`, extra.at)
    return expression
  }

  private peek(symbol: string): boolean {
    const token = this.tokens[this.next]
    return token?.kind === 'symbol' && token.text === symbol
  }

  private expect(symbol: string): void {
    if (!this.peek(symbol)) throw new ExpressionError(`expected "${symbol}"`, this.tokens[this.next]?.at ?? this.length)
    this.next++
  }

  private sum(depth: number): Expression {
    let left = this.product(depth)
    while (this.peek('+') || this.peek('-')) {
      const op = this.tokens[this.next++]!.text as BinaryOperator
      left = { kind: 'binary', op, left, right: this.product(depth) }
    }
    return left
  }

  private product(depth: number): Expression {
    let left = this.unary(depth)
    while (this.peek('*') || this.peek('/') || this.peek('%')) {
      const op = this.tokens[this.next++]!.text as BinaryOperator
      left = { kind: 'binary', op, left, right: this.unary(depth) }
    }
    return left
  }

  private unary(depth: number): Expression {
    if (depth > MAX_EXPRESSION_DEPTH) throw new ExpressionError(`expression nested deeper than ${MAX_EXPRESSION_DEPTH}`, this.tokens[this.next]?.at ?? this.length)
    if (this.peek('-')) {
      this.next++
      const operand = this.unary(depth + 1)
      if (operand.kind === 'number') return { kind: 'number', text: operand.text.startsWith('-') ? operand.text.slice(1) : `-${operand.text}` }
      return { kind: 'negate', operand }
    }
    return this.primary(depth)
  }

  private primary(depth: number): Expression {
    const token = this.tokens[this.next++]
    if (!token) throw new ExpressionError('expression ends too early', this.length)
    switch (token.kind) {
      case 'number': return { kind: 'number', text: token.text }
      case 'string': return { kind: 'string', value: token.text }
      case 'field': return { kind: 'field', name: token.text }
      case 'word': {
        const word = token.text.toLowerCase()
        if (word === 'true' || word === 'false') return { kind: 'boolean', value: word === 'true' }
        if (word === 'abs') {
          this.expect('(')
          const operand = this.sum(depth + 1)
          this.expect(')')
          return { kind: 'abs', operand }
        }
        throw new ExpressionError(`unknown name ${JSON.stringify(token.text)} (fields are double-quoted; the only function is abs)`, token.at)
      }
      case 'symbol':
        if (token.text === '(') {
          const inner = this.sum(depth + 1)
          this.expect(')')
          return inner
        }
        throw new ExpressionError(`unexpected ${JSON.stringify(token.text)}`, token.at)
    }
  }
}

/** Parses an expression (canonical or not). Throws ExpressionError naming the offset. */
export function parseExpression(text: string): Expression {
  const tokens = tokenize(text)
  if (tokens.length === 0) throw new ExpressionError('empty expression', 0)
  return new Parser(tokens, text.length).parse()
}

/** The canonical text: parseExpression(formatExpression(e)) is e, and formatting it again gives the same text. */
export function formatExpression(expression: Expression): string {
  switch (expression.kind) {
    case 'number': return expression.text
    case 'string': return `'${expression.value.replaceAll("'", "''")}'`
    case 'boolean': return String(expression.value)
    case 'field': return `"${expression.name.replaceAll('"', '""')}"`
    case 'negate': return `(-${formatExpression(expression.operand)})`
    case 'abs': return `abs(${formatExpression(expression.operand)})`
    case 'binary': return `(${formatExpression(expression.left)} ${expression.op} ${formatExpression(expression.right)})`
  }
}

/** The fields an expression reads, each once, in order of first use. */
export function fieldsOf(expression: Expression, into: string[] = []): string[] {
  switch (expression.kind) {
    case 'field':
      if (!into.includes(expression.name)) into.push(expression.name)
      break
    case 'negate':
    case 'abs':
      fieldsOf(expression.operand, into)
      break
    case 'binary':
      fieldsOf(expression.left, into)
      fieldsOf(expression.right, into)
      break
    default:
  }
  return into
}

/** A stored value as the segments hold it: a double, a 64-bit integer, 0/1 for a boolean, or a string. */
export type StoredValue = number | bigint | string

/** Value of a referenced field at one point, undefined when the point lacks it. */
export type FieldLookup = (field: string) => StoredValue | undefined

/**
 * What evaluate returns when the point must stay unchanged: a field it reads is missing, a division
 * by zero, a float that is not finite, an integer outside its type.
 */
export const UNCHANGED = Symbol('unchanged')

/** Type of each field the expression may read, for `checkExpression` (the catalog's, or a series' own). */
export type FieldTypes = (field: string) => ExpressionType | undefined

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

/**
 * Checks that `expression` can be computed as `type` given the fields' types; returns a message
 * naming the part at fault, or null when it can. The same check runs where the command is made
 * (against the catalog) and on each replica (against each series' stored types).
 */
export function checkExpression(expression: Expression, type: ExpressionType, fieldTypes: FieldTypes): string | null {
  const constant = (): string | null => {
    if (type === 'boolean' && expression.kind === 'boolean') return null
    if (type === 'string' && expression.kind === 'string') return null
    return `a ${type} field takes a ${type} constant only, not ${formatExpression(expression)}`
  }
  if (type === 'boolean' || type === 'string') return constant()
  const visit = (node: Expression): string | null => {
    switch (node.kind) {
      case 'number':
        if (type !== 'float' && !INTEGER.test(node.text)) return `${node.text} is not an integer, and ${type} fields are computed in integers`
        return null
      case 'string':
      case 'boolean':
        return `${formatExpression(node)} is not a number`
      case 'field': {
        const fieldType = fieldTypes(node.name)
        if (fieldType === undefined) return `unknown field "${node.name}"`
        if (fieldType === 'boolean' || fieldType === 'string') return `field "${node.name}" is ${fieldType}, not a number`
        if (type !== 'float' && fieldType === 'float') return `field "${node.name}" is float, and ${type} fields are computed in integers`
        return null
      }
      case 'negate':
      case 'abs':
        return visit(node.operand)
      case 'binary':
        return visit(node.left) ?? visit(node.right)
    }
  }
  return visit(expression)
}

/** Evaluates a checked expression at one point. */
export function evaluate(expression: Expression, type: ExpressionType, lookup: FieldLookup): number | bigint | string | boolean | typeof UNCHANGED {
  switch (type) {
    case 'boolean': return (expression as { value: boolean }).value
    case 'string': return (expression as { value: string }).value
    case 'float': {
      const value = evaluateFloat(expression, lookup)
      return Number.isFinite(value) ? value : UNCHANGED
    }
    case 'integer':
    case 'unsigned': {
      const value = evaluateInteger(expression, lookup)
      if (value === UNCHANGED) return UNCHANGED
      const [min, max] = type === 'integer' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX]
      return value < min || value > max ? UNCHANGED : value
    }
  }
}

/** Doubles; NaN stands for "unchanged" (a missing field), and NaN propagates. */
function evaluateFloat(node: Expression, lookup: FieldLookup): number {
  switch (node.kind) {
    case 'number': return Number(node.text)
    case 'field': {
      const value = lookup(node.name)
      return value === undefined || typeof value === 'string' ? Number.NaN : Number(value)
    }
    case 'negate': return -evaluateFloat(node.operand, lookup)
    case 'abs': return Math.abs(evaluateFloat(node.operand, lookup))
    case 'binary': {
      const left = evaluateFloat(node.left, lookup)
      const right = evaluateFloat(node.right, lookup)
      switch (node.op) {
        case '+': return left + right
        case '-': return left - right
        case '*': return left * right
        case '/': return left / right
        case '%': return left % right
      }
    }
    default: return Number.NaN
  }
}

function evaluateInteger(node: Expression, lookup: FieldLookup): bigint | typeof UNCHANGED {
  switch (node.kind) {
    case 'number': return BigInt(node.text)
    case 'field': {
      const value = lookup(node.name)
      return typeof value === 'bigint' ? value : UNCHANGED
    }
    case 'negate': {
      const value = evaluateInteger(node.operand, lookup)
      return value === UNCHANGED ? value : -value
    }
    case 'abs': {
      const value = evaluateInteger(node.operand, lookup)
      return value === UNCHANGED ? value : value < 0n ? -value : value
    }
    case 'binary': {
      const left = evaluateInteger(node.left, lookup)
      if (left === UNCHANGED) return left
      const right = evaluateInteger(node.right, lookup)
      if (right === UNCHANGED) return right
      switch (node.op) {
        case '+': return left + right
        case '-': return left - right
        case '*': return left * right
        case '/': return right === 0n ? UNCHANGED : left / right
        case '%': return right === 0n ? UNCHANGED : left % right
      }
    }
    default: return UNCHANGED
  }
}
