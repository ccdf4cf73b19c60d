// node-sql-parser's PostgreSQL parser, one instance for the query layer (query/parse.ts) and the
// master's SQL commands (pipeline/commands/sql.ts). The package's main module bundles fourteen
// dialects' parsers and their source maps: loading it took 0.7-0.9 s and left 40 MB of heap where
// build/postgresql.js, the one dialect Sluice speaks, takes 0.4-0.5 s and 16 MB (query/parse.ts
// imported in a fresh process, 2026-11-30).

import nodeSqlParser from 'node-sql-parser/build/postgresql.js'

export const sqlParser = new nodeSqlParser.Parser()
/** The options every call passes: the PostgreSQL grammar. */
export const POSTGRESQL = { database: 'PostgresQL' }
