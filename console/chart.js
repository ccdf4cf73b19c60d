// A line chart with a time axis, drawn as SVG: one <path class="series"> per series (a gap in the
// data starts a new subpath), a time axis with round ticks, a value axis with "nice" steps, a
// legend. Each path carries data-points (its number of points) and data-name.

const SVG = 'http://www.w3.org/2000/svg'
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22']
const TIME_STEPS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 10e3, 15e3, 30e3, 60e3, 120e3, 300e3, 600e3, 900e3, 1800e3,
  3600e3, 7200e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3, 86400e3, 2 * 86400e3, 7 * 86400e3, 30 * 86400e3, 365 * 86400e3]

function svg(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag)
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value))
  if (text !== undefined) element.textContent = text
  return element
}

/** Round tick values covering [min, max], about `count` of them. */
export function niceTicks(min, max, count = 5) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return []
  if (min === max) { min -= min === 0 ? 1 : Math.abs(min) / 2; max += max === 0 ? 1 : Math.abs(max) / 2 }
  const rough = (max - min) / count
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 2.5, 5, 10].map(m => m * magnitude).find(s => s >= rough) ?? 10 * magnitude
  const ticks = []
  for (let v = Math.floor(min / step) * step; v <= max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)))
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)))
  return ticks
}

/** Time ticks at round steps (1 s, 5 min, 1 h, 1 d ...) in [fromMs, toMs]. */
export function timeTicks(fromMs, toMs, count = 6) {
  const span = Math.max(1, toMs - fromMs)
  const step = TIME_STEPS_MS.find(s => span / s <= count) ?? TIME_STEPS_MS[TIME_STEPS_MS.length - 1]
  const offset = step >= 86400e3 ? 0 : new Date(fromMs).getTimezoneOffset() * 60e3 // days in local time
  const ticks = []
  for (let t = Math.ceil((fromMs - offset) / step) * step + offset; t <= toMs; t += step) ticks.push(t)
  return { ticks, stepMs: step }
}

function timeLabel(ms, stepMs, spanMs) {
  const date = new Date(ms)
  const pad = n => String(n).padStart(2, '0')
  const day = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}`
  if (stepMs >= 86400e3) return day
  if (stepMs < 1000) return `${pad(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`
  const text = stepMs < 60e3 ? `${clock}:${pad(date.getSeconds())}` : clock
  return spanMs > 86400e3 ? `${day.slice(5)} ${text}` : text
}

function valueLabel(v) {
  const abs = Math.abs(v)
  if (abs >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`
  if (abs >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`
  if (abs >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`
  return String(+v.toPrecision(4))
}

/**
 * Draws series of [timeMs, value] points (value null or NaN: a gap) into a new <svg>.
 * options: { width, height, title, unit, yMin (e.g. 0 for rates), fromMs, toMs }.
 */
export function lineChart(series, options = {}) {
  const width = options.width ?? 760
  const height = options.height ?? 260
  const margin = { top: 26, right: 16, bottom: 28, left: 56 }
  const root = svg('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': options.title ?? 'chart' })
  if (options.title) root.append(svg('text', { x: margin.left, y: 16, 'font-size': 13, 'font-weight': 600 }, options.title + (options.unit ? ` (${options.unit})` : '')))
  const points = series.flatMap(s => s.points.filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v)))
  if (points.length === 0) {
    root.append(svg('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', fill: '#5f6b76' }, options.empty ?? 'no data yet'))
    return root
  }
  const fromMs = options.fromMs ?? Math.min(...points.map(p => p[0]))
  const toMs = options.toMs ?? Math.max(...points.map(p => p[0]))
  let yMin = Math.min(...points.map(p => p[1]))
  let yMax = Math.max(...points.map(p => p[1]))
  if (options.yMin !== undefined) yMin = Math.min(yMin, options.yMin)
  const yTicks = niceTicks(yMin, yMax)
  yMin = yTicks[0]
  yMax = yTicks[yTicks.length - 1]
  const plotW = width - margin.left - margin.right
  const plotH = height - margin.top - margin.bottom
  const x = t => margin.left + (toMs === fromMs ? plotW / 2 : ((t - fromMs) / (toMs - fromMs)) * plotW)
  const y = v => margin.top + plotH - ((v - yMin) / (yMax - yMin)) * plotH

  const grid = svg('g', { class: 'grid' })
  const axis = svg('g', { class: 'axis' })
  for (const v of yTicks) {
    grid.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: y(v), y2: y(v) }))
    axis.append(svg('text', { x: margin.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, valueLabel(v)))
  }
  const { ticks, stepMs } = timeTicks(fromMs, toMs)
  for (const t of ticks) {
    axis.append(svg('line', { x1: x(t), x2: x(t), y1: margin.top + plotH, y2: margin.top + plotH + 4 }))
    axis.append(svg('text', { x: x(t), y: height - 8, 'text-anchor': 'middle' }, timeLabel(t, stepMs, toMs - fromMs)))
  }
  axis.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: margin.top + plotH, y2: margin.top + plotH }))
  root.append(grid, axis)

  const legend = svg('g', { class: 'legend' })
  let legendX = width - margin.right
  const legendStop = margin.left + 8 * ((options.title ?? '').length + (options.unit ?? '').length + 3) + 40
  let hidden = 0
  series.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length]
    const sorted = s.points.filter(([t]) => Number.isFinite(t)).sort((a, b) => a[0] - b[0])
    let d = ''
    let drawn = 0
    let penDown = false
    for (const [t, v] of sorted) {
      if (!Number.isFinite(v)) { penDown = false; continue }
      d += `${penDown ? 'L' : 'M'}${x(t).toFixed(1)} ${y(v).toFixed(1)}`
      penDown = true
      drawn++
    }
    const path = svg('path', { class: 'series', d, stroke: color, 'data-points': drawn, 'data-name': s.name })
    if (drawn === 1 || sorted.length <= 60) {
      // Few points: each is marked, so a lone point (no line) is still seen.
      const marks = svg('g', { fill: color })
      for (const [t, v] of sorted) if (Number.isFinite(v)) marks.append(svg('circle', { cx: x(t).toFixed(1), cy: y(v).toFixed(1), r: 2.2 }))
      root.append(marks)
    }
    root.append(path)
    // Legend entries from the right, while they fit beside the title; the rest are counted.
    const labelWidth = Math.min(220, 7 * String(s.name).length + 18)
    if (legendX - labelWidth > legendStop) {
      legend.append(svg('text', { x: legendX, y: 16, 'text-anchor': 'end', fill: color }, s.name))
      legendX -= labelWidth
    } else hidden++
  })
  if (hidden > 0) legend.append(svg('text', { x: legendX, y: 16, 'text-anchor': 'end', fill: '#5f6b76' }, `+${hidden} more`))
  root.append(legend)
  return root
}
