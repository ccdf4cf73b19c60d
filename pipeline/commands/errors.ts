// Errors of SQL commands (UPDATE, DELETE, codec DDL): a code the HTTP layer maps to a status, and a
// message naming the part of the statement at fault.

export const CommandErrorCode = {
  SYNTAX: 'syntax',
  UNSUPPORTED: 'unsupported',
  UNKNOWN_TABLE: 'unknown_table',
  UNKNOWN_COLUMN: 'unknown_column',
  BAD_VALUE: 'bad_value',
} as const

export type CommandErrorCodeValue = (typeof CommandErrorCode)[keyof typeof CommandErrorCode]

export class CommandError extends Error {
  constructor(readonly code: CommandErrorCodeValue, message: string) {
    super(message)
    this.name = 'CommandError'
  }
}
