// InfluxQL's tokens, read by hand (no well-kept InfluxQL parser exists on npm). Keywords are
// case-insensitive; "double quotes" make identifiers, 'single quotes' strings, both with backslash
// escapes. A '/' starts a regular expression where an operand is expected (after =~, FROM, a comma,
// an opening parenthesis), and is division after an operand. Every token keeps its offset, so
// errors name the line and character as InfluxDB does ("at line 1, char 8").

import { QueryError, QueryErrorCode } from '../errors.ts'

export const TokenKind = {
  EOF: 'EOF', IDENT: 'IDENT', KEYWORD: 'KEYWORD', STRING: 'STRING', NUMBER: 'NUMBER', INTEGER: 'INTEGER',
  DURATION: 'DURATION', REGEX: 'REGEX', OPERATOR: 'OPERATOR',
} as const
export type TokenKindValue = (typeof TokenKind)[keyof typeof TokenKind]

export interface Token {
  kind: TokenKindValue
  /** Keywords upper-cased; identifiers and strings unescaped; operators as written. */
  text: string
  /** Whether an identifier was written in double quotes (so a keyword-like name is a name). */
  quoted: boolean
  offset: number
}

const KEYWORDS = new Set([
  'ALL', 'AND', 'AS', 'ASC', 'BY', 'CREATE', 'DATABASE', 'DATABASES', 'DELETE', 'DESC', 'DROP', 'FIELD', 'FROM',
  'GROUP', 'IN', 'INTO', 'KEY', 'KEYS', 'LIMIT', 'MEASUREMENT', 'MEASUREMENTS', 'OFFSET', 'ON', 'OR', 'ORDER',
  'POLICIES', 'RETENTION', 'SELECT', 'SERIES', 'SHOW', 'SLIMIT', 'SOFFSET', 'TAG', 'VALUES', 'WHERE', 'WITH',
  'TRUE', 'FALSE', 'NOT',
])

/** Operators, longest first so that '=~' is read before '='. */
const OPERATORS = ['=~', '!~', '!=', '<>', '<=', '>=', '::', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', ';', '.']

/** Units of InfluxQL duration literals. */
export const DURATION_UNITS: Readonly<Record<string, bigint>> = {
  ns: 1n, u: 1_000n, µ: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n,
  h: 3_600_000_000_000n, d: 86_400_000_000_000n, w: 604_800_000_000_000n,
}

/** "at line L, char C" (both from 1) of an offset in `text`. */
export function positionOf(text: string, offset: number): string {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') { line++; lineStart = i + 1 }
  return `at line ${line}, char ${offset - lineStart + 1}`
}

export function syntaxError(text: string, offset: number, message: string): QueryError {
  return new QueryError(QueryErrorCode.SYNTAX, `error parsing query: ${message} ${positionOf(text, offset)}`)
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'
const isIdentStart = (c: string | undefined): boolean => c !== undefined && (/[A-Za-z_]/.test(c) || c.charCodeAt(0) > 127)
const isIdentPart = (c: string | undefined): boolean => c !== undefined && (/[A-Za-z0-9_]/.test(c) || c.charCodeAt(0) > 127)

export class Lexer {
  private offset = 0
  private previous: Token | null = null

  constructor(readonly text: string) {}

  /** The next token; `/` is a regex when an operand is expected here. */
  next(): Token {
    this.skipSpace()
    const token = this.read()
    this.previous = token
    return token
  }

  private skipSpace(): void {
    const text = this.text
    for (;;) {
      while (this.offset < text.length && /\s/.test(text[this.offset]!)) this.offset++
      if (text.startsWith('--', this.offset)) {
        while (this.offset < text.length && text[this.offset] !== '\n') this.offset++
        continue
      }
      if (text.startsWith('/*', this.offset)) {
        const end = text.indexOf('*/', this.offset + 2)
        if (end < 0) throw syntaxError(text, this.offset, 'unterminated comment')
        this.offset = end + 2
        continue
      }
      return
    }
  }

  private operandExpected(): boolean {
    const p = this.previous
    if (p === null) return true
    if (p.kind === TokenKind.KEYWORD) return p.text !== 'TRUE' && p.text !== 'FALSE'
    return p.kind === TokenKind.OPERATOR && p.text !== ')'
  }

  private read(): Token {
    const text = this.text
    const start = this.offset
    const c = text[start]
    const token = (kind: TokenKindValue, value: string, quoted = false): Token => ({ kind, text: value, quoted, offset: start })
    if (c === undefined) return token(TokenKind.EOF, '')
    if (c === '"' || c === "'") {
      const value = this.quoted(c)
      return c === '"' ? token(TokenKind.IDENT, value, true) : token(TokenKind.STRING, value)
    }
    if (c === '/' && this.operandExpected()) return token(TokenKind.REGEX, this.regex())
    if (isDigit(c) || (c === '.' && isDigit(text[start + 1]))) return this.number()
    if (isIdentStart(c)) {
      let end = start + 1
      while (isIdentPart(text[end])) end++
      this.offset = end
      const word = text.slice(start, end)
      const upper = word.toUpperCase()
      return KEYWORDS.has(upper) ? token(TokenKind.KEYWORD, upper) : token(TokenKind.IDENT, word)
    }
    for (const operator of OPERATORS) {
      if (text.startsWith(operator, start)) {
        this.offset = start + operator.length
        return token(TokenKind.OPERATOR, operator)
      }
    }
    throw syntaxError(text, start, `found ${c}, expected a name, string, number, duration, regex or operator`)
  }

  private quoted(quote: string): string {
    const text = this.text
    let value = ''
    let i = this.offset + 1
    for (; i < text.length && text[i] !== quote; i++) {
      if (text[i] === '\\' && i + 1 < text.length) {
        const escaped = text[++i]!
        value += escaped === 'n' ? '\n' : escaped === quote || escaped === '\\' ? escaped : '\\' + escaped
        continue
      }
      if (text[i] === '\n') break
      value += text[i]
    }
    if (text[i] !== quote) throw syntaxError(text, this.offset, `unterminated ${quote === '"' ? 'quoted identifier' : 'string'}`)
    this.offset = i + 1
    return value
  }

  private regex(): string {
    const text = this.text
    let value = ''
    let i = this.offset + 1
    for (; i < text.length && text[i] !== '/'; i++) {
      if (text[i] === '\\' && text[i + 1] === '/') { value += '/'; i++; continue }
      if (text[i] === '\n') break
      value += text[i]
    }
    if (text[i] !== '/') throw syntaxError(text, this.offset, 'unterminated regex')
    this.offset = i + 1
    return value
  }

  /** 42, 4.2, 1e3 (NUMBER/INTEGER), or a duration: 10s, 1h30m, 1700000000000ms (DURATION, text = ns). */
  private number(): Token {
    const text = this.text
    const start = this.offset
    let end = start
    while (isDigit(text[end])) end++
    let integer = true
    if (text[end] === '.' && isDigit(text[end + 1])) { integer = false; end++; while (isDigit(text[end])) end++ }
    if (integer) {
      const duration = this.durationFrom(start)
      if (duration !== null) return duration
    }
    if ((text[end] === 'e' || text[end] === 'E') && (isDigit(text[end + 1]) || ((text[end + 1] === '+' || text[end + 1] === '-') && isDigit(text[end + 2])))) {
      integer = false
      end += 2
      while (isDigit(text[end])) end++
    }
    if (isIdentPart(text[end])) throw syntaxError(text, start, `found ${text.slice(start, end + 1)}, expected a number or a duration (units ns, u, µ, ms, s, m, h, d, w)`)
    this.offset = end
    return { kind: integer ? TokenKind.INTEGER : TokenKind.NUMBER, text: text.slice(start, end), quoted: false, offset: start }
  }

  private durationFrom(start: number): Token | null {
    const text = this.text
    let at = start
    let totalNs = 0n
    let parts = 0
    for (;;) {
      let digitsEnd = at
      while (isDigit(text[digitsEnd])) digitsEnd++
      if (digitsEnd === at) break
      let unitEnd = digitsEnd
      while (unitEnd < text.length && /[a-zµ]/.test(text[unitEnd]!)) unitEnd++
      const unit = text.slice(digitsEnd, unitEnd)
      const scale = DURATION_UNITS[unit]
      if (scale === undefined || isIdentPart(text[unitEnd]) && !isDigit(text[unitEnd])) {
        if (parts === 0) return null
        break
      }
      totalNs += BigInt(text.slice(at, digitsEnd)) * scale
      parts++
      at = unitEnd
    }
    if (parts === 0) return null
    this.offset = at
    return { kind: TokenKind.DURATION, text: totalNs.toString(), quoted: false, offset: start }
  }
}
