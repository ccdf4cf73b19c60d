// pipeline/commands: UPDATE and DELETE (constants or expressions), table DDL (CREATE TABLE,
// ALTER TABLE ... CODEC / ADD / DROP, DROP TABLE) and database DDL (CREATE / ALTER / DROP DATABASE) as SQL, turned into sluice.IngestCommand records and put on every
// partition of sluice.ingest. What a command does to stored data is the replicas' business, what a
// codec change does to compression the masters'.

export { parseCommandSql, commandTable, isCommandSql, CommandError, CommandErrorCode, type CommandContext, type MeasurementColumns, type ColumnType, type CommandErrorCodeValue } from './sql.ts'
export { parseDdl, isDdlSql, checkCodecType, codecCommand, type DdlStatement, type DeclaredField } from './ddl.ts'
export { parseDatabaseSql, isDatabaseSql, databaseCommand, type DatabaseStatement } from './database-ddl.ts'
export { submitCommand, CommandWriter, type CommandPosition } from './submit.ts'
export { parseTimestamp as parseTimeLiteral } from '../../lib/time/rfc3339.ts'
