// Time literals in SQL commands: RFC 3339 with up to nanosecond fractions ('2023-01-14T16:03:00Z',
// '2023-01-14 16:03:00.123456789+08:00'), or a date alone ('2023-01-14', midnight UTC). Date.parse
// stops at milliseconds, so the fraction is read here.

const PATTERN = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})?)?$/i

/** Nanoseconds since the epoch, or null when `text` is not such a timestamp. */
export function parseTimeLiteral(text: string): bigint | null {
  const match = PATTERN.exec(text.trim())
  if (!match) return null
  const [, year, month, day, hour = '00', minute = '00', second = '00', fraction = '', zone = 'Z'] = match
  const ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second))
  const date = new Date(ms)
  // Reject what Date.UTC silently rolls over (2023-02-30, 25:00).
  if (date.getUTCFullYear() !== Number(year) || date.getUTCMonth() !== Number(month) - 1 || date.getUTCDate() !== Number(day)
    || date.getUTCHours() !== Number(hour) || date.getUTCMinutes() !== Number(minute) || date.getUTCSeconds() !== Number(second)) return null
  let offsetMinutes = 0
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1
    offsetMinutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
  }
  const fractionNs = BigInt(fraction.padEnd(9, '0') || '0')
  return (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * 1_000_000n + fractionNs
}
