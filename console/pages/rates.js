// Live rates from GET /metrics (Prometheus text): points accepted and rejected per second by
// source, queries per second by language, HTTP requests and change events per second, computed
// from counter differences between polls, kept for the last few minutes in this page only.
// A node without /metrics gets "metrics unavailable", and the page keeps asking.

import { metricsText } from '../api.js'
import { lineChart } from '../chart.js'
import { errorBox, h } from '../dom.js'
import { bytes, count, number } from '../format.js'
import { parseMetrics, rates, sumBy } from '../prometheus.js'

const POLL_MS = 2000
const KEEP_MS = 5 * 60_000

/** The charts: per chart, the counters whose rates it draws, grouped by one label. */
const CHARTS = [
  { id: 'ingest', title: 'Ingest', unit: 'points/s', lines: [
    { metric: 'sluice_points_accepted_total', by: 'source', name: source => `accepted ${source}` },
    { metric: 'sluice_points_rejected_total', by: 'source', name: source => `rejected ${source}` },
  ] },
  { id: 'queries', title: 'Queries', unit: 'queries/s', lines: [
    { metric: 'sluice_query_duration_seconds_count', by: 'language', name: language => language },
  ] },
  { id: 'http', title: 'HTTP requests', unit: 'requests/s', lines: [
    { metric: 'sluice_http_requests_total', by: 'status', name: status => `status ${status}` },
  ] },
  { id: 'cdc', title: 'Change events', unit: 'events/s', lines: [
    { metric: 'sluice_cdc_events_total', by: undefined, name: () => 'events' },
    { metric: 'sluice_mqtt_messages_total', by: 'result', name: result => `mqtt ${result}` },
  ] },
]

export function mount(container) {
  const status = h('p', { class: 'muted', id: 'rates-status' }, 'Reading /metrics…')
  const gauges = h('div', { class: 'facts', id: 'gauges' })
  const charts = Object.fromEntries(CHARTS.map(c => [c.id, h('section', { class: 'panel', id: `chart-${c.id}` })]))
  container.append(h('h1', {}, 'Ingest and query rates'), status, gauges, h('div', { class: 'row' }, ...Object.values(charts)))
  /** Per chart line key → [timeMs, rate][] */
  const history = new Map()
  let previous = null
  let stopped = false
  let timer

  async function poll() {
    try {
      const text = await metricsText()
      if (stopped) return
      if (text === null) {
        status.replaceChildren(h('span', { class: 'notice', id: 'metrics-unavailable' }, 'metrics unavailable: this node does not serve GET /metrics'))
      } else {
        const samples = parseMetrics(text)
        const nowMs = Date.now()
        if (previous) record(history, previous, { samples, atMs: nowMs })
        previous = { samples, atMs: nowMs }
        status.textContent = `Polled every ${POLL_MS / 1000} s; the last ${KEEP_MS / 60_000} minutes are kept while this page is open.`
        renderGauges(gauges, samples)
        for (const chart of CHARTS) charts[chart.id].replaceChildren(draw(chart, history, nowMs))
      }
    } catch (error) {
      if (!stopped) status.replaceChildren(errorBox(error))
    }
    if (!stopped) timer = setTimeout(poll, POLL_MS)
  }
  void poll()
  return () => { stopped = true; clearTimeout(timer) }
}

function record(history, before, now) {
  const seconds = (now.atMs - before.atMs) / 1000
  for (const chart of CHARTS) {
    for (const line of chart.lines) {
      const perGroup = rates(sumBy(before.samples, line.metric, line.by), sumBy(now.samples, line.metric, line.by), seconds)
      for (const [group, rate] of perGroup) {
        const key = `${chart.id}\u0000${line.name(group)}`
        const points = history.get(key) ?? []
        points.push([now.atMs, rate])
        while (points.length > 0 && points[0][0] < now.atMs - KEEP_MS) points.shift()
        history.set(key, points)
      }
    }
  }
}

function draw(chart, history, nowMs) {
  const series = [...history].filter(([key]) => key.startsWith(`${chart.id}\u0000`)).map(([key, points]) => ({ name: key.split('\u0000')[1], points }))
  // The window grows with the history, from one minute to KEEP_MS.
  const oldest = Math.min(nowMs, ...series.map(s => s.points[0]?.[0] ?? nowMs))
  const fromMs = Math.max(nowMs - KEEP_MS, Math.min(nowMs - 60_000, oldest))
  return lineChart(series, { title: chart.title, unit: chart.unit, yMin: 0, fromMs, toMs: nowMs, empty: 'waiting for two polls…', width: 640, height: 240 })
}

function renderGauges(gauges, samples) {
  const total = name => [...sumBy(samples, name).values()].reduce((a, b) => a + b, 0)
  const fact = (label, value) => h('div', {}, h('span', { class: 'muted' }, label), h('b', {}, value))
  gauges.replaceChildren(
    fact('points accepted', count(total('sluice_points_accepted_total'))),
    fact('points rejected', count(total('sluice_points_rejected_total'))),
    fact('queries', count(total('sluice_query_duration_seconds_count'))),
    fact('master of partitions', count(total('sluice_master_partitions'))),
    fact('memtables', bytes(total('sluice_store_memtable_bytes'))),
    fact('on disk', bytes(total('sluice_store_bytes_on_disk'))),
    fact('replica lag (records)', number(total('sluice_replica_lag_records'))),
  )
}
