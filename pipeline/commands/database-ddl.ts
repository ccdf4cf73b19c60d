// Database DDL, CnosDB's form, parsed here:
//
//   CREATE DATABASE [IF NOT EXISTS] db [WITH TTL '7d']
//   ALTER DATABASE db SET TTL '30d'          (TTL 'INF' or INF: keep forever)
//   DROP DATABASE [IF EXISTS] db
//   DESCRIBE DATABASE db
//
// A TTL is a duration with a unit (ns, us, ms, s, m, h, d), quoted or bare, or INF / NONE. CnosDB's
// other options (SHARD, VNODE_DURATION, REPLICA, PRECISION) and DROP DATABASE ... AFTER are refused
// naming the option and why; an option Sluice does not know is a syntax error naming it. A TTL
// change and a DROP become commands (databaseCommand) that enter sluice.ingest like UPDATE and
// DELETE, so every replica applies them at the same log position.

import { randomUUID } from 'node:crypto'
import type { IngestCommand } from '../../schemas/index.ts'
import { parseDuration } from '../transforms/index.ts'
import { Scanner } from './ddl.ts'
import { CommandError, CommandErrorCode } from './errors.ts'

export type DatabaseStatement =
  /** ttlNs: undefined = no TTL option, null = INF. */
  | { kind: 'CREATE_DATABASE'; database: string; ifNotExists: boolean; ttlNs: bigint | null | undefined }
  | { kind: 'ALTER_DATABASE'; database: string; ttlNs: bigint | null }
  | { kind: 'DROP_DATABASE'; database: string; ifExists: boolean }
  | { kind: 'DESCRIBE_DATABASE'; database: string }

/** CnosDB's database options Sluice does not take, and why. */
const UNSUPPORTED_OPTIONS: Readonly<Record<string, string>> = {
  SHARD: 'a database is spread over the partitions of sluice.ingest, which the Kafka topic decides',
  VNODE_DURATION: 'segments are not split by time; TTL drops whole expired segments and hides expired points',
  REPLICA: 'every node of the replica set holds every partition',
  PRECISION: 'time is stored in nanoseconds; writes give their precision per request',
}

/** Is the statement database DDL (CREATE, ALTER, DROP or DESCRIBE DATABASE)? */
export function isDatabaseSql(sql: string): boolean {
  return /^\s*(create|alter|drop|describe|desc)\s+database\b/i.test(sql)
}

export function parseDatabaseSql(sql: string): DatabaseStatement {
  const scanner = new Scanner(sql)
  const verb = scanner.peekWord()
  if (verb === 'DESCRIBE' || verb === 'DESC') {
    scanner.keyword(verb)
    scanner.keyword('DATABASE')
    const database = databaseName(scanner)
    scanner.end()
    return { kind: 'DESCRIBE_DATABASE', database }
  }
  if (verb === 'DROP') {
    scanner.keyword('DROP')
    scanner.keyword('DATABASE')
    const ifExists = scanner.ifExists()
    const database = databaseName(scanner)
    if (scanner.peekWord() === 'AFTER') {
      throw new CommandError(CommandErrorCode.UNSUPPORTED, 'DROP DATABASE ... AFTER is not supported: a database is dropped at once (there is no RECOVER DATABASE)')
    }
    scanner.end()
    return { kind: 'DROP_DATABASE', database, ifExists }
  }
  if (verb === 'ALTER') {
    scanner.keyword('ALTER')
    scanner.keyword('DATABASE')
    const database = databaseName(scanner)
    scanner.keyword('SET', ` after ALTER DATABASE ${database} (ALTER DATABASE db SET TTL '30d')`)
    const ttlNs = option(scanner)
    scanner.end()
    if (ttlNs === undefined) return scanner.fail('expected TTL after SET')
    return { kind: 'ALTER_DATABASE', database, ttlNs }
  }
  scanner.keyword('CREATE', ', ALTER, DROP or DESCRIBE')
  scanner.keyword('DATABASE')
  const ifNotExists = scanner.ifNotExists()
  const database = databaseName(scanner)
  let ttlNs: bigint | null | undefined
  if (scanner.optionalKeyword('WITH')) {
    do ttlNs = option(scanner)
    while (scanner.peekWord() !== undefined || scanner.optionalSymbol(','))
  }
  scanner.end()
  return { kind: 'CREATE_DATABASE', database, ifNotExists, ttlNs }
}

/** A database name: double-quoted, or bare with the characters a write's ?db= name often has (dots, dashes). */
function databaseName(scanner: Scanner): string {
  scanner.skipSpaces()
  const bare = /^[A-Za-z_][\w.-]*/.exec(scanner.text.slice(scanner.position))?.[0]
  if (bare === undefined) return scanner.name('database name').name
  scanner.position += bare.length
  return bare
}

/** One database option: TTL's value in ns (null: INF); any other option is refused naming it. */
function option(scanner: Scanner): bigint | null {
  scanner.skipSpaces()
  const at = scanner.position
  const word = scanner.peekWord()
  if (word === undefined) return scanner.fail('expected a database option (TTL)')
  if (UNSUPPORTED_OPTIONS[word]) throw new CommandError(CommandErrorCode.UNSUPPORTED, `database option ${word} is not supported: ${UNSUPPORTED_OPTIONS[word]}`)
  if (word !== 'TTL') return scanner.fail(`unknown database option ${word} (Sluice takes TTL)`, at)
  scanner.keyword('TTL')
  scanner.optionalSymbol('=')
  scanner.skipSpaces()
  const valueAt = scanner.position
  const quoted = /^'((?:[^']|'')*)'/.exec(scanner.text.slice(valueAt))
  const bare = quoted ? undefined : /^[A-Za-z0-9_.+-]+/.exec(scanner.text.slice(valueAt))?.[0]
  const text = quoted ? quoted[1]!.replaceAll("''", "'") : bare
  if (text === undefined) return scanner.fail("TTL: expected a duration such as '7d', or INF", valueAt)
  scanner.position = valueAt + (quoted ? quoted[0].length : text.length)
  if (/^(inf|none)$/i.test(text.trim())) return null
  let ttlNs: bigint
  try {
    ttlNs = parseDuration(text.trim())
  } catch (error) {
    return scanner.fail(`TTL '${text}': ${(error as Error).message.replace(/ at offset \d+ \(".*"\) in ".*"$/s, '')}`, valueAt)
  }
  if (ttlNs <= 0n) return scanner.fail(`TTL '${text}': a time to live must be longer than 0 (INF keeps points forever)`, valueAt)
  return ttlNs
}

/** The command a TTL change or a DROP puts on every partition of sluice.ingest (measurement "": the whole database). */
export function databaseCommand(context: { tenant: string; database: string; nowNs: bigint; commandId?: string },
  change: { kind: 'SET_DATABASE_TTL'; ttlNs: bigint | null } | { kind: 'DROP_DATABASE' } | { kind: 'DROP_TABLE'; measurement: string } | { kind: 'DROP_FIELDS'; measurement: string; columns: string[] }): IngestCommand {
  return {
    commandId: context.commandId ?? randomUUID(),
    tenant: context.tenant,
    database: context.database,
    measurement: 'measurement' in change ? change.measurement : '',
    kind: change.kind,
    where: { tags: [], fromNs: null, toNs: null, fieldPredicate: null },
    set: [],
    issuedAtNs: context.nowNs,
    expressions: null,
    codecs: null,
    ttlNs: change.kind === 'SET_DATABASE_TTL' ? change.ttlNs : null,
    columns: change.kind === 'DROP_FIELDS' ? change.columns : null,
  }
}
