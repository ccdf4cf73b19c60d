// Prometheus text exposition (format 0.0.4, what GET /metrics answers) read into samples, and
// rates from the difference of counters between two polls.

/** @typedef {{ name: string, labels: Record<string, string>, value: number }} Sample */

/** Parses exposition text into samples; HELP, TYPE and other comment lines are skipped. */
export function parseMetrics(text) {
  /** @type {Sample[]} */
  const samples = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const sample = parseSampleLine(line)
    if (sample) samples.push(sample)
  }
  return samples
}

function parseSampleLine(line) {
  const nameEnd = line.search(/[{\s]/)
  if (nameEnd <= 0) return null
  const name = line.slice(0, nameEnd)
  const labels = {}
  let at = nameEnd
  if (line[at] === '{') {
    at++
    while (line[at] !== '}') {
      if (at >= line.length) return null
      if (line[at] === ',' || line[at] === ' ') { at++; continue }
      const equals = line.indexOf('=', at)
      if (equals < 0 || line[equals + 1] !== '"') return null
      const label = line.slice(at, equals).trim()
      let value = ''
      at = equals + 2
      for (; at < line.length && line[at] !== '"'; at++) {
        if (line[at] === '\\') {
          const next = line[++at]
          value += next === 'n' ? '\n' : next
        } else value += line[at]
      }
      if (at >= line.length) return null
      labels[label] = value
      at++ // the closing quote
    }
    at++ // the closing brace
  }
  const [valueText] = line.slice(at).trim().split(/\s+/)
  const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText)
  if (valueText === undefined || (Number.isNaN(value) && valueText !== 'NaN')) return null
  return { name, labels, value }
}

/** Sum of the samples named `name`, grouped by the value of label `by` (all in "" without `by`). */
export function sumBy(samples, name, by) {
  const sums = new Map()
  for (const sample of samples) {
    if (sample.name !== name) continue
    const key = by === undefined ? '' : sample.labels[by] ?? ''
    sums.set(key, (sums.get(key) ?? 0) + sample.value)
  }
  return sums
}

/**
 * Per-second rates of counters between two polls, per group: (now − before) / seconds. A counter
 * that went down was reset (the node restarted): its rate counts from zero. A group absent before
 * starts from zero too.
 */
export function rates(before, now, seconds) {
  const out = new Map()
  if (!(seconds > 0)) return out
  for (const [key, value] of now) {
    const previous = before.get(key) ?? 0
    out.set(key, (value >= previous ? value - previous : value) / seconds)
  }
  return out
}
