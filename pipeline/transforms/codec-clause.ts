// The CODEC clause of a field in DDL, as far as lossy compression goes, and its canonical text.
// Grammar (keywords and units case-insensitive, spaces allowed between tokens):
//
//   clause    = "CODEC" "(" spec ")"
//   spec      = "SDT" "(" amount [ "," duration [ "," duration ] ] ")"
//             | "DEADBAND" "(" amount [ "%" ] [ "," duration [ "," duration ] ] ")"
//             | lossless
//   lossless  = "DEFAULT" | "NULL" | "DELTA" | "DELTATS" | "GORILLA" | "QUANTILE" | "BITPACK"
//             | "SNAPPY" | "ZSTD" | "GZIP" | "BZIP" | "ZLIB"          (CnosDB's codecs: lossy compression off)
//   amount    = decimal number > 0, e.g. 0.5, 2, 1e-3       ("%" makes a deadband relative: 5% = 0.05)
//   duration  = "0" | decimal unit, unit = "ns" | "us" | "µs" | "ms" | "s" | "m" | "h" | "d"
//               (an integer number of nanoseconds; the first is the minimum interval, the second the maximum)
//
// Examples: CODEC(SDT(0.5)), CODEC(SDT(0.5, 1s, 10m)), CODEC(DEADBAND(2)), CODEC(DEADBAND(5%, 0, 1m)).

import { TransformError, TransformErrorCode } from './errors.ts'
import { validateSettings, type CompressionSettings } from './settings.ts'

const LOSSLESS_CODECS = new Set(['DEFAULT', 'NULL', 'DELTA', 'DELTATS', 'GORILLA', 'QUANTILE', 'BITPACK', 'SNAPPY', 'ZSTD', 'GZIP', 'BZIP', 'ZLIB'])

const UNIT_NS: Record<string, bigint> = {
  ns: 1n, us: 1_000n, 'µs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n,
}
const UNITS_TEXT = 'ns, us, ms, s, m, h or d'

const AMOUNT = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/
const DURATION = /^(\d+)(?:\.(\d+))?([a-zA-Zµ]*)/
const WORD = /^[A-Za-z_][A-Za-z0-9_]*/

class ClauseParser {
  private position = 0

  constructor(private readonly text: string) {}

  fail(message: string, at = this.position): never {
    const shown = this.text.slice(at, at + 16) || 'the end'
    throw new TransformError(TransformErrorCode.COMPRESSION_CONFIG,
      `${message} at offset ${at} ("${shown}") in ${JSON.stringify(this.text)}`, { path: this.text, offset: at })
  }

  private skipSpaces(): void {
    while (this.position < this.text.length && /\s/.test(this.text[this.position]!)) this.position++
  }

  private match(pattern: RegExp): string | undefined {
    this.skipSpaces()
    const found = pattern.exec(this.text.slice(this.position))
    if (!found) return undefined
    this.position += found[0].length
    return found[0]
  }

  private peek(symbol: string): boolean {
    this.skipSpaces()
    return this.text.startsWith(symbol, this.position)
  }

  expect(symbol: string, what: string): void {
    if (!this.peek(symbol)) this.fail(`expected "${symbol}" ${what}`)
    this.position += symbol.length
  }

  word(what: string): { word: string; at: number } {
    this.skipSpaces()
    const at = this.position
    const word = this.match(WORD)
    if (word === undefined) this.fail(`expected ${what}`)
    return { word: word.toUpperCase(), at }
  }

  end(): void {
    this.skipSpaces()
    if (this.position !== this.text.length) this.fail('unexpected text after the clause')
  }

  spec(): CompressionSettings {
    const { word, at } = this.word('a codec name (SDT, DEADBAND, or a lossless codec such as DEFAULT)')
    if (word === 'SDT') return this.lossy('sdt', at)
    if (word === 'DEADBAND') return this.lossy('deadband', at)
    if (LOSSLESS_CODECS.has(word)) return { algorithm: 'off' }
    return this.fail(`unknown codec "${word}" (expected SDT, DEADBAND, or one of ${[...LOSSLESS_CODECS].join(', ')})`, at)
  }

  private lossy(algorithm: 'sdt' | 'deadband', at: number): CompressionSettings {
    this.expect('(', `after ${algorithm.toUpperCase()}`)
    this.skipSpaces()
    const amountAt = this.position
    const amountText = this.match(AMOUNT)
    if (amountText === undefined) this.fail(`expected the ${algorithm === 'sdt' ? 'deviation' : 'band'} (a number > 0)`)
    const amount = Number(amountText)
    if (!Number.isFinite(amount) || amount <= 0) this.fail(`the ${algorithm === 'sdt' ? 'deviation' : 'band'} must be a finite number > 0, got ${amountText}`, amountAt)
    let relative = false
    if (this.peek('%')) {
      if (algorithm === 'sdt') this.fail('a relative (%) deviation is for DEADBAND only')
      this.position++
      relative = true
    }
    const intervals: bigint[] = []
    while (this.peek(',')) {
      this.position++
      if (intervals.length === 2) this.fail('too many arguments: at most the amount, a minimum and a maximum interval')
      intervals.push(this.duration())
    }
    this.expect(')', `to close ${algorithm.toUpperCase()}(`)
    const [minIntervalNs, maxIntervalNs] = intervals
    const settings: CompressionSettings = algorithm === 'sdt'
      ? { algorithm, deviation: amount, ...(minIntervalNs !== undefined && { minIntervalNs }), ...(maxIntervalNs !== undefined && { maxIntervalNs }) }
      : { algorithm, band: relative ? amount / 100 : amount, ...(relative && { relative }),
          ...(minIntervalNs !== undefined && { minIntervalNs }), ...(maxIntervalNs !== undefined && { maxIntervalNs }) }
    try {
      return validateSettings(settings)
    } catch (error) {
      return this.fail((error as Error).message, at)
    }
  }

  duration(): bigint {
    this.skipSpaces()
    const at = this.position
    const found = DURATION.exec(this.text.slice(at))
    if (!found) return this.fail(`expected a duration such as 0, 500ms, 1s, 10m (units ${UNITS_TEXT})`)
    this.position += found[0].length
    return parseDurationParts(found[1]!, found[2] ?? '', found[3]!, (message) => this.fail(message, at))
  }
}

function parseDurationParts(whole: string, fraction: string, unitText: string, fail: (message: string) => never): bigint {
  const text = `${whole}${fraction ? `.${fraction}` : ''}${unitText}`
  if (unitText === '') {
    if (/^0+$/.test(whole) && /^0*$/.test(fraction)) return 0n
    return fail(`duration "${text}" needs a unit (${UNITS_TEXT})`)
  }
  const unitNs = UNIT_NS[unitText.toLowerCase()]
  if (unitNs === undefined) return fail(`unknown duration unit "${unitText}" (expected ${UNITS_TEXT})`)
  const scaled = BigInt(whole + fraction) * unitNs
  const divisor = 10n ** BigInt(fraction.length)
  if (scaled % divisor !== 0n) return fail(`duration "${text}" is not a whole number of nanoseconds`)
  return scaled / divisor
}

/** Parses `CODEC(...)` as it appears in DDL. Throws SLUICE_ERR_COMPRESSION_CONFIG naming the offending part. */
export function parseCodecClause(text: string): CompressionSettings {
  const parser = new ClauseParser(text)
  const { word, at } = parser.word('CODEC')
  if (word !== 'CODEC') parser.fail(`expected CODEC, got "${word}"`, at)
  parser.expect('(', 'after CODEC')
  const settings = parser.spec()
  parser.expect(')', 'to close CODEC(')
  parser.end()
  return settings
}

/** Parses the inside of a CODEC clause, e.g. "SDT(0.5, 1s, 10m)" (the config file's string form); "CODEC(...)" is accepted too. */
export function parseCodecSpec(text: string): CompressionSettings {
  if (/^\s*codec\s*\(/i.test(text)) return parseCodecClause(text)
  const parser = new ClauseParser(text)
  const settings = parser.spec()
  parser.end()
  return settings
}

/** Parses one duration, e.g. "1s", "10m", "250ms", "0". */
export function parseDuration(text: string): bigint {
  const parser = new ClauseParser(text)
  const value = parser.duration()
  parser.end()
  return value
}

/** The shortest exact text of a duration: 600000000000n → "10m". */
export function formatDuration(ns: bigint): string {
  if (ns === 0n) return '0'
  for (const unit of ['d', 'h', 'm', 's', 'ms', 'us'] as const) {
    const unitNs = UNIT_NS[unit]!
    if (ns % unitNs === 0n) return `${ns / unitNs}${unit}`
  }
  return `${ns}ns`
}

/** The canonical CODEC clause of `settings`; parseCodecClause(formatCodec(s)) gives `s` back. */
export function formatCodec(settings: CompressionSettings): string {
  if (settings.algorithm === 'off') return 'CODEC(DEFAULT)'
  const amount = settings.algorithm === 'sdt' ? `${settings.deviation}`
    : settings.relative ? `${Number((settings.band * 100).toPrecision(15))}%` : `${settings.band}`
  const args = [amount]
  if (settings.minIntervalNs !== undefined || settings.maxIntervalNs !== undefined) args.push(formatDuration(settings.minIntervalNs ?? 0n))
  if (settings.maxIntervalNs !== undefined) args.push(formatDuration(settings.maxIntervalNs))
  return `CODEC(${settings.algorithm === 'sdt' ? 'SDT' : 'DEADBAND'}(${args.join(', ')}))`
}
