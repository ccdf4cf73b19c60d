// Databases and measurements: SHOW DATABASES (InfluxQL on /query), SHOW TABLES and DESCRIBE
// (POST /api/v1/sql), and the newest rows of the chosen measurement, with a link that opens the
// SQL editor on it. #browser?db=<db>&m=<measurement> selects.

import { databases, sql } from '../api.js'
import { errorBox, h, table } from '../dom.js'
import { resultTable } from '../results.js'

const PREVIEW_ROWS = 20

/** A table name as SQL: bare when it is a plain identifier, else double-quoted. */
export function quoteIdentifier(name) {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`
}

function link(params, text, current) {
  return h('a', { href: `#browser?${new URLSearchParams(params)}`, 'aria-current': current ? 'true' : null }, text)
}

export function mount(container, params) {
  const database = params.get('db')
  const measurement = params.get('m')
  const dbColumn = h('section', { class: 'panel', id: 'browser-databases' }, h('h2', {}, 'Databases'), h('p', { class: 'muted' }, 'Loading…'))
  const tableColumn = h('section', { class: 'panel', id: 'browser-measurements' }, h('h2', {}, 'Measurements'),
    h('p', { class: 'muted' }, database ? 'Loading…' : 'Choose a database.'))
  const detail = h('section', { class: 'panel', id: 'browser-detail' }, h('h2', {}, measurement ?? 'Columns'),
    h('p', { class: 'muted' }, measurement ? 'Loading…' : 'Choose a measurement.'))
  container.append(h('h1', {}, 'Browser'), h('div', { class: 'row' },
    h('div', { style: 'flex: 0 1 220px' }, dbColumn), h('div', { style: 'flex: 0 1 260px' }, tableColumn), h('div', { style: 'flex: 3 1 500px' }, detail)))
  const controller = new AbortController()
  const signal = controller.signal

  databases({ signal }).then(names => {
    dbColumn.replaceChildren(h('h2', {}, 'Databases'), names.length === 0
      ? h('p', { class: 'muted' }, 'none yet: a write creates its database')
      : h('ul', { class: 'list' }, names.map(name => h('li', {}, link({ db: name }, name, name === database)))))
  }).catch(error => { if (!signal.aborted) dbColumn.append(errorBox(error)) })

  if (database) {
    sql(database, 'SHOW TABLES', { signal }).then(rows => {
      const names = rows.map(row => String(row.table_name ?? Object.values(row)[0])).sort()
      tableColumn.replaceChildren(h('h2', {}, `Measurements of ${database}`), names.length === 0
        ? h('p', { class: 'muted' }, 'none yet')
        : h('ul', { class: 'list' }, names.map(name => h('li', {}, link({ db: database, m: name }, name, name === measurement)))))
    }).catch(error => { if (!signal.aborted) tableColumn.replaceChildren(h('h2', {}, 'Measurements'), errorBox(error)) })
  }

  if (database && measurement) {
    const name = quoteIdentifier(measurement)
    const preview = `SELECT * FROM ${name} ORDER BY time DESC LIMIT ${PREVIEW_ROWS}`
    Promise.all([sql(database, `DESCRIBE TABLE ${name}`, { signal }), sql(database, preview, { signal })]).then(([columns, rows]) => {
      detail.replaceChildren(
        h('h2', {}, `${measurement} in ${database}`),
        table([{ label: 'column' }, { label: 'type' }, { label: 'kind' }], columns.map(c => [c.column_name, c.data_type, c.column_type]), { id: 'browser-columns' }),
        h('h2', {}, `Newest ${PREVIEW_ROWS} rows`),
        h('p', {}, h('a', { href: `#sql?${new URLSearchParams({ db: database, q: preview, run: '1' })}`, id: 'browser-open-sql' }, 'Open in the SQL editor')),
        rows.length === 0 ? h('p', { class: 'muted' }, 'no rows') : resultTable(rows, { id: 'browser-rows' }))
    }).catch(error => { if (!signal.aborted) detail.replaceChildren(h('h2', {}, measurement), errorBox(error)) })
  }
  return () => controller.abort()
}
