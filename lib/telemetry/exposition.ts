// Prometheus text exposition format 0.0.4 (what GET /metrics answers): a HELP and a TYPE line per
// family, then one sample per line; histograms as cumulative _bucket{le} samples, _sum and _count.
// parseExposition reads the format back (tests, and anyone checking what a node exposes).

import { Histogram, type AnyFamily } from './registry.ts'

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** HELP text: backslash and newline escaped. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** A label value: backslash, double quote and newline escaped. */
export function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

function labelText(names: readonly string[], values: readonly string[], extra?: string): string {
  const parts = names.map((name, i) => `${name}="${escapeLabelValue(values[i]!)}"`)
  if (extra !== undefined) parts.push(extra)
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

export function formatExposition(families: readonly AnyFamily[]): string {
  const lines: string[] = []
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`)
    if (!(family instanceof Histogram)) {
      for (const child of family.all()) lines.push(`${family.name}${labelText(family.labelNames, child.labelValues)} ${formatValue(child.value)}`)
      continue
    }
    for (const child of family.all()) {
      let cumulative = 0
      for (let i = 0; i <= family.bounds.length; i++) {
        cumulative += child.bucketCounts[i]!
        const le = i < family.bounds.length ? formatValue(family.bounds[i]!) : '+Inf'
        lines.push(`${family.name}_bucket${labelText(family.labelNames, child.labelValues, `le="${le}"`)} ${formatValue(cumulative)}`)
      }
      lines.push(`${family.name}_sum${labelText(family.labelNames, child.labelValues)} ${formatValue(child.sum)}`)
      lines.push(`${family.name}_count${labelText(family.labelNames, child.labelValues)} ${formatValue(child.count)}`)
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`
}

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface ParsedExposition {
  help: Map<string, string>
  types: Map<string, string>
  samples: Sample[]
}

function unescape(text: string, quotes: boolean): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c !== '\\' || i + 1 === text.length) { out += c; continue }
    const next = text[++i]!
    out += next === 'n' ? '\n' : next === '\\' ? '\\' : quotes && next === '"' ? '"' : `\\${next}`
  }
  return out
}

function parseNumber(text: string, line: number): number {
  if (text === '+Inf') return Infinity
  if (text === '-Inf') return -Infinity
  if (text === 'NaN') return NaN
  const value = Number(text)
  if (text === '' || Number.isNaN(value)) throw new SyntaxError(`line ${line}: "${text}" is not a sample value`)
  return value
}

/** Reads Prometheus text format 0.0.4; throws a SyntaxError naming the line on anything else. */
export function parseExposition(text: string): ParsedExposition {
  const parsed: ParsedExposition = { help: new Map(), types: new Map(), samples: [] }
  text.split('\n').forEach((raw, index) => {
    const line = index + 1
    if (raw.trim() === '') return
    if (raw.startsWith('#')) {
      const match = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(raw)
      if (!match) return // a plain comment
      if (match[1] === 'HELP') parsed.help.set(match[2]!, unescape(match[3]!, false))
      else parsed.types.set(match[2]!, match[3]!)
      return
    }
    const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw)?.[0]
    if (name === undefined) throw new SyntaxError(`line ${line}: no metric name in "${raw}"`)
    let rest = raw.slice(name.length)
    const labels: Record<string, string> = {}
    if (rest.startsWith('{')) {
      let i = 1
      for (;;) {
        if (rest[i] === '}') { i++; break }
        const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(rest.slice(i))?.[0]
        if (labelName === undefined || rest[i + labelName.length] !== '=' || rest[i + labelName.length + 1] !== '"') throw new SyntaxError(`line ${line}: bad label at column ${i + name.length + 1}`)
        i += labelName.length + 2
        const start = i
        while (i < rest.length && rest[i] !== '"') i += rest[i] === '\\' ? 2 : 1
        if (i >= rest.length) throw new SyntaxError(`line ${line}: unterminated label value of ${labelName}`)
        labels[labelName] = unescape(rest.slice(start, i), true)
        i++
        if (rest[i] === ',') i++
        else if (rest[i] !== '}') throw new SyntaxError(`line ${line}: expected , or } after label ${labelName}`)
      }
      rest = rest.slice(i)
    }
    const fields = rest.trim().split(/\s+/)
    if (fields.length < 1 || fields.length > 2) throw new SyntaxError(`line ${line}: expected a value (and a timestamp) after the labels`)
    parsed.samples.push({ name, labels, value: parseNumber(fields[0]!, line) })
  })
  return parsed
}

/** The sum of the samples with this name whose labels include `labels`; undefined when there is none. */
export function sampleValue(parsed: ParsedExposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = parsed.samples.filter(sample => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
  if (matching.length === 0) return undefined
  return matching.reduce((sum, sample) => sum + sample.value, 0)
}
