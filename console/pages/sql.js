// The SQL editor: a statement on a database through POST /api/v1/sql, its rows as a table and,
// when they hold a time column and numbers, as a time-series chart. #sql?db=<db>&q=<statement>
// fills the editor (&run=1 runs it).

import { databases, sql } from '../api.js'
import { lineChart } from '../chart.js'
import { errorBox, h } from '../dom.js'
import { resultTable, timeSeries } from '../results.js'

export function mount(container, params) {
  const dbInput = h('input', { id: 'sql-db', list: 'sql-databases', placeholder: 'database', value: params.get('db') ?? '', size: 18 })
  const dbList = h('datalist', { id: 'sql-databases' })
  const editor = h('textarea', { id: 'sql-editor', rows: 6, spellcheck: 'false' }, params.get('q') ?? 'SHOW TABLES')
  const runButton = h('button', { id: 'sql-run', type: 'button' }, 'Run')
  const status = h('span', { class: 'muted', id: 'sql-status' }, 'Ctrl+Enter runs the statement.')
  const chart = h('section', { class: 'panel', id: 'sql-chart' })
  const result = h('section', { class: 'panel', id: 'sql-result' })
  chart.hidden = true
  result.hidden = true
  container.append(h('h1', {}, 'SQL'),
    h('section', { class: 'panel' },
      h('div', { class: 'toolbar' }, h('label', {}, 'Database ', dbInput), dbList, runButton, status),
      editor,
      h('p', { class: 'muted' }, 'SELECT, SHOW TABLES, DESCRIBE <table>, SHOW COMPRESSION (docs/query.md). UPDATE and DELETE are commands: they change data.')),
    chart, result)
  let controller = null

  databases().then(names => {
    dbList.replaceChildren(...names.map(name => h('option', { value: name })))
    if (!dbInput.value && names.length > 0) dbInput.value = names[0]
  }).catch(() => { /* the statement's answer will say what is wrong */ })

  async function run() {
    const statement = editor.value.trim()
    const database = dbInput.value.trim()
    if (!statement) return
    if (!database) { status.replaceChildren(errorBox('choose a database first')); return }
    controller?.abort()
    controller = new AbortController()
    runButton.disabled = true
    status.textContent = 'running…'
    history.replaceState(null, '', `#sql?${new URLSearchParams({ db: database, q: statement })}`)
    const started = performance.now()
    try {
      const rows = await sql(database, statement, { signal: controller.signal })
      const ms = performance.now() - started
      show(Array.isArray(rows) ? rows : [rows], ms)
    } catch (error) {
      if (error.name === 'AbortError') return
      status.replaceChildren(errorBox(error))
      chart.hidden = true
      result.hidden = true
    } finally {
      runButton.disabled = false
    }
  }

  function show(rows, ms) {
    status.textContent = `${rows.length} row${rows.length === 1 ? '' : 's'} in ${ms.toFixed(0)} ms`
    result.hidden = false
    result.replaceChildren(h('h2', {}, 'Rows'), rows.length === 0 ? h('p', { class: 'muted' }, 'no rows') : resultTable(rows, { id: 'sql-table' }))
    const series = rows.length === 0 ? { reason: 'no rows' } : timeSeries(rows)
    chart.hidden = false
    chart.replaceChildren(h('h2', {}, 'Chart'), series.reason
      ? h('p', { class: 'muted', id: 'sql-chart-none' }, series.reason)
      : h('div', {}, lineChart(series.series, { title: `by ${series.timeColumn}`, width: 960, height: 300 }),
        series.truncated ? h('p', { class: 'muted' }, 'only the first 12 series are drawn') : null))
  }

  runButton.addEventListener('click', () => void run())
  editor.addEventListener('keydown', event => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) { event.preventDefault(); void run() }
  })
  if (params.get('run') === '1') void run()
  return () => controller?.abort()
}
