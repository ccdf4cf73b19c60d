// Lossy compression per measurement and field: GET /api/v1/compression (what the masters on
// this node decided: points in, points kept, ratio, max error), with each field's codec from
// SHOW COMPRESSION on its database.

import { getJson, sql } from '../api.js'
import { errorBox, h, table } from '../dom.js'
import { count, number } from '../format.js'

const POLL_MS = 5000

export function mount(container) {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading the compression report…'))
  container.append(h('h1', {}, 'Compression'), body)
  let stopped = false
  let timer

  async function refresh() {
    try {
      const report = await getJson('/api/v1/compression')
      const codecs = await codecsOf([...new Set(report.fields.map(f => f.database))])
      if (stopped) return
      body.replaceChildren(render(report, codecs))
    } catch (error) {
      if (!stopped) body.replaceChildren(errorBox(error))
    }
    if (!stopped) timer = setTimeout(refresh, POLL_MS)
  }
  void refresh()
  return () => { stopped = true; clearTimeout(timer) }
}

/** database → "measurement\0field" → codec, from SHOW COMPRESSION (a database it may not read is left out). */
async function codecsOf(databases) {
  const codecs = new Map()
  await Promise.all(databases.map(async database => {
    try {
      const rows = await sql(database, 'SHOW COMPRESSION')
      codecs.set(database, new Map(rows.map(row => [`${row.measurement}\u0000${row.field}`, row.codec])))
    } catch { /* codec unknown: shown as – */ }
  }))
  return codecs
}

function render(report, codecs) {
  const rows = [...report.fields].sort((a, b) => a.database.localeCompare(b.database) || a.measurement.localeCompare(b.measurement) || a.field.localeCompare(b.field))
  const totalIn = rows.reduce((sum, r) => sum + r.pointsIn, 0)
  const totalKept = rows.reduce((sum, r) => sum + r.pointsKept, 0)
  const note = h('p', { class: 'muted' }, `As decided by the masters on ${report.node}, of partitions ${report.partitions.join(', ') || 'none'}: each node reports the partitions it masters. Ratio = points in per point kept.`)
  if (rows.length === 0) return h('section', { class: 'panel' }, note, h('p', { id: 'compression-empty' }, 'No lossy compression yet: no field with a codec has received points on this node\'s partitions.'))
  return h('section', { class: 'panel' }, note,
    h('div', { class: 'facts' },
      h('div', {}, h('span', { class: 'muted' }, 'points in'), h('b', {}, count(totalIn))),
      h('div', {}, h('span', { class: 'muted' }, 'points kept'), h('b', {}, count(totalKept))),
      h('div', {}, h('span', { class: 'muted' }, 'overall ratio'), h('b', {}, totalKept > 0 ? `${number(totalIn / totalKept)} : 1` : '–'))),
    table([{ label: 'database' }, { label: 'measurement' }, { label: 'field' }, { label: 'codec' }, { label: 'series', num: true }, { label: 'points in', num: true }, { label: 'points kept', num: true }, { label: 'kept' }, { label: 'ratio', num: true }, { label: 'max error', num: true }],
      rows.map(r => [r.database, r.measurement, r.field, h('span', { class: 'mono' }, codecs.get(r.database)?.get(`${r.measurement}\u0000${r.field}`) ?? '–'),
        count(r.series), count(r.pointsIn), count(r.pointsKept), keptBar(r), r.compressionRatio === null ? '–' : number(r.compressionRatio), number(r.maxError)]),
      { id: 'compression' }))
}

function keptBar(row) {
  const fraction = row.pointsIn > 0 ? row.pointsKept / row.pointsIn : 0
  return h('span', { title: `${(fraction * 100).toFixed(1)} % kept` }, h('span', { class: 'bar', style: `width:${Math.max(1, Math.round(fraction * 80))}px` }), ` ${(fraction * 100).toFixed(1)} %`)
}
