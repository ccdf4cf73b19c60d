// node-sql-parser's PostgreSQL parser, one instance for the query layer (query/parse.ts) and the
// master's SQL commands (pipeline/commands/sql.ts). The package's main module bundles fourteen
// dialects' parsers and their source maps; build/postgresql.js holds the one dialect Sluice speaks.
// npm run bench:module-load -- --compare <worktree of 6cef2d7~1> (2026-11-30): query/parse.ts loads
// in 300 ms with 15.9 MB of heap after, against 500 ms and 40.7 MB with the whole bundle.

import nodeSqlParser from 'node-sql-parser/build/postgresql.js'

export const sqlParser = new nodeSqlParser.Parser()
/** The options every call passes: the PostgreSQL grammar. */
export const POSTGRESQL = { database: 'PostgresQL' }
