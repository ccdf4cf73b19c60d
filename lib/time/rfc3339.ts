// RFC 3339 timestamps to nanoseconds since the epoch, for SQL time constants in commands and
// queries: up to nine fractional digits (Date.parse stops at milliseconds), an offset with or
// without a colon, or a date alone (midnight UTC).

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?)?$/i

/** Nanoseconds since the epoch, or null when `text` is not an RFC 3339 timestamp or a date. */
export function parseTimestamp(text: string): bigint | null {
  const match = TIMESTAMP.exec(text.trim())
  if (!match) return null
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second))
  const date = new Date(ms)
  // Date.UTC rolls 2023-02-30 over to March; such a date is not a timestamp.
  if (date.getUTCFullYear() !== Number(year) || date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)
    || date.getUTCHours() !== Number(hour) || date.getUTCMinutes() !== Number(minute) || date.getUTCSeconds() !== Number(second)) return null
  let offsetMinutes = 0
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.replace(':', '')
    offsetMinutes = (digits.startsWith('-') ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)))
  }
  return (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * 1_000_000n + BigInt(fraction.padEnd(9, '0') || '0')
}

/**
 * The "YYYY-MM-DDTHH:MM:SS" of recent whole seconds, direct-mapped by second: an aggregate's rows
 * repeat their buckets' times (2,400 rows of max per host per hour name 24 hours), and building the
 * text through Date was most of rendering such an answer.
 */
const SECOND_SLOTS = 1024
const slotSeconds = new Float64Array(SECOND_SLOTS).fill(Number.NaN)
const slotTexts: string[] = new Array<string>(SECOND_SLOTS).fill('')

function secondText(seconds: number): string {
  const slot = ((seconds % SECOND_SLOTS) + SECOND_SLOTS) % SECOND_SLOTS
  if (slotSeconds[slot] === seconds) return slotTexts[slot]!
  const text = new Date(seconds * 1000).toISOString().slice(0, 19)
  slotSeconds[slot] = seconds
  slotTexts[slot] = text
  return text
}

/** RFC 3339 in UTC; the fraction keeps the digits it needs, up to nanoseconds (Go's RFC3339Nano). */
export function formatTimestamp(timeNs: bigint): string {
  let seconds = timeNs / 1_000_000_000n
  let nanos = Number(timeNs - seconds * 1_000_000_000n)
  if (nanos < 0) { nanos += 1_000_000_000; seconds -= 1n }
  const base = secondText(Number(seconds))
  if (nanos === 0) return `${base}Z`
  return `${base}.${String(nanos).padStart(9, '0').replace(/0+$/, '')}Z`
}
