// Structured logs for the broker: one JSON object per line on stderr. The broker imports nothing of
// Sluice, so it keeps its own logger.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void
  info(event: string, fields?: Record<string, unknown>): void
  warn(event: string, fields?: Record<string, unknown>): void
  error(event: string, fields?: Record<string, unknown>): void
}

export function createLogger(component: string, minimum: LogLevel = (process.env.SLUICE_LOG_LEVEL as LogLevel) ?? 'info', sink: (line: string) => void = line => process.stderr.write(line + '\n')): Logger {
  const emit = (level: LogLevel, event: string, fields?: Record<string, unknown>): void => {
    if (rank[level] < rank[minimum]) return
    sink(JSON.stringify({ time: new Date().toISOString(), level, component, event, ...fields }, (_key, value) => typeof value === 'bigint' ? value.toString() : value))
  }
  return {
    debug: (event, fields) => emit('debug', event, fields),
    info: (event, fields) => emit('info', event, fields),
    warn: (event, fields) => emit('warn', event, fields),
    error: (event, fields) => emit('error', event, fields),
  }
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }
