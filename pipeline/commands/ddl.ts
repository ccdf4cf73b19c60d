// Codec DDL, CnosDB's form, parsed here (node-sql-parser knows neither TAGS(...) nor CODEC(...)):
//
//   CREATE TABLE [IF NOT EXISTS] m (f1 DOUBLE CODEC(SDT(0.5, 1s, 10m)), f2 BIGINT CODEC(DEADBAND(2)), f3 STRING, TAGS(host, region))
//   ALTER TABLE m ALTER [COLUMN] f SET CODEC(DEADBAND(5%))
//   ALTER TABLE m ADD FIELD f DOUBLE [CODEC(...)]
//   ALTER TABLE m ADD TAG t
//   ALTER TABLE m DROP f                 (a field: its values deleted, its type forgotten)
//   DROP TABLE [IF EXISTS] m             (every point deleted, its columns forgotten)
//
// Types: DOUBLE | FLOAT (float), BIGINT | INT | INTEGER (integer), BIGINT UNSIGNED | UNSIGNED (unsigned),
// BOOLEAN | BOOL, STRING | VARCHAR | TEXT. Names are bare identifiers or double-quoted ("" for a
// quote); keywords are case-insensitive; one optional trailing semicolon. The CODEC clause is
// pipeline/transforms' grammar (docs/lossy-compression.md). Errors name the offset in the statement.
// A statement with codecs becomes a SET_CODEC command (codecCommand) that enters sluice.ingest like
// UPDATE and DELETE, so every master switches at the same log position.

import { randomUUID } from 'node:crypto'
import type { IngestCommand } from '../../schemas/index.ts'
import { formatCodec, parseCodecClause, type CompressionSettings } from '../transforms/index.ts'
import { CommandError, CommandErrorCode } from './errors.ts'
import type { ColumnType } from './sql.ts'

export interface DeclaredField {
  name: string
  /** Undefined for ALTER ... SET CODEC, which names an existing field. */
  type?: ColumnType
  codec?: CompressionSettings
  /** Offset of the field's name in the statement, for messages. */
  at: number
}

export type DdlStatement =
  | { kind: 'CREATE_TABLE'; measurement: string; ifNotExists: boolean; fields: DeclaredField[]; tags: string[] }
  | { kind: 'ADD_FIELD'; measurement: string; fields: [DeclaredField] }
  | { kind: 'SET_CODEC'; measurement: string; fields: [DeclaredField] }
  | { kind: 'ADD_TAG'; measurement: string; fields: []; tags: [string] }
  | { kind: 'DROP_COLUMN'; measurement: string; fields: []; column: string }
  | { kind: 'DROP_TABLE'; measurement: string; fields: []; ifExists: boolean }

const TYPE_WORDS: Record<string, ColumnType> = {
  DOUBLE: 'float', FLOAT: 'float', BIGINT: 'integer', INT: 'integer', INTEGER: 'integer', UNSIGNED: 'unsigned',
  BOOLEAN: 'boolean', BOOL: 'boolean', STRING: 'string', VARCHAR: 'string', TEXT: 'string',
}

/** Is the statement table DDL (CREATE TABLE, ALTER TABLE, DROP TABLE)? */
export function isDdlSql(sql: string): boolean {
  return /^\s*(create|alter|drop)\s+table\b/i.test(sql)
}

export class Scanner {
  position = 0
  constructor(readonly text: string) {}

  fail(message: string, at = this.position): never {
    this.position = at
    const shown = this.text.slice(at, at + 20) || 'the end'
    throw new CommandError(CommandErrorCode.SYNTAX, `${message} at offset ${at} ("${shown}")`)
  }

  skipSpaces(): void {
    while (this.position < this.text.length && /\s/.test(this.text[this.position]!)) this.position++
  }

  /** The next bare word, upper-cased, without consuming it (undefined if none). */
  peekWord(): string | undefined {
    this.skipSpaces()
    return /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.position))?.[0].toUpperCase()
  }

  keyword(word: string, what = ''): void {
    if (this.peekWord() !== word) this.fail(`expected ${word}${what}`)
    this.position += word.length
  }

  optionalKeyword(word: string): boolean {
    if (this.peekWord() !== word) return false
    this.position += word.length
    return true
  }

  /** An optional IF NOT EXISTS; true if present. */
  ifNotExists(): boolean {
    if (!this.optionalKeyword('IF')) return false
    this.keyword('NOT', ' after IF')
    this.keyword('EXISTS', ' after IF NOT')
    return true
  }

  /** An optional IF EXISTS; true if present. */
  ifExists(): boolean {
    if (!this.optionalKeyword('IF')) return false
    this.keyword('EXISTS', ' after IF')
    return true
  }

  symbol(symbol: string, what: string): void {
    if (!this.peekSymbol(symbol)) this.fail(`expected "${symbol}" ${what}`)
    this.position += symbol.length
  }

  optionalSymbol(symbol: string): boolean {
    if (!this.peekSymbol(symbol)) return false
    this.position += symbol.length
    return true
  }

  peekSymbol(symbol: string): boolean {
    this.skipSpaces()
    return this.text.startsWith(symbol, this.position)
  }

  /** A bare or double-quoted name, and where it starts. */
  name(what: string): { name: string; at: number } {
    this.skipSpaces()
    const at = this.position
    if (this.text[at] === '"') {
      let name = ''
      let i = at + 1
      for (;;) {
        if (i >= this.text.length) this.fail(`unterminated quoted ${what}`, at)
        if (this.text[i] === '"') {
          if (this.text[i + 1] === '"') { name += '"'; i += 2; continue }
          break
        }
        name += this.text[i++]
      }
      if (name === '') this.fail(`empty ${what}`, at)
      this.position = i + 1
      return { name, at }
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(at))?.[0]
    if (!word) this.fail(`expected a ${what}`, at)
    this.position += word.length
    return { name: word, at }
  }

  /** CODEC( ... ) with balanced parentheses, parsed by pipeline/transforms. */
  codec(field: string): CompressionSettings {
    this.skipSpaces()
    const start = this.position
    this.keyword('CODEC')
    this.symbol('(', 'after CODEC')
    let depth = 1
    let i = this.position
    while (i < this.text.length && depth > 0) {
      if (this.text[i] === '(') depth++
      else if (this.text[i] === ')') depth--
      i++
    }
    if (depth > 0) this.fail(`unclosed CODEC( of field "${field}"`, start)
    this.position = i
    try {
      return parseCodecClause(this.text.slice(start, i))
    } catch (error) {
      const offset = (error as { context?: { offset?: number } }).context?.offset
      // The clause parser's own " at offset N in ..." is replaced by the offset in the whole statement.
      const message = (error as Error).message.replace(/ at offset \d+ \(".*"\) in ".*"$/s, '')
      return this.fail(`field "${field}": ${message}`, offset === undefined ? start : start + offset)
    }
  }

  type(field: string): ColumnType {
    this.skipSpaces()
    const at = this.position
    const word = this.peekWord()
    const type = word === undefined ? undefined : TYPE_WORDS[word]
    if (type === undefined) this.fail(`field "${field}": expected a type (DOUBLE, BIGINT, BIGINT UNSIGNED, BOOLEAN or STRING)`, at)
    this.position += word!.length
    if (type === 'integer' && this.optionalKeyword('UNSIGNED')) return 'unsigned'
    return type
  }

  end(): void {
    this.skipSpaces()
    if (this.text[this.position] === ';') this.position++
    this.skipSpaces()
    if (this.position < this.text.length) this.fail('unexpected text after the statement')
  }
}

export function parseDdl(sql: string): DdlStatement {
  const scanner = new Scanner(sql)
  const first = scanner.peekWord()
  if (first === 'CREATE') return createTable(scanner)
  if (first === 'ALTER') return alterTable(scanner)
  if (first === 'DROP') return dropTable(scanner)
  return scanner.fail('expected CREATE TABLE, ALTER TABLE or DROP TABLE')
}

function dropTable(scanner: Scanner): DdlStatement {
  scanner.keyword('DROP')
  scanner.keyword('TABLE')
  const ifExists = scanner.ifExists()
  const { name: measurement } = scanner.name('table name')
  scanner.end()
  return { kind: 'DROP_TABLE', measurement, fields: [], ifExists }
}

function createTable(scanner: Scanner): DdlStatement {
  scanner.keyword('CREATE')
  scanner.keyword('TABLE')
  const ifNotExists = scanner.ifNotExists()
  const { name: measurement } = scanner.name('table name')
  scanner.symbol('(', 'to open the column list')
  const fields: DeclaredField[] = []
  const tags: string[] = []
  const seen = new Map<string, number>()
  const claim = (name: string, at: number): void => {
    if (name.toLowerCase() === 'time') scanner.fail('"time" is the time column; it cannot be declared', at)
    if (seen.has(name)) scanner.fail(`column "${name}" is declared twice (first at offset ${seen.get(name)})`, at)
    seen.set(name, at)
  }
  do {
    if (scanner.peekWord() === 'TAGS') {
      const at = scanner.position
      scanner.keyword('TAGS')
      if (tags.length > 0) scanner.fail('TAGS(...) appears twice', at)
      scanner.symbol('(', 'after TAGS')
      do {
        const tag = scanner.name('tag name')
        claim(tag.name, tag.at)
        tags.push(tag.name)
      } while (scanner.optionalSymbol(','))
      scanner.symbol(')', 'to close TAGS(')
      continue
    }
    const { name, at } = scanner.name('field name')
    claim(name, at)
    const type = scanner.type(name)
    const codec = scanner.peekWord() === 'CODEC' ? scanner.codec(name) : undefined
    fields.push({ name, type, at, ...(codec && { codec }) })
  } while (scanner.optionalSymbol(','))
  scanner.symbol(')', 'to close the column list (or "," before the next column)')
  scanner.end()
  if (fields.length === 0) scanner.fail('a table needs at least one field', 0)
  return { kind: 'CREATE_TABLE', measurement, ifNotExists, fields, tags }
}

function alterTable(scanner: Scanner): DdlStatement {
  scanner.keyword('ALTER')
  scanner.keyword('TABLE')
  const { name: measurement } = scanner.name('table name')
  const action = scanner.peekWord()
  if (action === 'ALTER') {
    scanner.keyword('ALTER')
    scanner.optionalKeyword('COLUMN')
    const { name, at } = scanner.name('field name')
    scanner.keyword('SET', ` after ALTER ${name} (ALTER TABLE m ALTER f SET CODEC(...))`)
    const codec = scanner.codec(name)
    scanner.end()
    return { kind: 'SET_CODEC', measurement, fields: [{ name, codec, at }] }
  }
  if (action === 'ADD' && /^\s*ADD\s+TAG\b/i.test(scanner.text.slice(scanner.position))) {
    scanner.keyword('ADD')
    scanner.keyword('TAG')
    const { name, at } = scanner.name('tag name')
    if (name.toLowerCase() === 'time') scanner.fail('"time" is the time column; it cannot be declared', at)
    scanner.end()
    return { kind: 'ADD_TAG', measurement, fields: [], tags: [name] }
  }
  if (action === 'DROP') {
    scanner.keyword('DROP')
    scanner.optionalKeyword('COLUMN')
    const { name, at } = scanner.name('column name')
    if (name.toLowerCase() === 'time') scanner.fail('"time" is the time column; it cannot be dropped', at)
    scanner.end()
    return { kind: 'DROP_COLUMN', measurement, fields: [], column: name }
  }
  if (action === 'RENAME') {
    throw new CommandError(CommandErrorCode.UNSUPPORTED, 'ALTER TABLE ... RENAME COLUMN is not supported: a tag\'s new name is a new series key (use UPDATE ... SET <tag> = ... to move series), and a field\'s values would have to be rewritten under the new name')
  }
  if (action === 'ADD') {
    scanner.keyword('ADD')
    scanner.keyword('FIELD', ' or TAG after ADD (ALTER TABLE m ADD FIELD f DOUBLE [CODEC(...)], ALTER TABLE m ADD TAG t)')
    const { name, at } = scanner.name('field name')
    if (name.toLowerCase() === 'time') scanner.fail('"time" is the time column; it cannot be declared', at)
    const type = scanner.type(name)
    const codec = scanner.peekWord() === 'CODEC' ? scanner.codec(name) : undefined
    scanner.end()
    return { kind: 'ADD_FIELD', measurement, fields: [{ name, type, at, ...(codec && { codec }) }] }
  }
  return scanner.fail('expected ALTER <field> SET CODEC(...), ADD FIELD <field> <type>, ADD TAG <tag> or DROP <field>')
}

/** Lossy compression applies to numbers only: a lossy codec on another type is refused (DEFAULT is fine). */
export function checkCodecType(field: string, type: ColumnType, codec: CompressionSettings): void {
  if (codec.algorithm !== 'off' && (type === 'boolean' || type === 'string')) {
    throw new CommandError(CommandErrorCode.BAD_VALUE, `field "${field}" is ${type}: ${formatCodec(codec)} compresses numbers only (use CODEC(DEFAULT))`)
  }
}

/** The SET_CODEC command of the statement's codecs (fields with their catalog types), or null when it sets none. */
export function codecCommand(context: { tenant: string; database: string; nowNs: bigint; commandId?: string }, measurement: string,
  fields: ReadonlyArray<{ name: string; type: ColumnType | null; codec: CompressionSettings }>): IngestCommand | null {
  if (fields.length === 0) return null
  return {
    commandId: context.commandId ?? randomUUID(),
    tenant: context.tenant,
    database: context.database,
    measurement,
    kind: 'SET_CODEC',
    where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null },
    set: [],
    issuedAtNs: context.nowNs,
    expressions: null,
    codecs: fields.map(field => ({ field: field.name, fieldType: field.type, codec: formatCodec(field.codec) })),
  }
}
