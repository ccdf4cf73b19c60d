// How numbers, sizes and times read in the console.

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 })

/** 1234567 → "1,234,567"; also for the decimal strings the API uses for 64-bit offsets. */
export function count(value) {
  if (value === null || value === undefined) return '–'
  if (typeof value === 'string') return /^-?\d+$/.test(value) ? value.replace(/\B(?=(\d{3})+(?!\d))/g, ',') : value
  return integer.format(value)
}

export function number(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–'
  if (Math.abs(value) >= 1e6 || (value !== 0 && Math.abs(value) < 0.01)) return value.toPrecision(3)
  return decimal.format(value)
}

export function bytes(value) {
  if (value === null || value === undefined) return '–'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let n = value
  let unit = 0
  while (n >= 1024 && unit < units.length - 1) { n /= 1024; unit++ }
  return `${unit === 0 ? n : n.toFixed(1)} ${units[unit]}`
}

/** Seconds as "4.2 s", "3 min 5 s", "2 h 10 min". */
export function duration(seconds) {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.floor(seconds % 60)} s`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`
  return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h`
}

/** An ISO time as "14:03:22 (35 s ago)". */
export function ago(iso, nowMs = Date.now()) {
  const at = Date.parse(iso)
  if (Number.isNaN(at)) return '–'
  return `${new Date(at).toLocaleTimeString()} (${duration(Math.max(0, nowMs - at) / 1000)} ago)`
}

/** RFC 3339 with up to nanoseconds → milliseconds since the epoch (NaN if it is not one). */
export function parseTime(text) {
  if (typeof text !== 'string') return NaN
  const match = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/.exec(text)
  if (!match) return NaN
  const fraction = match[2] ? `.${match[2].slice(0, 3).padEnd(3, '0')}` : ''
  return Date.parse(`${match[1].replace(' ', 'T')}${fraction}${match[3]}`)
}
