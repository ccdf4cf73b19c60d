// The change feed live: GET /api/v1/changes as server-sent events (docs/cdc.md), read with fetch
// so a token can be sent, resumed with Last-Event-ID after a break. The newest events first.
// #cdc?db=<db>&m=<measurement>&from=earliest|latest&start=1 fills the form (and starts).

import { databases } from '../api.js'
import { errorBox, h } from '../dom.js'
import { count } from '../format.js'
import { subscribe } from '../sse.js'

const KEEP_EVENTS = 200

export function mount(container, params) {
  const dbInput = h('input', { id: 'cdc-db', list: 'cdc-databases', placeholder: 'database', value: params.get('db') ?? '', size: 16 })
  const dbList = h('datalist', { id: 'cdc-databases' })
  const measurementInput = h('input', { id: 'cdc-measurement', placeholder: 'all measurements', value: params.get('m') ?? '', size: 16 })
  const fromSelect = h('select', { id: 'cdc-from' }, h('option', { value: 'latest' }, 'new changes'), h('option', { value: 'earliest' }, 'the whole retained changelog'))
  fromSelect.value = params.get('from') === 'earliest' ? 'earliest' : 'latest'
  const startButton = h('button', { id: 'cdc-start', type: 'button' }, 'Start')
  const stopButton = h('button', { id: 'cdc-stop', type: 'button', class: 'secondary', disabled: true }, 'Stop')
  const state = h('b', { id: 'cdc-state' }, 'stopped')
  const received = h('b', { id: 'cdc-count' }, '0')
  const position = h('code', { id: 'cdc-position' }, '–')
  const problem = h('div', { id: 'cdc-error' })
  const tbody = h('tbody', {})
  container.append(h('h1', {}, 'Change feed'),
    h('section', { class: 'panel' },
      h('div', { class: 'toolbar' }, h('label', {}, 'Database ', dbInput), dbList, h('label', {}, 'Measurement ', measurementInput), h('label', {}, 'From ', fromSelect), startButton, stopButton),
      h('div', { class: 'facts' },
        h('div', {}, h('span', { class: 'muted' }, 'stream'), state),
        h('div', {}, h('span', { class: 'muted' }, 'events received'), received),
        h('div', {}, h('span', { class: 'muted' }, 'position (resume token)'), position)),
      problem),
    h('section', { class: 'panel' }, h('h2', {}, `Newest changes (the last ${KEEP_EVENTS} kept)`),
      h('div', { class: 'table-wrap' }, h('table', { id: 'cdc-events' },
        h('thead', {}, h('tr', {}, ['received', 'op', 'measurement', 'series or command', 'change', 'partition:offset:index'].map(label => h('th', {}, label)))),
        tbody))))

  databases().then(names => {
    dbList.replaceChildren(...names.map(name => h('option', { value: name })))
    if (!dbInput.value && names.length > 0) dbInput.value = names[0]
  }).catch(() => { /* the stream's answer will say what is wrong */ })

  let stream = null
  let events = 0

  function start() {
    const database = dbInput.value.trim()
    if (!database) { problem.replaceChildren(errorBox('choose a database first')); return }
    stop()
    const query = new URLSearchParams({ db: database, from: fromSelect.value })
    if (measurementInput.value.trim()) query.set('measurement', measurementInput.value.trim())
    state.textContent = 'connecting'
    problem.replaceChildren()
    startButton.disabled = true
    stopButton.disabled = false
    stream = subscribe(`/api/v1/changes?${query}`, {
      onOpen: () => { state.textContent = 'connected'; problem.replaceChildren() },
      onPosition: id => { position.textContent = id; if (state.textContent === 'connected') state.textContent = 'streaming' },
      onMessage: message => {
        if (message.event === 'error') { problem.replaceChildren(errorBox(`the stream failed: ${message.data}`)); return }
        addEvent(JSON.parse(message.data))
      },
      onError: error => {
        problem.replaceChildren(errorBox(error))
        state.textContent = error.status >= 400 && error.status < 500 ? 'refused' : 'reconnecting'
        if (state.textContent === 'refused') { startButton.disabled = false; stopButton.disabled = true }
      },
    })
  }

  function stop() {
    stream?.stop()
    stream = null
    state.textContent = 'stopped'
    startButton.disabled = false
    stopButton.disabled = true
  }

  function addEvent(event) {
    events++
    received.textContent = count(events)
    const source = event.source ?? {}
    const change = event.op === 'c'
      ? [...Object.entries(event.after?.tags ?? {}).map(([k, v]) => `${k}=${v}`), ...Object.entries(event.after?.fields ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`)].join(' ') + (event.after ? ` @ ${event.after.time}` : '')
      : commandText(event.command)
    tbody.prepend(h('tr', { class: 'cdc-event' },
      h('td', {}, new Date().toLocaleTimeString()),
      h('td', { class: `op-${event.op}` }, { c: 'upsert', u: 'update', d: 'delete' }[event.op] ?? event.op),
      h('td', {}, source.table ?? ''),
      h('td', { class: 'mono' }, source.seriesKey ?? ''),
      h('td', { class: 'mono' }, change),
      h('td', { class: 'mono' }, `${source.partition}:${source.offset}:${source.index}`)))
    while (tbody.children.length > KEEP_EVENTS) tbody.lastElementChild.remove()
  }

  startButton.addEventListener('click', start)
  stopButton.addEventListener('click', stop)
  if (params.get('start') === '1' && dbInput.value) start()
  return () => stream?.stop()
}

function commandText(command) {
  if (!command) return ''
  const where = command.where ?? {}
  const tags = Object.entries(where.tags ?? {}).map(([k, values]) => `${k} IN (${values.join(', ')})`)
  const range = [where.fromNs ? `time ≥ ${where.fromNs}` : '', where.toNs ? `time < ${where.toNs}` : ''].filter(Boolean)
  const set = command.expressions ? JSON.stringify(command.expressions) : Object.entries(command.set ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')
  return `${command.kind}${set ? ` SET ${set}` : ''}${tags.length || range.length ? ` WHERE ${[...tags, ...range].join(' AND ')}` : ''}`
}
