// The console's shell: hash routes (#replicaset, #rates, #compression, #browser, #sql, #cdc,
// with parameters after "?"), each page a module with mount(container, params) returning an
// unmount function that stops its timers and streams; and the token dialog for --auth nodes.

import { getJson, onUnauthorized, setToken, token } from './api.js'
import { h } from './dom.js'

const PAGES = {
  replicaset: () => import('./pages/replicaset.js'),
  rates: () => import('./pages/rates.js'),
  compression: () => import('./pages/compression.js'),
  browser: () => import('./pages/browser.js'),
  sql: () => import('./pages/sql.js'),
  cdc: () => import('./pages/cdc.js'),
}

let unmount = null
let generation = 0

/** "#sql?db=metrics&q=..." → { id: 'sql', params: URLSearchParams } */
export function route(hash = location.hash) {
  const text = hash.replace(/^#/, '')
  const question = text.indexOf('?')
  const id = question < 0 ? text : text.slice(0, question)
  return { id: id in PAGES ? id : 'replicaset', params: new URLSearchParams(question < 0 ? '' : text.slice(question + 1)) }
}

async function show() {
  const mine = ++generation
  const { id, params } = route()
  unmount?.()
  unmount = null
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.page === id) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  const main = document.getElementById('page')
  main.dataset.page = id
  main.replaceChildren()
  try {
    const page = await PAGES[id]()
    if (mine !== generation) return
    unmount = page.mount(main, params) ?? null
  } catch (error) {
    main.replaceChildren(h('p', { class: 'error' }, `this page failed to load: ${error.message}`))
  }
}

function tokenDialog() {
  const dialog = document.getElementById('token-dialog')
  const input = document.getElementById('token-input')
  const reason = document.getElementById('token-reason')
  const open = message => {
    if (dialog.open) return
    if (message) reason.textContent = `${message}. This node runs with --auth: enter a token (sent as Authorization: Token <secret>, kept in this browser's local storage).`
    input.value = token()
    dialog.returnValue = '' // Escape closes without setting one: not the last Save again
    dialog.showModal()
  }
  document.getElementById('token-button').addEventListener('click', () => open())
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'save') setToken(input.value.trim())
    else if (dialog.returnValue === 'clear') setToken('')
    else return
    void show()
  })
  onUnauthorized(open)
}

async function nodeName() {
  try {
    const view = await getJson('/api/v1/replicaset')
    document.getElementById('node-id').textContent = `node ${view.node}`
  } catch { /* the pages report errors themselves */ }
}

tokenDialog()
window.addEventListener('hashchange', () => void show())
void show()
void nodeName()
