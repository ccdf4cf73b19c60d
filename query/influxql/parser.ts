// A recursive-descent parser for the InfluxQL subset Grafana's InfluxDB data source sends (no
// well-kept InfluxQL parser exists on npm). One token of look-ahead; errors name what was found,
// what was expected and where, in InfluxDB's words: `found FROM, expected identifier at line 1, char 8`.
//
//   statements  := statement (';' statement)* [';']
//   select      := SELECT fields FROM sources [WHERE expr] [GROUP BY dimensions] [fill(...)]
//                  [ORDER BY time [ASC|DESC]] [LIMIT n] [OFFSET n] [SLIMIT n] [SOFFSET n]
//   expr        := or; or := and (OR and)*; and := cmp (AND cmp)*; cmp := add [op add];
//   add         := mul (('+'|'-') mul)*; mul := unary (('*'|'/'|'%') unary)*; unary := ['-'] primary

import type { Expr, Fill, KeyMatch, SelectField, SelectStatement, ShowCommon, Source, Statement } from './ast.ts'
import { Lexer, TokenKind, syntaxError, type Token } from './lexer.ts'
import { QueryError, QueryErrorCode } from '../errors.ts'
import { QUERY_LIMITS } from '../limits.ts'
import { frozenSize, StatementCache } from '../statement-cache.ts'

const CASTS = ['field', 'tag', 'float', 'integer', 'string', 'boolean', 'unsigned']
const COMPARISONS = new Set(['=', '!=', '<>', '<', '<=', '>', '>=', '=~', '!~'])

/** Parsed queries by text: a dashboard repeats its queries (query/statement-cache.ts). */
const QUERIES = new StatementCache<readonly Statement[]>(QUERY_LIMITS.statementCache)

/** The statements of `text`, deeply frozen: they may be the cached ones other requests get too. */
export function parseInfluxql(text: string): readonly Statement[] {
  const cached = QUERIES.get(text)
  if (cached !== undefined) return cached
  if (text.length > QUERY_LIMITS.maxSqlChars) {
    throw new QueryError(QueryErrorCode.LIMIT_EXCEEDED, `the query has ${text.length} characters; at most ${QUERY_LIMITS.maxSqlChars} are read`)
  }
  const statements = new Parser(text).statements()
  QUERIES.set(text, statements, frozenSize(statements))
  return statements
}

/** Empties the cache of parsed queries (tests). */
export function clearInfluxqlCache(): void {
  QUERIES.clear()
}

class Parser {
  private readonly lexer: Lexer
  private token: Token

  constructor(private readonly text: string) {
    this.lexer = new Lexer(text)
    this.token = this.lexer.next()
  }

  private advance(): Token {
    const token = this.token
    this.token = this.lexer.next()
    return token
  }

  private describe(token: Token): string {
    if (token.kind === TokenKind.EOF) return 'EOF'
    if (token.kind === TokenKind.STRING) return `'${token.text}'`
    if (token.kind === TokenKind.REGEX) return `/${token.text}/`
    return token.text
  }

  private fail(expected: string, token: Token = this.token): QueryError {
    // InfluxDB's scanner places EOF one character past the end; its messages say so.
    const offset = token.kind === TokenKind.EOF ? token.offset + 1 : token.offset
    return syntaxError(this.text, offset, `found ${this.describe(token)}, expected ${expected}`)
  }

  private atEnd(): boolean {
    return this.token.kind === TokenKind.EOF
  }

  private isKeyword(word: string): boolean {
    return this.token.kind === TokenKind.KEYWORD && this.token.text === word
  }

  private isOperator(op: string): boolean {
    return this.token.kind === TokenKind.OPERATOR && this.token.text === op
  }

  private acceptKeyword(word: string): boolean {
    if (!this.isKeyword(word)) return false
    this.advance()
    return true
  }

  private expectKeyword(word: string): void {
    if (!this.acceptKeyword(word)) throw this.fail(word)
  }

  private acceptOperator(op: string): boolean {
    if (!this.isOperator(op)) return false
    this.advance()
    return true
  }

  private expectOperator(op: string): void {
    if (!this.acceptOperator(op)) throw this.fail(op)
  }

  /** A name: bare, "quoted", or a keyword written in quotes. */
  private identifier(what = 'identifier'): string {
    if (this.token.kind !== TokenKind.IDENT) throw this.fail(what)
    return this.advance().text
  }

  private integer(what: string): number {
    const token = this.token
    if (token.kind !== TokenKind.INTEGER) throw this.fail(`an integer after ${what}`)
    this.advance()
    const value = Number(token.text)
    if (!Number.isSafeInteger(value)) throw syntaxError(this.text, token.offset, `${what} ${token.text} is too large`)
    return value
  }

  statements(): Statement[] {
    const statements: Statement[] = []
    for (;;) {
      while (this.acceptOperator(';')) { /* empty statement */ }
      if (this.atEnd()) break
      statements.push(this.statement())
      if (this.atEnd()) break
      if (!this.isOperator(';')) throw this.fail(';')
    }
    if (statements.length === 0) throw new QueryError(QueryErrorCode.SYNTAX, 'missing required parameter "q"')
    return statements
  }

  private statement(): Statement {
    if (this.acceptKeyword('SELECT')) return this.select()
    if (this.acceptKeyword('SHOW')) return this.show()
    if (this.acceptKeyword('CREATE')) {
      this.expectKeyword('DATABASE')
      const name = this.identifier()
      if (name.length === 0) throw this.fail('a database name')
      // CREATE DATABASE x WITH DURATION ... REPLICATION ...: the options are accepted and ignored.
      if (this.acceptKeyword('WITH')) while (this.token.kind !== TokenKind.EOF && !this.isOperator(';')) this.advance()
      return { kind: 'create-database', name }
    }
    throw this.fail('SELECT, SHOW or CREATE DATABASE (Sluice answers these InfluxQL statements; see docs/influxql.md)')
  }

  // ---- SELECT ----

  private select(): SelectStatement {
    const fields = this.fields()
    if (this.isKeyword('INTO')) throw this.fail('FROM (SELECT ... INTO is not supported)')
    this.expectKeyword('FROM')
    const sources = this.sources()
    const statement: SelectStatement = {
      kind: 'select', fields, sources, condition: null, groupByTime: null, groupByTags: [], groupByAllTags: false,
      fill: { kind: 'null' }, descending: false, limit: 0, offset: 0, slimit: 0, soffset: 0,
    }
    if (this.acceptKeyword('WHERE')) statement.condition = this.expr()
    if (this.acceptKeyword('GROUP')) {
      this.expectKeyword('BY')
      this.dimensions(statement)
    }
    if (this.isIdentWord('fill')) statement.fill = this.fill()
    if (this.acceptKeyword('ORDER')) {
      this.expectKeyword('BY')
      const token = this.token
      if (this.identifier('time') !== 'time') throw this.fail('time (only ORDER BY time is supported)', token)
      if (this.acceptKeyword('DESC')) statement.descending = true
      else this.acceptKeyword('ASC')
    }
    if (this.acceptKeyword('LIMIT')) statement.limit = this.integer('LIMIT')
    if (this.acceptKeyword('OFFSET')) statement.offset = this.integer('OFFSET')
    if (this.acceptKeyword('SLIMIT')) statement.slimit = this.integer('SLIMIT')
    if (this.acceptKeyword('SOFFSET')) statement.soffset = this.integer('SOFFSET')
    if (this.isIdentWord('tz')) throw this.fail('; or EOF (tz() is not supported: times are UTC)')
    return statement
  }

  private isIdentWord(word: string): boolean {
    return this.token.kind === TokenKind.IDENT && !this.token.quoted && this.token.text.toLowerCase() === word
  }

  private fields(): SelectField[] {
    const fields: SelectField[] = []
    do {
      const expr = this.expr()
      let alias: string | null = null
      if (this.acceptKeyword('AS')) alias = this.identifier()
      fields.push({ expr, alias })
    } while (this.acceptOperator(','))
    return fields
  }

  private sources(): Source[] {
    const sources: Source[] = []
    do {
      if (this.isOperator('(')) throw this.fail('a measurement (subqueries are not supported)')
      sources.push(this.source())
    } while (this.acceptOperator(','))
    return sources
  }

  /** m, "m", /re/, db.rp.m, db..m, rp.m. */
  private source(): Source {
    const parts: (string | RegExp)[] = []
    for (;;) {
      if (this.token.kind === TokenKind.REGEX) parts.push(this.regexOf(this.advance()))
      else if (this.token.kind === TokenKind.IDENT) parts.push(this.advance().text)
      else if (this.isOperator('.') && parts.length > 0) parts.push('')
      else throw this.fail('a measurement name or /regex/')
      if (parts.length === 3 || parts[parts.length - 1] instanceof RegExp) break
      if (!this.acceptOperator('.')) break
    }
    const last = parts.pop()!
    const [database, retentionPolicy] = parts.length === 2 ? parts : [null, parts[0] ?? null]
    return {
      database: typeof database === 'string' && database !== '' ? database : null,
      retentionPolicy: typeof retentionPolicy === 'string' && retentionPolicy !== '' ? retentionPolicy : null,
      name: typeof last === 'string' ? last : null,
      regex: last instanceof RegExp ? last : null,
    }
  }

  /** A /regex/ in JavaScript's syntax; Go's leading flag group ((?i), (?s), (?m), (?is)) becomes flags. */
  private regexOf(token: Token): RegExp {
    const flags = /^\(\?([ims]+)\)/.exec(token.text)
    try {
      return flags ? new RegExp(token.text.slice(flags[0].length), [...new Set(flags[1])].join('')) : new RegExp(token.text)
    } catch (error) {
      throw syntaxError(this.text, token.offset, `invalid regex /${token.text}/: ${(error as Error).message}`)
    }
  }

  private dimensions(statement: SelectStatement): void {
    do {
      const token = this.token
      if (this.acceptOperator('*')) { statement.groupByAllTags = true; continue }
      if (token.kind === TokenKind.REGEX) throw this.fail('a tag key, * or time(...) (GROUP BY /regex/ is not supported)')
      const name = this.identifier('a tag key, * or time(interval)')
      if (name.toLowerCase() === 'time' && !token.quoted && this.isOperator('(')) {
        if (statement.groupByTime) throw this.fail('one time(...) in GROUP BY', token)
        statement.groupByTime = this.groupByTime()
        continue
      }
      if (this.acceptOperator('::')) this.castType()
      statement.groupByTags.push(name)
    } while (this.acceptOperator(','))
  }

  private groupByTime(): { intervalNs: bigint; offsetNs: bigint } {
    this.expectOperator('(')
    const interval = this.token
    if (interval.kind !== TokenKind.DURATION) throw this.fail('a duration (time(1m))')
    this.advance()
    const intervalNs = BigInt(interval.text)
    if (intervalNs <= 0n) throw syntaxError(this.text, interval.offset, 'the GROUP BY time interval must be longer than zero')
    let offsetNs = 0n
    if (this.acceptOperator(',')) {
      const negative = this.acceptOperator('-')
      const offset = this.token
      if (offset.kind !== TokenKind.DURATION) throw this.fail('a duration offset (time(1h, 15m)); now() offsets are not supported')
      this.advance()
      offsetNs = negative ? -BigInt(offset.text) : BigInt(offset.text)
    }
    this.expectOperator(')')
    return { intervalNs, offsetNs }
  }

  private fill(): Fill {
    this.advance()
    this.expectOperator('(')
    const token = this.token
    let fill: Fill
    if (token.kind === TokenKind.IDENT && ['null', 'none', 'previous', 'linear'].includes(token.text.toLowerCase())) {
      fill = { kind: token.text.toLowerCase() as 'null' | 'none' | 'previous' | 'linear' }
      this.advance()
    } else {
      const negative = this.acceptOperator('-')
      const number = this.token
      if (number.kind !== TokenKind.INTEGER && number.kind !== TokenKind.NUMBER) throw this.fail('null, none, previous, linear or a number in fill()')
      this.advance()
      fill = { kind: 'value', value: (negative ? -1 : 1) * Number(number.text) }
    }
    this.expectOperator(')')
    return fill
  }

  // ---- SHOW ----

  private show(): Statement {
    if (this.acceptKeyword('DATABASES')) return { kind: 'show-databases' }
    if (this.acceptKeyword('RETENTION')) {
      this.expectKeyword('POLICIES')
      return { kind: 'show-retention-policies', database: this.acceptKeyword('ON') ? this.identifier() : null }
    }
    if (this.acceptKeyword('MEASUREMENTS')) {
      const database = this.onDatabase()
      let measurement: KeyMatch | null = null
      if (this.acceptKeyword('WITH')) {
        this.expectKeyword('MEASUREMENT')
        measurement = this.keyMatch('a measurement name or /regex/', true)
      }
      return { kind: 'show-measurements', measurement, ...this.showTail(database, []) }
    }
    if (this.acceptKeyword('TAG')) {
      if (this.acceptKeyword('KEYS')) {
        const database = this.onDatabase()
        return { kind: 'show-tag-keys', ...this.showTail(database, this.showFrom()) }
      }
      this.expectKeyword('VALUES')
      const database = this.onDatabase()
      const sources = this.showFrom()
      this.expectKeyword('WITH')
      this.expectKeyword('KEY')
      const key = this.keyMatch('a tag key')
      return { kind: 'show-tag-values', key, ...this.showTail(database, sources) }
    }
    if (this.acceptKeyword('FIELD')) {
      this.expectKeyword('KEYS')
      const database = this.onDatabase()
      return { kind: 'show-field-keys', ...this.showTail(database, this.showFrom()) }
    }
    if (this.acceptKeyword('SERIES')) {
      const database = this.onDatabase()
      return { kind: 'show-series', ...this.showTail(database, this.showFrom()) }
    }
    throw this.fail('DATABASES, MEASUREMENTS, TAG KEYS, TAG VALUES, FIELD KEYS, SERIES or RETENTION POLICIES')
  }

  private onDatabase(): string | null {
    return this.acceptKeyword('ON') ? this.identifier('a database name') : null
  }

  private showFrom(): Source[] {
    return this.acceptKeyword('FROM') ? this.sources() : []
  }

  private showTail(database: string | null, sources: Source[]): ShowCommon {
    const common: ShowCommon = { database, sources, condition: null, limit: 0, offset: 0 }
    if (this.acceptKeyword('WHERE')) common.condition = this.expr()
    if (this.acceptKeyword('ORDER')) {
      this.expectKeyword('BY')
      this.identifier()
      if (!this.acceptKeyword('ASC') && this.isKeyword('DESC')) throw this.fail('ASC (SHOW answers are sorted ascending)')
    }
    if (this.acceptKeyword('LIMIT')) common.limit = this.integer('LIMIT')
    if (this.acceptKeyword('OFFSET')) common.offset = this.integer('OFFSET')
    return common
  }

  /**
   * After WITH KEY: = x, != x, =~ /re/, !~ /re/, IN (x, y); after WITH MEASUREMENT only = and =~, as in
   * InfluxDB 1.6 (whose message for KEY names only IN, =, =~: its words are kept).
   */
  private keyMatch(what: string, measurement = false): KeyMatch {
    if (!measurement && this.acceptKeyword('IN')) {
      this.expectOperator('(')
      const keys: string[] = []
      do keys.push(this.identifier(what)); while (this.acceptOperator(','))
      this.expectOperator(')')
      return { op: 'in', keys, negate: false }
    }
    const op = this.token
    const allowed = measurement ? ['=', '=~'] : ['=', '!=', '<>', '=~', '!~']
    if (op.kind !== TokenKind.OPERATOR || !allowed.includes(op.text)) throw this.fail(measurement ? '=, =~' : 'IN, =, =~')
    this.advance()
    const negate = op.text !== '=' && op.text !== '=~'
    if (op.text === '=~' || op.text === '!~') {
      if (this.token.kind !== TokenKind.REGEX) throw this.fail('a /regex/')
      return { op: 'regex', regex: this.regexOf(this.advance()), negate }
    }
    return { op: 'in', keys: [this.identifier(what)], negate }
  }

  // ---- Expressions ----

  expr(): Expr {
    let left = this.and()
    while (this.isKeyword('OR')) {
      const offset = this.advance().offset
      left = { kind: 'binary', op: 'OR', left, right: this.and(), offset }
    }
    return left
  }

  private and(): Expr {
    let left = this.comparison()
    while (this.isKeyword('AND')) {
      const offset = this.advance().offset
      left = { kind: 'binary', op: 'AND', left, right: this.comparison(), offset }
    }
    return left
  }

  private comparison(): Expr {
    const left = this.additive()
    if (this.token.kind === TokenKind.OPERATOR && COMPARISONS.has(this.token.text)) {
      const op = this.advance()
      const right = this.additive()
      return { kind: 'binary', op: op.text === '<>' ? '!=' : op.text, left, right, offset: op.offset }
    }
    return left
  }

  private additive(): Expr {
    let left = this.multiplicative()
    while (this.isOperator('+') || this.isOperator('-')) {
      const op = this.advance()
      left = { kind: 'binary', op: op.text, left, right: this.multiplicative(), offset: op.offset }
    }
    return left
  }

  private multiplicative(): Expr {
    let left = this.unary()
    while (this.isOperator('*') || this.isOperator('/') || this.isOperator('%')) {
      const op = this.advance()
      left = { kind: 'binary', op: op.text, left, right: this.unary(), offset: op.offset }
    }
    return left
  }

  private unary(): Expr {
    if (this.isOperator('-')) {
      const minus = this.advance()
      const operand = this.unary()
      if (operand.kind === 'number') return { ...operand, value: -operand.value, text: '-' + operand.text, offset: minus.offset }
      if (operand.kind === 'duration') return { ...operand, ns: -operand.ns, offset: minus.offset }
      return { kind: 'binary', op: '*', left: { kind: 'number', value: -1, integer: true, text: '-1', offset: minus.offset }, right: operand, offset: minus.offset }
    }
    return this.primary()
  }

  private primary(): Expr {
    const token = this.token
    switch (token.kind) {
      case TokenKind.STRING: this.advance(); return { kind: 'string', value: token.text, offset: token.offset }
      case TokenKind.INTEGER: case TokenKind.NUMBER:
        this.advance()
        return { kind: 'number', value: Number(token.text), integer: token.kind === TokenKind.INTEGER, text: token.text, offset: token.offset }
      case TokenKind.DURATION: this.advance(); return { kind: 'duration', ns: BigInt(token.text), offset: token.offset }
      case TokenKind.REGEX: this.advance(); return { kind: 'regex', regex: this.regexOf(token), source: token.text, offset: token.offset }
      case TokenKind.KEYWORD:
        if (token.text === 'TRUE' || token.text === 'FALSE') { this.advance(); return { kind: 'bool', value: token.text === 'TRUE', offset: token.offset } }
        break
      case TokenKind.OPERATOR:
        if (token.text === '*') { this.advance(); return this.withCast({ kind: 'wildcard', offset: token.offset }) }
        if (token.text === '(') {
          this.advance()
          const inner = this.expr()
          this.expectOperator(')')
          return inner
        }
        break
      case TokenKind.IDENT: {
        this.advance()
        if (!token.quoted && this.isOperator('(')) return this.call(token)
        return this.withCast({ kind: 'ident', name: token.text, cast: null, offset: token.offset })
      }
    }
    throw this.fail('identifier, string, number, bool')
  }

  /** name::field, name::tag, name::float, *::field. */
  private withCast(expr: Expr): Expr {
    if (!this.acceptOperator('::')) return expr
    const type = this.castType()
    return expr.kind === 'ident' ? { ...expr, cast: type } : expr
  }

  private castType(): string {
    const token = this.token
    const type = token.text.toLowerCase()
    if ((token.kind !== TokenKind.IDENT && token.kind !== TokenKind.KEYWORD) || !CASTS.includes(type)) throw this.fail(CASTS.join(', '))
    this.advance()
    return type
  }

  private call(name: Token): Expr {
    this.expectOperator('(')
    const args: Expr[] = []
    if (!this.isOperator(')')) {
      do args.push(this.expr()); while (this.acceptOperator(','))
    }
    this.expectOperator(')')
    return { kind: 'call', name: name.text.toLowerCase(), args, offset: name.offset }
  }
}
